// SPDX-License-Identifier: GPL-2.0
/*
 * Strict parsers of the module's files. Every line is split on single spaces into a bounded
 * number of tokens; anything unexpected (missing or extra fields, a number with junk or
 * overflow, a wrong header, a file cut in the middle of a line) is an error with the line
 * number, never a crash and never a silently wrong figure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"

const char * const cowstat_class_names[COWSTAT_NR_CLASSES] = COWSTAT_CLASS_NAMES;
const char * const cowstat_region_names[COWSTAT_NR_REGIONS] = COWSTAT_REGION_NAMES;

/* A matrix line of the snapshot report is the longest: "matrix", a pid, 64 numbers. */
#define MAX_TOKENS	(COWSTAT_SNAPSHOT_MATRIX_MAX + 2)
#define MAX_LINE	4096

struct tokens {
	const char *s[MAX_TOKENS];
	size_t len[MAX_TOKENS];
	int n;
};

static __printf(2, 3) int fail(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, COWSTAT_ERR_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

/* Split [line, end) on single spaces. -1 on empty tokens (double, leading, trailing space). */
static int split(const char *line, const char *end, struct tokens *t)
{
	const char *p = line;

	t->n = 0;
	if (end - line > MAX_LINE)
		return -1;
	for (;;) {
		const char *sp = memchr(p, ' ', end - p);
		const char *tok_end = sp ? sp : end;

		if (tok_end == p || t->n == MAX_TOKENS)
			return -1;
		t->s[t->n] = p;
		t->len[t->n++] = tok_end - p;
		if (!sp)
			return 0;
		p = sp + 1;
	}
}

static int tok_is(const struct tokens *t, int i, const char *word)
{
	return t->len[i] == strlen(word) && !memcmp(t->s[i], word, t->len[i]);
}

static int parse_u64(const char *s, size_t len, u64 *out)
{
	u64 v = 0;
	size_t i;

	if (!len || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned int d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int parse_hex(const char *s, size_t len, u64 *out)
{
	u64 v = 0;
	size_t i;

	if (!len || len > 16)
		return -1;
	for (i = 0; i < len; i++) {
		char c = s[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* A pid: decimal, 0 to 2^22 (PID_MAX_LIMIT); 0 is allowed for ppid (the idle task). */
static int parse_pid(const char *s, size_t len, int *out)
{
	u64 v;

	if (parse_u64(s, len, &v) || v > (1u << 22))
		return -1;
	*out = (int)v;
	return 0;
}

/* Decode the module's \ooo escapes into dst (NUL-terminated); -1 if malformed. */
static int unescape(const char *src, size_t len, char *dst, size_t size)
{
	size_t i = 0, o = 0;

	while (i < len) {
		unsigned char c = src[i];

		if (c == '\\') {
			unsigned int v = 0;
			int k;

			if (len - i < 4)
				return -1;
			for (k = 1; k <= 3; k++) {
				if (src[i + k] < '0' || src[i + k] > '7')
					return -1;
				v = v * 8 + (src[i + k] - '0');
			}
			if (v > 0xff)
				return -1;
			c = v;
			i += 4;
		} else {
			if (c <= ' ' || c >= 0x7f)
				return -1;
			i++;
		}
		if (o + 1 >= size)
			return -1;
		if (c)
			dst[o++] = c;
	}
	dst[o] = '\0';
	return 0;
}

/* Iterate over lines; every line must end in '\n'. */
struct lines {
	const char *p;
	int no;
};

/* 1 with [*start, *end) the next line, 0 at the end, -1 if the last line is unterminated. */
static int next_line(struct lines *l, const char **start, const char **end)
{
	const char *nl;

	if (!*l->p)
		return 0;
	nl = strchr(l->p, '\n');
	if (!nl)
		return -1;
	*start = l->p;
	*end = nl;
	l->p = nl + 1;
	l->no++;
	return 1;
}

/* "# cowstat <name> v<version>", the version being ours. */
static int check_header(struct lines *l, const char *name, char *err)
{
	const char *s, *e;
	char want[64];
	int r = next_line(l, &s, &e);

	if (r == 0)
		return fail(err, "%s: empty (no header line)", name);
	if (r < 0)
		return fail(err, "%s: truncated header line", name);
	snprintf(want, sizeof(want), "# cowstat %s v", name);
	if ((size_t)(e - s) <= strlen(want) || memcmp(s, want, strlen(want)))
		return fail(err, "%s: line 1: not a cowstat header", name);
	snprintf(want, sizeof(want), "# cowstat %s v%d", name, COWSTAT_IF_VERSION);
	if ((size_t)(e - s) != strlen(want) || memcmp(s, want, strlen(want)))
		return fail(err, "%s: interface version differs ('%.*s'), this tool reads v%d",
			    name, (int)(e - s > 40 ? 40 : e - s), s, COWSTAT_IF_VERSION);
	return 0;
}

/* The column line: fixed names, then the class names, then an optional trailer. */
static int check_columns(struct lines *l, const char *name, const char *lead,
			 const char *trail, char *err)
{
	char want[512];
	const char *s, *e;
	int c, r, len;

	len = snprintf(want, sizeof(want), "%s", lead);
	for (c = 0; c < COWSTAT_NR_CLASSES; c++)
		len += snprintf(want + len, sizeof(want) - len, " %s", cowstat_class_names[c]);
	if (trail)
		snprintf(want + len, sizeof(want) - len, " %s", trail);
	r = next_line(l, &s, &e);
	if (r <= 0)
		return fail(err, "%s: missing column line", name);
	if ((size_t)(e - s) != strlen(want) || memcmp(s, want, e - s))
		return fail(err, "%s: line 2: unexpected columns", name);
	return 0;
}

static int parse_counts(const struct tokens *t, int first, u64 *count)
{
	int c;

	for (c = 0; c < COWSTAT_NR_CLASSES; c++)
		if (parse_u64(t->s[first + c], t->len[first + c], &count[c]))
			return -1;
	return 0;
}

/* Grow *v (of elem bytes) to hold n + 1 elements. */
static int grow(void **v, size_t n, size_t *cap, size_t elem)
{
	void *nv;

	if (n < *cap)
		return 0;
	*cap = *cap ? *cap * 2 : 64;
	nv = realloc(*v, *cap * elem);
	if (!nv)
		return -1;
	*v = nv;
	return 0;
}

int cowstat_parse_version(const char *buf, char *modver, size_t modver_size, long *ifver,
			  char *err)
{
	struct lines l = { buf, 0 };
	int seen_mod = 0, seen_if = 0, r;
	const char *s, *e;
	struct tokens t;

	while ((r = next_line(&l, &s, &e)) > 0) {
		u64 v;

		if (split(s, e, &t) || t.n != 2)
			return fail(err, "version: line %d: expected '<key> <value>'", l.no);
		if (tok_is(&t, 0, "module_version")) {
			if (t.len[1] >= modver_size || seen_mod++)
				return fail(err, "version: line %d: bad module_version", l.no);
			memcpy(modver, t.s[1], t.len[1]);
			modver[t.len[1]] = '\0';
		} else if (tok_is(&t, 0, "interface_version")) {
			if (parse_u64(t.s[1], t.len[1], &v) || v > 1000000 || seen_if++)
				return fail(err, "version: line %d: bad interface_version", l.no);
			*ifver = (long)v;
		}
	}
	if (r < 0)
		return fail(err, "version: truncated line %d", l.no + 1);
	if (!seen_mod || !seen_if)
		return fail(err, "version: module_version or interface_version missing");
	return 0;
}

/*
 * A table file: the header, the column line (lead, the class names, trail), then rows of nf
 * fields, each turned into one elem-byte element of *v by row(), which returns -1 when the row
 * is malformed.
 */
struct table {
	const char *name, *lead, *trail;
	int nf;
	size_t elem;
	int (*row)(const struct tokens *t, void *elem);
};

static int parse_table(const char *buf, const struct table *tb, void **v, size_t *n, char *err)
{
	struct lines l = { buf, 0 };
	size_t cap = 0;
	const char *s, *e;
	struct tokens t;
	int r;

	*v = NULL;
	*n = 0;
	if (check_header(&l, tb->name, err) ||
	    check_columns(&l, tb->name, tb->lead, tb->trail, err))
		return -1;
	while ((r = next_line(&l, &s, &e)) > 0) {
		if (split(s, e, &t) || t.n != tb->nf)
			break;
		if (grow(v, *n, &cap, tb->elem)) {
			r = -2;
			break;
		}
		memset((char *)*v + *n * tb->elem, 0, tb->elem);
		if (tb->row(&t, (char *)*v + *n * tb->elem))
			break;
		++*n;
	}
	if (!r)
		return 0;
	free(*v);
	*v = NULL;
	*n = 0;
	if (r == -2)
		return fail(err, "%s: out of memory", tb->name);
	if (r < 0)
		return fail(err, "%s: line %d: truncated (no newline)", tb->name, l.no + 1);
	return fail(err, "%s: line %d: malformed", tb->name, l.no);
}

static int procs_row(const struct tokens *t, void *elem)
{
	struct cowstat_proc *p = elem;
	const int nf = t->n;

	if (parse_pid(t->s[0], t->len[0], &p->pid) || !p->pid ||
	    parse_pid(t->s[1], t->len[1], &p->ppid) ||
	    unescape(t->s[2], t->len[2], p->comm, sizeof(p->comm)))
		return -1;
	if (tok_is(t, 3, "exited"))
		p->exited = 1;
	else if (!tok_is(t, 3, "live"))
		return -1;
	return parse_u64(t->s[4], t->len[4], &p->start_ns) ||
	       parse_u64(t->s[5], t->len[5], &p->fork_ns) ||
	       parse_u64(t->s[6], t->len[6], &p->exit_ns) ||
	       parse_counts(t, 7, p->count) ||
	       parse_u64(t->s[nf - 1], t->len[nf - 1], &p->copied_bytes) ? -1 : 0;
}

int cowstat_parse_procs(const char *buf, struct cowstat_procs *out, char *err)
{
	static const struct table tb = {
		COWSTAT_FILE_PROCS, "pid ppid comm state start_ns fork_ns exit_ns", "copied_bytes",
		7 + COWSTAT_NR_CLASSES + 1, sizeof(struct cowstat_proc), procs_row,
	};

	return parse_table(buf, &tb, (void **)&out->v, &out->n, err);
}

static int region_index(const struct tokens *t, int i)
{
	int rg;

	for (rg = 0; rg < COWSTAT_NR_REGIONS; rg++)
		if (tok_is(t, i, cowstat_region_names[rg]))
			return rg;
	return -1;
}

static int regions_row(const struct tokens *t, void *elem)
{
	struct cowstat_region_line *p = elem;

	if (parse_pid(t->s[0], t->len[0], &p->pid) || !p->pid ||
	    parse_u64(t->s[1], t->len[1], &p->start_ns))
		return -1;
	p->region = region_index(t, 2);
	return p->region < 0 || parse_counts(t, 3, p->count) ? -1 : 0;
}

int cowstat_parse_regions(const char *buf, struct cowstat_regions *out, char *err)
{
	static const struct table tb = {
		COWSTAT_FILE_REGIONS, "pid start_ns region", NULL,
		3 + COWSTAT_NR_CLASSES, sizeof(struct cowstat_region_line), regions_row,
	};

	return parse_table(buf, &tb, (void **)&out->v, &out->n, err);
}

int cowstat_parse_summary(const char *buf, struct cowstat_summary *out, char *err)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "copied_bytes", offsetof(struct cowstat_summary, copied_bytes) },
		{ "procs_live", offsetof(struct cowstat_summary, procs_live) },
		{ "procs_exited", offsetof(struct cowstat_summary, procs_exited) },
		{ "procs_dropped", offsetof(struct cowstat_summary, procs_dropped) },
		{ "procs_nomem", offsetof(struct cowstat_summary, procs_nomem) },
		{ "faults_unattributed", offsetof(struct cowstat_summary, faults_unattributed) },
		/* Printed by older modules only: not required. */
		{ "faults_retried", offsetof(struct cowstat_summary, faults_retried) },
	};
	unsigned int seen = 0, all = (1u << (COWSTAT_NR_CLASSES + ARRAY_SIZE(keys) + 1)) - 1;
	const unsigned int optional = 1u << (COWSTAT_NR_CLASSES + ARRAY_SIZE(keys) - 1);
	struct lines l = { buf, 0 };
	const char *s, *e;
	struct tokens t;
	size_t k;
	int r, c;

	memset(out, 0, sizeof(*out));
	if (check_header(&l, COWSTAT_FILE_SUMMARY, err))
		return -1;
	while ((r = next_line(&l, &s, &e)) > 0) {
		unsigned int bit = 0;
		u64 v, *dst = NULL;

		if (split(s, e, &t) || t.n != 2 || parse_u64(t.s[1], t.len[1], &v))
			goto bad;
		for (c = 0; c < COWSTAT_NR_CLASSES; c++)
			if (tok_is(&t, 0, cowstat_class_names[c])) {
				dst = &out->count[c];
				bit = 1u << c;
			}
		for (k = 0; k < ARRAY_SIZE(keys); k++)
			if (tok_is(&t, 0, keys[k].key)) {
				dst = (u64 *)((char *)out + keys[k].off);
				bit = 1u << (COWSTAT_NR_CLASSES + k);
			}
		if (tok_is(&t, 0, "scope_pid")) {
			if (v > (1u << 22))
				goto bad;
			out->scope_pid = (long)v;
			bit = 1u << (COWSTAT_NR_CLASSES + ARRAY_SIZE(keys));
		} else if (t.len[0] > 7 && !memcmp(t.s[0], "missed_", 7)) {
			out->missed += v;
		} else if (!dst) {
			continue;	/* a key added later: ignored */
		}
		if (seen & bit)
			goto bad;
		seen |= bit;
		if (dst)
			*dst = v;
	}
	if (r < 0)
		return fail(err, "summary: line %d: truncated (no newline)", l.no + 1);
	if ((seen | optional) != all)
		return fail(err, "summary: incomplete (a counter is missing)");
	return 0;
bad:
	return fail(err, "summary: line %d: malformed", l.no);
}

/* A hex address as the module prints it with %#lx: "0", or "0x" and lower-case hex digits. */
static int parse_addr(const char *s, size_t len, u64 *out)
{
	if (len == 1 && s[0] == '0') {
		*out = 0;
		return 0;
	}
	if (len < 3 || s[0] != '0' || s[1] != 'x')
		return -1;
	return parse_hex(s + 2, len - 2, out);
}

/* The index of column name in a *_columns line (after its first word), or -1. */
static int column(const struct tokens *cols, const char *name)
{
	int i;

	for (i = 1; i < cols->n; i++)
		if (tok_is(cols, i, name))
			return i;
	return -1;
}

/* The next line, split: 0, or -1 at the end or on a malformed line. */
static int snap_line(struct lines *l, struct tokens *t)
{
	const char *s, *e;

	return next_line(l, &s, &e) <= 0 || split(s, e, t) ? -1 : 0;
}

/* "<key> <one number>", the number decimal. */
static int snap_keyed(struct lines *l, const char *key, u64 *v)
{
	struct tokens t;

	return snap_line(l, &t) || t.n != 2 || !tok_is(&t, 0, key) ||
	       parse_u64(t.s[1], t.len[1], v) ? -1 : 0;
}

/* The proc_columns line: where each field the tool reads is. */
struct snap_cols {
	int n, pid, ppid, region, anon, shared, exclusive, zero, ksm;
};

static int snap_proc_columns(const struct tokens *t, struct snap_cols *c)
{
	if (!tok_is(t, 0, "proc_columns"))
		return -1;
	c->n = t->n;
	c->pid = column(t, "pid");
	c->ppid = column(t, "ppid");
	c->region = column(t, "region");
	c->anon = column(t, "anon");
	c->shared = column(t, "shared");
	c->exclusive = column(t, "exclusive");
	c->zero = column(t, "zero");
	c->ksm = column(t, "ksm");
	return c->pid < 0 || c->ppid < 0 || c->region < 0 || c->anon < 0 || c->shared < 0 ||
	       c->exclusive < 0 || c->zero < 0 || c->ksm < 0 ? -1 : 0;
}

/* Line k (0: all, then each region class) of member m. */
static int snap_proc(const struct tokens *t, const struct snap_cols *c,
		     struct cowstat_snap_member *m, int k)
{
	struct cowstat_snap_counts *cn = k ? &m->region[k - 1] : &m->all;
	int pid, ppid;

	if (t->n != c->n || !tok_is(t, 0, "proc") ||
	    parse_pid(t->s[c->pid], t->len[c->pid], &pid) || !pid ||
	    parse_pid(t->s[c->ppid], t->len[c->ppid], &ppid) ||
	    (k ? region_index(t, c->region) != k - 1 : !tok_is(t, c->region, "all")) ||
	    parse_u64(t->s[c->anon], t->len[c->anon], &cn->anon) ||
	    parse_u64(t->s[c->shared], t->len[c->shared], &cn->shared) ||
	    parse_u64(t->s[c->exclusive], t->len[c->exclusive], &cn->exclusive) ||
	    parse_u64(t->s[c->zero], t->len[c->zero], &cn->zero) ||
	    parse_u64(t->s[c->ksm], t->len[c->ksm], &cn->ksm))
		return -1;
	if (!k) {
		m->pid = pid;
		m->ppid = ppid;
		return 0;
	}
	return pid == m->pid && ppid == m->ppid ? 0 : -1;
}

/* The family lines: family_columns, then family. */
static int snap_family(struct lines *l, struct cowstat_snapshot *out)
{
	struct tokens cols, t;
	int im, id, is;
	u64 members;

	if (snap_line(l, &cols) || !tok_is(&cols, 0, "family_columns"))
		return -1;
	im = column(&cols, "members");
	id = column(&cols, "distinct");
	is = column(&cols, "saved_pages");
	if (im < 0 || id < 0 || is < 0 || snap_line(l, &t) || t.n != cols.n ||
	    !tok_is(&t, 0, "family") || parse_u64(t.s[im], t.len[im], &members) ||
	    members != out->n || parse_u64(t.s[id], t.len[id], &out->distinct) ||
	    parse_u64(t.s[is], t.len[is], &out->saved_pages))
		return -1;
	return 0;
}

/* "matrix none", or matrix_columns (the members' pids in order) and one row per member. */
static int snap_matrix(struct lines *l, struct cowstat_snapshot *out)
{
	struct tokens t;
	size_t i, j;
	int pid;

	if (snap_line(l, &t))
		return -1;
	if (t.n == 2 && tok_is(&t, 0, "matrix") && tok_is(&t, 1, "none"))
		return out->n > COWSTAT_SNAPSHOT_MATRIX_MAX ? 0 : -1;
	if (out->n > COWSTAT_SNAPSHOT_MATRIX_MAX || !tok_is(&t, 0, "matrix_columns") ||
	    (size_t)t.n != out->n + 1)
		return -1;
	for (i = 0; i < out->n; i++)
		if (parse_pid(t.s[i + 1], t.len[i + 1], &pid) || pid != out->v[i].pid)
			return -1;
	out->matrix = calloc(out->n * out->n, sizeof(*out->matrix));
	if (!out->matrix)
		return -1;
	for (i = 0; i < out->n; i++) {
		if (snap_line(l, &t) || (size_t)t.n != out->n + 2 || !tok_is(&t, 0, "matrix") ||
		    parse_pid(t.s[1], t.len[1], &pid) || pid != out->v[i].pid)
			return -1;
		for (j = 0; j < out->n; j++)
			if (parse_u64(t.s[j + 2], t.len[j + 2], &out->matrix[i * out->n + j]))
				return -1;
	}
	return 0;
}

/*
 * The module's snapshot report (Documentation/cowstat.rst, snapshot), in the order the module
 * prints it; fields are looked up by the names of the *_columns lines, which later formats
 * may extend.
 */
int cowstat_parse_snapshot(const char *buf, struct cowstat_snapshot *out, char *err)
{
	struct lines l = { buf, 0 };
	struct snap_cols cols;
	struct tokens t;
	u64 format, members, start, end;
	size_t i;
	int k;

	memset(out, 0, sizeof(*out));
	if (snap_line(&l, &t) || t.n != 2 || !tok_is(&t, 0, "cowstat_snapshot") ||
	    parse_u64(t.s[1], t.len[1], &format))
		return fail(err, "snapshot: line 1: not a snapshot report");
	if (format != COWSTAT_SNAPSHOT_FORMAT)
		return fail(err, "snapshot: format %.*s, this tool reads %d",
			    (int)(t.len[1] > 20 ? 20 : t.len[1]), t.s[1], COWSTAT_SNAPSHOT_FORMAT);
	if (snap_line(&l, &t) || t.n != 3 || !(tok_is(&t, 1, "pid") || tok_is(&t, 1, "tree")) ||
	    !tok_is(&t, 0, "target") || parse_pid(t.s[2], t.len[2], &out->pid) || !out->pid)
		goto bad;
	out->tree = tok_is(&t, 1, "tree");
	if (snap_line(&l, &t) || t.n != 3 || !tok_is(&t, 0, "range") ||
	    parse_addr(t.s[1], t.len[1], &start) || parse_addr(t.s[2], t.len[2], &end) ||
	    start >= end)
		goto bad;
	if (snap_keyed(&l, "page_size", &out->page_size) || out->page_size < 4096 ||
	    out->page_size > (1u << 20) || (out->page_size & (out->page_size - 1)))
		goto bad;
	/* A member is at least a task: PID_MAX_LIMIT bounds them. */
	if (snap_keyed(&l, "members", &members) || !members || members > (1u << 22))
		goto bad;
	if (snap_line(&l, &t) || snap_proc_columns(&t, &cols))
		goto bad;
	out->v = calloc(members, sizeof(*out->v));
	if (!out->v)
		return fail(err, "snapshot: out of memory");
	out->n = members;
	for (i = 0; i < out->n; i++) {
		for (k = 0; k <= COWSTAT_NR_REGIONS; k++)
			if (snap_line(&l, &t) || snap_proc(&t, &cols, &out->v[i], k))
				goto bad;
	}
	if (snap_family(&l, out) || snap_matrix(&l, out))
		goto bad;
	if (snap_line(&l, &t) || t.n != 1 || !tok_is(&t, 0, "end"))
		goto bad;
	if (*l.p) {
		l.no++;
		goto bad;
	}
	return 0;
bad:
	cowstat_snapshot_free(out);
	i = strlen(buf);
	if (i < 5 || strcmp(buf + i - 5, "\nend\n"))
		return fail(err, "snapshot: truncated (no end line)");
	return fail(err, "snapshot: line %d: malformed", l.no);
}

void cowstat_snapshot_free(struct cowstat_snapshot *s)
{
	free(s->v);
	free(s->matrix);
	memset(s, 0, sizeof(*s));
}

void cowstat_attach_regions(struct cowstat_procs *procs, const struct cowstat_regions *regions)
{
	size_t i, j;

	for (i = 0; i < regions->n; i++) {
		const struct cowstat_region_line *rl = &regions->v[i];

		for (j = 0; j < procs->n; j++) {
			struct cowstat_proc *p = &procs->v[j];

			if (p->pid != rl->pid || p->start_ns != rl->start_ns)
				continue;
			memcpy(p->region[rl->region], rl->count, sizeof(rl->count));
			p->has_regions = 1;
		}
	}
}

const char *cowstat_module_dir(void)
{
	const char *d = getenv("COWSTAT_DEBUGFS");

	return d && *d ? d : COWSTAT_DEBUGFS_DIR;
}

int cowstat_read_file(const char *name, char **bufp, char *err)
{
	size_t len = 0, cap = 1 << 16;
	char path[512], *buf;
	ssize_t n;
	int fd, e;

	snprintf(path, sizeof(path), "%s/%s", cowstat_module_dir(), name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		fail(err, "%s: %s", path, strerror(e));
		return -e;
	}
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		fail(err, "out of memory");
		return -ENOMEM;
	}
	while ((n = read(fd, buf + len, cap - 1 - len)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *nb;

			if (cap >= COWSTAT_FILE_MAX) {
				free(buf);
				close(fd);
				fail(err, "%s: larger than %u MiB", path, COWSTAT_FILE_MAX >> 20);
				return -EINVAL;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				close(fd);
				fail(err, "out of memory");
				return -ENOMEM;
			}
			buf = nb;
		}
	}
	e = errno;
	close(fd);
	if (n < 0) {
		free(buf);
		fail(err, "%s: %s", path, strerror(e));
		return -e;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		free(buf);
		fail(err, "%s: contains a NUL byte", path);
		return -EINVAL;
	}
	*bufp = buf;
	return 0;
}

void cowstat_procs_free(struct cowstat_procs *p)
{
	free(p->v);
	p->v = NULL;
	p->n = 0;
}
