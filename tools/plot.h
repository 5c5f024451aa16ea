/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Line charts drawn by gnuplot (Debian's gnuplot-nox): cowstat run --plot's erosion curves.
 * The tool writes the script and the data, gnuplot the picture, SVG or PNG (its svg and
 * pngcairo terminals).
 */
#ifndef _COWSTAT_PLOT_H
#define _COWSTAT_PLOT_H

#include <stddef.h>

enum cowstat_plot_format {
	COWSTAT_PLOT_SVG,
	COWSTAT_PLOT_PNG,
};

/* The pixel size of every picture. */
#define COWSTAT_PLOT_WIDTH	1000
#define COWSTAT_PLOT_HEIGHT	700

/* A curve: @n points (x[i], y[i]), y in bytes, named @title in the key. */
struct cowstat_plot_line {
	char title[160];
	size_t n;
	double *x, *y;
};

/*
 * The format a plot file's name asks for (".svg" or ".png"); -1 for any other. Checks that
 * gnuplot can be run, so that a command is not run for a picture that cannot be drawn: 0, or
 * -1 with the reason in @why.
 */
int cowstat_plot_check(const char *path, enum cowstat_plot_format *fmt, char *why, size_t size);

/*
 * Draw two charts, one above the other, sharing the x axis (seconds): @top and @bottom, @ntop
 * and @nbottom curves, with their y labels; @title over both. Written to @path. 0, or -1
 * with the reason in @why.
 */
int cowstat_plot_draw(const char *path, enum cowstat_plot_format fmt, const char *title,
		      const char *xlabel, const char *top_label,
		      const struct cowstat_plot_line *top, size_t ntop, const char *bottom_label,
		      const struct cowstat_plot_line *bottom, size_t nbottom, char *why,
		      size_t size);

#endif /* _COWSTAT_PLOT_H */
