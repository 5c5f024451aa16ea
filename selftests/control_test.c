// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input to every writable file: each malformed command fails with the documented errno
 * and leaves the scope, the watches, their counts and the process table exactly as they were.
 *
 * Runs with cowstat.ko loaded, as root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cowstat_test.h"

static char *buf;
static const size_t npages = 8;

/* A pid that no process has (the thread id of a finished thread is not reused at once). */
static pid_t unused_pid(void)
{
	char path[64];

	for (pid_t p = 4000000; p > 1000; p -= 997) {
		snprintf(path, sizeof(path), "/proc/%d", p);
		if (access(path, F_OK))
			return p;
	}
	return -1;
}

static void *thread_tid(void *arg)
{
	*(pid_t *)arg = syscall(SYS_gettid);
	pause();
	return NULL;
}

FIXTURE(control) {
	char control[4096], watches[4096];
	pid_t self, nopid, tid;
	pthread_t thread;
};

FIXTURE_SETUP(control)
{
	if (geteuid() != 0)
		SETUP_SKIP("needs root (debugfs)");
	if (!cowstat_loaded())
		SETUP_SKIP("cowstat module not loaded");
	self->self = getpid();
	self->nopid = unused_pid();
	ASSERT_LT(0, self->nopid);
	self->tid = 0;
	ASSERT_EQ(0, pthread_create(&self->thread, NULL, thread_tid, &self->tid));
	while (!__atomic_load_n(&self->tid, __ATOMIC_SEQ_CST))
		usleep(1000);

	/* A known state: a scope, and a watch with known counts (8 zero-page faults). */
	ASSERT_EQ(0, cowstat_control("unwatch all"));
	ASSERT_EQ(0, cowstat_control("scope %d", self->self));
	buf = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	madvise(buf, npages * PAGE, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < npages; i++)
		ASSERT_EQ(0, ((volatile char *)buf)[i * PAGE]);
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", self->self, buf, npages * PAGE));
	for (size_t i = 0; i < npages; i++)
		buf[i * PAGE] = 1;
	ASSERT_EQ(0, cowstat_read_file(COWSTAT_FILE_CONTROL, self->control, sizeof(self->control)));
	ASSERT_EQ(0, cowstat_read_file(COWSTAT_FILE_WATCHES, self->watches, sizeof(self->watches)));
}

FIXTURE_TEARDOWN(control)
{
	if (self->tid)
		pthread_cancel(self->thread);
	if (cowstat_loaded()) {
		cowstat_control("scope all");
		cowstat_control("unwatch all");
	}
}

/* State must be exactly what the setup left, and the watch must show 8 zero-page faults. */
static void expect_unchanged(struct __test_metadata *_metadata, FIXTURE_DATA(control) *self)
{
	char now[4096];
	struct cowstat_counts c;
	struct cowstat_proc_line l;

	ASSERT_EQ(0, cowstat_read_file(COWSTAT_FILE_CONTROL, now, sizeof(now)));
	EXPECT_STREQ(self->control, now);
	ASSERT_EQ(0, cowstat_read_file(COWSTAT_FILE_WATCHES, now, sizeof(now)));
	EXPECT_STREQ(self->watches, now);
	ASSERT_EQ(0, cowstat_watch_read(self->self, buf, 0, &c, NULL));
	EXPECT_EQ(npages, c.c[COWSTAT_ZERO]);
	EXPECT_EQ(1, cowstat_procs_read(self->self, &l, 1));
	EXPECT_STREQ("live", l.state);
}

struct bad {
	const char *cmd;	/* NULL: use len bytes of raw */
	const char *raw;
	size_t len;
	int err;
};

