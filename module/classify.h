/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowstat: what a write-protect fault is, decided from the fault's own state, and where in the
 * address space it happened. Called from probe handlers: no locks, no sleeping, constant work.
 *
 * At do_wp_page() entry, on 6.1 and 6.12 alike, the page table lock is held and vmf->orig_pte
 * maps the page being written, so the page cannot be unmapped while we look at it. Some faults
 * are settled right there; the others are settled later in do_wp_page() (see probe.c), where
 * the kernel copies the page or reuses it, and *when says which.
 *
 * Inline functions: they run on every write-protect fault, and a call costs more than most of
 * what they do (measured: Documentation/cowstat.rst, Overhead).
 */
#ifndef _COWSTAT_CLASSIFY_H
#define _COWSTAT_CLASSIFY_H

#include <linux/mm.h>
#include <linux/page-flags.h>
#include <linux/pgtable.h>
#include <linux/userfaultfd_k.h>

#include "cowstat.h"

/* Where in do_wp_page() a write-protect fault is settled, and so counted (probe.c). */
enum cowstat_wp_when {
	COWSTAT_WP_NOW,			/* at entry: nothing the kernel does changes the class */
	COWSTAT_WP_AT_COPY,		/* when the copy replaces the pte */
	COWSTAT_WP_AT_REUSE_OR_COPY,	/* the kernel reuses the page in place, or copies it */
	COWSTAT_WP_AT_MKWRITE,		/* once ->page_mkwrite()/->pfn_mkwrite() succeeded */
	COWSTAT_WP_NEVER,		/* not counted: uffd-wp write to a shared mapping */
};

/* Region classes follow /proc/PID/maps: [heap] and [stack] as it names them. */
static __always_inline enum cowstat_region
cowstat_region_of(struct mm_struct *mm, struct vm_area_struct *vma)
{
	if (vma->vm_flags & (VM_SHARED | VM_MAYSHARE))
		return COWSTAT_REGION_OTHER;
	if (vma_is_anonymous(vma)) {
		if (vma->vm_start <= mm->brk && vma->vm_end >= mm->start_brk)
			return COWSTAT_REGION_HEAP;
		if (vma->vm_start <= mm->start_stack && vma->vm_end >= mm->start_stack)
			return COWSTAT_REGION_STACK;
		return COWSTAT_REGION_ANON;
	}
	return vma->vm_file ? COWSTAT_REGION_FILE : COWSTAT_REGION_OTHER;
}

/*
 * The class of a write-protected pte of private mapping @vma: the same answer at do_wp_page()
 * entry and when the copy replaces it, since the kernel replaces only a pte that did not
 * change. COWSTAT_COPY means an anonymous page that is neither KSM nor the zero page.
 *
 * Like vm_normal_page() on x86 (ARCH_HAS_PTE_SPECIAL), a pte that is not special maps a page
 * with a struct page; only VM_PFNMAP/VM_MIXEDMAP mappings need the slower pfn_valid().
 */
static __always_inline enum cowstat_class
cowstat_classify_pte(struct vm_area_struct *vma, pte_t pte)
{
	unsigned long pfn = pte_pfn(pte);
	struct folio *folio;

	if (is_zero_pfn(pfn))
		return COWSTAT_ZERO;
	if (pte_special(pte))
		return COWSTAT_OTHER;
	if (unlikely(vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP)) && !pfn_valid(pfn))
		return COWSTAT_OTHER;
	folio = page_folio(pfn_to_page(pfn));
	if (!folio_test_anon(folio))
		return COWSTAT_FILE;
	if (folio_test_ksm(folio))
		return COWSTAT_KSM;
	return COWSTAT_COPY;
}

/* Does this shared-mapping fault go through ->page_mkwrite() or ->pfn_mkwrite()? */
static __always_inline bool cowstat_wp_shared_calls_mkwrite(struct vm_area_struct *vma, pte_t pte)
{
	const struct vm_operations_struct *ops = vma->vm_ops;
	unsigned long pfn = pte_pfn(pte);

	if (!ops)
		return false;
	if (pte_special(pte) || !pfn_valid(pfn) || (vma->vm_flags & VM_PFNMAP))
		return ops->pfn_mkwrite;
	return ops->page_mkwrite;
}

/* The class of the fault at do_wp_page() entry, when it is settled, and its region. */
static __always_inline enum cowstat_class
cowstat_classify_wp(struct vm_fault *vmf, enum cowstat_wp_when *when, enum cowstat_region *region)
{
	struct vm_area_struct *vma = vmf->vma;
	bool unshare = vmf->flags & FAULT_FLAG_UNSHARE;

	/*
	 * A userfaultfd write-protected pte: in the usual (sync) mode the fault goes to user
	 * space and nothing is copied or reused now; in async mode (6.7+, UFFD_FEATURE_WP_ASYNC)
	 * do_wp_page() clears the bit and goes on as below. Which mode is private to
	 * fs/userfaultfd.c, so such a fault is counted only where the copy or the reuse happens.
	 */
	pte_t pte = vmf->orig_pte;
	bool uffd = !unshare && userfaultfd_pte_wp(vma, pte);
	enum cowstat_class class;

	*region = cowstat_region_of(vma->vm_mm, vma);
	if (vma->vm_flags & (VM_SHARED | VM_MAYSHARE)) {
		/* A shared mapping's async uffd-wp write is not counted (Documentation). */
		if (uffd)
			*when = COWSTAT_WP_NEVER;
		else
			*when = cowstat_wp_shared_calls_mkwrite(vma, pte) ? COWSTAT_WP_AT_MKWRITE :
									    COWSTAT_WP_NOW;
		return COWSTAT_SHARED;
	}

	class = cowstat_classify_pte(vma, pte);
	if (class != COWSTAT_COPY) {
		/*
		 * The zero page, a file page, a special pfn: always copied. An unshare (a
		 * long-term read-only pin) copies them too; a KSM page stays a KSM copy.
		 */
		*when = COWSTAT_WP_AT_COPY;
		return unshare && class != COWSTAT_KSM ? COWSTAT_UNSHARE : class;
	}
	if (!uffd && PageAnonExclusive(pfn_to_page(pte_pfn(pte)))) {
		/* Reused in place; an unshare of an exclusive page has nothing to do. */
		*when = COWSTAT_WP_NOW;
		return unshare ? COWSTAT_OTHER : COWSTAT_REUSE;
	}
	*when = COWSTAT_WP_AT_REUSE_OR_COPY;
	return unshare ? COWSTAT_UNSHARE : COWSTAT_COPY;
}

#endif /* _COWSTAT_CLASSIFY_H */
