// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat export: COW metrics for Prometheus, served over HTTP (http.c) or written as a
 * node_exporter textfile. Documentation/usage.rst, "export", lists every metric.
 *
 * Families. Each --family names a set of processes: a root pid and its descendants, every
 * process tree whose root has a given command name, or the processes of a cgroup. The fault
 * counters of a family are sums over its members' module records, kept monotonic the way
 * Prometheus expects: a record stays a member from the first refresh that finds it in the
 * family until the module drops it (exited beyond max_exited, reset, unload); then its last
 * counts move into the family's base, which only grows. A record whose counts went down
 * (a `reset` of the module) is treated as gone and as new.
 *
 * Sharing (mapped, shared, exclusive, distinct, saved) comes from a snapshot of each family's
 * live members, taken at most every --snapshot-interval seconds by the module's snapshot or,
 * without the module, by the pagemap backend; scrapes in between answer with the last one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "format.h"
#include "http.h"
#include "modfiles.h"
#include "proc.h"
#include "tool.h"

#define EXPORT_LISTEN_DEFAULT	"127.0.0.1:10921"
#define EXPORT_FAMILIES_MAX	64
#define EXPORT_SERIES_DEFAULT	2000
#define EXPORT_SNAP_DEFAULT	30
#define EXPORT_TEXTFILE_NAME	"cowstat.prom"

enum family_kind { FAMILY_PID, FAMILY_COMM, FAMILY_CGROUP };

/* A member record of a family, as last read. */
struct member {
	int pid;
	u64 start_ns;
	char comm[COWSTAT_COMM_MAX];
	int exited;
	u64 count[COWSTAT_NR_CLASSES];
	u64 copied_bytes;
};

struct family {
	char name[COWSTAT_COMM_MAX];	/* the "family" label */
	enum family_kind kind;
	int pid;
	char arg[512];			/* command name or cgroup path */
	/* Counts of member records that are gone. */
	u64 base[COWSTAT_NR_CLASSES];
	u64 base_copied;
	struct member *m;		/* sorted by (pid, start_ns) */
	size_t n;
	/* The last snapshot. */
	int have_snap;
	size_t snap_members;
	struct cowstat_share_counts snap;
	u64 snap_distinct, snap_saved;
	int snap_have_frames;
	double snap_time, snap_seconds;
	const char *snap_backend;
};

struct exporter {
	struct family fam[EXPORT_FAMILIES_MAX];
	size_t nfam;
	int per_process;
	long max_series;
	int snap_interval;
	double last_snap;
	/* What went wrong, by source. */
	u64 err_module, err_snapshot;
	u64 scrapes, series_capped;
	int module_up;
	int module_seen;	/* read at least once: the fault counters mean something */
	struct cowstat_summary sum;
	int have_sum;
	double scrape_seconds;
	char last_err[COWSTAT_ERR_MAX];	/* the last reason printed */
};

/*
 * Set by SIGINT and SIGTERM; read after poll() and usleep() return (calls the compiler cannot
 * see through, so it reads it again).
 */
static sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void export_help(FILE *f)
{
	fprintf(f, "usage: %s export [--listen HOST:PORT | --textfile DIR] --family SPEC...\n"
		"                      [--per-process] [--max-series N] [--snapshot-interval S]\n"
		"                      [--interval S]\n\n"
		"Serve COW metrics for Prometheus at http://HOST:PORT/metrics (default\n"
		"%s), or write DIR/%s for node_exporter's textfile collector.\n\n"
		"  --family [NAME=]pid:PID       PID and its descendants\n"
		"  --family [NAME=]comm:COMM     every process tree whose root is named COMM\n"
		"  --family [NAME=]cgroup:PATH   the processes of a cgroup (v2 path)\n"
		"  --per-process                 per-process series too (at most --max-series, %d)\n"
		"  --snapshot-interval S         seconds between sharing snapshots (default %d)\n"
		"  --interval S                  seconds between textfile writes (default 15)\n\n"
		"examples:\n"
		"  sudo %s export --family web=comm:gunicorn\n"
		"  sudo %s export --textfile /var/lib/prometheus/node-exporter \\\n"
		"       --family redis=cgroup:/system.slice/redis-server.service\n",
		cowstat_prog, EXPORT_LISTEN_DEFAULT, EXPORT_TEXTFILE_NAME, EXPORT_SERIES_DEFAULT,
		EXPORT_SNAP_DEFAULT, cowstat_prog, cowstat_prog);
}

