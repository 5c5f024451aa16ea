// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat run -- CMD: run CMD with the module's scope set to it, so that only CMD and its
 * descendants are counted, sample the family's sharing while it runs, and print a report like
 * time(1) when CMD exits. CMD's exit status is passed through (128 + signal when killed).
 *
 * The child is forked first and held (spawn.c) until "scope <child>" is written, so that not a
 * single fault of CMD escapes the scope; then it execs CMD.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "modfiles.h"
#include "plot.h"
#include "spawn.h"
#include "report.h"

#define EROSION_POINTS	8

struct sample {
	u64 since_fork_ns;	/* 0 before the first fork */
	size_t procs;
	u64 mapped, shared, saved;
	u64 t_ns;		/* when the members' copies were read */
	size_t copies, ncopies;	/* the live members' copies: samples.copies[copies..+ncopies) */
};

/* What a member had copied at a sample (--plot). */
struct copies {
	int pid;
	u64 start_ns, copied_bytes;
};

struct samples {
	struct sample *v;
	size_t n, cap;
	int have_frames;
	const char *backend, *method;
	struct copies *copies;	/* --plot only */
	size_t ncopies, capcopies;
	int plot;
};

static char saved_scope[COWSTAT_CONTROL_MAX] = "scope all";
static int scope_set;

static void run_help(FILE *f)
{
	fprintf(f, "usage: %s run [-i MS] [-o FILE] [--plot FILE] [--json] [--bytes | --pages]\n"
		"                   -- CMD [ARGS]\n\n"
		"Run CMD, count the COW faults of CMD and every descendant (cowstat.ko, scoped to\n"
		"them), sample their sharing every -i milliseconds, and print a report when CMD\n"
		"exits: per process the faults of each class in pages and bytes, and for the\n"
		"family the peak and last shared memory, what COW saved, and its erosion since\n"
		"fork. The report goes to stderr (or FILE); CMD's exit status is passed through.\n\n"
		"  -i MS    sampling interval in milliseconds, default 100\n"
		"  -o FILE  write the report to FILE\n"
		"  --plot FILE  also draw the erosion, FILE.svg or FILE.png (with gnuplot): the\n"
		"           family's shared and saved memory, and each process's copies, over\n"
		"           the seconds since the first fork\n\n"
		"examples:\n"
		"  sudo %s run -- workloads/prefork -w 4\n"
		"  sudo %s run -i 500 -o report.json --json -- redis-server redis.conf\n"
		"  sudo %s run --plot erosion.svg -- workloads/prefork -w 4\n",
		cowstat_prog, cowstat_prog, cowstat_prog, cowstat_prog);
}

static void restore_scope(void)
{
	if (scope_set && cowstat_module_control("%s", saved_scope) &&
	    cowstat_module_control("scope all"))
		fprintf(stderr, "%s: could not restore the module's scope\n", cowstat_prog);
	scope_set = 0;
}

/* Remember the scope to restore: reading control gives the commands that recreate it. */
static void remember_scope(void)
{
	char err[COWSTAT_ERR_MAX], *buf, *line;

	if (cowstat_read_file(COWSTAT_FILE_CONTROL, &buf, err))
		return;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (!strncmp(line, "scope ", 6) && strlen(line) < sizeof(saved_scope))
			snprintf(saved_scope, sizeof(saved_scope), "%s", line);
	free(buf);
}

static void on_sigchld(int sig)
{
	(void)sig;
}

/* The first fork in the family: the earliest start of a member that is not the root. */
static u64 first_fork_ns(struct cowstat_proc **fam, size_t n)
{
	u64 first = 0;
	size_t i;

	for (i = 1; i < n; i++)
		if (!first || fam[i]->start_ns < first)
			first = fam[i]->start_ns;
	return first;
}

