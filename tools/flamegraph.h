/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The folded stacks of cowstat trace as an interactive flame graph: one SVG document that
 * carries its frames as data and the renderer that draws them (d3-flame-graph, bundled by
 * tools/js/bundle.sh), so that a browser opens it with nothing else.
 */
#ifndef _COWSTAT_FLAMEGRAPH_H
#define _COWSTAT_FLAMEGRAPH_H

#include <stdio.h>

#include "folded.h"

/*
 * The directory of the renderer's files (cowstat-flamegraph.js, flamegraph.js and
 * d3-flamegraph.css): $COWSTAT_SHARE, else share/cowstat beside the program's directory (an
 * installed /usr/bin/cowstat), else build/share in the source tree (tools/cowstat). NULL,
 * with the places looked at in @why, when none has them.
 */
const char *cowstat_flamegraph_dir(char *why, size_t size);

/*
 * Write the stacks of @f, weighed as cowstat_folded_each() weighs them, to @out as an SVG
 * flame graph titled @title, with the renderer's files from @dir. 0, or -1 with errno.
 */
int cowstat_flamegraph_write(struct cowstat_folded *f, FILE *out, const char *dir,
			     int by_faults, const char *title,
			     const char *(*comm)(int pid, void *arg), void *arg);

#endif /* _COWSTAT_FLAMEGRAPH_H */
