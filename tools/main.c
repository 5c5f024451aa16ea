// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: the command people run. It reads the files of cowstat.ko under
 * /sys/kernel/debug/cowstat/ (include/cowstat.h, Documentation/cowstat.rst), and measures
 * sharing from /proc/PID/pagemap where the module is not needed. Documentation/usage.rst and
 * cowstat(8) describe every subcommand and the JSON keys.
 *
 * Errors are one line on stderr and exit status 1; usage errors exit 2.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "module.h"
#include "tool.h"

const char *cowstat_prog = "cowstat";
struct cowstat_opts cowstat_opts;

void cowstat_fatal(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", cowstat_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void cowstat_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cowstat_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

enum { OPT_JSON = 256, OPT_BYTES, OPT_PAGES };

int cowstat_getopt(int argc, char **argv, const char *shortopts, void (*help)(FILE *f))
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "bytes", no_argument, NULL, OPT_BYTES },
		{ "pages", no_argument, NULL, OPT_PAGES },
		{ "interval", required_argument, NULL, 'i' },
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "pid", required_argument, NULL, 'p' },
		{ "tree", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	char so[64];
	int c;

	snprintf(so, sizeof(so), "+h%s", shortopts);
	for (;;) {
		c = getopt_long(argc, argv, so, opts, NULL);
		switch (c) {
		case 'h':
			help(stdout);
			exit(0);
		case OPT_JSON:
			cowstat_opts.json = 1;
			continue;
		case OPT_BYTES:
			cowstat_opts.unit = COWSTAT_UNIT_BYTES;
			continue;
		case OPT_PAGES:
			cowstat_opts.unit = COWSTAT_UNIT_PAGES;
			continue;
		case '?':
			help(stderr);
			exit(2);
		default:
			if (c > 0 && c < 256 && !strchr(shortopts, c))
				cowstat_usage_error("option -%c does not apply to '%s'", c,
						    argv[0]);
			return c;
		}
	}
}

long cowstat_arg_long(const char *what, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		cowstat_usage_error("%s: expected a number from %ld to %ld, got '%s'", what, min,
				    max, s);
	return v;
}

int cowstat_arg_pid(const char *s)
{
	return (int)cowstat_arg_long("PID", s, 1, INT_MAX);
}

unsigned long long cowstat_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void version_help(FILE *f)
{
	fprintf(f, "usage: %s version [--json]\n\n"
		"Print the tool's and the loaded module's versions; fails when they differ.\n\n"
		"examples:\n  sudo %s version\n  sudo %s version --json\n", cowstat_prog,
		cowstat_prog, cowstat_prog);
}

/* The JSON document of version; module is NULL when it cannot be read. */
static void version_json(const char *modver, long ifver)
{
	struct cowstat_json j;

	cowstat_json_init(&j, stdout);
	cowstat_json_open(&j, NULL, '{');
	cowstat_json_str(&j, "tool_version", COWSTAT_VERSION);
	cowstat_json_i64(&j, "interface_version", COWSTAT_IF_VERSION);
	if (modver) {
		cowstat_json_open(&j, "module", '{');
		cowstat_json_str(&j, "version", modver);
		cowstat_json_i64(&j, "interface_version", ifver);
		cowstat_json_close(&j, '}');
	} else {
		cowstat_json_null(&j, "module");
	}
	cowstat_json_close(&j, '}');
	cowstat_json_end(&j);
}

int cowstat_cmd_version(int argc, char **argv)
{
	char err[COWSTAT_ERR_MAX], modver[64], why[COWSTAT_ERR_MAX];
	const char *fail = NULL;
	char *buf = NULL;
	long ifver = -1;

	if (cowstat_getopt(argc, argv, "", version_help) != -1 || optind != argc)
		cowstat_usage_error("version takes no arguments");
	if (!cowstat_opts.json) {
		printf("cowstat tool %s (interface %d)\n", COWSTAT_VERSION, COWSTAT_IF_VERSION);
		fflush(stdout);
	}
	if (!cowstat_module_usable(why)) {
		fail = why;
	} else if (cowstat_read_file(COWSTAT_FILE_VERSION, &buf, err)) {
		fail = err;
		buf = NULL;
	} else if (cowstat_parse_version(buf, modver, sizeof(modver), &ifver, err)) {
		snprintf(why, sizeof(why), "malformed module output: %.120s", err);
		fail = why;
	}
	free(buf);
	/* The tool's version is printed even when the module's cannot be read. */
	if (cowstat_opts.json)
		version_json(fail ? NULL : modver, ifver);
	if (fail)
		cowstat_fatal("%s", fail);
	if (!cowstat_opts.json)
		printf("cowstat module %s (interface %ld)\n", modver, ifver);
	if (ifver != COWSTAT_IF_VERSION)
		cowstat_fatal("module interface %ld does not match this tool's %d: %s",
			      ifver, COWSTAT_IF_VERSION, "use the tool built with the module");
	return 0;
}

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
	{ "export", cowstat_cmd_export, "serve COW metrics for Prometheus, or write them for node_exporter" },
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
