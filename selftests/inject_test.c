// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat selftest: the module's allocations fail, one at a time, and nothing goes wrong.
 *
 * Fault injection (Documentation/fault-injection/fault-injection.rst): failslab fails slab
 * allocations, fail_page_alloc page allocations (vmalloc's, under kvmalloc), and
 * /proc/thread-self/fail-nth N makes the N-th allocation of this thread that could fail the
 * one that fails. The stack-trace filter (require-start/require-end) limits both to calls
 * made from the module's code, so the kernel's own allocations in the same system call are
 * left alone and N walks through the module's allocations only. Every failure must give the
 * caller a clear error (ENOMEM) or be counted (procs_nomem, faults_unattributed), leave no
 * half-made state, and the next request must give the same answer as before; kmemleak, on
 * the debug kernel, then finds nothing leaked (scripts/guest-run.sh).
 *
 * Needs CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS and
 * CONFIG_FAULT_INJECTION_STACKTRACE_FILTER: the debug kernel of "make test-debug" has them,
 * Debian's kernels do not (the tests skip there, saying so).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cowstat_test.h"

#define FI_DIR		"/sys/kernel/debug"
#define FAIL_NTH	"/proc/thread-self/fail-nth"

static const char *const fi_points[] = { "failslab", "fail_page_alloc" };

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -1;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		ret = -1;
	close(fd);
	return ret;
}

static int fi_set(const char *point, const char *attr, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s/%s", FI_DIR, point, attr);
	return write_str(path, value);
}

/* This thread's remaining fail-nth count: 0 once the failure happened. */
static long fail_nth_left(void)
{
	char buf[32] = "";
	int fd = open(FAIL_NTH, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

static int fail_nth(long n)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", n);
	return write_str(FAIL_NTH, buf);
}

/* The module's memory, [start, end), from /proc/modules (root sees the address). */
static int module_range(unsigned long *start, unsigned long *end)
{
	char line[256], name[64];
	unsigned long size, addr;
	FILE *f = fopen("/proc/modules", "re");
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %lu %*d %*s %*s %lx", name, &size, &addr) == 3 &&
		    !strcmp(name, "cowstat") && addr) {
			*start = addr;
			*end = addr + size;
			ret = 0;
		}
	}
	fclose(f);
	return ret;
}

FIXTURE(inject) {
	char *ref, *rep;
};

/*
 * Aim both fail points at the module: only fail-nth triggers them (probability stays 0),
 * allocations that may sleep count too (ignore-gfp-wait N), pages of any order
 * (min-order 0), and nothing is printed (a forced failure's stack dump would read as a
 * splat to the kernel-log scan).
 */
FIXTURE_SETUP(inject)
{
	char start[32], end[32], path[128];
	unsigned long s = 0, e = 0;
	unsigned int i;

	self->ref = malloc(1 << 20);
	self->rep = malloc(1 << 20);
	ASSERT_NE(NULL, self->ref);
	ASSERT_NE(NULL, self->rep);
	if (geteuid() != 0)
		SETUP_SKIP("needs root (debugfs)");
	if (!cowstat_loaded())
		SETUP_SKIP("cowstat not loaded");
	snprintf(path, sizeof(path), "%s/failslab/require-start", FI_DIR);
	if (access(path, W_OK) || access(FI_DIR "/fail_page_alloc/require-start", W_OK) ||
	    access(FAIL_NTH, W_OK))
		SETUP_SKIP("no fault injection on this kernel (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, "
			   "CONFIG_FAULT_INJECTION_STACKTRACE_FILTER): make test-debug runs these");
	ASSERT_EQ(0, module_range(&s, &e));
	snprintf(start, sizeof(start), "%lu", s);
	snprintf(end, sizeof(end), "%lu", e);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, fi_set(fi_points[i], "probability", "0"));
		ASSERT_EQ(0, fi_set(fi_points[i], "verbose", "0"));
		ASSERT_EQ(0, fi_set(fi_points[i], "task-filter", "N"));
		ASSERT_EQ(0, fi_set(fi_points[i], "ignore-gfp-wait", "N"));
		ASSERT_EQ(0, fi_set(fi_points[i], "require-start", start));
		ASSERT_EQ(0, fi_set(fi_points[i], "require-end", end));
	}
	ASSERT_EQ(0, fi_set("fail_page_alloc", "min-order", "0"));
	ASSERT_EQ(0, fi_set("fail_page_alloc", "ignore-gfp-highmem", "N"));
}

