/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by cowstat's selftests: reading the module's files, sending control
 * commands, and parsing the watches and procs tables.
 */
#ifndef _COWSTAT_TEST_H
#define _COWSTAT_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cowstat.h>

#define PAGE 4096UL

/*
 * SKIP() from a FIXTURE_SETUP. The kselftest harness runs the test body even after a SKIP()
 * returned from the setup (it stops only on a failure); each test runs in a child process of
 * its own, whose exit status 255 the harness reports as a skip, with the reason given here.
 * FIXTURE_TEARDOWN does not run: undo what the setup made before.
 */
#define SETUP_SKIP(fmt, ...)	SKIP(_exit(255), fmt, ##__VA_ARGS__)

/*
 * Time limits (the harness's per-test timeout, and the tests' own waits for other programs)
 * are multiplied by COWSTAT_TIME_SCALE, default 1: a debug kernel (KASAN, lockdep, kmemleak)
 * under emulation runs everything several times slower, and "make test-debug" sets it. Only
 * limits scale; no count a test expects changes.
 */
static inline unsigned int cowstat_time_scale(void)
{
	const char *s = getenv("COWSTAT_TIME_SCALE");
	int n = s ? atoi(s) : 1;

	return n > 0 && n <= 100 ? n : 1;
}

#ifdef TEST_HARNESS_MAIN
/* Every registered test's timeout, scaled (kselftest_harness.h keeps them in a list). */
static inline void cowstat_scale_timeouts(void)
{
	unsigned int scale = cowstat_time_scale();
	struct __fixture_metadata *f;
	struct __test_metadata *t;

	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			t->timeout *= scale;
}

#undef TEST_HARNESS_MAIN
#define TEST_HARNESS_MAIN \
	static void __attribute__((constructor)) \
	__constructor_order_last(void) \
	{ \
		if (!__constructor_order) \
			__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD; \
	} \
	int main(int argc, char **argv) { \
		cowstat_scale_timeouts(); \
		return test_harness_run(argc, argv); \
	}
#endif

/*
 * Unregister glibc's rseq area for this thread: the kernel writes it (cpu_id) on the way back
 * to user space after a migration or preemption, so a forked child that never writes its
 * memory would still break COW on that page, sometimes. glibc registers 32 bytes (struct
 * rseq) and may say less in __rseq_size (20). 0, or -1 with errno.
 */
static inline int cowstat_rseq_unregister(void)
{
	void *area = (char *)__builtin_thread_pointer() + __rseq_offset;

	if (!__rseq_size)
		return 0;
	if (!syscall(SYS_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG))
		return 0;
	return syscall(SYS_rseq, area, __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) ? -1 : 0;
}

/* finit_module of @ko with @params: 0, or -1 with errno (of the load, not of close). */
static inline int cowstat_load(const char *ko, const char *params)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC);
	int ret, err;

	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, params, 0);
	err = errno;
	close(fd);
	errno = err;
	return ret;
}

/* rmmod waits for nothing: retry while a reader still holds one of the files open. */
static inline int cowstat_unload(void)
{
	for (int i = 0; i < 100; i++) {
		if (!syscall(SYS_delete_module, "cowstat", O_NONBLOCK))
			return 0;
		if (errno != EAGAIN && errno != EBUSY)
			return -1;
		usleep(10000);
	}
	return -1;
}

/* Whether the first line of a sysfs file @path contains @word (0 if it cannot be read). */
static inline int cowstat_sysfs_has(const char *path, const char *word)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strstr(buf, word) != NULL;
}

/* Read a whole file of the module's debugfs directory into buf (NUL-terminated). */
static inline int cowstat_read_file(const char *name, char *buf, size_t size)
{
	char path[256];
	size_t len = 0;
	ssize_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", COWSTAT_DEBUGFS_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	if (n < 0)
		return -1;
	if (len + 1 >= size) {
		errno = EFBIG;
		return -1;
	}
	return 0;
}

static inline int cowstat_loaded(void)
{
	struct stat st;

	return stat(COWSTAT_DEBUGFS_DIR "/" COWSTAT_FILE_CONTROL, &st) == 0;
}

