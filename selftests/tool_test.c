// SPDX-License-Identifier: GPL-2.0
/*
 * The cowstat command against workloads with exact known answers, with the module loaded
 * (scripts/guest-run.sh, as root). workloads/family puts N pages in its heap and forks C
 * children; child i writes K[i] of them, then the parent P others. So, in the heap region:
 * child i copies K[i] pages and the parent P (module), and child i maps K[i] exclusive pages and
 * the parent P (pagemap). The JSON output is checked with python3.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cowstat_test.h"
#include "cowstat_tool.h"

static char tool[PATH_MAX + 32], family[PATH_MAX + 32];

static void find_binaries(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		abort();
	exe[n] = '\0';
	dirname(exe);
	snprintf(tool, sizeof(tool), "%s/../tools/cowstat", exe);
	snprintf(family, sizeof(family), "%s/../workloads/family", exe);
}

/* Run a shell command line: cowstat_exit_status(), or -1 if no shell could start. */
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == -1 ? -1 : cowstat_exit_status(st);
}

/*
 * Check a JSON file with a python3 snippet that sees it as d and the extra words as a; it
 * must "assert". Prints the assertion's message on failure.
 */
static int py(const char *json, const char *code, const char *args)
{
	return sh("python3 -c 'import json, sys\nd = json.load(open(sys.argv[1]))\n"
		  "a = [int(x) for x in sys.argv[2:]]\n%s' %s %s", code, json, args);
}

/* A family that waits on a pipe: its pids, and the pipe's write end to end it. */
struct fam {
	FILE *in;
	int pids[8];
	int n;
};

static int fam_start(struct fam *f, const char *args)
{
	char cmd[PATH_MAX + 256], line[256], *tok, *save;
	FILE *out;

	snprintf(cmd, sizeof(cmd), "exec %s %s -w > /tmp/cowstat-fam.ready", family, args);
	unlink("/tmp/cowstat-fam.ready");
	f->in = popen(cmd, "w");
	if (!f->in)
		return -1;
	for (int t = 0; t < 200; t++) {
		out = fopen("/tmp/cowstat-fam.ready", "r");
		if (out && fgets(line, sizeof(line), out)) {
			fclose(out);
			f->n = 0;
			strtok_r(line, " \n", &save);
			while ((tok = strtok_r(NULL, " \n", &save)) && f->n < 8)
				f->pids[f->n++] = atoi(tok);
			return 0;
		}
		if (out)
			fclose(out);
		usleep(50000);
	}
	return -1;
}

static void fam_stop(struct fam *f)
{
	pclose(f->in);
}

FIXTURE(tool) {
	int dummy;
};

FIXTURE_SETUP(tool)
{
	if (geteuid() != 0)
		SETUP_SKIP("needs root (debugfs)");
	if (!cowstat_loaded())
		SETUP_SKIP("cowstat module not loaded");
	find_binaries();
	ASSERT_EQ(0, access(tool, X_OK)) TH_LOG("%s not built", tool);
	ASSERT_EQ(0, cowstat_control("scope all"));
}

FIXTURE_TEARDOWN(tool)
{
	if (cowstat_loaded())
		cowstat_control("scope all");
}

