// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat show PID: one process. The module's counters and their region breakdown when the
 * module is loaded; the sharing of its COW memory now, per region, from the sharing backend
 * (pagemap: works without the module).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modfiles.h"
#include "proc.h"
#include "report.h"

static void show_help(FILE *f)
{
	fprintf(f, "usage: %s show [--json] [--bytes | --pages] PID\n\n"
		"One process: its COW fault counters per class and per region (cowstat.ko), and\n"
		"how much of its COW memory is shared or exclusive now, per region. Without the\n"
		"module only the sharing part is shown (from /proc/PID/pagemap).\n\n"
		"examples:\n"
		"  sudo %s show 1234\n"
		"  %s show --json $$\n", cowstat_prog, cowstat_prog, cowstat_prog);
}

static void print_sharing(const struct cowstat_share *s, FILE *f)
{
	const struct cowstat_share_proc *p = &s->procs[0];
	char a[COWSTAT_CELL_MAX], b[COWSTAT_CELL_MAX], c[COWSTAT_CELL_MAX], z[COWSTAT_CELL_MAX];
	struct cowstat_table t;
	int r;

	fprintf(f, "sharing now (%s, %s):\n", s->backend, s->method);
	cowstat_table_init(&t);
	cowstat_table_col(&t, "REGION", 1);
	cowstat_table_col(&t, "MAPPED", 0);
	cowstat_table_col(&t, "SHARED", 0);
	cowstat_table_col(&t, "EXCLUSIVE", 0);
	cowstat_table_col(&t, "ZERO", 0);
	for (r = 0; r <= COWSTAT_NR_REGIONS; r++) {
		const struct cowstat_share_counts *rc = r < COWSTAT_NR_REGIONS ?
			&p->region[r] : &p->total;

		if (r < COWSTAT_NR_REGIONS && !rc->mapped)
			continue;
		cowstat_fmt_pages(a, sizeof(a), rc->mapped, cowstat_opts.unit);
		cowstat_fmt_pages(b, sizeof(b), rc->shared, cowstat_opts.unit);
		cowstat_fmt_pages(c, sizeof(c), rc->exclusive, cowstat_opts.unit);
		if (s->have_zero)
			cowstat_fmt_pages(z, sizeof(z), rc->zero, cowstat_opts.unit);
		else
			snprintf(z, sizeof(z), "-");
		cowstat_table_cell(&t, "%s", r < COWSTAT_NR_REGIONS ?
				   cowstat_region_names[r] : "total");
		cowstat_table_cell(&t, "%s", a);
		cowstat_table_cell(&t, "%s", b);
		cowstat_table_cell(&t, "%s", c);
		cowstat_table_cell(&t, "%s", z);
	}
	cowstat_table_print(&t, f, "  ");
	cowstat_table_free(&t);
}

static void json_sharing(struct cowstat_json *j, const struct cowstat_share *s)
{
	const struct cowstat_share_proc *p = &s->procs[0];
	int r;

	cowstat_json_open(j, "sharing", '{');
	cowstat_json_str(j, "backend", s->backend);
	cowstat_json_str(j, "method", s->method);
	cowstat_json_share_counts(j, &p->total, s->have_zero);
	cowstat_json_open(j, "regions", '{');
	for (r = 0; r < COWSTAT_NR_REGIONS; r++) {
		cowstat_json_open(j, cowstat_region_names[r], '{');
		cowstat_json_share_counts(j, &p->region[r], s->have_zero);
		cowstat_json_close(j, '}');
	}
	cowstat_json_close(j, '}');
	cowstat_json_close(j, '}');
}

int cowstat_cmd_show(int argc, char **argv)
{
	const struct cowstat_share_backend *be = NULL;
	char why[COWSTAT_ERR_MAX], err[COWSTAT_ERR_MAX];
	const char *limits = NULL, *nomod = NULL;
	struct cowstat_proc *rec = NULL;
	struct cowstat_share share;
	struct cowstat_procs procs = { 0 };
	struct cowstat_pstat st;
	int pid, have_share = 0, r;

	if (cowstat_getopt(argc, argv, "", NULL, show_help) != -1)
		cowstat_usage_error("show: unknown option");
	if (optind + 1 != argc)
		cowstat_usage_error("show: expected one PID (see '%s show -h')", cowstat_prog);
	pid = cowstat_arg_pid(argv[optind]);

	if (cowstat_module_usable(why)) {
		cowstat_module_require();
		cowstat_module_procs(&procs, 1);
		rec = cowstat_procs_find(&procs, pid);
	} else {
		nomod = why;
	}
	if (!rec || !rec->exited) {
		/*
		 * Without a record the process must be there now; with a live record, a process
		 * gone since the module was read has exited while being read.
		 */
		if (!rec)
			cowstat_proc_check_user(pid, &st);
		r = cowstat_pstat_read(pid, &st);
		if (!r && st.kthread)
			cowstat_fatal("%d (%s) is a kernel thread: it has no user memory to share",
				      pid, st.comm);
		if (r || !cowstat_pid_alive(pid))
			cowstat_fatal("process %d exited while being read", pid);
		be = cowstat_share_backend_select();
		if (cowstat_share_snapshot(be, &pid, 1, 0, &share, err))
			cowstat_fatal("%s", err);
		if (share.procs[0].gone)
			cowstat_fatal("process %d exited while being read", pid);
		have_share = 1;
		limits = be->limits();
	}
	if (nomod)
		fprintf(stderr, "%s: fault counters unavailable: %s\n", cowstat_prog, nomod);
	else if (!rec)
		fprintf(stderr, "%s: no module record of %d (%s): fault counters unavailable\n",
			cowstat_prog, pid, "no fault since it was loaded, or out of scope");
	if (limits)
		fprintf(stderr, "%s: %s\n", cowstat_prog, limits);

	if (cowstat_opts.json) {
		struct cowstat_json j;

		cowstat_json_init(&j, stdout);
		cowstat_json_open(&j, NULL, '{');
		cowstat_json_i64(&j, "pid", pid);
		cowstat_json_u64(&j, "page_size", cowstat_page_size());
		if (rec)
			cowstat_json_proc(&j, "module", rec, 1);
		else
			cowstat_json_null(&j, "module");
		if (have_share)
			json_sharing(&j, &share);
		else
			cowstat_json_null(&j, "sharing");
		cowstat_json_close(&j, '}');
		cowstat_json_end(&j);
	} else {
		if (rec) {
			printf("pid %d (%s), parent %d, %s\n", pid, rec->comm, rec->ppid,
			       rec->exited ? "exited" : "live");
			printf("COW faults (cowstat.ko):\n");
			cowstat_print_counters(&rec, 1, stdout, "  ");
			printf("by region:\n");
			cowstat_print_regions(rec, stdout, "  ");
		} else {
			printf("pid %d (%s), parent %d\n", pid, st.comm, st.ppid);
		}
		if (have_share)
			print_sharing(&share, stdout);
	}
	if (have_share)
		cowstat_share_release(&share);
	cowstat_procs_free(&procs);
	return 0;
}