static void take_sample(int root, struct samples *s, const struct cowstat_share_backend *be)
{
	struct cowstat_procs procs;
	struct cowstat_proc **fam;
	struct cowstat_share share;
	char err[COWSTAT_ERR_MAX];
	struct sample sm = { 0 };
	size_t n, i, live = 0;
	int *pids;
	u64 first;

	cowstat_module_procs(&procs, 0);
	sm.t_ns = cowstat_now_ns();
	fam = calloc(procs.n + 1, sizeof(*fam));
	pids = calloc(procs.n + 1, sizeof(*pids));
	if (!fam || !pids)
		cowstat_fatal("out of memory");
	n = cowstat_module_family(&procs, root, fam);
	for (i = 0; i < n; i++)
		if (!fam[i]->exited)
			pids[live++] = fam[i]->pid;
	first = first_fork_ns(fam, n);
	if (live && !cowstat_share_snapshot(be, pids, live, 0, &share, err)) {
		for (i = 0; i < live; i++)
			sm.procs += !share.procs[i].gone && share.procs[i].total.mapped;
		sm.mapped = share.total.mapped;
		sm.shared = share.total.shared;
		sm.saved = share.saved;
		s->have_frames = share.have_frames;
		s->backend = share.backend;
		s->method = share.method;
		cowstat_share_release(&share);
		if (first) {
			u64 t = cowstat_now_ns();

			sm.since_fork_ns = t > first ? t - first : 1;
		}
		/* Live members only: an exited one's last count is the report's (its exit). */
		sm.copies = s->ncopies;
		for (i = 0; s->plot && i < n; i++) {
			if (fam[i]->exited)
				continue;
			if (s->ncopies == s->capcopies) {
				void *nc;

				s->capcopies = s->capcopies ? 2 * s->capcopies : 1024;
				nc = realloc(s->copies, s->capcopies * sizeof(*s->copies));
				if (!nc)
					cowstat_fatal("out of memory");
				s->copies = nc;
			}
			s->copies[s->ncopies++] = (struct copies){ fam[i]->pid, fam[i]->start_ns,
								   fam[i]->copied_bytes };
		}
		sm.ncopies = s->ncopies - sm.copies;
		if (s->n == s->cap) {
			void *nv;

			s->cap = s->cap ? s->cap * 2 : 256;
			nv = realloc(s->v, s->cap * sizeof(*s->v));
			if (!nv)
				cowstat_fatal("out of memory");
			s->v = nv;
		}
		s->v[s->n++] = sm;
	}
	free(pids);
	free(fam);
	cowstat_procs_free(&procs);
}

struct summary {
	const struct sample *peak, *last;
	const struct sample *points[EROSION_POINTS];
	size_t npoints, family_samples;
};

/* Peak and last over the samples taken while the family shared (two processes or more). */
static void summarise(const struct samples *s, struct summary *sum)
{
	size_t i, k, m = 0, idx[EROSION_POINTS];

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < s->n; i++) {
		if (s->v[i].procs < 2 || !s->v[i].since_fork_ns)
			continue;
		m++;
		if (!sum->peak || s->v[i].shared > sum->peak->shared)
			sum->peak = &s->v[i];
		sum->last = &s->v[i];
	}
	sum->family_samples = m;
	if (!m)
		return;
	sum->npoints = m < EROSION_POINTS ? m : EROSION_POINTS;
	for (k = 0; k < sum->npoints; k++)
		idx[k] = sum->npoints == 1 ? 0 : k * (m - 1) / (sum->npoints - 1);
	for (i = 0, m = 0, k = 0; i < s->n && k < sum->npoints; i++) {
		if (s->v[i].procs < 2 || !s->v[i].since_fork_ns)
			continue;
		while (k < sum->npoints && idx[k] == m)
			sum->points[k++] = &s->v[i];
		m++;
	}
}

static void print_report(FILE *f, char **cmd, int status, u64 elapsed, long interval_ms,
			 struct cowstat_proc **fam, size_t n, const struct samples *s)
{
	char a[COWSTAT_CELL_MAX], b[COWSTAT_CELL_MAX], c[COWSTAT_CELL_MAX];
	struct cowstat_proc total = { .comm = "(family)" }, **rows;
	struct summary sum;
	size_t i, k;
	int cl;

	fprintf(f, "\ncowstat run:");
	for (i = 0; cmd[i]; i++)
		fprintf(f, " %s", cmd[i]);
	cowstat_fmt_secs(a, sizeof(a), elapsed);
	if (WIFSIGNALED(status))
		fprintf(f, "\n%s, killed by signal %d, %zu processes\n\n", a, WTERMSIG(status), n);
	else
		fprintf(f, "\n%s, exit status %d, %zu processes\n\n", a, WEXITSTATUS(status), n);

