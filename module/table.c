// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: the per-process records and the global totals.
 *
 * A record is created when a process forks (for the child) or, for processes that existed
 * before the module was loaded, at its first counted fault. It is keyed by (start time of the
 * group leader, tgid): a reused pid gets a new record. When the process exits the record
 * moves to a FIFO of exited records that keeps at most max_exited of them; older ones are
 * dropped and counted.
 *
 * Lookups run in probe handlers and tracepoints, under RCU, without locks, in a hash that
 * grows with the records (cowstat_hash_grow()): a lookup stays O(1) with 10,000 processes and
 * more. Counters are atomic slots in the record, per-CPU for a process whose threads fault on
 * several CPUs (struct cowstat_proc in cowstat.h); the global totals are per-CPU.
 */
#include <linux/hash.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/mm_types.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/pid.h>
#include <linux/rculist.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "command.h"
#include "compat.h"
#include "cowstat.h"

static unsigned int max_exited = 4096;
module_param(max_exited, uint, 0444);
MODULE_PARM_DESC(max_exited, "exited processes kept with their final counts (oldest dropped first)");

/*
 * The hash: 2^bits buckets of records linked through their hnode[idx]. Growing fills a
 * table twice the size or more through the other hnode of each record while lookups go on in
 * the old one, bucket by bucket, then publishes it: see cowstat_hash_grow().
 */
struct cowstat_hash {
	unsigned int bits;
	unsigned int idx;
	struct hlist_head heads[];
};

/* Fewer slots send a record per-CPU sooner: for testing that path (table_scale_test). */
static unsigned int proc_slots = COWSTAT_PROC_SLOTS;
module_param(proc_slots, uint, 0444);
MODULE_PARM_DESC(proc_slots, "counter slots used per record, 1 to 16 (16; fewer: testing)");

#define COWSTAT_HASH_MIN_BITS	10	/* 1,024 buckets, 8 KiB */
#define COWSTAT_HASH_MAX_BITS	22	/* 4 Mi buckets, 32 MiB: pid_max's limit */
#define COWSTAT_HASH_BATCH	64	/* buckets copied per hold of cowstat_table_lock */

/*
 * cowstat_table_lock protects: insertion into and removal from the hash (both tables while
 * it grows), cowstat_hash_next and cowstat_hash_cursor, the exited FIFO, nr_live, nr_exited,
 * nr_dropped, and each record's exit_ns. Readers of the hash use RCU. Taken from tracepoints
 * and probe handlers (preemption disabled), hence irqsave.
 */
static DEFINE_SPINLOCK(cowstat_table_lock);
static struct cowstat_hash __rcu *cowstat_hash;
static struct cowstat_hash *cowstat_hash_next;	/* being filled while growing, else NULL */
static unsigned int cowstat_hash_cursor;	/* buckets of cowstat_hash below it are in next */
static LIST_HEAD(cowstat_exited);
static unsigned long nr_live, nr_exited, nr_dropped;

/*
 * cowstat_hash_mutex serialises growing the hash with the walks over every record (report,
 * reset, scope, unload), which keep the table they walk across cond_resched().
 */
static DEFINE_MUTEX(cowstat_hash_mutex);
static void cowstat_hash_grow(struct work_struct *work);
static DECLARE_WORK(cowstat_grow_work, cowstat_hash_grow);

static atomic_long_t nr_nomem = ATOMIC_LONG_INIT(0);
static atomic_long_t nr_unattributed = ATOMIC_LONG_INIT(0);
static atomic_long_t nr_percpu = ATOMIC_LONG_INIT(0);

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

static struct cowstat_hash *cowstat_hash_alloc(unsigned int bits)
{
	struct cowstat_hash *h;
	unsigned int b;

	h = kvmalloc(struct_size(h, heads, 1UL << bits), GFP_KERNEL);
	if (!h)
		return NULL;
	h->bits = bits;
	for (b = 0; b < (1U << bits); b++)
		INIT_HLIST_HEAD(&h->heads[b]);
	return h;
}

static inline unsigned int cowstat_hash_size(const struct cowstat_hash *h)
{
	return 1U << h->bits;
}

static inline struct hlist_head *cowstat_bucket(struct cowstat_hash *h, pid_t tgid)
{
	return &h->heads[hash_32((u32)tgid, h->bits)];
}

/* The record whose hnode[@idx] is @n. */
static inline struct cowstat_proc *cowstat_hnode_proc(struct hlist_node *n, unsigned int idx)
{
	return container_of(n - idx, struct cowstat_proc, hnode[0]);
}

