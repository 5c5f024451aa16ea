/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Parsers of the module's files (include/cowstat.h, Documentation/cowstat.rst): version, procs,
 * regions, summary and watches. They work on a NUL-terminated buffer, so that tests can feed
 * them anything. They are strict: the header line with the interface version, the column line,
 * the number of fields, decimal numbers without overflow, and a final newline are all checked.
 * On malformed input they return -1 with a one-line reason in err; they never crash.
 *
 * The files are read from COWSTAT_DEBUGFS_DIR, or from the directory named by the environment
 * variable COWSTAT_DEBUGFS (a testing aid: the tests point the tool at fake module files).
 */
#ifndef _COWSTAT_PARSE_H
#define _COWSTAT_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include <cowstat.h>

#define COWSTAT_COMM_MAX	64
#define COWSTAT_ERR_MAX		160
/* The largest module file the tool reads (procs with 4096 exited records is ~1 MiB). */
#define COWSTAT_FILE_MAX	(64u << 20)

typedef uint64_t u64;

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
/* cowstat counts 4 KiB pages (x86-64); sizes derive from it. */
#define COWSTAT_PAGE_SIZE	4096ULL

struct cowstat_proc {
	int pid, ppid;
	char comm[COWSTAT_COMM_MAX];
	int exited;
	u64 start_ns, fork_ns, exit_ns;
	u64 count[COWSTAT_NR_CLASSES];
	u64 copied_bytes;
	/* Per region class, from the regions file (filled by cowstat_attach_regions()). */
	u64 region[COWSTAT_NR_REGIONS][COWSTAT_NR_CLASSES];
	int has_regions;
};

struct cowstat_procs {
	struct cowstat_proc *v;
	size_t n;
};

struct cowstat_region_line {
	int pid;
	u64 start_ns;
	int region;
	u64 count[COWSTAT_NR_CLASSES];
};

struct cowstat_regions {
	struct cowstat_region_line *v;
	size_t n;
};

struct cowstat_summary {
	u64 count[COWSTAT_NR_CLASSES];
	u64 copied_bytes;
	u64 procs_live, procs_exited, procs_dropped, procs_nomem;
	u64 faults_unattributed;
	long scope_pid;
	u64 missed;		/* sum of every missed_<function> */
};

struct cowstat_watch {
	int pid;
	u64 start_ns;
	u64 start, end;
	u64 count[COWSTAT_NR_CLASSES];
};

struct cowstat_watches {
	struct cowstat_watch *v;
	size_t n;
};

extern const char * const cowstat_class_names[COWSTAT_NR_CLASSES];
extern const char * const cowstat_region_names[COWSTAT_NR_REGIONS];

int cowstat_parse_version(const char *buf, char *modver, size_t modver_size, long *ifver,
			  char *err);
int cowstat_parse_procs(const char *buf, struct cowstat_procs *out, char *err);
int cowstat_parse_regions(const char *buf, struct cowstat_regions *out, char *err);
int cowstat_parse_summary(const char *buf, struct cowstat_summary *out, char *err);
int cowstat_parse_watches(const char *buf, struct cowstat_watches *out, char *err);

/* Copy the regions lines into the matching procs records (same pid and start_ns). */
void cowstat_attach_regions(struct cowstat_procs *procs, const struct cowstat_regions *regions);

/* Decode the module's \ooo escapes into dst (NUL-terminated); -1 if malformed. */
int cowstat_unescape(const char *src, size_t len, char *dst, size_t size);

/* The directory of the module's files: $COWSTAT_DEBUGFS or COWSTAT_DEBUGFS_DIR. */
const char *cowstat_module_dir(void);

/*
 * Read a whole module file into a malloc'ed NUL-terminated buffer. Returns 0, or -errno with
 * err set; a file larger than COWSTAT_FILE_MAX or containing a NUL byte is -EINVAL.
 */
int cowstat_read_file(const char *name, char **buf, char *err);

void cowstat_procs_free(struct cowstat_procs *p);

#endif /* _COWSTAT_PARSE_H */