/* cowstat run: the report holds the exact heap copies of each process of the family. */
TEST_F(tool, run_family_exact_counts)
{
	char sum[4096];

	ASSERT_EQ(0, sh("%s run --json -o /tmp/cowstat-run.json -i 20 -- %s -n 256 -c 3 -k 10,20,30 -p 40 -s 600",
			tool, family));
	ASSERT_EQ(0, sh("python3 -m json.tool /tmp/cowstat-run.json > /dev/null"));
	EXPECT_EQ(0, py("/tmp/cowstat-run.json",
			"P = d[\"processes\"]\n"
			"assert d[\"exit_status\"] == 0, d[\"exit_status\"]\n"
			"assert len(P) == 4, [p[\"pid\"] for p in P]\n"
			"root = P[0]\n"
			"kids = sorted((p for p in P if p[\"ppid\"] == root[\"pid\"]), key=lambda p: p[\"start_ns\"])\n"
			"heap = lambda p: p[\"regions\"][\"heap\"]\n"
			"got = [heap(root)[\"copy\"]] + [heap(k)[\"copy\"] for k in kids]\n"
			"assert got == [40, 10, 20, 30], got\n"
			"assert all(heap(p)[\"reuse\"] == 0 and heap(p)[\"zero\"] == 0 for p in P), P\n"
			"assert all(p[\"faults\"][\"copy\"] >= heap(p)[\"copy\"] for p in P)\n"
			"assert all(p[\"state\"] == \"exited\" for p in kids)\n"
			"t = d[\"totals\"][\"faults\"][\"copy\"]\n"
			"assert t == sum(p[\"faults\"][\"copy\"] for p in P), t\n"
			"s = d[\"sharing\"]\n"
			"assert s[\"samples\"] > 0 and s[\"peak\"][\"processes\"] == 4, s\n"
			"assert s[\"peak\"][\"shared_pages\"] >= 4 * 256 - 100, s\n"
			"assert s[\"peak\"][\"saved_pages\"] >= 4 * 256 - (256 + 100), s\n", ""));
	/* The scope is given back. */
	ASSERT_EQ(0, cowstat_read_file(COWSTAT_FILE_SUMMARY, sum, sizeof(sum)));
	EXPECT_NE(NULL, strstr(sum, "\nscope_pid 0\n")) TH_LOG("%s", sum);
}

/* The plain report: per-process lines and the family sharing. */
TEST_F(tool, run_plain_report)
{
	ASSERT_EQ(0, sh("%s run -i 20 -o /tmp/cowstat-run.txt -- %s -n 64 -c 2 -k 5,7 -p 3 -s 300",
			tool, family));
	EXPECT_EQ(0, sh("grep -q 'exit status 0, 3 processes' /tmp/cowstat-run.txt"));
	EXPECT_EQ(0, sh("grep -q '(family)' /tmp/cowstat-run.txt"));
	EXPECT_EQ(0, sh("grep -q 'peak shared' /tmp/cowstat-run.txt"));
	EXPECT_EQ(0, sh("grep -q 'erosion since fork' /tmp/cowstat-run.txt"));
	sh("sed 's/^/# /' /tmp/cowstat-run.txt");
}

TEST_F(tool, run_exit_status_passed_through)
{
	EXPECT_EQ(3, sh("%s run -o /dev/null -- sh -c 'exit 3'", tool));
	EXPECT_EQ(128 + 9, sh("%s run -o /dev/null -- sh -c 'kill -KILL $$'", tool));
}

/*
 * Both backends where both measure: the pages a process copied in its heap (module) are the
 * exclusive pages of its heap (pagemap), for every member of the family; show and tree agree.
 * 16 tool runs and 12 Python checks: past the harness's default 30 s on 6.12 under TCG.
 */