/* Write raw bytes to the control file in one write(2); 0 or -errno. */
static inline int cowstat_control_raw(const void *buf, size_t len)
{
	int fd = open(COWSTAT_DEBUGFS_DIR "/" COWSTAT_FILE_CONTROL, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	return n == (ssize_t)len ? 0 : -EIO;
}

/* Send one formatted control command; 0 or -errno. */
static inline int __attribute__((format(printf, 1, 2))) cowstat_control(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return cowstat_control_raw(cmd, len);
}

/* The value of @key in the summary file, or -1UL. */
static inline unsigned long cowstat_summary_value(const char *key)
{
	static char sum[8192];
	char *p, want[64];

	if (cowstat_read_file(COWSTAT_FILE_SUMMARY, sum, sizeof(sum)))
		return -1UL;
	snprintf(want, sizeof(want), "\n%s ", key);
	p = strstr(sum, want);
	return p ? strtoul(p + strlen(want), NULL, 10) : -1UL;
}

struct cowstat_counts {
	unsigned long c[COWSTAT_NR_CLASSES];
};

/*
 * The counts of the watch of @pid starting at @start. Several processes may have had the same
 * pid: the newest (largest start_ns) wins unless @start_ns is given. 0, or -1 if none.
 */
static inline int cowstat_watch_read(pid_t pid, void *start, unsigned long long start_ns,
				     struct cowstat_counts *out, unsigned long long *ns_out)
{
	static char buf[1 << 16];
	unsigned long long best = 0;
	int found = -1;
	char *line, *save;

	if (cowstat_read_file(COWSTAT_FILE_WATCHES, buf, sizeof(buf)))
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct cowstat_counts c;
		unsigned long long ns;
		unsigned long s, e;
		int p, i, off, n;

		if (sscanf(line, "%d %llu %lx %lx%n", &p, &ns, &s, &e, &off) != 4)
			continue;
		if (p != pid || s != (unsigned long)start || (start_ns && ns != start_ns))
			continue;
		for (i = 0; i < COWSTAT_NR_CLASSES; i++) {
			if (sscanf(line + off, " %lu%n", &c.c[i], &n) != 1)
				return -1;
			off += n;
		}
		if (found < 0 || ns > best) {
			best = ns;
			*out = c;
			found = 0;
		}
	}
	if (!found && ns_out)
		*ns_out = best;
	return found;
}

/*
 * The /proc/self/pagemap entries of pages [from, to) of @buf in this process, into @ent
 * (Documentation/admin-guide/mm/pagemap.rst: bit 63 present, 62 swapped, 0-54 the PFN,
 * which needs root). 0, or -1.
 */
static inline int cowstat_pagemap(void *buf, size_t from, size_t to, unsigned long long *ent)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	size_t len = (to - from) * sizeof(*ent);
	off_t off = ((unsigned long)buf / PAGE + from) * sizeof(*ent);
	int err;

	if (fd < 0)
		return -1;
	err = pread(fd, ent, len, off) == (ssize_t)len ? 0 : -1;
	close(fd);
	return err;
}

#define COWSTAT_PM_PRESENT(e)	((e) >> 63 & 1)
#define COWSTAT_PM_SWAPPED(e)	((e) >> 62 & 1)

/* Frame numbers of pages [from, to) of @buf in this process (0 if not present). 0, or -1. */
static inline int cowstat_pfns(void *buf, size_t from, size_t to, unsigned long long *pfn)
{
	size_t i;

	if (cowstat_pagemap(buf, from, to, pfn))
		return -1;
	for (i = 0; i < to - from; i++)
		pfn[i] = COWSTAT_PM_PRESENT(pfn[i]) ? pfn[i] & ((1ULL << 55) - 1) : 0;
	return 0;
}

struct cowstat_proc_line {
	int pid, ppid;
	char comm[64];
	char state[16];
	unsigned long long start_ns, fork_ns, exit_ns;
	struct cowstat_counts counts;
	unsigned long long copied_bytes;
};

/*
 * Every line of the procs text @buf (NUL-terminated; split in place) whose pid (or, with
 * @by_ppid, whose ppid) is @pid; several if the pid was reused. Returns how many, or -1.
 */
static inline int cowstat_procs_parse(char *buf, pid_t pid, int by_ppid,
				      struct cowstat_proc_line *out, int max)
{
	char *line, *save;
	int n = 0;

	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct cowstat_proc_line l;
		int i, off, k;

