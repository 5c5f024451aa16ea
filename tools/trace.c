// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat trace [-p PID | --tree PID | -- CMD]: a live stream of the COW faults of a process,
 * a tree or a command's family (the trace event cowstat:cow_fault, events.c), and at the end a
 * ranked report of the code locations and data regions behind the copied bytes (symbols.c).
 *
 * Events are delivered in time order after a short delay (ORDER_NS), so that a fork, exec or
 * mmap seen on one CPU is applied before the faults that follow it on another.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "flamegraph.h"
#include "folded.h"
#include "format.h"
#include "outfile.h"
#include "proc.h"
#include "spawn.h"
#include "symbols.h"
#include "tool.h"

#define ORDER_NS	(100 * 1000000ULL)

static const char *const class_names[] = COWSTAT_CLASS_NAMES;
static const char *const region_names[] = COWSTAT_REGION_NAMES;

enum loc_kind { LOC_CODE, LOC_GUP, LOC_UNKNOWN };

struct loc {
	enum loc_kind kind;
	struct cowstat_code code;	/* LOC_CODE */
	u64 ip;				/* LOC_UNKNOWN */
	u64 faults, copied;
	u64 count[COWSTAT_NR_CLASSES];
	char label[480];		/* filled at report time */
	const char *object;
};

struct region {
	int region;
	char file[COWSTAT_TRACE_FILE_LEN];
	u64 faults, copied, lo, hi;
};

struct tproc {
	int pid, ppid;
	char comm[16];
	int exited;
	int before_exec;	/* the command's process, not yet exec'd: its faults are ours */
	u64 faults, copied;
	u64 count[COWSTAT_NR_CLASSES];
	struct loc *locs;
	size_t nlocs, caplocs;
	struct region *regions;
	size_t nregions, capregions;
};

struct tracer {
	struct tproc *procs;
	size_t n, cap;
	struct cowstat_folded *folded;	/* --folded: the faults' user stacks */
	int follow_forks;
	int stream;
	u64 start;
	u64 events;
};

/* Set by SIGINT or SIGTERM; the loop reads it after each poll(). */
static sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void trace_help(FILE *f)
{
	fprintf(f, "usage: %s trace [-q] [-d SECS] [-b PAGES] [-n N] [-o FILE] [--json]\n"
		"                     [--folded FILE] [--svg FILE] [--weight pages|faults]\n"
		"                     [--bytes | --pages]\n"
		"                     (-p PID | --tree PID | -- CMD [ARGS])\n\n"
		"Stream the COW faults of one process (-p), of a process and all its descendants\n"
		"(--tree, later forks included) or of a command's family (-- CMD), one line per\n"
		"fault, from the trace event cowstat:cow_fault. At the end (CMD exits, the traced\n"
		"processes are gone, -d elapses, or Ctrl-C) print a report ranking the code that\n"
		"wrote (function, inlined function, source line when debug information is present,\n"
		"otherwise file + offset) and the data regions by bytes copied, for the family and\n"
		"per process. Events the kernel dropped because a buffer was full are counted and\n"
		"always reported. The stream goes to standard output; the report too, or to\n"
		"standard error when tracing a command (whose output keeps standard output).\n"
		"The command's faults before it runs (in cowstat's fork of it) are not counted.\n\n"
		"  -q        no live stream, only the report\n"
		"  -d SECS   stop after SECS seconds\n"
		"  -b PAGES  ring buffer per CPU in pages, a power of 2 (default 256)\n"
		"  -n N      locations and regions listed per process (default 10)\n"
		"  -o FILE   write the report to FILE\n"
		"  --folded FILE  also write the faults' user stacks to FILE, folded (one line\n"
		"            \"comm;outer;...;inner WEIGHT\" per stack), for flame graph tools\n"
		"  --svg FILE  also draw the stacks as a flame graph, an SVG document that a\n"
		"            browser opens (hover: function, source line, weight, share; click:\n"
		"            zoom)\n"
		"  --weight W  a stack of --folded or --svg weighs the pages it copied (pages,\n"
		"            the default) or its faults (faults)\n\n"
		"examples:\n"
		"  sudo %s trace -- python3 prefork.py\n"
		"  sudo %s trace -q --tree $(pidof -s nginx) -d 60\n"
		"  sudo %s trace --json -o breaks.json -p 1234\n"
		"  sudo %s trace -q --folded breaks.folded -- ./prefork\n"
		"  sudo %s trace -q --svg breaks.svg -- ./prefork\n",
		cowstat_prog, cowstat_prog, cowstat_prog, cowstat_prog, cowstat_prog,
		cowstat_prog);
}

