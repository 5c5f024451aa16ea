// SPDX-License-Identifier: GPL-2.0
/*
 * gnuplot as cowstat's plotter (plot.h). The script goes to gnuplot's standard input, with the
 * data inline (datablocks), and the picture comes out of its standard output into the
 * file (outfile.h), renamed over FILE only once gnuplot succeeded: a failed plot leaves an
 * older picture as it was. Text is set "noenhanced" and
 * quoted in single quotes (where only a doubled quote is special), so that a command line or
 * a process name is shown as it is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "format.h"
#include "outfile.h"
#include "plot.h"

static int gnuplot_path(char *buf, size_t size)
{
	const char *path = getenv("PATH");
	char *dirs, *d, *save = NULL;
	int found = 0;

	dirs = strdup(path && *path ? path : "/usr/bin:/bin");
	if (!dirs)
		return 0;
	for (d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		snprintf(buf, size, "%s/gnuplot", *d ? d : ".");
		found = !access(buf, X_OK);
	}
	free(dirs);
	return found;
}

int cowstat_plot_check(const char *path, enum cowstat_plot_format *fmt, char *why, size_t size)
{
	const char *dot = strrchr(path, '.');
	char gp[PATH_MAX];

	if (dot && !strcmp(dot, ".svg")) {
		*fmt = COWSTAT_PLOT_SVG;
	} else if (dot && !strcmp(dot, ".png")) {
		*fmt = COWSTAT_PLOT_PNG;
	} else {
		snprintf(why, size, "%s: a plot is FILE.svg or FILE.png", path);
		return -1;
	}
	if (!gnuplot_path(gp, sizeof(gp))) {
		snprintf(why, size, "no gnuplot in PATH to draw it (Debian: gnuplot-nox)");
		return -1;
	}
	return 0;
}

/*
 * @s as a gnuplot single-quoted string, cleaned for the SVG that gnuplot copies it into (it
 * escapes '<' and '&', nothing else); a newline, which would end the command, is among the
 * control characters cleaned.
 */
static void quoted(FILE *f, const char *s)
{
	char clean[1024];
	const char *c;

	cowstat_text_clean(clean, sizeof(clean), s);
	fputc('\'', f);
	for (c = clean; *c; c++) {
		if (*c == '\'')
			fputc('\'', f);
		fputc(*c, f);
	}
	fputc('\'', f);
}

/*
 * One chart. Memory is plotted in the binary unit that its largest value needs (KiB, MiB,
 * GiB...), named in the axis label, so that gnuplot's round ticks are round in that unit.
 */
static void panel(FILE *f, const char *name, const char *label, const char *key,
		  const struct cowstat_plot_line *l, size_t n)
{
	static const char * const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	size_t i, k, shown = 0, u = 0;
	double max = 0, div = 1;
	char axis[256];

	for (i = 0; i < n; i++)
		for (k = 0; k < l[i].n; k++)
			max = l[i].y[k] > max ? l[i].y[k] : max;
	while (max >= 1024 * div && u + 1 < ARRAY_SIZE(units)) {
		div *= 1024;
		u++;
	}
	for (i = 0; i < n; i++) {
		if (!l[i].n)
			continue;
		fprintf(f, "$%s%zu << EOD\n", name, i);
		for (k = 0; k < l[i].n; k++)
			fprintf(f, "%.6f %.6g\n", l[i].x[k], l[i].y[k] / div);
		fputs("EOD\n", f);
		shown++;
	}
	fprintf(f, "set key %s Left reverse opaque box\n", key);
	snprintf(axis, sizeof(axis), "%s (%s)", label, units[u]);
	fputs("set ylabel ", f);
	quoted(f, axis);
	/* A chart without a point keeps its axes (a range of its own: NaN has none). */
	fputs(shown ? "\nplot " : "\nplot [0:1] [0:1] ", f);
	for (i = 0; i < n; i++) {
		/* A curve without a point is still in the key: its title says why. */
		if (l[i].n)
			fprintf(f, "%s$%s%zu using 1:2 with linespoints pt 7 ps 0.4 lw 2 title ",
				i ? ", " : "", name, i);
		else
			fprintf(f, "%sNaN with lines lw 2 title ", i ? ", " : "");
		quoted(f, l[i].title);
	}
	if (!n)
		fputs("NaN notitle", f);
	fputc('\n', f);
}