	rows = calloc(n + 2, sizeof(*rows));
	if (!rows)
		cowstat_fatal("out of memory");
	for (i = 0; i < n; i++) {
		rows[i] = fam[i];
		for (cl = 0; cl < COWSTAT_NR_CLASSES; cl++)
			total.count[cl] += fam[i]->count[cl];
		total.copied_bytes += fam[i]->copied_bytes;
	}
	rows[n] = &total;
	fprintf(f, "COW faults per process (cowstat.ko; %s):\n",
		cowstat_opts.unit == COWSTAT_UNIT_HUMAN ? "pages, with their size" :
		cowstat_opts.unit == COWSTAT_UNIT_PAGES ? "pages" : "bytes");
	cowstat_print_counters(rows, n > 1 ? n + 1 : n, f, "  ");
	free(rows);

	summarise(s, &sum);
	fprintf(f, "\nsharing while it ran (%s, %s; %zu samples every %ldms):\n",
		s->backend ? s->backend : "pagemap", s->method ? s->method : "-", s->n,
		interval_ms);
	if (!sum.peak) {
		fprintf(f, "  no sample with two processes or more: nothing was shared\n");
		return;
	}
	cowstat_fmt_pages(a, sizeof(a), sum.peak->shared, cowstat_opts.unit);
	cowstat_fmt_secs(b, sizeof(b), sum.peak->since_fork_ns);
	fprintf(f, "  peak shared   %s, %s after fork, %zu processes\n", a, b, sum.peak->procs);
	cowstat_fmt_pages(a, sizeof(a), sum.last->shared, cowstat_opts.unit);
	cowstat_fmt_secs(b, sizeof(b), sum.last->since_fork_ns);
	fprintf(f, "  last shared   %s, %s after fork, %zu processes\n", a, b, sum.last->procs);
	if (s->have_frames) {
		cowstat_fmt_pages(a, sizeof(a), sum.peak->saved, cowstat_opts.unit);
		cowstat_fmt_pages(b, sizeof(b), sum.last->saved, cowstat_opts.unit);
		fprintf(f, "  saved by COW  %s at the peak, %s at the last sample\n", a, b);
	}
	fprintf(f, "  erosion since fork:\n");
	{
		struct cowstat_table t;

		cowstat_table_init(&t);
		cowstat_table_col(&t, "TIME", 0);
		cowstat_table_col(&t, "PROCS", 0);
		cowstat_table_col(&t, "MAPPED", 0);
		cowstat_table_col(&t, "SHARED", 0);
		cowstat_table_col(&t, "SAVED", 0);
		for (k = 0; k < sum.npoints; k++) {
			const struct sample *p = sum.points[k];

			cowstat_fmt_secs(a, sizeof(a), p->since_fork_ns);
			cowstat_table_cell(&t, "%s", a);
			cowstat_table_cell(&t, "%zu", p->procs);
			cowstat_fmt_pages(b, sizeof(b), p->mapped, cowstat_opts.unit);
			cowstat_table_cell(&t, "%s", b);
			cowstat_fmt_pages(c, sizeof(c), p->shared, cowstat_opts.unit);
			cowstat_table_cell(&t, "%s", c);
			if (s->have_frames)
				cowstat_fmt_pages(c, sizeof(c), p->saved, cowstat_opts.unit);
			else
				snprintf(c, sizeof(c), "-");
			cowstat_table_cell(&t, "%s", c);
		}
		cowstat_table_print(&t, f, "    ");
		cowstat_table_free(&t);
	}
}

static void json_sample(struct cowstat_json *j, const char *key, const struct sample *p,
			int have_frames)
{
	cowstat_json_open(j, key, '{');
	cowstat_json_u64(j, "since_fork_ns", p->since_fork_ns);
	cowstat_json_u64(j, "processes", p->procs);
	cowstat_json_u64(j, "mapped_pages", p->mapped);
	cowstat_json_u64(j, "shared_pages", p->shared);
	if (have_frames)
		cowstat_json_u64(j, "saved_pages", p->saved);
	else
		cowstat_json_null(j, "saved_pages");
	cowstat_json_close(j, '}');
}

