// SPDX-License-Identifier: GPL-2.0
/*
 * Fault classification with exact counts. Modelled on the kernel's selftests/mm/cow.c: parent
 * and children synchronise over pipes (struct cowstat_sync); every scenario watches its own
 * buffer with "watch <pid> <start> <len>" so libc and stack faults do not disturb the numbers.
 *
 * Runs with cowstat.ko loaded (scripts/guest-run.sh), as root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "kselftest_harness.h"
#include "cowstat_test.h"

static const char * const class_names[] = COWSTAT_CLASS_NAMES;

/* Expected counts: every class not named is expected to be 0. */
#define COUNTS(...) ((struct cowstat_counts){ .c = { __VA_ARGS__ } })

#define EXPECT_COUNTS(want, got) do {						\
	struct cowstat_counts __w = (want), __g = (got);			\
										\
	for (int __i = 0; __i < COWSTAT_NR_CLASSES; __i++) {			\
		EXPECT_EQ(__w.c[__i], __g.c[__i])				\
			TH_LOG("class %s: expected %lu, got %lu",		\
			       class_names[__i], __w.c[__i], __g.c[__i]);	\
	}									\
} while (0)

/*
 * A child in step with the parent (struct cowstat_sync): it waits to be let go, runs, says it
 * is done (its ready), and waits to be let go again to exit.
 */
struct child {
	pid_t pid;
	struct cowstat_sync sync;
};

/* Child: wait to be let go; exit if the parent closed its end or died instead. */
static void child_wait(struct cowstat_sync *s)
{
	if (!cowstat_sync_wait_go(s))
		_exit(1);
}

/* Child: say it is done. */
static void child_signal(struct cowstat_sync *s)
{
	if (cowstat_sync_ready(s, NULL, 0))
		_exit(1);
}

/* Parent: let the child go. */
static void child_go(struct cowstat_sync *s)
{
	if (cowstat_sync_go(s))
		_exit(1);
}

static pid_t child_start(struct child *c, void (*fn)(void *), void *arg)
{
	if (cowstat_sync_init(&c->sync))
		return -1;
	c->pid = cowstat_sync_fork(&c->sync);
	if (c->pid == 0) {
		child_wait(&c->sync);
		fn(arg);
		child_signal(&c->sync);
		child_wait(&c->sync);
		_exit(0);
	}
	return c->pid;
}

/* Let the child run its function and wait until it has. */
static void child_run(struct child *c)
{
	child_go(&c->sync);
	cowstat_sync_wait_ready(&c->sync, NULL, 0);
}

static int child_finish(struct child *c)
{
	int status;

	child_go(&c->sync);
	waitpid(c->pid, &status, 0);
	cowstat_sync_close(&c->sync);
	return status;
}

static char *map_anon(size_t pages, int advice)
{
	char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, pages * PAGE, advice);
	return p;
}

/* Write one byte in each of pages [from, to). */
static void touch(char *buf, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		((volatile char *)buf)[i * PAGE] = (char)i;
}

static unsigned long read_pages(char *buf, size_t pages)
{
	unsigned long sum = 0;

	for (size_t i = 0; i < pages; i++)
		sum += ((volatile char *)buf)[i * PAGE];
	return sum;
}

struct range {
	char *buf;
	size_t from, to;
};

static void write_range(void *arg)
{
	struct range *r = arg;

	touch(r->buf, r->from, r->to);
}

static struct cowstat_counts watch_counts(struct __test_metadata *_metadata,
					  pid_t pid, void *start)
{
	struct cowstat_counts c = { 0 };

	EXPECT_EQ(0, cowstat_watch_read(pid, start, 0, &c, NULL))
		TH_LOG("no watch for pid %d at %p", pid, start);
	return c;
}

/*
 * The common scenario: N dirty pages, a child that will write the first K of them (on
 * child_run()), a watch on the child's copy of the buffer. Returns the buffer.
 */
static char *watched_writer(struct __test_metadata *_metadata, struct child *c,
			    struct range *r, size_t n, size_t k)
{
	char *buf = map_anon(n, MADV_NOHUGEPAGE);

	if (!buf) {
		ASSERT_NE(NULL, buf);
		return NULL;
	}
	touch(buf, 0, n);
	*r = (struct range){ buf, 0, k };
	if (child_start(c, write_range, r) <= 0) {
		ASSERT_LT(0, c->pid);
		return NULL;
	}
	EXPECT_EQ(0, cowstat_control("watch %d %p %zu", c->pid, buf, n * PAGE));
	return buf;
}

/*
 * Every fixture's set-up: COWSTAT_COW_TESTS="a b" runs only the tests of those names
 * (trace_test runs the scenarios under trace); root and the module are needed; no scope and
 * no watch left from an earlier test.
 */
static void test_setup(struct __test_metadata *_metadata)
{
	const char *only = getenv("COWSTAT_COW_TESTS");
	char want[128];

	snprintf(want, sizeof(want), " %s ", _metadata->name);
	if (only) {
		char have[1024];

		snprintf(have, sizeof(have), " %s ", only);
		if (!strstr(have, want))
			SETUP_SKIP("not in COWSTAT_COW_TESTS");
	}
	if (geteuid() != 0)
		SETUP_SKIP("needs root (debugfs)");
	if (!cowstat_loaded())
		SETUP_SKIP("cowstat module not loaded");
	ASSERT_EQ(0, cowstat_control("scope all"));
	ASSERT_EQ(0, cowstat_control("unwatch all"));
}

static void test_teardown(void)
{
	if (cowstat_loaded()) {
		cowstat_control("scope all");
		cowstat_control("unwatch all");
	}
}

FIXTURE(cow) {
	int dummy;
};

FIXTURE_SETUP(cow)
{
	test_setup(_metadata);
}

FIXTURE_TEARDOWN(cow)
{
	test_teardown();
}

/* Write pages [from, to) and return how many got a new frame (were copied). */
static size_t touch_count_copies(char *buf, size_t from, size_t to)
{
	unsigned long long before[512], after[512];
	size_t i, copies = 0;

	if (to - from > 512 || cowstat_pfns(buf, from, to, before))
		return -1;
	touch(buf, from, to);
	if (cowstat_pfns(buf, from, to, after))
		return -1;
	for (i = 0; i < to - from; i++)
		copies += before[i] != after[i];
	return copies;
}

/*
 * The parent writes M pages while the child lives (the child copied the first K, so the
 * parent may reuse those and must copy the rest), then the others after the child exited.
 *
 * Whether the kernel reuses a page the parent now maps alone depends on its refcount: a page
 * still in another CPU's LRU batch holds one more reference and is copied anyway (6.12's
 * wp_can_reuse_anon_folio() drains only the local batch). So the truth is taken from
 * /proc/self/pagemap: a copy gets a new frame, a reuse keeps it. cowstat must agree exactly.
 */
