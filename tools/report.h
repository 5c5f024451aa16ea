/* SPDX-License-Identifier: GPL-2.0 */
/* Rendering the module's per-process counters, shared by ps, show, top and run. */
#ifndef _COWSTAT_REPORT_H
#define _COWSTAT_REPORT_H

#include "backend.h"
#include "format.h"

/*
 * The COW breaks among count[COWSTAT_NR_CLASSES]: the faults that copy a page
 * (cowstat_class_copies() of include/cowstat.h: copy, file, unshare, ksm) or allocate one
 * (zero). top ranks processes by them.
 */
u64 cowstat_count_breaks(const u64 *count);

/*
 * The counter table of procs[0..n) (pointers, in the order given). Class columns that are
 * zero in every row are left out and named in a footnote.
 */
void cowstat_print_counters(struct cowstat_proc * const *procs, size_t n, FILE *f,
			    const char *indent);
/* The per-region table of one process. */
void cowstat_print_regions(const struct cowstat_proc *p, FILE *f, const char *indent);
/* The JSON object of one record: pid, ppid, comm, state, times, faults, copied_bytes. */
void cowstat_json_proc(struct cowstat_json *j, const char *key, const struct cowstat_proc *p,
		       int with_regions);
/* JSON {"mapped_pages", "shared_pages", "exclusive_pages", "zero_pages"} members. */
void cowstat_json_share_counts(struct cowstat_json *j, const struct cowstat_share_counts *c,
			       int have_zero);

#endif /* _COWSTAT_REPORT_H */
