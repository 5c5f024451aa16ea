// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat tree PID: the sharing of a fork family now, as an indented process tree, with the
 * family's distinct frames and what COW saves it, and the pairwise sharing of small families.
 * The family is PID and its live descendants (/proc parent links).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modfiles.h"
#include "proc.h"
#include "report.h"

#define PAIRS_MAX	8

static void tree_help(FILE *f)
{
	fprintf(f, "usage: %s tree [--json] [--bytes | --pages] PID\n\n"
		"The family of PID (PID and its descendants) as a tree: per process the COW\n"
		"memory it maps, how much of it is shared and exclusive; for the family the\n"
		"distinct pages and the memory COW saves; for up to %d processes, the pages each\n"
		"pair shares. Needs no module (reads /proc/PID/pagemap; root for saved and pairs).\n\n"
		"examples:\n"
		"  sudo %s tree $(pgrep -o gunicorn)\n"
		"  sudo %s tree --json --pages 1234\n",
		cowstat_prog, PAIRS_MAX, cowstat_prog, cowstat_prog);
}

static void print_tree(const struct cowstat_share *s, const int *depth)
{
	char a[COWSTAT_CELL_MAX], b[COWSTAT_CELL_MAX], c[COWSTAT_CELL_MAX], z[COWSTAT_CELL_MAX];
	struct cowstat_table t;
	size_t i;

	cowstat_table_init(&t);
	cowstat_table_col(&t, "PID", 1);
	cowstat_table_col(&t, "COMM", 1);
	cowstat_table_col(&t, "MAPPED", 0);
	cowstat_table_col(&t, "SHARED", 0);
	cowstat_table_col(&t, "EXCLUSIVE", 0);
	cowstat_table_col(&t, "ZERO", 0);
	for (i = 0; i < s->n; i++) {
		const struct cowstat_share_proc *p = &s->procs[i];

		cowstat_table_cell(&t, "%*s%s%d", 3 * (depth[i] - (depth[i] > 0)), "",
				   depth[i] ? "\\_ " : "", p->pid);
		cowstat_table_cell(&t, "%s", p->gone ? "(exited)" : p->comm);
		cowstat_fmt_pages(a, sizeof(a), p->total.mapped, cowstat_opts.unit);
		cowstat_fmt_pages(b, sizeof(b), p->total.shared, cowstat_opts.unit);
		cowstat_fmt_pages(c, sizeof(c), p->total.exclusive, cowstat_opts.unit);
		if (s->have_zero)
			cowstat_fmt_pages(z, sizeof(z), p->total.zero, cowstat_opts.unit);
		else
			snprintf(z, sizeof(z), "-");
		cowstat_table_cell(&t, "%s", a);
		cowstat_table_cell(&t, "%s", b);
		cowstat_table_cell(&t, "%s", c);
		cowstat_table_cell(&t, "%s", z);
	}
	cowstat_table_print(&t, stdout, "");
	cowstat_table_free(&t);
}

static void print_family(const struct cowstat_share *s)
{
	char m[COWSTAT_CELL_MAX], d[COWSTAT_CELL_MAX], v[COWSTAT_CELL_MAX];
	size_t i, j;

	cowstat_fmt_pages(m, sizeof(m), s->total.mapped, cowstat_opts.unit);
	if (!s->have_frames) {
		printf("\nfamily: %s mapped (saved unknown without root)\n", m);
		return;
	}
	cowstat_fmt_pages(d, sizeof(d), s->distinct, cowstat_opts.unit);
	cowstat_fmt_pages(v, sizeof(v), s->saved, cowstat_opts.unit);
	printf("\nfamily: %s mapped in %zu processes, %s distinct, %s saved by COW\n", m, s->n,
	       d, v);
	if (!s->pairs)
		return;
	printf("\npages shared by each pair:\n%8s", "");
	for (j = 0; j < s->n; j++)
		printf(" %9d", s->procs[j].pid);
	printf("\n");
	for (i = 0; i < s->n; i++) {
		printf("%8d", s->procs[i].pid);
		for (j = 0; j < s->n; j++) {
			if (i == j)
				printf(" %9s", "-");
			else
				printf(" %9llu", (unsigned long long)s->pairs[i * s->n + j]);
		}
		printf("\n");
	}
}

