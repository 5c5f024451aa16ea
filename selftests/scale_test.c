// SPDX-License-Identifier: GPL-2.0
/*
 * The sharing snapshot at scale: sparse address spaces. A member with a 1 TiB MAP_NORESERVE
 * reservation and a few touched pages, alone and in a forked family, with exact answers; the
 * walk visits a member only where it has page tables, so such a family is snapshotted in
 * about the time of the same family without the reservation (Documentation/cowstat.rst,
 * "Cost and safety").
 *
 * The touched pages sit on both sides of page table boundaries (2 MiB, 1 GiB, 512 GiB: pmd,
 * pud and pgd entries on 4-level paging) and at both ends of the reservation, where a skip
 * that is off by one entry would lose them. The reservation is MADV_NOHUGEPAGE: one written
 * byte is one 4 KiB page.
 *
 * And big families: 1,024 forked members with exact figures for each (big_family_exact).
 *
 * Runs with the module loaded (guest-run.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cowstat_test.h"

#define REPORT_SIZE	(1 << 20)
#define GIB		(1UL << 30)
#define RESERVE		(1024 * GIB)	/* 1 TiB */
#define MAX_TOUCH	16
#define FAMILY		16		/* members of the sparse family */

/* Why the snapshot cannot be taken here (root, module loaded), or NULL. */
static const char *snapshot_unavailable(void)
{
	struct stat st;

	if (geteuid())
		return "needs root (debugfs)";
	if (stat(COWSTAT_DEBUGFS_DIR "/" COWSTAT_FILE_SNAPSHOT, &st))
		return "cowstat not loaded";
	return NULL;
}

static unsigned long round_up_to(unsigned long x, unsigned long a)
{
	return (x + a - 1) / a * a;
}

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/*
 * The pages to touch in the reservation at @r: its first and last page, and the pages on
 * both sides of a 512 GiB, a 1 GiB and a 2 MiB boundary inside it, and one in between;
 * sorted, without duplicates. Returns how many (K).
 */
static int touch_pages(unsigned long r, unsigned long *page)
{
	unsigned long b512 = round_up_to(r + 1, 512 * GIB);
	unsigned long b1 = round_up_to(r + 100 * GIB + 1, GIB);
	unsigned long b2 = round_up_to(r + 700 * GIB + 12345 * PAGE, 2UL << 20);
	int n = 0, i, k;

	page[n++] = r;
	page[n++] = r + RESERVE - PAGE;
	page[n++] = b512 - PAGE;
	page[n++] = b512;
	page[n++] = b1 - PAGE;
	page[n++] = b1;
	page[n++] = b2 - PAGE;
	page[n++] = b2;
	page[n++] = r + 300 * GIB + 17 * PAGE;
	qsort(page, n, sizeof(*page), cmp_ulong);
	for (i = 1, k = 1; i < n; i++)
		if (page[i] != page[k - 1] && page[i] < r + RESERVE)
			page[k++] = page[i];
	return k;
}