/* A label value: the format escapes backslash, double quote and newline. */
static void put_label(struct cowstat_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			cowstat_buf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			cowstat_buf_printf(b, "\\n");
		else
			cowstat_buf_printf(b, "%c", *s);
	}
}

static void parse_family(struct exporter *x, const char *spec)
{
	const char *eq = strchr(spec, '='), *colon = strchr(spec, ':'), *s = spec;
	size_t i, nl = strlen(spec);
	struct family *f;

	if (x->nfam == EXPORT_FAMILIES_MAX)
		cowstat_usage_error("export: at most %d families", EXPORT_FAMILIES_MAX);
	f = &x->fam[x->nfam];
	/* NAME=SPEC, or SPEC alone, which is then its own name. */
	if (eq && (!colon || eq < colon)) {
		nl = eq - spec;
		s = eq + 1;
	}
	if (!strncmp(s, "pid:", 4)) {
		f->kind = FAMILY_PID;
		f->pid = cowstat_arg_pid(s + 4);
	} else if (!strncmp(s, "comm:", 5) && s[5] && strlen(s + 5) < 16) {
		f->kind = FAMILY_COMM;
		strcpy(f->arg, s + 5);
	} else if (!strncmp(s, "cgroup:", 7) && s[7] == '/' && strlen(s + 7) < sizeof(f->arg)) {
		f->kind = FAMILY_CGROUP;
		strcpy(f->arg, s + 7);
		/* "/a/b/" and "/a/b" are one cgroup. */
		while (strlen(f->arg) > 1 && f->arg[strlen(f->arg) - 1] == '/')
			f->arg[strlen(f->arg) - 1] = 0;
	} else {
		cowstat_usage_error("export: --family '%s': expected [NAME=]%s", spec,
				    "pid:PID, comm:COMM (at most 15 bytes) or cgroup:/PATH");
	}
	if (!nl || nl >= sizeof(f->name))
		cowstat_usage_error("export: family name '%.*s': 1 to %zu bytes", (int)nl, spec,
				    sizeof(f->name) - 1);
	memcpy(f->name, spec, nl);
	f->name[nl] = 0;
	for (i = 0; i < x->nfam; i++)
		if (!strcmp(x->fam[i].name, f->name))
			cowstat_usage_error("export: two families named '%s'", f->name);
	x->nfam++;
}

/*
 * The processes of /proc as records without counts, for the families' membership when the
 * module is absent.
 */
static int proc_records(struct cowstat_procs *out)
{
	struct dirent *d;
	size_t cap = 0;
	DIR *dir = opendir("/proc");

	memset(out, 0, sizeof(*out));
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		struct cowstat_pstat st;
		struct cowstat_proc *p;
		int pid = atoi(d->d_name);

		if (pid <= 0 || cowstat_pstat_read(pid, &st) || st.kthread)
			continue;
		if (out->n == cap) {
			cap = cap ? cap * 2 : 512;
			out->v = realloc(out->v, cap * sizeof(*out->v));
			if (!out->v)
				cowstat_fatal("out of memory");
		}
		p = &out->v[out->n++];
		memset(p, 0, sizeof(*p));
		p->pid = pid;
		p->ppid = st.ppid;
		p->start_ns = st.start_ns;
		snprintf(p->comm, sizeof(p->comm), "%s", st.comm);
	}
	closedir(dir);
	return 0;
}

/* 1 if live process pid is in cgroup path or below it (cgroup v2: the "0::" line). */
static int in_cgroup(int pid, const char *cg)
{
	char path[64], buf[4096], *l;
	size_t cl = strlen(cg);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	for (l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, "0::", 3))
			continue;
		l += 3;
		if (!strncmp(l, cg, cl) && (l[cl] == '\n' || l[cl] == '/' || !l[cl] ||
					    !strcmp(cg, "/")))
			return 1;
	}
	return 0;
}

static int cmp_member(const void *a, const void *b)
{
	const struct member *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->start_ns > y->start_ns) - (x->start_ns < y->start_ns);
}

static struct member *find_member(struct family *f, int pid, u64 start_ns)
{
	struct member key = { .pid = pid, .start_ns = start_ns };

	return f->n ? bsearch(&key, f->m, f->n, sizeof(*f->m), cmp_member) : NULL;
}

