// SPDX-License-Identifier: GPL-2.0
/*
 * Choosing the sharing backend, and falling back from one to the next: the one place that
 * knows the order (the module's snapshot first, then pagemap).
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "tool.h"

static const struct cowstat_share_backend * const backends[] = {
	&cowstat_module_backend,
	&cowstat_pagemap_backend,
};

const struct cowstat_share_backend *cowstat_share_backend_select(void)
{
	const char *want = getenv("COWSTAT_BACKEND");
	char why[COWSTAT_ERR_MAX];
	size_t i;

	for (i = 0; want && *want && i < ARRAY_SIZE(backends); i++) {
		if (strcmp(want, backends[i]->name))
			continue;
		if (backends[i]->available(why))
			cowstat_fatal("backend %s unavailable: %s", want, why);
		return backends[i];
	}
	if (want && *want)
		cowstat_fatal("COWSTAT_BACKEND=%s: no such backend (module, pagemap)", want);
	for (i = 0; i < ARRAY_SIZE(backends); i++)
		if (!backends[i]->available(why))
			return backends[i];
	cowstat_fatal("no way to measure sharing: %s", why);
}

int cowstat_share_snapshot(const struct cowstat_share_backend *be, const int *pids, size_t n,
			   unsigned int flags, struct cowstat_share *out, char *err)
{
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(backends) && backends[i] != be; i++)
		;
	for (; i < ARRAY_SIZE(backends); i++) {
		memset(out, 0, sizeof(*out));
		r = backends[i]->snapshot(pids, n, flags, out, err);
		if (r != COWSTAT_SHARE_NOT_COVERED)
			return r;
	}
	snprintf(err, COWSTAT_ERR_MAX, "no backend could measure these %zu processes", n);
	return -1;
}

void cowstat_share_release(struct cowstat_share *s)
{
	free(s->procs);
	free(s->pairs);
	memset(s, 0, sizeof(*s));
}