TEST_F_TIMEOUT(tool, module_and_pagemap_agree, 180)
{
	struct fam f;
	char args[128];
	int i;

	ASSERT_EQ(0, fam_start(&f, "-n 200 -c 3 -k 11,22,33 -p 44"));
	ASSERT_EQ(4, f.n);
	for (i = 0; i < f.n; i++) {
		char json[64];

		snprintf(json, sizeof(json), "/tmp/cowstat-show-%d.json", i);
		ASSERT_EQ(0, sh("%s show --json %d > %s", tool, f.pids[i], json));
		snprintf(args, sizeof(args), "%d", i ? 11 * i : 44);
		EXPECT_EQ(0, py(json,
				"m = d[\"module\"][\"regions\"][\"heap\"][\"copy\"]\n"
				"s = d[\"sharing\"][\"regions\"][\"heap\"]\n"
				"assert m == a[0] == s[\"exclusive_pages\"], (m, a, s)\n"
				"assert s[\"mapped_pages\"] == 200 and s[\"shared_pages\"] == 200 - a[0], s\n",
				args));
	}
	ASSERT_EQ(0, sh("%s tree --json %d > /tmp/cowstat-tree.json", tool, f.pids[0]));
	snprintf(args, sizeof(args), "%d %d %d %d", f.pids[0], f.pids[1], f.pids[2], f.pids[3]);
	EXPECT_EQ(0, py("/tmp/cowstat-tree.json",
			"h = {p[\"pid\"]: p[\"regions\"][\"heap\"][\"exclusive_pages\"] for p in d[\"processes\"]}\n"
			"assert [h[p] for p in a] == [44, 11, 22, 33], h\n"
			"assert d[\"family\"][\"saved_pages\"] >= 4 * 200 - (200 + 110), d[\"family\"]\n",
			args));
	/* The fallback on its own (non-root method) gives the same heap figures. */
	EXPECT_EQ(0, sh("COWSTAT_PAGEMAP_NOFRAMES=1 %s tree --json %d > /tmp/cowstat-tree2.json 2>/dev/null",
			tool, f.pids[0]));
	EXPECT_EQ(0, py("/tmp/cowstat-tree2.json",
			"h = {p[\"pid\"]: p[\"regions\"][\"heap\"][\"exclusive_pages\"] for p in d[\"processes\"]}\n"
			"assert [h[p] for p in a] == [44, 11, 22, 33], h\n", args));
	/*
	 * The module's snapshot and pagemap + kpagecount measure the same frozen family: every
	 * figure of every member and region, the family's distinct and saved pages, and the
	 * pairwise matrix must be equal.
	 */
	ASSERT_EQ(0, sh("COWSTAT_BACKEND=module %s tree --json %d > /tmp/cowstat-tree-m.json",
			tool, f.pids[0]));
	ASSERT_EQ(0, sh("COWSTAT_BACKEND=pagemap %s tree --json %d > /tmp/cowstat-tree-p.json",
			tool, f.pids[0]));
	EXPECT_EQ(0, py("/tmp/cowstat-tree-m.json",
			"p = json.load(open(\"/tmp/cowstat-tree-p.json\"))\n"
			"assert (d[\"backend\"], p[\"backend\"]) == (\"module\", \"pagemap\"), d[\"backend\"]\n"
			"M = {x[\"pid\"]: x for x in d[\"processes\"]}\n"
			"P = {x[\"pid\"]: x for x in p[\"processes\"]}\n"
			"assert sorted(M) == sorted(P) == sorted(a), (sorted(M), sorted(P), a)\n"
			"k = (\"mapped_pages\", \"shared_pages\", \"exclusive_pages\", \"zero_pages\")\n"
			"for q in a:\n"
			"  assert [M[q][x] for x in k] == [P[q][x] for x in k], (q, M[q], P[q])\n"
			"  for r in M[q][\"regions\"]:\n"
			"    assert M[q][\"regions\"][r] == P[q][\"regions\"][r], (q, r, M[q][\"regions\"][r], P[q][\"regions\"][r])\n"
			"assert d[\"family\"] == p[\"family\"], (d[\"family\"], p[\"family\"])\n"
			"assert d[\"pairs\"] == p[\"pairs\"], (d[\"pairs\"], p[\"pairs\"])\n",
			args));
	/* Unknown backend names are refused in one line. */
	EXPECT_EQ(1, sh("COWSTAT_BACKEND=nosuch %s tree %d 2>/dev/null", tool, f.pids[0]));
	/* ps and top see the family. */
	ASSERT_EQ(0, sh("%s ps --json -t %d > /tmp/cowstat-ps.json", tool, f.pids[0]));
	EXPECT_EQ(0, py("/tmp/cowstat-ps.json",
			"P = {p[\"pid\"]: p for p in d[\"processes\"]}\n"
			"assert sorted(P) == sorted(a), (sorted(P), a)\n"
			"assert P[a[0]][\"faults\"][\"copy\"] >= 44 and P[a[3]][\"faults\"][\"copy\"] >= 33\n",
			args));
	/* top --json is JSON Lines: one document per refresh, each parsed on its own. */
	ASSERT_EQ(0, sh("%s top -n 3 -d 0.2 --json -t %d > /tmp/cowstat-top.jsonl", tool,
			f.pids[0]));
	EXPECT_EQ(0, sh("python3 -c 'import json, sys\n"
			"a = {int(x) for x in sys.argv[2:]}\n"
			"L = open(sys.argv[1]).read().splitlines()\n"
			"assert len(L) == 3, L\n"
			"for d in map(json.loads, L):\n"
			"  assert {p[\"pid\"] for p in d[\"processes\"]} <= a, d\n"
			"' /tmp/cowstat-top.jsonl %s", args));
	EXPECT_EQ(0, sh("%s top -n 2 -d 0.1 -p %d | grep -q BREAKS/S", tool, f.pids[0]));
	EXPECT_EQ(0, sh("%s show %d | grep -q 'by region'", tool, f.pids[1]));
	fam_stop(&f);
	/* After exit, ps keeps the children with their final counts. */
	ASSERT_EQ(0, sh("%s ps --json -t %d > /tmp/cowstat-ps.json", tool, f.pids[0]));
	EXPECT_EQ(0, py("/tmp/cowstat-ps.json",
			"assert all(p[\"state\"] == \"exited\" for p in d[\"processes\"]), d\n", ""));
}

