/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pagemap sharing backend (Documentation/admin-guide/mm/pagemap.rst): /proc/PID/maps for
 * the private mappings and their region class, /proc/PID/pagemap for the pages, and, as root,
 * /proc/kpagecount and /proc/kpageflags for how many mappings each frame has and whether it
 * is the zero page. Without root, page frame numbers read as 0: bit 56 ("exclusively mapped")
 * tells shared from exclusive, and distinct frames, saved, pairs and zero pages are unknown.
 */
#ifndef _COWSTAT_BACKEND_PAGEMAP_H
#define _COWSTAT_BACKEND_PAGEMAP_H

#include "backend.h"

/* Region class of a /proc/PID/maps line's path ("" for anonymous), as the module names it. */
int cowstat_pagemap_region(const char *path);

#endif /* _COWSTAT_BACKEND_PAGEMAP_H */
