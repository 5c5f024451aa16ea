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

#define MAX_TOKENS	32
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

int cowstat_unescape(const char *src, size_t len, char *dst, size_t size)
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

int cowstat_parse_procs(const char *buf, struct cowstat_procs *out, char *err)
{
	const int nf = 7 + COWSTAT_NR_CLASSES + 1;
	struct lines l = { buf, 0 };
	size_t cap = 0;
	const char *s, *e;
	struct tokens t;
	int r;

	out->v = NULL;
	out->n = 0;
	if (check_header(&l, COWSTAT_FILE_PROCS, err) ||
	    check_columns(&l, COWSTAT_FILE_PROCS, "pid ppid comm state start_ns fork_ns exit_ns",
			  "copied_bytes", err))
		return -1;
	while ((r = next_line(&l, &s, &e)) > 0) {
		struct cowstat_proc *p;

		if (split(s, e, &t) || t.n != nf)
			goto bad;
		if (grow((void **)&out->v, out->n, &cap, sizeof(*out->v)))
			return fail(err, "procs: out of memory");
		p = &out->v[out->n];
		memset(p, 0, sizeof(*p));
		if (parse_pid(t.s[0], t.len[0], &p->pid) || !p->pid ||
		    parse_pid(t.s[1], t.len[1], &p->ppid) ||
		    cowstat_unescape(t.s[2], t.len[2], p->comm, sizeof(p->comm)))
			goto bad;
		if (tok_is(&t, 3, "exited"))
			p->exited = 1;
		else if (!tok_is(&t, 3, "live"))
			goto bad;
		if (parse_u64(t.s[4], t.len[4], &p->start_ns) ||
		    parse_u64(t.s[5], t.len[5], &p->fork_ns) ||
		    parse_u64(t.s[6], t.len[6], &p->exit_ns) ||
		    parse_counts(&t, 7, p->count) ||
		    parse_u64(t.s[nf - 1], t.len[nf - 1], &p->copied_bytes))
			goto bad;
		out->n++;
	}
	if (r < 0)
		goto bad_trunc;
	return 0;
bad_trunc:
	cowstat_procs_free(out);
	return fail(err, "procs: line %d: truncated (no newline)", l.no + 1);
bad:
	cowstat_procs_free(out);
	return fail(err, "procs: line %d: malformed", l.no);
}

int cowstat_parse_regions(const char *buf, struct cowstat_regions *out, char *err)
{
	const int nf = 3 + COWSTAT_NR_CLASSES;
	struct lines l = { buf, 0 };
	size_t cap = 0;
	const char *s, *e;
	struct tokens t;
	int r, rg;

	out->v = NULL;
	out->n = 0;
	if (check_header(&l, COWSTAT_FILE_REGIONS, err) ||
	    check_columns(&l, COWSTAT_FILE_REGIONS, "pid start_ns region", NULL, err))
		return -1;
	while ((r = next_line(&l, &s, &e)) > 0) {
		struct cowstat_region_line *p;

		if (split(s, e, &t) || t.n != nf)
			goto bad;
		if (grow((void **)&out->v, out->n, &cap, sizeof(*out->v)))
			return fail(err, "regions: out of memory");
		p = &out->v[out->n];
		if (parse_pid(t.s[0], t.len[0], &p->pid) || !p->pid ||
		    parse_u64(t.s[1], t.len[1], &p->start_ns))
			goto bad;
		p->region = -1;
		for (rg = 0; rg < COWSTAT_NR_REGIONS; rg++)
			if (tok_is(&t, 2, cowstat_region_names[rg]))
				p->region = rg;
		if (p->region < 0 || parse_counts(&t, 3, p->count))
			goto bad;
		out->n++;
	}
	if (r < 0) {
		free(out->v);
		out->v = NULL;
		out->n = 0;
		return fail(err, "regions: line %d: truncated (no newline)", l.no + 1);
	}
	return 0;
bad:
	free(out->v);
	out->v = NULL;
	out->n = 0;
	return fail(err, "regions: line %d: malformed", l.no);
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
	};
	unsigned int seen = 0, all = (1u << (COWSTAT_NR_CLASSES + ARRAY_SIZE(keys) + 1)) - 1;
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
	if (seen != all)
		return fail(err, "summary: incomplete (a counter is missing)");
	return 0;
bad:
	return fail(err, "summary: line %d: malformed", l.no);
}

int cowstat_parse_watches(const char *buf, struct cowstat_watches *out, char *err)
{
	const int nf = 4 + COWSTAT_NR_CLASSES;
	struct lines l = { buf, 0 };
	size_t cap = 0;
	const char *s, *e;
	struct tokens t;
	int r;

	out->v = NULL;
	out->n = 0;
	if (check_header(&l, COWSTAT_FILE_WATCHES, err) ||
	    check_columns(&l, COWSTAT_FILE_WATCHES, "pid start_ns start_hex end_hex", NULL, err))
		return -1;
	while ((r = next_line(&l, &s, &e)) > 0) {
		struct cowstat_watch *w;

		if (split(s, e, &t) || t.n != nf)
			goto bad;
		if (grow((void **)&out->v, out->n, &cap, sizeof(*out->v)))
			return fail(err, "watches: out of memory");
		w = &out->v[out->n];
		if (parse_pid(t.s[0], t.len[0], &w->pid) || !w->pid ||
		    parse_u64(t.s[1], t.len[1], &w->start_ns) ||
		    parse_hex(t.s[2], t.len[2], &w->start) ||
		    parse_hex(t.s[3], t.len[3], &w->end) || w->end <= w->start ||
		    parse_counts(&t, 4, w->count))
			goto bad;
		out->n++;
	}
	if (r >= 0)
		return 0;
	l.no++;
bad:
	free(out->v);
	out->v = NULL;
	out->n = 0;
	return fail(err, "watches: line %d: malformed", l.no);
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