/* Back to the kernel's defaults. */
FIXTURE_TEARDOWN(inject)
{
	unsigned int i;

	fail_nth(0);
	for (i = 0; i < 2; i++) {
		fi_set(fi_points[i], "require-start", "0");
		fi_set(fi_points[i], "require-end", "18446744073709551615");
		fi_set(fi_points[i], "ignore-gfp-wait", "Y");
		fi_set(fi_points[i], "verbose", "2");
	}
	fi_set("fail_page_alloc", "min-order", "1");
	fi_set("fail_page_alloc", "ignore-gfp-highmem", "Y");
	free(self->ref);
	free(self->rep);
}

/*
 * The lines of a snapshot report about the family as a whole: what its members map, share
 * among themselves and save. (A member's split between pages only members map and pages
 * other processes map too moves whenever this process writes a page it still shares with
 * them: errno after a failed write does.)
 */
static void report_counts(const char *rep, char *out, size_t size)
{
	const char *p = rep;
	size_t len = 0;

	out[0] = '\0';
	while (*p) {
		const char *nl = strchrnul(p, '\n');

		if ((!strncmp(p, "family ", 7) || !strncmp(p, "matrix ", 7)) &&
		    len + (nl - p) + 2 < size) {
			memcpy(out + len, p, nl - p);
			len += nl - p;
			out[len++] = '\n';
			out[len] = '\0';
		}
		p = *nl ? nl + 1 : nl;
	}
}

/*
 * A frozen family: a root with 64 written pages and a child that rewrote 16 of them, both
 * holding until @s is released; the family is frozen once both have said they are ready
 * (the root, once it forked the child; the child, once it rewrote its pages).
 */
static pid_t family_start(struct cowstat_sync *s)
{
	pid_t root;

	if (cowstat_sync_init(s))
		return -1;
	root = cowstat_sync_fork(s);
	if (root == 0) {
		char *buf = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (buf == MAP_FAILED)
			_exit(1);
		memset(buf, 1, 64 * PAGE);
		if (fork() == 0) {
			memset(buf, 2, 16 * PAGE);
			if (cowstat_sync_ready(s, "c", 1))
				_exit(1);
			cowstat_sync_hold(s);
			_exit(0);
		}
		if (cowstat_sync_ready(s, "r", 1))
			_exit(1);
		cowstat_sync_hold(s);
		wait(NULL);
		_exit(0);
	}
	if (root < 0 || cowstat_sync_wait_ready(s, NULL, 0) || cowstat_sync_wait_ready(s, NULL, 0))
		root = -1;
	return root;
}

/*
 * The N-th allocation of a snapshot fails, for every N until the snapshot makes fewer (the
 * first ones one by one, then in growing steps: vmalloc'ed arrays allocate page by page).
 * Each failure is ENOMEM, or a snapshot that took another way (the radix sort falls back to
 * sort()) with the same answer; and the snapshot after it gives the same answer as before.
 */
TEST_F_TIMEOUT(inject, snapshot_allocations_fail, 300)
{
	static char ref_counts[1 << 16], counts[1 << 16];
	int status, fd, failed = 0, same = 0;
	struct cowstat_sync s;
	char cmd[32];
	long n, left;
	pid_t root;

	root = family_start(&s);
	ASSERT_LT(0, root);
	snprintf(cmd, sizeof(cmd), "tree %d", root);
	ASSERT_EQ(0, cowstat_snapshot(cmd, self->ref, 1 << 20));
	report_counts(self->ref, ref_counts, sizeof(ref_counts));
	ASSERT_NE(NULL, strstr(ref_counts, "family ")) TH_LOG("%s", self->ref);

	for (n = 1; n < 100000; n += n < 40 ? 1 : n / 4) {
		char path[128];
		ssize_t w;
		int err;

		snprintf(path, sizeof(path), "%s/%s", COWSTAT_DEBUGFS_DIR, COWSTAT_FILE_SNAPSHOT);
		fd = open(path, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, fail_nth(n));
		w = write(fd, cmd, strlen(cmd));
		err = errno;
		left = fail_nth_left();
		ASSERT_EQ(0, fail_nth(0));
		close(fd);
		if (left > 0) {
			/* Fewer than n allocations: the snapshot is done, and right. */
			ASSERT_EQ((ssize_t)strlen(cmd), w);
			break;
		}
		if (w < 0) {
			EXPECT_EQ(ENOMEM, err) TH_LOG("allocation %ld: %s", n, strerror(err));
			failed++;
		} else {
			same++;
		}
		ASSERT_EQ(0, cowstat_snapshot(cmd, self->rep, 1 << 20));
		report_counts(self->rep, counts, sizeof(counts));
		ASSERT_STREQ(ref_counts, counts) TH_LOG("after allocation %ld failed", n);
	}
	TH_LOG("allocations failed one at a time: %d gave ENOMEM, %d took another way, %ld in all",
	       failed, same, n - 1);
	EXPECT_LT(0, failed);
	cowstat_sync_release(&s);
	ASSERT_EQ(root, waitpid(root, &status, 0));
	cowstat_sync_close(&s);
}

