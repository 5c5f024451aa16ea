// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/PID/stat: the parent and name of a process and whether it is a kernel thread, and the
 * family below a process, found by following parent links over every /proc/PID; and the
 * lines of /proc/PID/maps.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "family.h"
#include "proc.h"
#include "tool.h"

#define PF_KTHREAD	0x00200000

/* /proc/PID/stat after "comm)": state, ppid, flags (the 9th field), starttime (the 22nd). */
#define STAT_FIELDS \
	" %c %d %*d %*d %*d %*d %llu %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu"

int cowstat_pstat_read(int pid, struct cowstat_pstat *st)
{
	char path[64], buf[1024], *open_paren, *close_paren;
	unsigned long long flags, start;
	ssize_t n;
	int fd, e;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	e = errno;
	close(fd);
	if (n <= 0)
		return n < 0 ? -e : -ESRCH;
	buf[n] = '\0';
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->pid = pid;
	snprintf(st->comm, sizeof(st->comm), "%.*s", (int)(close_paren - open_paren - 1),
		 open_paren + 1);
	/*
	 * After "comm)": state ppid pgrp session tty_nr tpgid flags, then minflt cminflt majflt
	 * cmajflt utime stime cutime cstime priority nice num_threads itrealvalue starttime.
	 */
	if (sscanf(close_paren + 1, STAT_FIELDS, &st->state, &st->ppid, &flags, &start) != 4)
		return -EINVAL;
	st->kthread = !!(flags & PF_KTHREAD);
	st->start_ns = start * (1000000000ULL / (unsigned long long)sysconf(_SC_CLK_TCK));
	return 0;
}

static int exited(const struct cowstat_pstat *st)
{
	return st->state == 'Z' || st->state == 'X' || st->state == 'x';
}

int cowstat_pid_alive(int pid)
{
	struct cowstat_pstat st;

	return !cowstat_pstat_read(pid, &st) && !exited(&st);
}

int cowstat_proc_family(int root, struct cowstat_pstat **outp, int **depthp)
{
	struct cowstat_pstat *all = NULL, *out, rst;
	struct cowstat_family_node *nodes;
	size_t n = 0, cap = 0, k, i, j, *idx;
	struct dirent *de;
	int *depth, r;
	DIR *d;

	r = cowstat_pstat_read(root, &rst);
	if (r)
		return r;
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct cowstat_pstat st;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		/* Zombies have no memory left, and no children (those were reparented). */
		if (cowstat_pstat_read(atoi(de->d_name), &st) || st.kthread || exited(&st))
			continue;
		if (n == cap) {
			void *nv;

			cap = cap ? cap * 2 : 256;
			nv = realloc(all, cap * sizeof(*all));
			if (!nv)
				cowstat_fatal("out of memory");
			all = nv;
		}
		all[n++] = st;
	}
	closedir(d);
	for (i = 0; i < n && all[i].pid != root; i++)
		;
	if (i == n) {
		/* Gone from the listing since it was read: the family is the root alone. */
		if (n == cap) {
			void *nv = realloc(all, (cap + 1) * sizeof(*all));

			if (!nv)
				cowstat_fatal("out of memory");
			all = nv;
		}
		all[n++] = rst;
	}
	nodes = calloc(n, sizeof(*nodes));
	idx = calloc(n, sizeof(*idx));
	out = calloc(n, sizeof(*out));
	depth = calloc(n, sizeof(*depth));
	if (!nodes || !idx || !out || !depth)
		cowstat_fatal("out of memory");
	for (j = 0; j < n; j++) {
		nodes[j].pid = all[j].pid;
		nodes[j].ppid = all[j].ppid;
	}
	k = cowstat_family(nodes, n, i, idx, depth);
	for (j = 0; j < k; j++)
		out[j] = all[idx[j]];
	out[0] = rst;
	free(nodes);
	free(idx);
	free(all);
	*outp = out;
	*depthp = depth;
	return (int)k;
}

int cowstat_maps_parse(const char *line, struct cowstat_maps_line *m)
{
	int off = 0;

	if (sscanf(line, "%llx-%llx %7s %llx %*s %*s%n", &m->start, &m->end, m->perms,
		   &m->offset, &off) != 4)
		return -1;
	if (sscanf(line + off, " %4095[^\n]", m->name) != 1)
		m->name[0] = '\0';
	return 0;
}

void cowstat_proc_check_user(int pid, struct cowstat_pstat *st)
{
	int r = cowstat_pstat_read(pid, st);

	if (r == -ESRCH)
		cowstat_fatal("no such process: %d", pid);
	if (r)
		cowstat_fatal("/proc/%d/stat: %s", pid, strerror(-r));
	if (st->kthread)
		cowstat_fatal("%d (%s) is a kernel thread: it has no user memory to share", pid,
			      st->comm);
	if (exited(st))
		cowstat_fatal("process %d (%s) has exited (a zombie, not yet reaped by %d)", pid,
			      st->comm, st->ppid);
}
