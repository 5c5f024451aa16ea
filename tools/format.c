// SPDX-License-Identifier: GPL-2.0
/*
 * Output helpers. Plain output is for people (aligned columns, human units); JSON is for
 * programs: every size in pages, every time in nanoseconds, keys never renamed.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"

static u64 page_size;

u64 cowstat_page_size(void)
{
	if (!page_size) {
		long v = sysconf(_SC_PAGESIZE);

		page_size = v > 0 ? (u64)v : 4096;
	}
	return page_size;
}

void cowstat_set_page_size(u64 bytes)
{
	page_size = bytes;
}

void cowstat_fmt_human(char *buf, size_t size, u64 bytes)
{
	static const char units[] = "KMGTPE";
	double v = bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, size, "%llu", (unsigned long long)bytes);
		return;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (v < 9.95)
		snprintf(buf, size, "%.1f%c", v, units[u]);
	else
		snprintf(buf, size, "%.0f%c", v, units[u]);
}

void cowstat_fmt_pages(char *buf, size_t size, u64 pages, enum cowstat_unit unit)
{
	char h[16];

	switch (unit) {
	case COWSTAT_UNIT_PAGES:
		snprintf(buf, size, "%llu", (unsigned long long)pages);
		break;
	case COWSTAT_UNIT_BYTES:
		snprintf(buf, size, "%llu", (unsigned long long)(pages * cowstat_page_size()));
		break;
	default:
		cowstat_fmt_human(h, sizeof(h), pages * cowstat_page_size());
		snprintf(buf, size, "%llu (%s)", (unsigned long long)pages, h);
	}
}

void cowstat_fmt_bytes(char *buf, size_t size, u64 bytes, enum cowstat_unit unit)
{
	if (unit == COWSTAT_UNIT_HUMAN)
		cowstat_fmt_human(buf, size, bytes);
	else if (unit == COWSTAT_UNIT_PAGES)
		snprintf(buf, size, "%llu", (unsigned long long)(bytes / cowstat_page_size()));
	else
		snprintf(buf, size, "%llu", (unsigned long long)bytes);
}

void cowstat_fmt_secs(char *buf, size_t size, u64 ns)
{
	snprintf(buf, size, "%llu.%03llus", (unsigned long long)(ns / 1000000000ULL),
		 (unsigned long long)(ns / 1000000ULL % 1000));
}

void cowstat_table_init(struct cowstat_table *t)
{
	memset(t, 0, sizeof(*t));
}

void cowstat_table_col(struct cowstat_table *t, const char *head, int left)
{
	if (t->ncols == COWSTAT_TABLE_COLS)
		return;
	t->head[t->ncols] = head;
	t->left[t->ncols++] = left;
}

void cowstat_table_cell(struct cowstat_table *t, const char *fmt, ...)
{
	va_list ap;

	if (t->filled == t->cap * t->ncols || !t->cells) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		void *n = realloc(t->cells, cap * t->ncols * COWSTAT_CELL_MAX);

		if (!n)
			cowstat_fatal("out of memory");
		t->cells = n;
		t->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(t->cells[t->filled++], COWSTAT_CELL_MAX, fmt, ap);
	va_end(ap);
	t->rows = (t->filled + t->ncols - 1) / t->ncols;
}

void cowstat_table_print(struct cowstat_table *t, FILE *f, const char *indent)
{
	size_t width[COWSTAT_TABLE_COLS], r;
	int c;

	for (c = 0; c < t->ncols; c++)
		width[c] = strlen(t->head[c]);
	for (r = 0; r < t->filled; r++) {
		size_t len = strlen(t->cells[r]);

		c = r % t->ncols;
		if (len > width[c])
			width[c] = len;
	}
	for (r = 0; r <= t->rows; r++) {
		fputs(indent, f);
		for (c = 0; c < t->ncols; c++) {
			size_t i = (r - 1) * t->ncols + c;
			const char *s = !r ? t->head[c] : i < t->filled ? t->cells[i] : "";
			int w = (int)width[c];

			if (c == t->ncols - 1 && t->left[c])
				fprintf(f, "%s", s);
			else
				fprintf(f, t->left[c] ? "%-*s" : "%*s", w, s);
			if (c < t->ncols - 1)
				fputs("  ", f);
		}
		fputc('\n', f);
	}
}

void cowstat_table_free(struct cowstat_table *t)
{
	free(t->cells);
	cowstat_table_init(t);
}

void cowstat_json_init(struct cowstat_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

void cowstat_json_init_line(struct cowstat_json *j, FILE *f)
{
	cowstat_json_init(j, f);
	j->compact = 1;
}

/* The length of the UTF-8 sequence at @s (RFC 3629: no overlong form, no surrogate), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned int c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

void cowstat_text_clean(char *buf, size_t size, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = 0, n;

	while (*p && len + 5 < size) {
		n = utf8_len(p);
		if (!n || *p < 0x20 || *p == 0x7f) {
			buf[len++] = '?';
			p += n ? n : 1;
			continue;
		}
		if (p[0] == ']' && p[1] == ']' && p[2] == '>') {
			memcpy(buf + len, "]] >", 4);
			len += 4;
			p += 3;
			continue;
		}
		memcpy(buf + len, p, n);
		len += n;
		p += n;
	}
	buf[len] = '\0';
}

static void json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	fputc('"', f);
	while (*p) {
		n = utf8_len(p);
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		/* <, > and & too: a document can then carry JSON in a <script> (trace --svg). */
		else if (*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == '&')
			fprintf(f, "\\u%04x", *p);
		/* UTF-8 as it is (a process name may be any); another byte is U+FFFD. */
		else if (!n)
			fputs("\\ufffd", f);
		else
			fwrite(p, 1, n, f);
		p += n ? n : 1;
	}
	fputc('"', f);
}

