// SPDX-License-Identifier: GPL-2.0
/* cowstat ps: the module's per-process counter table, live and exited processes. */
#include <stdlib.h>
#include <unistd.h>

#include "modfiles.h"
#include "report.h"

static void ps_help(FILE *f)
{
	fprintf(f, "usage: %s ps [-p PID | -t PID] [--json] [--bytes | --pages]\n\n"
		"The per-process COW fault counters of cowstat.ko, exited processes included\n"
		"(the module keeps the last max_exited of them).\n\n"
		"  -p PID   only the records of PID\n"
		"  -t PID   PID and its descendants\n\n"
		"examples:\n"
		"  sudo %s ps\n"
		"  sudo %s ps -t $(pgrep -o gunicorn) --json\n",
		cowstat_prog, cowstat_prog, cowstat_prog);
}

int cowstat_cmd_ps(int argc, char **argv)
{
	struct cowstat_procs procs;
	struct cowstat_proc **sel;
	int c, pid = 0, tree = 0;
	size_t i, n = 0;

	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "tree", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};

	while ((c = cowstat_getopt(argc, argv, "p:t:", opts, ps_help)) != -1) {
		pid = cowstat_arg_pid(optarg);
		tree = c == 't';
	}
	if (optind != argc)
		cowstat_usage_error("ps: unexpected argument '%s'", argv[optind]);
	cowstat_module_require();
	cowstat_module_procs(&procs, 0);
	sel = calloc(procs.n + 1, sizeof(*sel));
	if (!sel)
		cowstat_fatal("out of memory");
	if (tree) {
		n = cowstat_module_family(&procs, pid, sel);
	} else {
		for (i = 0; i < procs.n; i++)
			if (!pid || procs.v[i].pid == pid)
				sel[n++] = &procs.v[i];
	}
	if (pid && !n)
		cowstat_fatal("no record of pid %d in the module (%s)", pid,
			      "no fork or fault of it since the module was loaded, or out of scope");
	if (cowstat_opts.json) {
		struct cowstat_json j;

		cowstat_json_init(&j, stdout);
		cowstat_json_open(&j, NULL, '{');
		cowstat_json_i64(&j, "interface_version", COWSTAT_IF_VERSION);
		cowstat_json_u64(&j, "page_size", cowstat_page_size());
		cowstat_json_open(&j, "processes", '[');
		for (i = 0; i < n; i++)
			cowstat_json_proc(&j, NULL, sel[i], 0);
		cowstat_json_close(&j, ']');
		cowstat_json_close(&j, '}');
		cowstat_json_end(&j);
	} else {
		cowstat_print_counters(sel, n, stdout, "");
	}
	free(sel);
	cowstat_procs_free(&procs);
	cowstat_module_warn_health();
	return 0;
}
