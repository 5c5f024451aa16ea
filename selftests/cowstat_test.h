/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by cowstat's selftests.
 */
#ifndef _COWSTAT_TEST_H
#define _COWSTAT_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cowstat.h>

/* Read a whole file of the module's debugfs directory into buf (NUL-terminated). */
static inline int cowstat_read_file(const char *name, char *buf, size_t size)
{
	char path[256];
	size_t len = 0;
	ssize_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", COWSTAT_DEBUGFS_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	if (n < 0)
		return -1;
	if (len + 1 >= size) {
		errno = EFBIG;
		return -1;
	}
	return 0;
}

/*
 * Take a snapshot: open the snapshot file read-write, write @cmd in one write, read the
 * report of the same open file into buf (NUL-terminated). Returns 0, or -errno of the step
 * that failed (the write's errno is the snapshot's error).
 */
static inline int cowstat_snapshot(const char *cmd, char *buf, size_t size)
{
	char path[256];
	size_t len = 0;
	ssize_t n = 0;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", COWSTAT_DEBUGFS_DIR, COWSTAT_FILE_SNAPSHOT);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd)) {
		err = -errno;
		close(fd);
		return err;
	}
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	err = n < 0 ? -errno : 0;
	close(fd);
	buf[len] = '\0';
	if (!err && len + 1 >= size)
		err = -EFBIG;
	return err;
}

/* Index of @name among the words of the line starting with "@key " (the key is word 0). */
static inline int cowstat_report_column(const char *rep, const char *key, const char *name)
{
	char line[1024], *save, *w;
	const char *p;
	int i = 0;
	size_t klen = strlen(key);

	for (p = rep; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, klen) || p[klen] != ' ')
			continue;
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
		for (w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save), i++)
			if (!strcmp(w, name))
				return i;
		return -1;
	}
	return -1;
}

/* Word @idx of the first line whose first words are @prefix (e.g. "proc 12 1 all"). */
static inline long long cowstat_report_word(const char *rep, const char *prefix, int idx)
{
	size_t plen = strlen(prefix);
	const char *p, *q;
	int i;

	if (idx < 0)
		return -1;
	for (p = rep; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, prefix, plen) || p[plen] != ' ')
			continue;
		for (q = p, i = 0; i < idx; i++) {
			q = strpbrk(q, " \n");
			if (!q || *q == '\n')
				return -1;
			q++;
		}
		return strtoll(q, NULL, 0);
	}
	return -1;
}

/* A proc field of one member and region ("all", "heap", ...); -1 if absent. */
static inline long long cowstat_snap_proc(const char *rep, int pid, const char *region,
					  const char *col)
{
	char prefix[64], want[32];
	size_t plen;
	const char *p;

	snprintf(prefix, sizeof(prefix), "proc %d ", pid);
	snprintf(want, sizeof(want), " %s ", region);
	plen = strlen(prefix);
	for (p = rep; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *r;

		if (strncmp(p, prefix, plen))
			continue;
		r = strchr(p + plen, ' ');	/* after the ppid */
		if (!r || strncmp(r, want, strlen(want)))
			continue;
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(r + strlen(want) - 1 - p), p);
		return cowstat_report_word(rep, prefix,
					   cowstat_report_column(rep, "proc_columns", col));
	}
	return -1;
}

static inline long long cowstat_snap_family(const char *rep, const char *col)
{
	return cowstat_report_word(rep, "family",
				   cowstat_report_column(rep, "family_columns", col));
}

/* Pages shared by members @a and @b (pids); -1 if absent. */
static inline long long cowstat_snap_matrix(const char *rep, int a, int b)
{
	char prefix[32], col[16];

	int idx;

	snprintf(prefix, sizeof(prefix), "matrix %d", a);
	snprintf(col, sizeof(col), "%d", b);
	/* "matrix_columns P1 P2 ..." vs "matrix PID N1 N2 ...": one word further. */
	idx = cowstat_report_column(rep, "matrix_columns", col);
	return cowstat_report_word(rep, prefix, idx < 0 ? idx : idx + 1);
}

#endif /* _COWSTAT_TEST_H */
