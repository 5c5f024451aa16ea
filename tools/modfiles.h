/* SPDX-License-Identifier: GPL-2.0 */
/* Access to cowstat.ko: is it there, is it ours, read its tables, send it commands. */
#ifndef _COWSTAT_MODFILES_H
#define _COWSTAT_MODFILES_H

#include "parse.h"

/*
 * 1 if the module's files can be read, 0 if not; with why set to the one-line reason (module
 * not loaded and how to load it, or not root).
 */
int cowstat_module_usable(char *why);
/* Exit with that one line unless the module is usable and speaks our interface version. */
void cowstat_module_require(void);
/* Read procs (and regions, attached) or exit with one line. */
void cowstat_module_procs(struct cowstat_procs *out, int with_regions);
/*
 * The module's health from its summary: when a count is low or incomplete for a reason the
 * module knows (missed probe hits, records that could not be allocated, faults counted in no
 * process, exited records dropped), one line on stderr saying so; nothing when all are 0 or
 * the module is not usable. A summary that cannot be read is that one line too, not an
 * error: the command's own output is complete.
 */
void cowstat_module_warn_health(void);
/* Send one control command; 0 or -errno. */
__printf(1, 2) int cowstat_module_control(const char *fmt, ...);

/* The newest record of pid in procs (largest start_ns), or NULL. */
struct cowstat_proc *cowstat_procs_find(struct cowstat_procs *p, int pid);

/*
 * The records of root (its newest) and of its descendants, by ppid links, each started at or
 * after its parent (so that reused pids do not join), in cowstat_family()'s order: the root
 * first, depth first, siblings in start order. Fills out[] (pointers into p), returns n.
 */
size_t cowstat_module_family(struct cowstat_procs *p, int root, struct cowstat_proc **out);
/* The same for every record with is_root[i] set, and their descendants, each record once. */
size_t cowstat_module_families(struct cowstat_procs *p, const char *is_root,
			       struct cowstat_proc **out);

#endif /* _COWSTAT_MODFILES_H */
