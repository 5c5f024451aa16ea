/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared by the files of the cowstat command: global options, one-line errors,
 * the command line (cli.c), and the subcommands. Each subcommand lives in its own file (run.c,
 * top.c, tree.c, show.c, ps.c, trace.c, version.c); main.c holds the table that dispatches to
 * them.
 */
#ifndef _COWSTAT_TOOL_H
#define _COWSTAT_TOOL_H

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdnoreturn.h>

extern const char *cowstat_prog;

/* How sizes are printed in plain output. JSON always gives pages (and "page_size"). */
enum cowstat_unit {
	COWSTAT_UNIT_HUMAN,	/* "12 (48K)": pages, then bytes in binary units */
	COWSTAT_UNIT_PAGES,
	COWSTAT_UNIT_BYTES,
};

struct cowstat_opts {
	int json;
	enum cowstat_unit unit;
};

extern struct cowstat_opts cowstat_opts;

/* One line on stderr, "cowstat: ...", and exit status 1. */
noreturn __printf(1, 2) void cowstat_fatal(const char *fmt, ...);
/* One line on stderr and exit status 2 (usage errors). */
noreturn __printf(1, 2) void cowstat_usage_error(const char *fmt, ...);

/*
 * Parse the options common to every subcommand (-h/--help, --json, --bytes, --pages) mixed
 * with the subcommand's own: shortopts and longopts (NULL-terminated, or NULL). Options and
 * operands may come in any order, except after "--", or when shortopts starts with '+' (run
 * and trace, whose operands are a command with options of its own): then the first operand
 * ends the options. Returns the getopt character, as getopt_long() does.
 */
int cowstat_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
		   void (*help)(FILE *f));

/* Strict decimal numbers for options and arguments; usage error when malformed. */
long cowstat_arg_long(const char *what, const char *s, long min, long max);
int cowstat_arg_pid(const char *s);

/* CLOCK_MONOTONIC in nanoseconds (the clock of the module's times and of trace events). */
unsigned long long cowstat_now_ns(void);

int cowstat_cmd_run(int argc, char **argv);
int cowstat_cmd_top(int argc, char **argv);
int cowstat_cmd_tree(int argc, char **argv);
int cowstat_cmd_show(int argc, char **argv);
int cowstat_cmd_ps(int argc, char **argv);
int cowstat_cmd_version(int argc, char **argv);
int cowstat_cmd_trace(int argc, char **argv);
int cowstat_cmd_export(int argc, char **argv);

#endif /* _COWSTAT_TOOL_H */
