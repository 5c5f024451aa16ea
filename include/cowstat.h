/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * cowstat kernel/user interface.
 *
 * cowstat.ko exports everything as text files under COWSTAT_DEBUGFS_DIR (debugfs, root only).
 * This header is the single definition of that interface, shared by the module, the cowstat
 * tool and the selftests: file names, the interface version, the fault classes and region
 * classes with their names as they appear in the files. Documentation/cowstat.rst describes
 * every file and counter in prose.
 *
 * COWSTAT_IF_VERSION changes whenever a file's format changes incompatibly; readers check it in
 * the "version" file before parsing anything else. Every table file starts with a header line
 * "# cowstat <file> v<COWSTAT_IF_VERSION>" followed by a line naming the columns; columns are
 * separated by one space, numbers are decimal unless the column name ends in "_hex", and text
 * fields (comm) escape space, tab, newline and backslash as \ooo octal.
 *
 * version (0400): two lines, "<key> <value>":
 *	module_version <COWSTAT_VERSION>
 *	interface_version <COWSTAT_IF_VERSION>
 *
 * procs (0400): one line per tracked process, live and exited:
 *	pid ppid comm state start_ns fork_ns exit_ns <class counts...> copied_bytes
 *	state is "live" or "exited"; times are CLOCK_MONOTONIC ns (0: not known / not yet).
 *
 * regions (0400): per process and region class, the fault counts (regions with no fault are
 * omitted):  pid start_ns region <class counts...>
 *
 * summary (0400): "<key> <value>" lines: the total of every class, copied_bytes, process
 * records, drops, and missed probe hits (see Documentation/cowstat.rst for the keys).
 *
 * watches (0400): one line per address-range watch:
 *	pid start_ns start_hex end_hex <class counts...>
 *
 * control (0600): one command per write(2), whole, at offset 0, optionally '\n'-terminated:
 *	reset				zero every counter, forget exited processes
 *	scope <pid>			track only <pid> and its descendants (also later forks)
 *	scope all			track every process (the default)
 *	watch <pid> <start> <len>	count faults in [start, start+len) of <pid> apart
 *	unwatch <pid> <start>		remove that watch;  "unwatch all" removes every watch
 * Both command files (control and snapshot) read one grammar, given once in
 * Documentation/cowstat.rst, "Commands": words separated by exactly one space, pids in the
 * writer's pid namespace, how numbers are read. Malformed commands fail with EINVAL, an
 * unknown pid with ESRCH, too many watches with ENOSPC; a failed command changes nothing.
 * Reading control returns the commands that recreate the current scope and watches.
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
 *   START and END (page aligned, START < END) restrict the walk to the virtual address
 *   range [START, END) of every member.
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

#define COWSTAT_VERSION		"0.2.0"
#define COWSTAT_IF_VERSION	3

#define COWSTAT_DEBUGFS_DIR	"/sys/kernel/debug/cowstat"
#define COWSTAT_FILE_VERSION	"version"
#define COWSTAT_FILE_PROCS	"procs"
#define COWSTAT_FILE_REGIONS	"regions"
#define COWSTAT_FILE_SUMMARY	"summary"
#define COWSTAT_FILE_WATCHES	"watches"
#define COWSTAT_FILE_CONTROL	"control"

/* Longest command accepted by the control file, newline included. */
#define COWSTAT_CONTROL_MAX	128
/* Most address-range watches at once. */
#define COWSTAT_MAX_WATCHES	64

/*
 * Fault classes. Every fault cowstat sees is counted in exactly one, in the process whose
 * memory it changes. Columns appear in this order, under these names.
 */
