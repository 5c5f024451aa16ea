// SPDX-License-Identifier: GPL-2.0
/*
 * A fork family whose COW answers are known exactly, for the tests and as a small example.
 *
 * The parent puts N pages in its brk heap (nothing else lives there: this program never calls
 * malloc) and writes all of them, then forks C children. Child i writes K[i] pages of its own
 * range; once all have, the parent writes the last P pages, which no child wrote. Then:
 *   - module counts, heap region: child i copy = K[i]; parent copy = P; nothing else;
 *   - sharing, heap region (C >= 2): child i exclusive = K[i], shared = N - K[i];
 *     parent exclusive = P, shared = N - P; the family's heap frames: N + sum(K) + P.
 * With -w the family waits, after printing "ready PARENT CHILD...", until stdin is closed, so
 * that a test can measure it; with -s MS it waits MS milliseconds; otherwise it exits at once.
 *
 *   family [-n N] [-c C] [-k K1,K2,...] [-p P] [-w | -s MS]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE		4096UL
#define MAX_CHILDREN	64

static void die(const char *what)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "family: %s\n", what);

	if (write(2, buf, n) < 0)
		_exit(1);
	_exit(1);
}

static void wait_byte(int fd)
{
	char c;

	if (read(fd, &c, 1) != 1)
		_exit(1);
}

static void send_byte(int fd)
{
	if (write(fd, "x", 1) != 1)
		die("pipe write");
}

static void touch(char *buf, size_t from, size_t to, char v)
{
	for (size_t i = from; i < to; i++)
		((volatile char *)buf)[i * PAGE + 8] = v;
}

int main(int argc, char **argv)
{
	size_t n = 256, p = 0, k[MAX_CHILDREN], sum = 0, off = 0;
	int c = 2, wait_stdin = 0, hold_ms = 0, opt, go[2], done[2], quit[2], i, len;
	pid_t pids[MAX_CHILDREN];
	char *buf, *raw, line[1024];

	for (i = 0; i < MAX_CHILDREN; i++)
		k[i] = 10;
	while ((opt = getopt(argc, argv, "n:c:k:p:ws:")) != -1) {
		char *s, *tok, *save;

		switch (opt) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			c = atoi(optarg);
			break;
		case 'k':
			s = optarg;
			for (i = 0; (tok = strtok_r(s, ",", &save)) && i < MAX_CHILDREN; i++, s = NULL)
				k[i] = strtoul(tok, NULL, 10);
			for (; i < MAX_CHILDREN; i++)
				k[i] = k[i - 1];
			break;
		case 'p':
			p = strtoul(optarg, NULL, 10);
			break;
		case 'w':
			wait_stdin = 1;
			break;
		case 's':
			hold_ms = atoi(optarg);
			break;
		default:
			die("usage: family [-n N] [-c C] [-k K1,K2,...] [-p P] [-w | -s MS]");
		}
	}
	if (c < 1 || c > MAX_CHILDREN || !n)
		die("bad -c or -n");
	for (i = 0; i < c; i++)
		sum += k[i];
	if (sum + p > n)
		die("sum of -k and -p exceeds -n");

	raw = sbrk(0);
	if (sbrk((n + 1) * PAGE) == (void *)-1)
		die("sbrk");
	buf = (char *)(((unsigned long)raw + PAGE - 1) & ~(PAGE - 1));
	madvise(buf, n * PAGE, MADV_NOHUGEPAGE);
	touch(buf, 0, n, 1);
	if (pipe(go) || pipe(done) || pipe(quit))
		die("pipe");
	for (i = 0; i < c; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (!pids[i]) {
			wait_byte(go[0]);
			touch(buf, off, off + k[i], 2);
			send_byte(done[1]);
			wait_byte(quit[0]);
			_exit(0);
		}
		off += k[i];
	}
	for (i = 0; i < c; i++)
		send_byte(go[1]);
	for (i = 0; i < c; i++)
		wait_byte(done[0]);
	touch(buf, n - p, n, 3);
	if (wait_stdin) {
		len = snprintf(line, sizeof(line), "ready %d", getpid());
		for (i = 0; i < c && len < (int)sizeof(line) - 16; i++)
			len += snprintf(line + len, sizeof(line) - len, " %d", pids[i]);
		line[len++] = '\n';
		if (write(1, line, len) != len)
			die("write");
		while (read(0, line, sizeof(line)) > 0)
			;
	} else if (hold_ms > 0) {
		struct timespec ts = { hold_ms / 1000, hold_ms % 1000 * 1000000L };

		nanosleep(&ts, NULL);
	}
	for (i = 0; i < c; i++)
		send_byte(quit[1]);
	for (i = 0; i < c; i++)
		waitpid(pids[i], NULL, 0);
	return 0;
}