/* Map the reservation (no memory, no page tables); NULL on failure. */
static char *reserve(void)
{
	char *r = mmap(NULL, RESERVE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (r == MAP_FAILED || madvise(r, RESERVE, MADV_NOHUGEPAGE))
		return NULL;
	return r;
}

/* Write one byte of each page of @page[0..n). */
static void touch(const unsigned long *page, int n, char v)
{
	int i;

	for (i = 0; i < n; i++)
		*(volatile char *)page[i] = v;
}

/*
 * The member: on 'm' it maps the reservation, touches its pages and answers with the
 * reservation's address; on 'u' it unmaps it and answers 0. It never writes other memory
 * between commands (glibc's rseq area unregistered: the kernel would write it). It runs in
 * a fresh exec of this program (MEMBER_ENV names its two pipe ends), so that it shares no
 * anonymous page with the test, whose writes would otherwise turn its shared pages into
 * exclusive ones between two snapshots.
 */
static void __attribute__((noreturn)) member(int cmd, int ans)
{
	unsigned long page[MAX_TOUCH], addr;
	char *r = NULL, c;
	int n = 0;

	if (cowstat_rseq_unregister())
		_exit(1);
	while (read(cmd, &c, 1) == 1) {
		if (c == 'm') {
			r = reserve();
			if (!r)
				_exit(1);
			n = touch_pages((unsigned long)r, page);
			touch(page, n, 1);
			addr = (unsigned long)r;
		} else {
			if (r && munmap(r, RESERVE))
				_exit(1);
			r = NULL;
			addr = 0;
		}
		if (write(ans, &addr, sizeof(addr)) != sizeof(addr))
			_exit(1);
	}
	_exit(0);
}

#define MEMBER_ENV	"COWSTAT_SCALE_MEMBER"

static void __attribute__((constructor)) member_main(void)
{
	const char *fds = getenv(MEMBER_ENV);
	int cmd, ans;

	if (fds && sscanf(fds, "%d %d", &cmd, &ans) == 2)
		member(cmd, ans);
}

/* Start the member (fork, exec); its pid, with *cmd and *ans its pipes, or -1. */
static pid_t start_member(int *cmd, int *ans)
{
	int c[2], a[2];
	char fds[32];
	pid_t pid;

	if (pipe(c) || pipe(a))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(c[1]);
		close(a[0]);
		snprintf(fds, sizeof(fds), "%d %d", c[0], a[1]);
		setenv(MEMBER_ENV, fds, 1);
		execl("/proc/self/exe", "scale_test", (char *)NULL);
		_exit(127);
	}
	close(c[0]);
	close(a[1]);
	*cmd = c[1];
	*ans = a[0];
	return pid;
}

/* Send @c to the member and wait for its answer; the answer, or -1UL. */
static unsigned long ask(int cmd, int ans, char c)
{
	unsigned long a;

	if (write(cmd, &c, 1) != 1 || read(ans, &a, sizeof(a)) != sizeof(a))
		return -1UL;
	return a;
}

static int snap(char *rep, const char *kind, pid_t pid, unsigned long start, unsigned long end)
{
	char cmd[128];

	if (end)
		snprintf(cmd, sizeof(cmd), "%s %d %#lx %#lx", kind, pid, start, end);
	else
		snprintf(cmd, sizeof(cmd), "%s %d", kind, pid);
	return cowstat_snapshot(cmd, rep, REPORT_SIZE);
}

static const char * const proc_cols[] = {
	"anon", "shared", "shared_family", "shared_outside", "exclusive", "zero",
	"file_uncopied", "file_copied", "thp", "thp_shared", "ksm", "swap",
};

/*
 * One member with a 1 TiB reservation and K touched pages: over the whole address space it
 * maps exactly K anonymous pages more than without the reservation, all exclusive, and every
 * other figure is the same; over the reservation alone, exactly the K pages. The baseline is
 * measured the same way, on the same process, after it unmapped the reservation again (and
 * once before, to see that nothing else moved). The member maps and unmaps it once before
 * the measurements, so that no first-time page fault of its own falls between them.
 */