static int script(FILE *f, enum cowstat_plot_format fmt, const char *title, const char *xlabel,
		  const char *top_label, const struct cowstat_plot_line *top, size_t ntop,
		  const char *bottom_label, const struct cowstat_plot_line *bottom, size_t nbottom)
{
	if (fmt == COWSTAT_PLOT_SVG)
		fprintf(f, "set terminal svg size %d,%d font 'sans,12' background '#ffffff'\n",
			COWSTAT_PLOT_WIDTH, COWSTAT_PLOT_HEIGHT);
	else
		fprintf(f, "set terminal pngcairo size %d,%d font 'sans,10' background '#ffffff'\n",
			COWSTAT_PLOT_WIDTH, COWSTAT_PLOT_HEIGHT);
	fputs("set output\nset encoding utf8\nset termoption noenhanced\nset grid\n"
	      "set xrange [0:*]\nset yrange [0:*]\n"
	      "set xlabel ", f);
	quoted(f, xlabel);
	fputs("\nset multiplot layout 2,1 title ", f);
	quoted(f, title);
	fputs(" font ',13'\n", f);
	/* Sharing falls from the top left, copies grow to the top right. */
	panel(f, "top", top_label, "left bottom", top, ntop);
	panel(f, "bottom", bottom_label, "left top", bottom, nbottom);
	fputs("unset multiplot\n", f);
	return fflush(f) || ferror(f) ? -1 : 0;
}

/* gnuplot's complaint: the last line it printed, without its "line N: " prefix. */
static void complaint(FILE *ef, int status, char *err, size_t size)
{
	char line[256], *p;

	err[0] = '\0';
	rewind(ef);
	while (fgets(line, sizeof(line), ef)) {
		line[strcspn(line, "\n")] = '\0';
		for (p = line; *p == ' ' || *p == '^'; p++)
			;
		if (!strncmp(p, "line ", 5) && strchr(p, ':'))
			p = strchr(p, ':') + 1 + (strchr(p, ':')[1] == ' ');
		if (*p)
			snprintf(err, size, "%s", p);
	}
	if (!err[0] && WIFSIGNALED(status))
		snprintf(err, size, "killed by signal %d", WTERMSIG(status));
	else if (!err[0])
		snprintf(err, size, "exit status %d", WEXITSTATUS(status));
}

/* In the child: @fd as @target, open across the exec. */
static void as_fd(int fd, int target)
{
	if (fd == target)
		fcntl(fd, F_SETFD, 0);
	else
		dup2(fd, target);
}

int cowstat_plot_draw(const char *path, enum cowstat_plot_format fmt, const char *title,
		      const char *xlabel, const char *top_label,
		      const struct cowstat_plot_line *top, size_t ntop, const char *bottom_label,
		      const struct cowstat_plot_line *bottom, size_t nbottom, char *why,
		      size_t size)
{
	char gp[PATH_MAX], err[256] = "";
	struct cowstat_outfile out;
	int in[2], status, written;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	struct stat st;
	FILE *ef, *sf;
	pid_t pid;

	if (!gnuplot_path(gp, sizeof(gp))) {
		snprintf(why, size, "no gnuplot in PATH to draw it (Debian: gnuplot-nox)");
		return -1;
	}
	if (cowstat_outfile_open(&out, path)) {
		snprintf(why, size, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	ef = tmpfile();
	if (!ef || pipe2(in, O_CLOEXEC)) {
		snprintf(why, size, "gnuplot: %s", strerror(errno));
		goto out_abort;
	}
	pid = fork();
	if (pid == 0) {
		as_fd(in[0], 0);
		as_fd(out.fd, 1);
		as_fd(fileno(ef), 2);
		/* run ignores the terminal's signals while CMD runs; gnuplot takes them. */
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		execl(gp, "gnuplot", (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", gp, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	if (pid < 0) {
		close(in[1]);
		snprintf(why, size, "fork: %s", strerror(errno));
		goto out_abort;
	}
	/* A gnuplot that dies early must not kill cowstat with SIGPIPE: its status says why. */
	sigaction(SIGPIPE, &ign, &old);
	sf = fdopen(in[1], "w");
	if (!sf)
		close(in[1]);
	written = sf && !script(sf, fmt, title, xlabel, top_label, top, ntop, bottom_label,
				bottom, nbottom);
	if (sf && fclose(sf))
		written = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGPIPE, &old, NULL);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		complaint(ef, status, err, sizeof(err));
	else if (!written)
		snprintf(err, sizeof(err), "writing its script: %s", strerror(errno));
	else if (fstat(out.fd, &st) || !st.st_size)
		snprintf(err, sizeof(err), "it drew nothing");
	if (err[0]) {
		snprintf(why, size, "gnuplot failed: %s", err);
		goto out_abort;
	}
	fclose(ef);
	if (cowstat_outfile_commit(&out)) {
		snprintf(why, size, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;

out_abort:
	cowstat_outfile_abort(&out);
	if (ef)
		fclose(ef);
	return -1;
}