/*
 * Call under rcu_read_lock(), with preemption disabled (probe handlers), or with
 * cowstat_table_lock held.
 */
static __always_inline struct cowstat_proc *proc_lookup(pid_t tgid, u64 start_ns)
{
	struct cowstat_hash *h;
	struct cowstat_proc *rec;
	struct hlist_node *n;

	h = rcu_dereference_check(cowstat_hash, rcu_read_lock_any_held() ||
				  lockdep_is_held(&cowstat_table_lock));
	for (n = rcu_dereference_raw(hlist_first_rcu(cowstat_bucket(h, tgid))); n;
	     n = rcu_dereference_raw(hlist_next_rcu(n))) {
		rec = cowstat_hnode_proc(n, h->idx);
		if (rec->tgid == tgid && rec->start_ns == start_ns)
			return rec;
	}
	return NULL;
}

/* Link @rec into the hash, and into the growing table where that bucket was copied already. */
static void cowstat_hash_add(struct cowstat_proc *rec)
{
	struct cowstat_hash *h = rcu_dereference_protected(cowstat_hash,
							   lockdep_is_held(&cowstat_table_lock));
	struct cowstat_hash *next = cowstat_hash_next;

	hlist_add_head_rcu(&rec->hnode[h->idx], cowstat_bucket(h, rec->tgid));
	if (next && hash_32((u32)rec->tgid, h->bits) < cowstat_hash_cursor)
		hlist_add_head_rcu(&rec->hnode[next->idx], cowstat_bucket(next, rec->tgid));
	/* More than two records a bucket: grow (a no-op if a growth is queued or running). */
	if (!next && nr_live + nr_exited > 2UL << h->bits && h->bits < COWSTAT_HASH_MAX_BITS)
		queue_work(system_unbound_wq, &cowstat_grow_work);
}

static void cowstat_hash_del(struct cowstat_proc *rec)
{
	struct cowstat_hash *h = rcu_dereference_protected(cowstat_hash,
							   lockdep_is_held(&cowstat_table_lock));
	struct cowstat_hash *next = cowstat_hash_next;

	hlist_del_rcu(&rec->hnode[h->idx]);
	if (next && hash_32((u32)rec->tgid, h->bits) < cowstat_hash_cursor)
		hlist_del_rcu(&rec->hnode[next->idx]);
}

/*
 * Grow the hash to at least two buckets a record. Lookups keep using the old table while the
 * new one is filled through each record's other hnode, COWSTAT_HASH_BATCH buckets per hold
 * of cowstat_table_lock (so that a fault or fork waits for one batch, never for the whole
 * table); insertions and removals meanwhile go to both tables where the bucket was copied.
 * Then the new table is published and the old one freed after a grace period.
 */
static void cowstat_hash_grow(struct work_struct *work)
{
	struct cowstat_hash *old, *next;
	struct cowstat_proc *rec;
	struct hlist_node *n;
	unsigned long flags, nr;
	unsigned int bits, b, end;

	mutex_lock(&cowstat_hash_mutex);
	old = rcu_dereference_protected(cowstat_hash, lockdep_is_held(&cowstat_hash_mutex));
	spin_lock_irqsave(&cowstat_table_lock, flags);
	nr = nr_live + nr_exited;
	spin_unlock_irqrestore(&cowstat_table_lock, flags);
	bits = clamp_t(unsigned int, order_base_2(nr) + 1, COWSTAT_HASH_MIN_BITS,
		       COWSTAT_HASH_MAX_BITS);
	if (bits <= old->bits)
		goto out;
	next = cowstat_hash_alloc(bits);
	if (!next)
		goto out;	/* lookups go on in the old table, only longer */
	next->idx = !old->idx;

	spin_lock_irqsave(&cowstat_table_lock, flags);
	cowstat_hash_cursor = 0;
	cowstat_hash_next = next;
	spin_unlock_irqrestore(&cowstat_table_lock, flags);
	for (b = 0; b < cowstat_hash_size(old); b = end) {
		end = min(b + COWSTAT_HASH_BATCH, cowstat_hash_size(old));
		spin_lock_irqsave(&cowstat_table_lock, flags);
		for (; cowstat_hash_cursor < end; cowstat_hash_cursor++) {
			hlist_for_each(n, &old->heads[cowstat_hash_cursor]) {
				rec = cowstat_hnode_proc(n, old->idx);
				hlist_add_head_rcu(&rec->hnode[next->idx],
						   cowstat_bucket(next, rec->tgid));
			}
		}
		spin_unlock_irqrestore(&cowstat_table_lock, flags);
		cond_resched();
	}
	spin_lock_irqsave(&cowstat_table_lock, flags);
	rcu_assign_pointer(cowstat_hash, next);
	cowstat_hash_next = NULL;
	spin_unlock_irqrestore(&cowstat_table_lock, flags);
	synchronize_rcu();
	kvfree(old);
out:
	mutex_unlock(&cowstat_hash_mutex);
}

