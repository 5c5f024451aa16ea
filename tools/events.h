/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The event source of "cowstat trace": the trace event cowstat:cow_fault and the kernel's
 * process side-band records (fork, exec, exit, executable mmaps), read through perf_event_open
 * on every CPU and delivered in time order.
 */
#ifndef _COWSTAT_EVENTS_H
#define _COWSTAT_EVENTS_H

#include <stddef.h>

#include "parse.h"

enum cowstat_ev_type {
	COWSTAT_EV_FAULT,	/* a cowstat:cow_fault event */
	COWSTAT_EV_MMAP,	/* an executable mapping was created in pid */
	COWSTAT_EV_FORK,	/* process pid was forked by ppid (threads are not reported) */
	COWSTAT_EV_EXEC,	/* pid exec'd comm: its mappings are gone */
	COWSTAT_EV_EXIT,	/* process pid exited (its last thread) */
};

struct cowstat_ev {
	enum cowstat_ev_type type;
	u64 time;		/* CLOCK_MONOTONIC ns */
	int pid;		/* FAULT: the process whose memory changed; others: the process */
	int task_pid;		/* FAULT: the process of the task that ran the fault */
	int ppid;		/* FORK */
	/* FAULT */
	int class, region;
	unsigned int copied;
	u64 addr, ip, pgoff, ino;
	unsigned int dev;
	char file[COWSTAT_TRACE_FILE_LEN];
	/* MMAP: start, len, file offset in bytes (pgoff above is the fault's, in pages) */
	u64 start, len, offset;
	char *path;		/* MMAP: owned by the event source until the callback returns */
	/*
	 * FAULT, when the source was opened with stacks: the user stack of the task that ran
	 * the fault, innermost first; owned like path.
	 */
	u64 *stack;
	unsigned int nstack;
	char comm[16];		/* EXEC */
};

struct cowstat_evsrc;

/*
 * Open the event on every online CPU with a ring buffer of buf_pages pages (a power of 2)
 * each; with stacks, every fault carries its user stack (frame pointers: the kernel's
 * perf_callchain_user()). 0, or -1 with a one-line reason in err (module not loaded, not
 * root, no tracefs...).
 */
int cowstat_evsrc_open(struct cowstat_evsrc **out, unsigned int buf_pages, int stacks,
		       char *err);
/* Wait up to timeout_ms for data, then read every buffer. 0, or -1 with errno (EINTR...). */
int cowstat_evsrc_read(struct cowstat_evsrc *s, int timeout_ms);
/*
 * Deliver, in time order, the records read so far with time <= upto (all: ~0ULL). Records
 * of one CPU arrive in order; waiting a little before delivering orders them across CPUs.
 */
void cowstat_evsrc_deliver(struct cowstat_evsrc *s, u64 upto,
			   void (*cb)(const struct cowstat_ev *ev, void *arg), void *arg);
/* Events the kernel dropped because a buffer was full (PERF_RECORD_LOST). */
u64 cowstat_evsrc_lost(const struct cowstat_evsrc *s);
void cowstat_evsrc_close(struct cowstat_evsrc *s);

#endif /* _COWSTAT_EVENTS_H */