/* A watch whose allocation fails is not registered, and says ENOMEM. */
TEST_F(inject, watch_allocation_fails)
{
	char *buf = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	static char before[1 << 16], after[1 << 16];
	char cmd[96];
	int ret;

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, cowstat_read_file(COWSTAT_FILE_WATCHES, before, sizeof(before)));
	snprintf(cmd, sizeof(cmd), "watch %d %p %lu", getpid(), buf, 4 * PAGE);
	ASSERT_EQ(0, fail_nth(1));
	ret = cowstat_control_raw(cmd, strlen(cmd));
	EXPECT_EQ(0, fail_nth_left());
	ASSERT_EQ(0, fail_nth(0));
	EXPECT_EQ(-ENOMEM, ret);
	ASSERT_EQ(0, cowstat_read_file(COWSTAT_FILE_WATCHES, after, sizeof(after)));
	EXPECT_STREQ(before, after);
	EXPECT_EQ(0, cowstat_control("%s", cmd));
	EXPECT_EQ(0, cowstat_control("unwatch %d %p", getpid(), buf));
	munmap(buf, 4 * PAGE);
}

/* A child that touches no private memory: it runs on a shared stack and only waits. */
static int still_child(void *arg)
{
	for (;;)
		syscall(SYS_pause);
	return 0;
}

/*
 * Records are allocated where they cannot wait (GFP_NOWAIT): at fork, in the parent, and at
 * a process's first counted fault, in whichever task faults. Both fail here, for a child
 * that never faults itself (clone() onto a shared stack; rseq, whose area the kernel writes
 * on the way back to user space, is unregistered first): its record at fork, then at its first
 * COW fault, which this process causes with process_vm_writev() and so allocates in its own
 * thread. That fault is counted in the totals as unattributed; the record comes with the
 * next one, and every other count is exact.
 */
TEST_F(inject, record_allocations_fail_counted)
{
	const size_t k = 32, stack_size = 64 * 1024;
	unsigned long nomem, unattr, copies;
	struct cowstat_proc_line l;
	struct iovec local, remote;
	char *buf, *src, *stack;
	int status;
	pid_t child;

	buf = mmap(NULL, k * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	src = malloc(k * PAGE);
	stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_NE(NULL, src);
	ASSERT_NE(MAP_FAILED, stack);
	ASSERT_EQ(0, madvise(buf, k * PAGE, MADV_NOHUGEPAGE));
	memset(buf, 1, k * PAGE);
	memset(src, 2, k * PAGE);
	memset(stack, 0, stack_size);
	if (cowstat_rseq_unregister())
		SKIP(return, "cannot unregister rseq: %s", strerror(errno));

	nomem = cowstat_summary_value("procs_nomem");
	unattr = cowstat_summary_value("faults_unattributed");
	copies = cowstat_summary_value("copy");
	ASSERT_EQ(0, fail_nth(1));
	child = clone(still_child, stack + stack_size, SIGCHLD, NULL);
	EXPECT_EQ(0, fail_nth_left()) TH_LOG("no record allocation at fork");
	ASSERT_EQ(0, fail_nth(0));
	ASSERT_LT(0, child);
	EXPECT_EQ(0, cowstat_procs_read(child, &l, 1)) TH_LOG("the child has a record");

	local = (struct iovec){ src, k * PAGE };
	remote = (struct iovec){ buf, k * PAGE };
	ASSERT_EQ(0, fail_nth(1));
	EXPECT_EQ((ssize_t)(k * PAGE), process_vm_writev(child, &local, 1, &remote, 1, 0));
	EXPECT_EQ(0, fail_nth_left()) TH_LOG("the first fault allocated nothing");
	ASSERT_EQ(0, fail_nth(0));

	EXPECT_EQ(2, cowstat_summary_value("procs_nomem") - nomem);
	EXPECT_EQ(1, cowstat_summary_value("faults_unattributed") - unattr);
	EXPECT_LE(k, cowstat_summary_value("copy") - copies);
	ASSERT_EQ(1, cowstat_procs_read(child, &l, 1));
	EXPECT_EQ(k - 1, l.counts.c[COWSTAT_COPY]);
	kill(child, SIGKILL);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	munmap(stack, stack_size);
	munmap(buf, k * PAGE);
	free(src);
}

TEST_HARNESS_MAIN
