// SPDX-License-Identifier: GPL-2.0
/*
 * A process family: the nodes sorted by (ppid, start_ns, pid), so that a node's children are
 * one range found by binary search, then a depth-first walk with a stack of its own.
 */
#include <stdlib.h>

#include "family.h"
#include "tool.h"

static const struct cowstat_family_node *sort_v;

static int cmp_node(const void *a, const void *b)
{
	const struct cowstat_family_node *x = &sort_v[*(const size_t *)a];
	const struct cowstat_family_node *y = &sort_v[*(const size_t *)b];

	if (x->ppid != y->ppid)
		return x->ppid < y->ppid ? -1 : 1;
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* The first position in by_ppid whose node has a ppid of at least ppid. */
static size_t first_child(const struct cowstat_family_node *v, const size_t *by_ppid, size_t n,
			  int ppid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[by_ppid[mid]].ppid < ppid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t cowstat_family_roots(const struct cowstat_family_node *v, size_t n, const size_t *roots,
			    size_t nroots, size_t *out, int *depth)
{
	size_t *by_ppid = malloc((n + 1) * sizeof(*by_ppid));
	size_t *stack = malloc((n + 1) * sizeof(*stack));
	int *stack_depth = malloc((n + 1) * sizeof(*stack_depth));
	char *seen = calloc(n + 1, 1);
	size_t i, k = 0, top = 0;

	if (!by_ppid || !stack || !stack_depth || !seen)
		cowstat_fatal("out of memory");
	for (i = 0; i < n; i++)
		by_ppid[i] = i;
	sort_v = v;
	qsort(by_ppid, n, sizeof(*by_ppid), cmp_node);
	/* Pushed last to first, so that the first root is walked first. */
	for (i = nroots; i > 0; i--) {
		if (seen[roots[i - 1]])
			continue;
		seen[roots[i - 1]] = 1;
		stack[top] = roots[i - 1];
		stack_depth[top++] = 0;
	}
	while (top) {
		size_t q = stack[--top], first, end;
		int d = stack_depth[top];

		out[k] = q;
		if (depth)
			depth[k] = d;
		k++;
		first = first_child(v, by_ppid, n, v[q].pid);
		for (end = first; end < n && v[by_ppid[end]].ppid == v[q].pid; end++)
			;
		/* Pushed last to first, so that the first sibling is walked first. */
		for (i = end; i > first; i--) {
			size_t c = by_ppid[i - 1];

			if (seen[c] || v[c].start_ns < v[q].start_ns)
				continue;
			seen[c] = 1;
			stack[top] = c;
			stack_depth[top++] = d + 1;
		}
	}
	free(by_ppid);
	free(stack);
	free(stack_depth);
	free(seen);
	return k;
}

size_t cowstat_family(const struct cowstat_family_node *v, size_t n, size_t root, size_t *out,
		      int *depth)
{
	return cowstat_family_roots(v, n, &root, 1, out, depth);
}
