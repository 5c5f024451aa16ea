// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat top: processes sorted by COW break rate, the breaks being the faults that copy or
 * allocate a page (copy, zero, file, unshare, ksm), counted between two reads of procs.
 * On a terminal it redraws with ANSI escapes until q or Ctrl-C and restores the terminal;
 * otherwise it prints -n snapshots (1 by default); with --json as JSON Lines, one document per
 * line, so that a stream of refreshes can be read line by line by any JSON parser.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "modfiles.h"
#include "report.h"

static atomic_int stop;
static struct termios saved_tty;
static int tty_raw;

static void top_help(FILE *f)
{
	fprintf(f, "usage: %s top [-d SECS] [-n N] [-p PID | -t PID] [--json] [--bytes|--pages]\n\n"
		"Processes sorted by COW break rate (copy + zero + file + unshare + ksm faults per\n"
		"second), refreshed every -d seconds. q or Ctrl-C quits. When the output is not a\n"
		"terminal, prints -n snapshots (default 1) and exits. --json prints JSON Lines:\n"
		"one document per refresh, each on one line.\n\n"
		"  -d SECS  refresh interval, default 1 (decimals allowed)\n"
		"  -n N     stop after N refreshes\n"
		"  -p PID   only PID\n"
		"  -t PID   only PID and its descendants\n\n"
		"examples:\n"
		"  sudo %s top\n"
		"  sudo %s top -t $(pgrep -o gunicorn) -d 0.5\n"
		"  sudo %s top -n 10 --json | jq -c '.processes[0]'\n",
		cowstat_prog, cowstat_prog, cowstat_prog, cowstat_prog);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void restore_tty(void)
{
	if (!tty_raw)
		return;
	tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
	fputs("\033[?25h", stdout);
	fflush(stdout);
	tty_raw = 0;
}

static void raw_tty(void)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &saved_tty))
		return;
	t = saved_tty;
	t.c_lflag &= ~(ICANON | ECHO);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t))
		return;
	tty_raw = 1;
	atexit(restore_tty);
	fputs("\033[?25l", stdout);
}

struct row {
	struct cowstat_proc *p;
	u64 delta[COWSTAT_NR_CLASSES];
	double rate;
};

static int cmp_rate(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	u64 bx = cowstat_count_breaks(x->p->count), by = cowstat_count_breaks(y->p->count);

	if (x->rate != y->rate)
		return x->rate < y->rate ? 1 : -1;
	if (bx != by)
		return bx < by ? 1 : -1;
	return x->p->pid - y->p->pid;
}

/* Records in (start_ns, pid) order: one is found in the previous refresh by bsearch(). */
static int cmp_key(const void *a, const void *b)
{
	const struct cowstat_proc *x = a, *y = b;

	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Wait up to ns for q, Ctrl-C or a signal; 1 to quit. */
static int wait_key(u64 ns)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	u64 end = cowstat_now_ns() + ns;

	while (!stop) {
		u64 t = cowstat_now_ns();
		char c;

		if (t >= end)
			return 0;
		if (!tty_raw) {
			struct timespec ts = { (end - t) / 1000000000ULL,
					       (end - t) % 1000000000ULL };

			nanosleep(&ts, NULL);
			continue;
		}
		if (poll(&pfd, 1, (int)((end - t) / 1000000ULL) + 1) > 0 &&
		    read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q' || c == 3))
			return 1;
	}
	return 1;
}

static void print_rows(struct row *rows, size_t n, double dt, int lines)
{
	char cell[COWSTAT_CELL_MAX];
	struct cowstat_table t;
	double total = 0;
	size_t i;

	for (i = 0; i < n; i++)
		total += rows[i].rate;
	printf("cowstat top: %zu processes, %.0f COW breaks/s, interval %.1fs%s\n\n", n, total,
	       dt, tty_raw ? " (q to quit)" : "");
	cowstat_table_init(&t);
	cowstat_table_col(&t, "PID", 0);
	cowstat_table_col(&t, "PPID", 0);
	cowstat_table_col(&t, "COMM", 1);
	cowstat_table_col(&t, "BREAKS/S", 0);
	cowstat_table_col(&t, "COPY/S", 0);
	cowstat_table_col(&t, "ZERO/S", 0);
	cowstat_table_col(&t, "FILE/S", 0);
	cowstat_table_col(&t, "BREAKS", 0);
	cowstat_table_col(&t, "COPIED", 0);
	for (i = 0; i < n && (lines <= 0 || (int)i < lines); i++) {
		struct row *r = &rows[i];

		cowstat_table_cell(&t, "%d", r->p->pid);
		cowstat_table_cell(&t, "%d", r->p->ppid);
		cowstat_table_cell(&t, "%s", r->p->comm);
		cowstat_table_cell(&t, "%.0f", r->rate);
		cowstat_table_cell(&t, "%.0f", r->delta[COWSTAT_COPY] / dt);
		cowstat_table_cell(&t, "%.0f", r->delta[COWSTAT_ZERO] / dt);
		cowstat_table_cell(&t, "%.0f", r->delta[COWSTAT_FILE] / dt);
		cowstat_table_cell(&t, "%llu",
				   (unsigned long long)cowstat_count_breaks(r->p->count));
		cowstat_fmt_bytes(cell, sizeof(cell), r->p->copied_bytes, cowstat_opts.unit);
		cowstat_table_cell(&t, "%s", cell);
	}
	cowstat_table_print(&t, stdout, "");
	cowstat_table_free(&t);
}

/* One refresh as one line of a JSON Lines stream: every line is a document of its own. */
static void json_rows(struct row *rows, size_t n, double dt, u64 t)
{
	struct cowstat_json j;
	size_t i;

	cowstat_json_init_line(&j, stdout);
	cowstat_json_open(&j, NULL, '{');
	cowstat_json_u64(&j, "time_ns", t);
	cowstat_json_double(&j, "interval_s", dt);
	cowstat_json_u64(&j, "page_size", cowstat_page_size());
	cowstat_json_open(&j, "processes", '[');
	for (i = 0; i < n; i++) {
		cowstat_json_open(&j, NULL, '{');
		cowstat_json_i64(&j, "pid", rows[i].p->pid);
		cowstat_json_i64(&j, "ppid", rows[i].p->ppid);
		cowstat_json_str(&j, "comm", rows[i].p->comm);
		cowstat_json_str(&j, "state", rows[i].p->exited ? "exited" : "live");
		cowstat_json_double(&j, "breaks_per_s", rows[i].rate);
		cowstat_json_counts(&j, "faults_in_interval", rows[i].delta);
		cowstat_json_counts(&j, "faults", rows[i].p->count);
		cowstat_json_u64(&j, "copied_bytes", rows[i].p->copied_bytes);
		cowstat_json_close(&j, '}');
	}
	cowstat_json_close(&j, ']');
	cowstat_json_close(&j, '}');
	cowstat_json_end(&j);
}

static double arg_secs(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0.05 && v <= 3600))
		cowstat_usage_error("-d: expected seconds from 0.05 to 3600, got '%s'", s);
	return v;
}

