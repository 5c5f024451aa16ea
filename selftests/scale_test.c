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
 * Runs with the module loaded (guest-run.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
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
 * tables for). Every member then waits until @go closes. Answers the reservation's address
 * on @ready once all members are there (0 if something failed).
 */
static void sparse_family(int ready, int go)
{
	unsigned long page[MAX_TOUCH], r = 0;
	int ok[2], i, k;
	char *res, c;

	if (cowstat_rseq_unregister() || pipe(ok))
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
			if (write(ok[1], "r", 1) != 1)
				_exit(1);
			while (read(go, &c, 1) > 0)
				;
			_exit(0);
		}
	}
	for (i = 1; i < FAMILY; i++)
		if (read(ok[0], &c, 1) != 1)
			goto out;
	r = (unsigned long)res;
out:
	if (write(ready, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	while (read(go, &c, 1) > 0)
		;
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
	int ready[2], go[2], k, i, j, part, f;
	const long nf = FAMILY;
	pid_t root, kid[FAMILY];
	struct timespec t0;
	const char *why;
	long ms;

	ASSERT_NE(NULL, rep);
	ASSERT_NE(NULL, whole);
	why = snapshot_unavailable();
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	root = fork();
	ASSERT_LE(0, root);
	if (root == 0) {
		close(ready[0]);
		close(go[1]);
		sparse_family(ready[1], go[0]);
	}
	close(ready[1]);
	close(go[0]);
	ASSERT_EQ(sizeof(r), read(ready[0], &r, sizeof(r)));
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

	close(go[1]);
	ASSERT_EQ(root, waitpid(root, NULL, 0));
	free(whole);
	free(rep);
}

TEST_HARNESS_MAIN
