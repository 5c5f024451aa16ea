// SPDX-License-Identifier: GPL-2.0
/*
 * cowbench: the cost of one write-protect fault, or of one file fault, measured from user
 * space, so that the cost a probe adds to it can be compared across configurations
 * (scripts/bench.sh, "make bench", "make bench-file").
 *
 * Every mode writes (file-read: reads) one byte of each of PAGES 4 KiB pages
 * (MADV_NOHUGEPAGE, so each access is one 4 KiB fault) and times the loop with
 * CLOCK_MONOTONIC; a round gives the loop's time divided by PAGES, and the result is the
 * median over ROUNDS rounds (after one warm-up round).
 *
 *   copy   the parent has dirtied the pages and forks; the child writes them: PAGES COW faults
 *          that copy (do_wp_page() -> wp_page_copy()). Timed in the child.
 *   reuse  the parent forks, the child exits at once, then the parent writes: PAGES faults that
 *          reuse the page in place (do_wp_page() -> wp_page_reuse()). Timed in the parent.
 *   zero   fresh memory is read (zero page mapped), then written: PAGES zero-page COW faults.
 *   anon   fresh memory is written: PAGES first-touch faults that are not write-protect faults
 *          (no do_wp_page()); a control that no COW probe should slow down.
 *
 * Two modes time file faults, on a tmpfs file (memfd_create(), shmem) whose PAGES pages are
 * all in the page cache; MADV_DONTNEED after each round unmaps them again, so that every access
 * of the next round is a fault of its own (checked with getrusage(): a round in which fewer
 * faults than pages happened is an error):
 *
 *   file-read           a MAP_PRIVATE, read-only mapping is read: PAGES read faults
 *                       (do_read_fault() -> finish_fault()). Needs fault-around off
 *                       (/sys/kernel/debug/fault_around_bytes 4096, as scripts/bench-guest.sh
 *                       sets it): otherwise one fault maps 16 cached pages and none of them
 *                       goes through finish_fault().
 *   shared-first-write  a MAP_SHARED mapping is written: PAGES first writes to file pages not
 *                       mapped yet (do_shared_fault() -> finish_fault(); shmem has no
 *                       ->page_mkwrite()).
 *
 * Output: a header line, then one tab-separated line per mode:
 *	mode pages rounds median_ns min_ns max_ns
 * with nanoseconds per fault. Errors are one line on stderr and exit status 1; usage errors
 * exit 2.
 */
#define _GNU_SOURCE	/* memfd_create() */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "cowbench";
static size_t page_size;

enum cowbench_mode {
	MODE_COPY, MODE_REUSE, MODE_ZERO, MODE_ANON, MODE_FILE_READ, MODE_SHARED_WRITE, NR_MODES
};

static const char * const mode_names[NR_MODES] = {
	"copy", "reuse", "zero", "anon", "file-read", "shared-first-write"
};

static noreturn __printf(1, 2) void fatal(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-h] [-n PAGES] [-r ROUNDS] [MODE...]\n"
		"\n"
		"Median cost of one page fault, in ns, per MODE (default: copy reuse zero anon):\n"
		"  copy   child of a fork writes the parent's dirty pages (COW copies)\n"
		"  reuse  parent writes its pages after its child exited (COW reuses)\n"
		"  zero   first write to pages that were only read (zero-page COW)\n"
		"  anon   first write to untouched pages (not a COW fault: control)\n"
		"  file-read           read of tmpfs file pages not mapped yet (read faults;\n"
		"                      needs /sys/kernel/debug/fault_around_bytes 4096)\n"
		"  shared-first-write  write to MAP_SHARED tmpfs file pages not mapped yet\n"
		"\n"
		"options:\n"
		"  -n PAGES   pages written per round (default 4096)\n"
		"  -r ROUNDS  timed rounds per mode, after one warm-up round (default 15)\n"
		"\n"
		"example:\n"
		"  %s -n 8192 -r 21 copy reuse\n",
		prog, prog);
}

static long parse_count(const char *s, const char *what, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > max) {
		fprintf(stderr, "%s: %s must be 1..%ld, not '%s'\n", prog, what, max, s);
		exit(2);
	}
	return v;
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		fatal("clock_gettime: %s", strerror(errno));
	return (unsigned long long)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Private anonymous memory that faults in 4 KiB pages only. */
