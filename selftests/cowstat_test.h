/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by cowstat's selftests.
 */
#ifndef _COWSTAT_TEST_H
#define _COWSTAT_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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

#endif /* _COWSTAT_TEST_H */
