/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowstat: every difference between the target kernels (Debian 6.1 and 6.12) that the page
 * table walker and the probes meet, as small inline wrappers. No other file tests
 * LINUX_VERSION_CODE. The facts behind each wrapper (what is exported, what is inline) are in
 * the project's kernel notes, section b.
 */
#ifndef _COWSTAT_COMPAT_H
#define _COWSTAT_COMPAT_H

#include <linux/version.h>
#include <linux/ftrace.h>
#include <linux/mm.h>
#include <linux/pgtable.h>

/*
 * Number of page table entries mapping this page, in all processes. 6.1: page_mapcount()
 * (inline; __page_mapcount() for compound pages is EXPORT_SYMBOL_GPL) already adds the PMD
 * mappings of a THP to its subpages. 6.12 has no page_mapcount(): the per-page count is the
 * page's own _mapcount plus the folio's PMD mappings, as folio_precise_page_mapcount() does
 * in fs/proc/internal.h. folio_mapcount() would count every mapping of a large folio instead.
 */
static inline int cowstat_page_mapcount(struct page *page, struct folio *folio)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
	return page_mapcount(page);
#else
	int mapcount = atomic_read(&page->_mapcount) + 1;

	if (page_mapcount_is_type(mapcount))
		mapcount = 0;
	if (folio_test_large(folio))
		mapcount += folio_entire_mapcount(folio);
	return mapcount;
#endif
}

/* One lockless read of a pmd entry; the caller rechecks it under the page table lock. */
static inline pmd_t cowstat_pmdp_get(pmd_t *pmd)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
	return READ_ONCE(*pmd);
#else
	return pmdp_get_lockless(pmd);
#endif
}

/*
 * Argument @n of a function entered through an ftrace_ops callback registered without
 * FTRACE_OPS_FL_SAVE_REGS (x86 saves the argument registers: DYNAMIC_FTRACE_WITH_ARGS on
 * both kernels). 6.1 has no accessor; its struct ftrace_regs is a struct pt_regs.
 */
static __always_inline unsigned long
cowstat_ftrace_arg(struct ftrace_regs *fregs, unsigned int n)
{
#ifdef ftrace_regs_get_argument
	return ftrace_regs_get_argument(fregs, n);
#else
	return regs_get_kernel_argument(&fregs->regs, n);
#endif
}

/*
 * Locking a pte table is not wrapped: pte_offset_map_lock() is an inline macro on 6.1 but calls
 * the unexported __pte_offset_map_lock() on 6.12, so walk.c uses one sequence that is correct
 * on both (cowstat_walk_pte_table(), a copy of 6.12's __pte_offset_map_lock()).
 */

#endif /* _COWSTAT_COMPAT_H */
