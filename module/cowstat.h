/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowstat: declarations shared between the module's files.
 */
#ifndef _COWSTAT_INTERNAL_H
#define _COWSTAT_INTERNAL_H

#include <cowstat.h>

/* debugfs.c: the user-visible files; removed first on unload. */
int cowstat_debugfs_init(void);
void cowstat_debugfs_exit(void);

#endif /* _COWSTAT_INTERNAL_H */
