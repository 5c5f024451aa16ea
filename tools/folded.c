// SPDX-License-Identifier: GPL-2.0
/*
 * Folded user stacks of COW faults (folded.h). Stacks are kept in an open-addressing hash
 * table keyed by (pid, frames), so that each fault costs one lookup whatever the number of
 * distinct stacks; frames are (file, offset) pairs, files interned by symbols.c.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "folded.h"
#include "symbols.h"
#include "tool.h"

/* A frame: code in a file, or an address no executable mapping covers (path NULL). */
struct frame {
	const char *path;
	u64 offset;		/* in the file; the address itself when path is NULL */
};

struct stack {
	u64 hash;
	int pid;
	int gup;
	unsigned int n;
	u64 faults, pages;
	struct frame frames[];	/* innermost first */
};

struct cowstat_folded {
	struct stack **slot;	/* cap slots, a power of 2; NULL is empty */
	size_t cap, n;
};

struct cowstat_folded *cowstat_folded_new(void)
{
	struct cowstat_folded *f = calloc(1, sizeof(*f));

	if (!f)
		cowstat_fatal("out of memory");
	f->cap = 1024;
	f->slot = calloc(f->cap, sizeof(*f->slot));
	if (!f->slot)
		cowstat_fatal("out of memory");
	return f;
}

/* FNV-1a over the 8 bytes of @v. */
static u64 mix(u64 h, u64 v)
{
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int same(const struct stack *s, u64 hash, int pid, int gup, const struct frame *fr,
		unsigned int n)
{
	return s->hash == hash && s->pid == pid && s->gup == gup && s->n == n &&
	       !memcmp(s->frames, fr, n * sizeof(*fr));
}

static void grow(struct cowstat_folded *f)
{
	size_t cap = 2 * f->cap, i, j;
	struct stack **slot = calloc(cap, sizeof(*slot));

	if (!slot)
		cowstat_fatal("out of memory for %zu stacks", f->n);
	for (i = 0; i < f->cap; i++) {
		if (!f->slot[i])
			continue;
		for (j = f->slot[i]->hash & (cap - 1); slot[j]; j = (j + 1) & (cap - 1))
			;
		slot[j] = f->slot[i];
	}
	free(f->slot);
	f->slot = slot;
	f->cap = cap;
}

void cowstat_folded_add(struct cowstat_folded *f, int pid, const u64 *ips, unsigned int n,
			int gup, u64 pages)
{
	struct frame fr[128];
	struct cowstat_code code;
	struct stack *s;
	u64 hash = 0xcbf29ce484222325ULL;
	unsigned int i;
	size_t j;

	if (gup || n > 128)
		n = gup ? 0 : 128;
	/*
	 * The walk ends where a frame pointer leads outside the stack; the last "return
	 * address" it read then may be garbage: in the kernel's half (seen: -1, from ld.so),
	 * or 0 (seen in ld.so's start-up, where it showed as "[unknown: 0xffffffffffffffff]",
	 * the byte before 0).
	 */
	while (n && (ips[n - 1] >> 63 || !ips[n - 1]))
		n--;
	for (i = 0; i < n; i++) {
		/* A return address is after its call: the call is the byte before it. */
		u64 ip = i ? ips[i] - 1 : ips[i];

		if (cowstat_maps_find(pid, ip, &code))
			fr[i] = (struct frame){ NULL, ip };
		else
			fr[i] = (struct frame){ code.path, code.offset };
		hash = mix(mix(hash, (u64)(uintptr_t)fr[i].path), fr[i].offset);
	}
	hash = mix(mix(hash, (u64)pid), (u64)gup);
	for (j = hash & (f->cap - 1); (s = f->slot[j]); j = (j + 1) & (f->cap - 1))
		if (same(s, hash, pid, gup, fr, n))
			break;
	if (!s) {
		s = malloc(sizeof(*s) + n * sizeof(*fr));
		if (!s)
			cowstat_fatal("out of memory for %zu stacks", f->n);
		*s = (struct stack){ .hash = hash, .pid = pid, .gup = gup, .n = n };
		memcpy(s->frames, fr, n * sizeof(*fr));
		f->slot[j] = s;
		if (++f->n * 2 > f->cap)
			grow(f);
	}
	s->faults++;
	s->pages += pages;
}

/*
 * Name a frame: "function" with its source line, or "object+0xoffset". A function inlined
 * at the address is a frame of its own, after its caller's, and the line is the inlined
 * code's. Returns the number of frames made (1 or 2).
 */
static unsigned int frame_names(const struct frame *fr, struct cowstat_folded_frame *out)
{
	struct cowstat_code code = { fr->path, fr->offset };
	struct cowstat_sym sym;
	const char *base;

	out->src[0] = '\0';
	if (!fr->path) {
		snprintf(out->name, sizeof(out->name), "[unknown: 0x%llx]",
			 (unsigned long long)fr->offset);
		return 1;
	}
	cowstat_symbolize(&code, &sym);
	base = strrchr(fr->path, '/') ? strrchr(fr->path, '/') + 1 : fr->path;
	if (!sym.func[0]) {
		snprintf(out->name, sizeof(out->name), "%s+0x%llx", base,
			 (unsigned long long)fr->offset);
		return 1;
	}
	snprintf(out->name, sizeof(out->name), "%s", sym.func);
	if (!sym.inlined[0]) {
		snprintf(out->src, sizeof(out->src), "%s", sym.src);
		return 1;
	}
	snprintf(out[1].name, sizeof(out[1].name), "%s", sym.inlined);
	snprintf(out[1].src, sizeof(out[1].src), "%s", sym.src);
	return 2;
}

void cowstat_folded_each(struct cowstat_folded *f, int by_faults,
			 const char *(*comm)(int pid, void *arg), void *arg,
			 cowstat_folded_fn *fn, void *ctx)
{
	/* The root, the GUP frame, and each frame twice at most (inlined). */
	struct cowstat_folded_frame *fr = calloc(2 + 2 * 128, sizeof(*fr));
	unsigned int n, k;
	size_t i;

	if (!fr)
		cowstat_fatal("out of memory");
	for (i = 0; i < f->cap; i++) {
		const struct stack *s = f->slot[i];

		if (!s || !(by_faults ? s->faults : s->pages))
			continue;
		snprintf(fr[0].name, sizeof(fr[0].name), "%s", comm(s->pid, arg));
		fr[0].src[0] = '\0';
		n = 1;
		if (s->gup) {
			snprintf(fr[n].name, sizeof(fr[n].name), "[another process's GUP]");
			fr[n++].src[0] = '\0';
		}
		for (k = s->n; k-- > 0;)
			n += frame_names(&s->frames[k], &fr[n]);
		fn(ctx, fr, n, by_faults ? s->faults : s->pages);
	}
	free(fr);
}

struct line {
	char *text;
	u64 weight;
};

struct lines {
	struct line *v;
	size_t n, cap;
};

static int by_text(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->text, ((const struct line *)b)->text);
}

