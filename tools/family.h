/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A process family, by one rule for live processes (/proc, proc.c) and for the module's
 * records (modfiles.c): the root and its descendants by ppid links, each started at or after
 * its parent (so that a reused pid does not join a family it was never forked into).
 */
#ifndef _COWSTAT_FAMILY_H
#define _COWSTAT_FAMILY_H

#include <stddef.h>

#include "parse.h"

struct cowstat_family_node {
	int pid, ppid;
	u64 start_ns;		/* 0 when not known (live processes: a ppid is always live) */
};

/*
 * The family of v[root] among v[0..n): fills out[] with indices into v and depth[] (0 for the
 * root; may be NULL) and returns how many. The order is the tree's, depth first: the root
 * first, each process followed by its descendants, siblings in (start_ns, pid) order. Takes
 * O(n log n).
 */
size_t cowstat_family(const struct cowstat_family_node *v, size_t n, size_t root, size_t *out,
		      int *depth);

/*
 * The same for several roots at once: roots[0..nroots) and their descendants, each process
 * once (a root that descends from another is walked as a root), in one O(n log n) walk.
 */
size_t cowstat_family_roots(const struct cowstat_family_node *v, size_t n, const size_t *roots,
			    size_t nroots, size_t *out, int *depth);

#endif /* _COWSTAT_FAMILY_H */
