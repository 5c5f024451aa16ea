// SPDX-License-Identifier: GPL-2.0
/*
 * What every subcommand shares: the global options, the command line (common and per-command
 * options, strict numbers), one-line errors, and the clock. It calls nothing else of the tool,
 * so that every other file may call it.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool.h"

const char *cowstat_prog = "cowstat";
struct cowstat_opts cowstat_opts;

/* The one line of an error, after whatever the command printed on stdout. */
static void say(const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s: ", cowstat_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cowstat_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
	exit(1);
}

void cowstat_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
	exit(2);
}

enum { OPT_JSON = 256, OPT_BYTES, OPT_PAGES };

#define COMMON_OPTS	4
#define MAX_OPTS	16

int cowstat_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
		   void (*help)(FILE *f))
{
	static const struct option common[COMMON_OPTS] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "bytes", no_argument, NULL, OPT_BYTES },
		{ "pages", no_argument, NULL, OPT_PAGES },
	};
	static struct option opts[MAX_OPTS + 1];
	int in_order = shortopts[0] == '+';
	char so[64];
	size_t n = 0;
	int c;

	memcpy(opts, common, sizeof(common));
	for (n = COMMON_OPTS; longopts && longopts[n - COMMON_OPTS].name && n < MAX_OPTS; n++)
		opts[n] = longopts[n - COMMON_OPTS];
	memset(&opts[n], 0, sizeof(opts[n]));
	/* A command run by the subcommand (after its options) keeps its own options. */
	snprintf(so, sizeof(so), "%sh%s", in_order ? "+" : "", shortopts + in_order);
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
