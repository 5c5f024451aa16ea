// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: the command people run. It reads the files of cowstat.ko under
 * /sys/kernel/debug/cowstat/ (include/cowstat.h, Documentation/cowstat.rst), and measures
 * sharing from /proc/PID/pagemap where the module is not needed. Documentation/usage.rst and
 * cowstat(8) describe every subcommand and the JSON keys.
 *
 * Errors are one line on stderr and exit status 1; usage errors exit 2.
 */
#include <getopt.h>
#include <string.h>

#include "parse.h"
#include "tool.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "run", cowstat_cmd_run, "run a command, report its family's COW faults and sharing" },
	{ "top", cowstat_cmd_top, "live view of processes sorted by COW break rate" },
	{ "tree", cowstat_cmd_tree, "a family's sharing as a process tree (no module needed)" },
	{ "show", cowstat_cmd_show, "one process: counters, regions, sharing" },
	{ "ps", cowstat_cmd_ps, "the per-process counter table, exited processes included" },
	{ "trace", cowstat_cmd_trace, "stream COW faults and rank the code and data behind them" },
	{ "export", cowstat_cmd_export, "COW metrics for Prometheus, served or as a textfile" },
	{ "version", cowstat_cmd_version, "the tool's and the loaded module's versions" },
};

static void print_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: %s [-h] COMMAND [OPTIONS] [ARGS]\n\n"
		"Per-process copy-on-write statistics: cowstat.ko counts and classifies COW faults;\n"
		"tree and show also work without it, from /proc/PID/pagemap.\n\ncommands:\n",
		cowstat_prog);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\noptions of every command: -h, --json, --bytes, --pages\n"
		"'%s COMMAND -h' shows the options and examples of a command.\n\n"
		"examples:\n"
		"  sudo %s run -- make -j8\n"
		"  sudo %s tree $(pgrep -o gunicorn)\n"
		"  sudo %s top\n", cowstat_prog, cowstat_prog, cowstat_prog, cowstat_prog);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		print_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		print_usage(stdout);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		optind = 1;
		return commands[i].fn(argc - 1, argv + 1);
	}
	if (argv[1][0] == '-')
		cowstat_usage_error("unknown option '%s' (see '%s -h')", argv[1], cowstat_prog);
	fprintf(stderr, "%s: unknown command '%s' (see '%s -h')\n", cowstat_prog, argv[1],
		cowstat_prog);
	return 2;
}