TEST(sparse_member_exact)
{
	char *rep = malloc(REPORT_SIZE), *with = malloc(REPORT_SIZE), *base = malloc(REPORT_SIZE);
	unsigned long r, page[MAX_TOUCH];
	int cmd, ans, k, i;
	const char *why;
	pid_t c;

	ASSERT_NE(NULL, rep);
	ASSERT_NE(NULL, with);
	ASSERT_NE(NULL, base);
	why = snapshot_unavailable();
	if (why)
		SKIP(return, "%s", why);
	c = start_member(&cmd, &ans);
	ASSERT_LT(0, c);
	ASSERT_NE(-1UL, ask(cmd, ans, 'm')) TH_LOG("the member could not map 1 TiB");
	ASSERT_EQ(0, ask(cmd, ans, 'u'));

	ASSERT_EQ(0, snap(base, "pid", c, 0, 0));
	r = ask(cmd, ans, 'm');
	ASSERT_NE(-1UL, r);
	k = touch_pages(r, page);
	TH_LOG("reservation %#lx-%#lx, %d pages touched", r, r + RESERVE, k);
	ASSERT_LE(8, k);
	ASSERT_EQ(0, snap(with, "pid", c, 0, 0));

	/* The reservation alone: the K pages, nothing else. */
	ASSERT_EQ(0, snap(rep, "pid", c, r, r + RESERVE));
	EXPECT_EQ(k, cowstat_snap_proc(rep, c, "all", "anon"));
	EXPECT_EQ(k, cowstat_snap_proc(rep, c, "all", "exclusive"));
	EXPECT_EQ(k, cowstat_snap_proc(rep, c, "anon", "anon"));
	for (i = 1; i < ARRAY_SIZE(proc_cols); i++) {
		const char *col = proc_cols[i];

		if (strcmp(col, "exclusive"))
			EXPECT_EQ(0, cowstat_snap_proc(rep, c, "all", col)) TH_LOG("%s", col);
	}
	EXPECT_EQ(k, cowstat_snap_family(rep, "anon_mapped"));
	EXPECT_EQ(k, cowstat_snap_family(rep, "resident"));
	EXPECT_EQ(k, cowstat_snap_family(rep, "distinct"));
	EXPECT_EQ(0, cowstat_snap_family(rep, "saved_pages"));
	/* One page on each side: nothing of the reservation's edges is lost or invented. */
	ASSERT_EQ(0, snap(rep, "pid", c, r + PAGE, r + RESERVE - PAGE));
	EXPECT_EQ(k - 2, cowstat_snap_proc(rep, c, "all", "anon"));

	/* The reservation unmapped again: the baseline, the same as before it was mapped. */
	ASSERT_EQ(0, ask(cmd, ans, 'u'));
	ASSERT_EQ(0, snap(rep, "pid", c, 0, 0));
	for (i = 0; i < ARRAY_SIZE(proc_cols); i++) {
		const char *col = proc_cols[i];
		long long b = cowstat_snap_proc(rep, c, "all", col);
		long long extra = !strcmp(col, "anon") || !strcmp(col, "exclusive") ? k : 0;

		ASSERT_LE(0, b) TH_LOG("%s", col);
		EXPECT_EQ(b, cowstat_snap_proc(base, c, "all", col)) TH_LOG("%s moved", col);
		EXPECT_EQ(b + extra, cowstat_snap_proc(with, c, "all", col)) TH_LOG("%s", col);
	}
	EXPECT_EQ(cowstat_snap_family(rep, "anon_mapped") + k,
		  cowstat_snap_family(with, "anon_mapped"));
	EXPECT_EQ(cowstat_snap_family(rep, "resident") + k, cowstat_snap_family(with, "resident"));
	EXPECT_EQ(cowstat_snap_family(rep, "distinct") + k, cowstat_snap_family(with, "distinct"));
	EXPECT_EQ(cowstat_snap_family(rep, "saved_pages"),
		  cowstat_snap_family(with, "saved_pages"));

	close(cmd);
	close(ans);
	ASSERT_EQ(c, waitpid(c, NULL, 0));
	free(base);
	free(with);
	free(rep);
}

/* A page only child @i (1..FAMILY-1) writes: its own, far from the others' and the K. */
static unsigned long own_page(unsigned long r, int i, const unsigned long *page, int k)
{
	unsigned long p = r + i * 61 * GIB + (i + 3) * PAGE;
	int j;

	for (j = 0; j < k; j++) {
		if (page[j] == p) {
			p += 64 * PAGE;
			j = -1;
		}
	}
	return p;
}

/*
 * The sparse family: its root maps the reservation, writes K pages and forks FAMILY - 1
 * children; child i then writes one page of its own there (a page no other member has page
 * tables for), and says so to the root on @kids. Every member then holds until the test
 * releases @s. The root answers the reservation's address on @s once all members are there
 * (0 if something failed).
 */