enum cowstat_class {
	COWSTAT_COPY,		/* shared anonymous page copied (also a 4 KiB part of a THP) */
	COWSTAT_REUSE,		/* anonymous page owned alone made writable in place */
	COWSTAT_ZERO,		/* zero page replaced by a new zeroed page */
	COWSTAT_FILE,		/* page of a MAP_PRIVATE file mapping copied */
	COWSTAT_THP_REUSE,	/* PMD-mapped THP reused whole */
	COWSTAT_THP_SPLIT,	/* PMD-mapped THP or huge zero page split (then a 4 KiB fault) */
	COWSTAT_THP_ZERO,	/* huge zero page replaced by a new zeroed THP (7.x; 6.x splits) */
	COWSTAT_UNSHARE,	/* shared anonymous page copied for a read-only pin (GUP) */
	COWSTAT_KSM,		/* KSM page copied */
	COWSTAT_SHARED,		/* write notify on a MAP_SHARED mapping: not COW */
	COWSTAT_OTHER,		/* anything else: special PFNs, failed faults, nothing to do */
	COWSTAT_NR_CLASSES
};

#define COWSTAT_CLASS_NAMES { \
	"copy", "reuse", "zero", "file", "thp_reuse", "thp_split", \
	"thp_zero", "unshare", "ksm", "shared", "other" }

/* Classes whose fault copies one 4 KiB page (they make up copied_bytes). */
static inline int cowstat_class_copies(int c)
{
	return c == COWSTAT_COPY || c == COWSTAT_FILE || c == COWSTAT_UNSHARE || c == COWSTAT_KSM;
}

/* Region classes: where in the address space the fault happened. */
enum cowstat_region {
	COWSTAT_REGION_HEAP,	/* the brk heap */
	COWSTAT_REGION_STACK,	/* the main thread's stack */
	COWSTAT_REGION_ANON,	/* other private anonymous memory (mmap, thread stacks) */
	COWSTAT_REGION_FILE,	/* private file mappings (program data, relro, MAP_PRIVATE) */
	COWSTAT_REGION_OTHER,	/* shared mappings, special mappings */
	COWSTAT_NR_REGIONS
};

#define COWSTAT_REGION_NAMES { "heap", "stack", "anon", "file", "other" }

/*
 * Trace event cowstat:cow_fault (tracefs events/cowstat/cow_fault; perf, trace-cmd, bpftrace):
 * one event per counted fault, with the fields pid (process whose memory changed), class and
 * region (the numbers above), addr, ip (user instruction that wrote, 0 when another task ran
 * the fault), copied (bytes), dev, ino, pgoff and file (last path component, at most
 * COWSTAT_TRACE_FILE_LEN - 1 bytes) of a file-backed mapping. Documentation/cowstat.rst, "Trace
 * event", has the details; readers take the field offsets from the event's format file.
 */
#define COWSTAT_TRACE_SYSTEM	"cowstat"
#define COWSTAT_TRACE_EVENT	"cow_fault"
#define COWSTAT_TRACE_FILE_LEN	32

#define COWSTAT_FILE_SNAPSHOT	"snapshot"

#define COWSTAT_SNAPSHOT_FORMAT		1
#define COWSTAT_SNAPSHOT_CMD_MAX	128
#define COWSTAT_SNAPSHOT_MATRIX_MAX	64
/*
 * Largest value of the module parameter snapshot_max_frames: INT_MAX / 16, the kept mappings'
 * array (16 bytes each, and a second one as large to sort them) below 2 GiB.
 */
#define COWSTAT_SNAPSHOT_MAX_FRAMES_LIMIT	134217727UL
#define COWSTAT_SNAPSHOT_PROC_COLUMNS \
	"pid ppid region anon shared shared_family shared_outside exclusive zero " \
	"file_uncopied file_copied thp thp_shared ksm swap"
#define COWSTAT_SNAPSHOT_FAMILY_COLUMNS \
	"members resident anon_mapped distinct saved_pages saved_bytes"
/* Region classes, in the order of the proc lines after "all". */
#define COWSTAT_SNAPSHOT_REGIONS	"all heap stack anon file other"

#endif /* _COWSTAT_H */