		if (sscanf(line, "%d %d %63s %15s %llu %llu %llu%n", &l.pid, &l.ppid, l.comm,
			   l.state, &l.start_ns, &l.fork_ns, &l.exit_ns, &off) != 7)
			continue;
		if ((by_ppid ? l.ppid : l.pid) != pid)
			continue;
		for (i = 0; i < COWSTAT_NR_CLASSES; i++) {
			if (sscanf(line + off, " %lu%n", &l.counts.c[i], &k) != 1)
				return -1;
			off += k;
		}
		if (sscanf(line + off, " %llu", &l.copied_bytes) != 1)
			return -1;
		if (n < max)
			out[n] = l;
		n++;
	}
	return n;
}

/* The same, of the procs file as it is now. */
static inline int cowstat_procs_match(pid_t pid, int by_ppid, struct cowstat_proc_line *out,
				      int max)
{
	static char buf[8 << 20];	/* 10,000 processes and more (table_scale_test) */

	if (cowstat_read_file(COWSTAT_FILE_PROCS, buf, sizeof(buf)))
		return -1;
	return cowstat_procs_parse(buf, pid, by_ppid, out, max);
}

static inline int cowstat_procs_read(pid_t pid, struct cowstat_proc_line *out, int max)
{
	return cowstat_procs_match(pid, 0, out, max);
}

/*
 * Take a snapshot: open the snapshot file read-write, write @cmd in one write, read the
 * report of the same open file into buf (NUL-terminated). Returns 0, or -errno of the step
 * that failed (the write's errno is the snapshot's error).
 */
static inline int cowstat_snapshot(const char *cmd, char *buf, size_t size)
{
	char path[256];
	size_t len = 0;
	ssize_t n = 0;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", COWSTAT_DEBUGFS_DIR, COWSTAT_FILE_SNAPSHOT);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd)) {
		err = -errno;
		close(fd);
		return err;
	}
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	err = n < 0 ? -errno : 0;
	close(fd);
	buf[len] = '\0';
	if (!err && len + 1 >= size)
		err = -EFBIG;
	return err;
}

/* Index of @name among the words of the line starting with "@key " (the key is word 0). */
static inline int cowstat_report_column(const char *rep, const char *key, const char *name)
{
	char line[1024], *save, *w;
	const char *p;
	int i = 0;
	size_t klen = strlen(key);

	for (p = rep; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, klen) || p[klen] != ' ')
			continue;
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
		for (w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save), i++)
			if (!strcmp(w, name))
				return i;
		return -1;
	}
	return -1;
}

/* Word @idx of the first line whose first words are @prefix (e.g. "proc 12 1 all"). */
static inline long long cowstat_report_word(const char *rep, const char *prefix, int idx)
{
	size_t plen = strlen(prefix);
	const char *p, *q;
	int i;

	if (idx < 0)
		return -1;
	for (p = rep; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, prefix, plen) || p[plen] != ' ')
			continue;
		for (q = p, i = 0; i < idx; i++) {
			q = strpbrk(q, " \n");
			if (!q || *q == '\n')
				return -1;
			q++;
		}
		return strtoll(q, NULL, 0);
	}
	return -1;
}

/* A proc field of one member and region ("all", "heap", ...); -1 if absent. */
static inline long long cowstat_snap_proc(const char *rep, int pid, const char *region,
					  const char *col)
{
	char prefix[64], want[32];
	size_t plen;
	const char *p;

	snprintf(prefix, sizeof(prefix), "proc %d ", pid);
	snprintf(want, sizeof(want), " %s ", region);
	plen = strlen(prefix);
	for (p = rep; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *r;

		if (strncmp(p, prefix, plen))
			continue;
		r = strchr(p + plen, ' ');	/* after the ppid */
		if (!r || strncmp(r, want, strlen(want)))
			continue;
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(r + strlen(want) - 1 - p), p);
		return cowstat_report_word(rep, prefix,
					   cowstat_report_column(rep, "proc_columns", col));
	}
	return -1;
}

static inline long long cowstat_snap_family(const char *rep, const char *col)
{
	return cowstat_report_word(rep, "family",
				   cowstat_report_column(rep, "family_columns", col));
}

