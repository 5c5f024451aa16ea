// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: walk the copy-on-write mappings and page tables of one mm and classify every
 * resident page (see "snapshot" in Documentation/cowstat.rst for the counting rules).
 *
 * Only exported or inline kernel interfaces are used: walk_page_range() and
 * pmd_trans_huge_lock() are not exported, so the page table levels are walked by hand the way
 * mm/pagewalk.c and fs/proc/task_mmu.c (smaps) do. Kernel differences live in compat.h.
 *
 * Locking: the mmap read lock of the target mm (taken killable) keeps the VMA tree stable;
 * the pte lock or pmd lock keeps one page table stable while its entries are read. The mmap
 * lock is held for one chunk at most (share.c: at most 16 page tables, 32 MiB) and
 * COWSTAT_WALK_VMAS VMAs, plus one bounded look ahead (cowstat_next_populated()); then it is
 * dropped, the CPU is yielded, and the walk resumes from the first address not yet walked,
 * looking the VMA up again: whatever was unmapped, split or merged in between is simply seen
 * as it is now.
 */
#include <linux/bitops.h>
#include <linux/hugetlb_inline.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

#include "classify.h"
#include "compat.h"
#include "snapshot.h"

/* Most VMAs walked in one hold of the mmap lock. */
#define COWSTAT_WALK_VMAS	256

/*
 * Most page table entries (all levels) read by one look ahead: as many as the ptes of the
 * largest chunk, so that it holds the mmap lock no longer than walking a chunk does. Skipping
 * an untouched 64 GiB mapping reads about 64 pud entries, a 1 TiB one about 1024 (fewer where
 * whole pgd entries are empty).
 */
#define COWSTAT_SCAN_ENTRIES	(16 * PTRS_PER_PTE)

struct cowstat_walk {
	struct cowstat_snap *snap;
	struct cowstat_member *m;
	struct cowstat_frame *slots;	/* this member's slots of the chunk */
	unsigned long *present;		/* and their bitmap */
	struct vm_area_struct *vma;
	u16 member;
	u8 region;
	u8 flags;	/* COWSTAT_FRAME_FILE_VMA or 0 */
};

/* COW mappings only; hugetlb and PFN/mixed/IO mappings have no struct page we can classify. */
static bool cowstat_vma_walkable(struct vm_area_struct *vma)
{
	return cowstat_vma_is_cow(vma) &&
	       !(vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP | VM_IO)) &&
	       !is_vm_hugetlb_page(vma);
}

/* Counts of one page table (or huge pmd), added to the member's counters once. */
struct cowstat_tally {
	unsigned long shared, exclusive, zero, file_uncopied, ksm, swap, thp, thp_shared;
};

static void cowstat_add_tally(const struct cowstat_walk *w, struct cowstat_tally t)
{
	u64 *c = w->m->count[w->region];
	unsigned long anon = t.shared + t.exclusive;

	c[COWSTAT_C_ANON] += anon;
	c[COWSTAT_C_SHARED] += t.shared;
	c[COWSTAT_C_EXCLUSIVE] += t.exclusive;
	c[COWSTAT_C_ZERO] += t.zero;
	c[COWSTAT_C_FILE_UNCOPIED] += t.file_uncopied;
	c[COWSTAT_C_KSM] += t.ksm;
	c[COWSTAT_C_SWAP] += t.swap;
	c[COWSTAT_C_THP] += t.thp;
	c[COWSTAT_C_THP_SHARED] += t.thp_shared;
	if (w->flags & COWSTAT_FRAME_FILE_VMA)
		c[COWSTAT_C_FILE_COPIED] += anon;
}

/*
 * Classify the ptes of [addr, end), inside one pte table; call with its pte lock held.
 *
 * An anonymous page mapped once in the whole system (mapcount 1) is the member's alone: it
 * is counted as exclusive, and share.c counts it as a distinct frame of its own (and in
 * the matrix diagonal), with nothing to compare. Only the pages mapped more often go into
 * the member's slot for their address, to be grouped with the other members' mappings.
 * Everything per pte stays in locals: the counts are added once per table, the slot bits
 * once per bitmap word.
 *
 * pfn_valid() is asked once per memory subsection (2 MiB of physical memory, the unit of
 * the memmap): a pte seen under this pte lock keeps its page, so its subsection, from being
 * hot-removed, and every pfn of a subsection has a struct page if one has.
 */
