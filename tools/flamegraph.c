// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat trace --svg (flamegraph.h). The stacks are merged into a tree of frames, a frame
 * being a function at a source line (two call sites of one function are two frames, as in
 * "perf report -g srcline"); the tree goes into the SVG as a flat JSON array, parents first,
 * and the bundled d3-flame-graph draws it when the document is opened. The SVG's size is
 * known here, d3-flame-graph's layout: a row of CELL pixels per depth, three more rows.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flamegraph.h"
#include "format.h"
#include "tool.h"

#define WIDTH	1200
#define CELL	18

struct fnode {
	char *name, *src;
	u64 value;		/* its stacks' weight, its children's included */
	long parent, child, next;	/* indexes; -1 for none */
	unsigned int depth;
};

struct ftree {
	struct fnode *v;
	size_t n, cap;
	unsigned int depth;	/* of the deepest frame */
};

static long node_add(struct ftree *t, long parent, const char *name, const char *src)
{
	struct fnode *nd;

	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 256;
		t->v = realloc(t->v, t->cap * sizeof(*t->v));
		if (!t->v)
			cowstat_fatal("out of memory for %zu frames", t->n);
	}
	nd = &t->v[t->n];
	*nd = (struct fnode){ strdup(name), strdup(src), 0, parent, -1, -1, 0 };
	if (!nd->name || !nd->src)
		cowstat_fatal("out of memory for %zu frames", t->n);
	if (parent >= 0) {
		nd->depth = t->v[parent].depth + 1;
		nd->next = t->v[parent].child;
		t->v[parent].child = t->n;
		if (nd->depth > t->depth)
			t->depth = nd->depth;
	}
	return t->n++;
}

static void add_stack(void *ctx, const struct cowstat_folded_frame *fr, unsigned int n,
		      u64 weight)
{
	struct ftree *t = ctx;
	long at = 0, c;
	unsigned int k;

	t->v[0].value += weight;
	for (k = 0; k < n; k++) {
		for (c = t->v[at].child; c >= 0; c = t->v[c].next)
			if (!strcmp(t->v[c].name, fr[k].name) && !strcmp(t->v[c].src, fr[k].src))
				break;
		if (c < 0)
			c = node_add(t, at, fr[k].name, fr[k].src);
		t->v[c].value += weight;
		at = c;
	}
}

const char *cowstat_flamegraph_dir(char *why, size_t size)
{
	static char dir[2][PATH_MAX + 32];
	const char *env = getenv("COWSTAT_SHARE");
	char exe[PATH_MAX], path[sizeof(dir) + 32], *slash;
	ssize_t len;
	int n = 0, i;

	if (env) {
		snprintf(dir[n++], sizeof(dir[0]), "%s", env);
	} else {
		len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (len > 0) {
			exe[len] = '\0';
			slash = strrchr(exe, '/');
			if (slash)
				*slash = '\0';
			snprintf(dir[n++], sizeof(dir[0]), "%s/../share/cowstat", exe);
			snprintf(dir[n++], sizeof(dir[0]), "%s/../build/share", exe);
		}
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/cowstat-flamegraph.js", dir[i]);
		if (!access(path, R_OK))
			return dir[i];
	}
	snprintf(why, size, "%s%s%s", n ? dir[0] : "/proc/self/exe unreadable",
		 n > 1 ? " nor " : "", n > 1 ? dir[1] : "");
	return NULL;
}

/* Copy the file @name of @dir to @out. 0, or -1 with errno. */
static int copy_file(FILE *out, const char *dir, const char *name)
{
	char path[PATH_MAX], buf[65536];
	FILE *in;
	size_t n;
	int err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	in = fopen(path, "re");
	if (!in)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n) {
			err = -1;
			break;
		}
	if (ferror(in))
		err = -1;
	fclose(in);
	return err;
}

/* @s cleaned, with the characters XML gives a meaning escaped, for text and attributes. */
static void xml_text(FILE *out, const char *text)
{
	char clean[1024];
	const char *s;

	cowstat_text_clean(clean, sizeof(clean), text);
	for (s = clean; *s; s++) {
		if (*s == '<')
			fputs("&lt;", out);
		else if (*s == '>')
			fputs("&gt;", out);
		else if (*s == '&')
			fputs("&amp;", out);
		else if (*s == '"')
			fputs("&quot;", out);
		else
			fputc(*s, out);
	}
}

int cowstat_flamegraph_write(struct cowstat_folded *f, FILE *out, const char *dir,
			     int by_faults, const char *title,
			     const char *(*comm)(int pid, void *arg), void *arg)
{
	struct ftree t = { NULL, 0, 0, 0 };
	struct cowstat_json j;
	unsigned int height;
	int err = 0;
	size_t i;

	node_add(&t, -1, "all", "");
	cowstat_folded_each(f, by_faults, comm, arg, add_stack, &t);
	height = (t.depth + 3) * CELL;

	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<!-- A flame graph of COW breaks, written by cowstat trace. It is drawn when\n"
		"     opened, by d3-flame-graph (Apache-2.0) and d3 (ISC), embedded below. -->\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%u\">\n<title>",
		WIDTH, height + 2 * CELL);
	xml_text(out, title);
	fputs("</title>\n<style><![CDATA[\n", out);
	err |= copy_file(out, dir, "d3-flamegraph.css");
	fprintf(out, "text.details { font: 12px Verdana, sans-serif; }\n]]></style>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		"<g id=\"chart\"></g>\n"
		"<text id=\"details\" class=\"details\" x=\"4\" y=\"%u\"></text>\n"
		"<script type=\"application/json\" id=\"cowstat-data\"><![CDATA[\n",
		height + CELL);
	cowstat_json_init_line(&j, out);
	cowstat_json_open(&j, NULL, '{');
	cowstat_json_str(&j, "title", title);
	cowstat_json_str(&j, "weight", by_faults ? "faults" : "pages");
	cowstat_json_u64(&j, "page_size", sysconf(_SC_PAGESIZE));
	cowstat_json_u64(&j, "width", WIDTH);
	cowstat_json_u64(&j, "cell_height", CELL);
	cowstat_json_open(&j, "frames", '[');
	for (i = 0; i < t.n; i++) {
		cowstat_json_open(&j, NULL, '{');
		cowstat_json_str(&j, "name", t.v[i].name);
		cowstat_json_str(&j, "src", t.v[i].src);
		cowstat_json_u64(&j, "value", t.v[i].value);
		cowstat_json_i64(&j, "parent", t.v[i].parent);
		cowstat_json_close(&j, '}');
	}
	cowstat_json_close(&j, ']');
	cowstat_json_close(&j, '}');
	cowstat_json_end(&j);
	/* document.head, where d3-flame-graph puts its style, is null in an SVG document. */
	fputs("]]></script>\n<script><![CDATA[\n"
	      "if (!document.head)\n"
	      "\tObject.defineProperty(document, \"head\", { value: document.documentElement });\n",
	      out);
	err |= copy_file(out, dir, "cowstat-flamegraph.js");
	fputs("]]></script>\n<script><![CDATA[\n", out);
	err |= copy_file(out, dir, "flamegraph.js");
	fputs("]]></script>\n</svg>\n", out);
	for (i = 0; i < t.n; i++) {
		free(t.v[i].name);
		free(t.v[i].src);
	}
	free(t.v);
	if (fflush(out) || ferror(out))
		err = -1;
	return err;
}
