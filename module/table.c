// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: the per-process records and the global totals.
 *
 * A record is created when a process forks (for the child) or, for processes that existed
 * before the module was loaded, at its first counted fault. It is keyed by (tgid, start time of
 * the group leader): a reused pid gets a new record. When the process exits the record moves to
 * a FIFO of exited records that keeps at most max_exited of them; older ones are dropped and
 * counted.
 *
 * Lookups run in probe handlers and tracepoints, under RCU, without locks. Counters are atomic
 * (threads of a process count into one record from any CPU); the global totals are per-CPU.
 */
#include <linux/hash.h>
#include <linux/ktime.h>
#include <linux/mm_types.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rculist.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>

#include "cowstat.h"

static unsigned int max_exited = 4096;
module_param(max_exited, uint, 0444);
MODULE_PARM_DESC(max_exited, "exited processes kept with their final counts (oldest dropped first)");

#define COWSTAT_HASH_BITS	10

/*
 * cowstat_table_lock protects: insertion into and removal from cowstat_hash, the exited FIFO,
 * nr_live, nr_exited, nr_dropped, and each record's exit_ns. Readers of the hash use RCU.
 * Taken from tracepoints and probe handlers (preemption disabled), hence irqsave.
 */
static DEFINE_SPINLOCK(cowstat_table_lock);
static struct hlist_head cowstat_hash[1 << COWSTAT_HASH_BITS];
static LIST_HEAD(cowstat_exited);
static unsigned long nr_live, nr_exited, nr_dropped;

static atomic_long_t nr_nomem = ATOMIC_LONG_INIT(0);
static atomic_long_t nr_unattributed = ATOMIC_LONG_INIT(0);

static struct kmem_cache *cowstat_proc_cache;

struct cowstat_totals {
	unsigned long count[COWSTAT_NR_CLASSES];
};

static DEFINE_PER_CPU(struct cowstat_totals, cowstat_totals);

/*
 * Scope: 0 means every process is tracked. Otherwise only records whose scope_gen equals it;
 * each "scope <pid>" command takes a new generation. cowstat_scope_mutex serialises scope
 * changes (and protects cowstat_scope_root and cowstat_scope_next); readers use READ_ONCE.
 */
static DEFINE_MUTEX(cowstat_scope_mutex);
static u32 cowstat_scope_gen;
static u32 cowstat_scope_next;
static pid_t cowstat_scope_root;

static struct hlist_head *cowstat_bucket(pid_t tgid)
{
	return &cowstat_hash[hash_32((u32)tgid, COWSTAT_HASH_BITS)];
}

/*
 * Call under rcu_read_lock(), with preemption disabled (probe handlers), or with
 * cowstat_table_lock held.
 */
static __always_inline struct cowstat_proc *proc_lookup(pid_t tgid, u64 start_ns)
{
	struct cowstat_proc *rec;

	hlist_for_each_entry_rcu(rec, cowstat_bucket(tgid), hnode,
				 lockdep_is_held(&cowstat_table_lock)) {
		if (rec->tgid == tgid && rec->start_ns == start_ns)
			return rec;
	}
	return NULL;
}

struct cowstat_proc *cowstat_proc_lookup(pid_t tgid, u64 start_ns)
{
	return proc_lookup(tgid, start_ns);
}

static void cowstat_proc_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(cowstat_proc_cache, container_of(head, struct cowstat_proc, rcu));
}

/*
 * A record for @task's process, which has none yet (see cowstat_proc_get()).
 *
 * A process whose last thread has passed exit_signals() (signal->live 0) gets none: its exit
 * tracepoint, which moves the record to the exited FIFO, may have run already. Both sides
 * decide under cowstat_table_lock, so that one sees the other: the exit side looks the record
 * up under the lock after signal->live fell to 0, and this side reads signal->live under the
 * lock before inserting. (@task may be another process: the owner of an mm that a GUP caller
 * faults in, which can be exiting while we look.)
 */