static void cowstat_walk_ptes(struct cowstat_walk *w, pte_t *ptep, unsigned long addr,
			      unsigned long end)
{
	const struct cowstat_frame tmpl = {
		.member = w->member,
		.region = w->region,
		.flags = w->flags,
	};
	unsigned long first = (addr - w->snap->chunk_base) >> PAGE_SHIFT;
	unsigned long last = first + ((end - addr) >> PAGE_SHIFT);
	unsigned long shared = 0, exclusive = 0, zero = 0, file = 0, ksm = 0, swap = 0;
	struct cowstat_frame *slots = w->slots;
	unsigned long *present = w->present;
	unsigned long valid_sub = ULONG_MAX;
	unsigned long idx = first, stop, bits;

	while (idx < last) {
		stop = min(last, round_down(idx, BITS_PER_LONG) + BITS_PER_LONG);
		bits = 0;
		for (; idx < stop; idx++) {
			pte_t pte = ptep_get(ptep + (idx - first));
			struct folio *folio;
			struct page *page;
			unsigned long pfn;
			int mapcount;

			if (pte_none(pte))
				continue;
			if (!pte_present(pte)) {
				swap += cowstat_pte_is_swap(pte);
				continue;
			}
			pfn = pte_pfn(pte);
			if (is_zero_pfn(pfn)) {
				zero++;
				continue;
			}
			if (pte_special(pte))
				continue;
			if (pfn >> PFN_SUBSECTION_SHIFT != valid_sub) {
				if (!pfn_valid(pfn))
					continue;
				valid_sub = pfn >> PFN_SUBSECTION_SHIFT;
			}
			page = pfn_to_page(pfn);
			folio = page_folio(page);
			if (!folio_test_anon(folio)) {
				file++;
				continue;
			}
			if (folio_test_ksm(folio)) {
				ksm++;
				continue;
			}
			mapcount = cowstat_page_mapcount(page, folio);
			if (mapcount <= 1) {
				exclusive++;
				continue;
			}
			shared++;
			slots[idx] = tmpl;
			slots[idx].pfn = pfn;
			slots[idx].mapcount = mapcount;
			bits |= BIT_MASK(idx);
		}
		if (bits)
			present[BIT_WORD(idx - 1)] |= bits;
	}
	cowstat_add_tally(w, (struct cowstat_tally) {
		.shared = shared, .exclusive = exclusive, .zero = zero,
		.file_uncopied = file, .ksm = ksm, .swap = swap,
	});
}

/* A PMD-mapped huge page; call with the pmd lock held. [addr, end) lies inside the pmd. */
static void cowstat_walk_huge_pmd(struct cowstat_walk *w, pmd_t pmd, unsigned long addr,
				  unsigned long end)
{
	unsigned long first = (addr & ~PMD_MASK) >> PAGE_SHIFT;
	unsigned long nr = (end - addr) >> PAGE_SHIFT;
	unsigned long idx = (addr - w->snap->chunk_base) >> PAGE_SHIFT;
	struct page *head = pmd_page(pmd);
	struct folio *folio = page_folio(head);
	struct cowstat_tally t = { };
	unsigned long i;
	int mapcount;

	if (!folio_test_anon(folio)) {
		/*
		 * is_huge_zero_pmd() cannot be linked (huge_zero_pfn is not exported), but a
		 * non-anonymous PMD in an anonymous VMA can only be the huge zero page.
		 */
		if (vma_is_anonymous(w->vma))
			t.zero = nr;
		else
			t.file_uncopied = nr;
		cowstat_add_tally(w, t);
		return;
	}
	/* Subpages can be mapped by ptes elsewhere too: each has its own mapcount. */
	for (i = 0; i < nr; i++, idx++) {
		mapcount = cowstat_page_mapcount(cowstat_nth_page(head, first + i), folio);
		if (mapcount <= 1) {
			t.exclusive++;
			continue;
		}
		t.shared++;
		w->slots[idx] = (struct cowstat_frame) {
			.pfn = pmd_pfn(pmd) + first + i,
			.mapcount = mapcount,
			.member = w->member,
			.region = w->region,
			.flags = COWSTAT_FRAME_THP | w->flags,
		};
		__set_bit(idx, w->present);
	}
	t.thp = nr;
	t.thp_shared = t.shared;
	cowstat_add_tally(w, t);
}

/*
 * Read the pte table @pmd points to, for [addr, end). Returns false if @pmd does not point to
 * a pte table (any more): the caller reads it again.
 *
 * This is __pte_offset_map_lock() of 6.12 (mm/pgtable-generic.c) made of inline pieces, since
 * 6.12 does not export it. Since 6.5 khugepaged may free the pte table of a file VMA with only
 * the pmd lock held and RCU-deferred freeing: the RCU read lock keeps the table alive, and the
 * pmd is read again under the pte lock to be sure the table is still in use. On 6.1 the same
 * sequence is correct too (there, under mmap_read_lock, the recheck cannot fail).
 */