/*
 * in[i] = 1 for the records of procs that belong to f now: the family rule, plus (sticky) the
 * records already members (membership lasts as long as the record).
 */
static void select_members(struct family *f, struct cowstat_procs *procs, char *in, int sticky)
{
	struct cowstat_proc **fam = calloc(procs->n + 1, sizeof(*fam));
	char *root = calloc(procs->n + 1, 1);
	struct cowstat_proc *r;
	size_t i, n;

	if (!fam || !root)
		cowstat_fatal("out of memory");
	/* The roots by the family's rule; their descendants join by the one family rule. */
	for (i = 0; i < procs->n; i++) {
		struct cowstat_proc *p = &procs->v[i];

		if (f->kind == FAMILY_COMM)
			root[i] = !strcmp(p->comm, f->arg);
		else if (f->kind == FAMILY_CGROUP)
			root[i] = !p->exited && in_cgroup(p->pid, f->arg);
	}
	r = f->kind == FAMILY_PID ? cowstat_procs_find(procs, f->pid) : NULL;
	if (r)
		root[r - procs->v] = 1;
	n = cowstat_module_families(procs, root, fam);
	for (i = 0; i < n; i++)
		in[fam[i] - procs->v] = 1;
	for (i = 0; sticky && i < procs->n; i++)
		if (find_member(f, procs->v[i].pid, procs->v[i].start_ns))
			in[i] = 1;
	free(root);
	free(fam);
}

/* Bring f's members up to date with procs (the module's records). */
static void update_family(struct family *f, struct cowstat_procs *procs)
{
	char *in = calloc(procs->n + 1, 1);
	struct member *m;
	size_t i, n = 0;
	int c;

	if (!in)
		cowstat_fatal("out of memory");
	select_members(f, procs, in, 1);
	for (i = 0; i < procs->n; i++)
		n += in[i];
	m = calloc(n + 1, sizeof(*m));
	if (!m)
		cowstat_fatal("out of memory");
	n = 0;
	for (i = 0; i < procs->n; i++) {
		struct cowstat_proc *p = &procs->v[i];
		struct member *old;

		if (!in[i])
			continue;
		old = find_member(f, p->pid, p->start_ns);
		if (old) {
			for (c = 0; c < COWSTAT_NR_CLASSES; c++)
				if (p->count[c] < old->count[c])
					break;
			if (c < COWSTAT_NR_CLASSES || p->copied_bytes < old->copied_bytes) {
				/* Counts went down: the old record is gone, this one is new. */
				for (c = 0; c < COWSTAT_NR_CLASSES; c++)
					f->base[c] += old->count[c];
				f->base_copied += old->copied_bytes;
			}
			old->pid = 0;	/* accounted for */
		}
		m[n].pid = p->pid;
		m[n].start_ns = p->start_ns;
		m[n].exited = p->exited;
		snprintf(m[n].comm, sizeof(m[n].comm), "%s", p->comm);
		memcpy(m[n].count, p->count, sizeof(m[n].count));
		m[n].copied_bytes = p->copied_bytes;
		n++;
	}
	/* Records that are gone: their last counts stay in the family's totals. */
	for (i = 0; i < f->n; i++) {
		if (!f->m[i].pid)
			continue;
		for (c = 0; c < COWSTAT_NR_CLASSES; c++)
			f->base[c] += f->m[i].count[c];
		f->base_copied += f->m[i].copied_bytes;
	}
	free(f->m);
	free(in);
	qsort(m, n, sizeof(*m), cmp_member);
	f->m = m;
	f->n = n;
}

/* A failed read on stderr, once per distinct reason, so that a journal does not fill up. */
static void report_once(struct exporter *x, const char *err)
{
	if (!strcmp(x->last_err, err))
		return;
	snprintf(x->last_err, sizeof(x->last_err), "%s", err);
	fprintf(stderr, "%s: export: %s\n", cowstat_prog, err);
}

