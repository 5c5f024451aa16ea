// SPDX-License-Identifier: GPL-2.0
/*
 * Code locations of traced processes (symbols.h): executable mappings per process, and names
 * for (file, offset) pairs through elfutils' libdwfl.
 */
#define _GNU_SOURCE
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "symbols.h"
#include "tool.h"

struct map {
	u64 start, end, offset;
	const char *path;
};

struct proc_maps {
	int pid;
	struct map *v;
	size_t n, cap;
};

static struct proc_maps *procs;
static size_t nprocs, capprocs;

struct interned {
	struct interned *next;
	char s[];
};

static struct interned *strings;

static const char *intern(const char *s)
{
	struct interned *i;

	for (i = strings; i; i = i->next)
		if (!strcmp(i->s, s))
			return i->s;
	i = malloc(sizeof(*i) + strlen(s) + 1);
	if (!i)
		cowstat_fatal("out of memory");
	strcpy(i->s, s);
	i->next = strings;
	strings = i;
	return i->s;
}

static struct proc_maps *proc_find(int pid, int create)
{
	size_t i;

	for (i = 0; i < nprocs; i++)
		if (procs[i].pid == pid)
			return &procs[i];
	if (!create)
		return NULL;
	if (nprocs == capprocs) {
		size_t cap = capprocs ? 2 * capprocs : 64;
		struct proc_maps *p = realloc(procs, cap * sizeof(*p));

		if (!p)
			cowstat_fatal("out of memory");
		procs = p;
		capprocs = cap;
	}
	memset(&procs[nprocs], 0, sizeof(procs[0]));
	procs[nprocs].pid = pid;
	return &procs[nprocs++];
}

/* A new mapping replaces what it overlaps, as mmap() does. */
void cowstat_maps_add(int pid, u64 start, u64 len, u64 offset, const char *path)
{
	struct proc_maps *p = proc_find(pid, 1);
	u64 end = start + len;
	size_t i, j;

	for (i = 0, j = 0; i < p->n; i++)
		if (p->v[i].end <= start || p->v[i].start >= end)
			p->v[j++] = p->v[i];
	p->n = j;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct map *v = realloc(p->v, cap * sizeof(*v));

		if (!v)
			cowstat_fatal("out of memory");
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = (struct map){ start, end, offset, intern(path) };
}

void cowstat_maps_fork(int ppid, int pid)
{
	struct proc_maps *parent = proc_find(ppid, 0), *child;
	size_t i;

	cowstat_maps_exec(pid);
	if (!parent)
		return;
	child = proc_find(pid, 1);
	parent = proc_find(ppid, 0);	/* proc_find(pid, 1) may have moved the array */
	for (i = 0; i < parent->n; i++)
		cowstat_maps_add(pid, parent->v[i].start, parent->v[i].end - parent->v[i].start,
				 parent->v[i].offset, parent->v[i].path);
	(void)child;
}

void cowstat_maps_exec(int pid)
{
	struct proc_maps *p = proc_find(pid, 0);

	if (p)
		p->n = 0;
}

/* Executable file mappings of a process that existed before tracing began. */
void cowstat_maps_load_proc(int pid)
{
	char path[64], line[4352];
	struct cowstat_maps_line m;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (cowstat_maps_parse(line, &m) || m.perms[2] != 'x' || m.name[0] != '/')
			continue;
		cowstat_maps_add(pid, m.start, m.end - m.start, m.offset, m.name);
	}
	fclose(f);
}

int cowstat_maps_find(int pid, u64 ip, struct cowstat_code *out)
{
	struct proc_maps *p = proc_find(pid, 0);
	size_t i;

	if (!p)
		return -1;
	for (i = 0; i < p->n; i++) {
		if (ip >= p->v[i].start && ip < p->v[i].end) {
			out->path = p->v[i].path;
			out->offset = ip - p->v[i].start + p->v[i].offset;
			return 0;
		}
	}
	return -1;
}