static bool cowstat_walk_pte_table(struct cowstat_walk *w, pmd_t *pmd, unsigned long addr,
				   unsigned long end)
{
	spinlock_t *ptl;	/* the lock of the pte table pmdval points to */
	bool walked = false;
	pmd_t pmdval;
	pte_t *pte;

	rcu_read_lock();
	pmdval = cowstat_pmdp_get(pmd);
	if (pmd_none(pmdval) || !pmd_present(pmdval) || pmd_trans_huge(pmdval) ||
	    cowstat_pmd_devmap(pmdval) || pmd_bad(pmdval))
		goto out;
	pte = pte_offset_kernel(&pmdval, addr);
	ptl = pte_lockptr(w->vma->vm_mm, &pmdval);
	spin_lock(ptl);
	if (pmd_same(pmdval, cowstat_pmdp_get(pmd))) {
		cowstat_walk_ptes(w, pte, addr, end);
		walked = true;
	}
	spin_unlock(ptl);
out:
	rcu_read_unlock();
	return walked;
}

static void cowstat_walk_pmd_range(struct cowstat_walk *w, pud_t *pud, unsigned long addr,
				   unsigned long end)
{
	struct mm_struct *mm = w->vma->vm_mm;
	unsigned long next;
	spinlock_t *ptl;	/* the pmd lock */
	pmd_t *pmd;
	pmd_t val;

	pmd = pmd_offset(pud, addr);
	do {
		next = pmd_addr_end(addr, end);
again:
		val = cowstat_pmdp_get(pmd);
		if (pmd_none(val))
			continue;
		if (pmd_trans_huge(val) || cowstat_pmd_devmap(val)) {
			ptl = pmd_lock(mm, pmd);
			val = *pmd;
			/* A THP migration entry is not counted (and has no pmd_page()). */
			if (!pmd_present(val)) {
				spin_unlock(ptl);
				continue;
			}
			if (pmd_trans_huge(val) || cowstat_pmd_devmap(val)) {
				cowstat_walk_huge_pmd(w, val, addr, next);
				spin_unlock(ptl);
				continue;
			}
			/* Split or zapped meanwhile: look again. */
			spin_unlock(ptl);
			goto again;
		}
		/* A THP migration entry, or a corrupt pmd (the kernel reports those itself). */
		if (!pmd_present(val) || pmd_bad(val))
			continue;
		if (!cowstat_walk_pte_table(w, pmd, addr, next))
			goto again;
	} while (pmd++, addr = next, addr != end);
}

/* Call with the mmap read lock held; [addr, end) lies inside w->vma. */
static void cowstat_walk_range(struct cowstat_walk *w, unsigned long addr, unsigned long end)
{
	unsigned long pgd_next, p4d_next, pud_next;
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;

	pgd = pgd_offset(w->vma->vm_mm, addr);
	do {
		pgd_next = pgd_addr_end(addr, end);
		if (pgd_none(*pgd) || pgd_bad(*pgd))
			continue;
		p4d = p4d_offset(pgd, addr);
		do {
			p4d_next = p4d_addr_end(addr, pgd_next);
			if (p4d_none(*p4d) || p4d_bad(*p4d))
				continue;
			pud = pud_offset(p4d, addr);
			do {
				pud_next = pud_addr_end(addr, p4d_next);
				/* pud_bad() is also true for a huge pud; anon memory has none. */
				if (pud_none(*pud) || pud_bad(*pud))
					continue;
				cowstat_walk_pmd_range(w, pud, addr, pud_next);
			} while (pud++, addr = pud_next, addr != p4d_next);
		} while (p4d++, addr = p4d_next, addr != pgd_next);
	} while (pgd++, addr = pgd_next, addr != end);
}

/* Take one entry of the look ahead's budget; false when it is spent. */
static bool cowstat_scan_take(unsigned int *budget)
{
	if (!*budget)
		return false;
	(*budget)--;
	return true;
}

/*
 * The first address in [addr, end) whose pmd entry is not none, skipping empty ranges at the
 * highest level that is empty (pgd, p4d, pud, then pmd). The levels the walk skips (bad
 * entries, a huge pud) are skipped too. @end if there is none; if the budget runs out first,
 * the address reached. Only the entries are read, never a pte table: pmd, pud and p4d tables
 * are freed by free_pgtables() only over address space whose VMAs are out of the tree (6.12
 * munmap takes them out, downgrades to the read lock, then frees; mm/vma.c), and this reads
 * only inside VMAs found under the read lock, while pte tables may go under the read lock
 * (khugepaged, since 6.5). An entry filled or cleared while it is read is a fault or zap
 * racing with the snapshot, as anywhere else in the walk.
 */