/*
 * Run @v->fn on every record, bucket by bucket under rcu_read_lock() (records may come and go
 * meanwhile), with cond_resched() between buckets. Process context only.
 */
struct cowstat_visit {
	void (*fn)(struct cowstat_proc *rec, struct cowstat_visit *v);
};

static void cowstat_visit_procs(struct cowstat_visit *v)
{
	struct cowstat_hash *h;
	struct hlist_node *n;
	unsigned int b;

	mutex_lock(&cowstat_hash_mutex);
	h = rcu_dereference_protected(cowstat_hash, lockdep_is_held(&cowstat_hash_mutex));
	for (b = 0; b < cowstat_hash_size(h); b++) {
		rcu_read_lock();
		for (n = rcu_dereference(hlist_first_rcu(&h->heads[b])); n;
		     n = rcu_dereference(hlist_next_rcu(n)))
			v->fn(cowstat_hnode_proc(n, h->idx), v);
		rcu_read_unlock();
		cond_resched();
	}
	mutex_unlock(&cowstat_hash_mutex);
}

/*
 * Add @rec's counts to @c: its slots, and its per-CPU copy if it has one. Counts that land
 * while this runs may be missed, as with any read of counters that keep counting.
 */
static void cowstat_proc_read(const struct cowstat_proc *rec, struct cowstat_counts *c)
{
	struct cowstat_counts __percpu *pc = READ_ONCE(rec->pcpu);
	unsigned int i, k;
	int cpu, r, cl;

	for (i = 0; i < COWSTAT_PROC_SLOTS; i++) {
		k = READ_ONCE(rec->key[i]);
		if (!k)
			break;
		k--;
		c->count[k / COWSTAT_NR_CLASSES][k % COWSTAT_NR_CLASSES] +=
			atomic_long_read(&rec->slot[i]);
	}
	if (!pc)
		return;
	for_each_possible_cpu(cpu) {
		const struct cowstat_counts *p = per_cpu_ptr(pc, cpu);

		for (r = 0; r < COWSTAT_NR_REGIONS; r++)
			for (cl = 0; cl < COWSTAT_NR_CLASSES; cl++)
				c->count[r][cl] += READ_ONCE(p->count[r][cl]);
	}
}

static void cowstat_proc_free(struct cowstat_proc *rec)
{
	free_percpu(rec->pcpu);
	kmem_cache_free(cowstat_proc_cache, rec);
}

static void cowstat_proc_free_rcu(struct rcu_head *head)
{
	cowstat_proc_free(container_of(head, struct cowstat_proc, rcu));
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
	rec->last_cpu = raw_smp_processor_id();
	memcpy(rec->comm, leader->comm, TASK_COMM_LEN);
	rec->comm[TASK_COMM_LEN - 1] = '\0';

	spin_lock_irqsave(&cowstat_table_lock, flags);
	old = proc_lookup(rec->tgid, start_ns);
	if (old || !atomic_read(&task->signal->live)) {
		spin_unlock_irqrestore(&cowstat_table_lock, flags);
		kmem_cache_free(cowstat_proc_cache, rec);
		return old;
	}
	cowstat_hash_add(rec);
	nr_live++;
	spin_unlock_irqrestore(&cowstat_table_lock, flags);
	return rec;
}

/*
 * The record of @task's process, created if missing (with @gfp, which must not sleep when the
 * caller cannot). Returns NULL if the process is exiting or memory is short.
 * Call under rcu_read_lock() or with preemption disabled.
 */
static struct cowstat_proc *cowstat_proc_get(struct task_struct *task, gfp_t gfp)
{
	struct cowstat_proc *rec;

	rec = proc_lookup(task->tgid, cowstat_task_start_ns(task));
	return rec ? rec : proc_create(task, gfp);
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
		rec = proc_lookup(owner->tgid, cowstat_task_start_ns(owner));
		in = rec && rec->scope_gen == gen;
	}
	rcu_read_unlock();
	return in;
}

