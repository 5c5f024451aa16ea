// SPDX-License-Identifier: GPL-2.0
/*
 * The module side of the tool. Every reader first checks the version file, so that a module of
 * another interface version is refused in one line rather than misread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "family.h"
#include "modfiles.h"
#include "tool.h"

#define LOAD_HINT "load it as root with 'insmod build/$(uname -r)/cowstat.ko' (built by 'make')"

int cowstat_module_usable(char *why)
{
	const char *dir = cowstat_module_dir();
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, COWSTAT_FILE_VERSION);
	if (access(path, R_OK) == 0)
		return 1;
	if (errno == EACCES || errno == EPERM ||
	    (geteuid() != 0 && stat("/sys/kernel/debug", &st) == 0 &&
	     access("/sys/kernel/debug", X_OK) != 0))
		snprintf(why, COWSTAT_ERR_MAX,
			 "cowstat's module files are root only: run as root");
	else
		snprintf(why, COWSTAT_ERR_MAX, "module not loaded (%s missing): " LOAD_HINT,
			 dir);
	return 0;
}

static char *read_or_die(const char *name)
{
	char err[COWSTAT_ERR_MAX], why[COWSTAT_ERR_MAX];
	char *buf;
	int r = cowstat_read_file(name, &buf, err);

	if (r == -ENOENT && !cowstat_module_usable(why))
		cowstat_fatal("%s", why);
	if (r == -EACCES || r == -EPERM)
		cowstat_fatal("%s (cowstat's module files are root only: run as root)", err);
	if (r)
		cowstat_fatal("%s", err);
	return buf;
}

void cowstat_module_require(void)
{
	char why[COWSTAT_ERR_MAX], err[COWSTAT_ERR_MAX], modver[64];
	long ifver = -1;
	char *buf;

	if (!cowstat_module_usable(why))
		cowstat_fatal("%s", why);
	buf = read_or_die(COWSTAT_FILE_VERSION);
	if (cowstat_parse_version(buf, modver, sizeof(modver), &ifver, err))
		cowstat_fatal("malformed module output: %s", err);
	free(buf);
	if (ifver != COWSTAT_IF_VERSION)
		cowstat_fatal("module %s speaks interface %ld, this tool %d: %s", modver, ifver,
			      COWSTAT_IF_VERSION, "use the tool built with the module");
}

void cowstat_module_procs(struct cowstat_procs *out, int with_regions)
{
	char err[COWSTAT_ERR_MAX];
	struct cowstat_regions rg;
	char *buf = read_or_die(COWSTAT_FILE_PROCS);

	if (cowstat_parse_procs(buf, out, err))
		cowstat_fatal("malformed module output: %s", err);
	free(buf);
	if (!with_regions)
		return;
	buf = read_or_die(COWSTAT_FILE_REGIONS);
	if (cowstat_parse_regions(buf, &rg, err))
		cowstat_fatal("malformed module output: %s", err);
	free(buf);
	cowstat_attach_regions(out, &rg);
	free(rg.v);
}

void cowstat_module_warn_health(void)
{
	char err[COWSTAT_ERR_MAX], line[256], *buf;
	struct cowstat_summary s;
	const struct {
		const u64 *v;
		const char *what;
	} items[] = {
		{ &s.missed, "probe hits missed (faults not counted)" },
		{ &s.procs_nomem, "records not allocated" },
		{ &s.faults_unattributed, "faults in no process" },
		{ &s.procs_dropped, "records of ended processes dropped" },
	};
	int len = 0, r;
	size_t i;

	if (!cowstat_module_usable(err))
		return;
	r = cowstat_read_file(COWSTAT_FILE_SUMMARY, &buf, err);
	if (!r) {
		r = cowstat_parse_summary(buf, &s, err);
		free(buf);
	}
	if (r) {
		fprintf(stderr, "%s: warning: module summary unreadable: %s\n", cowstat_prog, err);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(items); i++)
		if (*items[i].v)
			len += snprintf(line + len, sizeof(line) - len, "%s%llu %s",
					len ? ", " : "", (unsigned long long)*items[i].v,
					items[i].what);
	if (len)
		fprintf(stderr, "%s: warning: module summary: %s\n", cowstat_prog, line);
}

int cowstat_module_control(const char *fmt, ...)
{
	char cmd[COWSTAT_CONTROL_MAX + 1], path[512];
	va_list ap;
	ssize_t n;
	int fd, len, e;

	va_start(ap, fmt);
	len = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (len < 0 || len >= (int)sizeof(cmd))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s", cowstat_module_dir(), COWSTAT_FILE_CONTROL);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, cmd, len);
	e = errno;
	close(fd);
	if (n < 0)
		return -e;
	return n == len ? 0 : -EIO;
}

struct cowstat_proc *cowstat_procs_find(struct cowstat_procs *p, int pid)
{
	struct cowstat_proc *best = NULL;
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->v[i].pid == pid && (!best || p->v[i].start_ns > best->start_ns))
			best = &p->v[i];
	return best;
}

size_t cowstat_module_families(struct cowstat_procs *p, const char *is_root,
			       struct cowstat_proc **out)
{
	struct cowstat_family_node *nodes;
	size_t n, i, nroots = 0, *idx, *roots;

	nodes = calloc(p->n + 1, sizeof(*nodes));
	idx = calloc(p->n + 1, sizeof(*idx));
	roots = calloc(p->n + 1, sizeof(*roots));
	if (!nodes || !idx || !roots)
		cowstat_fatal("out of memory");
	for (i = 0; i < p->n; i++) {
		nodes[i].pid = p->v[i].pid;
		nodes[i].ppid = p->v[i].ppid;
		nodes[i].start_ns = p->v[i].start_ns;
		if (is_root[i])
			roots[nroots++] = i;
	}
	n = cowstat_family_roots(nodes, p->n, roots, nroots, idx, NULL);
	for (i = 0; i < n; i++)
		out[i] = &p->v[idx[i]];
	free(nodes);
	free(idx);
	free(roots);
	return n;
}

size_t cowstat_module_family(struct cowstat_procs *p, int root, struct cowstat_proc **out)
{
	struct cowstat_proc *r = cowstat_procs_find(p, root);
	char *is_root;
	size_t n;

	if (!r)
		return 0;
	is_root = calloc(p->n, 1);
	if (!is_root)
		cowstat_fatal("out of memory");
	is_root[r - p->v] = 1;
	n = cowstat_module_families(p, is_root, out);
	free(is_root);
	return n;
}
