// SPDX-License-Identifier: GPL-2.0
/*
 * The process table's bounds and the module's life under load:
 *  - exited processes beyond max_exited are dropped oldest first, and counted;
 *  - unloading and reloading while other processes fork and break COW in a loop is safe
 *    (the kernel log scan after the run catches any splat);
 *  - a process that dies while another breaks COW in its memory gets no record that stays
 *    live (the delay module opens that race window).
 *
 * Reloads the module ($COWSTAT_KO) with parameters; leaves it loaded with defaults.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/uio.h>
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

/*
 * A process that writes into another's memory (process_vm_writev(), ptrace, /proc/PID/mem)
 * breaks COW in an mm it does not own: the fault is the owner's, and the owner may be dying.
 * proc_create() checks PF_EXITING, allocates, then inserts; if the owner's last thread passes
 * its exit tracepoint in between, a record inserted after it is never moved to the exited
 * list: live forever, and never trimmed. The delay module holds the writer in that
 * allocation while the owner is killed and reaped, then lets it go on. Afterwards the owner must have no live
 * record, and each of the writer's N copies is counted, as unattributed (no live owner).
 */
TEST_F(table, exit_window_no_live_record)
{
	enum { N = 64 };
	struct cowstat_proc_line l[4];
	char *mem, params[160];
	int status, i, n;
	long long unattributed;
	pid_t t, w;

	mem = mmap(NULL, N * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 1, N * PAGE);
	ASSERT_EQ(0, cowstat_unload());
	/* Forked while the module is out: the owner has no record until a fault makes one. */
	t = fork();
	ASSERT_LE(0, t);
	if (t == 0) {
		pause();
		_exit(0);
	}
	ASSERT_EQ(0, cowstat_load(self->ko, "")) TH_LOG("load: %s", strerror(errno));
	snprintf(params, sizeof(params),
		 "func=kmem_cache_alloc_noprof,kmem_cache_alloc comm=cowstat-gupw caller=proc_create ms=10000");
	if (cowstat_delay_load(params)) {
		kill(t, SIGKILL);
		waitpid(t, &status, 0);
		SKIP(return, "cannot load the delay module (%s): run make test-module", strerror(errno));
	}
	unattributed = cowstat_summary_value("faults_unattributed");
	w = fork();
	ASSERT_LE(0, w);
	if (w == 0) {
		char *src = mmap(NULL, N * PAGE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		struct iovec local = { src, N * PAGE }, remote = { mem, N * PAGE };

		if (src == MAP_FAILED || prctl(PR_SET_NAME, "cowstat-gupw"))
			_exit(10);
		memset(src, 2, N * PAGE);
		_exit(process_vm_writev(t, &local, 1, &remote, 1, 0) == N * PAGE ? 0 : 11);
	}
	EXPECT_EQ(0, cowstat_delay_wait_held(10)) TH_LOG("the writer was never held in proc_create()");
	kill(t, SIGKILL);
	ASSERT_EQ(t, waitpid(t, &status, 0));
	/* Reaped: its exit tracepoint has run, and the writer must still be held. */
	EXPECT_EQ(1, cowstat_module_param("cowstat_delay", "active"))
		TH_LOG("the window closed (10 s) before the owner was reaped: nothing was shown");
	EXPECT_EQ(0, cowstat_delay_release());
	ASSERT_EQ(w, waitpid(w, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("10: set-up, 11: process_vm_writev");
	EXPECT_EQ(0, cowstat_delay_unload());
	n = cowstat_procs_read(t, l, 4);
	ASSERT_LE(0, n);
	for (i = 0; i < n && i < 4; i++)
		EXPECT_STRNE("live", l[i].state) TH_LOG("pid %d (reaped) has a live record", t);
	EXPECT_EQ(N, cowstat_summary_value("faults_unattributed") - unattributed);
	munmap(mem, N * PAGE);
}

/*
 * Read an open procs file from where it is to the end, with small reads (so the table is
 * read across many read(2) calls), and parse this process's line: its zero-page count.
 */
static int read_own_zero(int fd, bool use_pread, unsigned long *zero)
{
	static char text[1 << 20];
	struct cowstat_proc_line l;
	size_t len = 0;
	ssize_t r;

	while (len < sizeof(text) - 101) {
		r = use_pread ? pread(fd, text + len, 100, len) : read(fd, text + len, 100);
		if (r <= 0)
			break;
		len += r;
	}
	if (r < 0)
		return -1;
	text[len] = 0;
	if (cowstat_procs_parse(text, getpid(), 0, &l, 1) != 1)
		return -1;
	*zero = l.counts.c[COWSTAT_ZERO];
	return 0;
}

/* Write-fault @n pages of fresh memory that were read first: exactly @n zero-page faults. */
static int zero_faults(size_t n)
{
	char *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	size_t i;

	if (p == MAP_FAILED)
		return -1;
	madvise(p, n * PAGE, MADV_NOHUGEPAGE);
	for (i = 0; i < n; i++)
		if (((volatile char *)p)[i * PAGE])
			break;
	for (size_t j = 0; i == n && j < n; j++)
		p[j * PAGE] = 1;
	munmap(p, n * PAGE);
	return i == n ? 0 : -1;
}

/*
 * One open procs file read again from the start sees the counts of now, not those of its
 * first read: after lseek(2) to 0, and with pread(2) at 0; while a read continued from where
 * it stopped is the end of the same table (EOF). (A new user found that a re-read returned
 * the first read's counts: the table was taken once, at open.)
 */
TEST_F(table, reread_from_start_sees_new_counts)
{
	unsigned long z0, z1, z2;
	char c;
	int fd;

	ASSERT_EQ(0, cowstat_control("scope all"));
	ASSERT_EQ(0, zero_faults(1));	/* this process has a record */
	fd = open(COWSTAT_DEBUGFS_DIR "/" COWSTAT_FILE_PROCS, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, read_own_zero(fd, false, &z0));
	EXPECT_EQ(0, read(fd, &c, 1));	/* at the end: EOF */

	ASSERT_EQ(0, zero_faults(16));
	EXPECT_EQ(0, read(fd, &c, 1));	/* still the end of the first table */
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(0, read_own_zero(fd, false, &z1));
	EXPECT_EQ(z0 + 16, z1);

	/* pread(2) from offset 0 on, 100 bytes at a time, with the file offset at the end. */
	ASSERT_EQ(0, zero_faults(8));
	ASSERT_EQ(0, read_own_zero(fd, true, &z2));
	EXPECT_EQ(z1 + 8, z2);
	close(fd);
}

TEST_HARNESS_MAIN