static void json_report(FILE *f, char **cmd, int status, u64 elapsed, long interval_ms,
			struct cowstat_proc **fam, size_t n, const struct samples *s)
{
	u64 totals[COWSTAT_NR_CLASSES] = { 0 }, copied = 0;
	struct cowstat_json j;
	struct summary sum;
	size_t i;
	int cl;

	cowstat_json_init(&j, f);
	cowstat_json_open(&j, NULL, '{');
	cowstat_json_open(&j, "command", '[');
	for (i = 0; cmd[i]; i++)
		cowstat_json_str(&j, NULL, cmd[i]);
	cowstat_json_close(&j, ']');
	if (WIFSIGNALED(status)) {
		cowstat_json_i64(&j, "exit_status", 128 + WTERMSIG(status));
		cowstat_json_i64(&j, "signal", WTERMSIG(status));
	} else {
		cowstat_json_i64(&j, "exit_status", WEXITSTATUS(status));
		cowstat_json_null(&j, "signal");
	}
	cowstat_json_u64(&j, "elapsed_ns", elapsed);
	cowstat_json_i64(&j, "interval_ms", interval_ms);
	cowstat_json_u64(&j, "page_size", cowstat_page_size());
	cowstat_json_open(&j, "processes", '[');
	for (i = 0; i < n; i++) {
		cowstat_json_proc(&j, NULL, fam[i], 1);
		for (cl = 0; cl < COWSTAT_NR_CLASSES; cl++)
			totals[cl] += fam[i]->count[cl];
		copied += fam[i]->copied_bytes;
	}
	cowstat_json_close(&j, ']');
	cowstat_json_open(&j, "totals", '{');
	cowstat_json_counts(&j, "faults", totals);
	cowstat_json_u64(&j, "copied_bytes", copied);
	cowstat_json_close(&j, '}');

	summarise(s, &sum);
	cowstat_json_open(&j, "sharing", '{');
	cowstat_json_str(&j, "backend", s->backend ? s->backend : "pagemap");
	if (s->method)
		cowstat_json_str(&j, "method", s->method);
	else
		cowstat_json_null(&j, "method");
	cowstat_json_u64(&j, "samples", s->n);
	if (sum.peak) {
		json_sample(&j, "peak", sum.peak, s->have_frames);
		json_sample(&j, "last", sum.last, s->have_frames);
	} else {
		cowstat_json_null(&j, "peak");
		cowstat_json_null(&j, "last");
	}
	cowstat_json_open(&j, "erosion", '[');
	for (i = 0; i < sum.npoints; i++)
		json_sample(&j, NULL, sum.points[i], s->have_frames);
	cowstat_json_close(&j, ']');
	cowstat_json_close(&j, '}');
	cowstat_json_close(&j, '}');
	cowstat_json_end(&j);
}

#define PLOT_PROCS	10

static struct cowstat_plot_line *plot_line(struct cowstat_plot_line *l, size_t max)
{
	memset(l, 0, sizeof(*l));
	l->x = calloc(max + 1, sizeof(*l->x));
	l->y = calloc(max + 1, sizeof(*l->y));
	if (!l->x || !l->y)
		cowstat_fatal("out of memory");
	return l;
}

static void plot_point(struct cowstat_plot_line *l, u64 ns, u64 bytes)
{
	l->x[l->n] = ns / 1e9;
	l->y[l->n++] = bytes;
}

static int by_copied(const void *a, const void *b)
{
	const struct cowstat_proc *x = *(struct cowstat_proc * const *)a;
	const struct cowstat_proc *y = *(struct cowstat_proc * const *)b;

	return x->copied_bytes < y->copied_bytes ? 1 : x->copied_bytes > y->copied_bytes ? -1 :
	       x->pid - y->pid;
}

/*
 * The erosion as a picture: above, the family's shared (and saved) memory at the samples
 * the report's peak and last come from; below, what each process had copied at each sample
 * it was alive for, and at its exit or the end. The key gives the numbers of the text
 * report, in its units: peak and last, and each process's COPIED. The PLOT_PROCS processes
 * that copied the most have a line each, the others one together. Time runs from the first
 * fork, or from CMD's start when it never forked.
 */