/* show of every member of a frozen family: the same sharing, per region, on both backends. */
TEST_F(tool, show_backends_agree)
{
	char pids[64];
	struct fam f;

	ASSERT_EQ(0, fam_start(&f, "-n 200 -c 3 -k 11,22,33 -p 44"));
	ASSERT_EQ(4, f.n);
	snprintf(pids, sizeof(pids), "%d %d %d %d", f.pids[0], f.pids[1], f.pids[2], f.pids[3]);
	ASSERT_EQ(0, sh("for p in %s; do for b in module pagemap; do COWSTAT_BACKEND=$b "
			"%s show --json $p > /tmp/cowstat-show-$b-$p.json || exit 1; done; done",
			pids, tool));
	EXPECT_EQ(0, sh("python3 -c 'import json, sys\n"
			"for p in sys.argv[1:]:\n"
			"  m, q = (json.load(open(\"/tmp/cowstat-show-%%s-%%s.json\" %% (b, p)))[\"sharing\"]\n"
			"          for b in (\"module\", \"pagemap\"))\n"
			"  assert (m.pop(\"backend\"), q.pop(\"backend\")) == (\"module\", \"pagemap\")\n"
			"  m.pop(\"method\"), q.pop(\"method\")\n"
			"  assert m == q, (p, m, q)\n"
			"  assert m[\"regions\"][\"heap\"][\"mapped_pages\"] == 200, m\n"
			"' %s", pids));
	fam_stop(&f);
}

#define HPAGE		(2UL << 20)
#define KPF_THP		22
#define KPF_ZERO_PAGE	24

/*
 * Pages of [@p, @p + @len) that process @pid maps to the huge zero page, read independently
 * of both backends: present in /proc/PID/pagemap, and /proc/kpageflags says zero page and THP.
 * -1 on error.
 */
static long huge_zero_pages(pid_t pid, char *p, size_t len)
{
	unsigned long long e, fl;
	char path[64];
	int pm, kf;
	long n = 0;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	pm = open(path, O_RDONLY | O_CLOEXEC);
	kf = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	for (size_t i = 0; pm >= 0 && kf >= 0 && i < len / PAGE; i++) {
		if (pread(pm, &e, 8, ((unsigned long)p / PAGE + i) * 8) != 8) {
			n = -1;
			break;
		}
		if (!(e >> 63))
			continue;
		e &= (1ULL << 55) - 1;
		if (pread(kf, &fl, 8, e * 8) != 8) {
			n = -1;
			break;
		}
		n += (fl >> KPF_ZERO_PAGE & 1) && (fl >> KPF_THP & 1);
	}
	if (pm < 0 || kf < 0)
		n = -1;
	if (pm >= 0)
		close(pm);
	if (kf >= 0)
		close(kf);
	return n;
}

/*
 * The huge zero page on both backends. A parent reads two 2 MiB aligned regions of a
 * MADV_HUGEPAGE mapping (each read fault maps the huge zero page by a PMD) and forks a
 * child, which inherits the PMDs; both wait, frozen. pagemap reports these 1024 entries as
 * non-anonymous (bit 61, as a page cache page): the pagemap backend used to drop them, and
 * read 1024 fewer mapped and zero pages than the module. Expected: the module's snapshot of
 * the regions counts exactly the huge zero pages that pagemap + kpageflags show in each
 * process, and the two backends give the same figures for every member and region.
 */
