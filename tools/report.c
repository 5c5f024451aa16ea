// SPDX-License-Identifier: GPL-2.0
/*
 * Counter tables, and the class groups the tool adds up. Classes that copy, allocate or reuse a
 * page are shown in pages with their size; the THP and non-COW classes are event counts.
 */
#include <ctype.h>
#include <string.h>

#include "report.h"

static int class_breaks(int c)
{
	return cowstat_class_copies(c) || c == COWSTAT_ZERO;
}

u64 cowstat_count_breaks(const u64 *count)
{
	u64 n = 0;
	int c;

	for (c = 0; c < COWSTAT_NR_CLASSES; c++)
		if (class_breaks(c))
			n += count[c];
	return n;
}

/*
 * Classes whose count is a number of pages: a page copied or allocated (the breaks), or one
 * made writable in place (reuse). The THP classes count events on 2 MiB, shared and other are
 * not COW.
 */
static int class_is_pages(int c)
{
	return class_breaks(c) || c == COWSTAT_REUSE;
}

static const char *upper(const char *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < size; i++)
		buf[i] = toupper((unsigned char)s[i]);
	buf[i] = '\0';
	return buf;
}

static void counter_cells(struct cowstat_table *t, const u64 *count, const int *show)
{
	char cell[COWSTAT_CELL_MAX];
	int c;

	for (c = 0; c < COWSTAT_NR_CLASSES; c++) {
		if (!show[c])
			continue;
		if (class_is_pages(c))
			cowstat_fmt_pages(cell, sizeof(cell), count[c], cowstat_opts.unit);
		else
			snprintf(cell, sizeof(cell), "%llu", (unsigned long long)count[c]);
		cowstat_table_cell(t, "%s", cell);
	}
}

static void class_columns(struct cowstat_table *t, const int *show, char (*names)[16])
{
	int c;

	for (c = 0; c < COWSTAT_NR_CLASSES; c++)
		if (show[c])
			cowstat_table_col(t, upper(cowstat_class_names[c], names[c], 16), 0);
}

static void footnote(const int *show, FILE *f, const char *indent)
{
	int c, any = 0;

	for (c = 0; c < COWSTAT_NR_CLASSES; c++) {
		if (show[c])
			continue;
		fprintf(f, "%s%s", any++ ? ", " : indent, cowstat_class_names[c]);
	}
	if (any)
		fprintf(f, ": 0 everywhere\n");
}

void cowstat_print_counters(struct cowstat_proc * const *procs, size_t n, FILE *f,
			    const char *indent)
{
	char names[COWSTAT_NR_CLASSES][16], cell[COWSTAT_CELL_MAX];
	int show[COWSTAT_NR_CLASSES] = { 0 }, c;
	struct cowstat_table t;
	size_t i;

	for (i = 0; i < n; i++)
		for (c = 0; c < COWSTAT_NR_CLASSES; c++)
			show[c] |= procs[i]->count[c] != 0;
	show[COWSTAT_COPY] = 1;
	show[COWSTAT_REUSE] = 1;
	cowstat_table_init(&t);
	cowstat_table_col(&t, "PID", 0);
	cowstat_table_col(&t, "PPID", 0);
	cowstat_table_col(&t, "COMM", 1);
	cowstat_table_col(&t, "STATE", 1);
	class_columns(&t, show, names);
	cowstat_table_col(&t, "COPIED", 0);
	for (i = 0; i < n; i++) {
		const struct cowstat_proc *p = procs[i];

		/* pid 0: a total row */
		cowstat_table_cell(&t, p->pid ? "%d" : "", p->pid);
		cowstat_table_cell(&t, p->pid ? "%d" : "", p->ppid);
		cowstat_table_cell(&t, "%s", p->comm);
		cowstat_table_cell(&t, "%s", !p->pid ? "" : p->exited ? "exited" : "live");
		counter_cells(&t, p->count, show);
		cowstat_fmt_bytes(cell, sizeof(cell), p->copied_bytes, cowstat_opts.unit);
		cowstat_table_cell(&t, "%s", cell);
	}
	cowstat_table_print(&t, f, indent);
	cowstat_table_free(&t);
	footnote(show, f, indent);
}

void cowstat_print_regions(const struct cowstat_proc *p, FILE *f, const char *indent)
{
	char names[COWSTAT_NR_CLASSES][16];
	int show[COWSTAT_NR_CLASSES] = { 0 }, c, r;
	struct cowstat_table t;

	for (r = 0; r < COWSTAT_NR_REGIONS; r++)
		for (c = 0; c < COWSTAT_NR_CLASSES; c++)
			show[c] |= p->region[r][c] != 0;
	show[COWSTAT_COPY] = 1;
	show[COWSTAT_REUSE] = 1;
	cowstat_table_init(&t);
	cowstat_table_col(&t, "REGION", 1);
	class_columns(&t, show, names);
	for (r = 0; r < COWSTAT_NR_REGIONS; r++) {
		u64 any = 0;

		for (c = 0; c < COWSTAT_NR_CLASSES; c++)
			any |= p->region[r][c];
		if (!any)
			continue;
		cowstat_table_cell(&t, "%s", cowstat_region_names[r]);
		counter_cells(&t, p->region[r], show);
	}
	cowstat_table_print(&t, f, indent);
	cowstat_table_free(&t);
}

void cowstat_json_proc(struct cowstat_json *j, const char *key, const struct cowstat_proc *p,
		       int with_regions)
{
	int r;

	cowstat_json_open(j, key, '{');
	cowstat_json_i64(j, "pid", p->pid);
	cowstat_json_i64(j, "ppid", p->ppid);
	cowstat_json_str(j, "comm", p->comm);
	cowstat_json_str(j, "state", p->exited ? "exited" : "live");
	cowstat_json_u64(j, "start_ns", p->start_ns);
	cowstat_json_u64(j, "fork_ns", p->fork_ns);
	cowstat_json_u64(j, "exit_ns", p->exit_ns);
	cowstat_json_counts(j, "faults", p->count);
	cowstat_json_u64(j, "copied_bytes", p->copied_bytes);
	if (with_regions) {
		cowstat_json_open(j, "regions", '{');
		for (r = 0; r < COWSTAT_NR_REGIONS; r++)
			cowstat_json_counts(j, cowstat_region_names[r], p->region[r]);
		cowstat_json_close(j, '}');
	}
	cowstat_json_close(j, '}');
}

void cowstat_json_share_counts(struct cowstat_json *j, const struct cowstat_share_counts *c,
			       int have_zero)
{
	cowstat_json_u64(j, "mapped_pages", c->mapped);
	cowstat_json_u64(j, "shared_pages", c->shared);
	cowstat_json_u64(j, "exclusive_pages", c->exclusive);
	if (have_zero)
		cowstat_json_u64(j, "zero_pages", c->zero);
	else
		cowstat_json_null(j, "zero_pages");
}
