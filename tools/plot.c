// SPDX-License-Identifier: GPL-2.0
/*
 * gnuplot as cowstat's plotter (plot.h). The script goes to gnuplot's standard input, with the
 * data inline (datablocks), and the picture comes out of its standard output into a file
 * beside the one asked for, renamed over it only once gnuplot succeeded: a failed plot
 * leaves an older picture as it was. Text is set "noenhanced" and quoted in single quotes
 * (where only a doubled quote is special), so that a command line or a process name is shown
 * as it is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* @s as a gnuplot single-quoted string. */
static void quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		/* A newline would end the command. */
		fputc(*s == '\n' ? ' ' : *s, f);
	}
	fputc('\'', f);
}

/*
 * One chart. Memory is plotted in the binary unit that its largest value needs (KiB, MiB,
 * GiB...), named in the axis label, so that gnuplot's round ticks are round in that unit.
 */
static void panel(FILE *f, const char *name, const char *label,
		  const struct cowstat_plot_line *l, size_t n)
{
	static const char * const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	size_t i, k, shown = 0, u = 0;
	double max = 0, div = 1;
	char axis[256];

	for (i = 0; i < n; i++)
		for (k = 0; k < l[i].n; k++)
			max = l[i].y[k] > max ? l[i].y[k] : max;
	while (max >= 1024 * div && u + 1 < sizeof(units) / sizeof(units[0])) {
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
	}
	snprintf(axis, sizeof(axis), "%s (%s)", label, units[u]);
	fputs("set ylabel ", f);
	quoted(f, axis);
	fputs("\nplot ", f);
	for (i = 0; i < n; i++) {
		if (!l[i].n)
			continue;
		fprintf(f, "%s$%s%zu using 1:2 with linespoints pt 7 ps 0.4 lw 2 title ",
			shown++ ? ", " : "", name, i);
		quoted(f, l[i].title);
	}
	/* An empty chart keeps its axes. */
	if (!shown)
		fputs("[0:1] NaN notitle", f);
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
	      "set key top left Left reverse opaque box\nset xrange [0:*]\nset yrange [0:*]\n"
	      "set xlabel ", f);
	quoted(f, xlabel);
	fputs("\nset multiplot layout 2,1 title ", f);
	quoted(f, title);
	fputs(" font ',13'\n", f);
	panel(f, "top", top_label, top, ntop);
	panel(f, "bottom", bottom_label, bottom, nbottom);
	fputs("unset multiplot\n", f);
	return fflush(f) || ferror(f) ? -1 : 0;
}

int cowstat_plot_draw(const char *path, enum cowstat_plot_format fmt, const char *title,
		      const char *xlabel, const char *top_label,
		      const struct cowstat_plot_line *top, size_t ntop, const char *bottom_label,
		      const struct cowstat_plot_line *bottom, size_t nbottom, char *why,
		      size_t size)
{
	char tmp[PATH_MAX], gp[PATH_MAX], err[256] = "";
	int in[2], out, status, ret = -1;
	FILE *ef, *sf;
	pid_t pid;

	if (!gnuplot_path(gp, sizeof(gp))) {
		snprintf(why, size, "gnuplot not found in PATH");
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		snprintf(why, size, "cannot write %s: %s", tmp, strerror(errno));
		return -1;
	}
	ef = tmpfile();
	if (!ef || pipe2(in, O_CLOEXEC)) {
		snprintf(why, size, "gnuplot: %s", strerror(errno));
		goto out_close;
	}
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out, 1);
		dup2(fileno(ef), 2);
		execl(gp, "gnuplot", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	if (pid < 0) {
		close(in[1]);
		snprintf(why, size, "fork: %s", strerror(errno));
		goto out_close;
	}
	sf = fdopen(in[1], "w");
	if (!sf) {
		close(in[1]);
	} else {
		if (script(sf, fmt, title, xlabel, top_label, top, ntop, bottom_label, bottom,
			   nbottom))
			snprintf(err, sizeof(err), "writing its script: %s", strerror(errno));
		fclose(sf);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!err[0] && (!WIFEXITED(status) || WEXITSTATUS(status))) {
		/* gnuplot's first complaint; its script line is of no use to the user. */
		rewind(ef);
		while (fgets(err, sizeof(err), ef) && !strstr(err, "error") &&
		       !strstr(err, "warning"))
			;
		err[strcspn(err, "\n")] = '\0';
		if (!err[0])
			snprintf(err, sizeof(err), "exit status %d", WEXITSTATUS(status));
	}
	if (err[0]) {
		snprintf(why, size, "gnuplot failed: %s", err);
		goto out_close;
	}
	if (close(out) || rename(tmp, path)) {
		out = -1;
		snprintf(why, size, "cannot write %s: %s", path, strerror(errno));
		goto out_unlink;
	}
	fclose(ef);
	return 0;

out_close:
	close(out);
out_unlink:
	unlink(tmp);
	if (ef)
		fclose(ef);
	return ret;
}