int cowstat_cmd_top(int argc, char **argv)
{
	struct cowstat_procs prev = { 0 }, cur;
	struct sigaction sa = { .sa_handler = on_signal };
	long iterations = -1, it;
	int c, pid = 0, tree = 0, interactive;
	double delay = 1;
	u64 t_prev, t_cur;

	static const struct option opts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "pid", required_argument, NULL, 'p' },
		{ "tree", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};

	while ((c = cowstat_getopt(argc, argv, "d:n:p:t:", opts, top_help)) != -1) {
		if (c == 'd')
			delay = arg_secs(optarg);
		else if (c == 'n')
			iterations = cowstat_arg_long("-n", optarg, 1, 1L << 30);
		else
			pid = cowstat_arg_pid(optarg), tree = c == 't';
	}
	if (optind != argc)
		cowstat_usage_error("top: unexpected argument '%s'", argv[optind]);
	cowstat_module_require();
	interactive = !cowstat_opts.json && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
	if (iterations < 0)
		iterations = interactive ? 0 : 1;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (interactive)
		raw_tty();
	cowstat_module_procs(&prev, 0);
	qsort(prev.v, prev.n, sizeof(*prev.v), cmp_key);
	t_prev = cowstat_now_ns();
	for (it = 0; !iterations || it < iterations; it++) {
		struct cowstat_proc **sel;
		struct row *rows;
		struct winsize ws;
		size_t i, n = 0, k;
		double dt;

		if (wait_key((u64)(delay * 1e9)))
			break;
		cowstat_module_procs(&cur, 0);
		t_cur = cowstat_now_ns();
		dt = (t_cur - t_prev) / 1e9;
		sel = calloc(cur.n + 1, sizeof(*sel));
		rows = calloc(cur.n + 1, sizeof(*rows));
		if (!sel || !rows)
			cowstat_fatal("out of memory");
		if (tree) {
			n = cowstat_module_family(&cur, pid, sel);
		} else {
			for (i = 0; i < cur.n; i++)
				if (!pid || cur.v[i].pid == pid)
					sel[n++] = &cur.v[i];
		}
		for (i = 0, k = 0; i < n; i++) {
			struct cowstat_proc *old = prev.n ? bsearch(sel[i], prev.v, prev.n,
								   sizeof(*prev.v), cmp_key) : NULL;

			rows[k].p = sel[i];
			for (c = 0; c < COWSTAT_NR_CLASSES; c++)
				rows[k].delta[c] = sel[i]->count[c] - (old ? old->count[c] : 0);
			rows[k].rate = cowstat_count_breaks(rows[k].delta) / dt;
			if (sel[i]->exited && !cowstat_count_breaks(rows[k].delta))
				continue;
			k++;
		}
		qsort(rows, k, sizeof(*rows), cmp_rate);
		if (cowstat_opts.json) {
			json_rows(rows, k, dt, t_cur);
		} else {
			if (tty_raw)
				fputs("\033[H\033[2J", stdout);
			else if (it)
				putchar('\n');
			print_rows(rows, k, dt, tty_raw && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) ?
				   ws.ws_row - 4 : 0);
			fflush(stdout);
		}
		free(sel);
		free(rows);
		cowstat_procs_free(&prev);
		prev = cur;
		qsort(prev.v, prev.n, sizeof(*prev.v), cmp_key);
		t_prev = t_cur;
	}
	cowstat_procs_free(&prev);
	restore_tty();
	cowstat_module_warn_health();
	return 0;
}
