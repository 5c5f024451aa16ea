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

/*
 * control.c: the control file, and reading a command written to any debugfs file and the
 * numbers in it: pids decimal, addresses and lengths decimal or 0x hex (never octal); 0 or
 * -EINVAL.
 */
extern const struct file_operations cowstat_control_fops;
ssize_t cowstat_read_command(char *buf, size_t size, const char __user *ubuf, size_t count,
			     const loff_t *ppos);
int cowstat_parse_pid(const char *s, pid_t *pid);
int cowstat_parse_ulong(const char *s, unsigned long *v);

/* debugfs.c: the user-visible files; removed first on unload. */
int cowstat_debugfs_init(void);
void cowstat_debugfs_exit(void);

/* snapshot.c: the "snapshot" debugfs file (format in include/cowstat.h). */
extern const struct file_operations cowstat_snapshot_fops;

/*
 * walk.c: the page table walker. Regions are the fault counters' (enum cowstat_region in
 * include/cowstat.h, classified by cowstat_region_of()); per-region counters are in the order
 * of COWSTAT_SNAPSHOT_PROC_COLUMNS after "region".
 */
enum cowstat_counter {
	COWSTAT_C_ANON,
	COWSTAT_C_SHARED,
	COWSTAT_C_SHARED_FAMILY,
	COWSTAT_C_SHARED_OUTSIDE,
	COWSTAT_C_EXCLUSIVE,
	COWSTAT_C_ZERO,
	COWSTAT_C_FILE_UNCOPIED,
	COWSTAT_C_FILE_COPIED,
	COWSTAT_C_THP,
	COWSTAT_C_THP_SHARED,
	COWSTAT_C_KSM,
	COWSTAT_C_SWAP,
	COWSTAT_NR_COUNTERS
};

/* One process of a snapshot; mm is a get_task_mm() reference, dropped when the walk is done. */
struct cowstat_member {
	pid_t pid;
	pid_t ppid;
	struct mm_struct *mm;
	u64 count[COWSTAT_NR_REGIONS][COWSTAT_NR_COUNTERS];
};

/* Frame flags. */
#define COWSTAT_FRAME_THP	0x1	/* subpage of a PMD-mapped THP */
#define COWSTAT_FRAME_FILE_VMA	0x2	/* anon copy in a file-backed private mapping */

/*
 * One mapping of one anonymous 4 KiB frame by one member: a slot of the chunk being walked,
 * or a "residue" frame whose sharing could not be settled within its chunk (see snapshot.c).
 */
struct cowstat_frame {
	u64 pfn;
	u32 mapcount;	/* page mapcount when walked (all processes) */
	u16 member;	/* index into cowstat_snap.members */
	u8 region;	/* enum cowstat_region */
	u8 flags;	/* COWSTAT_FRAME_* */
};

/*
 * One snapshot being taken; owned by the writer, no locking needed. The address range is
 * walked chunk by chunk, every member due in it over the same chunk: the walker fills the
 * member's slots (one per page of the chunk, valid where its bit in the member's bitmap is
 * set; the bitmaps of members not walked in the chunk are stale and never read).
 */
struct cowstat_snap {
	unsigned long start, end;	/* walked range, [start, end) */
	struct cowstat_member *members;
	unsigned int nr_members;
	unsigned long chunk_base;	/* address of slot 0, PMD aligned */
	unsigned int chunk_pages;	/* slots per member (snapshot.c, cowstat_chunk_pages()) */
	struct cowstat_frame *slots;	/* nr_members * chunk_pages */
	unsigned long *present;		/* nr_members bitmaps of chunk_pages bits */
	unsigned long *due;		/* per member: where it next has page tables */
	unsigned int *walked;		/* the members walked in this chunk, ascending */
	unsigned int nr_walked;
	struct cowstat_frame *frames;	/* the residue, kvmalloc'd and grown on demand */
	size_t nr_frames, cap_frames;
	size_t max_frames;		/* cap on the residue: -E2BIG beyond it */
};

int cowstat_walk_chunk(struct cowstat_snap *snap, unsigned int member, unsigned long addr,
		       unsigned long end, unsigned long *next);

#endif /* _COWSTAT_INTERNAL_H */