/* A stack as a folded line: its frames' names joined by ';'. */
static void add_line(void *ctx, const struct cowstat_folded_frame *fr, unsigned int n,
		     u64 weight)
{
	struct lines *l = ctx;
	char text[8192];
	size_t len = 0;
	unsigned int k;

	for (k = 0; k < n && len < sizeof(text) - 1; k++)
		len += snprintf(text + len, sizeof(text) - len, "%s%s", k ? ";" : "",
				fr[k].name);
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			cowstat_fatal("out of memory");
	}
	l->v[l->n].text = strdup(text);
	if (!l->v[l->n].text)
		cowstat_fatal("out of memory");
	l->v[l->n++].weight = weight;
}

long cowstat_folded_write(struct cowstat_folded *f, FILE *out, int by_faults,
			  const char *(*comm)(int pid, void *arg), void *arg)
{
	struct lines l = { NULL, 0, 0 };
	size_t i, k;
	long lines = 0;

	cowstat_folded_each(f, by_faults, comm, arg, add_line, &l);
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), by_text);
	for (i = 0; i < l.n; i = k) {
		u64 w = 0;

		for (k = i; k < l.n && !strcmp(l.v[k].text, l.v[i].text); k++)
			w += l.v[k].weight;
		if (fprintf(out, "%s %llu\n", l.v[i].text, (unsigned long long)w) < 0)
			lines = -1;
		else if (lines >= 0)
			lines++;
	}
	for (i = 0; i < l.n; i++)
		free(l.v[i].text);
	free(l.v);
	if (fflush(out) || ferror(out))
		return -1;
	return lines;
}

void cowstat_folded_free(struct cowstat_folded *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->cap; i++)
		free(f->slot[i]);
	free(f->slot);
	free(f);
}