TEST_F(cow, parent_copies_then_reuses)
{
	const size_t n = 256, k = 100, m = 150;
	char *buf = map_anon(n, MADV_NOHUGEPAGE);
	struct range r = { buf, 0, k };
	size_t shared_copies, own_copies, late_copies;
	struct child c;

	ASSERT_NE(NULL, buf);
	touch(buf, 0, n);
	ASSERT_LT(0, child_start(&c, write_range, &r));
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", getpid(), buf, n * PAGE));
	child_run(&c);
	own_copies = touch_count_copies(buf, 0, k);
	shared_copies = touch_count_copies(buf, k, m);
	ASSERT_NE((size_t)-1, own_copies);
	/* Pages the child still shares are always copied. */
	ASSERT_EQ(m - k, shared_copies);
	if (own_copies)
		TH_LOG("the kernel copied %zu of the %zu pages the parent owned alone", own_copies, k);
	EXPECT_COUNTS(COUNTS([COWSTAT_COPY] = m - k + own_copies, [COWSTAT_REUSE] = k - own_copies),
		      watch_counts(_metadata, getpid(), buf));
	EXPECT_EQ(0, child_finish(&c));
	late_copies = touch_count_copies(buf, m, n);
	ASSERT_NE((size_t)-1, late_copies);
	EXPECT_COUNTS(COUNTS([COWSTAT_COPY] = m - k + own_copies + late_copies,
			     [COWSTAT_REUSE] = n - (m - k + own_copies + late_copies)),
		      watch_counts(_metadata, getpid(), buf));
}

/* Memory that was only read maps the zero page; each first write replaces it. */
TEST_F(cow, zero_page)
{
	const size_t n = 64;
	char *buf = map_anon(n, MADV_NOHUGEPAGE);

	ASSERT_NE(NULL, buf);
	EXPECT_EQ(0, read_pages(buf, n));
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", getpid(), buf, n * PAGE));
	touch(buf, 0, n);
	EXPECT_COUNTS(COUNTS([COWSTAT_ZERO] = n), watch_counts(_metadata, getpid(), buf));
}

static char *map_file_private(size_t pages, int *fdp)
{
	int fd = memfd_create("cowstat-test", MFD_CLOEXEC);
	char *page = calloc(1, PAGE), *p;

	if (fd < 0 || !page)
		return NULL;
	memset(page, 'f', PAGE);
	for (size_t i = 0; i < pages; i++)
		if (write(fd, page, PAGE) != PAGE)
			return NULL;
	free(page);
	p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	*fdp = fd;
	return p == MAP_FAILED ? NULL : p;
}

/* MAP_PRIVATE file pages never read: the first write copies in do_cow_fault(). */
TEST_F(cow, file_private_write_only)
{
	const size_t n = 32;
	int fd;
	char *buf = map_file_private(n, &fd);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", getpid(), buf, n * PAGE));
	touch(buf, 0, n);
	EXPECT_COUNTS(COUNTS([COWSTAT_FILE] = n), watch_counts(_metadata, getpid(), buf));
	close(fd);
}

static volatile int churn_stop;

/* Take the mmap lock for writing over and over. */
static void *mmap_churn(void *arg)
{
	while (!churn_stop) {
		void *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED)
			munmap(p, PAGE);
	}
	return NULL;
}

/*
 * Faults the kernel retries are counted once. On 6.12 a do_wp_page() copy in a VMA without an
 * anon_vma, under the per-VMA lock, returns VM_FAULT_RETRY when mmap_read_trylock() fails
 * (vmf_anon_prepare()); a thread taking the mmap lock for writing in a loop makes that happen.
 * N one-page private file mappings, separated by PROT_NONE holes so that they stay N VMAs,
 * are each read (page cache mapped read-only) and then written once.
 */
TEST_F(cow, retried_faults_counted_once)
{
	const size_t n = 256;
	pthread_t churn;
	char *area, *page;
	int fd;

	fd = memfd_create("cowstat-retry", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, n * PAGE));
	area = mmap(NULL, 2 * n * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	for (size_t i = 0; i < n; i++) {
		page = mmap(area + 2 * i * PAGE, PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_FIXED, fd, i * PAGE);
		ASSERT_NE(MAP_FAILED, page);
	}
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", getpid(), area, 2 * n * PAGE));
	for (size_t i = 0; i < n; i++)
		ASSERT_EQ(0, ((volatile char *)area)[2 * i * PAGE]);
	churn_stop = 0;
	ASSERT_EQ(0, pthread_create(&churn, NULL, mmap_churn, NULL));
	for (size_t i = 0; i < n; i++)
		((volatile char *)area)[2 * i * PAGE] = 1;
	churn_stop = 1;
	pthread_join(churn, NULL);
	EXPECT_COUNTS(COUNTS([COWSTAT_FILE] = n), watch_counts(_metadata, getpid(), area));
	close(fd);
}

/* Bit 55 of a /proc/self/pagemap entry: the page is soft-dirty. 1, 0, or -1 on error. */
static int soft_dirty(const void *page)
{
	unsigned long long e;

	if (cowstat_pagemap((void *)page, 0, 1, &e))
		return -1;
	return e >> 55 & 1;
}

/*
 * Clearing soft-dirty bits write-protects the ptes again. Without CONFIG_MEM_SOFT_DIRTY the
 * write to clear_refs succeeds and does nothing: @page, written just before, tells. 0 done,
 * 1 no soft-dirty tracking on this kernel (the test skips), -1 error.
 */
static int clear_soft_dirty(const void *page)
{
	int fd, ret;

	if (soft_dirty(page) != 1)
		return soft_dirty(page) == 0 ? 1 : -1;
	fd = open("/proc/self/clear_refs", O_WRONLY);
	if (fd < 0)
		return -1;
	ret = write(fd, "4", 1) == 1 ? 0 : -1;
	close(fd);
	if (!ret && soft_dirty(page) != 0)
		ret = -1;
	return ret;
}

#define CLEAR_SOFT_DIRTY(page) do { \
	int __ret = clear_soft_dirty(page); \
	ASSERT_LE(0, __ret); \
	if (__ret) \
		SKIP(return, "no soft-dirty tracking on this kernel (CONFIG_MEM_SOFT_DIRTY)"); \
} while (0)

/* Writes to a MAP_SHARED mapping are write notifications, never COW. */
TEST_F(cow, shared_write_notify)
{
	const size_t n = 40;
	char *buf = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			 -1, 0);

	ASSERT_NE(MAP_FAILED, buf);
	touch(buf, 0, n);
	CLEAR_SOFT_DIRTY(buf);
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", getpid(), buf, n * PAGE));
	touch(buf, 0, n);
	EXPECT_COUNTS(COUNTS([COWSTAT_SHARED] = n), watch_counts(_metadata, getpid(), buf));
}

/* Two threads that write page after page of @buf, each page at the same moment. */
struct lockstep {
	char *buf;
	size_t n;
	size_t go, done;	/* pages started by the first thread, finished by the second */
};