void cowstat_maps_free(void)
{
	size_t i;

	for (i = 0; i < nprocs; i++)
		free(procs[i].v);
	free(procs);
	procs = NULL;
	nprocs = 0;
	capprocs = 0;
}

struct elf_file {
	const char *path;
	Dwfl *dwfl;
	Dwfl_Module *mod;	/* NULL: not an ELF file we can read */
};

static struct elf_file *files;
static size_t nfiles, capfiles;

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

static struct elf_file *elf_open(const char *path)
{
	struct elf_file *e;
	size_t i;

	for (i = 0; i < nfiles; i++)
		if (files[i].path == path)
			return &files[i];
	if (nfiles == capfiles) {
		size_t cap = capfiles ? 2 * capfiles : 16;

		e = realloc(files, cap * sizeof(*e));
		if (!e)
			cowstat_fatal("out of memory");
		files = e;
		capfiles = cap;
	}
	e = &files[nfiles++];
	e->path = path;
	e->mod = NULL;
	e->dwfl = dwfl_begin(&callbacks);
	if (!e->dwfl)
		return e;
	dwfl_report_begin(e->dwfl);
	e->mod = dwfl_report_elf(e->dwfl, path, path, -1, 0, false);
	dwfl_report_end(e->dwfl, NULL, NULL);
	return e;
}

/* The module address of a file offset: through the PT_LOAD segment that maps it. */
static int offset_to_addr(Dwfl_Module *mod, u64 offset, GElf_Addr *addr)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	size_t i, n;

	if (!elf || elf_getphdrnum(elf, &n))
		return -1;
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (offset >= ph.p_offset && offset < ph.p_offset + ph.p_filesz) {
			*addr = offset - ph.p_offset + ph.p_vaddr + bias;
			return 0;
		}
	}
	return -1;
}

/* The last two components of a source path: "Include/object.h", "selftests/x.c". */
static const char *short_path(const char *p)
{
	const char *last = strrchr(p, '/'), *prev;

	if (!last)
		return p;
	for (prev = last - 1; prev > p && *prev != '/'; prev--)
		;
	return prev > p ? prev + 1 : p;
}

static void inlined_name(Dwfl_Module *mod, GElf_Addr addr, char *out, size_t size)
{
	Dwarf_Addr bias;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, &bias), *scopes = NULL;
	int i, n;

	if (!cu)
		return;
	n = dwarf_getscopes(cu, addr - bias, &scopes);
	for (i = 0; i < n; i++) {
		Dwarf_Attribute attr;
		const char *name;

		if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
			continue;
		name = dwarf_formstring(dwarf_attr_integrate(&scopes[i], DW_AT_name, &attr));
		if (name)
			snprintf(out, size, "%s", name);
		break;
	}
	free(scopes);
}

void cowstat_symbolize(const struct cowstat_code *code, struct cowstat_sym *out)
{
	struct elf_file *e = elf_open(code->path);
	const char *name, *src;
	GElf_Addr addr;
	GElf_Off off;
	GElf_Sym sym;
	Dwfl_Line *line;
	int lineno;

	out->func[0] = '\0';
	out->inlined[0] = '\0';
	out->src[0] = '\0';
	if (!e->mod || offset_to_addr(e->mod, code->offset, &addr))
		return;
	name = dwfl_module_addrinfo(e->mod, addr, &off, &sym, NULL, NULL, NULL);
	if (name)
		snprintf(out->func, sizeof(out->func), "%s", name);
	line = dwfl_module_getsrc(e->mod, addr);
	src = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
	if (src)
		snprintf(out->src, sizeof(out->src), "%s:%d", short_path(src), lineno);
	inlined_name(e->mod, addr, out->inlined, sizeof(out->inlined));
}

void cowstat_symbols_free(void)
{
	struct interned *i, *next;
	size_t k;

	for (k = 0; k < nfiles; k++)
		if (files[k].dwfl)
			dwfl_end(files[k].dwfl);
	free(files);
	files = NULL;
	nfiles = 0;
	capfiles = 0;
	for (i = strings; i; i = next) {
		next = i->next;
		free(i);
	}
	strings = NULL;
}