/*
 * Give @rec its per-CPU counters (GFP_NOWAIT: an atomic per-CPU allocation, served from the
 * allocator's populated chunks under its irqsave lock). false if none could be had: then
 * the slots go on counting, and the record never tries again.
 */
static noinline bool cowstat_proc_go_percpu(struct cowstat_proc *rec)
{
	struct cowstat_counts __percpu *pc;

	if (READ_ONCE(rec->pcpu_failed))
		return false;
	pc = alloc_percpu_gfp(struct cowstat_counts, GFP_NOWAIT | __GFP_NOWARN);
	if (!pc) {
		WRITE_ONCE(rec->pcpu_failed, 1);
		atomic_long_inc(&nr_nomem);
		return false;
	}
	if (cmpxchg(&rec->pcpu, NULL, pc))
		free_percpu(pc);	/* another CPU gave it one first */
	else
		atomic_long_inc(&nr_percpu);
	return true;
}

/*
 * Count one fault of (@region, @class) in @rec: in its slot for the pair, claimed at the
 * pair's first fault, or in its per-CPU copy once it has one. false if it could not be
 * counted (all slots taken by other pairs and no per-CPU memory).
 */
static __always_inline bool cowstat_proc_inc(struct cowstat_proc *rec, struct mm_struct *mm,
					     enum cowstat_region region, enum cowstat_class class)
{
	u8 key = 1 + region * COWSTAT_NR_CLASSES + class;
	unsigned int cpu = raw_smp_processor_id();
	struct cowstat_counts __percpu *pc;
	unsigned int i;
	u8 k;