TEST_F(control, malformed_commands_rejected)
{
	char cmd[512], big[4096];
	struct bad corpus[] = {
		{ "\n", NULL, 0, EINVAL },
		{ "   ", NULL, 0, EINVAL },
		{ " \n", NULL, 0, EINVAL },
		{ "bogus", NULL, 0, EINVAL },
		{ "RESET", NULL, 0, EINVAL },
		{ "reset extra", NULL, 0, EINVAL },
		{ "resetscope all", NULL, 0, EINVAL },
		{ "scope", NULL, 0, EINVAL },
		{ "scope -1", NULL, 0, EINVAL },
		{ "scope 0", NULL, 0, EINVAL },
		{ "scope abc", NULL, 0, EINVAL },
		{ "scope 12abc", NULL, 0, EINVAL },
		{ "scope 0x", NULL, 0, EINVAL },
		{ "scope 99999999999999999999", NULL, 0, EINVAL },
		{ "scope 2147483648", NULL, 0, EINVAL },
		{ "scope all extra", NULL, 0, EINVAL },
		{ "scope\tall", NULL, 0, EINVAL },
		{ "scope all\n\n", NULL, 0, EINVAL },
		{ "scope all\nreset", NULL, 0, EINVAL },
		{ "watch", NULL, 0, EINVAL },
		{ "watch 1", NULL, 0, EINVAL },
		{ "watch 1 2", NULL, 0, EINVAL },
		{ "watch 1 2 3 4", NULL, 0, EINVAL },
		{ "watch x 0x1000 0x1000", NULL, 0, EINVAL },
		{ "watch 1 0x1000 -4096", NULL, 0, EINVAL },
		{ "watch 1 0x1000 18446744073709551616", NULL, 0, EINVAL },
		{ "unwatch", NULL, 0, EINVAL },
		{ "unwatch 1", NULL, 0, EINVAL },
		{ "unwatch all 1", NULL, 0, EINVAL },
		{ "unwatch x 0x1000", NULL, 0, EINVAL },
		{ NULL, "\0scope all", 10, EINVAL },
		{ NULL, "scope\0all", 9, EINVAL },
		{ NULL, "scope all\0", 10, EINVAL },
		{ NULL, "\xff\xfe\x01\x02", 4, EINVAL },
		{ NULL, "scope \xc3\xa9", 8, EINVAL },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(corpus); i++) {
		const char *c = corpus[i].cmd ? : corpus[i].raw;
		size_t len = corpus[i].cmd ? strlen(corpus[i].cmd) : corpus[i].len;

		EXPECT_EQ(-corpus[i].err, cowstat_control_raw(c, len))
			TH_LOG("corpus entry %d (%zu bytes) was not rejected as expected", i, len);
	}

	/* Numbers that parse but make no sense, and processes that do not exist. */
	EXPECT_EQ(-EINVAL, cowstat_control("watch %d %p 0", self->self, buf));
	EXPECT_EQ(-EINVAL, cowstat_control("watch %d 0xfffffffffffff000 0x2000", self->self));
	EXPECT_EQ(-EINVAL, cowstat_control("watch %d 0x7ffffffff000 0x100000", self->self));
	EXPECT_EQ(-ESRCH, cowstat_control("scope %d", self->nopid));
	EXPECT_EQ(-ESRCH, cowstat_control("watch %d 0x1000 0x1000", self->nopid));
	/* A thread id is not a process id. */
	EXPECT_EQ(-ESRCH, cowstat_control("scope %d", self->tid));
	EXPECT_EQ(-ENOENT, cowstat_control("unwatch %d 0x999000", self->self));
	/* The same watch twice. */
	EXPECT_EQ(-EEXIST, cowstat_control("watch %d %p %zu", self->self, buf, npages * PAGE));

	/* Overlong: one byte past the limit, and a page. */
	memset(big, 'a', sizeof(big));
	EXPECT_EQ(-EINVAL, cowstat_control_raw(big, COWSTAT_CONTROL_MAX + 1));
	EXPECT_EQ(-EINVAL, cowstat_control_raw(big, sizeof(big)));
	/*
	 * At the limit a valid command is accepted (the scope it sets is the same one): the pid
	 * padded with leading zeros to fill "scope " and the newline up to the limit.
	 */
	snprintf(cmd, sizeof(cmd), "scope %0*d\n", COWSTAT_CONTROL_MAX - 7, self->self);
	ASSERT_EQ(COWSTAT_CONTROL_MAX, strlen(cmd));
	EXPECT_EQ(0, cowstat_control_raw(cmd, COWSTAT_CONTROL_MAX));
	/* One space too many at the end makes the same command malformed. */
	snprintf(cmd, sizeof(cmd), "scope %0*d \n", COWSTAT_CONTROL_MAX - 8, self->self);
	EXPECT_EQ(-EINVAL, cowstat_control_raw(cmd, COWSTAT_CONTROL_MAX));

	expect_unchanged(_metadata, self);
}