static noinline struct cowstat_proc *proc_create(struct task_struct *task, gfp_t gfp)
{
	struct task_struct *leader = task->group_leader;
	u64 start_ns = leader->start_time;
	struct cowstat_proc *rec, *old;
	unsigned long flags;

	if (task->flags & PF_EXITING || leader->exit_state)
		return NULL;

	rec = kmem_cache_zalloc(cowstat_proc_cache, gfp | __GFP_NOWARN);
	if (!rec) {
		atomic_long_inc(&nr_nomem);
		return NULL;
	}
	rec->tgid = task->tgid;
	rec->ppid = rcu_dereference_check(leader->real_parent, rcu_read_lock_any_held())->tgid;
	rec->start_ns = start_ns;
	memcpy(rec->comm, leader->comm, TASK_COMM_LEN);
	rec->comm[TASK_COMM_LEN - 1] = '\0';
	INIT_LIST_HEAD(&rec->exited);

	spin_lock_irqsave(&cowstat_table_lock, flags);
	old = proc_lookup(rec->tgid, start_ns);
	if (old || !atomic_read(&task->signal->live)) {
		spin_unlock_irqrestore(&cowstat_table_lock, flags);
		kmem_cache_free(cowstat_proc_cache, rec);
		return old;
	}
	hlist_add_head_rcu(&rec->hnode, cowstat_bucket(rec->tgid));
	nr_live++;
	spin_unlock_irqrestore(&cowstat_table_lock, flags);
	return rec;
}

/*
 * The record of @task's process, created if missing (with @gfp, which must not sleep when the
 * caller cannot). Returns NULL if the process is exiting or memory is short.
 * Call under rcu_read_lock() or with preemption disabled.
 */
struct cowstat_proc *cowstat_proc_get(struct task_struct *task, gfp_t gfp)
{
	struct cowstat_proc *rec;

	rec = proc_lookup(task->tgid, cowstat_task_start_ns(task));
	return rec ? rec : proc_create(task, gfp);
}

/* Call under rcu_read_lock() or with preemption disabled. */
static __always_inline struct task_struct *cowstat_mm_owner(struct mm_struct *mm)
{
#ifdef CONFIG_MEMCG
	return rcu_dereference_check(mm->owner, rcu_read_lock_any_held());
#else
	return current->mm == mm ? current : NULL;
#endif
}

/*
 * The record of the process owning @mm, if it is tracked under the current scope (@gen).
 * Call under rcu_read_lock() or with preemption disabled.
 */
static __always_inline struct cowstat_proc *cowstat_mm_proc(struct mm_struct *mm, u32 gen)
{
	struct task_struct *owner = cowstat_mm_owner(mm);
	struct cowstat_proc *rec;

	if (!owner)
		return NULL;
	rec = proc_lookup(owner->tgid, cowstat_task_start_ns(owner));
	if (gen)
		return rec && rec->scope_gen == gen ? rec : NULL;
	return rec ? rec : proc_create(owner, GFP_NOWAIT);
}

/* Whether faults in @mm are tracked at all: a cheap filter for probe entry handlers. */
bool cowstat_mm_in_scope(struct mm_struct *mm)
{
	u32 gen = READ_ONCE(cowstat_scope_gen);
	struct task_struct *owner;
	struct cowstat_proc *rec;
	bool in = true;

	if (!gen)
		return true;
	rcu_read_lock();
	owner = cowstat_mm_owner(mm);
	if (owner) {
		rec = cowstat_proc_lookup(owner->tgid, owner->group_leader->start_time);
		in = rec && rec->scope_gen == gen;
	}
	rcu_read_unlock();
	return in;
}

