// SPDX-License-Identifier: GPL-2.0
/*
 * snaptime: how long one cowstat sharing snapshot takes, without the cost of starting a
 * process (which under TCG is about 50 ms and would hide how the snapshot itself scales).
 * Each of REPS rounds opens /sys/kernel/debug/cowstat/snapshot, writes "tree ROOT", reads
 * the whole report in 64 KiB reads and closes the file; the clock runs from the open to the
 * close. It prints the median in microseconds (scripts/bench-snapshot.sh, the sweep).
 *
 *	snaptime ROOT REPS
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SNAPSHOT "/sys/kernel/debug/cowstat/snapshot"
#define MAX_REPS 101

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static char buf[65536];
	long long t[MAX_REPS];
	char cmd[32];
	long root, reps, r;
	int fd, len;
	ssize_t n;

	if (argc != 3) {
		fprintf(stderr, "usage: snaptime ROOT REPS\n");
		return 2;
	}
	root = strtol(argv[1], NULL, 10);
	reps = strtol(argv[2], NULL, 10);
	if (root < 1 || reps < 1 || reps > MAX_REPS) {
		fprintf(stderr, "snaptime: bad arguments\n");
		return 2;
	}
	len = snprintf(cmd, sizeof(cmd), "tree %ld\n", root);
	for (r = 0; r < reps; r++) {
		t[r] = now_us();
		fd = open(SNAPSHOT, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			perror("snaptime: " SNAPSHOT);
			return 1;
		}
		if (write(fd, cmd, len) != len) {
			perror("snaptime: tree");
			return 1;
		}
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			;
		if (n < 0) {
			perror("snaptime: read");
			return 1;
		}
		close(fd);
		t[r] = now_us() - t[r];
	}
	qsort(t, reps, sizeof(t[0]), cmp_ll);
	printf("%lld\n", t[reps / 2]);
	return 0;
}
