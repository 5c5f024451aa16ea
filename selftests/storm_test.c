// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat selftest: storms. The module loaded and unloaded 100 times while processes fork and
 * break COW without pause, and a scoped tree of 10,000 short-lived processes; afterwards no
 * count is lost or doubled: the per-process rows add up to the totals, each process's own
 * writes are counted exactly, and no row of a process that exited stays live.
 *
 * Runs with the module loaded (as the other selftests) and reloads it itself, from
 * $COWSTAT_KO; it leaves it loaded with its default parameters.
 *
 * On a kernel whose time limits are scaled (COWSTAT_TIME_SCALE, the debug kernel) both storms
 * are that many times smaller, so that they take about as long: under KASAN and lockdep in
 * the emulator a fork and exit costs about ten times as much, and 100 loads and unloads
 * under the storm took 596 s. Every count stays exact.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cowstat_test.h"

/* The module again, with @params: 0 or -1. */
static int reload(const char *ko, const char *params)
{
	return cowstat_unload() || cowstat_load(ko, params) ? -1 : 0;
}

FIXTURE(storm) {
	const char *ko;
};

FIXTURE_SETUP(storm)
{
	if (geteuid() != 0)
		SETUP_SKIP("needs root to load modules");
	self->ko = getenv("COWSTAT_KO");
	if (!self->ko)
		SETUP_SKIP("COWSTAT_KO (path of cowstat.ko to test) not set");
	if (!cowstat_loaded())
		SETUP_SKIP("cowstat not loaded");
}

/* Whatever happened, the module is loaded again with its defaults for the next tests. */
FIXTURE_TEARDOWN(storm)
{
	if (cowstat_loaded())
		cowstat_unload();
	cowstat_load(self->ko, "");
}

#define STORM_PAGES	64

/* @n, or @n / COWSTAT_TIME_SCALE on a slow kernel. */
static int storm_size(int n)
{
	return n / (int)cowstat_time_scale();
}

