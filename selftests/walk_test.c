// SPDX-License-Identifier: GPL-2.0
/*
 * The sharing snapshot (debugfs "snapshot") on a synthetic fork family with known answers.
 *
 * The test process forks a family root R, which builds, in a window reserved by the test
 * (so that the test itself shares nothing there):
 *	THP: 2 MiB, MADV_HUGEPAGE, written (one PMD-mapped THP)
 *	A:   256 pages, MADV_NOHUGEPAGE, written
 *	Z:   64 pages, MADV_NOHUGEPAGE, only read (zero page)
 * then forks C1 and C2. C1 writes A[0..99], reads Z, and forks G, which writes A[200..219].
 * C2 writes A[50..89] and one byte of the THP (the PMD is split in C2 only and one subpage
 * copied). All members then hold on the test's struct cowstat_sync, frozen, while the test
 * takes snapshots.
 * Zero-page ptes are not inherited at fork (the Z VMA has no anon_vma), so only R and C1
 * map the zero page. Expected values are derived in the comments of each test.
 *
 * Runs with the module loaded (guest-run.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cowstat_test.h"

#define PAGE		4096UL
#define HPAGE		(2UL << 20)
#define WIN_SIZE	(8UL << 20)
#define A_OFF		(4UL << 20)
#define A_PAGES		256
#define Z_OFF		(6UL << 20)
#define Z_PAGES		64
#define REPORT_SIZE	(1 << 20)

enum { ROLE_R, ROLE_C1, ROLE_C2, ROLE_G, NR_ROLES };

struct ready_msg {
	int role;
	pid_t pid;
	int thp_ok;
};

static void touch_write(char *p, unsigned long first, unsigned long n, char v)
{
	unsigned long i;

	for (i = first; i < first + n; i++)
		p[i * PAGE] = v;
}

static void touch_read(char *p, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		(void)*(volatile char *)(p + i * PAGE);
}

/* kB of one smaps field of the VMA starting at @addr in process @pid; -1 if not found. */
static long smaps_field(pid_t pid, unsigned long addr, const char *field)
{
	char path[64], line[512];
	unsigned long s, e;
	bool in = false;
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = s == addr;
			continue;
		}
		if (in && !strncmp(line, field, strlen(field)) && line[strlen(field)] == ':') {
			v = strtol(line + strlen(field) + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static void send_ready(struct cowstat_sync *s, int role, int thp_ok)
{
	struct ready_msg m = { .role = role, .pid = getpid(), .thp_ok = thp_ok };

	if (cowstat_sync_ready(s, &m, sizeof(m)))
		_exit(1);
}

/* Hold until the test releases the family, then reap own children and exit. */
static void hold(struct cowstat_sync *s)
{
	cowstat_sync_hold(s);
	while (wait(NULL) > 0)
		;
	_exit(0);
}

static void family_root(char *win, struct cowstat_sync *s)
{
	char *thp = win, *a = win + A_OFF, *z = win + Z_OFF;
	int thp_ok;

	if (mmap(thp, HPAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0) != thp ||
	    mmap(a, A_PAGES * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != a ||
	    mmap(z, Z_PAGES * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != z)
		_exit(1);
	madvise(thp, HPAGE, MADV_HUGEPAGE);
	madvise(a, A_PAGES * PAGE, MADV_NOHUGEPAGE);
	madvise(z, Z_PAGES * PAGE, MADV_NOHUGEPAGE);
	memset(thp, 1, HPAGE);
	touch_write(a, 0, A_PAGES, 2);
	touch_read(z, Z_PAGES);
	thp_ok = smaps_field(getpid(), (unsigned long)thp, "AnonHugePages") == 2048;

	if (fork() == 0) {			/* C1 */
		touch_write(a, 0, 100, 3);
		touch_read(z, Z_PAGES);
		if (fork() == 0) {		/* G */
			touch_write(a, 200, 20, 4);
			send_ready(s, ROLE_G, thp_ok);
			hold(s);
		}
		send_ready(s, ROLE_C1, thp_ok);
		hold(s);
	}
	if (fork() == 0) {			/* C2 */
		touch_write(a, 50, 40, 5);
		thp[0] = 6;
		send_ready(s, ROLE_C2, thp_ok);
		hold(s);
	}
	send_ready(s, ROLE_R, thp_ok);
	hold(s);
}

FIXTURE(family) {
	char *win;
	pid_t pid[NR_ROLES];
	struct cowstat_sync sync;	/* the family holds until it is released */
	char *rep;
	char cmd[128];
};

FIXTURE_SETUP(family)
{
	struct ready_msg m;
	int i, thp_ok = 1;
	struct stat st;
	void *p;

	/* No pipes yet: the teardown releases the family only once there is one. */
	self->sync = (struct cowstat_sync){ .ready = { -1, -1 }, .go = { -1, -1 } };
	self->rep = malloc(REPORT_SIZE);
	ASSERT_NE(NULL, self->rep);
	if (geteuid() != 0)
		SETUP_SKIP("needs root (debugfs)");
	if (stat(COWSTAT_DEBUGFS_DIR "/" COWSTAT_FILE_SNAPSHOT, &st))
		SETUP_SKIP("cowstat not loaded");

	/* A 2 MiB aligned window, PROT_NONE in the test itself. */
	p = mmap(NULL, WIN_SIZE + HPAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	self->win = (char *)(((unsigned long)p + HPAGE - 1) & ~(HPAGE - 1));

	ASSERT_EQ(0, cowstat_sync_init(&self->sync));
	self->pid[ROLE_R] = cowstat_sync_fork(&self->sync);
	ASSERT_LE(0, self->pid[ROLE_R]);
	if (self->pid[ROLE_R] == 0)
		family_root(self->win, &self->sync);
	for (i = 0; i < NR_ROLES; i++) {
		ASSERT_EQ(0, cowstat_sync_wait_ready(&self->sync, &m, sizeof(m)));
		ASSERT_LE(0, m.role);
		ASSERT_GT(NR_ROLES, m.role);
		self->pid[m.role] = m.pid;
		thp_ok &= m.thp_ok;
	}
	cowstat_sync_close_fd(&self->sync.ready[0]);
	if (!thp_ok) {
		cowstat_sync_release(&self->sync);
		waitpid(self->pid[ROLE_R], NULL, 0);
		SETUP_SKIP("the 2 MiB region did not become a THP (AnonHugePages != 2048 kB)");
	}
}

FIXTURE_TEARDOWN(family)
{
	if (self->sync.go[1] >= 0) {
		cowstat_sync_release(&self->sync);
		waitpid(self->pid[ROLE_R], NULL, 0);
	}
	cowstat_sync_close(&self->sync);
	free(self->rep);
}

static int snap_window(FIXTURE_DATA(family) *self, const char *kind, pid_t pid,
		       unsigned long off, unsigned long len)
{
	snprintf(self->cmd, sizeof(self->cmd), "%s %d %#lx %#lx\n", kind, pid,
		 (unsigned long)self->win + off, (unsigned long)self->win + off + len);
	return cowstat_snapshot(self->cmd, self->rep, REPORT_SIZE);
}

#define PROC(role, col)	cowstat_snap_proc(self->rep, self->pid[role], "all", col)

/*
 * Frames in A: originals O[0..255] (R); C1's copies X[0..99], shared with G; G's Y[200..219];
 * C2's W[50..89]. Who maps O[i]: i<50 R,C2; 50..89 R; 90..99 R,C2; 100..199 all four;
 * 200..219 R,C1,C2; 220..255 all four. THP subpages T[0..511]: R, C1, G by PMD; C2 maps
 * T[1..511] by pte and its own copy of T[0].
 */
TEST_F(family, tree_exact)
{
	static const struct { int role; long anon, shared, excl, zero, thp; } want[] = {
		/* R: 256+512 anon, exclusive O[50..89] */
		{ ROLE_R,  768, 728, 40, 64, 512 },
		/* C1: X shared with G, O[100..255] shared */
		{ ROLE_C1, 768, 768, 0,  64, 512 },
		/* G: Y exclusive */
		{ ROLE_G,  768, 748, 20, 0,  512 },
		/* C2: W and its copy of T[0] exclusive, PMD split: no THP */
		{ ROLE_C2, 768, 727, 41, 0,  0 },
	};
	/* Frames both members map: A part + THP part. */
	static const struct { int a, b; long n; } pairs[] = {
		{ ROLE_R, ROLE_R, 768 }, { ROLE_C2, ROLE_C2, 768 },
		{ ROLE_R, ROLE_C1, 156 + 512 }, { ROLE_R, ROLE_G, 136 + 512 },
		{ ROLE_R, ROLE_C2, 216 + 511 }, { ROLE_C1, ROLE_G, 236 + 512 },
		{ ROLE_C1, ROLE_C2, 156 + 511 }, { ROLE_G, ROLE_C2, 136 + 511 },
		{ ROLE_C2, ROLE_R, 216 + 511 },
	};
	int i;

	ASSERT_EQ(0, snap_window(self, "tree", self->pid[ROLE_R], 0, WIN_SIZE))
		TH_LOG("%s", self->cmd);
	ASSERT_EQ(COWSTAT_SNAPSHOT_FORMAT, cowstat_report_word(self->rep, "cowstat_snapshot", 1));
	ASSERT_EQ(4, cowstat_report_word(self->rep, "members", 1));
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		int r = want[i].role;

		EXPECT_EQ(want[i].anon, PROC(r, "anon")) TH_LOG("role %d", r);
		EXPECT_EQ(want[i].shared, PROC(r, "shared")) TH_LOG("role %d", r);
		EXPECT_EQ(want[i].shared, PROC(r, "shared_family")) TH_LOG("role %d", r);
		EXPECT_EQ(0, PROC(r, "shared_outside")) TH_LOG("role %d", r);
		EXPECT_EQ(want[i].excl, PROC(r, "exclusive")) TH_LOG("role %d", r);
		EXPECT_EQ(want[i].zero, PROC(r, "zero")) TH_LOG("role %d", r);
		EXPECT_EQ(want[i].thp, PROC(r, "thp")) TH_LOG("role %d", r);
		EXPECT_EQ(want[i].thp, PROC(r, "thp_shared")) TH_LOG("role %d", r);
		EXPECT_EQ(0, PROC(r, "file_uncopied"));
		EXPECT_EQ(0, PROC(r, "file_copied"));
		/* Everything is in anonymous mmap regions. */
		EXPECT_EQ(want[i].anon, cowstat_snap_proc(self->rep, self->pid[r], "anon",
							  "anon"));
		EXPECT_EQ(0, cowstat_snap_proc(self->rep, self->pid[r], "heap", "anon"));
	}
	/* distinct: O 256 + X 100 + Y 20 + W 40 + T 512 + C2's T[0] 1 = 929 */
	EXPECT_EQ(4, cowstat_snap_family(self->rep, "members"));
	EXPECT_EQ(3072, cowstat_snap_family(self->rep, "anon_mapped"));
	EXPECT_EQ(3072, cowstat_snap_family(self->rep, "resident"));
	EXPECT_EQ(929, cowstat_snap_family(self->rep, "distinct"));
	EXPECT_EQ(3072 - 929, cowstat_snap_family(self->rep, "saved_pages"));
	EXPECT_EQ((3072 - 929) * 4096LL, cowstat_snap_family(self->rep, "saved_bytes"));
	for (i = 0; i < ARRAY_SIZE(pairs); i++)
		EXPECT_EQ(pairs[i].n, cowstat_snap_matrix(self->rep, self->pid[pairs[i].a],
							  self->pid[pairs[i].b]))
			TH_LOG("pair %d-%d", pairs[i].a, pairs[i].b);
}

/* R alone: its family is itself, so all 728 shared pages are shared outside it. */
TEST_F(family, pid_exact)
{
	ASSERT_EQ(0, snap_window(self, "pid", self->pid[ROLE_R], 0, WIN_SIZE));
	EXPECT_EQ(1, cowstat_report_word(self->rep, "members", 1));
	EXPECT_EQ(768, PROC(ROLE_R, "anon"));
	EXPECT_EQ(728, PROC(ROLE_R, "shared"));
	EXPECT_EQ(0, PROC(ROLE_R, "shared_family"));
	EXPECT_EQ(728, PROC(ROLE_R, "shared_outside"));
	EXPECT_EQ(768, cowstat_snap_family(self->rep, "distinct"));
	EXPECT_EQ(0, cowstat_snap_family(self->rep, "saved_pages"));
	EXPECT_EQ(768, cowstat_snap_matrix(self->rep, self->pid[ROLE_R], self->pid[ROLE_R]));
	EXPECT_EQ(-1, PROC(ROLE_C1, "anon"));
}

/*
 * The subtree of C1 is {C1, G}. Shared inside it: X[0..99]. C1 shares O[100..255] and the
 * THP (156 + 512) with R or C2 too; G shares O[100..199], O[220..255] and the THP.
 */
TEST_F(family, subtree_exact)
{
	ASSERT_EQ(0, snap_window(self, "tree", self->pid[ROLE_C1], 0, WIN_SIZE));
	EXPECT_EQ(2, cowstat_report_word(self->rep, "members", 1));
	EXPECT_EQ(100, PROC(ROLE_C1, "shared_family"));
	EXPECT_EQ(668, PROC(ROLE_C1, "shared_outside"));
	EXPECT_EQ(100, PROC(ROLE_G, "shared_family"));
	EXPECT_EQ(648, PROC(ROLE_G, "shared_outside"));
	/* X 100 + O[100..255] 156 + Y 20 + T 512 */
	EXPECT_EQ(788, cowstat_snap_family(self->rep, "distinct"));
	EXPECT_EQ(1536 - 788, cowstat_snap_family(self->rep, "saved_pages"));
	EXPECT_EQ(748, cowstat_snap_matrix(self->rep, self->pid[ROLE_C1], self->pid[ROLE_G]));
}

/* An address range selects part of the THP: 16 subpages at offset 1 MiB. */
TEST_F(family, range_thp)
{
	ASSERT_EQ(0, snap_window(self, "tree", self->pid[ROLE_R], 1UL << 20, 16 * PAGE));
	EXPECT_EQ(16, PROC(ROLE_R, "thp"));
	EXPECT_EQ(16, PROC(ROLE_R, "thp_shared"));
	EXPECT_EQ(16, PROC(ROLE_C2, "anon"));
	EXPECT_EQ(0, PROC(ROLE_C2, "thp"));
	EXPECT_EQ(16, cowstat_snap_family(self->rep, "distinct"));
	EXPECT_EQ(48, cowstat_snap_family(self->rep, "saved_pages"));
	/* Z only: zero pages in R and C1, nothing else. */
	ASSERT_EQ(0, snap_window(self, "tree", self->pid[ROLE_R], Z_OFF, Z_PAGES * PAGE));
	EXPECT_EQ(64, PROC(ROLE_R, "zero"));
	EXPECT_EQ(64, PROC(ROLE_C1, "zero"));
	EXPECT_EQ(0, PROC(ROLE_G, "zero"));
	EXPECT_EQ(0, cowstat_snap_family(self->rep, "anon_mapped"));
}

/*
 * Cross-check with /proc/PID/smaps, VMA by VMA, over the whole address space of every
 * (frozen) member: for each COW VMA ("mw" without "sh", no pfn/io/hugetlb/mixed map),
 * Rss = anon + file_uncopied, Anonymous = anon, AnonHugePages = thp.
 */
TEST_F(family, smaps_crosscheck)
{
	int r, nvma = 0;

	for (r = 0; r < NR_ROLES; r++) {
		char path[64], line[512];
		unsigned long s = 0, e = 0;
		long rss = -1, anon = -1, ahp = -1;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/smaps", self->pid[r]);
		f = fopen(path, "r");
		ASSERT_NE(NULL, f);
		while (fgets(line, sizeof(line), f)) {
			unsigned long ns, ne;

			if (sscanf(line, "%lx-%lx ", &ns, &ne) == 2 &&
			    strchr(line, '-') < strchr(line, ' ')) {
				s = ns;
				e = ne;
				continue;
			}
			if (sscanf(line, "Rss: %ld", &rss) == 1 ||
			    sscanf(line, "Anonymous: %ld", &anon) == 1 ||
			    sscanf(line, "AnonHugePages: %ld", &ahp) == 1)
				continue;
			if (strncmp(line, "VmFlags:", 8))
				continue;
			if (!strstr(line, " mw") || strstr(line, " sh") || strstr(line, " pf") ||
			    strstr(line, " io") || strstr(line, " ht") || strstr(line, " mm"))
				continue;
			snprintf(self->cmd, sizeof(self->cmd), "pid %d %#lx %#lx", self->pid[r],
				 s, e);
			ASSERT_EQ(0, cowstat_snapshot(self->cmd, self->rep, REPORT_SIZE));
			EXPECT_EQ(rss / 4, PROC(r, "anon") + PROC(r, "file_uncopied") +
					   PROC(r, "ksm")) TH_LOG("%s", self->cmd);
			EXPECT_EQ(anon / 4, PROC(r, "anon") + PROC(r, "ksm")) TH_LOG("%s", self->cmd);
			EXPECT_EQ(ahp / 4, PROC(r, "thp")) TH_LOG("%s", self->cmd);
			nvma++;
		}
		fclose(f);
	}
	TH_LOG("%d VMAs compared", nvma);
	EXPECT_LT(12, nvma);
}

struct pm_frame {
	uint64_t pfn;
	int member;
};

static int pm_cmp(const void *a, const void *b)
{
	const struct pm_frame *x = a, *y = b;

	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

#define KPF_ANON	12
#define KPF_ZERO_PAGE	24

/*
 * Cross-check the family figures over the whole address space of the frozen family with a
 * scan of /proc/PID/pagemap, /proc/kpageflags and /proc/kpagecount: anonymous frames mapped,
 * distinct, and mappings of frames with a mapcount above 1.
 */
TEST_F(family, pagemap_crosscheck)
{
	size_t n = 0, cap = 1 << 16, i, distinct = 0;
	long long shared_mod = 0, shared_pm = 0;
	struct pm_frame *fr = malloc(cap * sizeof(*fr));
	int kflags, kcount, r;
	long present = 0, nonzero = 0;

	ASSERT_NE(NULL, fr);
	kflags = open("/proc/kpageflags", O_RDONLY);
	kcount = open("/proc/kpagecount", O_RDONLY);
	ASSERT_LE(0, kflags);
	ASSERT_LE(0, kcount);
	for (r = 0; r < NR_ROLES; r++) {
		char path[64], line[512];
		unsigned long s, e, a;
		FILE *maps;
		int pm;

		snprintf(path, sizeof(path), "/proc/%d/maps", self->pid[r]);
		maps = fopen(path, "r");
		snprintf(path, sizeof(path), "/proc/%d/pagemap", self->pid[r]);
		pm = open(path, O_RDONLY);
		ASSERT_NE(NULL, maps);
		ASSERT_LE(0, pm);
		while (fgets(line, sizeof(line), maps)) {
			if (sscanf(line, "%lx-%lx", &s, &e) != 2 || s >= 0xffff800000000000UL)
				continue;
			for (a = s; a < e; a += PAGE) {
				uint64_t ent, flags, count;

				ASSERT_EQ(8, pread(pm, &ent, 8, a / PAGE * 8));
				if (!(ent >> 63 & 1))
					continue;
				present++;
				ent &= (1ULL << 55) - 1;
				nonzero += ent != 0;
				ASSERT_EQ(8, pread(kflags, &flags, 8, ent * 8));
				/*
				 * Not filtered on KPF_KSM: 6.12 sets it on every anonymous page
				 * (observed: flags 0x205828 for a plain anon page). KSM does
				 * not run here (the module's ksm column is checked to be 0).
				 */
				if (!(flags >> KPF_ANON & 1) || (flags >> KPF_ZERO_PAGE & 1))
					continue;
				ASSERT_EQ(8, pread(kcount, &count, 8, ent * 8));
				shared_pm += count > 1;
				if (n == cap) {
					cap *= 2;
					fr = realloc(fr, cap * sizeof(*fr));
					ASSERT_NE(NULL, fr);
				}
				fr[n].pfn = ent;
				fr[n++].member = r;
			}
		}
		fclose(maps);
		close(pm);
	}
	qsort(fr, n, sizeof(*fr), pm_cmp);
	for (i = 0; i < n; i++)
		distinct += i == 0 || fr[i].pfn != fr[i - 1].pfn;

	snprintf(self->cmd, sizeof(self->cmd), "tree %d", self->pid[ROLE_R]);
	ASSERT_EQ(0, cowstat_snapshot(self->cmd, self->rep, REPORT_SIZE));
	for (r = 0; r < NR_ROLES; r++) {
		shared_mod += PROC(r, "shared");
		EXPECT_EQ(0, PROC(r, "ksm"));
	}
	TH_LOG("pagemap: %ld present, %ld with a pfn", present, nonzero);
	TH_LOG("pagemap: %zu mapped, %zu distinct, %lld shared", n, distinct, shared_pm);
	EXPECT_EQ(n, cowstat_snap_family(self->rep, "anon_mapped"));
	EXPECT_EQ(distinct, cowstat_snap_family(self->rep, "distinct"));
	EXPECT_EQ(n - distinct, cowstat_snap_family(self->rep, "saved_pages"));
	EXPECT_EQ(shared_pm, shared_mod);
	/* Outside the window the family shares pages with this test process. */
	EXPECT_LT(0, PROC(ROLE_R, "shared_outside"));
	free(fr);
	close(kflags);
	close(kcount);
}

/* Why a test outside the fixture cannot take snapshots here (root, module loaded), or 0. */
static int snapshot_unavailable(const char **why)
{
	struct stat st;

	*why = geteuid() ? "needs root (debugfs, pagemap frames)" :
	       stat(COWSTAT_DEBUGFS_DIR "/" COWSTAT_FILE_SNAPSHOT, &st) ? "cowstat not loaded" :
	       NULL;
	return *why != NULL;
}

/*
 * mremap() moves a child's page table entries, not its frames: after the child moved its
 * copy of 32 shared pages to another address (and wrote one of them), the frames it shares
 * with its parent are still counted shared, inside the family, once in distinct and in the
 * matrix, though the two map them at different addresses.
 */
TEST(mremap_still_shared)
{
	const unsigned long n = 32;
	char *rep = malloc(REPORT_SIZE), *win, *a, *b, cmd[128];
	pid_t me = getpid(), c;
	struct cowstat_sync s;
	const char *why;

	ASSERT_NE(NULL, rep);
	if (snapshot_unavailable(&why))
		SKIP(return, "%s", why);
	/* a: the pages; b, right after it: where the child moves them. */
	win = mmap(NULL, 2 * n * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, win);
	a = win;
	b = win + n * PAGE;
	ASSERT_EQ(a, mmap(a, n * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	madvise(a, n * PAGE, MADV_NOHUGEPAGE);
	touch_write(a, 0, n, 1);
	ASSERT_EQ(0, cowstat_sync_init(&s));
	c = cowstat_sync_fork(&s);
	ASSERT_LE(0, c);
	if (c == 0) {
		if (mremap(a, n * PAGE, n * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, b) != b)
			_exit(1);
		b[0] = 2;
		if (cowstat_sync_ready(&s, NULL, 0))
			_exit(1);
		cowstat_sync_hold(&s);
		_exit(0);
	}
	ASSERT_EQ(0, cowstat_sync_wait_ready(&s, NULL, 0)) TH_LOG("mremap failed in the child");

	snprintf(cmd, sizeof(cmd), "tree %d %#lx %#lx", me, (unsigned long)win,
		 (unsigned long)win + 2 * n * PAGE);
	ASSERT_EQ(0, cowstat_snapshot(cmd, rep, REPORT_SIZE));
	EXPECT_EQ(2, cowstat_report_word(rep, "members", 1));
	/* Page 0: the parent's original, now mapped once, and the child's copy. */
	EXPECT_EQ(n, cowstat_snap_proc(rep, me, "all", "anon"));
	EXPECT_EQ(n - 1, cowstat_snap_proc(rep, me, "all", "shared_family"));
	EXPECT_EQ(0, cowstat_snap_proc(rep, me, "all", "shared_outside"));
	EXPECT_EQ(1, cowstat_snap_proc(rep, me, "all", "exclusive"));
	EXPECT_EQ(n, cowstat_snap_proc(rep, c, "all", "anon"));
	EXPECT_EQ(n - 1, cowstat_snap_proc(rep, c, "all", "shared_family"));
	EXPECT_EQ(1, cowstat_snap_proc(rep, c, "all", "exclusive"));
	EXPECT_EQ(2 * n, cowstat_snap_family(rep, "anon_mapped"));
	EXPECT_EQ(n + 1, cowstat_snap_family(rep, "distinct"));
	EXPECT_EQ(n - 1, cowstat_snap_family(rep, "saved_pages"));
	EXPECT_EQ(n - 1, cowstat_snap_matrix(rep, me, c));
	EXPECT_EQ(n, cowstat_snap_matrix(rep, c, c));

	/* Alone, the child shares them outside its family. */
	snprintf(cmd, sizeof(cmd), "pid %d %#lx %#lx", c, (unsigned long)win,
		 (unsigned long)win + 2 * n * PAGE);
	ASSERT_EQ(0, cowstat_snapshot(cmd, rep, REPORT_SIZE));
	EXPECT_EQ(n - 1, cowstat_snap_proc(rep, c, "all", "shared_outside"));
	EXPECT_EQ(0, cowstat_snap_proc(rep, c, "all", "shared_family"));

	cowstat_sync_release(&s);
	ASSERT_EQ(c, waitpid(c, NULL, 0));
	cowstat_sync_close(&s);
	free(rep);
}

/* Debian 12's uapi headers predate write-protecting unpopulated anonymous memory (6.4). */
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED	(1 << 13)
#endif

#define PM_UFFD_WP	57

/*
 * Register [@p, @p + @n pages) for userfaultfd write-protect with @features and write-protect
 * it while no page is populated: the kernel leaves a uffd-wp pte marker in every pte. Returns
 * the userfaultfd (close it to drop the markers' owner), -1 with errno on a failed step, or
 * -2 if the kernel does not offer @features.
 */
static int uffd_wp_markers(char *p, unsigned long n, unsigned long long features)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	struct uffdio_writeprotect wp = { .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	int fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -1;
	if (ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		return features ? -2 : -1;
	}
	reg.range = (struct uffdio_range){ (unsigned long)p, n * PAGE };
	wp.range = reg.range;
	if (ioctl(fd, UFFDIO_REGISTER, &reg) || ioctl(fd, UFFDIO_WRITEPROTECT, &wp)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Pages of [@p, @p + @n pages) of this process that pagemap shows as not present and
 * write-protected by userfaultfd (bit 57): the markers. -1 on error.
 */
static long uffd_marker_pages(char *p, unsigned long n)
{
	unsigned long long *ent = calloc(n, sizeof(*ent));
	long k = 0;

	if (!ent || cowstat_pagemap(p, 0, n, ent))
		k = -1;
	for (unsigned long i = 0; k >= 0 && i < n; i++)
		k += !COWSTAT_PM_PRESENT(ent[i]) && (ent[i] >> PM_UFFD_WP & 1);
	free(ent);
	return k;
}

/* The snapshot of [@p, @p + @n pages) of this process: no page at all, and no swap. */
static void expect_markers_count_nothing(struct __test_metadata *_metadata, char *p,
					 unsigned long n, int region_file)
{
	char *rep = malloc(REPORT_SIZE), cmd[128];
	pid_t me = getpid();

	ASSERT_NE(NULL, rep);
	snprintf(cmd, sizeof(cmd), "pid %d %#lx %#lx", me, (unsigned long)p,
		 (unsigned long)p + n * PAGE);
	ASSERT_EQ(0, cowstat_snapshot(cmd, rep, REPORT_SIZE));
	EXPECT_EQ(0, cowstat_snap_proc(rep, me, "all", "swap"));
	EXPECT_EQ(0, cowstat_snap_proc(rep, me, region_file ? "file" : "anon", "swap"));
	EXPECT_EQ(0, cowstat_snap_proc(rep, me, "all", "anon"));
	EXPECT_EQ(0, cowstat_snap_proc(rep, me, "all", "zero"));
	EXPECT_EQ(0, cowstat_snap_proc(rep, me, "all", "file_uncopied"));
	free(rep);
}

/*
 * A userfaultfd write-protect marker is no swap entry. UFFDIO_WRITEPROTECT of a private
 * (copy-on-write) mapping of a shmem file that was never touched leaves a pte marker in each
 * pte (every kernel from 5.19: file-backed uffd-wp always uses markers). pagemap shows them
 * (not present, bit 57); the snapshot used to count each as a swapped-out page.
 */
TEST(uffd_wp_marker_not_swap)
{
	const unsigned long n = 16;
	const char *why;
	long markers;
	int memfd, uffd;
	char *p;

	if (snapshot_unavailable(&why))
		SKIP(return, "%s", why);
	memfd = memfd_create("cowstat-marker", MFD_CLOEXEC);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, n * PAGE));
	p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, memfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	uffd = uffd_wp_markers(p, n, 0);
	if (uffd < 0 && (errno == ENOSYS || errno == EPERM))
		SKIP(return, "userfaultfd: %s", strerror(errno));
	ASSERT_LE(0, uffd) TH_LOG("userfaultfd write-protect of shmem: %s", strerror(errno));
	markers = uffd_marker_pages(p, n);
	ASSERT_EQ(n, markers) TH_LOG("uffd-wp markers seen in pagemap");
	expect_markers_count_nothing(_metadata, p, n, 1);
	close(uffd);
	munmap(p, n * PAGE);
	close(memfd);
}

/*
 * The same in anonymous memory: with UFFD_FEATURE_WP_UNPOPULATED (6.4+) write-protecting
 * never-touched anonymous memory leaves markers too. Debian's 6.1 does not have the feature
 * (its include/uapi/linux/userfaultfd.h stops at UFFD_FEATURE_WP_HUGETLBFS_SHMEM, bit 12):
 * there the test skips.
 */
TEST(uffd_wp_unpopulated_anon_not_swap)
{
	const unsigned long n = 16;
	const char *why;
	int uffd;
	char *p;

	if (snapshot_unavailable(&why))
		SKIP(return, "%s", why);
	p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	madvise(p, n * PAGE, MADV_NOHUGEPAGE);
	uffd = uffd_wp_markers(p, n, UFFD_FEATURE_WP_UNPOPULATED);
	if (uffd == -2)
		SKIP(return, "no UFFD_FEATURE_WP_UNPOPULATED (6.4+; not in Debian's 6.1)");
	if (uffd < 0 && (errno == ENOSYS || errno == EPERM))
		SKIP(return, "userfaultfd: %s", strerror(errno));
	ASSERT_LE(0, uffd) TH_LOG("userfaultfd write-protect: %s", strerror(errno));
	ASSERT_EQ(n, uffd_marker_pages(p, n)) TH_LOG("uffd-wp markers seen in pagemap");
	expect_markers_count_nothing(_metadata, p, n, 0);
	close(uffd);
	munmap(p, n * PAGE);
}

/*
 * Multi-size THP (6.8+): N pages in 64 KiB folios mapped by ptes, a child that copies K of
 * them. Each page has its own mapcount, as in /proc/kpagecount: parent and child each map
 * N - K pages both map and K of their own; the family maps 2N pages backed by N + K frames.
 * No PMD maps them: thp is 0.
 */
TEST(mthp_family_exact)
{
	const unsigned long n = 4 * COWSTAT_MTHP_PAGES, k = COWSTAT_MTHP_PAGES + 4;
	char *rep = malloc(REPORT_SIZE), *buf, cmd[128], mthp_why[160];
	pid_t me = getpid(), c;
	struct cowstat_sync s;
	const char *why;
	int ret;

	ASSERT_NE(NULL, rep);
	if (snapshot_unavailable(&why))
		SKIP(return, "%s", why);
	ret = cowstat_mthp_buffer(n, &buf, mthp_why, sizeof(mthp_why));
	ASSERT_LE(0, ret);
	if (ret)
		SKIP(return, "%s", mthp_why);
	ASSERT_EQ(0, cowstat_sync_init(&s));
	c = cowstat_sync_fork(&s);
	ASSERT_LE(0, c);
	if (c == 0) {
		touch_write(buf, 0, k, 2);
		if (cowstat_sync_ready(&s, NULL, 0))
			_exit(1);
		cowstat_sync_hold(&s);
		_exit(0);
	}
	ASSERT_EQ(0, cowstat_sync_wait_ready(&s, NULL, 0));

	snprintf(cmd, sizeof(cmd), "tree %d %#lx %#lx", me, (unsigned long)buf,
		 (unsigned long)buf + n * PAGE);
	ASSERT_EQ(0, cowstat_snapshot(cmd, rep, REPORT_SIZE));
	EXPECT_EQ(2, cowstat_report_word(rep, "members", 1));
	EXPECT_EQ(n, cowstat_snap_proc(rep, me, "all", "anon"));
	EXPECT_EQ(n - k, cowstat_snap_proc(rep, me, "all", "shared"));
	EXPECT_EQ(k, cowstat_snap_proc(rep, me, "all", "exclusive"));
	EXPECT_EQ(n, cowstat_snap_proc(rep, c, "all", "anon"));
	EXPECT_EQ(n - k, cowstat_snap_proc(rep, c, "all", "shared_family"));
	EXPECT_EQ(k, cowstat_snap_proc(rep, c, "all", "exclusive"));
	EXPECT_EQ(0, cowstat_snap_proc(rep, me, "all", "thp"));
	EXPECT_EQ(0, cowstat_snap_proc(rep, c, "all", "thp"));
	EXPECT_EQ(2 * n, cowstat_snap_family(rep, "anon_mapped"));
	EXPECT_EQ(n + k, cowstat_snap_family(rep, "distinct"));
	EXPECT_EQ(n - k, cowstat_snap_family(rep, "saved_pages"));
	EXPECT_EQ(n - k, cowstat_snap_matrix(rep, me, c));

	cowstat_sync_release(&s);
	ASSERT_EQ(c, waitpid(c, NULL, 0));
	cowstat_sync_close(&s);
	munmap(buf, n * PAGE);
	free(rep);
}

TEST_HARNESS_MAIN
