/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running a program from a test (the cowstat command, a shell line): what it printed, and its
 * exit status in the one convention every test uses. Shared by the guest's selftests and the
 * host's host-tests/cli_test.c.
 */
#ifndef _COWSTAT_TOOL_H
#define _COWSTAT_TOOL_H

#include <stdio.h>
#include <sys/wait.h>

struct cowstat_result {
	int status;		/* cowstat_exit_status() */
	char out[65536];
	char err[4096];
};

/*
 * The exit status, or 128 + the signal that killed it: the shell's convention (the host tests
 * in shell read $?), and that of cowstat run itself. @wstatus as waitpid() gives it.
 */
static inline int cowstat_exit_status(int wstatus)
{
	return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

/* Read what the temporary file @f holds into @buf (cut at @size - 1 bytes) and close it. */
static inline void cowstat_slurp(FILE *f, char *buf, size_t size)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

#endif /* _COWSTAT_TOOL_H */