TEST_F(control, empty_write_changes_nothing)
{
	EXPECT_EQ(-EINVAL, cowstat_control_raw("", 0));
	expect_unchanged(_metadata, self);
}

/* A command split over two writes is two malformed commands, not one good one. */
TEST_F(control, partial_writes_and_offsets)
{
	int fd = open(COWSTAT_DEBUGFS_DIR "/" COWSTAT_FILE_CONTROL, O_WRONLY);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, write(fd, "unwatch", 7));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(fd, " all", 4));
	EXPECT_EQ(EINVAL, errno);
	/* The file is not seekable for pwrite(2) at all. */
	EXPECT_EQ(-1, pwrite(fd, "unwatch all", 11, 3));
	EXPECT_EQ(ESPIPE, errno);
	ASSERT_EQ(5, lseek(fd, 5, SEEK_SET));
	EXPECT_EQ(-1, write(fd, "unwatch all", 11));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
	expect_unchanged(_metadata, self);
}

/* The read-only files take no writes at all, even from root. */
TEST_F(control, read_only_files_refuse_writes)
{
	static const char * const ro[] = {
		COWSTAT_FILE_VERSION, COWSTAT_FILE_PROCS, COWSTAT_FILE_REGIONS,
		COWSTAT_FILE_SUMMARY, COWSTAT_FILE_WATCHES,
	};
	char path[256];
	int i, fd;

	for (i = 0; i < ARRAY_SIZE(ro); i++) {
		snprintf(path, sizeof(path), "%s/%s", COWSTAT_DEBUGFS_DIR, ro[i]);
		fd = open(path, O_WRONLY);
		if (fd < 0)
			continue;
		EXPECT_EQ(-1, write(fd, "reset\n", 6)) TH_LOG("%s accepted a write", ro[i]);
		close(fd);
	}
	expect_unchanged(_metadata, self);
}

/* Well-formed commands do what they say (the corpus above proves the rest do nothing). */
TEST_F(control, good_commands_and_readback)
{
	char now[4096], want[256];

	EXPECT_EQ(0, cowstat_control("unwatch %d %p", self->self, buf));
	ASSERT_EQ(0, cowstat_read_file(COWSTAT_FILE_CONTROL, now, sizeof(now)));
	snprintf(want, sizeof(want), "scope %d\n", self->self);
	EXPECT_STREQ(want, now);
	EXPECT_EQ(0, cowstat_control("watch %d 0x%lx 4096\n", self->self, (unsigned long)buf));
	/* Words are separated by exactly one space, in control as in the snapshot file. */
	EXPECT_EQ(-EINVAL, cowstat_control("  scope   all  "));
	EXPECT_EQ(-EINVAL, cowstat_control("scope  all"));
	EXPECT_EQ(-EINVAL, cowstat_control("scope all "));
	EXPECT_EQ(0, cowstat_control("scope all"));
	ASSERT_EQ(0, cowstat_read_file(COWSTAT_FILE_CONTROL, now, sizeof(now)));
	snprintf(want, sizeof(want), "scope all\nwatch %d %p 0x1000\n", self->self, buf);
	EXPECT_STREQ(want, now);
}

/*
 * Numbers: a pid is decimal digits, and leading zeros do not make it octal ("00<pid>" is
 * <pid>); an address or a length is decimal the same way, or 0x hex; no sign. The snapshot
 * file reads its numbers as control does. (control used to read them with base 0, so that
 * "010" was 8, and a snapshot pid that overflowed gave ERANGE.)
 */