TEST_F(tool, huge_zero_page_backends_agree)
{
	const char *thp = "/sys/kernel/mm/transparent_hugepage/enabled";
	const char *zp = "/sys/kernel/mm/transparent_hugepage/use_zero_page";
	char rep[1 << 16], cmd[128], args[64];
	struct cowstat_sync s;
	pid_t pid[2];
	int i;
	char *raw, *buf;
	long hz[2];

	if (cowstat_sysfs_has(thp, "[never]") || !cowstat_sysfs_has(thp, "["))
		SKIP(return, "THP disabled or absent (%s)", thp);
	if (!cowstat_sysfs_has(zp, "1"))
		SKIP(return, "huge zero page disabled (%s)", zp);
	raw = mmap(NULL, 3 * HPAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	buf = (char *)(((unsigned long)raw + HPAGE - 1) & ~(HPAGE - 1));
	ASSERT_EQ(0, madvise(buf, 2 * HPAGE, MADV_HUGEPAGE));
	ASSERT_EQ(0, cowstat_sync_init(&s));
	pid[0] = cowstat_sync_fork(&s);
	ASSERT_LE(0, pid[0]);
	if (!pid[0]) {
		if (((volatile char *)buf)[0] + ((volatile char *)buf)[HPAGE])
			_exit(1);
		pid[1] = fork();
		if (pid[1] < 0 || cowstat_sync_ready(&s, &pid[1], sizeof(pid[1])))
			_exit(1);
		cowstat_sync_hold(&s);
		if (pid[1])
			waitpid(pid[1], NULL, 0);
		_exit(0);
	}
	/* Both are ready, with a pid: the parent its child's, the child 0, in either order. */
	ASSERT_EQ(0, cowstat_sync_wait_ready(&s, &pid[1], sizeof(pid[1])));
	ASSERT_EQ(0, cowstat_sync_wait_ready(&s, &i, sizeof(i)));
	cowstat_sync_close_fd(&s.ready[0]);
	pid[1] = pid[1] ? pid[1] : i;
	ASSERT_LT(0, pid[1]);

	for (i = 0; i < 2; i++) {
		hz[i] = huge_zero_pages(pid[i], buf, 2 * HPAGE);
		TH_LOG("pid %d: %ld pages of the huge zero page", pid[i], hz[i]);
	}
	/* fork() copies the huge zero PMDs: the VMA has an anon_vma since the read fault. */
	ASSERT_EQ(1024, hz[0]);
	ASSERT_EQ(1024, hz[1]);

	/* The module, on the regions only: every one of those pages is a zero page. */
	snprintf(cmd, sizeof(cmd), "tree %d %#lx %#lx", pid[0], (unsigned long)buf,
		 (unsigned long)buf + 2 * HPAGE);
	ASSERT_EQ(0, cowstat_snapshot(cmd, rep, sizeof(rep)));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(hz[i], cowstat_snap_proc(rep, pid[i], "anon", "zero"));
		EXPECT_EQ(hz[i], cowstat_snap_proc(rep, pid[i], "all", "zero"));
		EXPECT_EQ(0, cowstat_snap_proc(rep, pid[i], "all", "anon"));
		EXPECT_EQ(0, cowstat_snap_proc(rep, pid[i], "all", "swap"));
	}

	/* The tool, whole address spaces: the module and pagemap backends give the same. */
	ASSERT_EQ(0, sh("COWSTAT_BACKEND=module %s tree --json %d > /tmp/cowstat-hz-m.json",
			tool, pid[0]));
	ASSERT_EQ(0, sh("COWSTAT_BACKEND=pagemap %s tree --json %d > /tmp/cowstat-hz-p.json",
			tool, pid[0]));
	ASSERT_EQ(0, sh("COWSTAT_BACKEND=pagemap COWSTAT_PAGEMAP_NOFRAMES=1 %s tree --json %d "
			"> /tmp/cowstat-hz-n.json 2>/dev/null", tool, pid[0]));
	snprintf(args, sizeof(args), "%d %d", pid[0], pid[1]);
	EXPECT_EQ(0, py("/tmp/cowstat-hz-m.json",
			"p = json.load(open(\"/tmp/cowstat-hz-p.json\"))\n"
			"n = json.load(open(\"/tmp/cowstat-hz-n.json\"))\n"
			"M, P, N = ({x[\"pid\"]: x for x in y[\"processes\"]} for y in (d, p, n))\n"
			"assert sorted(M) == sorted(P) == sorted(N) == sorted(a), (M, P, N, a)\n"
			"k = (\"mapped_pages\", \"shared_pages\", \"exclusive_pages\", \"zero_pages\")\n"
			"for q in a:\n"
			"  assert M[q][\"regions\"][\"anon\"][\"zero_pages\"] >= 1024, M[q]\n"
			"  assert [M[q][x] for x in k] == [P[q][x] for x in k], (q, M[q], P[q])\n"
			"  for r in M[q][\"regions\"]:\n"
			"    assert M[q][\"regions\"][r] == P[q][\"regions\"][r], (q, r, M[q][\"regions\"][r], P[q][\"regions\"][r])\n"
			"    assert M[q][\"regions\"][r][\"mapped_pages\"] == N[q][\"regions\"][r][\"mapped_pages\"], (q, r, N[q][\"regions\"][r])\n"
			"assert d[\"family\"] == p[\"family\"], (d[\"family\"], p[\"family\"])\n"
			"assert d[\"pairs\"] == p[\"pairs\"], (d[\"pairs\"], p[\"pairs\"])\n",
			args));
	cowstat_sync_release(&s);
	ASSERT_EQ(pid[0], waitpid(pid[0], &i, 0));
	EXPECT_EQ(0, i);
	munmap(raw, 3 * HPAGE);
}

