// SPDX-License-Identifier: GPL-2.0
/*
 * A process that exits while cowstat reads it: show and tree must say so in one line on stderr
 * and exit 1 (or, for a descendant that exits, show it as exited and exit 0), never crash.
 *
 * The race is provoked, not simulated: the tool runs under ptrace, and when it enters the
 * open of a chosen file (the victim's /proc/PID/stat, maps or pagemap, or the module's
 * snapshot file), the test kills the victim and waits until it is reaped, or until it is a
 * zombie (exited, memory gone, /proc/PID still there), before letting the open go on. So the
 * tool has read the victim alive, and its next read finds it gone, every time.
 *
 * Each variant names the subcommand, the sharing backend (COWSTAT_BACKEND; pagemap with or
 * without frames), the file whose open is the moment of the kill, and who dies. The module
 * variants need cowstat.ko loaded (the guest); the pagemap ones run on the host too
 * (host-tests/gone_test.sh). Root is needed for ptrace of a root tool's reads and for
 * kpagecount.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cowstat_test.h"
#include "cowstat_tool.h"

#define VICTIM_PAGES	64

static char tool[PATH_MAX + 32];

static void find_tool(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		abort();
	exe[n] = '\0';
	dirname(exe);
	snprintf(tool, sizeof(tool), "%s/../tools/cowstat", exe);
}

/* The state letter of /proc/PID/stat, or 0 if there is no such process. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	return p && p[1] == ' ' ? p[2] : 0;
}

enum { KILL_ROOT, KILL_CHILD };

FIXTURE(gone) {
	pid_t root, child;		/* the victim family: root and its one child */
	struct cowstat_sync sync;	/* released by the test to end the family */
};

FIXTURE_VARIANT(gone) {
	const char *cmd;	/* "show" or "tree" */
	const char *backend;	/* COWSTAT_BACKEND */
	int noframes;		/* COWSTAT_PAGEMAP_NOFRAMES=1: the non-root method */
	const char *file;	/* the open that is the moment of the kill: "stat", "maps", ... */
	int who;		/* KILL_ROOT or KILL_CHILD */
	int zombie;		/* leave the victim a zombie instead of reaped */
};

/*
 * show and tree of the root, killed at each read that follows the one that found it alive.
 * "stat" with the module: show has read the module's live record, then the process is gone.
 */
#define ROOT_VARIANT(name, c, b, nf, f, z) \
	FIXTURE_VARIANT_ADD(gone, name) { \
		.cmd = c, .backend = b, .noframes = nf, .file = f, .who = KILL_ROOT, \
		.zombie = z, \
	}

ROOT_VARIANT(show_pagemap_maps_reaped, "show", "pagemap", 0, "maps", 0);
ROOT_VARIANT(show_pagemap_maps_zombie, "show", "pagemap", 0, "maps", 1);
ROOT_VARIANT(show_pagemap_pagemap_reaped, "show", "pagemap", 0, "pagemap", 0);
ROOT_VARIANT(show_pagemap_pagemap_zombie, "show", "pagemap", 0, "pagemap", 1);
ROOT_VARIANT(show_noframes_pagemap_reaped, "show", "pagemap", 1, "pagemap", 0);
ROOT_VARIANT(show_noframes_pagemap_zombie, "show", "pagemap", 1, "pagemap", 1);
ROOT_VARIANT(show_module_snapshot_reaped, "show", "module", 0, "snapshot", 0);
ROOT_VARIANT(show_module_snapshot_zombie, "show", "module", 0, "snapshot", 1);
ROOT_VARIANT(show_module_stat_reaped, "show", "module", 0, "stat", 0);
ROOT_VARIANT(show_module_stat_zombie, "show", "module", 0, "stat", 1);
ROOT_VARIANT(tree_pagemap_maps_reaped, "tree", "pagemap", 0, "maps", 0);
ROOT_VARIANT(tree_pagemap_maps_zombie, "tree", "pagemap", 0, "maps", 1);
ROOT_VARIANT(tree_pagemap_pagemap_reaped, "tree", "pagemap", 0, "pagemap", 0);
ROOT_VARIANT(tree_pagemap_pagemap_zombie, "tree", "pagemap", 0, "pagemap", 1);
ROOT_VARIANT(tree_noframes_pagemap_reaped, "tree", "pagemap", 1, "pagemap", 0);
ROOT_VARIANT(tree_noframes_pagemap_zombie, "tree", "pagemap", 1, "pagemap", 1);
ROOT_VARIANT(tree_module_snapshot_reaped, "tree", "module", 0, "snapshot", 0);
ROOT_VARIANT(tree_module_snapshot_zombie, "tree", "module", 0, "snapshot", 1);

