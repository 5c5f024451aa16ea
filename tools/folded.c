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
	 * address" it read then may be garbage, in the kernel's half (seen: -1, from ld.so).
	 */
	while (n && ips[n - 1] >> 63)
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

/* The frame's name: "function", "function;inlined function", or "object+0xoffset". */
static void frame_name(const struct frame *fr, char *buf, size_t size)
{
	struct cowstat_code code = { fr->path, fr->offset };
	struct cowstat_sym sym;
	const char *base;

	if (!fr->path) {
		snprintf(buf, size, "[unknown: 0x%llx]", (unsigned long long)fr->offset);
		return;
	}
	cowstat_symbolize(&code, &sym);
	base = strrchr(fr->path, '/') ? strrchr(fr->path, '/') + 1 : fr->path;
	if (!sym.func[0])
		snprintf(buf, size, "%s+0x%llx", base, (unsigned long long)fr->offset);
	else if (sym.inlined[0])
		snprintf(buf, size, "%s;%s", sym.func, sym.inlined);
	else
		snprintf(buf, size, "%s", sym.func);
}

struct line {
	char *text;
	u64 weight;
};

static int by_text(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->text, ((const struct line *)b)->text);
}

long cowstat_folded_write(struct cowstat_folded *f, FILE *out, int by_faults,
			  const char *(*comm)(int pid, void *arg), void *arg)
{
	struct line *v = calloc(f->n ? f->n : 1, sizeof(*v));
	char text[8192], name[300];
	size_t i, k, m = 0, len;
	long lines = 0;

	if (!v)
		cowstat_fatal("out of memory");
	for (i = 0; i < f->cap; i++) {
		const struct stack *s = f->slot[i];

		if (!s || !(by_faults ? s->faults : s->pages))
			continue;
		len = snprintf(text, sizeof(text), "%s", comm(s->pid, arg));
		if (s->gup)
			len += snprintf(text + len, sizeof(text) - len, ";[another process's GUP]");
		for (k = s->n; k-- > 0 && len < sizeof(text) - 1;) {
			/* An inlined function is a frame of its own: "function;inlined". */
			frame_name(&s->frames[k], name, sizeof(name));
			len += snprintf(text + len, sizeof(text) - len, ";%s", name);
		}
		v[m].text = strdup(text);
		if (!v[m].text)
			cowstat_fatal("out of memory");
		v[m++].weight = by_faults ? s->faults : s->pages;
	}
	qsort(v, m, sizeof(*v), by_text);
	for (i = 0; i < m; i = k) {
		u64 w = 0;

		for (k = i; k < m && !strcmp(v[k].text, v[i].text); k++)
			w += v[k].weight;
		if (fprintf(out, "%s %llu\n", v[i].text, (unsigned long long)w) < 0)
			lines = -1;
		else if (lines >= 0)
			lines++;
	}
	for (i = 0; i < m; i++)
		free(v[i].text);
	free(v);
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
