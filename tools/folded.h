/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The user stacks of cowstat trace's COW faults, folded: one line per distinct stack,
 * "comm;outermost;...;innermost WEIGHT", the text format that FlameGraph, inferno, speedscope
 * and Firefox Profiler read. Frames are turned into (file, offset) as events come (the
 * process may exec or exit later) and named only when written.
 */
#ifndef _COWSTAT_FOLDED_H
#define _COWSTAT_FOLDED_H

#include <stdio.h>

#include "parse.h"

struct cowstat_folded;

struct cowstat_folded *cowstat_folded_new(void);
/*
 * One fault of process @pid that copied @pages pages, with the user stack @ips[0..@n) of the
 * task that ran it, innermost first (ips[0] is the faulting instruction, the others return
 * addresses). @gup: the task was another process's (an unshare by its GUP): its stack is not
 * this process's code and is left out.
 */
void cowstat_folded_add(struct cowstat_folded *f, int pid, const u64 *ips, unsigned int n,
			int gup, u64 pages);
/*
 * Write every stack with a non-zero weight (pages copied, or faults when @by_faults), the
 * process's name from @comm as the root frame; stacks that become the same line (processes
 * of one name) are merged. Lines are sorted. Returns the number of lines, or -1 (errno).
 */
/* A frame of a stack, named. */
struct cowstat_folded_frame {
	char name[300];		/* function, "object+0xoffset", or the root's process name */
	char src[200];		/* "file.c:123", "" when unknown */
};

typedef void cowstat_folded_fn(void *ctx, const struct cowstat_folded_frame *fr,
			       unsigned int n, u64 weight);
/*
 * Call @fn for every stack with a non-zero weight (pages copied, or faults when @by_faults)
 * with its frames, outermost first: the process's name from @comm, "[another process's
 * GUP]" for an unshare by another process, then the code. A function inlined at an address
 * is a frame of its own after its caller. Stacks of processes of one name are not merged.
 */
void cowstat_folded_each(struct cowstat_folded *f, int by_faults,
			 const char *(*comm)(int pid, void *arg), void *arg,
			 cowstat_folded_fn *fn, void *ctx);
long cowstat_folded_write(struct cowstat_folded *f, FILE *out, int by_faults,
			  const char *(*comm)(int pid, void *arg), void *arg);
void cowstat_folded_free(struct cowstat_folded *f);

#endif /* _COWSTAT_FOLDED_H */
