/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowstat: the sharing snapshot's own declarations, shared by its files and nothing else.
 *
 *   snapshot.c  the "snapshot" debugfs file: the command, the open file's result, the report
 *   share.c     taking a snapshot: the chunked walk, merging, the residue sort, the accounting
 *   family.c    which processes are members, each with its address space pinned
 *   access.c    whether the writer and the opener may read a member's address space
 *   walk.c      the page table walker of one member over one chunk
 *
 * Calls go down that list (snapshot.c -> share.c -> family.c -> access.c; share.c -> walk.c)
 * and never back up.
 */
#ifndef _COWSTAT_SNAPSHOT_H
#define _COWSTAT_SNAPSHOT_H

#include <linux/types.h>

#include "cowstat.h"

struct file;
struct task_struct;

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
 * or a "residue" frame whose sharing could not be settled within its chunk (see share.c).
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
	unsigned int chunk_pages;	/* slots per member (share.c, cowstat_chunk_pages()) */
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

/*
 * The result of one snapshot, kept by the open file until the next write or the close. Made
 * by cowstat_sharing_take(), read by the file's show, freed with cowstat_sharing_free().
 */
struct cowstat_sharing {
	bool tree;
	pid_t pid;
	unsigned long start, end;
	unsigned int nr_members;
	struct cowstat_member *members;	/* mm already dropped */
	u64 resident, anon_mapped, distinct;
	u64 *matrix;			/* nr_members^2, or NULL above the cap */
};

/* share.c */
int cowstat_sharing_take(struct file *file, pid_t pid, bool tree, unsigned long start,
			 unsigned long end, struct cowstat_sharing **rp);
void cowstat_sharing_free(struct cowstat_sharing *r);

/* family.c */
int cowstat_family_collect(struct cowstat_snap *snap, struct file *file, pid_t pid, bool tree);

/* access.c */
bool cowstat_may_read(struct task_struct *task, struct file *file);

#endif /* _COWSTAT_SNAPSHOT_H */