/* Pages shared by members @a and @b (pids); -1 if absent. */
static inline long long cowstat_snap_matrix(const char *rep, int a, int b)
{
	char prefix[32], col[16];

	int idx;

	snprintf(prefix, sizeof(prefix), "matrix %d", a);
	snprintf(col, sizeof(col), "%d", b);
	/* "matrix_columns P1 P2 ..." vs "matrix PID N1 N2 ...": one word further. */
	idx = cowstat_report_column(rep, "matrix_columns", col);
	return cowstat_report_word(rep, prefix, idx < 0 ? idx : idx + 1);
}

#define COWSTAT_PARAMS	"/sys/module/cowstat/parameters/"

/* Parameter @name of module @mod (/sys/module/@mod/parameters/) as a number; -1 if unreadable. */
static inline long long cowstat_module_param(const char *mod, const char *name)
{
	char path[256], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", mod, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

/* A parameter of cowstat as a number; -1 if unreadable. */
static inline long long cowstat_param_get(const char *name)
{
	return cowstat_module_param("cowstat", name);
}

/* Write @text to the file at @path (sysfs, procfs); 0, or -1 with errno. */
static inline int cowstat_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err;
	ssize_t len = strlen(text);

	if (fd < 0)
		return -1;
	err = write(fd, text, len) == len ? 0 : -1;
	close(fd);
	return err;
}

/* Set a module parameter; 0 or -errno. */
static inline int cowstat_param_set(const char *name, long long value)
{
	char path[256], buf[64];
	int fd, len, err = 0;

	snprintf(path, sizeof(path), COWSTAT_PARAMS "%s", name);
	len = snprintf(buf, sizeof(buf), "%lld", value);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, len) != len)
		err = -errno;
	close(fd);
	return err;
}

/*
 * Multi-size THP (6.8 and later): anonymous memory in folios of COWSTAT_MTHP_KB. Each size has
 * its own switch under /sys/kernel/mm/transparent_hugepage/hugepages-<size>kB/enabled.
 */
#define COWSTAT_MTHP_KB		64
#define COWSTAT_MTHP_PAGES	(COWSTAT_MTHP_KB * 1024 / PAGE)
#define COWSTAT_MTHP_SWITCH \
	"/sys/kernel/mm/transparent_hugepage/hugepages-64kB/enabled"

/*
 * Write @word to the sysfs file @path, keeping in @old what it held: the bracketed word of a
 * choice file ("always [madvise] never"), or else the first line. cowstat_write_file(@path,
 * @old) puts it back. 0; -1 with errno if the file cannot be read or written.
 */
static inline int cowstat_sysfs_set(const char *path, const char *word, char *old, size_t size)
{
	char buf[256] = "", *b, *e;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	b = strchr(buf, '[');
	e = b ? strchr(b, ']') : NULL;
	if (e)
		*e = '\0', b++;
	else
		b = strtok(buf, "\n");
	if (!b || !*b || strlen(b) >= size) {
		errno = EINVAL;
		return -1;
	}
	strcpy(old, b);
	return cowstat_write_file(path, word);
}

/*
 * A private anonymous mapping of exactly @pages pages (a multiple of COWSTAT_MTHP_PAGES),
 * aligned to the mTHP size and shorter than 2 MiB, so that no PMD-sized THP fits in it and its
 * first writes allocate 64 KiB folios where mTHP is on.
 */
static inline char *cowstat_map_mthp(size_t pages)
{
	size_t align = COWSTAT_MTHP_PAGES * PAGE, len = pages * PAGE;
	char *raw = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	if (raw == MAP_FAILED)
		return NULL;
	p = (char *)(((unsigned long)raw + align - 1) & ~(align - 1));
	if (p > raw)
		munmap(raw, p - raw);
	munmap(p + len, raw + align - p);
	return p;
}

/* /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h). */
#define COWSTAT_KPF_COMPOUND_HEAD	15
#define COWSTAT_KPF_COMPOUND_TAIL	16

/*
 * How many of pages [0, @pages) of @buf lie in whole 64 KiB folios of this process: a compound
 * head at each mTHP-aligned page followed by COWSTAT_MTHP_PAGES - 1 tails, consecutive frames.
 * From pagemap and /proc/kpageflags (root). -1 on error.
 */
