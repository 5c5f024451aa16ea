/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowstat: declarations shared between the module's files.
 */
#ifndef _COWSTAT_INTERNAL_H
#define _COWSTAT_INTERNAL_H

#include <linux/fs.h>
#include <linux/mm_types.h>
#include <linux/types.h>

#include <cowstat.h>

/* debugfs.c: the user-visible files; removed first on unload. */
int cowstat_debugfs_init(void);
void cowstat_debugfs_exit(void);

/* snapshot.c: the "snapshot" debugfs file (format in include/cowstat.h). */
extern const struct file_operations cowstat_snapshot_fops;

/*
 * walk.c: the page table walker. Region classes, in the order of COWSTAT_SNAPSHOT_REGIONS
 * after "all", and per-region counters, in the order of COWSTAT_SNAPSHOT_PROC_COLUMNS after
 * "region".
 */
enum cowstat_region {
	COWSTAT_REGION_HEAP,
	COWSTAT_REGION_STACK,
	COWSTAT_REGION_ANON_MMAP,
	COWSTAT_REGION_FILE,
	COWSTAT_REGION_OTHER,
	COWSTAT_NR_REGIONS
};

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
 * walked chunk by chunk, every member over the same chunk: the walker fills the member's
 * slots (one per page of the chunk, valid where its bit in the member's bitmap is set).
 */
struct cowstat_snap {
	unsigned long start, end;	/* walked range, [start, end) */
	struct cowstat_member *members;
	unsigned int nr_members;
	unsigned long chunk_base;	/* address of slot 0, PMD aligned */
	unsigned int chunk_pages;	/* slots per member, a multiple of PTRS_PER_PTE */
	struct cowstat_frame *slots;	/* nr_members * chunk_pages */
	unsigned long *present;		/* nr_members bitmaps of chunk_pages bits */
	struct cowstat_frame *frames;	/* the residue, kvmalloc'd and grown on demand */
	size_t nr_frames, cap_frames;
	size_t max_frames;		/* cap on the residue: -E2BIG beyond it */
};

int cowstat_walk_chunk(struct cowstat_snap *snap, unsigned int member, unsigned long addr,
		       unsigned long end, unsigned long *next);

#endif /* _COWSTAT_INTERNAL_H */
