// SPDX-License-Identifier: GPL-2.0
/*
 * cowfamily: build a fork family for benchmarks (scripts/bench-snapshot.sh). The root
 * writes SIZE MiB of private anonymous memory (MADV_NOHUGEPAGE: 4 KiB pages, the expensive
 * case for every scanner), then forks N-1 children; child i rewrites PCT percent of the
 * pages, its own slice, so each child keeps most pages shared with the root. With SPARSE_GIB,
 * the root first maps SPARSE_GIB GiB more (MAP_NORESERVE, never touched: no memory, no page
 * tables), which every child inherits: the reservations of JVMs, Go and AddressSanitizer.
 * When all are ready the root prints its pid and waits for stdin to close, then ends the
 * family.
 *
 * With -x (exec'd family) each child re-execs this program ("--member") before touching
 * anything: it gets its own ASLR layout and maps and writes its own SIZE MiB (and its own
 * SPARSE_GIB reservation), so the members share nothing by COW, only the program's file
 * pages; they are one family by parentage, like the workers of a service manager.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *prog = "cowfamily";

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

static char *map_family_memory(long size, long sparse)
{
	long pages = size * 256;
	char *mem;

	if (sparse && mmap(NULL, sparse << 30, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) == MAP_FAILED)
		fatal("mmap %ld GiB (MAP_NORESERVE) failed", sparse);
	mem = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fatal("mmap %ld MiB failed", size);
	madvise(mem, pages * 4096, MADV_NOHUGEPAGE);
	memset(mem, 1, pages * 4096);
	return mem;
}

/* An exec'd member: its own memory, then ready on fd 3, then wait for fd 4 to close. */
static int member(long size, long sparse)
{
	char c;

	map_family_memory(size, sparse);
	if (write(3, "r", 1) != 1)
		return 1;
	while (read(4, &c, 1) > 0)
		;
	return 0;
}

int main(int argc, char **argv)
{
	long n, size, pct, sparse = 0, pages, slice, i, p;
	int ready[2], go[2], exec_mode = 0;
	char *mem, c;

	if (argc == 4 && !strcmp(argv[1], "--member"))
		return member(strtol(argv[2], NULL, 10), strtol(argv[3], NULL, 10));
	if (argc > 1 && !strcmp(argv[1], "-x")) {
		exec_mode = 1;
		argc--;
		argv++;
	}
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: %s [-x] N SIZE_MIB PCT [SPARSE_GIB]\n", prog);
		fprintf(stderr, "example: %s 64 16 10 64\n", prog);
		return 2;
	}
	n = strtol(argv[1], NULL, 10);
	size = strtol(argv[2], NULL, 10);
	pct = strtol(argv[3], NULL, 10);
	if (argc == 5)
		sparse = strtol(argv[4], NULL, 10);
	if (n < 1 || n > 10000 || size < 1 || pct < 0 || pct > 100 || sparse < 0 ||
	    sparse > 65536)
		fatal("bad arguments");
	pages = size * 256;
	slice = pages * pct / 100;
	mem = map_family_memory(size, sparse);
	if (pipe(ready) || pipe(go))
		fatal("pipe");
	for (i = 1; i < n; i++) {
		if (fork() == 0) {
			close(go[1]);
			if (exec_mode) {
				/* The member protocol's fds: ready on 3, go on 4. */
				if (dup2(ready[1], 3) < 0 || dup2(go[0], 4) < 0)
					_exit(1);
				execl("/proc/self/exe", "cowfamily", "--member", argv[2],
				      argc == 5 ? argv[4] : "0", (char *)NULL);
				_exit(1);
			}
			for (p = 0; p < slice; p++)
				mem[((i * slice + p) % pages) * 4096] = 2;
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			while (read(go[0], &c, 1) > 0)
				;
			_exit(0);
		}
	}
	close(go[0]);
	for (i = 1; i < n; i++)
		if (read(ready[0], &c, 1) != 1)
			fatal("a child died");
	printf("%d\n", getpid());
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	close(go[1]);
	while (wait(NULL) > 0)
		;
	return 0;
}
