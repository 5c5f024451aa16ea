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
 *
 * snapshot (0600): the sharing snapshot of one process or of a process tree. Adding this file
 * did not change any existing format, so COWSTAT_IF_VERSION is unchanged; the report carries
 * its own format version (COWSTAT_SNAPSHOT_FORMAT) in its first line.
 *
 *   A write selects the target and takes the snapshot; a read of the SAME open file returns
 *   the report of the last successful write (each open file has its own report). The whole
 *   command must come in one write at offset 0, at most COWSTAT_SNAPSHOT_CMD_MAX bytes, an
 *   optional trailing newline allowed:
 *	pid <PID> [<START> <END>]	one process (a thread group ID)
 *	tree <PID> [<START> <END>]	PID and all its live descendants
 *   START and END (decimal or 0x-hex, page aligned, START < END) restrict the walk to the
 *   virtual address range [START, END) of every member.
 *
 *   The report is text, one record per line, fields separated by one space, every count in
 *   pages of page_size bytes unless the name ends in _bytes:
 *	cowstat_snapshot <COWSTAT_SNAPSHOT_FORMAT>
 *	target <pid|tree> <PID>
 *	range <START> <END>			(hex, 0x-prefixed; the whole address space is
 *						 0x0 0xffffffffffffffff)
 *	page_size <bytes>
 *	members <N>
 *	proc_columns <names of the proc fields, COWSTAT_SNAPSHOT_PROC_COLUMNS>
 *	proc <pid> <ppid> <region> <anon> ...	6 lines per member: region all, then each class
 *	family_columns <COWSTAT_SNAPSHOT_FAMILY_COLUMNS>
 *	family <members> <resident> ...
 *	matrix_columns <pid> <pid> ...		(members in proc order), or "matrix none" when
 *						 members > COWSTAT_SNAPSHOT_MATRIX_MAX
 *	matrix <pid> <n> <n> ...		one line per member
 *	end
 *   Readers must look fields up by the names in the *_columns lines: later format versions
 *   only append columns. Documentation/cowstat.rst defines every field.
 */
#ifndef _COWSTAT_H
#define _COWSTAT_H

#define COWSTAT_VERSION		"0.1.0"
#define COWSTAT_IF_VERSION	1

#define COWSTAT_DEBUGFS_DIR	"/sys/kernel/debug/cowstat"
#define COWSTAT_FILE_VERSION	"version"
#define COWSTAT_FILE_SNAPSHOT	"snapshot"

#define COWSTAT_SNAPSHOT_FORMAT		1
#define COWSTAT_SNAPSHOT_CMD_MAX	128
#define COWSTAT_SNAPSHOT_MATRIX_MAX	64
#define COWSTAT_SNAPSHOT_PROC_COLUMNS \
	"pid ppid region anon shared shared_family shared_outside exclusive zero " \
	"file_uncopied file_copied thp thp_shared ksm swap"
#define COWSTAT_SNAPSHOT_FAMILY_COLUMNS \
	"members resident anon_mapped distinct saved_pages saved_bytes"
/* Region classes, in the order of the proc lines after "all". */
#define COWSTAT_SNAPSHOT_REGIONS	"all heap stack anon_mmap file other"

#endif /* _COWSTAT_H */