	BUILD_BUG_ON(COWSTAT_NR_REGIONS * COWSTAT_NR_CLASSES >= U8_MAX);
	BUILD_BUG_ON(CONFIG_NR_CPUS > U16_MAX);
again:
	pc = READ_ONCE(rec->pcpu);
	if (pc) {
		this_cpu_inc(pc->count[region][class]);
		return true;
	}
	/*
	 * Threads faulting on several CPUs would bounce the slots' cache line on every fault:
	 * the first fault from another CPU than the last one's, while the mm has other users
	 * (threads; vfork and CLONE_VM children), moves the record to per-CPU counters. The
	 * CPU is written only when it changes, so one thread's faults keep the line shared.
	 */
	if (unlikely(READ_ONCE(rec->last_cpu) != cpu)) {
		WRITE_ONCE(rec->last_cpu, cpu);
		if (atomic_read(&mm->mm_users) > 1 && cowstat_proc_go_percpu(rec))
			goto again;
	}
	for (i = 0; i < proc_slots; i++) {
		k = READ_ONCE(rec->key[i]);
		if (!k) {
			k = cmpxchg(&rec->key[i], 0, key);
			if (!k)
				k = key;
		}
		if (k == key) {
			atomic_long_inc(&rec->slot[i]);
			return true;
		}
	}
	/* One pair more than the slots: the whole matrix per CPU. */
	if (cowstat_proc_go_percpu(rec))
		goto again;
	return false;
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
	if (!rec || !cowstat_proc_inc(rec, mm, region, class)) {
		atomic_long_inc(&nr_unattributed);
		return;
	}
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
		prec = proc_lookup(parent->tgid, cowstat_task_start_ns(parent));
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
	rec = proc_lookup(task->tgid, cowstat_task_start_ns(task));
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
		cowstat_hash_del(old);
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

struct cowstat_snap_walk {
	struct cowstat_visit v;
	struct cowstat_proc_snap *s;
	size_t n, cap;
};

static void cowstat_snap_one(struct cowstat_proc *rec, struct cowstat_visit *v)
{
	struct cowstat_snap_walk *w = container_of(v, struct cowstat_snap_walk, v);
	struct cowstat_proc_snap *s;
	struct cowstat_counts c = {};

	if (w->n == w->cap)
		return;
	s = &w->s[w->n++];
	s->tgid = rec->tgid;
	s->ppid = rec->ppid;
	s->start_ns = rec->start_ns;
	s->fork_ns = READ_ONCE(rec->fork_ns);
	s->exit_ns = READ_ONCE(rec->exit_ns);
	memcpy(s->comm, rec->comm, TASK_COMM_LEN);
	s->comm[TASK_COMM_LEN - 1] = '\0';
	cowstat_proc_read(rec, &c);
	BUILD_BUG_ON(sizeof(s->count) != sizeof(c.count));
	memcpy(s->count, c.count, sizeof(s->count));
}

/*
 * A consistent-enough copy of every record, sorted by start time, for reporting. Records
 * created while it is taken may be missing. The caller kvfree()s *snap.
 */
int cowstat_table_snapshot(struct cowstat_proc_snap **snap, size_t *nr)
{
	struct cowstat_snap_walk w = { .v.fn = cowstat_snap_one };
	unsigned long flags;

	spin_lock_irqsave(&cowstat_table_lock, flags);
	w.cap = nr_live + nr_exited + 64;
	spin_unlock_irqrestore(&cowstat_table_lock, flags);

	w.s = kvmalloc_array(w.cap, sizeof(*w.s), GFP_KERNEL_ACCOUNT);
	if (!w.s)
		return -ENOMEM;
	cowstat_visit_procs(&w.v);
	sort(w.s, w.n, sizeof(*w.s), cowstat_snap_cmp, NULL);
	*snap = w.s;
	*nr = w.n;
	return 0;
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

/* Zero a record's counters; its slots keep their pairs (a reading adds every slot). */
static void cowstat_proc_zero(struct cowstat_proc *rec, struct cowstat_visit *v)
{
	struct cowstat_counts __percpu *pc = READ_ONCE(rec->pcpu);
	unsigned int i;
	int cpu;

	for (i = 0; i < COWSTAT_PROC_SLOTS; i++)
		atomic_long_set(&rec->slot[i], 0);
	if (pc)
		for_each_possible_cpu(cpu)
			memset(per_cpu_ptr(pc, cpu), 0, sizeof(struct cowstat_counts));
}

/* Zero every counter and forget exited processes. Live records and the scope stay. */
void cowstat_table_reset(void)
{
	struct cowstat_visit zero = { .fn = cowstat_proc_zero };
	unsigned long flags;
	int cpu;

	spin_lock_irqsave(&cowstat_table_lock, flags);
	cowstat_trim_exited(0);
	nr_dropped = 0;
	spin_unlock_irqrestore(&cowstat_table_lock, flags);

	cowstat_visit_procs(&zero);
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
	st->buckets = 1UL << rcu_dereference_protected(cowstat_hash,
				lockdep_is_held(&cowstat_table_lock))->bits;
	spin_unlock_irqrestore(&cowstat_table_lock, flags);
	st->nomem = atomic_long_read(&nr_nomem);
	st->unattributed = atomic_long_read(&nr_unattributed);
	st->percpu = atomic_long_read(&nr_percpu);
	st->record_bytes = kmem_cache_size(cowstat_proc_cache);
}

int cowstat_table_init(void)
{
	struct cowstat_hash *h;

	BUILD_BUG_ON(sizeof(struct cowstat_proc) > 256);
	if (!proc_slots || proc_slots > COWSTAT_PROC_SLOTS)
		return -EINVAL;
	h = cowstat_hash_alloc(COWSTAT_HASH_MIN_BITS);
	if (!h)
		return -ENOMEM;
	h->idx = 0;
	cowstat_proc_cache = KMEM_CACHE(cowstat_proc, 0);
	if (!cowstat_proc_cache) {
		kvfree(h);
		return -ENOMEM;
	}
	RCU_INIT_POINTER(cowstat_hash, h);
	return 0;
}

/* Called after every probe and tracepoint is gone: nobody else adds to the table. */
void cowstat_table_exit(void)
{
	struct cowstat_hash *h;
	struct cowstat_proc *rec;
	struct hlist_node *n, *tmp;
	unsigned int b;

	/* A growth queued by the last insertion: let it finish, then none can be queued. */
	cancel_work_sync(&cowstat_grow_work);
	h = rcu_dereference_protected(cowstat_hash, 1);
	for (b = 0; b < cowstat_hash_size(h); b++) {
		for (n = h->heads[b].first; n; n = tmp) {
			tmp = n->next;
			rec = cowstat_hnode_proc(n, h->idx);
			cowstat_proc_free(rec);
		}
	}
	RCU_INIT_POINTER(cowstat_hash, NULL);
	INIT_LIST_HEAD(&cowstat_exited);
	nr_live = 0;
	nr_exited = 0;
	nr_percpu.counter = 0;
	/* Records dropped earlier are still queued for RCU: let them go first. */
	rcu_barrier();
	kvfree(h);
	kmem_cache_destroy(cowstat_proc_cache);
}
