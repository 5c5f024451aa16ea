/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowstat: every difference between the target kernels (Debian 6.1, 6.12 and 7.x) that the
 * page table walker and the probes meet, as small inline wrappers. No other file tests
 * LINUX_VERSION_CODE. Where a kernel symbol or config option tells the difference, that is
 * tested instead of a version. The facts behind each wrapper (what is exported, what is
 * inline) are in Documentation/kernels.rst.
 */
#ifndef _COWSTAT_COMPAT_H
#define _COWSTAT_COMPAT_H

#include <linux/version.h>
#include <linux/ftrace.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/pgtable.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
/* 6.x defines the dumpability values as SUID_DUMP_*; 7.3 has enum task_dumpable instead. */
#ifndef SUID_DUMP_USER
#include <linux/sched/exec_state.h>
#define COWSTAT_HAVE_EXEC_STATE
#endif

/*
 * 7.x can be built without per-page mapcounts (CONFIG_NO_PAGE_MAPCOUNT): the snapshot could
 * not tell a shared page of a large folio from an exclusive one. Debian builds with
 * CONFIG_PAGE_MAPCOUNT=y; refuse to build rather than report wrong figures.
 */
#ifdef CONFIG_NO_PAGE_MAPCOUNT
#error "cowstat needs per-page mapcounts: this kernel has CONFIG_NO_PAGE_MAPCOUNT=y"
#endif

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

/*
 * Is @vma a private writable mapping, where writes break COW? 7.x keeps VMA flags in a
 * vma_flags_t and names the test vma_is_cow_mapping(); 6.x tests vm_flags with
 * is_cow_mapping(). (Renamed between 6.12 and 7.3, the two lines checked.)
 */
static inline bool cowstat_vma_is_cow(struct vm_area_struct *vma)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 0, 0)
	return vma_is_cow_mapping(vma);
#else
	return is_cow_mapping(vma->vm_flags);
#endif
}

/*
 * Page @n after @page in one folio. 6.x has nth_page() (a macro), for memory models where the
 * struct pages of a folio need not be contiguous; 7.x guarantees they are and removed it.
 */
#ifdef nth_page
#define cowstat_nth_page(page, n)	nth_page(page, n)
#else
#define cowstat_nth_page(page, n)	((page) + (n))
#endif

/*
 * A pmd mapping ZONE_DEVICE memory (DAX) as a huge entry of its own kind. 7.x removed the
 * devmap bit (CONFIG_ARCH_HAS_PTE_DEVMAP is gone): such pmds are ordinary huge pmds there.
 */
static inline bool cowstat_pmd_devmap(pmd_t pmd)
{
#ifdef CONFIG_ARCH_HAS_PTE_DEVMAP
	return pmd_devmap(pmd);
#else
	return false;
#endif
}

/*
 * Is @task's address space dumpable by its owner, as __ptrace_may_access() asks? If not, *ns
 * is the user namespace it was made in, over which CAP_SYS_PTRACE still lets one in. Call
 * with task_lock(@task) held, under rcu_read_lock(). 6.x keeps both in the mm (get_dumpable(),
 * mm->user_ns); 7.3 moved them to task->exec_state (RCU-protected), whose accessor
 * task_exec_state_rcu() is not exported: this reads it as 7.3's ptrace.c does.
 */
static inline bool cowstat_dumpable(struct task_struct *task, struct user_namespace **ns)
{
#ifdef COWSTAT_HAVE_EXEC_STATE
	struct task_exec_state *es;

	if (!task->mm)
		return true;
	es = rcu_dereference(task->exec_state);
	if (!es || READ_ONCE(es->dumpable) == TASK_DUMPABLE_OWNER)
		return true;
	*ns = es->user_ns;
	return false;
#else
	struct mm_struct *mm = task->mm;

	if (!mm || get_dumpable(mm) == SUID_DUMP_USER)
		return true;
	*ns = mm->user_ns;
	return false;
#endif
}

/*
 * The parameters of the sched_process_exit tracepoint's probes after @data (the task is
 * @p): 7.3 passes bool group_dead too (TP_PROTO(p, group_dead)); 6.x passes only the task.
 * Added between 6.12 and 7.3, the two lines checked.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 0, 0)
#define COWSTAT_TP_EXIT_PROTO	struct task_struct *p, bool group_dead
#else
#define COWSTAT_TP_EXIT_PROTO	struct task_struct *p
#endif

/*
 * Is the non-present, non-none @pte a page of the process kept elsewhere: a swap entry (the
 * page swapped out) or a migration entry (the page being moved)? Not for the other kinds,
 * which the snapshot counts nowhere: pte markers (a userfaultfd write-protect marker on a
 * page never populated, UFFDIO_POISON, MADV_GUARD_INSTALL), device-private and
 * device-exclusive entries, hardware-poisoned pages. 7.x classifies entries with the softleaf
 * API of linux/leafops.h, which its linux/mm_inline.h includes (so _LINUX_LEAFOPS_H tells);
 * 6.x decodes a swp_entry_t, whose type is a swap file's below MAX_SWAPFILES.
 */
static inline bool cowstat_pte_is_swap(pte_t pte)
{
#ifdef _LINUX_LEAFOPS_H
	softleaf_t entry = softleaf_from_pte(pte);

	return softleaf_is_swap(entry) || softleaf_is_migration(entry);
#else
	swp_entry_t entry = pte_to_swp_entry(pte);

	return !non_swap_entry(entry) || is_migration_entry(entry);
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

/*
 * The task whose process owns @mm, to which its faults are counted (not always current: an
 * unshare fault runs in the task that pins the page). mm->owner exists only with
 * CONFIG_MEMCG, as every target kernel is built; without it, current if @mm is its own.
 * Call under rcu_read_lock() or with preemption disabled.
 */
static __always_inline struct task_struct *cowstat_mm_owner(struct mm_struct *mm)
{
#ifdef CONFIG_MEMCG
	return rcu_dereference_check(mm->owner, rcu_read_lock_any_held());
#else
	return current->mm == mm ? current : NULL;
#endif
}

#endif /* _COWSTAT_COMPAT_H */