static char *map_pages(size_t pages)
{
	char *p;

	p = mmap(NULL, pages * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		fatal("mmap of %zu pages: %s", pages, strerror(errno));
	if (madvise(p, pages * page_size, MADV_NOHUGEPAGE))
		fatal("madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
	return p;
}

/*
 * One write per page, timed: the nanoseconds per page. Relaxed atomic accesses keep the
 * compiler from merging or dropping them, like the kernel's WRITE_ONCE()/READ_ONCE().
 */
static double write_pages(char *p, size_t pages, char val)
{
	unsigned long long t0, t1;
	size_t i;

	t0 = now_ns();
	for (i = 0; i < pages; i++)
		__atomic_store_n(&p[i * page_size], val, __ATOMIC_RELAXED);
	t1 = now_ns();
	return (double)(t1 - t0) / pages;
}

static void read_pages(char *p, size_t pages)
{
	size_t i;
	char sum = 0;

	for (i = 0; i < pages; i++)
		sum += __atomic_load_n(&p[i * page_size], __ATOMIC_RELAXED);
	if (sum)
		fatal("fresh anonymous memory is not zero");
}

static void wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		fatal("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fatal("child failed (status 0x%x)", status);
}

/* A child writes @buf, which the parent dirtied before forking; it reports its time. */
static double round_copy(char *buf, size_t pages, int round)
{
	int fds[2];
	double ns;
	pid_t pid;

	if (pipe(fds))
		fatal("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		fatal("fork: %s", strerror(errno));
	if (!pid) {
		ns = write_pages(buf, pages, (char)round);
		_exit(write(fds[1], &ns, sizeof(ns)) == sizeof(ns) ? 0 : 1);
	}
	close(fds[1]);
	if (read(fds[0], &ns, sizeof(ns)) != sizeof(ns))
		fatal("no result from the child");
	close(fds[0]);
	wait_child(pid);
	return ns;
}

/* Fork a child that exits at once: the parent's pages are then its own but write-protected. */
static double round_reuse(char *buf, size_t pages, int round)
{
	pid_t pid;

	pid = fork();
	if (pid < 0)
		fatal("fork: %s", strerror(errno));
	if (!pid)
		_exit(0);
	wait_child(pid);
	return write_pages(buf, pages, (char)round);
}

static double round_fresh(size_t pages, int round, int read_first)
{
	char *p = map_pages(pages);
	double ns;

	if (read_first)
		read_pages(p, pages);
	ns = write_pages(p, pages, (char)(round | 1));
	if (munmap(p, pages * page_size))
		fatal("munmap: %s", strerror(errno));
	return ns;
}

/* A tmpfs file (memfd) of @pages pages, every one of them in the page cache. */
static int make_file(size_t pages)
{
	char *page;
	size_t i;
	int fd;

	fd = memfd_create("cowbench", 0);
	if (fd < 0)
		fatal("memfd_create: %s", strerror(errno));
	page = malloc(page_size);
	if (!page)
		fatal("out of memory");
	memset(page, 1, page_size);
	for (i = 0; i < pages; i++)
		if (pwrite(fd, page, page_size, i * page_size) != (ssize_t)page_size)
			fatal("writing the tmpfs file: %s", strerror(errno));
	free(page);
	return fd;
}

static char *map_file(int fd, size_t pages, int write)
{
	char *p;

	p = mmap(NULL, pages * page_size, write ? PROT_READ | PROT_WRITE : PROT_READ,
		 write ? MAP_SHARED : MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		fatal("mmap of the tmpfs file: %s", strerror(errno));
	if (madvise(p, pages * page_size, MADV_NOHUGEPAGE))
		fatal("madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
	return p;
}

/* One read per page, timed: the nanoseconds per page. Every byte of the file is 1. */
static double read_file_pages(char *p, size_t pages)
{
	unsigned long long t0, t1;
	size_t i, sum = 0;

	t0 = now_ns();
	for (i = 0; i < pages; i++)
		sum += __atomic_load_n(&p[i * page_size], __ATOMIC_RELAXED);
	t1 = now_ns();
	if (sum != pages)
		fatal("the tmpfs file does not read back as written");
	return (double)(t1 - t0) / pages;
}

static long faults_so_far(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		fatal("getrusage: %s", strerror(errno));
	return ru.ru_minflt + ru.ru_majflt;
}

/*
 * Read or write every page of @p, a mapping of the tmpfs file with no page mapped, then unmap
 * the pages again (they stay in the page cache). Every access must have been a fault.
 */
static double round_file(char *p, size_t pages, int round, int write)
{
	const char *mode = mode_names[write ? MODE_SHARED_WRITE : MODE_FILE_READ];
	long faults = faults_so_far();
	double ns;

	ns = write ? write_pages(p, pages, 1) : read_file_pages(p, pages);
	faults = faults_so_far() - faults;
	if (faults < (long)pages)
		fatal("%s round %d: %ld faults for %zu pages, not one a page%s", mode, round,
		      faults, pages, write ? "" : " (fault-around? see fault_around_bytes)");
	if (madvise(p, pages * page_size, MADV_DONTNEED))
		fatal("madvise(MADV_DONTNEED): %s", strerror(errno));
	return ns;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void run_mode(enum cowbench_mode mode, size_t pages, int rounds)
{
	int file = mode == MODE_FILE_READ || mode == MODE_SHARED_WRITE;
	double *ns, median;
	char *buf = NULL;
	int r, fd = -1;

	ns = calloc(rounds, sizeof(*ns));
	if (!ns)
		fatal("out of memory");
	if (mode == MODE_COPY || mode == MODE_REUSE) {
		buf = map_pages(pages);
		/* Dirty every page: anonymous, exclusive, mapped, before the first fork. */
		memset(buf, 1, pages * page_size);
	}
	if (file) {
		fd = make_file(pages);
		buf = map_file(fd, pages, mode == MODE_SHARED_WRITE);
	}
	/* Round 0 is a warm-up: page tables, allocator caches, the child's first faults. */
	for (r = 0; r <= rounds; r++) {
		double v;

		switch (mode) {
		case MODE_COPY:
			v = round_copy(buf, pages, r);
			break;
		case MODE_REUSE:
			v = round_reuse(buf, pages, r);
			break;
		case MODE_ZERO:
			v = round_fresh(pages, r, 1);
			break;
		case MODE_FILE_READ:
		case MODE_SHARED_WRITE:
			v = round_file(buf, pages, r, mode == MODE_SHARED_WRITE);
			break;
		default:
			v = round_fresh(pages, r, 0);
			break;
		}
		if (r)
			ns[r - 1] = v;
	}
	qsort(ns, rounds, sizeof(*ns), cmp_double);
	median = rounds % 2 ? ns[rounds / 2] : (ns[rounds / 2 - 1] + ns[rounds / 2]) / 2;
	printf("%s\t%zu\t%d\t%.1f\t%.1f\t%.1f\n", mode_names[mode], pages, rounds, median, ns[0],
	       ns[rounds - 1]);
	fflush(stdout);
	if (buf && munmap(buf, pages * page_size))
		fatal("munmap: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	free(ns);
}

int main(int argc, char **argv)
{
	int want[NR_MODES] = { 0 };
	long pages = 4096, rounds = 15;
	int opt, i, m, any = 0;

	while ((opt = getopt(argc, argv, "hn:r:")) != -1) {
		switch (opt) {
		case 'h':
			print_usage(stdout);
			return 0;
		case 'n':
			pages = parse_count(optarg, "PAGES", 1L << 20);
			break;
		case 'r':
			rounds = parse_count(optarg, "ROUNDS", 1000);
			break;
		default:
			print_usage(stderr);
			return 2;
		}
	}
	for (i = optind; i < argc; i++) {
		for (m = 0; m < NR_MODES; m++)
			if (!strcmp(argv[i], mode_names[m]))
				break;
		if (m == NR_MODES) {
			fprintf(stderr, "%s: unknown mode '%s'\n", prog, argv[i]);
			print_usage(stderr);
			return 2;
		}
		want[m] = 1;
		any = 1;
	}
	page_size = sysconf(_SC_PAGESIZE);

	printf("mode\tpages\trounds\tmedian_ns\tmin_ns\tmax_ns\n");
	for (m = 0; m < NR_MODES; m++)
		if (any ? want[m] : m <= MODE_ANON)
			run_mode(m, pages, rounds);
	return 0;
}