static void sparse_family(struct cowstat_sync *s)
{
	unsigned long page[MAX_TOUCH], r = 0;
	struct cowstat_sync kids;
	int i, k;
	char *res;

	if (cowstat_rseq_unregister() || cowstat_sync_init(&kids))
		goto out;
	res = reserve();
	if (!res)
		goto out;
	k = touch_pages((unsigned long)res, page);
	touch(page, k, 1);
	for (i = 1; i < FAMILY; i++) {
		pid_t p = fork();

		if (p < 0)
			goto out;
		if (p == 0) {
			*(volatile char *)own_page((unsigned long)res, i, page, k) = 2;
			if (cowstat_sync_ready(&kids, NULL, 0))
				_exit(1);
			cowstat_sync_hold(s);
			_exit(0);
		}
	}
	for (i = 1; i < FAMILY; i++)
		if (cowstat_sync_wait_ready(&kids, NULL, 0))
			goto out;
	r = (unsigned long)res;
out:
	if (cowstat_sync_ready(s, &r, sizeof(r)))
		_exit(1);
	cowstat_sync_hold(s);
	while (wait(NULL) > 0)
		;
	_exit(0);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* pids of the root's children, in the order of the report's proc lines; how many. */
static int children_of(const char *rep, pid_t root, pid_t *pid, int max)
{
	const char *p;
	int n = 0, a, b, end;

	/* One line per region of each member: "all" (%n is set only if it matched). */
	for (p = rep; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		end = 0;
		if (sscanf(p, "proc %d %d all %n", &a, &b, &end) == 2 && end && b == root &&
		    n < max)
			pid[n++] = a;
	}
	return n;
}

/*
 * A forked family of FAMILY members sharing the K pages of a 1 TiB reservation, each child
 * with one page of its own there: over the reservation, every member shares exactly the K
 * pages with every other, inside the family, and the family's totals are exact. Over the
 * whole address space the figures are those of the reservation plus those of the rest (no
 * member is skipped where it has pages), and the snapshot takes well under a second: before
 * members were skipped where they have no page tables, it walked every member over every
 * chunk of the reservation: 16 x 131072 chunk walks of 8 MiB, as many as the 4 s of the
 * 64 x 64 GiB benchmark in Documentation/cowstat.rst (an estimate; not measured here).
 */
TEST(sparse_family_exact)
{
	static const char * const fam[] = { "anon_mapped", "resident", "distinct" };
	char *rep = malloc(REPORT_SIZE), *whole = malloc(REPORT_SIZE), cmd[64];
	long long sum[ARRAY_SIZE(fam)] = { 0 }, anon[FAMILY] = { 0 };
	unsigned long r, page[MAX_TOUCH], lo[3], hi[3];
	int k, i, j, part, f;
	const long nf = FAMILY;
	pid_t root, kid[FAMILY];
	struct cowstat_sync s;
	struct timespec t0;
	const char *why;
	long ms;

	ASSERT_NE(NULL, rep);
	ASSERT_NE(NULL, whole);
	why = snapshot_unavailable();
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, cowstat_sync_init(&s));
	root = cowstat_sync_fork(&s);
	ASSERT_LE(0, root);
	if (root == 0)
		sparse_family(&s);
	ASSERT_EQ(0, cowstat_sync_wait_ready(&s, &r, sizeof(r)));
	ASSERT_NE(0, r) TH_LOG("the family could not be built");
	k = touch_pages(r, page);
	lo[0] = 0;
	hi[0] = lo[1] = r;
	hi[1] = lo[2] = r + RESERVE;
	hi[2] = -PAGE;

	/* The reservation. */
	ASSERT_EQ(0, snap(rep, "tree", root, r, r + RESERVE));
	ASSERT_EQ(nf, cowstat_report_word(rep, "members", 1));
	ASSERT_EQ(nf - 1, children_of(rep, root, kid, FAMILY));
	EXPECT_EQ(k, cowstat_snap_proc(rep, root, "all", "anon"));
	EXPECT_EQ(k, cowstat_snap_proc(rep, root, "all", "shared"));
	EXPECT_EQ(k, cowstat_snap_proc(rep, root, "all", "shared_family"));
	EXPECT_EQ(0, cowstat_snap_proc(rep, root, "all", "exclusive"));
	for (i = 0; i < nf - 1; i++) {
		EXPECT_EQ(k + 1, cowstat_snap_proc(rep, kid[i], "all", "anon"));
		EXPECT_EQ(k, cowstat_snap_proc(rep, kid[i], "all", "shared_family"));
		EXPECT_EQ(0, cowstat_snap_proc(rep, kid[i], "all", "shared_outside"));
		EXPECT_EQ(1, cowstat_snap_proc(rep, kid[i], "all", "exclusive"));
		EXPECT_EQ(0, cowstat_snap_proc(rep, kid[i], "all", "zero"));
		EXPECT_EQ(0, cowstat_snap_proc(rep, kid[i], "all", "thp"));
		EXPECT_EQ(k, cowstat_snap_matrix(rep, root, kid[i]));
		EXPECT_EQ(k + 1, cowstat_snap_matrix(rep, kid[i], kid[i]));
		for (j = 0; j < nf - 1; j++)
			if (j != i)
				EXPECT_EQ(k, cowstat_snap_matrix(rep, kid[i], kid[j]));
	}
	EXPECT_EQ(k, cowstat_snap_matrix(rep, root, root));
	EXPECT_EQ(nf * k + nf - 1, cowstat_snap_family(rep, "anon_mapped"));
	EXPECT_EQ(nf * k + nf - 1, cowstat_snap_family(rep, "resident"));
	EXPECT_EQ(k + nf - 1, cowstat_snap_family(rep, "distinct"));
	EXPECT_EQ((nf - 1) * k, cowstat_snap_family(rep, "saved_pages"));

	/* The whole address space, timed. */
	snprintf(cmd, sizeof(cmd), "tree %d", root);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, cowstat_snapshot(cmd, whole, REPORT_SIZE));
	ms = ms_since(&t0);
	TH_LOG("tree snapshot of %d members with 1 TiB reservations: %ld ms", FAMILY, ms);
	EXPECT_GT(1000L * cowstat_time_scale(), ms);

	/*
	 * Below and above the reservation, added to it: the same figures. A frame of a fork
	 * family is at one address in all its members, so the ranges' distinct frames add up.
	 */
	for (part = 0; part < 3; part++) {
		ASSERT_EQ(0, snap(rep, "tree", root, lo[part], hi[part]));
		for (f = 0; f < ARRAY_SIZE(fam); f++)
			sum[f] += cowstat_snap_family(rep, fam[f]);
		anon[0] += cowstat_snap_proc(rep, root, "all", "anon");
		for (i = 0; i < nf - 1; i++)
			anon[i + 1] += cowstat_snap_proc(rep, kid[i], "all", "anon");
	}
	for (f = 0; f < ARRAY_SIZE(fam); f++) {
		const char *col = fam[f];

		EXPECT_EQ(sum[f], cowstat_snap_family(whole, col)) TH_LOG("%s", col);
	}
	EXPECT_EQ(anon[0], cowstat_snap_proc(whole, root, "all", "anon"));
	for (i = 0; i < nf - 1; i++)
		EXPECT_EQ(anon[i + 1], cowstat_snap_proc(whole, kid[i], "all", "anon"));

	cowstat_sync_release(&s);
	ASSERT_EQ(root, waitpid(root, NULL, 0));
	cowstat_sync_close(&s);
	free(whole);
	free(rep);
}