static struct tproc *proc_get(struct tracer *t, int pid)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->procs[i].pid == pid)
			return &t->procs[i];
	return NULL;
}

static struct tproc *proc_add(struct tracer *t, int pid, int ppid, const char *comm)
{
	struct tproc *p = proc_get(t, pid);

	if (p)
		return p;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;

		p = realloc(t->procs, cap * sizeof(*p));
		if (!p)
			cowstat_fatal("out of memory");
		t->procs = p;
		t->cap = cap;
	}
	p = &t->procs[t->n++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->ppid = ppid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	return p;
}

static struct loc *loc_get(struct tproc *p, const struct loc *key)
{
	struct loc *l;
	size_t i;

	for (i = 0; i < p->nlocs; i++) {
		l = &p->locs[i];
		if (l->kind == key->kind && l->code.path == key->code.path &&
		    l->code.offset == key->code.offset && l->ip == key->ip)
			return l;
	}
	if (p->nlocs == p->caplocs) {
		size_t cap = p->caplocs ? 2 * p->caplocs : 16;

		l = realloc(p->locs, cap * sizeof(*l));
		if (!l)
			cowstat_fatal("out of memory");
		p->locs = l;
		p->caplocs = cap;
	}
	l = &p->locs[p->nlocs++];
	*l = *key;
	return l;
}

static struct region *region_get(struct tproc *p, int region, const char *file)
{
	struct region *r;
	size_t i;

	for (i = 0; i < p->nregions; i++)
		if (p->regions[i].region == region && !strcmp(p->regions[i].file, file))
			return &p->regions[i];
	if (p->nregions == p->capregions) {
		size_t cap = p->capregions ? 2 * p->capregions : 8;

		r = realloc(p->regions, cap * sizeof(*r));
		if (!r)
			cowstat_fatal("out of memory");
		p->regions = r;
		p->capregions = cap;
	}
	r = &p->regions[p->nregions++];
	memset(r, 0, sizeof(*r));
	r->region = region;
	snprintf(r->file, sizeof(r->file), "%s", file);
	r->lo = ~0ULL;
	return r;
}

/* The name of a traced process, the root frame of its folded stacks. */
static const char *proc_comm(int pid, void *arg)
{
	struct tproc *p = proc_get(arg, pid);

	return p ? p->comm : "?";
}