/*
 * Count one fault of @class at @addr in @region, in the process that owns @mm (not necessarily
 * current: an unshare fault runs in the task that pins the page).
 *
 * Called from probe handlers only, which run with preemption disabled: that is a read-side
 * critical section for the RCU that frees records and watches (call_rcu() waits for it), so
 * this runs no rcu_read_lock() of its own, one of the calls it saves on every fault.
 */
void notrace cowstat_count(struct mm_struct *mm, enum cowstat_region region, unsigned long addr,
			   enum cowstat_class class)
{
	u32 gen = READ_ONCE(cowstat_scope_gen);
	struct cowstat_proc *rec;

	RCU_LOCKDEP_WARN(preemptible(), "called preemptible");
	rec = cowstat_mm_proc(mm, gen);
	if (!rec && gen) {
		/* Unowned mms are counted under "all" only; an out-of-scope process not at all. */
		return;
	}
	this_cpu_inc(cowstat_totals.count[class]);
	if (!rec) {
		atomic_long_inc(&nr_unattributed);
		return;
	}
	atomic_long_inc(&rec->count[region][class]);
	if (unlikely(READ_ONCE(cowstat_nr_watches)))
		cowstat_watch_count(rec->tgid, rec->start_ns, addr, class);
}

/* sched_process_fork: a new process (not a thread) gets its record now. */
void cowstat_proc_forked(struct task_struct *parent, struct task_struct *child)
{
	u32 gen = READ_ONCE(cowstat_scope_gen);
	struct cowstat_proc *prec, *crec;

	if (child->tgid == parent->tgid)
		return;
	rcu_read_lock();
	if (gen) {
		prec = cowstat_proc_lookup(parent->tgid, cowstat_task_start_ns(parent));
		if (!prec || prec->scope_gen != gen)
			goto out;
	} else {
		prec = cowstat_proc_get(parent, GFP_NOWAIT);
	}
	if (prec)
		WRITE_ONCE(prec->fork_ns, ktime_get_ns());
	crec = cowstat_proc_get(child, GFP_NOWAIT);
	if (crec)
		WRITE_ONCE(crec->scope_gen, gen);
out:
	rcu_read_unlock();
}

/* sched_process_exec: the process has a new name. */
void cowstat_proc_exec(struct task_struct *task)
{
	struct cowstat_proc *rec;

	rcu_read_lock();
	rec = cowstat_proc_lookup(task->tgid, cowstat_task_start_ns(task));
	if (rec)
		memcpy(rec->comm, task->comm, TASK_COMM_LEN - 1);
	rcu_read_unlock();
}

/* Drop the oldest exited records beyond max_exited. Call with cowstat_table_lock held. */
static void cowstat_trim_exited(unsigned int keep)
{
	struct cowstat_proc *old;

	lockdep_assert_held(&cowstat_table_lock);
	while (nr_exited > keep) {
		old = list_first_entry(&cowstat_exited, struct cowstat_proc, exited);
		list_del(&old->exited);
		hlist_del_rcu(&old->hnode);
		call_rcu(&old->rcu, cowstat_proc_free_rcu);
		nr_exited--;
		nr_dropped++;
	}
}

/*
 * sched_process_exit, per thread, after exit_mm(). The last thread of the group sees
 * signal->live == 0; two threads exiting together may both see it, so this is idempotent.
 */
void cowstat_proc_exited(struct task_struct *task)
{
	struct cowstat_proc *rec;
	unsigned long flags;

	if (atomic_read(&task->signal->live))
		return;
	/* Looked up under the lock: see proc_create(). */
	spin_lock_irqsave(&cowstat_table_lock, flags);
	rec = proc_lookup(task->tgid, cowstat_task_start_ns(task));
	if (rec && !rec->exit_ns) {
		rec->exit_ns = ktime_get_ns();
		memcpy(rec->comm, task->group_leader->comm, TASK_COMM_LEN - 1);
		list_add_tail(&rec->exited, &cowstat_exited);
		nr_live--;
		nr_exited++;
		cowstat_trim_exited(max_exited);
	}
	spin_unlock_irqrestore(&cowstat_table_lock, flags);
}