static inline long cowstat_mthp_pages(void *buf, size_t pages)
{
	unsigned long long pfn[COWSTAT_MTHP_PAGES], fl;
	int fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	long in = 0;
	size_t f, i;

	if (fd < 0)
		return -1;
	for (f = 0; f + COWSTAT_MTHP_PAGES <= pages; f += COWSTAT_MTHP_PAGES) {
		int whole = 1;

		if (cowstat_pfns(buf, f, f + COWSTAT_MTHP_PAGES, pfn)) {
			close(fd);
			return -1;
		}
		for (i = 0; i < COWSTAT_MTHP_PAGES && whole; i++) {
			int bit = i ? COWSTAT_KPF_COMPOUND_TAIL : COWSTAT_KPF_COMPOUND_HEAD;

			if (!pfn[i] || pfn[i] != pfn[0] + i ||
			    pread(fd, &fl, sizeof(fl), pfn[i] * sizeof(fl)) != sizeof(fl) ||
			    !(fl & (1ULL << bit)))
				whole = 0;
		}
		in += whole ? COWSTAT_MTHP_PAGES : 0;
	}
	close(fd);
	return in;
}

/*
 * @pages pages (a multiple of COWSTAT_MTHP_PAGES) of private anonymous memory in 64 KiB
 * folios, each page written once with its index: mTHP is on for those first writes only, then
 * back as it was. Returns 0 with *@buf set; 1 with the reason in @why when the test must skip
 * (no mTHP on this kernel, or the folios did not materialise); -1 if the memory could not be
 * mapped.
 */
static inline int cowstat_mthp_buffer(size_t pages, char **buf, char *why, size_t size)
{
	char old[32];
	long in;
	size_t i;

	if (cowstat_sysfs_set(COWSTAT_MTHP_SWITCH, "always", old, sizeof(old))) {
		snprintf(why, size, "no multi-size THP switch (%s): kernel before 6.8",
			 COWSTAT_MTHP_SWITCH);
		return 1;
	}
	*buf = cowstat_map_mthp(pages);
	if (*buf)
		for (i = 0; i < pages; i++)
			((volatile char *)*buf)[i * PAGE] = (char)i;
	/* Best effort: a test that cannot restore has nothing better to do. */
	if (cowstat_write_file(COWSTAT_MTHP_SWITCH, old))
		perror(COWSTAT_MTHP_SWITCH);
	if (!*buf)
		return -1;
	in = cowstat_mthp_pages(*buf, pages);
	if (in != (long)pages) {
		snprintf(why, size, "%ld of %zu pages in 64 KiB folios (memory too fragmented?)",
			 in, pages);
		munmap(*buf, pages * PAGE);
		return 1;
	}
	return 0;
}

/*
 * A parent and the children it forks, in step, in the manner of selftests/mm's comm_pipes:
 * a child says it is ready (with a message, such as a pid or what it found), the parent lets
 * it go, or holds it until the parent closes its end. A side that dies closes its ends, which
 * the other reads as end of file: neither waits forever on the other. One cowstat_sync can
 * serve several children (cowstat_sync_fork_one() each, then cowstat_sync_forked()) and their
 * own children: each ready message is one write of at most PIPE_BUF bytes, which a pipe never
 * interleaves.
 */
struct cowstat_sync {
	int ready[2];	/* children to parent */
	int go[2];	/* parent to children */
};

/* Both pipes, close-on-exec (a program a test starts must not hold an end open). 0 or -1. */
static inline int cowstat_sync_init(struct cowstat_sync *s)
{
	s->go[0] = s->go[1] = -1;
	if (pipe2(s->ready, O_CLOEXEC))
		return -1;
	if (pipe2(s->go, O_CLOEXEC)) {
		close(s->ready[0]);
		close(s->ready[1]);
		return -1;
	}
	return 0;
}

static inline void cowstat_sync_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Close every end still open (either side, at its end). */
static inline void cowstat_sync_close(struct cowstat_sync *s)
{
	cowstat_sync_close_fd(&s->ready[0]);
	cowstat_sync_close_fd(&s->ready[1]);
	cowstat_sync_close_fd(&s->go[0]);
	cowstat_sync_close_fd(&s->go[1]);
}

