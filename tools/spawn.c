// SPDX-License-Identifier: GPL-2.0
/* The held command of "cowstat run" and "cowstat trace" (spawn.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "tool.h"

noreturn static void child_exec(int go, int errfd, char **cmd)
{
	char c;
	int e;

	if (read(go, &c, 1) != 1)
		_exit(127);
	close(go);
	execvp(cmd[0], cmd);
	e = errno;
	if (write(errfd, &e, sizeof(e)) != sizeof(e))
		_exit(127);
	_exit(127);
}

void cowstat_spawn_held(char **cmd, struct cowstat_spawn *sp)
{
	int go[2], ep[2];

	if (pipe2(go, O_CLOEXEC) || pipe2(ep, O_CLOEXEC))
		cowstat_fatal("pipe: %s", strerror(errno));
	sp->pid = fork();
	if (sp->pid < 0)
		cowstat_fatal("fork: %s", strerror(errno));
	if (!sp->pid) {
		close(go[1]);
		close(ep[0]);
		child_exec(go[0], ep[1], cmd);
	}
	close(go[0]);
	close(ep[1]);
	sp->go = go[1];
	sp->report = ep[0];
}

void cowstat_spawn_release(char **cmd, struct cowstat_spawn *sp)
{
	int e;

	if (write(sp->go, "x", 1) != 1)
		cowstat_fatal("cannot start %s: %s", cmd[0], strerror(errno));
	close(sp->go);
	if (read(sp->report, &e, sizeof(e)) == sizeof(e)) {
		waitpid(sp->pid, NULL, 0);
		fprintf(stderr, "%s: cannot run '%s': %s\n", cowstat_prog, cmd[0], strerror(e));
		exit(e == ENOENT ? 127 : 126);
	}
	close(sp->report);
}