static int cowstat_snap_cmp(const void *a, const void *b)
{
	const struct cowstat_proc_snap *x = a, *y = b;

	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return x->tgid - y->tgid;
}

/*
 * A consistent-enough copy of every record, sorted by start time, for reporting. Records
 * created while it is taken may be missing. The caller kvfree()s *snap.
 */
int cowstat_table_snapshot(struct cowstat_proc_snap **snap, size_t *nr)
{
	struct cowstat_proc_snap *s;
	struct cowstat_proc *rec;
	size_t cap, n = 0;
	unsigned long flags;
	int b, r, c;

	spin_lock_irqsave(&cowstat_table_lock, flags);
	cap = nr_live + nr_exited + 64;
	spin_unlock_irqrestore(&cowstat_table_lock, flags);

	s = kvmalloc_array(cap, sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	for (b = 0; b < ARRAY_SIZE(cowstat_hash) && n < cap; b++) {
		rcu_read_lock();
		hlist_for_each_entry_rcu(rec, &cowstat_hash[b], hnode) {
			if (n == cap)
				break;
			s[n].tgid = rec->tgid;
			s[n].ppid = rec->ppid;
			s[n].start_ns = rec->start_ns;
			s[n].fork_ns = READ_ONCE(rec->fork_ns);
			s[n].exit_ns = READ_ONCE(rec->exit_ns);
			memcpy(s[n].comm, rec->comm, TASK_COMM_LEN);
			s[n].comm[TASK_COMM_LEN - 1] = '\0';
			for (r = 0; r < COWSTAT_NR_REGIONS; r++)
				for (c = 0; c < COWSTAT_NR_CLASSES; c++)
					s[n].count[r][c] = atomic_long_read(&rec->count[r][c]);
			n++;
		}
		rcu_read_unlock();
		cond_resched();
	}
	sort(s, n, sizeof(*s), cowstat_snap_cmp, NULL);
	*snap = s;
	*nr = n;
	return 0;
}

/*
 * The process (thread group leader) with tgid @pid in the initial pid namespace, with a
 * reference the caller drops with put_task_struct(); NULL if there is none. Pids in cowstat's
 * files and commands are all in the initial namespace.
 */
struct task_struct *cowstat_find_process(pid_t pid)
{
	struct task_struct *task;

	if (pid <= 0)
		return NULL;
	rcu_read_lock();
	task = pid_task(find_pid_ns(pid, &init_pid_ns), PIDTYPE_TGID);
	if (task)
		get_task_struct(task);
	rcu_read_unlock();
	return task;
}

/* Is @p @root or a descendant of it (following real_parent)? Call under rcu_read_lock(). */
static bool cowstat_descends_from(struct task_struct *p, struct task_struct *root)
{
	for (;;) {
		if (same_thread_group(p, root))
			return true;
		if (p->pid <= 1 || p == rcu_dereference(p->real_parent))
			return false;
		p = rcu_dereference(p->real_parent);
	}
}

/*
 * Restrict tracking to @pid's tree (@pid 0: track everything again). Existing members get
 * records now; later forks of members inherit the scope in cowstat_proc_forked(). Processes
 * of the tree that were already reparented away from it (orphans) are not found.
 */
int cowstat_scope_set(pid_t pid)
{
	struct task_struct *root, *p;
	struct cowstat_proc *rec;
	int ret = 0;
	u32 gen;

	mutex_lock(&cowstat_scope_mutex);
	if (!pid) {
		WRITE_ONCE(cowstat_scope_gen, 0);
		cowstat_scope_root = 0;
		goto out;
	}
	root = cowstat_find_process(pid);
	if (!root) {
		ret = -ESRCH;
		goto out;
	}
	gen = ++cowstat_scope_next ? : ++cowstat_scope_next;
	rcu_read_lock();
	for_each_process(p) {
		if (!cowstat_descends_from(p, root))
			continue;
		rec = cowstat_proc_get(p, GFP_NOWAIT);
		if (rec)
			WRITE_ONCE(rec->scope_gen, gen);
	}
	rcu_read_unlock();
	put_task_struct(root);
	WRITE_ONCE(cowstat_scope_gen, gen);
	cowstat_scope_root = pid;
out:
	mutex_unlock(&cowstat_scope_mutex);
	return ret;
}

pid_t cowstat_scope_pid(void)
{
	pid_t pid;

	mutex_lock(&cowstat_scope_mutex);
	pid = cowstat_scope_root;
	mutex_unlock(&cowstat_scope_mutex);
	return pid;
}

/* Zero every counter and forget exited processes. Live records and the scope stay. */
void cowstat_table_reset(void)
{
	struct cowstat_proc *rec;
	unsigned long flags;
	int b, r, c, cpu;

	spin_lock_irqsave(&cowstat_table_lock, flags);
	cowstat_trim_exited(0);
	nr_dropped = 0;
	spin_unlock_irqrestore(&cowstat_table_lock, flags);

	for (b = 0; b < ARRAY_SIZE(cowstat_hash); b++) {
		rcu_read_lock();
		hlist_for_each_entry_rcu(rec, &cowstat_hash[b], hnode)
			for (r = 0; r < COWSTAT_NR_REGIONS; r++)
				for (c = 0; c < COWSTAT_NR_CLASSES; c++)
					atomic_long_set(&rec->count[r][c], 0);
		rcu_read_unlock();
	}
	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(&cowstat_totals, cpu), 0, sizeof(struct cowstat_totals));
	atomic_long_set(&nr_nomem, 0);
	atomic_long_set(&nr_unattributed, 0);
	cowstat_watch_reset();
}