/* Fork a child that rewrites STORM_PAGES COW-shared pages and exits, until *stop. */
static void storm_worker(volatile int *stop)
{
	char *buf = mmap(NULL, STORM_PAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (buf == MAP_FAILED)
		_exit(1);
	memset(buf, 1, STORM_PAGES * PAGE);
	while (!*stop) {
		pid_t c = fork();

		if (c == 0) {
			memset(buf, 2, STORM_PAGES * PAGE);
			_exit(0);
		}
		if (c < 0 || waitpid(c, NULL, 0) != c)
			_exit(1);
	}
	_exit(0);
}

/* A child writes @k pages of a COW-shared buffer it watches: the watch must count k. */
static int exact_copies(struct __test_metadata *_metadata, size_t k)
{
	char *buf = mmap(NULL, k * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	struct cowstat_counts c;
	struct cowstat_sync s;
	int status;
	pid_t child;

	if (buf == MAP_FAILED || cowstat_sync_init(&s) || madvise(buf, k * PAGE, MADV_NOHUGEPAGE))
		return -1;
	memset(buf, 1, k * PAGE);
	child = cowstat_sync_fork(&s);
	if (child == 0) {
		/* Let go by the release once the watch is set: a go byte is never sent. */
		if (cowstat_sync_wait_go(&s))
			_exit(1);
		memset(buf, 2, k * PAGE);
		_exit(0);
	}
	if (child < 0 || cowstat_control("watch %d %p %zu", child, buf, k * PAGE))
		return -1;
	cowstat_sync_release(&s);
	if (waitpid(child, &status, 0) != child || cowstat_watch_read(child, buf, 0, &c, NULL))
		return -1;
	cowstat_sync_close(&s);
	EXPECT_EQ(k, c.c[COWSTAT_COPY]);
	cowstat_control("unwatch %d %p", child, buf);
	munmap(buf, k * PAGE);
	return c.c[COWSTAT_COPY] == k ? 0 : -1;
}

/*
 * 100 loads and unloads while two processes fork children that break COW on 64 pages each,
 * without pause: faults are in flight in every probe at every unload (the kernel log scan
 * fails the run on any splat). Then the module counts exactly again.
 */
TEST_F_TIMEOUT(storm, load_unload_under_fork_storm, 600)
{
	const int cycles = storm_size(100), nw = 2;
	struct timespec t0, t1;
	pid_t w[2];
	volatile int *stop;
	int i, status;

	stop = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, stop);
	*stop = 0;
	for (i = 0; i < nw; i++) {
		w[i] = fork();
		ASSERT_LE(0, w[i]);
		if (w[i] == 0)
			storm_worker(stop);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < cycles; i++) {
		char sum[4096];

		ASSERT_EQ(0, cowstat_unload()) TH_LOG("cycle %d: unload: %s", i, strerror(errno));
		ASSERT_EQ(0, cowstat_load(self->ko, "")) TH_LOG("cycle %d: load: %s", i, strerror(errno));
		/* Something to read while the storm goes on. */
		ASSERT_EQ(0, cowstat_read_file(COWSTAT_FILE_SUMMARY, sum, sizeof(sum)));
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TH_LOG("%d loads and unloads in %.1f s", cycles,
	       t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	*stop = 1;
	for (i = 0; i < nw; i++) {
		ASSERT_EQ(w[i], waitpid(w[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	EXPECT_EQ(0, exact_copies(_metadata, 64));
}

/* One line of procs or regions, as far as the storm needs it. */
struct row {
	int pid, ppid;
	char state[16], region[16];
	unsigned long long start_ns;
	unsigned long c[COWSTAT_NR_CLASSES];
};

/* Parse @file (procs or regions) into rows; their number, or -1. */
static int read_rows(const char *file, struct row *rows, int max, char *buf, size_t size)
{
	char *line, *save;
	int n = 0;

	if (cowstat_read_file(file, buf, size))
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct row r = { 0 };
		int off, k, i;

		/* The version line, then the column names. */
		if (line[0] == '#' || !strncmp(line, "pid ", 4))
			continue;
		if (!strcmp(file, COWSTAT_FILE_PROCS)) {
			char comm[64];
			unsigned long long fork_ns, exit_ns;

			if (sscanf(line, "%d %d %63s %15s %llu %llu %llu%n", &r.pid, &r.ppid, comm,
				   r.state, &r.start_ns, &fork_ns, &exit_ns, &off) != 7)
				return -1;
		} else if (sscanf(line, "%d %llu %15s%n", &r.pid, &r.start_ns, r.region, &off) != 3) {
			return -1;
		}
		for (i = 0; i < COWSTAT_NR_CLASSES; i++) {
			if (sscanf(line + off, " %lu%n", &r.c[i], &k) != 1)
				return -1;
			off += k;
		}
		if (n >= max)
			return -1;
		rows[n++] = r;
	}
	return n;
}

#define TREE_PROCS	storm_size(10000)
#define TREE_PAGES	4

/*
 * The root of the tree: a first child that writes nothing of its own and exits, then @n
 * children one after the other, each rewriting TREE_PAGES pages of the root's anonymous
 * mapping and exiting: every other child copies exactly TREE_PAGES more than the first in
 * the region "anon". What a child writes besides must not depend on timing: glibc's fork()
 * writes its thread control block (in memory ld.so mapped, "anon"), in the child or in the
 * parent first, whichever runs first, and so does the kernel for rseq. So the root forks
 * with the raw system calls, which write nothing but the stack, with rseq unregistered.
 */
static void tree_root(struct cowstat_sync *s, size_t n)
{
	char *buf = mmap(NULL, TREE_PAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (buf == MAP_FAILED || madvise(buf, TREE_PAGES * PAGE, MADV_NOHUGEPAGE) ||
	    cowstat_rseq_unregister())
		_exit(1);
	memset(buf, 1, TREE_PAGES * PAGE);
	/* Let go by the release once the scope is set: a go byte is never sent. */
	if (cowstat_sync_wait_go(s))
		_exit(1);
	for (size_t i = 0; i <= n; i++) {
		long c = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);

		if (c == 0) {
			for (size_t p = 0; i && p < TREE_PAGES; p++)
				((volatile char *)buf)[p * PAGE] = 2;
			syscall(SYS_exit_group, 0);
		}
		if (c < 0 || syscall(SYS_wait4, c, NULL, 0, NULL) != c)
			_exit(1);
	}
	_exit(0);
}

/* Order of rows by (pid, start_ns), for bsearch. */
static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

/*
 * A scope on a tree of 10,000 short-lived processes (max_exited raised so that none is
 * dropped): every child has an exited row with exactly TREE_PAGES copies in "anon" more than
 * the first child (which writes nothing), no row of the tree stays live, and all rows add up to the totals, class by class (outside the
 * scope nothing is counted once it is set, so both are still when they are read).
 */
TEST_F_TIMEOUT(storm, ten_thousand_processes, 900)
{
	const int max = (TREE_PROCS + 256) * COWSTAT_NR_REGIONS;
	unsigned long totals[COWSTAT_NR_CLASSES] = { 0 }, sum[COWSTAT_NR_CLASSES] = { 0 };
	static const char *const names[] = COWSTAT_CLASS_NAMES;
	int status, n, nk = 0, i, c, exact = 0, tree = 0, first = 0;
	unsigned long base = 0;
	struct cowstat_sync s;
	struct row *r;
	struct timespec t0, t1;
	struct row *rows = calloc(max, sizeof(*rows));
	struct row *kids = calloc(max, sizeof(*kids));
	size_t size = 64 << 20;
	char *buf = malloc(size);
	pid_t root;

	ASSERT_NE(NULL, rows);
	ASSERT_NE(NULL, kids);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, reload(self->ko, "max_exited=16384")) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, cowstat_sync_init(&s));
	root = cowstat_sync_fork(&s);
	ASSERT_LE(0, root);
	if (root == 0)
		tree_root(&s, TREE_PROCS);
	ASSERT_EQ(0, cowstat_control("scope %d", root));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cowstat_sync_release(&s);
	ASSERT_EQ(root, waitpid(root, &status, 0));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cowstat_sync_close(&s);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	TH_LOG("%d processes forked and exited in %.1f s", TREE_PROCS + 1,
	       t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9);

	EXPECT_EQ(0, cowstat_summary_value("procs_dropped"));
	EXPECT_EQ(0, cowstat_summary_value("procs_nomem"));
	EXPECT_EQ(0, cowstat_summary_value("faults_unattributed"));
	for (c = 0; c < COWSTAT_NR_CLASSES; c++)
		totals[c] = cowstat_summary_value(names[c]);

	n = read_rows(COWSTAT_FILE_PROCS, rows, max, buf, size);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++) {
		for (c = 0; c < COWSTAT_NR_CLASSES; c++)
			sum[c] += rows[i].c[c];
		if (rows[i].pid != root && rows[i].ppid != root)
			continue;
		tree++;
		EXPECT_STREQ("exited", rows[i].state) TH_LOG("pid %d", rows[i].pid);
		if (rows[i].ppid == root) {
			/* Rows come in order of start time: the first child is the first. */
			if (!nk)
				first = rows[i].pid;
			kids[nk++] = rows[i];
		}
	}
	EXPECT_EQ(TREE_PROCS + 2, tree);
	EXPECT_EQ(TREE_PROCS + 1, nk);
	for (c = 0; c < COWSTAT_NR_CLASSES; c++)
		EXPECT_EQ(totals[c], sum[c]) TH_LOG("class %d", c);

	qsort(kids, nk, sizeof(*kids), row_cmp);
	n = read_rows(COWSTAT_FILE_REGIONS, rows, max, buf, size);
	ASSERT_LT(0, n) TH_LOG("regions unreadable");
	for (i = 0; i < n; i++)
		if (rows[i].pid == first && !strcmp(rows[i].region, "anon"))
			base = rows[i].c[COWSTAT_COPY];
	for (i = 0; i < n; i++) {
		if (strcmp(rows[i].region, "anon") || rows[i].pid == first)
			continue;
		r = bsearch(&rows[i], kids, nk, sizeof(*kids), row_cmp);
		if (r)
			exact += rows[i].c[COWSTAT_COPY] == base + TREE_PAGES;
	}
	TH_LOG("fork() itself copies %lu pages in \"anon\"", base);
	EXPECT_EQ(TREE_PROCS, exact);

	EXPECT_EQ(0, cowstat_control("scope all"));
	free(kids);
	free(rows);
	free(buf);
}

TEST_HARNESS_MAIN
