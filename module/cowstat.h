/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowstat: declarations shared between the module's files.
 */
#ifndef _COWSTAT_INTERNAL_H
#define _COWSTAT_INTERNAL_H

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/types.h>

#include <cowstat.h>

struct mm_struct;
struct vm_area_struct;
struct vm_fault;

/*
 * One process, keyed by (tgid, start_ns) so that a reused pid never merges two processes.
 * Found through cowstat_table under RCU; freed with kfree_rcu() once removed from it.
 */
struct cowstat_proc {
	struct hlist_node hnode;	/* in the table hash; cowstat_table_lock */
	struct list_head exited;	/* in the exited FIFO once exited; cowstat_table_lock */
	struct rcu_head rcu;
	pid_t tgid;
	pid_t ppid;			/* parent's tgid when first seen */
	u64 start_ns;			/* task start_time of the group leader */
	u64 fork_ns;			/* last time it forked a child while loaded (0: never) */
	u64 exit_ns;			/* 0 while live; set once, under cowstat_table_lock */
	u32 scope_gen;			/* in scope if == cowstat_scope_gen (scope active) */
	char comm[TASK_COMM_LEN];	/* updated at exec and exit, read racily */
	atomic_long_t count[COWSTAT_NR_REGIONS][COWSTAT_NR_CLASSES];
};

/* A copy of a record for reporting: stable while it is printed. */
struct cowstat_proc_snap {
	pid_t tgid;
	pid_t ppid;
	u64 start_ns;
	u64 fork_ns;
	u64 exit_ns;
	char comm[TASK_COMM_LEN];
	unsigned long count[COWSTAT_NR_REGIONS][COWSTAT_NR_CLASSES];
};

/* table.c: the process records. */
int cowstat_table_init(void);
void cowstat_table_exit(void);
struct cowstat_proc *cowstat_proc_lookup(pid_t tgid, u64 start_ns);
struct cowstat_proc *cowstat_proc_get(struct task_struct *task, gfp_t gfp);
void cowstat_proc_forked(struct task_struct *parent, struct task_struct *child);
void cowstat_proc_exited(struct task_struct *task);
void cowstat_proc_exec(struct task_struct *task);
void cowstat_count(struct mm_struct *mm, enum cowstat_region region, unsigned long addr,
		   enum cowstat_class class);
void cowstat_count_retry(void);
bool cowstat_mm_in_scope(struct mm_struct *mm);
int cowstat_table_snapshot(struct cowstat_proc_snap **snap, size_t *nr);
struct task_struct *cowstat_find_process(pid_t pid);
int cowstat_scope_set(pid_t pid);
pid_t cowstat_scope_pid(void);
void cowstat_table_reset(void);
void cowstat_table_totals(unsigned long totals[COWSTAT_NR_CLASSES]);

struct cowstat_table_stats {
	unsigned long live;
	unsigned long exited;
	unsigned long dropped;		/* exited records dropped beyond max_exited */
	unsigned long nomem;		/* records that could not be allocated */
	unsigned long unattributed;	/* faults counted in totals but in no process */
	unsigned long retried;		/* faults the kernel retried (the retry counted) */
};

void cowstat_table_stats(struct cowstat_table_stats *st);

static inline u64 cowstat_task_start_ns(struct task_struct *task)
{
	return task->group_leader->start_time;
}

/* classify.c: what a fault is, where it happened. */
enum cowstat_class cowstat_classify_wp(struct vm_fault *vmf, bool *resolve_at_return);
enum cowstat_region cowstat_region_of(struct mm_struct *mm, struct vm_area_struct *vma);

/* watch.c: address-range watches. */
int cowstat_watch_add(pid_t pid, unsigned long start, unsigned long len);
int cowstat_watch_del(pid_t pid, unsigned long start);
void cowstat_watch_del_all(void);
void cowstat_watch_count(pid_t tgid, u64 start_ns, unsigned long addr, enum cowstat_class class);
void cowstat_watch_reset(void);
void cowstat_watch_exit(void);
extern const struct file_operations cowstat_watches_fops;
void cowstat_watch_show_commands(struct seq_file *m);

/* lifecycle.c: fork, exec and exit tracepoints. */
int cowstat_lifecycle_init(void);
void cowstat_lifecycle_exit(void);

/* probe.c: the fault-path probes. */
int cowstat_probe_init(void);
void cowstat_probe_exit(void);
void cowstat_probe_missed(struct seq_file *m);

/* report.c: the read-only table files. */
extern const struct file_operations cowstat_procs_fops;
extern const struct file_operations cowstat_regions_fops;
extern const struct file_operations cowstat_summary_fops;

/* control.c: the control file. */
extern const struct file_operations cowstat_control_fops;

/* debugfs.c: the user-visible files; removed first on unload. */
int cowstat_debugfs_init(void);
void cowstat_debugfs_exit(void);

#endif /* _COWSTAT_INTERNAL_H */
