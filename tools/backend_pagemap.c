// SPDX-License-Identifier: GPL-2.0
/*
 * Sharing measured from /proc/PID/pagemap (Documentation/admin-guide/mm/pagemap.rst), with
 * /proc/PID/maps for the private mappings and their region class. A page counts when it is
 * present, anonymous (bit 61 clear) and in a private mapping: that is the memory fork shares
 * copy-on-write. As root, /proc/kpagecount says how many mappings its frame has (shared: more
 * than one) and /proc/kpageflags whether it is the zero page; frames are collected to count
 * the distinct ones and the pairwise overlap. Otherwise bit 56 says whether it is mapped
 * exclusively.
 *
 * The zero pages count too, as the module counts them. The 4 KiB one has no struct page in
 * pagemap's eyes and reads as anonymous; the huge zero page, mapped by a PMD, is a page that
 * is not anonymous, so pagemap sets bit 61 for it as for a page cache page (6.1, 6.12). As
 * root, /proc/kpageflags tells it apart (KPF_ZERO_PAGE); without root, a non-anonymous page
 * in an anonymous mapping can only be the huge zero page (the module's rule, walk.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "proc.h"
#include "tool.h"

#define BIT_ULL(n)	(1ULL << (n))
#define PM_PRESENT	BIT_ULL(63)
#define PM_FILE		BIT_ULL(61)
#define PM_EXCLUSIVE	BIT_ULL(56)
#define PM_PFN_MASK	(BIT_ULL(55) - 1)
#define KPF_ZERO_PAGE	BIT_ULL(24)
#define PM_BATCH	1024

struct frames {
	u64 *v;
	size_t n, cap;
};

struct pm_ctx {
	int use_frames;
	int kpagecount, kpageflags;
	struct frames *frames;	/* per process, when use_frames */
};

static int frames_mode(void)
{
	const char *e = getenv("COWSTAT_PAGEMAP_NOFRAMES");

	if (e && *e && strcmp(e, "0"))
		return 0;
	return geteuid() == 0 && access("/proc/kpagecount", R_OK) == 0 &&
	       access("/proc/kpageflags", R_OK) == 0;
}

