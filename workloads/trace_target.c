// SPDX-License-Identifier: GPL-2.0
/*
 * The workload of trace_test: a parent dirties A + B pages, forks, and the child rewrites A of
 * them in writer_a() and B in writer_b(), one write per page, so that exactly A copy faults
 * come from the write in writer_a() and B from the one in writer_b(). Built with -g so that
 * cowstat trace names both functions and their source lines.
 *
 *   trace_target A B
 *
 * With TRACE_TARGET_STOP_PARENT=1 in the environment, the parent process (cowstat trace) is
 * stopped from start to end, so that its event buffer overflows (trace_test's drop test).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE	4096

__attribute__((noinline)) void writer_a(volatile char *p, int n)
{
	for (int i = 0; i < n; i++)
		p[(long)i * PAGE] = 'a';	/* TRACE_TARGET_WRITER_A */
}

__attribute__((noinline)) void writer_b(volatile char *p, int n)
{
	for (int i = 0; i < n; i++)
		p[(long)i * PAGE] = 'b';	/* TRACE_TARGET_WRITER_B */
}

int main(int argc, char **argv)
{
	int a, b, status;
	char *mem;
	pid_t pid;

	if (argc != 3)
		return 2;
	if (getenv("TRACE_TARGET_STOP_PARENT"))
		kill(getppid(), SIGSTOP);
	a = atoi(argv[1]);
	b = atoi(argv[2]);
	mem = mmap(NULL, (size_t)(a + b) * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	/* No THP: every page is its own 4 KiB COW fault. */
	madvise(mem, (size_t)(a + b) * PAGE, MADV_NOHUGEPAGE);
	for (long i = 0; i < (long)(a + b) * PAGE; i += PAGE)
		mem[i] = 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		writer_a(mem, a);
		writer_b(mem + (long)a * PAGE, b);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 1;
	printf("child %d\n", pid);
	if (getenv("TRACE_TARGET_STOP_PARENT"))
		kill(getppid(), SIGCONT);
	return WEXITSTATUS(status);
}