/* A descendant that exits while its family is read is shown as exited: not an error. */
#define CHILD_VARIANT(name, b, f, z) \
	FIXTURE_VARIANT_ADD(gone, name) { \
		.cmd = "tree", .backend = b, .file = f, .who = KILL_CHILD, .zombie = z, \
	}

CHILD_VARIANT(tree_child_pagemap_maps_reaped, "pagemap", "maps", 0);
CHILD_VARIANT(tree_child_pagemap_maps_zombie, "pagemap", "maps", 1);
CHILD_VARIANT(tree_child_module_snapshot_reaped, "module", "snapshot", 0);
CHILD_VARIANT(tree_child_module_snapshot_zombie, "module", "snapshot", 1);

/* The victim family: root maps VICTIM_PAGES pages and forks a child; both wait on sync. */
FIXTURE_SETUP(gone)
{
	if (geteuid() != 0)
		SETUP_SKIP("needs root (ptrace of the tool, kpagecount)");
#ifndef __x86_64__
	SETUP_SKIP("the syscall tracing here is written for x86_64");
#endif
	if (!strcmp(variant->backend, "module") && !cowstat_loaded())
		SETUP_SKIP("cowstat module not loaded");
	if (cowstat_loaded())
		ASSERT_EQ(0, cowstat_control("scope all"));
	find_tool();
	ASSERT_EQ(0, access(tool, X_OK)) TH_LOG("%s not built", tool);
	ASSERT_EQ(0, cowstat_sync_init(&self->sync));
	self->root = cowstat_sync_fork(&self->sync);
	ASSERT_LE(0, self->root);
	if (!self->root) {
		char *mem = mmap(NULL, VICTIM_PAGES * PAGE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		pid_t child;
		size_t i;

		if (mem == MAP_FAILED)
			_exit(1);
		for (i = 0; i < VICTIM_PAGES; i++)
			mem[i * PAGE] = 1;
		/* A reaped child must vanish without the root waiting for it. */
		if (!variant->zombie)
			signal(SIGCHLD, SIG_IGN);
		child = fork();
		if (child < 0)
			_exit(1);
		if (child && cowstat_sync_ready(&self->sync, &child, sizeof(child)))
			_exit(1);
		/* Both wait until the test ends them (its release, EOF) or kills them. */
		cowstat_sync_wait_go(&self->sync);
		_exit(0);
	}
	ASSERT_EQ(0, cowstat_sync_wait_ready(&self->sync, &self->child, sizeof(self->child)));
}

FIXTURE_TEARDOWN(gone)
{
	if (self->root <= 0)
		return;
	kill(self->child, SIGKILL);
	kill(self->root, SIGKILL);
	cowstat_sync_release(&self->sync);
	waitpid(self->root, NULL, 0);
	cowstat_sync_close(&self->sync);
}

/* Kill the victim and wait until it is a zombie or reaped, as the variant asks. */
static void kill_victim(struct __test_metadata *_metadata, FIXTURE_DATA(gone) *self,
			const FIXTURE_VARIANT(gone) *variant)
{
	pid_t victim = variant->who == KILL_ROOT ? self->root : self->child;
	siginfo_t si;
	int t;

	ASSERT_EQ(0, kill(victim, SIGKILL));
	if (victim == self->root) {
		if (variant->zombie) {
			ASSERT_EQ(0, waitid(P_PID, victim, &si, WEXITED | WNOWAIT));
		} else {
			ASSERT_EQ(victim, waitpid(victim, NULL, 0));
			self->root = 0;
			kill(self->child, SIGKILL);
		}
		return;
	}
	/* The child is the root's: it stays a zombie, or the root ignores SIGCHLD. */
	for (t = 0; t < 5000; t++) {
		char st = proc_state(victim);

		if (variant->zombie ? st == 'Z' : !st)
			return;
		usleep(1000);
	}
	ASSERT_TRUE(0) TH_LOG("child %d did not %s", victim,
			      variant->zombie ? "become a zombie" : "go away");
}

/* The path the tracee passes to openat (its second argument). */
static int tracee_string(pid_t pid, unsigned long addr, char *buf, size_t size)
{
	struct iovec local = { buf, size - 1 }, remote = { (void *)addr, size - 1 };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	buf[strnlen(buf, n)] = '\0';
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

TEST_F(gone, one_line_and_exit_status)
{
	pid_t victim = variant->who == KILL_ROOT ? self->root : self->child, pid;
	char rootarg[16], want[PATH_MAX];
	FILE *out = tmpfile(), *err = tmpfile();
	struct cowstat_result r;
	int st, hit = 0, lines = 0;
	const char *p;

	if (_metadata->skip)	/* skipped in the set-up, which this harness does not stop at */
		return;
	ASSERT_TRUE(out && err);
	snprintf(rootarg, sizeof(rootarg), "%d", self->root);
	if (!strcmp(variant->file, "snapshot"))
		snprintf(want, sizeof(want), "/cowstat/%s", COWSTAT_FILE_SNAPSHOT);
	else
		snprintf(want, sizeof(want), "/proc/%d/%s", victim, variant->file);
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		dup2(fileno(out), 1);
		dup2(fileno(err), 2);
		setenv("COWSTAT_BACKEND", variant->backend, 1);
		if (variant->noframes)
			setenv("COWSTAT_PAGEMAP_NOFRAMES", "1", 1);
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) || raise(SIGSTOP))
			_exit(125);
		execl(tool, "cowstat", variant->cmd, rootarg, (char *)NULL);
		_exit(126);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFSTOPPED(st));
	ASSERT_EQ(0, ptrace(PTRACE_SETOPTIONS, pid, NULL,
			    PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
	ASSERT_EQ(0, ptrace(PTRACE_SYSCALL, pid, NULL, NULL));
	for (;;) {
		struct __ptrace_syscall_info info;
		int sig = 0;

		ASSERT_EQ(pid, waitpid(pid, &st, 0));
		if (WIFEXITED(st) || WIFSIGNALED(st))
			break;
		if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
			char path[PATH_MAX];

			ASSERT_LT(0, ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info), &info));
			if (!hit && info.op == PTRACE_SYSCALL_INFO_ENTRY &&
			    info.entry.nr == SYS_openat &&
			    !tracee_string(pid, info.entry.args[1], path, sizeof(path)) &&
			    ends_with(path, want)) {
				/* The tool is about to open @want: the victim goes now. */
				kill_victim(_metadata, self, variant);
				hit = 1;
			}
		} else if (WSTOPSIG(st) != SIGTRAP) {
			sig = WSTOPSIG(st);	/* a signal for the tool: deliver it */
		}
		ASSERT_EQ(0, ptrace(PTRACE_SYSCALL, pid, NULL, sig));
	}
	r.status = cowstat_exit_status(st);
	cowstat_slurp(out, r.out, sizeof(r.out));
	cowstat_slurp(err, r.err, sizeof(r.err));
	for (p = r.err; *p; p++)
		lines += *p == '\n';

	ASSERT_TRUE(hit) TH_LOG("the tool never opened %s; stderr: %s", want, r.err);
	if (variant->who == KILL_ROOT) {
		char line[128];

		snprintf(line, sizeof(line), "cowstat: process %d exited while being read\n",
			 self->root ? self->root : victim);
		EXPECT_EQ(1, r.status) TH_LOG("stdout: %s\nstderr: %s", r.out, r.err);
		EXPECT_EQ(1, lines) TH_LOG("stderr: %s", r.err);
		EXPECT_NE(NULL, strstr(r.err, line)) TH_LOG("stderr: %s", r.err);
		EXPECT_STREQ("", r.out);
	} else {
		char row[32];

		/* The child's row says it exited; the rest of the family is measured. */
		snprintf(row, sizeof(row), "\\_ %d  (exited)", victim);
		EXPECT_EQ(0, r.status) TH_LOG("stderr: %s", r.err);
		EXPECT_NE(NULL, strstr(r.out, row)) TH_LOG("stdout: %s", r.out);
		EXPECT_EQ(NULL, strstr(r.err, "exited")) TH_LOG("stderr: %s", r.err);
	}
}

TEST_HARNESS_MAIN
