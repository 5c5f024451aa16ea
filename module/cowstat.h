/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowstat: declarations shared between the module's files.
 */
#ifndef _COWSTAT_INTERNAL_H
#define _COWSTAT_INTERNAL_H

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/types.h>

#include <cowstat.h>

struct mm_struct;
struct vm_area_struct;
struct vm_fault;

/* Counters of every (region, class) pair: a record's per-CPU extension. */
struct cowstat_counts {
	unsigned long count[COWSTAT_NR_REGIONS][COWSTAT_NR_CLASSES];
};

/* Counter slots in a record; a record needing more, or counting from many CPUs, goes per-CPU. */
#define COWSTAT_PROC_SLOTS	16

/*
 * One process, keyed by (start_ns, tgid) so that a reused pid never merges two processes.
 * Found through the hash of table.c under RCU; freed with call_rcu() once removed from it.
 * 256 bytes (Documentation/cowstat.rst, "Memory"): keep it so.
 *
 * Counts live in up to COWSTAT_PROC_SLOTS slots, each claimed by one (region, class) pair at
 * its first fault (key[i] = 1 + region * COWSTAT_NR_CLASSES + class; 0: free), and once the
 * process counts from another CPU than the last while it has more than one thread (or needs
 * a seventeenth pair), in pcpu: a per-CPU copy of the whole matrix, so that the threads of
 * one process on many CPUs do not bounce one cache line. A reading adds slots and pcpu.
 */
struct cowstat_proc {
	struct hlist_node hnode[2];	/* in the hash's buckets; cowstat_table_lock (table.c) */
	union {
		struct list_head exited; /* in the exited FIFO once exited; cowstat_table_lock */
		struct rcu_head rcu;	/* once out of the hash and the FIFO */
	};
	u64 start_ns;			/* task start_time of the group leader */
	pid_t tgid;
	pid_t ppid;			/* parent's tgid when first seen */
	u64 fork_ns;			/* last time it forked a child while loaded (0: never) */
	u64 exit_ns;			/* 0 while live; set once, under cowstat_table_lock */
	u32 scope_gen;			/* in scope if == cowstat_scope_gen (scope active) */
	u16 last_cpu;			/* CPU of the last fault counted in the slots */
	u8 pcpu_failed;			/* the per-CPU copy could not be allocated: slots only */
	char comm[TASK_COMM_LEN];	/* updated at exec and exit, read racily */
	struct cowstat_counts __percpu *pcpu;	/* set once (cmpxchg), freed with the record */
	u8 key[COWSTAT_PROC_SLOTS];	/* claimed with cmpxchg, in order; never released */
	atomic_long_t slot[COWSTAT_PROC_SLOTS];
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
void cowstat_proc_forked(struct task_struct *parent, struct task_struct *child);
void cowstat_proc_exited(struct task_struct *task);
void cowstat_proc_exec(struct task_struct *task);
void cowstat_count(struct mm_struct *mm, enum cowstat_region region, unsigned long addr,
		   enum cowstat_class class);

/* trace.c: the cowstat:cow_fault trace event (called only while it is enabled). */
void cowstat_trace_fault(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long addr,
			 enum cowstat_class class, enum cowstat_region region);
bool cowstat_mm_in_scope(struct mm_struct *mm);
int cowstat_table_snapshot(struct cowstat_proc_snap **snap, size_t *nr);
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
	unsigned long percpu;		/* records counting per CPU */
	unsigned long buckets;		/* hash buckets */
	unsigned int record_bytes;	/* slab object size of a record */
};

void cowstat_table_stats(struct cowstat_table_stats *st);

static inline u64 cowstat_task_start_ns(struct task_struct *task)
{
	return task->group_leader->start_time;
}

/* watch.c: address-range watches; none set while cowstat_nr_watches is 0 (read locklessly). */
extern unsigned int cowstat_nr_watches;
int cowstat_watch_add(pid_t pid, unsigned long start, unsigned long len);
int cowstat_watch_del(pid_t pid, unsigned long start);
void cowstat_watch_del_all(void);
void cowstat_watch_count(pid_t tgid, u64 start_ns, unsigned long addr, enum cowstat_class class);
void cowstat_watch_reset(void);
void cowstat_watch_exit(void);
int cowstat_watches_show(struct seq_file *m, void *v);
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
int cowstat_summary_show(struct seq_file *m, void *v);

/* control.c: the control file (its commands read by command.c). */
extern const struct file_operations cowstat_control_fops;

/* debugfs.c: the user-visible files; removed first on unload. */
int cowstat_debugfs_init(void);
void cowstat_debugfs_exit(void);

/* snapshot.c: the "snapshot" debugfs file (format in include/cowstat.h; its parts: snapshot.h). */
extern const struct file_operations cowstat_snapshot_fops;

#endif /* _COWSTAT_INTERNAL_H */
