/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Output: sizes in human units, tables in aligned columns, and JSON with stable keys
 * (Documentation/usage.rst lists them).
 */
#ifndef _COWSTAT_FORMAT_H
#define _COWSTAT_FORMAT_H

#include <stdio.h>

#include "parse.h"
#include "tool.h"

/*
 * The size of the pages every count is in: the page_size of the module's snapshot report once
 * one was read (cowstat_set_page_size()), before that the running kernel's, which is the
 * module's own.
 */
u64 cowstat_page_size(void);
void cowstat_set_page_size(u64 bytes);

/* Bytes in binary units, like ls -h: "0", "4.0K", "400K", "16M", "1.5G". */
void cowstat_fmt_human(char *buf, size_t size, u64 bytes);
/* A number of pages in the selected unit: "100 (400K)", "100" or "409600". */
void cowstat_fmt_pages(char *buf, size_t size, u64 pages, enum cowstat_unit unit);
/* A size that is only bytes: "1.5G", or exact bytes with --bytes/--pages. */
void cowstat_fmt_bytes(char *buf, size_t size, u64 bytes, enum cowstat_unit unit);
/* Nanoseconds as seconds: "2.345s". */
void cowstat_fmt_secs(char *buf, size_t size, u64 ns);

#define COWSTAT_TABLE_COLS	24
#define COWSTAT_CELL_MAX	48

/* A table printed in aligned columns: text columns left-aligned, numbers right-aligned. */
struct cowstat_table {
	int ncols;
	const char *head[COWSTAT_TABLE_COLS];
	int left[COWSTAT_TABLE_COLS];
	char (*cells)[COWSTAT_CELL_MAX];
	size_t rows, cap, filled;
};

void cowstat_table_init(struct cowstat_table *t);
/* Add a column; left != 0 aligns it left. */
void cowstat_table_col(struct cowstat_table *t, const char *head, int left);
__printf(2, 3) void cowstat_table_cell(struct cowstat_table *t, const char *fmt, ...);
void cowstat_table_print(struct cowstat_table *t, FILE *f, const char *indent);
void cowstat_table_free(struct cowstat_table *t);

#define COWSTAT_JSON_DEPTH	16

/* A streaming JSON writer; keys are NULL inside arrays. */
struct cowstat_json {
	FILE *f;
	int compact;		/* the whole document on one line */
	int depth;
	int count[COWSTAT_JSON_DEPTH];
};

/*
 * @s as text that an XML document can hold (the pictures' titles and keys): control
 * characters and bytes that are not UTF-8 become '?', and "]]>" becomes "]] >" (it would end
 * a CDATA section). A process can name itself anything (prctl PR_SET_NAME).
 */
void cowstat_text_clean(char *buf, size_t size, const char *s);

/* An indented document. */
void cowstat_json_init(struct cowstat_json *j, FILE *f);
/* A document on one line, without spaces: one line of a JSON Lines stream (top). */
void cowstat_json_init_line(struct cowstat_json *j, FILE *f);
void cowstat_json_open(struct cowstat_json *j, const char *key, char bracket);
void cowstat_json_close(struct cowstat_json *j, char bracket);
void cowstat_json_u64(struct cowstat_json *j, const char *key, u64 v);
void cowstat_json_i64(struct cowstat_json *j, const char *key, long long v);
void cowstat_json_double(struct cowstat_json *j, const char *key, double v);
void cowstat_json_str(struct cowstat_json *j, const char *key, const char *s);
void cowstat_json_null(struct cowstat_json *j, const char *key);
/* {"copy": n, ..., "other": n} under key. */
void cowstat_json_counts(struct cowstat_json *j, const char *key, const u64 *count);
/* Finish the document with a newline. */
void cowstat_json_end(struct cowstat_json *j);

#endif /* _COWSTAT_FORMAT_H */
