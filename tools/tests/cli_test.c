// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of the cowstat command's behaviour that need no module: usage errors and the
 * one-line explanation when the module is absent. $COWSTAT (default tools/cowstat) is the binary.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include <cowstat.h>

struct result {
	int status;		/* exit status, or -1 if killed by a signal */
	char out[4096];
	char err[4096];
};

static void drain(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	buf[len] = '\0';
}

/* Run the tool with the given arguments, capturing stdout and stderr. */
static void run(struct result *r, char *const argv[])
{
	const char *tool = getenv("COWSTAT") ? : "tools/cowstat";
	int po[2], pe[2], st;
	pid_t pid;

	if (pipe(po) || pipe(pe))
		abort();
	pid = fork();
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		execv(tool, argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	drain(po[0], r->out, sizeof(r->out));
	drain(pe[0], r->err, sizeof(r->err));
	close(po[0]);
	close(pe[0]);
	waitpid(pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

TEST(no_command_is_usage_error)
{
	struct result r;

	run(&r, (char *const[]){ "cowstat", NULL });
	EXPECT_EQ(2, r.status);
	EXPECT_NE(NULL, strstr(r.err, "usage:"));
}

TEST(unknown_command_one_line)
{
	struct result r;

	run(&r, (char *const[]){ "cowstat", "frobnicate", NULL });
	EXPECT_EQ(2, r.status);
	EXPECT_EQ(1, lines(r.err));
	EXPECT_NE(NULL, strstr(r.err, "unknown command 'frobnicate'"));
}

TEST(help_exits_zero_with_examples)
{
	struct result r;

	run(&r, (char *const[]){ "cowstat", "-h", NULL });
	EXPECT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "examples:"));
	EXPECT_STREQ("", r.err);
}

/* This machine cannot load modules, so the module is absent: one line, exit 1. */
TEST(version_without_module)
{
	struct result r;
	struct stat st;

	if (stat(COWSTAT_DEBUGFS_DIR, &st) == 0)
		SKIP(return, "cowstat module is loaded here");
	run(&r, (char *const[]){ "cowstat", "version", NULL });
	EXPECT_EQ(1, r.status);
	EXPECT_EQ(1, lines(r.err)) TH_LOG("stderr: %s", r.err);
	if (geteuid() == 0) {
		EXPECT_NE(NULL, strstr(r.err, "module not loaded"));
	} else {
		EXPECT_NE(NULL, strstr(r.err, "root"));
	}
	EXPECT_NE(NULL, strstr(r.out, "cowstat tool " COWSTAT_VERSION));
}

TEST_HARNESS_MAIN
