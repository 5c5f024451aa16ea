/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Code addresses of traced processes, which may be gone by the time they are reported:
 *  - the executable mappings of each process, followed through fork, exec and mmap records
 *    (and /proc/PID/maps for processes that existed before tracing began), turn a process's
 *    address into (file, file offset);
 *  - a (file, offset) is then named with elfutils' libdwfl: function, the innermost inlined
 *    function, and source file and line when debug information is found (next to the file or
 *    by build ID under /usr/lib/debug), else the nearest ELF symbol, else file + offset.
 */
#ifndef _COWSTAT_SYMBOLS_H
#define _COWSTAT_SYMBOLS_H

#include "parse.h"

struct cowstat_code {
	const char *path;	/* interned: equal paths are equal pointers */
	u64 offset;		/* offset in the file */
};

/* Mappings of traced processes. */
void cowstat_maps_load_proc(int pid);
void cowstat_maps_add(int pid, u64 start, u64 len, u64 offset, const char *path);
void cowstat_maps_fork(int ppid, int pid);
void cowstat_maps_exec(int pid);
/* 0 and *out, or -1 when no executable mapping of pid covers ip. */
int cowstat_maps_find(int pid, u64 ip, struct cowstat_code *out);
void cowstat_maps_free(void);

struct cowstat_sym {
	char func[160];		/* function, "" when unknown */
	char inlined[96];	/* innermost inlined function at the address, "" when none */
	char src[200];		/* "file.c:123", "" without line information */
};

/* Name a code location; fields are "" when unknown. Results are cached per file. */
void cowstat_symbolize(const struct cowstat_code *code, struct cowstat_sym *out);
void cowstat_symbols_free(void);

#endif /* _COWSTAT_SYMBOLS_H */
