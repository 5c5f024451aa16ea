// SPDX-License-Identifier: GPL-2.0
/*
 * Files written whole or not at all (outfile.h). The new names live in a table of this
 * file's, not in the caller's struct, because atexit() handlers run after the caller's
 * frame is gone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

#define OUTFILES	4

static char pending[OUTFILES][PATH_MAX];	/* "" when free */
static int registered;

static void remove_pending(void)
{
	int i;

	for (i = 0; i < OUTFILES; i++)
		if (pending[i][0])
			unlink(pending[i]);
}

int cowstat_outfile_open(struct cowstat_outfile *o, const char *path)
{
	int i;

	for (i = 0; i < OUTFILES && pending[i][0]; i++)
		;
	if (i == OUTFILES) {
		errno = EMFILE;
		return -1;
	}
	if (snprintf(pending[i], sizeof(pending[i]), "%s.XXXXXX", path) >=
	    (int)sizeof(pending[i])) {
		pending[i][0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	o->fd = mkostemp(pending[i], O_CLOEXEC);
	if (o->fd < 0) {
		pending[i][0] = '\0';
		return -1;
	}
	fchmod(o->fd, 0644);
	if (!registered++)
		atexit(remove_pending);
	o->path = path;
	o->slot = i;
	return 0;
}

int cowstat_outfile_commit(struct cowstat_outfile *o)
{
	int err = o->fd >= 0 && close(o->fd);

	o->fd = -1;
	if (err || rename(pending[o->slot], o->path)) {
		err = errno;
		cowstat_outfile_abort(o);
		errno = err;
		return -1;
	}
	pending[o->slot][0] = '\0';
	return 0;
}

void cowstat_outfile_abort(struct cowstat_outfile *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	unlink(pending[o->slot]);
	pending[o->slot][0] = '\0';
}
