/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * cowstat kernel/user interface.
 *
 * cowstat.ko exports everything as text files under COWSTAT_DEBUGFS_DIR (debugfs, root only).
 * This header is the single definition of that interface, shared by the module, the cowstat
 * tool and the selftests: file names, the interface version, and the formats' fixed words.
 *
 * COWSTAT_IF_VERSION changes whenever a file's format changes incompatibly; readers check it in
 * the "version" file before parsing anything else.
 *
 * version (0400): two lines, "<key> <value>":
 *	module_version <COWSTAT_VERSION>
 *	interface_version <COWSTAT_IF_VERSION>
 */
#ifndef _COWSTAT_H
#define _COWSTAT_H

#define COWSTAT_VERSION		"0.1.0"
#define COWSTAT_IF_VERSION	1

#define COWSTAT_DEBUGFS_DIR	"/sys/kernel/debug/cowstat"
#define COWSTAT_FILE_VERSION	"version"

#endif /* _COWSTAT_H */
