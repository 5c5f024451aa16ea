// SPDX-License-Identifier: GPL-2.0
/*
 * The process table's bounds and the module's life under load:
 *  - exited processes beyond max_exited are dropped oldest first, and counted;
 *  - unloading and reloading while other processes fork and break COW in a loop is safe
 *    (the kernel log scan after the run catches any splat).
 *
 * Reloads the module ($COWSTAT_KO) with parameters; leaves it loaded with defaults.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cowstat_test.h"

FIXTURE(table) {
	const char *ko;
};

FIXTURE_SETUP(table)
{
	if (geteuid() != 0)
		SETUP_SKIP("needs root to load modules");
	self->ko = getenv("COWSTAT_KO");
	if (!self->ko)
		SETUP_SKIP("COWSTAT_KO (path of cowstat.ko) not set");
	if (!cowstat_loaded())
		SETUP_SKIP("cowstat module not loaded");
}

FIXTURE_TEARDOWN(table)
{
	if (!self->ko)
		return;
	if (cowstat_loaded())
		cowstat_unload();
	cowstat_load(self->ko, "");
}

/* Children that exit: with max_exited=4 only the 4 newest stay, the rest count as dropped. */
TEST_F(table, exited_records_bounded_oldest_dropped)
{
	enum { N = 10, KEEP = 4 };
	struct cowstat_proc_line l;
	pid_t pids[N];
	int i;

	ASSERT_EQ(0, cowstat_unload());
	ASSERT_EQ(0, cowstat_load(self->ko, "max_exited=4")) TH_LOG("load: %s", strerror(errno));
	for (i = 0; i < N; i++) {
		pids[i] = fork();
		if (!pids[i])
			_exit(0);
		ASSERT_LT(0, pids[i]);
		waitpid(pids[i], NULL, 0);
	}
	for (i = 0; i < N - KEEP; i++)
		EXPECT_EQ(0, cowstat_procs_read(pids[i], &l, 1)) TH_LOG("child %d kept", i);
	for (i = N - KEEP; i < N; i++) {
		ASSERT_EQ(1, cowstat_procs_read(pids[i], &l, 1)) TH_LOG("child %d lost", i);
		EXPECT_STREQ("exited", l.state);
	}
	EXPECT_EQ(KEEP, cowstat_summary_value("procs_exited"));
	/* Other processes of the guest may exit meanwhile: at least our 6 were dropped. */
	EXPECT_LE(N - KEEP, cowstat_summary_value("procs_dropped"));
}

/* Bad module parameters are refused at load time. */
TEST_F(table, bad_parameters_refused)
{
	ASSERT_EQ(0, cowstat_unload());
	EXPECT_EQ(-1, cowstat_load(self->ko, "maxactive=0"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, cowstat_load(self->ko, "maxactive=100000"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_FALSE(cowstat_loaded());
}

/* Fork, break COW, exit, forever: faults in flight at every moment. */
static void churn(void)
{
	const size_t n = 64;
	char *buf = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);

	if (buf == MAP_FAILED)
		_exit(1);
	for (;;) {
		pid_t p;

		memset(buf, 1, n * PAGE);
		p = fork();
		if (!p) {
			memset(buf, 2, n * PAGE);
			_exit(0);
		}
		memset(buf, 3, n * PAGE / 2);
		waitpid(p, NULL, 0);
	}
}

TEST_F(table, unload_reload_under_fault_load)
{
	enum { CYCLES = 8, CHURNERS = 2 };
	pid_t churners[CHURNERS];
	int i;

	for (i = 0; i < CHURNERS; i++) {
		churners[i] = fork();
		if (!churners[i])
			churn();
		ASSERT_LT(0, churners[i]);
	}
	usleep(200000 * cowstat_time_scale());
	for (i = 0; i < CYCLES; i++) {
		ASSERT_EQ(0, cowstat_unload()) TH_LOG("cycle %d: unload: %s", i, strerror(errno));
		ASSERT_EQ(0, cowstat_load(self->ko, "")) TH_LOG("cycle %d: load: %s", i, strerror(errno));
		usleep(100000 * cowstat_time_scale());
		/* The reloaded module counts the churn from scratch. */
		EXPECT_LT(0, cowstat_summary_value("copy")) TH_LOG("cycle %d: nothing counted", i);
	}
	for (i = 0; i < CHURNERS; i++) {
		kill(churners[i], SIGKILL);
		waitpid(churners[i], NULL, 0);
	}
	EXPECT_EQ(0, cowstat_summary_value("missed_do_wp_page"));
}

TEST_HARNESS_MAIN