static void json_tree(const struct cowstat_share *s, const int *depth, int root)
{
	struct cowstat_json j;
	size_t i, k;

	cowstat_json_init(&j, stdout);
	cowstat_json_open(&j, NULL, '{');
	cowstat_json_i64(&j, "root", root);
	cowstat_json_u64(&j, "page_size", cowstat_page_size());
	cowstat_json_str(&j, "backend", s->backend);
	cowstat_json_str(&j, "method", s->method);
	cowstat_json_open(&j, "processes", '[');
	for (i = 0; i < s->n; i++) {
		const struct cowstat_share_proc *p = &s->procs[i];

		cowstat_json_open(&j, NULL, '{');
		cowstat_json_i64(&j, "pid", p->pid);
		cowstat_json_i64(&j, "ppid", p->ppid);
		cowstat_json_str(&j, "comm", p->comm);
		cowstat_json_i64(&j, "depth", depth[i]);
		cowstat_json_str(&j, "state", p->gone ? "exited" : "live");
		cowstat_json_share_counts(&j, &p->total, s->have_zero);
		cowstat_json_open(&j, "regions", '{');
		for (k = 0; k < COWSTAT_NR_REGIONS; k++) {
			cowstat_json_open(&j, cowstat_region_names[k], '{');
			cowstat_json_share_counts(&j, &p->region[k], s->have_zero);
			cowstat_json_close(&j, '}');
		}
		cowstat_json_close(&j, '}');
		cowstat_json_close(&j, '}');
	}
	cowstat_json_close(&j, ']');
	cowstat_json_open(&j, "family", '{');
	cowstat_json_share_counts(&j, &s->total, s->have_zero);
	if (s->have_frames) {
		cowstat_json_u64(&j, "distinct_pages", s->distinct);
		cowstat_json_u64(&j, "saved_pages", s->saved);
	} else {
		cowstat_json_null(&j, "distinct_pages");
		cowstat_json_null(&j, "saved_pages");
	}
	cowstat_json_close(&j, '}');
	if (s->pairs) {
		cowstat_json_open(&j, "pairs", '[');
		for (i = 0; i < s->n; i++)
			for (k = i + 1; k < s->n; k++) {
				cowstat_json_open(&j, NULL, '{');
				cowstat_json_i64(&j, "a", s->procs[i].pid);
				cowstat_json_i64(&j, "b", s->procs[k].pid);
				cowstat_json_u64(&j, "shared_pages", s->pairs[i * s->n + k]);
				cowstat_json_close(&j, '}');
			}
		cowstat_json_close(&j, ']');
	} else {
		cowstat_json_null(&j, "pairs");
	}
	cowstat_json_close(&j, '}');
	cowstat_json_end(&j);
}

int cowstat_cmd_tree(int argc, char **argv)
{
	const struct cowstat_share_backend *be;
	char err[COWSTAT_ERR_MAX];
	struct cowstat_share share;
	struct cowstat_pstat st, *fam;
	const char *limits;
	int pid, n, *depth, *pids, i;

	if (cowstat_getopt(argc, argv, "", NULL, tree_help) != -1)
		cowstat_usage_error("tree: unknown option");
	if (optind + 1 != argc)
		cowstat_usage_error("tree: expected one PID (see '%s tree -h')", cowstat_prog);
	pid = cowstat_arg_pid(argv[optind]);
	cowstat_proc_check_user(pid, &st);
	n = cowstat_proc_family(pid, &fam, &depth);
	if (n < 0)
		cowstat_fatal("no such process: %d", pid);
	pids = calloc(n, sizeof(*pids));
	if (!pids)
		cowstat_fatal("out of memory");
	for (i = 0; i < n; i++)
		pids[i] = fam[i].pid;
	be = cowstat_share_backend_select();
	if (cowstat_share_snapshot(be, pids, n, n <= PAIRS_MAX ? COWSTAT_SHARE_PAIRS : 0, &share,
				   err))
		cowstat_fatal("%s", err);
	if (share.procs[0].gone)
		cowstat_fatal("process %d exited while being read", pid);
	limits = be->limits();
	if (limits)
		fprintf(stderr, "%s: %s\n", cowstat_prog, limits);
	if (cowstat_opts.json) {
		json_tree(&share, depth, pid);
	} else {
		printf("family of %d (%s): %d processes; COW memory now (%s, %s)\n\n", pid,
		       st.comm, n, share.backend, share.method);
		print_tree(&share, depth);
		print_family(&share);
	}
	cowstat_share_release(&share);
	free(pids);
	free(fam);
	free(depth);
	cowstat_module_warn_health();
	return 0;
}