void cowstat_table_totals(unsigned long totals[COWSTAT_NR_CLASSES])
{
	int cpu, c;

	memset(totals, 0, sizeof(unsigned long) * COWSTAT_NR_CLASSES);
	for_each_possible_cpu(cpu)
		for (c = 0; c < COWSTAT_NR_CLASSES; c++)
			totals[c] += per_cpu_ptr(&cowstat_totals, cpu)->count[c];
}

void cowstat_table_stats(struct cowstat_table_stats *st)
{
	unsigned long flags;

	spin_lock_irqsave(&cowstat_table_lock, flags);
	st->live = nr_live;
	st->exited = nr_exited;
	st->dropped = nr_dropped;
	spin_unlock_irqrestore(&cowstat_table_lock, flags);
	st->nomem = atomic_long_read(&nr_nomem);
	st->unattributed = atomic_long_read(&nr_unattributed);
}

int cowstat_table_init(void)
{
	int b;

	for (b = 0; b < ARRAY_SIZE(cowstat_hash); b++)
		INIT_HLIST_HEAD(&cowstat_hash[b]);
	cowstat_proc_cache = KMEM_CACHE(cowstat_proc, 0);
	return cowstat_proc_cache ? 0 : -ENOMEM;
}

/* Called after every probe and tracepoint is gone: nobody else touches the table. */
void cowstat_table_exit(void)
{
	struct cowstat_proc *rec;
	struct hlist_node *tmp;
	int b;

	for (b = 0; b < ARRAY_SIZE(cowstat_hash); b++) {
		hlist_for_each_entry_safe(rec, tmp, &cowstat_hash[b], hnode) {
			hlist_del(&rec->hnode);
			kmem_cache_free(cowstat_proc_cache, rec);
		}
	}
	INIT_LIST_HEAD(&cowstat_exited);
	nr_live = 0;
	nr_exited = 0;
	/* Records dropped earlier are still queued for RCU: let them go first. */
	rcu_barrier();
	kmem_cache_destroy(cowstat_proc_cache);
}
