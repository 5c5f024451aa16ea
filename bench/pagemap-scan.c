// SPDX-License-Identifier: GPL-2.0
/*
 * pagemap-scan: the sharing figures of a process tree computed from userspace only, with
 * /proc/PID/maps, /proc/PID/pagemap, /proc/kpageflags and /proc/kpagecount (root needed for
 * the PFNs). It is the baseline the cowstat snapshot is benchmarked against
 * (scripts/bench-snapshot.sh), and prints the same family figures:
 *
 *	members N anon_mapped N distinct N saved_pages N shared N
 *
 * anon_mapped: present private anonymous pages (pagemap "file/shared" bit clear, KPF_ANON
 * set, not the zero page) over all members; distinct: distinct PFNs among them; shared:
 * mappings of frames whose /proc/kpagecount is above 1.
 *
 * It is written to be fast: pagemap is read per VMA in large chunks, and kpageflags and
 * kpagecount only for the distinct PFNs, in runs of consecutive PFNs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <unistd.h>

#define PM_PRESENT	0x8000000000000000ULL	/* bit 63 */
#define PM_FILE		0x2000000000000000ULL	/* bit 61: file page or shared anon */
#define PM_PFN_MASK	0x007fffffffffffffULL	/* bits 0-54 */
#define KPF_ANON	12
#define KPF_ZERO_PAGE	24
#define CHUNK		65536		/* pagemap entries per read */

static const char *prog = "pagemap-scan";

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
		"usage: %s [-t] PID...\n"
		"\n"
		"Family sharing figures of the given processes (-t: of PID and all its\n"
		"descendants) from pagemap + kpageflags + kpagecount. Root only.\n"
		"\n"
		"example:\n"
		"  sudo %s -t $(pgrep -o gunicorn)\n", prog, prog);
}

struct vec {
	unsigned long long *v;
	size_t n, cap;
};

static void push(struct vec *a, unsigned long long x)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 65536;
		a->v = realloc(a->v, a->cap * sizeof(*a->v));
		if (!a->v)
			fatal("out of memory");
	}
	a->v[a->n++] = x;
}

static int cmp_u64(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;

	return x < y ? -1 : x > y;
}

/* Parent pid of @pid from /proc/PID/stat, or -1. */
static long ppid_of(long pid)
{
	char path[64], buf[512], *p;
	long ppid = -1;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p && sscanf(p + 1, " %*c %ld", &ppid) != 1)
		ppid = -1;
	return ppid;
}

/* @root and its descendants, from the ppid of every process. */
static void tree(long root, struct vec *pids)
{
	struct vec all = { 0 }, par = { 0 };
	struct dirent *d;
	size_t i, j, added;
	DIR *dir;

	dir = opendir("/proc");
	if (!dir)
		fatal("/proc: %s", strerror(errno));
	while ((d = readdir(dir))) {
		long pid = strtol(d->d_name, NULL, 10);

		if (pid > 0) {
			push(&all, pid);
			push(&par, ppid_of(pid));
		}
	}
	closedir(dir);
	push(pids, root);
	do {
		added = 0;
		for (i = 0; i < all.n; i++) {
			bool in = false, parent_in = false;

			for (j = 0; j < pids->n; j++) {
				in |= pids->v[j] == all.v[i];
				parent_in |= pids->v[j] == par.v[i];
			}
			if (!in && parent_in) {
				push(pids, all.v[i]);
				added++;
			}
		}
	} while (added);
	free(all.v);
	free(par.v);
}

/* Append the PFNs of present private non-file pages of @pid. */
static void scan(long pid, struct vec *pfns, unsigned long long *buf)
{
	char path[64], line[4096];
	unsigned long s, e, a;
	FILE *maps;
	int pm;

	snprintf(path, sizeof(path), "/proc/%ld/maps", pid);
	maps = fopen(path, "r");
	snprintf(path, sizeof(path), "/proc/%ld/pagemap", pid);
	pm = open(path, O_RDONLY);
	if (!maps || pm < 0)
		fatal("process %ld: %s", pid, strerror(errno));
	while (fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%lx-%lx", &s, &e) != 2 || s >= 0xffff800000000000UL)
			continue;
		for (a = s; a < e;) {
			size_t want = (e - a) / 4096, i;
			ssize_t n;

			if (want > CHUNK)
				want = CHUNK;
			n = pread(pm, buf, want * 8, a / 4096 * 8);
			if (n <= 0)
				fatal("process %ld pagemap: %s", pid, strerror(errno));
			for (i = 0; i < (size_t)n / 8; i++)
				if ((buf[i] & PM_PRESENT) && !(buf[i] & PM_FILE))
					push(pfns, buf[i] & PM_PFN_MASK);
			a += n / 8 * 4096;
		}
	}
	fclose(maps);
	close(pm);
}

int main(int argc, char **argv)
{
	unsigned long long *buf = malloc(CHUNK * 8), *flags, *count;
	struct vec pids = { 0 }, pfns = { 0 };
	size_t i, j, k, distinct = 0, mapped = 0, shared = 0;
	int opt, kf, kc;
	bool t = false;

	while ((opt = getopt(argc, argv, "th")) != -1) {
		switch (opt) {
		case 't':
			t = true;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc || !buf) {
		print_usage(stderr);
		return 2;
	}
	for (i = optind; i < (size_t)argc; i++) {
		char *end;
		long pid = strtol(argv[i], &end, 10);

		if (*end || pid <= 0)
			fatal("not a pid: %s", argv[i]);
		if (t)
			tree(pid, &pids);
		else
			push(&pids, pid);
	}
	for (i = 0; i < pids.n; i++)
		scan(pids.v[i], &pfns, buf);
	qsort(pfns.v, pfns.n, sizeof(*pfns.v), cmp_u64);

	kf = open("/proc/kpageflags", O_RDONLY);
	kc = open("/proc/kpagecount", O_RDONLY);
	if (kf < 0 || kc < 0)
		fatal("/proc/kpageflags, /proc/kpagecount: %s", strerror(errno));
	flags = malloc(CHUNK * 8);
	count = malloc(CHUNK * 8);
	if (!flags || !count)
		fatal("out of memory");
	/* i: start of a run of consecutive distinct PFNs; j: end of the run in pfns. */
	for (i = 0; i < pfns.n; i = j) {
		unsigned long long first = pfns.v[i], nr;

		for (j = i + 1; j < pfns.n && pfns.v[j] - first < CHUNK &&
		     pfns.v[j] - pfns.v[j - 1] <= 1; j++)
			;
		nr = pfns.v[j - 1] - first + 1;
		if (pread(kf, flags, nr * 8, first * 8) != (ssize_t)(nr * 8) ||
		    pread(kc, count, nr * 8, first * 8) != (ssize_t)(nr * 8))
			fatal("kpageflags/kpagecount at pfn %#llx: %s",
			      (unsigned long long)first, strerror(errno));
		for (k = i; k < j; k++) {
			unsigned long long f = flags[pfns.v[k] - first];

			if (!(f >> KPF_ANON & 1) || (f >> KPF_ZERO_PAGE & 1))
				continue;
			mapped++;
			distinct += k == i || pfns.v[k] != pfns.v[k - 1];
			shared += count[pfns.v[k] - first] > 1;
		}
	}
	printf("members %zu anon_mapped %zu distinct %zu saved_pages %zu shared %zu\n",
	       pids.n, mapped, distinct, mapped - distinct, shared);
	return 0;
}