static void *lockstep_second(void *arg)
{
	struct lockstep *l = arg;

	for (size_t i = 0; i < l->n; i++) {
		while (__atomic_load_n(&l->go, __ATOMIC_ACQUIRE) <= i)
			;
		((volatile char *)l->buf)[i * PAGE] = 2;
		__atomic_store_n(&l->done, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void lockstep_write(struct lockstep *l)
{
	for (size_t i = 0; i < l->n; i++) {
		__atomic_store_n(&l->go, i + 1, __ATOMIC_RELEASE);
		((volatile char *)l->buf)[i * PAGE] = 1;
		while (__atomic_load_n(&l->done, __ATOMIC_ACQUIRE) <= i)
			;
	}
}

/*
 * A shared file mapping whose file system has ->page_mkwrite (ramfs: filemap_page_mkwrite),
 * read first so that each page is mapped write-protected, then written by two threads at
 * once, page by page. The thread that loses the race waits in ->page_mkwrite for the folio
 * lock and then finds the pte changed (finish_mkwrite_fault() returns VM_FAULT_NOPAGE): one
 * write notification per page, and one count. (Counted at finish_mkwrite_fault() entry, as
 * before, the race gave one page in 256 a second count in the 6.1 guest.)
 */
TEST_F(cow, shared_mkwrite_two_threads)
{
	const size_t n = 1024;
	char dir[] = "/tmp/cowstat-ramfs-XXXXXX", path[64];
	struct lockstep l = { .n = n };
	pthread_t second;
	int fd;

	ASSERT_NE(NULL, mkdtemp(dir));
	if (mount("cowstat", dir, "ramfs", 0, NULL)) {
		rmdir(dir);
		SKIP(return, "cannot mount ramfs: %s", strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, n * PAGE));
	l.buf = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, l.buf);
	for (size_t i = 0; i < n; i++)
		ASSERT_EQ(0, ((volatile char *)l.buf)[i * PAGE]);
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", getpid(), l.buf, n * PAGE));
	ASSERT_EQ(0, pthread_create(&second, NULL, lockstep_second, &l));
	lockstep_write(&l);
	pthread_join(second, NULL);
	EXPECT_COUNTS(COUNTS([COWSTAT_SHARED] = n), watch_counts(_metadata, getpid(), l.buf));
	munmap(l.buf, n * PAGE);
	close(fd);
	unlink(path);
	umount(dir);
	rmdir(dir);
}

#define HPAGE (2UL << 20)

/* A 2 MiB-aligned region of @n huge pages, or NULL. */
static char *map_thp(size_t n)
{
	char *raw = mmap(NULL, (n + 1) * HPAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	if (raw == MAP_FAILED)
		return NULL;
	p = (char *)(((uintptr_t)raw + HPAGE - 1) & ~(HPAGE - 1));
	if (madvise(p, n * HPAGE, MADV_HUGEPAGE))
		return NULL;
	return p;
}

/* AnonHugePages of the mapping that contains @addr, in kB, from /proc/self/smaps. */
static long anon_huge_kb(void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	unsigned long s, e;
	char line[256];
	long kb = -1;
	int in = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2)
			in = (uintptr_t)addr >= s && (uintptr_t)addr < e;
		else if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/*
 * Reading a THP-enabled region maps the huge zero page. A write to it either splits it and
 * zero-fills one 4 KiB page (6.x; 7.x when no THP can be allocated): thp_split, then zero; or
 * (7.x, do_huge_zero_wp_pmd()) replaces it whole by a new THP: thp_zero. Which one happened
 * is read independently, from AnonHugePages, and the counts must match it exactly. khugepaged
 * must not collapse a split range into a THP before AnonHugePages is read (it did once, on
 * 6.1: "1 of 2" replaced whole, 2 splits counted): max_ptes_none 0 keeps it from collapsing a
 * range with unpopulated or zero-page entries while the test runs.
 */
#define KHUGEPAGED_PTES_NONE "/sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none"

TEST_F(cow, huge_zero_page)
{
	char old[32] = "";
	unsigned long whole;
	char *buf;
	long kb;

	if (!cowstat_sysfs_has("/sys/kernel/mm/transparent_hugepage/use_zero_page", "1"))
		SKIP(return, "huge zero page disabled");
	if (cowstat_sysfs_has("/sys/kernel/mm/transparent_hugepage/enabled", "[never]"))
		SKIP(return, "THP disabled");
	ASSERT_EQ(0, cowstat_sysfs_set(KHUGEPAGED_PTES_NONE, "0", old, sizeof(old)))
		TH_LOG("%s: %s", KHUGEPAGED_PTES_NONE, strerror(errno));
	buf = map_thp(2);
	if (buf) {
		EXPECT_EQ(0, ((volatile char *)buf)[0] + ((volatile char *)buf)[HPAGE]);
		EXPECT_EQ(0, cowstat_control("watch %d %p %lu", getpid(), buf, 2 * HPAGE));
		buf[0] = 1;
		buf[HPAGE] = 1;
	}
	kb = buf ? anon_huge_kb(buf) : -1;
	cowstat_write_file(KHUGEPAGED_PTES_NONE, old);
	ASSERT_NE(NULL, buf);
	ASSERT_LE(0, kb);
	whole = kb / 2048;
	TH_LOG("huge zero pages replaced whole: %lu of 2", whole);
	EXPECT_COUNTS(COUNTS([COWSTAT_THP_ZERO] = whole, [COWSTAT_THP_SPLIT] = 2 - whole,
			     [COWSTAT_ZERO] = 2 - whole),
		      watch_counts(_metadata, getpid(), buf));
}

static void do_nothing(void *arg)
{
}

/*
 * process_vm_readv() pins the child's COW-shared pages read-only: the kernel unshares them
 * (copies into the child's mm) while the parent runs the fault. Counted in the child.
 */
TEST_F(cow, unshare_attributed_to_target)
{
	const size_t n = 16;
	char *buf = map_anon(n, MADV_NOHUGEPAGE), *dst = malloc(n * PAGE);
	struct iovec local = { dst, n * PAGE }, remote;
	struct child c;

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, dst);
	touch(buf, 0, n);
	ASSERT_LT(0, child_start(&c, do_nothing, NULL));
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", c.pid, buf, n * PAGE));
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", getpid(), buf, n * PAGE));
	remote = (struct iovec){ buf, n * PAGE };
	ASSERT_EQ((ssize_t)(n * PAGE), process_vm_readv(c.pid, &local, 1, &remote, 1, 0));
	EXPECT_COUNTS(COUNTS([COWSTAT_UNSHARE] = n), watch_counts(_metadata, c.pid, buf));
	EXPECT_COUNTS(COUNTS(0), watch_counts(_metadata, getpid(), buf));
	child_run(&c);
	EXPECT_EQ(0, child_finish(&c));
	free(dst);
}

/*
 * An unshare after the sharer exited: the child that shared the pages is gone, and a
 * read-only pin of the parent's pages (process_vm_readv() by a process that never shared
 * them) faults with FAULT_FLAG_UNSHARE. 6.x finds each page its own and keeps it: no frame
 * changes, and nothing may be counted (not an unshare with 4 KiB copied; do_wp_page()
 * returns before any probed function). 7.3 was seen to copy them all the same. Which one
 * happened is read page by page from the frame numbers, and the counts must match.
 */
TEST_F(cow, unshare_after_sharer_exited)
{
	const size_t n = 16;
	char *buf = map_anon(n, MADV_NOHUGEPAGE), *dst = malloc(n * PAGE);
	unsigned long long before[16], after[16];
	struct cowstat_sync s;
	struct child c;
	pid_t reader;
	size_t same = 0;
	char x;

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, dst);
	ASSERT_EQ(0, cowstat_sync_init(&s));
	/*
	 * The reader is forked before the pages exist: it maps none of them. It has their
	 * address from the fork (buf, mapped but not yet written) and waits to be let go.
	 */
	reader = cowstat_sync_fork(&s);
	ASSERT_LE(0, reader);
	if (reader == 0) {
		struct iovec local = { dst, n * PAGE }, remote;
		pid_t target = getppid();

		if (!cowstat_sync_wait_go(&s))
			_exit(1);
		remote = (struct iovec){ buf, n * PAGE };
		x = process_vm_readv(target, &local, 1, &remote, 1, 0) == (ssize_t)(n * PAGE);
		_exit(!cowstat_sync_ready(&s, &x, 1) && x ? 0 : 1);
	}
	touch(buf, 0, n);
	ASSERT_LT(0, child_start(&c, do_nothing, NULL));
	child_run(&c);
	EXPECT_EQ(0, child_finish(&c));
	ASSERT_EQ(0, cowstat_pfns(buf, 0, n, before));
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", getpid(), buf, n * PAGE));
	ASSERT_EQ(0, cowstat_sync_go(&s));
	ASSERT_EQ(0, cowstat_sync_wait_ready(&s, &x, 1));
	ASSERT_EQ(1, x) TH_LOG("process_vm_readv failed in the reader");
	waitpid(reader, NULL, 0);
	cowstat_sync_close(&s);
	ASSERT_EQ(0, cowstat_pfns(buf, 0, n, after));
	for (size_t i = 0; i < n; i++)
		same += before[i] && before[i] == after[i];
	TH_LOG("pinned after the sharer exited: %zu pages kept, %zu copied", same, n - same);
	EXPECT_COUNTS(COUNTS([COWSTAT_UNSHARE] = n - same), watch_counts(_metadata, getpid(), buf));
	free(dst);
}

/* Debian 12's uapi headers predate async write-protect (6.7). */
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC	(1 << 15)
#endif

/*
 * userfaultfd write-protect in async mode (6.7+; CRIU, PAGEMAP_SCAN users): the kernel
 * resolves the fault itself, clears the uffd bit and reuses the page the process owns alone.
 * Each write is a reuse, counted where the kernel reuses the page.
 */
TEST_F(cow, uffd_wp_async_reuse)
{
	const size_t n = 16;
	char *buf = map_anon(n, MADV_NOHUGEPAGE);
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	struct uffdio_writeprotect wp = { .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	int fd;

	ASSERT_NE(NULL, buf);
	touch(buf, 0, n);
	fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		SKIP(return, "userfaultfd: %s", strerror(errno));
	if (ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		SKIP(return, "no async userfaultfd write-protect (UFFD_FEATURE_WP_ASYNC, 6.7+)");
	}
	reg.range = (struct uffdio_range){ (unsigned long)buf, n * PAGE };
	ASSERT_EQ(0, ioctl(fd, UFFDIO_REGISTER, &reg)) TH_LOG("%s", strerror(errno));
	wp.range = reg.range;
	ASSERT_EQ(0, ioctl(fd, UFFDIO_WRITEPROTECT, &wp)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", getpid(), buf, n * PAGE));
	touch(buf, 0, n);
	EXPECT_COUNTS(COUNTS([COWSTAT_REUSE] = n), watch_counts(_metadata, getpid(), buf));
	close(fd);
	munmap(buf, n * PAGE);
}

/* A grandchild's copies are its own; its parent's record names the child. */
TEST_F(cow, grandchild)
{
	const size_t n = 64, k = 20;
	char *buf = map_anon(n, MADV_NOHUGEPAGE);
	struct cowstat_proc_line l;
	struct cowstat_sync s;
	pid_t child, grandchild;

	ASSERT_NE(NULL, buf);
	touch(buf, 0, n);
	ASSERT_EQ(0, cowstat_sync_init(&s));
	/*
	 * The child says the grandchild's pid (its ready message); the grandchild, which holds
	 * the child's ends, is let go and says it is done over the same pipes.
	 */
	child = cowstat_sync_fork(&s);
	if (!child) {
		grandchild = fork();
		if (!grandchild) {
			child_wait(&s);
			touch(buf, 0, k);
			child_signal(&s);
			child_wait(&s);
			_exit(0);
		}
		if (cowstat_sync_ready(&s, &grandchild, sizeof(grandchild)))
			_exit(1);
		waitpid(grandchild, NULL, 0);
		_exit(0);
	}
	ASSERT_EQ(0, cowstat_sync_wait_ready(&s, &grandchild, sizeof(grandchild)));
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", grandchild, buf, n * PAGE));
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", child, buf, n * PAGE));
	child_go(&s);
	ASSERT_EQ(0, cowstat_sync_wait_ready(&s, NULL, 0));
	EXPECT_COUNTS(COUNTS([COWSTAT_COPY] = k), watch_counts(_metadata, grandchild, buf));
	EXPECT_COUNTS(COUNTS(0), watch_counts(_metadata, child, buf));
	ASSERT_EQ(1, cowstat_procs_read(grandchild, &l, 1));
	EXPECT_EQ(child, l.ppid);
	EXPECT_STREQ("live", l.state);
	child_go(&s);
	waitpid(child, NULL, 0);
	cowstat_sync_close(&s);
}

/* C children writing disjoint ranges at the same time: exact counts each, exact sum. */
TEST_F(cow, concurrent_children)
{
	enum { C = 4, K = 32 };
	char *buf = map_anon(C * K, MADV_NOHUGEPAGE);
	struct range r[C];
	struct child c[C];
	unsigned long sum = 0;
	int i;

	ASSERT_NE(NULL, buf);
	touch(buf, 0, C * K);
	for (i = 0; i < C; i++) {
		r[i] = (struct range){ buf, i * K, (i + 1) * K };
		ASSERT_LT(0, child_start(&c[i], write_range, &r[i]));
		ASSERT_EQ(0, cowstat_control("watch %d %p %lu", c[i].pid, buf, C * K * PAGE));
	}
	for (i = 0; i < C; i++)
		child_go(&c[i].sync);
	for (i = 0; i < C; i++) {
		struct cowstat_counts got;

		ASSERT_EQ(0, cowstat_sync_wait_ready(&c[i].sync, NULL, 0));
		got = watch_counts(_metadata, c[i].pid, buf);
		EXPECT_COUNTS(COUNTS([COWSTAT_COPY] = K), got);
		sum += got.c[COWSTAT_COPY];
	}
	EXPECT_EQ(C * K, sum);
	for (i = 0; i < C; i++)
		EXPECT_EQ(0, child_finish(&c[i]));
}

/* An exited process stays listed with its final counts. */
TEST_F(cow, exited_keeps_counts)
{
	const size_t n = 32, k = 10;
	struct cowstat_proc_line l;
	struct range r;
	struct child c;
	char *buf = watched_writer(_metadata, &c, &r, n, k);

	ASSERT_NE(NULL, buf);
	child_run(&c);
	EXPECT_EQ(0, child_finish(&c));
	EXPECT_COUNTS(COUNTS([COWSTAT_COPY] = k), watch_counts(_metadata, c.pid, buf));
	ASSERT_EQ(1, cowstat_procs_read(c.pid, &l, 1));
	EXPECT_STREQ("exited", l.state);
	EXPECT_EQ(getpid(), l.ppid);
	EXPECT_STREQ("cow_test", l.comm);
	EXPECT_LT(l.start_ns, l.exit_ns);
	EXPECT_LE(k, l.counts.c[COWSTAT_COPY]);
	EXPECT_EQ(PAGE * (l.counts.c[COWSTAT_COPY] + l.counts.c[COWSTAT_FILE] +
			  l.counts.c[COWSTAT_UNSHARE] + l.counts.c[COWSTAT_KSM]), l.copied_bytes);
}

static int set_last_pid(pid_t pid)
{
	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
	int ret;

	if (!f)
		return -1;
	ret = fprintf(f, "%d", pid) > 0 ? 0 : -1;
	return fclose(f) ? -1 : ret;
}

/* Two processes with the same pid get two records, each with its own counts. */
TEST_F(cow, reused_pid_separate_records)
{
	const size_t n = 32, k1 = 5, k2 = 7;
	char *buf = map_anon(n, MADV_NOHUGEPAGE);
	struct range r1 = { buf, 0, k1 }, r2 = { buf, 0, k2 };
	struct cowstat_proc_line l[4];
	unsigned long long ns1 = 0, ns2 = 0;
	struct cowstat_counts got;
	struct child a, b;
	int tries;

	ASSERT_NE(NULL, buf);
	touch(buf, 0, n);
	ASSERT_LT(0, child_start(&a, write_range, &r1));
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", a.pid, buf, n * PAGE));
	child_run(&a);
	EXPECT_EQ(0, child_finish(&a));
	for (tries = 0; tries < 20; tries++) {
		if (set_last_pid(a.pid - 1))
			SKIP(return, "cannot write /proc/sys/kernel/ns_last_pid");
		ASSERT_LT(0, child_start(&b, write_range, &r2));
		if (b.pid == a.pid)
			break;
		child_run(&b);
		child_finish(&b);
	}
	if (b.pid != a.pid)
		SKIP(return, "pid %d was not handed out again", a.pid);
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", b.pid, buf, n * PAGE));
	child_run(&b);
	ASSERT_EQ(0, cowstat_watch_read(a.pid, buf, 0, &got, &ns2));
	EXPECT_COUNTS(COUNTS([COWSTAT_COPY] = k2), got);
	ASSERT_EQ(2, cowstat_procs_read(a.pid, l, 4));
	EXPECT_NE(l[0].start_ns, l[1].start_ns);
	ns1 = l[0].start_ns == ns2 ? l[1].start_ns : l[0].start_ns;
	ASSERT_EQ(0, cowstat_watch_read(a.pid, buf, ns1, &got, NULL));
	EXPECT_COUNTS(COUNTS([COWSTAT_COPY] = k1), got);
	EXPECT_EQ(0, child_finish(&b));
}

struct thread_arg {
	char *buf;
	size_t from, to;
};

static void *thread_write(void *arg)
{
	struct thread_arg *t = arg;

	touch(t->buf, t->from, t->to);
	return NULL;
}

static void threads_write(void *arg)
{
	enum { T = 4, K = 16 };
	struct thread_arg t[T];
	pthread_t tid[T];
	int i;

	for (i = 0; i < T; i++) {
		t[i] = (struct thread_arg){ arg, i * K, (i + 1) * K };
		if (pthread_create(&tid[i], NULL, thread_write, &t[i]))
			_exit(2);
	}
	for (i = 0; i < T; i++)
		pthread_join(tid[i], NULL);
}

/* Threads count toward their process. */
TEST_F(cow, threads_sum_into_process)
{
	char *buf = map_anon(64, MADV_NOHUGEPAGE);
	struct child c;

	ASSERT_NE(NULL, buf);
	touch(buf, 0, 64);
	ASSERT_LT(0, child_start(&c, threads_write, buf));
	ASSERT_EQ(0, cowstat_control("watch %d %p %lu", c.pid, buf, 64 * PAGE));
	child_run(&c);
	EXPECT_COUNTS(COUNTS([COWSTAT_COPY] = 64), watch_counts(_metadata, c.pid, buf));
	EXPECT_EQ(0, child_finish(&c));
	EXPECT_EQ(1, cowstat_procs_read(c.pid, (struct cowstat_proc_line[1]){}, 1));
}

/* Fork inside a scoped tree: the later fork is in scope too. */
static void fork_and_write(void *arg)
{
	struct range *r = arg;
	pid_t p = fork();

	if (!p) {
		touch(r->buf, r->from + 8, r->to);
		_exit(0);
	}
	touch(r->buf, r->from, r->from + 8);
	waitpid(p, NULL, 0);
}

/* "scope <pid>": that process and its descendants are counted, nobody else. */
TEST_F(cow, scope_tree)
{
	const size_t n = 64;
	char *buf = map_anon(n, MADV_NOHUGEPAGE);
	struct range ra = { buf, 0, 24 }, rb = { buf, 0, 10 };
	struct cowstat_proc_line l[2];
	struct child a, b;
	char sum[4096], want[64];

	ASSERT_NE(NULL, buf);
	touch(buf, 0, n);
	ASSERT_LT(0, child_start(&a, fork_and_write, &ra));
	ASSERT_LT(0, child_start(&b, write_range, &rb));
	ASSERT_EQ(0, cowstat_control("scope %d", a.pid));
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", a.pid, buf, n * PAGE));
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", b.pid, buf, n * PAGE));
	ASSERT_EQ(0, cowstat_read_file(COWSTAT_FILE_SUMMARY, sum, sizeof(sum)));
	snprintf(want, sizeof(want), "\nscope_pid %d\n", a.pid);
	EXPECT_NE(NULL, strstr(sum, want)) TH_LOG("%s", sum);
	child_run(&a);
	child_run(&b);
	EXPECT_COUNTS(COUNTS([COWSTAT_COPY] = 8), watch_counts(_metadata, a.pid, buf));
	EXPECT_COUNTS(COUNTS(0), watch_counts(_metadata, b.pid, buf));
	/*
	 * The grandchild, forked after the scope was set, was tracked: at least its 16 writes
	 * to buf (it has no watch, so its stack and libc copies count as well).
	 */
	ASSERT_EQ(1, cowstat_procs_match(a.pid, 1, l, 2));
	EXPECT_LE(16, l[0].counts.c[COWSTAT_COPY]);
	EXPECT_STREQ("exited", l[0].state);
	ASSERT_EQ(0, cowstat_control("scope all"));
	EXPECT_EQ(0, child_finish(&a));
	EXPECT_EQ(0, child_finish(&b));
}

struct regions_arg {
	char *heap, *anon, *file;
	size_t h, m, f;
};

static void write_regions(void *arg)
{
	struct regions_arg *a = arg;

	touch(a->heap, 0, a->h);
	touch(a->anon, 0, a->m);
	touch(a->file, 0, a->f);
}

/* regions: counts of one process split by region class, in the right class. */
static int regions_read(pid_t pid, const char *region, struct cowstat_counts *out)
{
	/* Every record's rows, exited ones too: 64 KiB was too small after eight cow_test runs. */
	static char rbuf[8 << 20];
	char *line, *save, name[16];
	int found = -1;

	if (cowstat_read_file(COWSTAT_FILE_REGIONS, rbuf, sizeof(rbuf)))
		return -1;
	memset(out, 0, sizeof(*out));
	for (line = strtok_r(rbuf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long ns;
		int p, off, n, i;

		if (sscanf(line, "%d %llu %15s%n", &p, &ns, name, &off) != 3)
			continue;
		if (p != pid || strcmp(name, region))
			continue;
		for (i = 0; i < COWSTAT_NR_CLASSES; i++) {
			if (sscanf(line + off, " %lu%n", &out->c[i], &n) != 1)
				return -1;
			off += n;
		}
		found = 0;
	}
	return found;
}

/*
 * A child writes h heap pages (sbrk), m anonymous mmap pages and f private file pages that the
 * parent had dirtied (heap, anon) or only read (file). Every region's line holds those
 * faults, in the right class; other faults of the child (its stack, libc data) may add to
 * them, so the region lines are checked from below and the watches exactly.
 */
TEST_F(cow, region_breakdown)
{
	struct regions_arg a = { .h = 12, .m = 7, .f = 5 };
	struct cowstat_counts c;
	struct child ch;
	int fd;

	a.heap = sbrk(0);
	ASSERT_NE((void *)-1, sbrk(16 * PAGE + PAGE));
	a.heap = (char *)(((uintptr_t)a.heap + PAGE - 1) & ~(PAGE - 1));
	a.anon = map_anon(16, MADV_NOHUGEPAGE);
	a.file = map_file_private(16, &fd);
	ASSERT_NE(NULL, a.anon);
	ASSERT_NE(NULL, a.file);
	touch(a.heap, 0, 16);
	touch(a.anon, 0, 16);
	EXPECT_EQ(16 * 'f', read_pages(a.file, 16));
	ASSERT_LT(0, child_start(&ch, write_regions, &a));
	ASSERT_EQ(0, cowstat_control("watch %d %p %lu", ch.pid, a.heap, 16 * PAGE));
	ASSERT_EQ(0, cowstat_control("watch %d %p %lu", ch.pid, a.anon, 16 * PAGE));
	ASSERT_EQ(0, cowstat_control("watch %d %p %lu", ch.pid, a.file, 16 * PAGE));
	child_run(&ch);
	EXPECT_COUNTS(COUNTS([COWSTAT_COPY] = a.h), watch_counts(_metadata, ch.pid, a.heap));
	EXPECT_COUNTS(COUNTS([COWSTAT_COPY] = a.m), watch_counts(_metadata, ch.pid, a.anon));
	EXPECT_COUNTS(COUNTS([COWSTAT_FILE] = a.f), watch_counts(_metadata, ch.pid, a.file));

	ASSERT_EQ(0, regions_read(ch.pid, "heap", &c));
	EXPECT_LE(a.h, c.c[COWSTAT_COPY]);
	EXPECT_EQ(0, c.c[COWSTAT_FILE]);
	ASSERT_EQ(0, regions_read(ch.pid, "anon", &c));
	EXPECT_LE(a.m, c.c[COWSTAT_COPY]);
	EXPECT_EQ(0, c.c[COWSTAT_FILE]);
	ASSERT_EQ(0, regions_read(ch.pid, "file", &c));
	EXPECT_LE(a.f, c.c[COWSTAT_FILE]);
	/* A process that runs any code writes to its stack: the stack line exists too. */
	EXPECT_EQ(0, regions_read(ch.pid, "stack", &c));
	EXPECT_EQ(-1, regions_read(ch.pid, "other", &c));
	EXPECT_EQ(0, child_finish(&ch));
	close(fd);
}

static int ksm_write(const char *file, const char *val)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/kernel/mm/ksm/%s", file);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ret = fputs(val, f) < 0 ? -1 : 0;
	return fclose(f) ? -1 : ret;
}

static unsigned long ksm_read(const char *file)
{
	unsigned long v = 0;
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/mm/ksm/%s", file);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%lu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* KSM-merged pages are always copied on write. */
TEST_F(cow, ksm)
{
	const size_t n = 16;
	char *buf = map_anon(n, MADV_NOHUGEPAGE);
	unsigned long merged = 0;

	ASSERT_NE(NULL, buf);
	for (size_t i = 0; i < n; i++)
		memset(buf + i * PAGE, 0x5a, PAGE);
	if (madvise(buf, n * PAGE, MADV_MERGEABLE))
		SKIP(return, "MADV_MERGEABLE: %s", strerror(errno));
	if (ksm_write("sleep_millisecs", "10") || ksm_write("pages_to_scan", "1000") ||
	    ksm_write("run", "1"))
		SKIP(return, "cannot start ksmd");
	/* ksmd merges on its second pass: n identical pages are 1 shared + n - 1 sharing. */
	for (int t = 0; t < 300 && merged < n; t++) {
		usleep(100000);
		merged = ksm_read("pages_shared") + ksm_read("pages_sharing");
	}
	ksm_write("run", "0");
	if (merged < n)
		SKIP(return, "ksmd merged only %lu of %zu pages in 30 s", merged, n);
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", getpid(), buf, n * PAGE));
	touch(buf, 0, n);
	EXPECT_COUNTS(COUNTS([COWSTAT_KSM] = n), watch_counts(_metadata, getpid(), buf));
	ksm_write("run", "2");
}

/* reset zeroes every count and forgets exited processes. */
TEST_F(cow, reset)
{
	struct cowstat_proc_line l;
	struct range r;
	struct child c;
	char sum[4096];
	char *buf = watched_writer(_metadata, &c, &r, 8, 8);

	ASSERT_NE(NULL, buf);
	child_run(&c);
	EXPECT_EQ(0, child_finish(&c));
	EXPECT_COUNTS(COUNTS([COWSTAT_COPY] = 8), watch_counts(_metadata, c.pid, buf));
	ASSERT_EQ(1, cowstat_procs_read(c.pid, &l, 1));
	ASSERT_EQ(0, cowstat_control("reset"));
	EXPECT_COUNTS(COUNTS(0), watch_counts(_metadata, c.pid, buf));
	EXPECT_EQ(0, cowstat_procs_read(c.pid, &l, 1));
	ASSERT_EQ(0, cowstat_read_file(COWSTAT_FILE_SUMMARY, sum, sizeof(sum)));
	EXPECT_NE(NULL, strstr(sum, "\nprocs_exited 0\n")) TH_LOG("%s", sum);
}

/*
 * The fault classes over memory backings, as a FIXTURE_VARIANT matrix in the manner of the
 * kernel's selftests/mm/cow.c: every scenario below runs on every backing, and each backing
 * says which classes the scenario must count there.
 */
enum backing {
	BACKING_BASE,		/* base pages */
	BACKING_THP_PMD,	/* one PMD-mapped THP */
	BACKING_THP_PTE,	/* one THP, PTE-mapped */
	BACKING_MTHP,		/* 64 KiB multi-size THP folios (6.8+) */
	BACKING_SWAPPED,	/* base pages swapped out (a zram swap device, during the test) */
	BACKING_FILE,		/* MAP_PRIVATE file pages, read, never written */
};

FIXTURE(backing) {
	char *buf;
	size_t n;
	int fd;
	int swap;	/* this test turned swap on */
};

FIXTURE_VARIANT(backing) {
	enum backing kind;
};

FIXTURE_VARIANT_ADD(backing, base) { .kind = BACKING_BASE };
FIXTURE_VARIANT_ADD(backing, thp_pmd) { .kind = BACKING_THP_PMD };
FIXTURE_VARIANT_ADD(backing, thp_pte) { .kind = BACKING_THP_PTE };
FIXTURE_VARIANT_ADD(backing, mthp) { .kind = BACKING_MTHP };
FIXTURE_VARIANT_ADD(backing, swapped) { .kind = BACKING_SWAPPED };
FIXTURE_VARIANT_ADD(backing, file) { .kind = BACKING_FILE };

#define COWSTAT_ZRAM "/sys/block/zram0"

/*
 * Swap for the swapped backing: a 64 MiB zram device, swapped on only while that test runs
 * (swap during the other tests could change their counts). The device is sized once and
 * never reset: right after swapoff the kernel may still hold it, and a reset then fails
 * (EBUSY, seen on 6.12). 0 on; 1 no swap possible (@why says why); -1 error.
 */
static int swap_on(char *why, size_t size)
{
	char disksize[32] = "";
	FILE *f;

	if (access(COWSTAT_ZRAM, F_OK) && system("modprobe zram num_devices=1 2>/dev/null")) {
		snprintf(why, size, "no swap: this kernel has no zram (modprobe zram failed)");
		return 1;
	}
	f = fopen(COWSTAT_ZRAM "/disksize", "r");
	if (f) {
		if (!fgets(disksize, sizeof(disksize), f))
			disksize[0] = '\0';
		fclose(f);
	}
	if ((atol(disksize) == 0 && cowstat_write_file(COWSTAT_ZRAM "/disksize", "64M")) ||
	    system("mkswap /dev/zram0 > /dev/null") || swapon("/dev/zram0", 0)) {
		snprintf(why, size, "no swap: zram0 could not be set up as swap (%s)",
			 strerror(errno));
		return -1;
	}
	return 0;
}

static void swap_off(void)
{
	swapoff("/dev/zram0");
}

/* Pages [0, @n) of @buf that /proc/self/pagemap shows swapped out (bit 62); -1 on error. */
static long swapped_pages(char *buf, size_t n)
{
	unsigned long long *ent = calloc(n, sizeof(*ent));
	long in = 0;

	if (!ent || cowstat_pagemap(buf, 0, n, ent))
		in = -1;
	for (size_t i = 0; in >= 0 && i < n; i++)
		in += COWSTAT_PM_SWAPPED(ent[i]);
	free(ent);
	return in;
}

FIXTURE_SETUP(backing)
{
	char why[160] = "";
	long got;
	int ret;

	self->fd = -1;
	test_setup(_metadata);
	switch (variant->kind) {
	case BACKING_BASE:
	case BACKING_SWAPPED:
		self->n = 64;
		self->buf = map_anon(self->n, MADV_NOHUGEPAGE);
		ASSERT_NE(NULL, self->buf);
		touch(self->buf, 0, self->n);
		if (variant->kind == BACKING_BASE)
			break;
		ret = swap_on(why, sizeof(why));
		ASSERT_LE(0, ret) TH_LOG("%s", why);
		if (ret)
			SETUP_SKIP("%s", why);
		/* The teardown runs only after a completed setup: swap goes off here otherwise. */
		self->swap = 1;
		ret = madvise(self->buf, self->n * PAGE, MADV_PAGEOUT);
		got = swapped_pages(self->buf, self->n);
		if (ret || got != (long)self->n) {
			swap_off();
			ASSERT_EQ(0, ret);
			SETUP_SKIP("MADV_PAGEOUT swapped out %ld of %zu pages", got, self->n);
		}
		break;
	case BACKING_THP_PMD:
	case BACKING_THP_PTE:
		if (cowstat_sysfs_has("/sys/kernel/mm/transparent_hugepage/enabled", "[never]"))
			SETUP_SKIP("THP disabled");
		self->n = HPAGE / PAGE;
		self->buf = map_thp(1);
		ASSERT_NE(NULL, self->buf);
		memset(self->buf, 1, HPAGE);
		if (anon_huge_kb(self->buf) < 2048)
			SETUP_SKIP("no THP materialised (AnonHugePages %ld kB)",
				   anon_huge_kb(self->buf));
		if (variant->kind == BACKING_THP_PMD)
			break;
		/* As cow.c does: one page read-only for a moment PTE-maps the whole THP. */
		ASSERT_EQ(0, mprotect(self->buf + PAGE, PAGE, PROT_READ));
		ASSERT_EQ(0, mprotect(self->buf + PAGE, PAGE, PROT_READ | PROT_WRITE));
		ASSERT_EQ(0, anon_huge_kb(self->buf));
		break;
	case BACKING_MTHP:
		self->n = 4 * COWSTAT_MTHP_PAGES;
		ret = cowstat_mthp_buffer(self->n, &self->buf, why, sizeof(why));
		ASSERT_LE(0, ret);
		if (ret)
			SETUP_SKIP("%s", why);
		break;
	case BACKING_FILE:
		self->n = 32;
		self->buf = map_file_private(self->n, &self->fd);
		ASSERT_NE(NULL, self->buf);
		ASSERT_EQ(self->n * 'f', read_pages(self->buf, self->n));
		break;
	}
}

FIXTURE_TEARDOWN(backing)
{
	if (self->buf)
		munmap(self->buf, self->n * PAGE);
	if (self->fd >= 0)
		close(self->fd);
	if (self->swap)
		swap_off();
	test_teardown();
}

/*
 * A child writes K of the N pages it inherited; the parent's counts stay 0. K spans the
 * first 64 KiB folio boundary. Base, PTE-mapped THP and mTHP pages are copied one by one;
 * a PMD-mapped THP is first split in the child (thp_split), then its pages copied; a swapped
 * page still shared with the parent is read in and copied (do_swap_page() -> do_wp_page());
 * a file page is copied from the page cache (file).
 */
TEST_F(backing, child_writes)
{
	const size_t k = self->n / 4 + 4;
	struct cowstat_counts want = { 0 };
	struct range r = { self->buf, 0, k };
	struct child c;

	ASSERT_LT(0, child_start(&c, write_range, &r));
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", c.pid, self->buf, self->n * PAGE));
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", getpid(), self->buf, self->n * PAGE));
	child_run(&c);
	want.c[variant->kind == BACKING_FILE ? COWSTAT_FILE : COWSTAT_COPY] = k;
	if (variant->kind == BACKING_THP_PMD)
		want.c[COWSTAT_THP_SPLIT] = 1;
	EXPECT_COUNTS(want, watch_counts(_metadata, c.pid, self->buf));
	EXPECT_COUNTS(COUNTS(0), watch_counts(_metadata, getpid(), self->buf));
	EXPECT_EQ(0, child_finish(&c));
}

/* What the writes of all N pages did, read without cowstat: frames before and after. */
struct writes {
	size_t same;	/* pages whose frame did not change: reused in place */
	size_t moved;	/* pages that got a new frame: copied */
};

/*
 * Write pages [0, N), with the frames before and after from pagemap. Every page must be
 * present and write-protected before (so that each write is exactly one fault): swapped-out
 * pages are read in first, and, since a page read in may be mapped writable, write-protected
 * again by clearing soft-dirty (@wp, for the scenarios where fork did not do it). The
 * thread's minor faults cannot stand in for that: they counted one fault more than there
 * were pages, once in eight runs (6.12), a fault that was no write-protect fault.
 */
static int measure_writes(struct __test_metadata *_metadata, FIXTURE_DATA(backing) *self,
			  struct writes *w, int wp)
{
	unsigned long long before[512], after[512];
	int ret;

	read_pages(self->buf, self->n);
	if (wp) {
		ret = clear_soft_dirty(self->buf);
		if (ret)
			return ret;
	}
	if (cowstat_pfns(self->buf, 0, self->n, before))
		return -1;
	touch(self->buf, 0, self->n);
	if (cowstat_pfns(self->buf, 0, self->n, after))
		return -1;
	*w = (struct writes){ 0 };
	for (size_t i = 0; i < self->n; i++) {
		if (!before[i] || !after[i])
			return -1;
		if (before[i] == after[i])
			w->same++;
		else
			w->moved++;
	}
	TH_LOG("%zu pages kept their frame, %zu copied", w->same, w->moved);
	return 0;
}

/*
 * The counts the writes must have made, from what measure_writes() saw: a PMD-mapped THP
 * reused whole; file pages all copied from the page cache; anonymous pages copied where the
 * frame moved, reused where it stayed (each write was one fault).
 */
static void expect_writes(struct __test_metadata *_metadata, FIXTURE_DATA(backing) *self,
			  enum backing kind, const struct writes *w)
{
	struct cowstat_counts want = { 0 };

	switch (kind) {
	case BACKING_THP_PMD:
		EXPECT_EQ(self->n, w->same);
		want.c[COWSTAT_THP_REUSE] = 1;
		break;
	case BACKING_FILE:
		EXPECT_EQ(self->n, w->moved);
		want.c[COWSTAT_FILE] = self->n;
		break;
	default:
		want.c[COWSTAT_COPY] = w->moved;
		want.c[COWSTAT_REUSE] = w->same;
	}
	EXPECT_COUNTS(want, watch_counts(_metadata, getpid(), self->buf));
}

/*
 * After the child (which wrote K pages) exited, the parent writes all N. A PMD-mapped THP it
 * now maps alone is reused whole (thp_reuse) and stays a THP; file pages are copied from the
 * page cache. Anonymous pages are reused or copied page by page: 6.1 and 6.12 copy every page
 * of a large folio, 7.x reuses them (__wp_can_reuse_large_anon_folio()), and a base page still
 * in another CPU's LRU batch is copied; which one happened is read independently from the
 * frame numbers before and after, and the counts must match it exactly. Swapped pages are read
 * in first and write-protected again (measure_writes()), since the kernel may map a page it
 * swaps in writable (6.12 did, for 43 of 64).
 */
TEST_F(backing, parent_writes_after_child_exit)
{
	const size_t k = self->n / 4 + 4;
	struct range r = { self->buf, 0, k };
	struct child c;
	struct writes w;
	int ret;

	ASSERT_LT(0, child_start(&c, write_range, &r));
	child_run(&c);
	EXPECT_EQ(0, child_finish(&c));
	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", getpid(), self->buf, self->n * PAGE));
	ret = measure_writes(_metadata, self, &w, variant->kind == BACKING_SWAPPED);
	ASSERT_LE(0, ret);
	if (ret)
		SKIP(return, "no soft-dirty tracking on this kernel (CONFIG_MEM_SOFT_DIRTY)");
	expect_writes(_metadata, self, variant->kind, &w);
	if (variant->kind == BACKING_THP_PMD)
		EXPECT_EQ(2048, anon_huge_kb(self->buf));
}

/*
 * Never forked, write-protected again by clearing soft-dirty (after reading swapped-out pages
 * in, measure_writes()): anonymous pages the process owns alone are reused in place, every
 * one (a PMD-mapped THP whole), file pages copied from the page cache.
 */
TEST_F(backing, exclusive_reuse)
{
	struct writes w;
	int ret;

	ASSERT_EQ(0, cowstat_control("watch %d %p %zu", getpid(), self->buf, self->n * PAGE));
	ret = measure_writes(_metadata, self, &w, 1);
	ASSERT_LE(0, ret);
	if (ret)
		SKIP(return, "no soft-dirty tracking on this kernel (CONFIG_MEM_SOFT_DIRTY)");
	expect_writes(_metadata, self, variant->kind, &w);
	/* Never shared: no anonymous page is copied. */
	if (variant->kind != BACKING_FILE)
		EXPECT_EQ(0, w.moved);
}

TEST_HARNESS_MAIN