#define BIG		1024		/* members of the big family: snapshot_max_members */
#define BIG_PAGES	64		/* pages of its region */
#define BIG_REPORT	(4 << 20)

/*
 * Fork a child of the big family: it writes its page of @reg (child @i > 0), says so to the
 * root on @kids and holds until the test releases @s. 0, or -1 if fork failed.
 */
static int big_child(char *reg, int i, struct cowstat_sync *kids, struct cowstat_sync *s)
{
	pid_t p = fork();

	if (p)
		return p < 0 ? -1 : 0;
	if (i)
		reg[(i % BIG_PAGES) * PAGE] = 2;
	if (cowstat_sync_ready(kids, NULL, 0))
		_exit(1);
	cowstat_sync_hold(s);
	_exit(0);
}

/*
 * The big family: its root writes the BIG_PAGES pages of @reg and forks BIG - 1 children,
 * one after the other; child i writes page i % BIG_PAGES, and every child holds until the
 * test releases @s. The root answers BIG - 1 on @s once all have written (-1 if something
 * failed), then forks one more child, which writes nothing, for each byte read from @cmd,
 * answering 1 (0 if it failed), until @cmd closes.
 */
static void __attribute__((noreturn)) big_family(char *reg, struct cowstat_sync *s, int cmd)
{
	struct cowstat_sync kids;
	long n = -1;
	int i;
	char c;

	if (cowstat_rseq_unregister() || cowstat_sync_init(&kids))
		goto out;
	memset(reg, 1, BIG_PAGES * PAGE);
	for (i = 1; i < BIG; i++)
		if (big_child(reg, i, &kids, s) || cowstat_sync_wait_ready(&kids, NULL, 0))
			goto out;
	n = BIG - 1;
	while (!cowstat_sync_ready(s, &n, sizeof(n)) && read(cmd, &c, 1) == 1)
		n = !big_child(reg, 0, &kids, s) && !cowstat_sync_wait_ready(&kids, NULL, 0);
	n = 0;
out:
	if (n < 0 && cowstat_sync_ready(s, &n, sizeof(n)))
		_exit(1);
	while (wait(NULL) > 0)
		;
	_exit(0);
}