/* The flame graph's title: what was traced, and what a frame's width is. */
static void trace_title(char *buf, size_t size, int argc, char **argv, int pid, int tree,
			const char *comm, int by_faults)
{
	size_t len;
	int i;

	len = snprintf(buf, size, "COW %s of ", by_faults ? "faults" : "copies");
	if (pid || tree)
		len += snprintf(buf + len, size - len, "%s %d (%s)",
				tree ? "the tree of" : "pid", pid ? pid : tree, comm);
	for (i = 0; i < argc && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s", i ? " " : "", argv[i]);
}

static void locate(const struct cowstat_ev *ev, struct loc *key)
{
	memset(key, 0, sizeof(*key));
	if (!ev->ip || ev->task_pid != ev->pid) {
		key->kind = LOC_GUP;
	} else if (cowstat_maps_find(ev->pid, ev->ip, &key->code)) {
		key->kind = LOC_UNKNOWN;
		key->ip = ev->ip;
	}
}

static void stream_line(struct tracer *t, const struct cowstat_ev *ev, const struct tproc *p,
			const struct loc *key)
{
	char where[300];

	if (key->kind == LOC_GUP)
		snprintf(where, sizeof(where), "[by pid %d]", ev->task_pid);
	else if (key->kind == LOC_UNKNOWN)
		snprintf(where, sizeof(where), "0x%llx", (unsigned long long)ev->ip);
	else
		snprintf(where, sizeof(where), "%s+0x%llx",
			 strrchr(key->code.path, '/') ? strrchr(key->code.path, '/') + 1 :
			 key->code.path, (unsigned long long)key->code.offset);
	printf("%10.6f %7d %-15s %-9s %-5s 0x%012llx %5u %s%s%s\n",
	       (ev->time > t->start ? ev->time - t->start : 0) / 1e9, p->pid, p->comm,
	       class_names[ev->class], region_names[ev->region], (unsigned long long)ev->addr,
	       ev->copied, where, ev->file[0] ? " data " : "", ev->file);
}

static void on_event(const struct cowstat_ev *ev, void *arg)
{
	struct tracer *t = arg;
	struct tproc *p;
	struct region *r;
	struct loc key, *l;

	switch (ev->type) {
	case COWSTAT_EV_FORK:
		p = proc_get(t, ev->ppid);
		if (t->follow_forks && p && !proc_get(t, ev->pid)) {
			proc_add(t, ev->pid, ev->ppid, p->comm);
			cowstat_maps_fork(ev->ppid, ev->pid);
		}
		return;
	case COWSTAT_EV_EXEC:
		p = proc_get(t, ev->pid);
		if (p) {
			snprintf(p->comm, sizeof(p->comm), "%s", ev->comm);
			cowstat_maps_exec(ev->pid);
			p->before_exec = 0;
		}
		return;
	case COWSTAT_EV_MMAP:
		if (proc_get(t, ev->pid) && ev->path && ev->path[0] == '/')
			cowstat_maps_add(ev->pid, ev->start, ev->len, ev->offset, ev->path);
		return;
	case COWSTAT_EV_EXIT:
		p = proc_get(t, ev->pid);
		if (p)
			p->exited = 1;
		return;
	case COWSTAT_EV_FAULT:
		break;
	}
	p = proc_get(t, ev->pid);
	if (!p || p->before_exec)
		return;
	t->events++;
	p->faults++;
	p->copied += ev->copied;
	p->count[ev->class]++;
	locate(ev, &key);
	l = loc_get(p, &key);
	l->faults++;
	l->copied += ev->copied;
	l->count[ev->class]++;
	if (t->folded)
		cowstat_folded_add(t->folded, p->pid, ev->stack, ev->nstack, key.kind == LOC_GUP,
				   ev->copied / cowstat_page_size());
	r = region_get(p, ev->region, ev->file);
	r->faults++;
	r->copied += ev->copied;
	if (ev->addr < r->lo)
		r->lo = ev->addr;
	if (ev->addr > r->hi)
		r->hi = ev->addr;
	if (t->stream)
		stream_line(t, ev, p, &key);
}

/* "function: inlined (file.c:12)", or "object+0xoffset" without symbols. */
static void label(struct loc *l)
{
	struct cowstat_sym s;
	const char *base;

	if (l->kind == LOC_GUP) {
		snprintf(l->label, sizeof(l->label), "%s",
			 "[another process's GUP, e.g. process_vm_readv]");
		l->object = "";
		return;
	}
	if (l->kind == LOC_UNKNOWN) {
		snprintf(l->label, sizeof(l->label), "[no file mapping: 0x%llx]",
			 (unsigned long long)l->ip);
		l->object = "";
		return;
	}
	base = strrchr(l->code.path, '/') ? strrchr(l->code.path, '/') + 1 : l->code.path;
	l->object = base;
	cowstat_symbolize(&l->code, &s);
	if (!s.func[0])
		snprintf(l->label, sizeof(l->label), "%s+0x%llx", base,
			 (unsigned long long)l->code.offset);
	else if (s.inlined[0] && s.src[0])
		snprintf(l->label, sizeof(l->label), "%s: %s (%s)", s.func, s.inlined, s.src);
	else if (s.src[0])
		snprintf(l->label, sizeof(l->label), "%s (%s)", s.func, s.src);
	else
		snprintf(l->label, sizeof(l->label), "%s", s.func);
}

/* Merge locations with the same label and object (several addresses of one source line). */
static size_t merge(struct loc *v, size_t n)
{
	size_t i, j, m = 0;
	int cl;

	for (i = 0; i < n; i++) {
		for (j = 0; j < m; j++)
			if (!strcmp(v[j].label, v[i].label) && !strcmp(v[j].object, v[i].object))
				break;
		if (j == m) {
			v[m++] = v[i];
			continue;
		}
		v[j].faults += v[i].faults;
		v[j].copied += v[i].copied;
		for (cl = 0; cl < COWSTAT_NR_CLASSES; cl++)
			v[j].count[cl] += v[i].count[cl];
	}
	return m;
}

static int by_copied_loc(const void *a, const void *b)
{
	const struct loc *x = a, *y = b;

	if (x->copied != y->copied)
		return x->copied > y->copied ? -1 : 1;
	if (x->faults != y->faults)
		return x->faults > y->faults ? -1 : 1;
	return strcmp(x->label, y->label);
}

static int by_copied_region(const void *a, const void *b)
{
	const struct region *x = a, *y = b;

	if (x->copied != y->copied)
		return x->copied > y->copied ? -1 : 1;
	if (x->faults != y->faults)
		return x->faults > y->faults ? -1 : 1;
	return x->region - y->region;
}

static int by_copied_proc(const void *a, const void *b)
{
	const struct tproc *x = a, *y = b;

	if (x->copied != y->copied)
		return x->copied > y->copied ? -1 : 1;
	if (x->faults != y->faults)
		return x->faults > y->faults ? -1 : 1;
	return x->pid - y->pid;
}

/* Label every location, merge equal ones, sort; and the family's table of all of them. */
static struct loc *prepare(struct tracer *t, size_t *nfamily)
{
	struct loc *all = NULL;
	size_t i, k, n = 0;

	for (i = 0; i < t->n; i++) {
		struct tproc *p = &t->procs[i];

		for (k = 0; k < p->nlocs; k++)
			label(&p->locs[k]);
		p->nlocs = merge(p->locs, p->nlocs);
		qsort(p->locs, p->nlocs, sizeof(*p->locs), by_copied_loc);
		qsort(p->regions, p->nregions, sizeof(*p->regions), by_copied_region);
		if (p->nlocs) {
			struct loc *v = realloc(all, (n + p->nlocs) * sizeof(*v));

			if (!v)
				cowstat_fatal("out of memory");
			all = v;
			memcpy(all + n, p->locs, p->nlocs * sizeof(*v));
			n += p->nlocs;
		}
	}
	n = merge(all, n);
	qsort(all, n, sizeof(*all), by_copied_loc);
	qsort(t->procs, t->n, sizeof(*t->procs), by_copied_proc);
	*nfamily = n;
	return all;
}

static void classes_text(char *buf, size_t size, const u64 *count)
{
	size_t len = 0;
	int cl;

	buf[0] = '\0';
	for (cl = 0; cl < COWSTAT_NR_CLASSES && len < size; cl++)
		if (count[cl])
			len += snprintf(buf + len, size - len, "%s%s %llu", len ? ", " : "",
					class_names[cl], (unsigned long long)count[cl]);
}

static void print_locs(FILE *f, const struct loc *v, size_t n, size_t limit)
{
	struct cowstat_table tb;
	char a[64], c[160];
	size_t i;

	cowstat_table_init(&tb);
	cowstat_table_col(&tb, "COPIED", 0);
	cowstat_table_col(&tb, "FAULTS", 0);
	cowstat_table_col(&tb, "CLASSES", 1);
	cowstat_table_col(&tb, "OBJECT", 1);
	for (i = 0; i < n && i < limit; i++) {
		cowstat_fmt_bytes(a, sizeof(a), v[i].copied, cowstat_opts.unit);
		cowstat_table_cell(&tb, "%s", a);
		cowstat_table_cell(&tb, "%llu", (unsigned long long)v[i].faults);
		classes_text(c, sizeof(c), v[i].count);
		cowstat_table_cell(&tb, "%.47s", c);
		cowstat_table_cell(&tb, "%.47s", v[i].object[0] ? v[i].object : "-");
	}
	/* The location, often long, goes after the aligned columns. */
	{
		FILE *tmp = tmpfile();
		char line[512];

		if (!tmp)
			cowstat_fatal("tmpfile: %s", strerror(errno));
		int width = 0;

		cowstat_table_print(&tb, tmp, "    ");
		rewind(tmp);
		while (fgets(line, sizeof(line), tmp))
			if ((int)strcspn(line, "\n") > width)
				width = strcspn(line, "\n");
		rewind(tmp);
		for (i = 0; fgets(line, sizeof(line), tmp); i++) {
			line[strcspn(line, "\n")] = '\0';
			fprintf(f, "%-*s  %s\n", width, line, i == 0 ? "LOCATION" : v[i - 1].label);
		}
		fclose(tmp);
	}
	if (n > limit)
		fprintf(f, "    ... %zu more (-n)\n", n - limit);
	cowstat_table_free(&tb);
}

static void print_regions(FILE *f, const struct tproc *p, size_t limit)
{
	struct cowstat_table tb;
	char a[64];
	size_t i;

	cowstat_table_init(&tb);
	cowstat_table_col(&tb, "COPIED", 0);
	cowstat_table_col(&tb, "FAULTS", 0);
	cowstat_table_col(&tb, "REGION", 1);
	cowstat_table_col(&tb, "FILE", 1);
	cowstat_table_col(&tb, "ADDRESSES", 1);
	for (i = 0; i < p->nregions && i < limit; i++) {
		const struct region *r = &p->regions[i];

		cowstat_fmt_bytes(a, sizeof(a), r->copied, cowstat_opts.unit);
		cowstat_table_cell(&tb, "%s", a);
		cowstat_table_cell(&tb, "%llu", (unsigned long long)r->faults);
		cowstat_table_cell(&tb, "%s", region_names[r->region]);
		cowstat_table_cell(&tb, "%s", r->file[0] ? r->file : "-");
		cowstat_table_cell(&tb, "%llx-%llx", (unsigned long long)r->lo,
				   (unsigned long long)(r->hi + cowstat_page_size()));
	}
	cowstat_table_print(&tb, f, "    ");
	if (p->nregions > limit)
		fprintf(f, "    ... %zu more (-n)\n", p->nregions - limit);
	cowstat_table_free(&tb);
}

static void text_report(FILE *f, struct tracer *t, struct loc *all, size_t nall, u64 lost,
			size_t limit)
{
	u64 copied = 0, count[COWSTAT_NR_CLASSES] = { 0 };
	char a[64], c[200];
	size_t i;
	int cl;

	for (i = 0; i < t->n; i++) {
		copied += t->procs[i].copied;
		for (cl = 0; cl < COWSTAT_NR_CLASSES; cl++)
			count[cl] += t->procs[i].count[cl];
	}
	cowstat_fmt_bytes(a, sizeof(a), copied, cowstat_opts.unit);
	classes_text(c, sizeof(c), count);
	fprintf(f, "\ncowstat trace: %llu faults in %zu processes, %s copied%s%s%s\n",
		(unsigned long long)t->events, t->n, a, c[0] ? " (" : "", c, c[0] ? ")" : "");
	fprintf(f, "events dropped: %llu%s\n", (unsigned long long)lost,
		lost ? " (a ring buffer was full: the counts above miss them; try -b or -q)" : "");
	if (!t->events)
		return;
	fprintf(f, "\ncode that wrote, whole family:\n");
	print_locs(f, all, nall, limit);
	for (i = 0; i < t->n; i++) {
		const struct tproc *p = &t->procs[i];

		if (!p->faults)
			continue;
		cowstat_fmt_bytes(a, sizeof(a), p->copied, cowstat_opts.unit);
		classes_text(c, sizeof(c), p->count);
		fprintf(f, "\npid %d (%s), parent %d%s: %llu faults, %s copied (%s)\n", p->pid,
			p->comm, p->ppid, p->exited ? ", exited" : "",
			(unsigned long long)p->faults, a, c);
		fprintf(f, "  code:\n");
		print_locs(f, p->locs, p->nlocs, limit);
		fprintf(f, "  data:\n");
		print_regions(f, p, limit);
	}
}

/* The rows -n leaves out of a list: given beside each JSON list, and said on stderr. */
static u64 beyond(size_t n, size_t limit)
{
	return n > limit ? n - limit : 0;
}

static void json_locs(struct cowstat_json *j, const struct loc *v, size_t n, size_t limit)
{
	size_t i;

	cowstat_json_u64(j, "locations_left_out", beyond(n, limit));
	cowstat_json_open(j, "locations", '[');
	for (i = 0; i < n && i < limit; i++) {
		cowstat_json_open(j, NULL, '{');
		cowstat_json_str(j, "location", v[i].label);
		cowstat_json_str(j, "object", v[i].object);
		cowstat_json_u64(j, "events", v[i].faults);
		cowstat_json_counts(j, "faults", v[i].count);
		cowstat_json_u64(j, "copied_bytes", v[i].copied);
		cowstat_json_close(j, '}');
	}
	cowstat_json_close(j, ']');
}

static void json_report(FILE *f, struct tracer *t, struct loc *all, size_t nall, u64 lost,
			size_t limit)
{
	u64 copied = 0, count[COWSTAT_NR_CLASSES] = { 0 };
	u64 left_locs = beyond(nall, limit), left_regions = 0;
	struct cowstat_json j;
	size_t i, k;
	int cl;

	for (i = 0; i < t->n; i++) {
		left_locs += beyond(t->procs[i].nlocs, limit);
		left_regions += beyond(t->procs[i].nregions, limit);
		copied += t->procs[i].copied;
		for (cl = 0; cl < COWSTAT_NR_CLASSES; cl++)
			count[cl] += t->procs[i].count[cl];
	}
	if (left_locs || left_regions)
		fprintf(stderr, "%s: trace: %llu locations and %llu regions left out of the %s\n",
			cowstat_prog, (unsigned long long)left_locs,
			(unsigned long long)left_regions,
			"report (-n N lists N of each, default 10)");
	cowstat_json_init(&j, f);
	cowstat_json_open(&j, NULL, '{');
	cowstat_json_u64(&j, "page_size", cowstat_page_size());
	cowstat_json_u64(&j, "events", t->events);
	cowstat_json_u64(&j, "events_dropped", lost);
	cowstat_json_counts(&j, "faults", count);
	cowstat_json_u64(&j, "copied_bytes", copied);
	cowstat_json_u64(&j, "list_limit", limit);
	json_locs(&j, all, nall, limit);
	cowstat_json_open(&j, "processes", '[');
	for (i = 0; i < t->n; i++) {
		const struct tproc *p = &t->procs[i];

		cowstat_json_open(&j, NULL, '{');
		cowstat_json_i64(&j, "pid", p->pid);
		cowstat_json_i64(&j, "ppid", p->ppid);
		cowstat_json_str(&j, "comm", p->comm);
		cowstat_json_str(&j, "state", p->exited ? "exited" : "live");
		cowstat_json_u64(&j, "events", p->faults);
		cowstat_json_counts(&j, "faults", p->count);
		cowstat_json_u64(&j, "copied_bytes", p->copied);
		json_locs(&j, p->locs, p->nlocs, limit);
		cowstat_json_u64(&j, "regions_left_out", beyond(p->nregions, limit));
		cowstat_json_open(&j, "regions", '[');
		for (k = 0; k < p->nregions && k < limit; k++) {
			const struct region *r = &p->regions[k];

			cowstat_json_open(&j, NULL, '{');
			cowstat_json_str(&j, "region", region_names[r->region]);
			cowstat_json_str(&j, "file", r->file);
			cowstat_json_u64(&j, "events", r->faults);
			cowstat_json_u64(&j, "copied_bytes", r->copied);
			cowstat_json_u64(&j, "first_addr", r->lo);
			cowstat_json_u64(&j, "last_addr", r->hi);
			cowstat_json_close(&j, '}');
		}
		cowstat_json_close(&j, ']');
		cowstat_json_close(&j, '}');
	}
	cowstat_json_close(&j, ']');
	cowstat_json_close(&j, '}');
	cowstat_json_end(&j);
}

int cowstat_cmd_trace(int argc, char **argv)
{
	long duration = 0, buf_pages = 256, limit = 10;
	int pid = 0, tree = 0, quiet = 0, status = 0, c;
	const char *outfile = NULL;
	struct tracer t = { 0 };
	struct cowstat_evsrc *src;
	char err[COWSTAT_ERR_MAX];
	struct cowstat_spawn sp = { 0 };
	struct cowstat_pstat st;
	struct sigaction sa;
	pid_t child = 0;
	struct loc *all;
	size_t nall;
	FILE *out;
	u64 deadline = 0;

	/* -d is a duration and -n a count of locations here: not top's --delay, --iterations. */
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "tree", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "folded", required_argument, NULL, 'F' },
		{ "weight", required_argument, NULL, 'W' },
		{ "svg", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	const char *foldfile = NULL, *weight = NULL, *svgfile = NULL, *share = NULL;
	FILE *fold = NULL, *svg = NULL;
	struct cowstat_outfile svgout;
	int r;
	char title[512], why[2 * PATH_MAX];

	while ((c = cowstat_getopt(argc, argv, "+p:t:qd:b:n:o:", opts, trace_help)) != -1) {
		switch (c) {
		case 'p':
			pid = cowstat_arg_pid(optarg);
			break;
		case 't':
			tree = cowstat_arg_pid(optarg);
			break;
		case 'q':
			quiet = 1;
			break;
		case 'd':
			duration = cowstat_arg_long("SECS", optarg, 1, 86400 * 365);
			break;
		case 'b':
			buf_pages = cowstat_arg_long("PAGES", optarg, 1, 1 << 16);
			if (buf_pages & (buf_pages - 1))
				cowstat_usage_error("-b %ld: PAGES must be a power of 2",
						    buf_pages);
			break;
		case 'n':
			limit = cowstat_arg_long("N", optarg, 1, 1 << 20);
			break;
		case 'o':
			outfile = optarg;
			break;
		case 'F':
			foldfile = optarg;
			break;
		case 'S':
			svgfile = optarg;
			break;
		case 'W':
			weight = optarg;
			if (strcmp(weight, "pages") && strcmp(weight, "faults"))
				cowstat_usage_error("--weight %s: pages or faults", weight);
			break;
		}
	}
	if (weight && !foldfile && !svgfile)
		cowstat_usage_error("--weight weighs the stacks of --folded or --svg: give one");
	if (!!pid + !!tree + !!(optind < argc) != 1)
		cowstat_usage_error("trace needs exactly one of -p PID, --tree PID or -- CMD");
	if (pid || tree)
		cowstat_proc_check_user(pid ? pid : tree, &st);
	/* Tracing a command, its output keeps standard output, as with time(1). */
	out = optind < argc ? stderr : stdout;
	if (outfile) {
		out = fopen(outfile, "we");
		if (!out)
			cowstat_fatal("cannot write %s: %s", outfile, strerror(errno));
	}
	if (foldfile) {
		fold = fopen(foldfile, "we");
		if (!fold)
			cowstat_fatal("cannot write %s: %s", foldfile, strerror(errno));
	}
	if (svgfile) {
		share = cowstat_flamegraph_dir(why, sizeof(why));
		if (!share)
			cowstat_fatal("--svg: no flame graph renderer in %s (make setup)", why);
		/* Renamed over FILE at the end, removed if the trace fails (outfile.h). */
		svg = cowstat_outfile_open(&svgout, svgfile) ? NULL : fdopen(svgout.fd, "w");
		if (!svg)
			cowstat_fatal("cannot write %s: %s", svgfile, strerror(errno));
	}
	if (fold || svg)
		t.folded = cowstat_folded_new();

	if (cowstat_evsrc_open(&src, buf_pages, !!t.folded, err))
		cowstat_fatal("%s", err);
	t.start = cowstat_now_ns();
	t.stream = !quiet;
	if (pid) {
		proc_add(&t, pid, st.ppid, st.comm);
		cowstat_maps_load_proc(pid);
	} else if (tree) {
		struct cowstat_pstat *fam;
		int *depth, i, n;

		t.follow_forks = 1;
		n = cowstat_proc_family(tree, &fam, &depth);
		if (n < 0)
			cowstat_fatal("process %d: %s", tree, strerror(-n));
		for (i = 0; i < n; i++) {
			proc_add(&t, fam[i].pid, fam[i].ppid, fam[i].comm);
			cowstat_maps_load_proc(fam[i].pid);
		}
		free(fam);
		free(depth);
	} else {
		t.follow_forks = 1;
		cowstat_spawn_held(argv + optind, &sp);
		child = sp.pid;
		/* Until it execs, it is cowstat's copy: its faults are not the command's. */
		proc_add(&t, child, getpid(), "?")->before_exec = 1;
		cowstat_maps_load_proc(child);
	}
	if (duration)
		deadline = t.start + duration * 1000000000ULL;
	/* Events flow from here: say so, for -q gives no other sign (a command's start is one). */
	if (pid || tree)
		fprintf(stderr, "%s: trace: attached to %s %d (%s), %zu process%s; %s\n",
			cowstat_prog, tree ? "the tree of" : "pid", pid ? pid : tree, st.comm, t.n,
			t.n == 1 ? "" : "es", "the report comes when they are gone, -d or Ctrl-C");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (t.stream)
		printf("%10s %7s %-15s %-9s %-5s %-14s %5s %s\n", "TIME", "PID", "COMM", "CLASS",
		       "REGION", "ADDRESS", "BYTES", "CODE");
	if (child)
		cowstat_spawn_release(argv + optind, &sp);

	while (!stop) {
		u64 now;

		if (cowstat_evsrc_read(src, 100) && errno != EINTR)
			cowstat_fatal("reading events: %s", strerror(errno));
		now = cowstat_now_ns();
		cowstat_evsrc_deliver(src, now - ORDER_NS, on_event, &t);
		if (t.stream)
			fflush(stdout);
		if (deadline && now >= deadline)
			break;
		if (child) {
			pid_t w = waitpid(child, &status, WNOHANG);

			if (w == child)
				break;
		} else {
			size_t i;
			int alive = 0;

			for (i = 0; i < t.n && !alive; i++)
				alive = !t.procs[i].exited && cowstat_pid_alive(t.procs[i].pid);
			if (!alive)
				break;
		}
	}
	/* Whatever the kernel wrote before we stopped. */
	cowstat_evsrc_read(src, 0);
	cowstat_evsrc_deliver(src, ~0ULL, on_event, &t);
	if (t.stream)
		fflush(stdout);
	if (child && stop) {
		kill(child, SIGTERM);
		waitpid(child, &status, 0);
	}

	if (fold && cowstat_folded_write(t.folded, fold, weight && !strcmp(weight, "faults"),
					 proc_comm, &t) < 0)
		cowstat_fatal("writing %s: %s", foldfile, strerror(errno));
	if (fold)
		fclose(fold);
	if (svg) {
		int by_faults = weight && !strcmp(weight, "faults");

		trace_title(title, sizeof(title), argc - optind, argv + optind, pid, tree, st.comm,
			    by_faults);
		r = cowstat_flamegraph_write(t.folded, svg, share, by_faults, title, proc_comm,
					     &t);
		r |= fclose(svg);
		svgout.fd = -1;
		if (r || cowstat_outfile_commit(&svgout))
			cowstat_fatal("writing %s: %s", svgfile, strerror(errno));
	}
	cowstat_folded_free(t.folded);
	all = prepare(&t, &nall);
	if (cowstat_opts.json)
		json_report(out, &t, all, nall, cowstat_evsrc_lost(src), limit);
	else
		text_report(out, &t, all, nall, cowstat_evsrc_lost(src), limit);
	if (out != stdout)
		fclose(out);
	cowstat_evsrc_close(src);
	free(all);
	for (nall = 0; nall < t.n; nall++) {
		free(t.procs[nall].locs);
		free(t.procs[nall].regions);
	}
	free(t.procs);
	cowstat_symbols_free();
	cowstat_maps_free();
	if (child)
		return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	return 0;
}
