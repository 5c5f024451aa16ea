/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Starting the command of "cowstat run" and "cowstat trace": forked first and held on a pipe
 * until the caller has set up what must see its first fault (the module's scope, the trace
 * events), then released to exec. A second pipe, closed by a successful exec, carries the
 * errno of a failed one.
 */
#ifndef _COWSTAT_SPAWN_H
#define _COWSTAT_SPAWN_H

#include <sys/types.h>

struct cowstat_spawn {
	pid_t pid;
	int go;		/* write one byte: the child execs */
	int report;	/* the exec's errno, or EOF once it succeeded */
};

/* Fork the held child (exits with one line on failure). */
void cowstat_spawn_held(char **cmd, struct cowstat_spawn *sp);
/*
 * Let it exec. If the exec fails: reap it, print "cannot run 'CMD': reason" and exit 127
 * (not found) or 126, as a shell does (atexit handlers run).
 */
void cowstat_spawn_release(char **cmd, struct cowstat_spawn *sp);

#endif /* _COWSTAT_SPAWN_H */