#define CGROUP		"/sys/fs/cgroup"
#define CG_TEST		CGROUP "/cowstat-scale"
#define CG_FILES	8

static long long read_ll(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return atoll(buf);
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

/*
 * In a memory cgroup of its own, a writer takes CG_FILES snapshots of @cmd on as many open
 * files, and answers on @s its cgroup's memory.current before, while the files (and their
 * reports) are open, and after they are closed; -1 for each if it could not.
 */
static void __attribute__((noreturn)) charged_writer(const char *cmd, struct cowstat_sync *s)
{
	long long m[3] = { -1, -1, -1 };
	int fd[CG_FILES], i, ok = 1;
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", COWSTAT_DEBUGFS_DIR, COWSTAT_FILE_SNAPSHOT);
	if (write_str(CG_TEST "/cgroup.procs", "0"))
		goto out;
	m[0] = read_ll(CG_TEST "/memory.current");
	for (i = 0; i < CG_FILES; i++) {
		fd[i] = open(path, O_RDWR | O_CLOEXEC);
		ok &= fd[i] >= 0 && write(fd[i], cmd, strlen(cmd)) == (ssize_t)strlen(cmd);
	}
	m[1] = ok ? read_ll(CG_TEST "/memory.current") : -1;
	for (i = 0; i < CG_FILES; i++)
		close(fd[i]);
	m[2] = ok ? read_ll(CG_TEST "/memory.current") : -1;
out:
	_exit(cowstat_sync_ready(s, m, sizeof(m)) != 0);
}

/*
 * A report is kept with its open file, charged to the writer's memory cgroup: 496 bytes of
 * counters per member. CG_FILES of them are 8 x 1,024 x 496 bytes, 3.9 MiB, far more than
 * what a memcg keeps charged ahead per CPU (64 pages) or what the writer's own pages take.
 * Returns why it cannot be checked here, or NULL; *grew and *freed are the changes.
 */
static const char *memcg_charge(const char *cmd, long long *grew, long long *freed)
{
	struct cowstat_sync s;
	long long m[3];
	pid_t w;

	if (access(CGROUP "/cgroup.controllers", F_OK))
		return "no cgroup2 at " CGROUP;
	if (write_str(CGROUP "/cgroup.subtree_control", "+memory"))
		return "the memory controller cannot be enabled";
	if (mkdir(CG_TEST, 0755) && errno != EEXIST)
		return "cannot make a cgroup";
	if (cowstat_sync_init(&s))
		return "pipe";
	w = cowstat_sync_fork(&s);
	if (w == 0)
		charged_writer(cmd, &s);
	if (w < 0 || cowstat_sync_wait_ready(&s, m, sizeof(m)))
		m[0] = -1;
	cowstat_sync_close(&s);
	if (w > 0)
		waitpid(w, NULL, 0);
	rmdir(CG_TEST);
	if (m[0] < 0 || m[1] < 0 || m[2] < 0)
		return "the writer could not measure its cgroup";
	*grew = m[1] - m[0];
	*freed = m[1] - m[2];
	return NULL;
}

/* The words of the line at @p (up to its newline) into w[0..max); how many. */
static int split_line(const char *p, char *line, size_t size, char **w, int max)
{
	char *save, *t;
	int n = 0;

	snprintf(line, size, "%.*s", (int)strcspn(p, "\n"), p);
	for (t = strtok_r(line, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	return n;
}

/*
 * A family of 1,024 forked members, the most a snapshot takes by default, over a region of
 * 64 pages that spans two chunks. The root wrote all 64 pages before forking; child i wrote
 * page i % 64, so page 0 has 15 copies and pages 1 to 63 have 16. Every child maps 64
 * pages, 63 shared with the root and one of its own; the root's 64 are all shared inside the
 * family; 64 + 1,023 distinct frames. Each member's figures are read from one pass over the
 * report. The report is the same read in 97-byte pieces, and a write between two pieces
 * is refused without losing it; the reports are charged to the writer's memory cgroup; one
 * member more gives E2BIG.
 */
TEST(big_family_exact)
{
	char *rep = malloc(BIG_REPORT), *piece = malloc(BIG_REPORT), *w[32], line[1024], path[256];
	int cmd[2], col[4], i, nw, nkids = 0, fd;
	static const char * const cols[] = { "anon", "shared", "shared_family", "exclusive" };
	const long want_kid[] = { BIG_PAGES, BIG_PAGES - 1, BIG_PAGES - 1, 1 };
	const long want_root[] = { BIG_PAGES, BIG_PAGES, BIG_PAGES, 0 };
	unsigned long r, map;
	struct timespec t0;
	size_t len = 0;
	const char *why, *p;
	char snapcmd[96];
	long long grew, freed;
	struct cowstat_sync s;
	pid_t root, pid;
	ssize_t n;
	long got;

	ASSERT_NE(NULL, rep);
	ASSERT_NE(NULL, piece);
	why = snapshot_unavailable();
	if (why)
		SKIP(return, "%s", why);
	if (cowstat_param_get("snapshot_max_members") != BIG)
		SKIP(return, "snapshot_max_members is not %d", BIG);
	/* The region: 32 pages below a 1 MiB boundary, NOHUGEPAGE. */
	map = (unsigned long)mmap(NULL, 4UL << 20, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE((unsigned long)MAP_FAILED, map);
	r = round_up_to(map + (1UL << 20), 1UL << 20) - 32 * PAGE;
	ASSERT_EQ(0, madvise((void *)map, 4UL << 20, MADV_NOHUGEPAGE));
	/*
	 * @s: the root's answers, and the family's hold. @cmd: the root's commands (a byte, one
	 * more member), a pipe of its own: every member holds on @s, and would take the byte.
	 */
	ASSERT_EQ(0, cowstat_sync_init(&s));
	ASSERT_EQ(0, pipe(cmd));
	root = cowstat_sync_fork(&s);
	ASSERT_LE(0, root);
	if (root == 0) {
		close(cmd[1]);
		big_family((char *)r, &s, cmd[0]);
	}
	close(cmd[0]);
	ASSERT_EQ(0, cowstat_sync_wait_ready(&s, &got, sizeof(got)));
	ASSERT_EQ(BIG - 1, got) TH_LOG("the family could not be built");

	snprintf(snapcmd, sizeof(snapcmd), "tree %d %#lx %#lx", root, r, r + BIG_PAGES * PAGE);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, cowstat_snapshot(snapcmd, rep, BIG_REPORT));
	TH_LOG("tree snapshot of %d members: %ld ms", BIG, ms_since(&t0));
	ASSERT_EQ(BIG, cowstat_report_word(rep, "members", 1));
	for (i = 0; i < ARRAY_SIZE(cols); i++) {
		col[i] = cowstat_report_column(rep, "proc_columns", cols[i]);
		ASSERT_LT(3, col[i]) TH_LOG("%s", cols[i]);
	}
	for (p = rep; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, "proc ", 5))
			continue;
		nw = split_line(p, line, sizeof(line), w, ARRAY_SIZE(w));
		ASSERT_LT(col[ARRAY_SIZE(cols) - 1], nw);
		if (strcmp(w[3], "all"))
			continue;
		pid = atoi(w[1]);
		if (pid != root) {
			ASSERT_EQ(root, atoi(w[2])) TH_LOG("pid %d", pid);
			nkids++;
		}
		for (i = 0; i < ARRAY_SIZE(cols); i++)
			EXPECT_EQ(pid == root ? want_root[i] : want_kid[i], atol(w[col[i]]))
				TH_LOG("pid %d column %d", pid, i);
	}
	EXPECT_EQ(BIG - 1, nkids);
	EXPECT_EQ(BIG * BIG_PAGES, cowstat_snap_family(rep, "anon_mapped"));
	EXPECT_EQ(BIG * BIG_PAGES, cowstat_snap_family(rep, "resident"));
	EXPECT_EQ(BIG_PAGES + BIG - 1, cowstat_snap_family(rep, "distinct"));
	EXPECT_EQ(BIG * BIG_PAGES - BIG_PAGES - BIG + 1, cowstat_snap_family(rep, "saved_pages"));
	EXPECT_NE(NULL, strstr(rep, "\nmatrix none\n"));

	/*
	 * Read in pieces: the same report (the family does not move). A write in the middle
	 * (at offset 97) is refused and loses nothing: the read goes on to the end of the
	 * report; after a seek to 0 a write replaces it.
	 */
	snprintf(path, sizeof(path), "%s/%s", COWSTAT_DEBUGFS_DIR, COWSTAT_FILE_SNAPSHOT);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(strlen(snapcmd), write(fd, snapcmd, strlen(snapcmd)));
	ASSERT_EQ(97, read(fd, piece, 97));
	len = 97;
	snprintf(line, sizeof(line), "pid %d %#lx %#lx", root, r, r + BIG_PAGES * PAGE);
	EXPECT_EQ(-1, write(fd, line, strlen(line)));
	EXPECT_EQ(EINVAL, errno);
	while (len + 97 < BIG_REPORT && (n = read(fd, piece + len, 97)) > 0)
		len += n;
	piece[len] = '\0';
	EXPECT_EQ(strlen(rep), len);
	EXPECT_EQ(0, strcmp(rep, piece));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(strlen(line), write(fd, line, strlen(line)));
	n = read(fd, piece, BIG_REPORT - 1);
	ASSERT_LT(0, n);
	piece[n] = '\0';
	EXPECT_EQ(1, cowstat_report_word(piece, "members", 1));
	EXPECT_EQ(BIG_PAGES, cowstat_snap_proc(piece, root, "all", "shared_family") +
			     cowstat_snap_proc(piece, root, "all", "shared_outside"));
	close(fd);

	/* The reports are charged to the writer's memory cgroup, and uncharged at close. */
	why = memcg_charge(snapcmd, &grew, &freed);
	EXPECT_EQ(NULL, why) TH_LOG("memcg charge: %s", why);
	if (!why) {
		TH_LOG("%d reports: memory.current +%lld bytes, -%lld at close", CG_FILES, grew,
		       freed);
		EXPECT_LE((CG_FILES - 1) * BIG * 496LL, grew);
		EXPECT_LE((CG_FILES - 1) * BIG * 496LL, freed);
	}

	/* One more member than snapshot_max_members. */
	ASSERT_EQ(1, write(cmd[1], "+", 1));
	ASSERT_EQ(0, cowstat_sync_wait_ready(&s, &got, sizeof(got)));
	ASSERT_EQ(1, got);
	EXPECT_EQ(-E2BIG, cowstat_snapshot(snapcmd, rep, BIG_REPORT));

	close(cmd[1]);
	cowstat_sync_release(&s);
	ASSERT_EQ(root, waitpid(root, NULL, 0));
	cowstat_sync_close(&s);
	munmap((void *)map, 4UL << 20);
	free(piece);
	free(rep);
}

TEST_HARNESS_MAIN
