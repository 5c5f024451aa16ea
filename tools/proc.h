/* SPDX-License-Identifier: GPL-2.0 */
/* What the tool reads from /proc/PID/stat: names, parents, kernel threads, families. */
#ifndef _COWSTAT_PROC_H
#define _COWSTAT_PROC_H

#include "parse.h"

struct cowstat_pstat {
	int pid, ppid;
	char comm[COWSTAT_COMM_MAX];
	int kthread;
	u64 start_ns;		/* start time (field 22, clock ticks) in CLOCK_MONOTONIC ns */
	char state;		/* R, S, D, Z (zombie), X (dead), ... */
};

/* 0, or -errno (-ESRCH when the process does not exist or is gone). */
int cowstat_pstat_read(int pid, struct cowstat_pstat *st);

/*
 * 1 if @pid still has an address space to read: it exists and is not a zombie. A process that
 * exits keeps its /proc/PID, with empty maps, until it is reaped: readers must not take that
 * for a process without memory.
 */
int cowstat_pid_alive(int pid);

/*
 * @root and its live descendants (cowstat_family(): the root first, depth first, siblings in
 * pid order; depth[i] is the depth below root). Returns how many, or -errno for the root.
 */
int cowstat_proc_family(int root, struct cowstat_pstat **out, int **depth);

/*
 * Exit with one line when @pid cannot be inspected: no such process, a zombie, or a kernel
 * thread.
 */
void cowstat_proc_check_user(int pid, struct cowstat_pstat *st);

/* One line of /proc/PID/maps. */
struct cowstat_maps_line {
	unsigned long long start, end, offset;
	char perms[8];		/* "rw-p" */
	char name[4096];	/* path, "[heap]", ... or "" */
};

/* Parse one line of /proc/PID/maps: 0, or -1 when malformed. */
int cowstat_maps_parse(const char *line, struct cowstat_maps_line *m);

#endif /* _COWSTAT_PROC_H */
