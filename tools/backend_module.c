// SPDX-License-Identifier: GPL-2.0
/*
 * Sharing measured by the module: the "snapshot" file (include/cowstat.h). One write selects
 * "pid P" or "tree P", a read of the same open file returns the report. The report's per-member
 * figures map onto the backend's as follows (Documentation/cowstat.rst, snapshot):
 *	mapped = anon + zero + ksm, shared = shared + ksm, exclusive = exclusive, zero = zero
 * which are the pagemap backend's definitions (anonymous pages present in private mappings,
 * the zero page included). When the module's member set does not cover the pids asked for
 * (e.g. an orphan of the family, reparented away from the tree), this backend says so
 * (COWSTAT_SHARE_NOT_COVERED) and the next one answers (backend.c), so that the figures always
 * cover exactly the processes asked for. The report is parsed by cowstat_parse_snapshot().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "format.h"
#include "proc.h"

#define SNAP_REPORT_MAX	(16 << 20)

static int snap_available(char *why)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", cowstat_module_dir(), COWSTAT_FILE_SNAPSHOT);
	if (access(path, W_OK)) {
		snprintf(why, COWSTAT_ERR_MAX, "%.100s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static const char *snap_limits(void)
{
	return NULL;
}

/*
 * Write @cmd and read the report of the same open file into a malloc'd string. On failure,
 * NULL with err set and *errnum the errno (ESRCH, ENOENT: the process is gone or a zombie).
 */
static char *snap_take(const char *cmd, char *err, int *errnum)
{
	size_t len = 0, cap = 1 << 16;
	char path[512], *buf, *nb;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", cowstat_module_dir(), COWSTAT_FILE_SNAPSHOT);
	*errnum = 0;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		*errnum = errno;
		snprintf(err, COWSTAT_ERR_MAX, "%.100s: %s", path, strerror(errno));
		return NULL;
	}
	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd)) {
		*errnum = errno;
		snprintf(err, COWSTAT_ERR_MAX, "snapshot '%.*s': %s", (int)strcspn(cmd, "\n"),
			 cmd, strerror(errno));
		close(fd);
		return NULL;
	}
	buf = malloc(cap);
	while (buf) {
		n = read(fd, buf + len, cap - 1 - len);
		if (n <= 0)
			break;
		len += n;
		if (len + 1 == cap) {
			nb = cap < SNAP_REPORT_MAX ? realloc(buf, cap * 2) : NULL;
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	if (!buf || n < 0) {
		snprintf(err, COWSTAT_ERR_MAX, "reading the snapshot report failed");
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

static int pid_index(const int *pids, size_t n, int pid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pids[i] == pid)
			return i;
	return -1;
}

static void snap_counts(struct cowstat_share_counts *c, const struct cowstat_snap_counts *m)
{
	c->mapped = m->anon + m->zero + m->ksm;
	c->shared = m->shared + m->ksm;
	c->exclusive = m->exclusive;
	c->zero = m->zero;
}

/* The members of the report that were asked for into out (procs marked gone until found). */
static void snap_fill(const struct cowstat_snapshot *rep, const int *pids, size_t n,
		      struct cowstat_share *out)
{
	size_t i, j;
	int r, a, b;

	out->distinct = rep->distinct;
	out->saved = rep->saved_pages;
	for (i = 0; i < rep->n; i++) {
		const struct cowstat_snap_member *m = &rep->v[i];
		struct cowstat_share_proc *p;

		a = pid_index(pids, n, m->pid);
		if (a < 0)
			continue;
		p = &out->procs[a];
		p->gone = 0;
		snap_counts(&p->total, &m->all);
		for (r = 0; r < COWSTAT_NR_REGIONS; r++)
			snap_counts(&p->region[r], &m->region[r]);
		for (j = 0; out->pairs && rep->matrix && j < rep->n; j++) {
			b = pid_index(pids, n, rep->v[j].pid);
			if (b >= 0)
				out->pairs[a * n + b] = rep->matrix[i * rep->n + j];
		}
	}
}

static int snap_snapshot(const int *pids, size_t n, unsigned int flags,
			 struct cowstat_share *out, char *err)
{
	struct cowstat_snapshot rep;
	char cmd[64], *buf;
	size_t i;
	int e;

	if (!n)
		return COWSTAT_SHARE_NOT_COVERED;
	snprintf(cmd, sizeof(cmd), "%s %d\n", n == 1 ? "pid" : "tree", pids[0]);
	buf = snap_take(cmd, err, &e);
	/*
	 * pids[0] exited (ESRCH) or is a zombie (ENOENT) since it was found: pagemap marks exactly
	 * the processes that are gone and measures the others.
	 */
	if (!buf)
		return e == ESRCH || e == ENOENT ? COWSTAT_SHARE_NOT_COVERED : -1;
	e = cowstat_parse_snapshot(buf, &rep, err);
	free(buf);
	if (e)
		return -1;
	out->procs = calloc(n, sizeof(*out->procs));
	out->pairs = flags & COWSTAT_SHARE_PAIRS ? calloc(n * n, sizeof(*out->pairs)) : NULL;
	if (!out->procs || ((flags & COWSTAT_SHARE_PAIRS) && !out->pairs)) {
		cowstat_snapshot_free(&rep);
		cowstat_share_release(out);
		snprintf(err, COWSTAT_ERR_MAX, "out of memory");
		return -1;
	}
	out->backend = "module";
	out->method = "snapshot";
	out->have_zero = 1;
	out->have_frames = 1;
	out->n = n;
	for (i = 0; i < n; i++) {
		struct cowstat_pstat st;

		out->procs[i].pid = pids[i];
		out->procs[i].gone = 1;
		if (!cowstat_pstat_read(pids[i], &st)) {
			out->procs[i].ppid = st.ppid;
			snprintf(out->procs[i].comm, sizeof(out->procs[i].comm), "%s", st.comm);
		}
	}
	snap_fill(&rep, pids, n, out);
	cowstat_set_page_size(rep.page_size);
	cowstat_snapshot_free(&rep);
	/* A live pid asked for but not a member: the next backend measures exactly this set. */
	for (i = 0; i < n; i++) {
		if (out->procs[i].gone && cowstat_pid_alive(pids[i])) {
			cowstat_share_release(out);
			return COWSTAT_SHARE_NOT_COVERED;
		}
	}
	for (i = 0; i < n; i++) {
		struct cowstat_share_counts *c = &out->procs[i].total;

		out->total.mapped += c->mapped;
		out->total.shared += c->shared;
		out->total.exclusive += c->exclusive;
		out->total.zero += c->zero;
	}
	return 0;
}

const struct cowstat_share_backend cowstat_module_backend = {
	.name = "module",
	.available = snap_available,
	.limits = snap_limits,
	.snapshot = snap_snapshot,
};