/*
 * fork() one of several children of this process that @s serves: the child keeps the ready
 * write end and the go read end and closes the others; the parent keeps every end open for
 * the next child until cowstat_sync_forked(). Returns what fork() returned.
 */
static inline pid_t cowstat_sync_fork_one(struct cowstat_sync *s)
{
	pid_t pid = fork();

	if (pid == 0) {
		cowstat_sync_close_fd(&s->ready[0]);
		cowstat_sync_close_fd(&s->go[1]);
	}
	return pid;
}

/* Parent: every child of @s is forked; close the children's ends. */
static inline void cowstat_sync_forked(struct cowstat_sync *s)
{
	cowstat_sync_close_fd(&s->ready[1]);
	cowstat_sync_close_fd(&s->go[0]);
}

/* fork() the one child of this process that @s serves, each side keeping its ends. */
static inline pid_t cowstat_sync_fork(struct cowstat_sync *s)
{
	pid_t pid = cowstat_sync_fork_one(s);

	if (pid > 0)
		cowstat_sync_forked(s);
	return pid;
}

/* Child: ready, with @len bytes of @msg (one byte if @msg is NULL). 0, or -1. */
static inline int cowstat_sync_ready(struct cowstat_sync *s, const void *msg, size_t len)
{
	if (!msg)
		msg = "r", len = 1;
	return write(s->ready[1], msg, len) == (ssize_t)len ? 0 : -1;
}

/* Parent: a child's ready and its @len bytes into @msg (NULL: one byte). 0; -1 if it died. */
static inline int cowstat_sync_wait_ready(struct cowstat_sync *s, void *msg, size_t len)
{
	char c;

	if (!msg)
		msg = &c, len = 1;
	return read(s->ready[0], msg, len) == (ssize_t)len ? 0 : -1;
}

/* Parent: let one child go. 0, or -1. */
static inline int cowstat_sync_go(struct cowstat_sync *s)
{
	return write(s->go[1], "g", 1) == 1 ? 0 : -1;
}

/* Child: wait to be let go. 1 when told to go; 0 when the parent closed its end or died. */
static inline int cowstat_sync_wait_go(struct cowstat_sync *s)
{
	char c;

	return read(s->go[0], &c, 1) == 1;
}

/* Child: hold until the parent closes its end (cowstat_sync_release()) or dies. */
static inline void cowstat_sync_hold(struct cowstat_sync *s)
{
	char c;

	while (read(s->go[0], &c, 1) > 0)
		;
}

/* Parent: release every child that holds. */
static inline void cowstat_sync_release(struct cowstat_sync *s)
{
	cowstat_sync_close_fd(&s->go[1]);
}

/*
 * The selftests' delay module (selftests/delay/cowstat_delay.c), built beside $COWSTAT_KO as
 * delay/cowstat_delay.ko: it holds a task named in @params at a function's entry, to open a
 * race window wide. Loads it: 0, or -1 with errno (ENOENT: not built).
 */
static inline int cowstat_delay_load(const char *params)
{
	const char *ko = getenv("COWSTAT_KO");
	char path[4096];
	const char *slash;

	if (!ko || !(slash = strrchr(ko, '/'))) {
		errno = ENOENT;
		return -1;
	}
	snprintf(path, sizeof(path), "%.*s/delay/cowstat_delay.ko", (int)(slash - ko), ko);
	return cowstat_load(path, params);
}

/* End the delay module's wait (its release parameter); 0 or -1. */
static inline int cowstat_delay_release(void)
{
	int fd = open("/sys/module/cowstat_delay/parameters/release", O_WRONLY | O_CLOEXEC);
	int ok = fd >= 0 && write(fd, "1", 1) == 1;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

static inline int cowstat_delay_unload(void)
{
	return syscall(SYS_delete_module, "cowstat_delay", O_NONBLOCK);
}

/*
 * Wait until the delay module holds a task (its hits parameter reaches 1); 0, or -1 after
 * @seconds (scaled) without.
 */
static inline int cowstat_delay_wait_held(unsigned int seconds)
{
	long long limit = (long long)seconds * cowstat_time_scale() * 1000;

	for (long long i = 0; i < limit; i++) {
		if (cowstat_module_param("cowstat_delay", "hits") >= 1)
			return 0;
		usleep(1000);
	}
	return -1;
}

#endif /* _COWSTAT_TEST_H */
