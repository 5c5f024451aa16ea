// SPDX-License-Identifier: GPL-2.0
/*
 * Sharing measured by the module: the "snapshot" file (include/cowstat.h). One write selects
 * "pid P" or "tree P", a read of the same open file returns the report. The report's per-member
 * figures map onto the backend's as follows (Documentation/cowstat.rst, snapshot):
 *	mapped = anon + zero + ksm, shared = shared + ksm, exclusive = exclusive, zero = zero
 * which are the pagemap backend's definitions (anonymous pages present in private mappings,
 * the zero page included). When the module's member set does not cover the pids asked for
 * (e.g. an orphan of the family, reparented away from the tree), the pagemap backend answers
 * instead, so that the figures always cover exactly the processes asked for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "proc.h"

#define SNAP_REPORT_MAX	(16 << 20)
#define SNAP_MAX_COLS	32

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

/* Split @line into at most @max space-separated words (in place). */
static int words(char *line, char **w, int max)
{
	int n = 0;
	char *save, *t;

	for (t = strtok_r(line, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	return n;
}

static int col(char **names, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

static int region_index(const char *name)
{
	int r;

	for (r = 0; r < COWSTAT_NR_REGIONS; r++)
		if (!strcmp(cowstat_region_names[r], name))
			return r;
	return -1;
}

static int pid_index(const int *pids, size_t n, long pid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pids[i] == pid)
			return i;
	return -1;
}

static int parse_u64(const char *s, u64 *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || end == s || *end ? -1 : 0;
}

/* Parse the report into @out (procs already allocated for the n pids, all marked gone). */
static int snap_parse(char *rep, const int *pids, size_t n, struct cowstat_share *out,
		      int *matrix_pids, size_t *members, char *err)
{
	char *pc[SNAP_MAX_COLS], *fc[SNAP_MAX_COLS], *w[SNAP_MAX_COLS + 2], *line, *save;
	int npc = 0, nfc = 0, nw, ok_end = 0, nmat = 0;
	char *pcline = NULL, *fcline = NULL;

	*members = 0;
	for (line = strtok_r(rep, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "proc_columns ", 13)) {
			pcline = strdup(line + 13);
			npc = pcline ? words(pcline, pc, SNAP_MAX_COLS) : 0;
			continue;
		}
		if (!strncmp(line, "family_columns ", 15)) {
			fcline = strdup(line + 15);
			nfc = fcline ? words(fcline, fc, SNAP_MAX_COLS) : 0;
			continue;
		}
		nw = words(line, w, SNAP_MAX_COLS + 2);
		if (!nw)
			continue;
		if (!strcmp(w[0], "cowstat_snapshot") && nw == 2 &&
		    atoi(w[1]) != COWSTAT_SNAPSHOT_FORMAT) {
			snprintf(err, COWSTAT_ERR_MAX, "snapshot format %.20s, this tool reads %d",
				 w[1], COWSTAT_SNAPSHOT_FORMAT);
			goto bad;
		} else if (!strcmp(w[0], "members") && nw == 2) {
			*members = strtoul(w[1], NULL, 10);
		} else if (!strcmp(w[0], "proc") && nw == npc + 1) {
			int ip = col(pc, npc, "pid"), ir = col(pc, npc, "region");
			int ia = col(pc, npc, "anon"), is = col(pc, npc, "shared");
			int ie = col(pc, npc, "exclusive"), iz = col(pc, npc, "zero");
			int ik = col(pc, npc, "ksm"), idx, r;
			struct cowstat_share_counts *c;
			u64 anon, shared, excl, zero, ksm;

			if (ip < 0 || ir < 0 || ia < 0 || is < 0 || ie < 0 || iz < 0 || ik < 0)
				goto malformed;
			idx = pid_index(pids, n, strtol(w[ip + 1], NULL, 10));
			if (idx < 0)
				continue;
			if (parse_u64(w[ia + 1], &anon) || parse_u64(w[is + 1], &shared) ||
			    parse_u64(w[ie + 1], &excl) || parse_u64(w[iz + 1], &zero) ||
			    parse_u64(w[ik + 1], &ksm))
				goto malformed;
			if (!strcmp(w[ir + 1], "all")) {
				c = &out->procs[idx].total;
				out->procs[idx].gone = 0;
			} else {
				r = region_index(w[ir + 1]);
				if (r < 0)
					goto malformed;
				c = &out->procs[idx].region[r];
			}
			c->mapped = anon + zero + ksm;
			c->shared = shared + ksm;
			c->exclusive = excl;
			c->zero = zero;
		} else if (!strcmp(w[0], "family") && nw == nfc + 1) {
			int id = col(fc, nfc, "distinct"), is = col(fc, nfc, "saved_pages");

			if (id < 0 || is < 0 || parse_u64(w[id + 1], &out->distinct) ||
			    parse_u64(w[is + 1], &out->saved))
				goto malformed;
		} else if (!strcmp(w[0], "matrix_columns")) {
			for (nmat = 0; nmat + 1 < nw && nmat < (int)n; nmat++)
				matrix_pids[nmat] = strtol(w[nmat + 1], NULL, 10);
		} else if (!strcmp(w[0], "matrix") && nw > 2 && out->pairs) {
			int a = pid_index(pids, n, strtol(w[1], NULL, 10)), j;

			for (j = 0; a >= 0 && j < nmat && j + 2 < nw; j++) {
				int b = pid_index(pids, n, matrix_pids[j]);

				if (b >= 0 && parse_u64(w[j + 2], &out->pairs[a * n + b]))
					goto malformed;
			}
		} else if (!strcmp(w[0], "end")) {
			ok_end = 1;
		}
	}
	free(pcline);
	free(fcline);
	if (!ok_end) {
		snprintf(err, COWSTAT_ERR_MAX, "snapshot report truncated (no end line)");
		return -1;
	}
	return 0;
malformed:
	snprintf(err, COWSTAT_ERR_MAX, "malformed line in the snapshot report: %.60s", line);
bad:
	free(pcline);
	free(fcline);
	return -1;
}

static int snap_snapshot(const int *pids, size_t n, unsigned int flags,
			 struct cowstat_share *out, char *err)
{
	char cmd[64], *rep;
	int *matrix_pids;
	size_t i, members;
	int ret, e;

	memset(out, 0, sizeof(*out));
	if (!n)
		return cowstat_pagemap_backend.snapshot(pids, n, flags, out, err);
	snprintf(cmd, sizeof(cmd), "%s %d\n", n == 1 ? "pid" : "tree", pids[0]);
	rep = snap_take(cmd, err, &e);
	/*
	 * pids[0] exited (ESRCH) or is a zombie (ENOENT) since it was found: pagemap marks exactly
	 * the processes that are gone and measures the others.
	 */
	if (!rep && (e == ESRCH || e == ENOENT))
		return cowstat_pagemap_backend.snapshot(pids, n, flags, out, err);
	if (!rep)
		return -1;
	out->procs = calloc(n, sizeof(*out->procs));
	out->pairs = flags & COWSTAT_SHARE_PAIRS ? calloc(n * n, sizeof(*out->pairs)) : NULL;
	matrix_pids = calloc(n, sizeof(*matrix_pids));
	if (!out->procs || !matrix_pids || ((flags & COWSTAT_SHARE_PAIRS) && !out->pairs)) {
		snprintf(err, COWSTAT_ERR_MAX, "out of memory");
		ret = -1;
		goto out;
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
	ret = snap_parse(rep, pids, n, out, matrix_pids, &members, err);
	if (ret)
		goto out;
	/* A live pid asked for but not a member: let pagemap measure exactly this set. */
	for (i = 0; i < n; i++) {
		if (out->procs[i].gone && cowstat_pid_alive(pids[i])) {
			free(rep);
			free(matrix_pids);
			free(out->procs);
			free(out->pairs);
			return cowstat_pagemap_backend.snapshot(pids, n, flags, out, err);
		}
	}
	for (i = 0; i < n; i++) {
		struct cowstat_share_counts *c = &out->procs[i].total;

		out->total.mapped += c->mapped;
		out->total.shared += c->shared;
		out->total.exclusive += c->exclusive;
		out->total.zero += c->zero;
	}
out:
	free(rep);
	free(matrix_pids);
	if (ret) {
		free(out->procs);
		free(out->pairs);
		memset(out, 0, sizeof(*out));
	}
	return ret;
}

static void snap_release(struct cowstat_share *s)
{
	free(s->procs);
	free(s->pairs);
	memset(s, 0, sizeof(*s));
}

const struct cowstat_share_backend cowstat_module_backend = {
	.name = "module",
	.available = snap_available,
	.limits = snap_limits,
	.snapshot = snap_snapshot,
	.release = snap_release,
};
