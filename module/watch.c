// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: address-range watches. "watch <pid> <start> <len>" counts the faults of one process
 * in one range apart from everything else: how many breaks hit my 2 GiB cache, or, in tests,
 * exact numbers free of libc and stack noise. A watch outlives its process (final counts)
 * until "unwatch" or module unload.
 */
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/rculist.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "command.h"
#include "cowstat.h"

struct cowstat_watch {
	struct list_head node;		/* in cowstat_watches */
	struct rcu_head rcu;
	pid_t tgid;			/* in the initial pid namespace, as in its record */
	struct pid *pid;		/* the same process, for commands in other namespaces */
	u64 start_ns;			/* of the process, as in its record */
	unsigned long start, end;	/* [start, end) */
	atomic_long_t count[COWSTAT_NR_CLASSES];
};

/*
 * cowstat_watch_mutex protects changes to cowstat_watches and cowstat_nr_watches. The fault
 * path reads the list under RCU and skips it entirely while cowstat_nr_watches is 0.
 */
static DEFINE_MUTEX(cowstat_watch_mutex);
static LIST_HEAD(cowstat_watches);
unsigned int cowstat_nr_watches;

/*
 * Called from probe handlers (preemption disabled, so an RCU read-side critical section), by
 * cowstat_count() only while cowstat_nr_watches is not 0.
 */
void notrace cowstat_watch_count(pid_t tgid, u64 start_ns, unsigned long addr,
				 enum cowstat_class class)
{
	struct cowstat_watch *w;

	list_for_each_entry_rcu(w, &cowstat_watches, node) {
		if (w->tgid == tgid && w->start_ns == start_ns &&
		    addr >= w->start && addr < w->end)
			atomic_long_inc(&w->count[class]);
	}
}

int cowstat_watch_add(pid_t pid, unsigned long start, unsigned long len)
{
	struct task_struct *task;
	struct cowstat_watch *w, *old;
	int ret = 0;

	if (!len || start + len < start || start + len > TASK_SIZE_MAX)
		return -EINVAL;
	task = cowstat_find_process(pid);
	if (!task)
		return -ESRCH;
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w) {
		ret = -ENOMEM;
		goto out_put;
	}
	w->tgid = task->tgid;
	w->pid = get_task_pid(task, PIDTYPE_TGID);
	w->start_ns = cowstat_task_start_ns(task);
	w->start = start;
	w->end = start + len;

	mutex_lock(&cowstat_watch_mutex);
	if (cowstat_nr_watches >= COWSTAT_MAX_WATCHES) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	list_for_each_entry(old, &cowstat_watches, node) {
		if (old->tgid == w->tgid && old->start_ns == w->start_ns && old->start == start) {
			ret = -EEXIST;
			goto out_unlock;
		}
	}
	list_add_tail_rcu(&w->node, &cowstat_watches);
	WRITE_ONCE(cowstat_nr_watches, cowstat_nr_watches + 1);
	w = NULL;
out_unlock:
	mutex_unlock(&cowstat_watch_mutex);
	if (w)
		put_pid(w->pid);
	kfree(w);
out_put:
	put_task_struct(task);
	return ret;
}

static void cowstat_watch_unlink(struct cowstat_watch *w)
{
	lockdep_assert_held(&cowstat_watch_mutex);
	list_del_rcu(&w->node);
	WRITE_ONCE(cowstat_nr_watches, cowstat_nr_watches - 1);
	/* The fault path reads tgid, never pid: pid can go before the grace period ends. */
	put_pid(w->pid);
	kfree_rcu(w, rcu);
}

/*
 * Remove the watch of @pid (in the writer's pid namespace, also once the process has exited)
 * at @start: the newest process with that pid if several.
 */
int cowstat_watch_del(pid_t pid, unsigned long start)
{
	struct cowstat_watch *w, *found = NULL;
	int ret = -ENOENT;

	mutex_lock(&cowstat_watch_mutex);
	list_for_each_entry(w, &cowstat_watches, node)
		if (pid_vnr(w->pid) == pid && w->start == start &&
		    (!found || w->start_ns > found->start_ns))
			found = w;
	if (found) {
		cowstat_watch_unlink(found);
		ret = 0;
	}
	mutex_unlock(&cowstat_watch_mutex);
	return ret;
}

void cowstat_watch_del_all(void)
{
	struct cowstat_watch *w, *tmp;

	mutex_lock(&cowstat_watch_mutex);
	list_for_each_entry_safe(w, tmp, &cowstat_watches, node)
		cowstat_watch_unlink(w);
	mutex_unlock(&cowstat_watch_mutex);
}

void cowstat_watch_reset(void)
{
	struct cowstat_watch *w;
	int c;

	mutex_lock(&cowstat_watch_mutex);
	list_for_each_entry(w, &cowstat_watches, node)
		for (c = 0; c < COWSTAT_NR_CLASSES; c++)
			atomic_long_set(&w->count[c], 0);
	mutex_unlock(&cowstat_watch_mutex);
}

/*
 * The "watch" commands that recreate the current watches, for reading the control file: pids
 * in the reader's pid namespace, as commands read them.
 */
void cowstat_watch_show_commands(struct seq_file *m)
{
	struct cowstat_watch *w;

	mutex_lock(&cowstat_watch_mutex);
	list_for_each_entry(w, &cowstat_watches, node)
		seq_printf(m, "watch %d 0x%lx 0x%lx\n", pid_vnr(w->pid), w->start,
			   w->end - w->start);
	mutex_unlock(&cowstat_watch_mutex);
}

/* The watches file (its fops: debugfs.c). */
int cowstat_watches_show(struct seq_file *m, void *v)
{
	static const char * const names[] = COWSTAT_CLASS_NAMES;
	struct cowstat_watch *w;
	int c;

	seq_printf(m, "# cowstat %s v%d\npid start_ns start_hex end_hex",
		   COWSTAT_FILE_WATCHES, COWSTAT_IF_VERSION);
	for (c = 0; c < COWSTAT_NR_CLASSES; c++)
		seq_printf(m, " %s", names[c]);
	seq_putc(m, '\n');

	mutex_lock(&cowstat_watch_mutex);
	list_for_each_entry(w, &cowstat_watches, node) {
		seq_printf(m, "%d %llu %lx %lx", w->tgid, w->start_ns, w->start, w->end);
		for (c = 0; c < COWSTAT_NR_CLASSES; c++)
			seq_printf(m, " %lu", atomic_long_read(&w->count[c]));
		seq_putc(m, '\n');
	}
	mutex_unlock(&cowstat_watch_mutex);
	return 0;
}

/* After the probes are gone: free every watch (kfree_rcu ones too). */
void cowstat_watch_exit(void)
{
	cowstat_watch_del_all();
	rcu_barrier();
}