/* Comma, newline and indentation before a member, and its key. */
static void json_member(struct cowstat_json *j, const char *key)
{
	if (j->depth > 0) {
		if (j->count[j->depth]++)
			fputc(',', j->f);
		if (!j->compact)
			fprintf(j->f, "\n%*s", 2 * j->depth, "");
	}
	if (key) {
		json_string(j->f, key);
		fputs(j->compact ? ":" : ": ", j->f);
	}
}

void cowstat_json_open(struct cowstat_json *j, const char *key, char bracket)
{
	json_member(j, key);
	fputc(bracket, j->f);
	if (j->depth < COWSTAT_JSON_DEPTH - 1)
		j->depth++;
	j->count[j->depth] = 0;
}

void cowstat_json_close(struct cowstat_json *j, char bracket)
{
	int had = j->count[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (had && !j->compact)
		fprintf(j->f, "\n%*s", 2 * j->depth, "");
	fputc(bracket, j->f);
}

void cowstat_json_u64(struct cowstat_json *j, const char *key, u64 v)
{
	json_member(j, key);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void cowstat_json_i64(struct cowstat_json *j, const char *key, long long v)
{
	json_member(j, key);
	fprintf(j->f, "%lld", v);
}

void cowstat_json_double(struct cowstat_json *j, const char *key, double v)
{
	json_member(j, key);
	fprintf(j->f, "%.3f", v);
}

void cowstat_json_str(struct cowstat_json *j, const char *key, const char *s)
{
	json_member(j, key);
	json_string(j->f, s);
}

void cowstat_json_null(struct cowstat_json *j, const char *key)
{
	json_member(j, key);
	fputs("null", j->f);
}

void cowstat_json_counts(struct cowstat_json *j, const char *key, const u64 *count)
{
	int c;

	cowstat_json_open(j, key, '{');
	for (c = 0; c < COWSTAT_NR_CLASSES; c++)
		cowstat_json_u64(j, cowstat_class_names[c], count[c]);
	cowstat_json_close(j, '}');
}

void cowstat_json_end(struct cowstat_json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
}