static int draw_plot(const char *path, enum cowstat_plot_format fmt, char **cmd,
		     struct cowstat_proc **fam, size_t n, const struct samples *s, u64 start,
		     u64 end, char *why, size_t size)
{
	struct cowstat_plot_line top[2], bottom[PLOT_PROCS + 1];
	char a[COWSTAT_CELL_MAX], b[COWSTAT_CELL_MAX], title[1024];
	struct cowstat_proc **rank;
	size_t i, k, m, ntop = 0, nbot;
	u64 page = cowstat_page_size(), origin = first_fork_ns(fam, n), other = 0, t;
	struct summary sum;
	int ret, len;

	if (!origin)
		origin = start;
	summarise(s, &sum);
	plot_line(&top[ntop++], s->n);
	if (s->have_frames)
		plot_line(&top[ntop++], s->n);
	snprintf(top[0].title, sizeof(top[0].title), "shared: none (no sample of two processes)");
	if (sum.peak) {
		cowstat_fmt_pages(a, sizeof(a), sum.peak->shared, cowstat_opts.unit);
		cowstat_fmt_pages(b, sizeof(b), sum.last->shared, cowstat_opts.unit);
		snprintf(top[0].title, sizeof(top[0].title), "shared: peak %s, last %s", a, b);
		if (s->have_frames) {
			cowstat_fmt_pages(a, sizeof(a), sum.peak->saved, cowstat_opts.unit);
			cowstat_fmt_pages(b, sizeof(b), sum.last->saved, cowstat_opts.unit);
			snprintf(top[1].title, sizeof(top[1].title),
				 "saved by COW: peak %s, last %s", a, b);
		}
	}
	for (i = 0; i < s->n; i++) {
		const struct sample *p = &s->v[i];

		if (p->procs < 2 || !p->since_fork_ns)
			continue;
		plot_point(&top[0], p->since_fork_ns, p->shared * page);
		if (s->have_frames)
			plot_point(&top[1], p->since_fork_ns, p->saved * page);
	}

	rank = calloc(n + 1, sizeof(*rank));
	if (!rank)
		cowstat_fatal("out of memory");
	memcpy(rank, fam, n * sizeof(*rank));
	qsort(rank, n, sizeof(*rank), by_copied);
	nbot = n > PLOT_PROCS ? PLOT_PROCS + 1 : n;
	for (k = 0; k < nbot; k++) {
		plot_line(&bottom[k], s->n + 1);
		if (k < PLOT_PROCS) {
			cowstat_fmt_bytes(a, sizeof(a), rank[k]->copied_bytes, cowstat_opts.unit);
			snprintf(bottom[k].title, sizeof(bottom[k].title), "%d %s: %s",
				 rank[k]->pid, rank[k]->comm, a);
		} else {
			snprintf(bottom[k].title, sizeof(bottom[k].title), "%zu other processes",
				 n - PLOT_PROCS);
		}
	}
	for (i = 0; i < s->n; i++) {
		const struct sample *p = &s->v[i];
		int others = 0;

		if (p->t_ns < origin)
			continue;
		other = 0;
		for (m = 0; m < p->ncopies; m++) {
			const struct copies *c = &s->copies[p->copies + m];

			for (k = 0; k < nbot && k < PLOT_PROCS; k++)
				if (c->pid == rank[k]->pid && c->start_ns == rank[k]->start_ns)
					break;
			if (k < nbot && k < PLOT_PROCS) {
				plot_point(&bottom[k], p->t_ns - origin, c->copied_bytes);
			} else {
				other += c->copied_bytes;
				others = 1;
			}
		}
		if (others && nbot > PLOT_PROCS)
			plot_point(&bottom[PLOT_PROCS], p->t_ns - origin, other);
	}
	/* The end of each curve: the report's count, at the process's exit or the end. */
	other = 0;
	for (k = 0; k < n; k++) {
		t = rank[k]->exited && rank[k]->exit_ns && rank[k]->exit_ns < end ?
		    rank[k]->exit_ns : end;
		if (k < PLOT_PROCS && t >= origin)
			plot_point(&bottom[k], t - origin, rank[k]->copied_bytes);
		else if (k >= PLOT_PROCS)
			other += rank[k]->copied_bytes;
	}
	if (nbot > PLOT_PROCS && end >= origin)
		plot_point(&bottom[PLOT_PROCS], end - origin, other);

	len = snprintf(title, sizeof(title), "cowstat run:");
	for (i = 0; cmd[i] && len < (int)sizeof(title); i++)
		len += snprintf(title + len, sizeof(title) - len, " %s", cmd[i]);
	ret = cowstat_plot_draw(path, fmt, title, origin == start ?
				"seconds since the command started (it never forked)" :
				"seconds since the first fork", "family's memory", top, ntop,
				"copied by each process", bottom, nbot, why, size);
	for (k = 0; k < ntop; k++) {
		free(top[k].x);
		free(top[k].y);
	}
	for (k = 0; k < nbot; k++) {
		free(bottom[k].x);
		free(bottom[k].y);
	}
	free(rank);
	return ret;
}

