/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A file written whole or not at all (trace --svg, run --plot): it is written under a new
 * name beside its own (mkostemp: never over a file or a link that is there already) and
 * renamed over it at the end. Until then an exit removes it (atexit), so that a command that
 * fails half-way leaves nothing half-written, and an older file as it was.
 */
#ifndef _COWSTAT_OUTFILE_H
#define _COWSTAT_OUTFILE_H

struct cowstat_outfile {
	const char *path;
	int fd;			/* -1 once the caller closed it (fclose of an fdopen) */
	int slot;		/* in outfile.c's table of files to remove at exit */
};

/* Create the file beside @path, mode 0644: 0 with @o->fd open, or -1 with errno. */
int cowstat_outfile_open(struct cowstat_outfile *o, const char *path);
/* Close @o->fd (unless -1) and rename the file over @o->path: 0, or -1 with errno. */
int cowstat_outfile_commit(struct cowstat_outfile *o);
/* Close @o->fd (unless -1) and remove the file. */
void cowstat_outfile_abort(struct cowstat_outfile *o);

#endif /* _COWSTAT_OUTFILE_H */