static int pm_available(char *why)
{
	if (access("/proc/self/pagemap", R_OK)) {
		snprintf(why, COWSTAT_ERR_MAX, "/proc/self/pagemap: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static const char *pm_limits(void)
{
	if (frames_mode())
		return NULL;
	return "not root: saved, distinct frames, pairs and zero pages unavailable";
}

/* Region class of a /proc/PID/maps line's path ("" for anonymous), as the module names it. */
static int pagemap_region(const char *path)
{
	if (!*path || !strncmp(path, "[anon:", 6))
		return COWSTAT_REGION_ANON;
	if (!strcmp(path, "[heap]"))
		return COWSTAT_REGION_HEAP;
	if (!strcmp(path, "[stack]"))
		return COWSTAT_REGION_STACK;
	if (path[0] == '[')
		return COWSTAT_REGION_OTHER;
	return COWSTAT_REGION_FILE;
}

static int frames_add(struct frames *f, u64 pfn)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4096;
		u64 *nv = realloc(f->v, cap * sizeof(*nv));

		if (!nv)
			return -1;
		f->v = nv;
		f->cap = cap;
	}
	f->v[f->n++] = pfn;
	return 0;
}

static int read_u64_at(int fd, u64 index, u64 *v)
{
	return pread(fd, v, sizeof(*v), index * sizeof(*v)) == sizeof(*v) ? 0 : -1;
}

/*
 * Classify one pagemap entry of a present page of a private mapping (@anon_vma: one without a
 * file). Page cache pages are not counted; anonymous pages and the zero pages are.
 */
static int account(struct pm_ctx *c, u64 e, int anon_vma, struct cowstat_share_counts *r,
		   struct frames *f)
{
	u64 pfn = e & PM_PFN_MASK, count, flags;

	if (!c->use_frames) {
		if ((e & PM_FILE) && !anon_vma)
			return 0;
		r->mapped++;
		if (e & PM_EXCLUSIVE)
			r->exclusive++;
		else
			r->shared++;
		return 0;
	}
	if (read_u64_at(c->kpageflags, pfn, &flags))
		return -1;
	if (flags & KPF_ZERO_PAGE) {
		r->mapped++;
		r->zero++;
		return 0;
	}
	if (e & PM_FILE)
		return 0;
	if (read_u64_at(c->kpagecount, pfn, &count))
		return -1;
	r->mapped++;
	if (count > 1)
		r->shared++;
	else
		r->exclusive++;
	return frames_add(f, pfn);
}

/* One mapping [start, end): add its pages to r. 0, -ESRCH if the process went away. */
static int scan_vma(struct pm_ctx *c, int pm, u64 start, u64 end, int anon_vma,
		    struct cowstat_share_counts *r, struct frames *f)
{
	/* pagemap has one entry per page of this kernel. */
	u64 psize = (u64)sysconf(_SC_PAGESIZE);
	u64 buf[PM_BATCH], page = start / psize, last = end / psize;

	while (page < last) {
		size_t want = last - page > PM_BATCH ? PM_BATCH : last - page, i;
		ssize_t n = pread(pm, buf, want * sizeof(u64), page * sizeof(u64));

		if (n <= 0)
			return -ESRCH;
		n /= sizeof(u64);
		for (i = 0; i < (size_t)n; i++) {
			if (!(buf[i] & PM_PRESENT))
				continue;
			if (account(c, buf[i], anon_vma, r, f))
				return -EIO;
		}
		page += n;
	}
	return 0;
}

static void add_counts(struct cowstat_share_counts *to, const struct cowstat_share_counts *c)
{
	to->mapped += c->mapped;
	to->shared += c->shared;
	to->exclusive += c->exclusive;
	to->zero += c->zero;
}

/* Measure one process. 0, -ESRCH when gone, other -errno with err set. */
static int scan_proc(struct pm_ctx *c, struct cowstat_share_proc *p, struct frames *f,
		     char *err)
{
	char path[64], line[4096];
	struct cowstat_pstat st;
	FILE *maps;
	int pm, r = 0;

	if (cowstat_pstat_read(p->pid, &st) || st.state == 'Z' || st.state == 'X')
		return -ESRCH;
	p->ppid = st.ppid;
	snprintf(p->comm, sizeof(p->comm), "%s", st.comm);
	snprintf(path, sizeof(path), "/proc/%d/maps", p->pid);
	maps = fopen(path, "re");
	if (!maps)
		goto open_err;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", p->pid);
	pm = open(path, O_RDONLY | O_CLOEXEC);
	if (pm < 0) {
		fclose(maps);
		goto open_err;
	}
	while (fgets(line, sizeof(line), maps)) {
		struct cowstat_share_counts rc = { 0 };
		struct cowstat_maps_line m;
		int rg;

		if (cowstat_maps_parse(line, &m))
			continue;
		if (m.perms[3] != 'p' || !strcmp(m.name, "[vsyscall]"))
			continue;
		rg = pagemap_region(m.name);
		r = scan_vma(c, pm, m.start, m.end,
			     rg != COWSTAT_REGION_FILE && rg != COWSTAT_REGION_OTHER, &rc, f);
		if (r)
			break;
		add_counts(&p->region[rg], &rc);
		add_counts(&p->total, &rc);
	}
	close(pm);
	fclose(maps);
	/*
	 * A process that exited during the scan reads as fewer mappings (none once it is a
	 * zombie) or as a short pagemap: its figures are not a measurement.
	 */
	if (!r && !cowstat_pid_alive(p->pid))
		r = -ESRCH;
	if (r == -EIO)
		snprintf(err, COWSTAT_ERR_MAX, "/proc/kpagecount: read failed");
	return r;
open_err:
	if (errno == ENOENT || errno == ESRCH)
		return -ESRCH;
	snprintf(err, COWSTAT_ERR_MAX, "%s: %s%s", path, strerror(errno),
		 errno == EACCES ? " (run as root, or as the process's owner)" : "");
	return -errno;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Frames in both sorted, deduplicated lists. */
static u64 overlap(const struct frames *a, const struct frames *b)
{
	size_t i = 0, j = 0;
	u64 n = 0;

	while (i < a->n && j < b->n) {
		if (a->v[i] < b->v[j]) {
			i++;
		} else if (a->v[i] > b->v[j]) {
			j++;
		} else {
			n++;
			i++;
			j++;
		}
	}
	return n;
}

static size_t dedup(u64 *v, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (!k || v[k - 1] != v[i])
			v[k++] = v[i];
	return k;
}

static void frames_stats(struct pm_ctx *c, struct cowstat_share *s, unsigned int flags)
{
	struct frames all = { 0 };
	size_t i, j;

	for (i = 0; i < s->n; i++) {
		struct frames *f = &c->frames[i];

		qsort(f->v, f->n, sizeof(u64), cmp_u64);
		f->n = dedup(f->v, f->n);
		for (j = 0; j < f->n; j++)
			if (frames_add(&all, f->v[j]))
				cowstat_fatal("out of memory");
	}
	qsort(all.v, all.n, sizeof(u64), cmp_u64);
	s->distinct = dedup(all.v, all.n);
	free(all.v);
	s->saved = s->total.mapped - s->total.zero - s->distinct;
	if (!(flags & COWSTAT_SHARE_PAIRS))
		return;
	s->pairs = calloc(s->n * s->n, sizeof(u64));
	if (!s->pairs)
		cowstat_fatal("out of memory");
	for (i = 0; i < s->n; i++)
		for (j = i + 1; j < s->n; j++) {
			s->pairs[i * s->n + j] = overlap(&c->frames[i], &c->frames[j]);
			s->pairs[j * s->n + i] = s->pairs[i * s->n + j];
		}
}

static int pm_snapshot(const int *pids, size_t n, unsigned int flags, struct cowstat_share *s,
		       char *err)
{
	struct pm_ctx c = { .use_frames = frames_mode(), .kpagecount = -1, .kpageflags = -1 };
	int ret = 0;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->backend = "pagemap";
	s->method = c.use_frames ? "kpagecount" : "exclusive-bit";
	s->have_zero = c.use_frames;
	s->have_frames = c.use_frames;
	s->n = n;
	s->procs = calloc(n ? n : 1, sizeof(*s->procs));
	c.frames = calloc(n ? n : 1, sizeof(*c.frames));
	if (!s->procs || !c.frames)
		cowstat_fatal("out of memory");
	if (c.use_frames) {
		c.kpagecount = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
		c.kpageflags = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
		if (c.kpagecount < 0 || c.kpageflags < 0) {
			snprintf(err, COWSTAT_ERR_MAX, "/proc/kpagecount: %s", strerror(errno));
			ret = -1;
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		struct cowstat_share_proc *p = &s->procs[i];
		int r;

		p->pid = pids[i];
		r = scan_proc(&c, p, &c.frames[i], err);
		if (r == -ESRCH) {
			memset(p, 0, sizeof(*p));
			p->pid = pids[i];
			p->gone = 1;
			c.frames[i].n = 0;
			continue;
		}
		if (r) {
			ret = -1;
			goto out;
		}
		add_counts(&s->total, &p->total);
	}
	if (c.use_frames)
		frames_stats(&c, s, flags);
out:
	for (i = 0; i < n; i++)
		free(c.frames[i].v);
	free(c.frames);
	if (c.kpagecount >= 0)
		close(c.kpagecount);
	if (c.kpageflags >= 0)
		close(c.kpageflags);
	if (ret) {
		free(s->procs);
		s->procs = NULL;
	}
	return ret;
}

const struct cowstat_share_backend cowstat_pagemap_backend = {
	.name = "pagemap",
	.available = pm_available,
	.limits = pm_limits,
	.snapshot = pm_snapshot,
};