static unsigned long cowstat_scan_range(struct mm_struct *mm, unsigned long addr,
					unsigned long end, unsigned int *budget)
{
	unsigned long pgd_next, p4d_next, pud_next, pmd_next;
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;

	pgd = pgd_offset(mm, addr);
	do {
		pgd_next = pgd_addr_end(addr, end);
		if (!cowstat_scan_take(budget))
			return addr;
		if (pgd_none(*pgd) || pgd_bad(*pgd))
			continue;
		p4d = p4d_offset(pgd, addr);
		do {
			p4d_next = p4d_addr_end(addr, pgd_next);
			if (!cowstat_scan_take(budget))
				return addr;
			if (p4d_none(*p4d) || p4d_bad(*p4d))
				continue;
			pud = pud_offset(p4d, addr);
			do {
				pud_next = pud_addr_end(addr, p4d_next);
				if (!cowstat_scan_take(budget))
					return addr;
				if (pud_none(*pud) || pud_bad(*pud))
					continue;
				pmd = pmd_offset(pud, addr);
				do {
					pmd_next = pmd_addr_end(addr, pud_next);
					if (!cowstat_scan_take(budget))
						return addr;
					if (!pmd_none(cowstat_pmdp_get(pmd)))
						return addr;
				} while (pmd++, addr = pmd_next, addr != pud_next);
			} while (pud++, addr = pud_next, addr != p4d_next);
		} while (p4d++, addr = p4d_next, addr != pgd_next);
	} while (pgd++, addr = pgd_next, addr != end);
	return end;
}

/*
 * The first address in [from, limit) where the walk may find something in @mm: a pmd entry
 * that is not none inside a walkable VMA. ULONG_MAX if there is none. Bounded by
 * COWSTAT_SCAN_ENTRIES entries and COWSTAT_WALK_VMAS VMAs: when that is spent, the address it
 * got to, from which the caller asks again later. Call with the mmap read lock held.
 */
static unsigned long cowstat_next_populated(struct mm_struct *mm, unsigned long from,
					    unsigned long limit)
{
	VMA_ITERATOR(vmi, mm, from);
	unsigned int budget = COWSTAT_SCAN_ENTRIES, nr_vmas = 0;
	struct vm_area_struct *vma;
	unsigned long s, e, found;

	for_each_vma_range(vmi, vma, limit) {
		s = max(from, vma->vm_start);
		if (++nr_vmas > COWSTAT_WALK_VMAS)
			return s;
		if (!cowstat_vma_walkable(vma))
			continue;
		e = min(vma->vm_end, limit);
		found = cowstat_scan_range(mm, s, e, &budget);
		if (found < e || !budget)
			return found;
	}
	return ULONG_MAX;
}

/*
 * Walk one member's mm over [addr, end), a part of the current chunk, into the member's
 * slots and counters. The caller cleared the member's bitmap. *next is set to the first
 * address at or after @end (before the snapshot's end) where the member has page tables in a
 * walkable VMA, or ULONG_MAX if none: the caller does not walk the member again before it,
 * and skips address space where no member has any. Sleeps; returns 0 or -EINTR.
 */
int cowstat_walk_chunk(struct cowstat_snap *snap, unsigned int member, unsigned long addr,
		       unsigned long end, unsigned long *next)
{
	struct cowstat_walk w = {
		.snap = snap,
		.m = &snap->members[member],
		.slots = snap->slots + (size_t)member * snap->chunk_pages,
		.present = snap->present + member * BITS_TO_LONGS(snap->chunk_pages),
		.member = member,
	};
	struct mm_struct *mm = w.m->mm;
	struct vm_area_struct *vma;

	*next = ULONG_MAX;
	while (addr < end) {
		unsigned int nr_vmas = 0;
		unsigned long resume = end, s, e;

		if (fatal_signal_pending(current))
			return -EINTR;
		if (mmap_read_lock_killable(mm))
			return -EINTR;
		{
			VMA_ITERATOR(vmi, mm, addr);

			for_each_vma_range(vmi, vma, end) {
				s = max(addr, vma->vm_start);
				e = min(vma->vm_end, end);
				if (cowstat_vma_walkable(vma)) {
					w.vma = vma;
					w.region = cowstat_region_of(vma->vm_mm, vma);
					w.flags = vma->vm_file ? COWSTAT_FRAME_FILE_VMA : 0;
					cowstat_walk_range(&w, s, e);
				}
				if (++nr_vmas >= COWSTAT_WALK_VMAS && e < end) {
					resume = e;
					break;
				}
			}
		}
		if (resume >= end && end < snap->end)
			*next = cowstat_next_populated(mm, end, snap->end);
		mmap_read_unlock(mm);
		addr = resume;
		cond_resched();
	}
	return 0;
}