/* How many times @needle occurs in the file @path (a terminal typescript). */
static int occurrences(const char *path, const char *needle)
{
	static char buf[1 << 20];
	size_t len, nl = strlen(needle);
	int fd = open(path, O_RDONLY), n = 0;
	ssize_t r;
	char *p;

	if (fd < 0)
		return -1;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r < 0)
		return -1;
	len = r;
	for (p = buf; (p = memmem(p, len - (p - buf), needle, nl)); p += nl)
		n++;
	return n;
}

/*
 * On a terminal, top redraws until q or Ctrl-C, then shows the cursor again and exits 0.
 * script(1) gives it a pty; the key is typed after a few refreshes. "exec" leaves top alone in
 * the pty's foreground process group, as under an interactive shell (without it the sh that
 * script starts would take the Ctrl-C too and exit 130).
 */
TEST_F(tool, top_interactive_quits_and_restores)
{
	static const char * const keys[] = { "q", "\\003" };
	int i;

	if (sh("command -v script > /dev/null"))
		SKIP(return, "script(1) not found");
	for (i = 0; i < 2; i++) {
		unlink("/tmp/cowstat-top-tty.txt");
		EXPECT_EQ(0, sh("(sleep %u; printf '%s') | TERM=xterm timeout %u "
				"script -qec 'exec %s top -d 0.3' /tmp/cowstat-top-tty.txt > /dev/null",
				3 * cowstat_time_scale(), keys[i], 30 * cowstat_time_scale(), tool))
			TH_LOG("key %s", keys[i]);
		EXPECT_LE(2, occurrences("/tmp/cowstat-top-tty.txt", "\033[H\033[2J"))
			TH_LOG("key %s: not redrawn", keys[i]);
		EXPECT_LE(1, occurrences("/tmp/cowstat-top-tty.txt", "q to quit"));
		EXPECT_EQ(1, occurrences("/tmp/cowstat-top-tty.txt", "\033[?25l"));
		EXPECT_EQ(1, occurrences("/tmp/cowstat-top-tty.txt", "\033[?25h"))
			TH_LOG("key %s: cursor not restored", keys[i]);
	}
}

TEST_F(tool, errors_one_line)
{
	EXPECT_EQ(0, sh("%s show 2147483647 2> /tmp/cowstat-err; test $(wc -l < /tmp/cowstat-err) = 1",
			tool));
	EXPECT_EQ(1, sh("%s show 2147483647 2>/dev/null", tool));
	EXPECT_EQ(1, sh("%s tree 2 2>/dev/null", tool));
	EXPECT_EQ(0, sh("%s version > /dev/null", tool));
}

TEST_HARNESS_MAIN
