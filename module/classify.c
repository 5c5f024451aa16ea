// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: what a write-protect fault is, decided from the fault's own state, and where in the
 * address space it happened. Called from probe handlers: no locks, no sleeping, constant work.
 *
 * At do_wp_page() entry, on 6.1 and 6.12 alike, the page table lock is held and vmf->orig_pte
 * maps the page being written, so the page cannot be unmapped while we look at it. The kernel
 * then decides between copying and reusing an anonymous page that is not marked exclusive
 * (refcount check under the folio lock); that outcome is known only when it calls
 * wp_page_reuse(), which probe.c watches (*resolve_at_return).
 */
#include <linux/mm.h>
#include <linux/page-flags.h>
#include <linux/pgtable.h>

#include "cowstat.h"

enum cowstat_class cowstat_classify_wp(struct vm_fault *vmf, bool *resolve_at_return)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long pfn;
	struct folio *folio;
	struct page *page;
	pte_t pte = vmf->orig_pte;

	*resolve_at_return = false;
	if (vma->vm_flags & (VM_SHARED | VM_MAYSHARE))
		return COWSTAT_SHARED;

	pfn = pte_pfn(pte);
	if (is_zero_pfn(pfn))
		/* An unshare of the zero page has nothing to do. */
		return vmf->flags & FAULT_FLAG_UNSHARE ? COWSTAT_OTHER : COWSTAT_ZERO;
	if (pte_special(pte) || !pfn_valid(pfn))
		return COWSTAT_OTHER;

	page = pfn_to_page(pfn);
	folio = page_folio(page);
	if (!folio_test_anon(folio))
		return vmf->flags & FAULT_FLAG_UNSHARE ? COWSTAT_OTHER : COWSTAT_FILE;
	if (folio_test_ksm(folio))
		return COWSTAT_KSM;
	if (vmf->flags & FAULT_FLAG_UNSHARE)
		return COWSTAT_UNSHARE;
	if (PageAnonExclusive(page))
		return COWSTAT_REUSE;
	*resolve_at_return = true;
	return COWSTAT_COPY;
}

/* Region classes follow /proc/PID/maps: [heap] and [stack] as it names them. */
enum cowstat_region cowstat_region_of(struct mm_struct *mm, struct vm_area_struct *vma)
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