TEST_F(control, numbers_decimal_never_octal)
{
	char now[4096], want[256], rep[8192], cmd[128];
	unsigned long a = (unsigned long)buf;
	pid_t me = self->self;

	/* The same scope as the setup's "scope <pid>": control reads back the same. */
	EXPECT_EQ(0, cowstat_control("scope 00%d", me));
	ASSERT_EQ(0, cowstat_read_file(COWSTAT_FILE_CONTROL, now, sizeof(now)));
	EXPECT_STREQ(self->control, now);

	/* Addresses and lengths in decimal with leading zeros: 04096 is 0x1000. */
	ASSERT_EQ(0, cowstat_control("unwatch %d %p", me, buf));
	EXPECT_EQ(0, cowstat_control("watch 0%d 0%lu 04096", me, a));
	ASSERT_EQ(0, cowstat_read_file(COWSTAT_FILE_CONTROL, now, sizeof(now)));
	snprintf(want, sizeof(want), "scope %d\nwatch %d %p 0x1000\n", me, me, buf);
	EXPECT_STREQ(want, now);
	EXPECT_EQ(0, cowstat_control("unwatch 0%d 00%lu", me, a));
	EXPECT_EQ(0, cowstat_control("watch %d 0X%lX 0x1000", me, a));
	EXPECT_EQ(0, cowstat_control("unwatch %d %lu", me, a));

	/* Signs, hex pids, and hex without digits are malformed. */
	EXPECT_EQ(-EINVAL, cowstat_control("scope +%d", me));
	EXPECT_EQ(-EINVAL, cowstat_control("scope 0x%x", me));
	EXPECT_EQ(-EINVAL, cowstat_control("scope -0"));
	EXPECT_EQ(-EINVAL, cowstat_control("watch %d +%lu 4096", me, a));
	EXPECT_EQ(-EINVAL, cowstat_control("watch %d 0x+%lx 4096", me, a));
	EXPECT_EQ(-EINVAL, cowstat_control("watch %d %p 0x", me, buf));
	EXPECT_EQ(-EINVAL, cowstat_control("watch %d %p 08x", me, buf));
	ASSERT_EQ(0, cowstat_read_file(COWSTAT_FILE_CONTROL, now, sizeof(now)));
	snprintf(want, sizeof(want), "scope %d\n", me);
	EXPECT_STREQ(want, now);

	/* The snapshot: the same pid and range, written with leading zeros. */
	snprintf(cmd, sizeof(cmd), "pid 0%d 0%lu 0%lu", me, a, a + npages * PAGE);
	ASSERT_EQ(0, cowstat_snapshot(cmd, rep, sizeof(rep))) TH_LOG("%s", cmd);
	EXPECT_EQ(me, cowstat_report_word(rep, "target pid", 2));
	EXPECT_EQ(a, cowstat_report_word(rep, "range", 1));
	EXPECT_EQ(a + npages * PAGE, cowstat_report_word(rep, "range", 2));
	EXPECT_EQ(npages, cowstat_snap_proc(rep, me, "all", "anon"));
	snprintf(cmd, sizeof(cmd), "pid +%d", me);
	EXPECT_EQ(-EINVAL, cowstat_snapshot(cmd, rep, sizeof(rep)));
	snprintf(cmd, sizeof(cmd), "pid 0x%x", me);
	EXPECT_EQ(-EINVAL, cowstat_snapshot(cmd, rep, sizeof(rep)));
	EXPECT_EQ(-EINVAL, cowstat_snapshot("pid 99999999999999999999", rep, sizeof(rep)));
	EXPECT_EQ(-EINVAL, cowstat_snapshot("tree 2147483648", rep, sizeof(rep)));
	snprintf(cmd, sizeof(cmd), "pid %d +%lu %#lx", me, a, a + PAGE);
	EXPECT_EQ(-EINVAL, cowstat_snapshot(cmd, rep, sizeof(rep)));
	snprintf(cmd, sizeof(cmd), "pid %d %#lx 0x", me, a);
	EXPECT_EQ(-EINVAL, cowstat_snapshot(cmd, rep, sizeof(rep)));
}

TEST_HARNESS_MAIN