/* Read the module: summary and procs; module_up says whether that worked. */
static void refresh_counts(struct exporter *x)
{
	char err[COWSTAT_ERR_MAX], why[COWSTAT_ERR_MAX], *buf;
	struct cowstat_procs procs = { 0 };
	size_t i;

	x->module_up = 0;
	if (!cowstat_module_usable(why))
		return;
	x->have_sum = 0;
	if (cowstat_read_file(COWSTAT_FILE_SUMMARY, &buf, err) == 0) {
		x->have_sum = !cowstat_parse_summary(buf, &x->sum, err);
		free(buf);
	}
	if (!x->have_sum) {
		x->err_module++;
		report_once(x, err);
	}
	if (cowstat_read_file(COWSTAT_FILE_PROCS, &buf, err)) {
		x->err_module++;
		report_once(x, err);
		return;
	}
	if (cowstat_parse_procs(buf, &procs, err)) {
		free(buf);
		x->err_module++;
		report_once(x, err);
		return;
	}
	free(buf);
	x->module_up = 1;
	x->module_seen = 1;
	for (i = 0; i < x->nfam; i++)
		update_family(&x->fam[i], &procs);
	cowstat_procs_free(&procs);
}

/* A sharing snapshot of every family's live members, if one is due. */
static void refresh_snapshots(struct exporter *x, int force)
{
	const struct cowstat_share_backend *b;
	struct cowstat_procs procs = { 0 };
	char err[COWSTAT_ERR_MAX];
	double t = now_s();
	size_t i, k;

	if (!force && x->last_snap && t - x->last_snap < x->snap_interval)
		return;
	x->last_snap = t;
	b = cowstat_share_backend_select();
	/* Without the module, the members are found in /proc, by the same rules. */
	if (!x->module_up && proc_records(&procs))
		x->err_snapshot++;
	for (i = 0; i < x->nfam; i++) {
		struct family *f = &x->fam[i];
		struct cowstat_share s = { 0 };
		int *pids = calloc((x->module_up ? f->n : procs.n) + 1, sizeof(*pids));
		size_t n = 0;
		double t0 = now_s();

		if (!pids)
			cowstat_fatal("out of memory");
		if (x->module_up) {
			for (k = 0; k < f->n; k++)
				if (!f->m[k].exited)
					pids[n++] = f->m[k].pid;
		} else if (procs.n) {
			char *in = calloc(procs.n, 1);

			if (!in)
				cowstat_fatal("out of memory");
			select_members(f, &procs, in, 0);
			for (k = 0; k < procs.n; k++)
				if (in[k])
					pids[n++] = procs.v[k].pid;
			free(in);
		}
		if (!n) {
			f->have_snap = 1;
			f->snap_members = 0;
			memset(&f->snap, 0, sizeof(f->snap));
			f->snap_distinct = 0;
			f->snap_saved = 0;
		} else if (cowstat_share_snapshot(b, pids, n, 0, &s, err)) {
			x->err_snapshot++;
			report_once(x, err);
			f->have_snap = 0;
		} else {
			f->have_snap = 1;
			f->snap_members = 0;
			for (k = 0; k < s.n; k++)
				f->snap_members += !s.procs[k].gone;
			f->snap = s.total;
			f->snap_distinct = s.distinct;
			f->snap_saved = s.saved;
			f->snap_have_frames = s.have_frames;
			f->snap_backend = s.backend;
			cowstat_share_release(&s);
		}
		f->snap_time = t0;
		f->snap_seconds = now_s() - t0;
		free(pids);
	}
	cowstat_procs_free(&procs);
}

