/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sharing backends: who measures how much memory a set of processes still shares through
 * copy-on-write: the module's snapshot (backend_module.c) or /proc/PID/pagemap
 * (backend_pagemap.c). show, tree and run choose one with cowstat_share_backend_select() and
 * measure through cowstat_share_snapshot() (backend.c), which alone knows the order of the
 * backends and falls back from one to the next.
 *
 * Every figure is in pages of COW memory: anonymous pages present in private mappings (the
 * pages a fork shares and a write copies). Swapped-out pages are not counted.
 */
#ifndef _COWSTAT_BACKEND_H
#define _COWSTAT_BACKEND_H

#include "parse.h"

struct cowstat_share_counts {
	u64 mapped;		/* anonymous pages present, zero page included */
	u64 shared;		/* of which mapped by more than one process */
	u64 exclusive;		/* of which mapped by this process only */
	u64 zero;		/* of which the shared zero page (when have_zero) */
};

struct cowstat_share_proc {
	int pid, ppid;
	char comm[COWSTAT_COMM_MAX];
	int gone;		/* exited before or while being read: no figures */
	struct cowstat_share_counts total;
	struct cowstat_share_counts region[COWSTAT_NR_REGIONS];
};

struct cowstat_share {
	const char *backend;	/* "pagemap" or "module" */
	const char *method;	/* how shared was told from exclusive, e.g. "kpagecount" */
	int have_zero;		/* zero-page mappings told apart */
	int have_frames;	/* distinct, saved and pairs are valid */
	size_t n;
	struct cowstat_share_proc *procs;
	struct cowstat_share_counts total;	/* sums over procs */
	u64 distinct;		/* distinct page frames behind the family's non-zero pages */
	u64 saved;		/* (mapped - zero) - distinct: pages COW saves the family */
	u64 *pairs;		/* n x n: frames mapped by both procs[i] and procs[j] */
};

/* Ask for the pairwise matrix (costs a sorted frame list per process). */
#define COWSTAT_SHARE_PAIRS	1u

struct cowstat_share_backend {
	const char *name;
	/* 0 if this backend can measure here; otherwise -1 and a one-line reason in why. */
	int (*available)(char *why);
	/* One line naming the figures this backend cannot give here, or NULL. */
	const char *(*limits)(void);
	/*
	 * Measure pids[0..n) into out (zeroed by the caller). A pid that is gone is marked gone,
	 * not an error. Returns 0; COWSTAT_SHARE_NOT_COVERED, out left empty, when this backend
	 * cannot measure exactly this set of processes (the next backend then does); or -1 with
	 * a one-line reason in err (COWSTAT_ERR_MAX bytes).
	 */
	int (*snapshot)(const int *pids, size_t n, unsigned int flags,
			struct cowstat_share *out, char *err);
};

#define COWSTAT_SHARE_NOT_COVERED	1

extern const struct cowstat_share_backend cowstat_pagemap_backend;
extern const struct cowstat_share_backend cowstat_module_backend;

/*
 * The backend show, tree and run use: the module's snapshot when it can be used, else pagemap.
 * COWSTAT_BACKEND=module or =pagemap insists on one (the tests compare them).
 */
const struct cowstat_share_backend *cowstat_share_backend_select(void);

/*
 * Measure pids[0..n) with be, or with the backends after it in the selector's order when be
 * cannot cover them: 0, or -1 with err set. Release the result with cowstat_share_release().
 */
int cowstat_share_snapshot(const struct cowstat_share_backend *be, const int *pids, size_t n,
			   unsigned int flags, struct cowstat_share *out, char *err);
void cowstat_share_release(struct cowstat_share *s);

#endif /* _COWSTAT_BACKEND_H */