int cowstat_cmd_run(int argc, char **argv)
{
	const struct cowstat_share_backend *be;
	struct sigaction sa = { .sa_handler = on_sigchld };
	struct samples samples = { 0 };
	struct cowstat_procs procs;
	struct cowstat_proc **fam;
	struct cowstat_spawn sp;
	int c, r, status;
	long interval_ms = 100;
	const char *out = NULL, *plot = NULL;
	enum cowstat_plot_format plot_fmt;
	char why[512];
	u64 t0, elapsed, end;
	FILE *rf = stderr;
	char **cmd;
	pid_t pid;
	size_t n;

	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "plot", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};

	while ((c = cowstat_getopt(argc, argv, "+i:o:", opts, run_help)) != -1) {
		if (c == 'i')
			interval_ms = cowstat_arg_long("-i", optarg, 10, 3600000);
		else if (c == 'P')
			plot = optarg;
		else
			out = optarg;
	}
	if (optind >= argc)
		cowstat_usage_error("run: no command given (usage: %s run [OPTIONS] -- CMD [ARGS])",
				    cowstat_prog);
	cmd = argv + optind;
	/* Before CMD runs: a picture that cannot be drawn is known now. */
	if (plot && cowstat_plot_check(plot, &plot_fmt, why, sizeof(why)))
		cowstat_usage_error("--plot: %s", why);
	samples.plot = !!plot;
	cowstat_module_require();
	be = cowstat_share_backend_select();
	if (out) {
		rf = fopen(out, "we");
		if (!rf)
			cowstat_fatal("%s: %s", out, strerror(errno));
	}
	remember_scope();
	sigaction(SIGCHLD, &sa, NULL);
	cowstat_spawn_held(cmd, &sp);
	pid = sp.pid;
	r = cowstat_module_control("scope %d", pid);
	if (r) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		cowstat_fatal("cannot set the module's scope to %d: %s", pid, strerror(-r));
	}
	scope_set = 1;
	atexit(restore_scope);
	/* Like time(1): the terminal's signals go to CMD, the report is still printed. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	t0 = cowstat_now_ns();
	/* An exec failure exits here; restore_scope() runs at exit. */
	cowstat_spawn_release(cmd, &sp);

	for (;;) {
		struct timespec ts = { interval_ms / 1000, interval_ms % 1000 * 1000000L };

		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			cowstat_fatal("waitpid: %s", strerror(errno));
		take_sample(pid, &samples, be);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		nanosleep(&ts, NULL);
	}
	end = cowstat_now_ns();
	elapsed = end - t0;
	cowstat_module_procs(&procs, 1);
	restore_scope();
	fam = calloc(procs.n + 1, sizeof(*fam));
	if (!fam)
		cowstat_fatal("out of memory");
	n = cowstat_module_family(&procs, pid, fam);
	cowstat_module_warn_health();
	if (cowstat_opts.json)
		json_report(rf, cmd, status, elapsed, interval_ms, fam, n, &samples);
	else
		print_report(rf, cmd, status, elapsed, interval_ms, fam, n, &samples);
	if (out && fclose(rf))
		cowstat_fatal("%s: %s", out, strerror(errno));
	if (plot && draw_plot(plot, plot_fmt, cmd, fam, n, &samples, t0, end, why,
			      sizeof(why)))
		cowstat_fatal("--plot: %s", why);
	free(fam);
	free(samples.v);
	free(samples.copies);
	cowstat_procs_free(&procs);
	fflush(stderr);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