static void help_type(struct cowstat_buf *b, const char *name, const char *type,
		      const char *help)
{
	cowstat_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The start of a sample of family f: NAME{family="..." (the caller ends the labels). */
static void family_sample(struct cowstat_buf *b, const char *name, const struct family *f)
{
	cowstat_buf_printf(b, "%s{family=\"", name);
	put_label(b, f->name);
	cowstat_buf_printf(b, "\"");
}

static u64 family_count(const struct family *f, int c)
{
	u64 v = c < 0 ? f->base_copied : f->base[c];
	size_t k;

	for (k = 0; k < f->n; k++)
		v += c < 0 ? f->m[k].copied_bytes : f->m[k].count[c];
	return v;
}

static void process_metrics(struct exporter *x, struct cowstat_buf *b)
{
	long series = 0;
	size_t i, k;

	x->series_capped = 0;
	help_type(b, "cowstat_process_copied_bytes_total", "counter",
		  "Bytes copied by COW in one process (--per-process).");
	for (i = 0; i < x->nfam; i++) {
		struct family *f = &x->fam[i];

		for (k = 0; k < f->n; k++) {
			struct member *m = &f->m[k];

			if (series >= x->max_series) {
				x->series_capped++;
				continue;
			}
			series++;
			family_sample(b, "cowstat_process_copied_bytes_total", f);
			cowstat_buf_printf(b, ",pid=\"%d\",start_ns=\"%llu\",comm=\"", m->pid,
					   (unsigned long long)m->start_ns);
			put_label(b, m->comm);
			cowstat_buf_printf(b, "\"} %llu\n", (unsigned long long)m->copied_bytes);
		}
	}
	help_type(b, "cowstat_exporter_process_series_capped", "gauge",
		  "Processes left out of the per-process series by --max-series.");
	cowstat_buf_printf(b, "cowstat_exporter_process_series_capped %llu\n",
			   (unsigned long long)x->series_capped);
}

/* The fault counters, once the module has been read: never zeros that were not read. */
static void family_metrics(struct exporter *x, struct cowstat_buf *b)
{
	static const char * const names[] = COWSTAT_CLASS_NAMES;
	size_t i, k, live;
	int c;

	if (!x->module_seen)
		return;
	help_type(b, "cowstat_family_cow_faults_total", "counter",
		  "Write-protect faults of the family's processes, by class.");
	for (i = 0; i < x->nfam; i++) {
		for (c = 0; c < COWSTAT_NR_CLASSES; c++) {
			family_sample(b, "cowstat_family_cow_faults_total", &x->fam[i]);
			cowstat_buf_printf(b, ",class=\"%s\"} %llu\n", names[c],
					   (unsigned long long)family_count(&x->fam[i], c));
		}
	}
	help_type(b, "cowstat_family_copied_bytes_total", "counter",
		  "Bytes copied by copy-on-write in the family's processes.");
	for (i = 0; i < x->nfam; i++) {
		family_sample(b, "cowstat_family_copied_bytes_total", &x->fam[i]);
		cowstat_buf_printf(b, "} %llu\n", (unsigned long long)family_count(&x->fam[i], -1));
	}
	help_type(b, "cowstat_family_processes", "gauge",
		  "The family's records in the module's table, by state.");
	for (i = 0; i < x->nfam; i++) {
		struct family *f = &x->fam[i];

		for (k = 0, live = 0; k < f->n; k++)
			live += !f->m[k].exited;
		family_sample(b, "cowstat_family_processes", f);
		cowstat_buf_printf(b, ",state=\"live\"} %zu\n", live);
		family_sample(b, "cowstat_family_processes", f);
		cowstat_buf_printf(b, ",state=\"exited\"} %zu\n", f->n - live);
	}
	if (x->per_process && x->module_up)
		process_metrics(x, b);
}

enum snap_field { SNAP_MAPPED, SNAP_SHARED, SNAP_EXCL, SNAP_DISTINCT, SNAP_SAVED, SNAP_PROCS,
		  SNAP_TIME, SNAP_SECONDS };

static const struct {
	const char *name, *help;
	int frames;		/* needs the frame figures (distinct, saved) */
} snap_metrics[] = {
	[SNAP_MAPPED] = { "cowstat_family_mapped_bytes",
			  "Private anonymous memory mapped by the family, summed.", 0 },
	[SNAP_SHARED] = { "cowstat_family_shared_bytes",
			  "Of the mapped bytes, those mapped by more than one process.", 0 },
	[SNAP_EXCL] = { "cowstat_family_exclusive_bytes",
			"Of the mapped bytes, those mapped by one process only.", 0 },
	[SNAP_DISTINCT] = { "cowstat_family_distinct_bytes",
			    "The distinct page frames behind the family's mappings.", 1 },
	[SNAP_SAVED] = { "cowstat_family_saved_bytes",
			 "Memory copy-on-write saves the family: mapped minus distinct.", 1 },
	[SNAP_PROCS] = { "cowstat_family_snapshot_processes",
			 "Live processes the last snapshot measured.", 0 },
	[SNAP_TIME] = { "cowstat_family_snapshot_timestamp_seconds",
			"When the last snapshot was taken (Unix time).", 0 },
	[SNAP_SECONDS] = { "cowstat_family_snapshot_duration_seconds",
			   "How long the last snapshot took.", 0 },
};

static void snapshot_metrics(struct exporter *x, struct cowstat_buf *b)
{
	size_t i, m;

	for (m = 0; m < ARRAY_SIZE(snap_metrics); m++) {
		help_type(b, snap_metrics[m].name, "gauge", snap_metrics[m].help);
		for (i = 0; i < x->nfam; i++) {
			const struct family *f = &x->fam[i];
			u64 v;

			if (m >= SNAP_TIME ? !f->snap_time : !f->have_snap)
				continue;
			if (snap_metrics[m].frames && f->snap_members && !f->snap_have_frames)
				continue;
			family_sample(b, snap_metrics[m].name, f);
			switch (m) {
			case SNAP_TIME:
				cowstat_buf_printf(b, "} %.3f\n", f->snap_time);
				continue;
			case SNAP_SECONDS:
				cowstat_buf_printf(b, "} %.6f\n", f->snap_seconds);
				continue;
			case SNAP_MAPPED:
				v = f->snap.mapped * cowstat_page_size();
				break;
			case SNAP_SHARED:
				v = f->snap.shared * cowstat_page_size();
				break;
			case SNAP_EXCL:
				v = f->snap.exclusive * cowstat_page_size();
				break;
			case SNAP_DISTINCT:
				v = f->snap_distinct * cowstat_page_size();
				break;
			case SNAP_SAVED:
				v = f->snap_saved * cowstat_page_size();
				break;
			default:
				v = f->snap_members;
			}
			cowstat_buf_printf(b, "} %llu\n", (unsigned long long)v);
		}
	}
}

/* One sample of a metric without labels (or with the labels given in name). */
static void plain(struct cowstat_buf *b, const char *name, const char *type, const char *help,
		  u64 v)
{
	if (help)
		help_type(b, name, type, help);
	cowstat_buf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void health_metrics(struct exporter *x, struct cowstat_buf *b)
{
	const struct cowstat_summary *s = &x->sum;
	const char *c = "counter";

	plain(b, "cowstat_module_up", "gauge", "1 if cowstat.ko's files were read at this scrape.",
	      x->module_up);
	if (x->module_up && x->have_sum) {
		plain(b, "cowstat_module_missed_probe_hits_total", c,
		      "Probe hits the module could not handle: faults not counted.", s->missed);
		plain(b, "cowstat_module_records_dropped_total", c,
		      "Exited process records dropped beyond max_exited.", s->procs_dropped);
		plain(b, "cowstat_module_record_alloc_failures_total", c,
		      "Process records that could not be allocated.", s->procs_nomem);
		plain(b, "cowstat_module_faults_unattributed_total", c,
		      "Faults counted in no process.", s->faults_unattributed);
		help_type(b, "cowstat_module_records", "gauge",
			  "Process records in the module's table, by state.");
		plain(b, "cowstat_module_records{state=\"live\"}", NULL, NULL, s->procs_live);
		plain(b, "cowstat_module_records{state=\"exited\"}", NULL, NULL, s->procs_exited);
	}
	help_type(b, "cowstat_exporter_errors_total", c,
		  "Failed reads, by source: the module's files, or a snapshot.");
	plain(b, "cowstat_exporter_errors_total{source=\"module\"}", NULL, NULL, x->err_module);
	plain(b, "cowstat_exporter_errors_total{source=\"snapshot\"}", NULL, NULL,
	      x->err_snapshot);
	plain(b, "cowstat_exporter_scrapes_total", c, "Answers the exporter has built.",
	      x->scrapes);
	help_type(b, "cowstat_exporter_scrape_duration_seconds", "gauge",
		  "How long building the previous answer took.");
	cowstat_buf_printf(b, "cowstat_exporter_scrape_duration_seconds %.6f\n",
			   x->scrape_seconds);
}

/* Everything, in the text format. */
static void build(struct exporter *x, struct cowstat_buf *b)
{
	double t0 = now_s();

	x->scrapes++;
	refresh_counts(x);
	refresh_snapshots(x, 0);
	family_metrics(x, b);
	snapshot_metrics(x, b);
	health_metrics(x, b);
	x->scrape_seconds = now_s() - t0;
}

static const char landing_page[] =
	"<html><head><title>cowstat exporter</title></head><body>\n"
	"<h1>cowstat exporter</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

static int handler(const char *path, struct cowstat_buf *body, const char **type, void *ctx)
{
	if (!strcmp(path, "/metrics")) {
		build(ctx, body);
		*type = "text/plain; version=0.0.4; charset=utf-8";
		return 200;
	}
	if (!strcmp(path, "/")) {
		cowstat_buf_printf(body, "%s", landing_page);
		*type = "text/html; charset=utf-8";
		return 200;
	}
	cowstat_buf_printf(body, "not found: try /metrics\n");
	return 404;
}

/* Write DIR/cowstat.prom through a temporary file and rename(): readers never see half. */
static int write_textfile(struct exporter *x, const char *dir, char *err)
{
	char tmp[4096], dst[4096];
	struct cowstat_buf b = { 0 };
	int fd, ok;

	snprintf(dst, sizeof(dst), "%s/%s", dir, EXPORT_TEXTFILE_NAME);
	snprintf(tmp, sizeof(tmp), "%s/.%s.%d", dir, EXPORT_TEXTFILE_NAME, (int)getpid());
	build(x, &b);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, COWSTAT_ERR_MAX, "%.100s: %s", tmp, strerror(errno));
		cowstat_buf_free(&b);
		return -1;
	}
	ok = write(fd, b.p, b.len) == (ssize_t)b.len && !fsync(fd);
	ok = !close(fd) && ok;
	cowstat_buf_free(&b);
	if (!ok || rename(tmp, dst)) {
		snprintf(err, COWSTAT_ERR_MAX, "%.100s: %s", dst, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static double arg_seconds(const char *what, const char *s, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max))
		cowstat_usage_error("%s: expected seconds from %g to %g, got '%s'", what, min, max,
				    s);
	return v;
}

int cowstat_cmd_export(int argc, char **argv)
{
	enum { O_LISTEN = 1, O_TEXTFILE, O_FAMILY, O_PER_PROCESS, O_MAX_SERIES, O_SNAP,
	       O_INTERVAL };
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "textfile", required_argument, NULL, O_TEXTFILE },
		{ "family", required_argument, NULL, O_FAMILY },
		{ "per-process", no_argument, NULL, O_PER_PROCESS },
		{ "max-series", required_argument, NULL, O_MAX_SERIES },
		{ "snapshot-interval", required_argument, NULL, O_SNAP },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ NULL, 0, NULL, 0 },
	};
	static struct exporter x;
	const char *listen_addr = EXPORT_LISTEN_DEFAULT, *textfile = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[COWSTAT_ERR_MAX], why[COWSTAT_ERR_MAX];
	double interval = 15;
	struct stat st;
	int c, lfd, listen_set = 0;

	x.max_series = EXPORT_SERIES_DEFAULT;
	x.snap_interval = EXPORT_SNAP_DEFAULT;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			export_help(stdout);
			return 0;
		case O_LISTEN:
			listen_addr = optarg;
			listen_set = 1;
			break;
		case O_TEXTFILE:
			textfile = optarg;
			break;
		case O_FAMILY:
			parse_family(&x, optarg);
			break;
		case O_PER_PROCESS:
			x.per_process = 1;
			break;
		case O_MAX_SERIES:
			x.max_series = cowstat_arg_long("--max-series", optarg, 1, 1000000);
			break;
		case O_SNAP:
			x.snap_interval = (int)arg_seconds("--snapshot-interval", optarg, 1, 86400);
			break;
		case O_INTERVAL:
			interval = arg_seconds("--interval", optarg, 1, 86400);
			break;
		default:
			export_help(stderr);
			return 2;
		}
	}
	if (optind != argc)
		cowstat_usage_error("export: unexpected argument '%s'", argv[optind]);
	if (!x.nfam)
		cowstat_usage_error("export: no --family given (try --family NAME=comm:COMM)");
	if (textfile && listen_set)
		cowstat_usage_error("export: --listen and --textfile exclude each other");
	if (textfile && (stat(textfile, &st) || !S_ISDIR(st.st_mode)))
		cowstat_usage_error("export: --textfile %s: not a directory", textfile);
	/* Fails here, once, rather than at every snapshot. */
	if (cowstat_pagemap_backend.available(why) && cowstat_module_backend.available(why))
		cowstat_fatal("export: no way to measure sharing: %s", why);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (textfile) {
		while (!stop) {
			if (write_textfile(&x, textfile, err))
				fprintf(stderr, "%s: export: %s\n", cowstat_prog, err);
			usleep((useconds_t)(interval * 1e6));
		}
		return 0;
	}
	lfd = cowstat_http_listen(listen_addr, err);
	if (lfd < 0)
		cowstat_fatal("export: %s", err);
	fprintf(stderr, "%s: export: serving http://%s/metrics\n", cowstat_prog, listen_addr);
	if (cowstat_http_serve(lfd, handler, NULL, 0, &x, &stop, err))
		cowstat_fatal("export: %s", err);
	close(lfd);
	return 0;
}
