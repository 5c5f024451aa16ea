// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: the probes on the fault path.
 *
 * A write-protect fault is counted where the kernel settles it, never at do_wp_page()'s
 * return: return probes cost more than everything else together, and a fault the kernel
 * retries (VM_FAULT_RETRY, e.g. 6.12's per-VMA-lock faults that need an anon_vma) never gets
 * that far, so each user-visible fault is counted once. One ftrace_ops callback
 * (Documentation/trace/ftrace-uses.rst) traces four functions that start with an fentry call;
 * their addresses come from kprobes that are registered disabled, only to resolve the names.
 * The two that settle copies and reuses, ptep_clear_flush() and ptep_set_access_flags(), are
 * defined outside mm/memory.c (mm/pgtable-generic.c, arch/x86/mm/pgtable.c), so no build
 * can inline them into the fault path, whatever it does with memory.c's own static functions:
 *
 *  - do_wp_page: classify (classify.h). A shared-mapping write without ->page_mkwrite(), a
 *    reuse of a page marked exclusive, an unshare that needs nothing: counted here.
 *  - ptep_clear_flush, called from the copy path (wp_page_copy(), inlined into do_wp_page()
 *    on 6.12): the copy replaces the old pte, which is still the pte the fault started from
 *    (the kernel checked pte_same() under the page table lock), so its class is read again
 *    from it. Copies of the zero page, of file and KSM pages, and of anonymous pages.
 *  - ptep_set_access_flags, called from wp_page_reuse(): the kernel reuses an anonymous page
 *    it had to check, small or (7.x) a page of a large folio it found exclusive to this mm.
 *    The page table lock is held from do_wp_page() entry to that call, so the task cannot
 *    leave the CPU in between: a per-CPU slot naming the task and its fault (mm, address and
 *    the very pte) connects the two, and tells this call from the function's other callers.
 *    An unshare that finds the page its own after all (its sharer exited) returns before
 *    wp_page_reuse(): it copies nothing, changes nothing, and is not counted.
 *  - finish_fault: the first write to a MAP_PRIVATE file page that was not mapped yet never
 *    reaches do_wp_page(); do_cow_fault() copies the page, then installs it through
 *    finish_fault(), at whose entry the copy is counted.
 *
 * do_wp_page and ptep_clear_flush are needed to count anything; a kernel without one of the
 * others loads, says at load time which faults it cannot see, and the summary file says it
 * again (probe_<function> 0), so that no class reads 0 for lack of a probe.
 *
 * An unshare (FAULT_FLAG_UNSHARE) that copies looks like any copy at ptep_clear_flush(), and
 * the task may have slept and moved to another CPU in between: such faults, rare, wait in a
 * small table of pending unshares, looked up only while it is not empty.
 *
 * Two return probes (kretprobes) remain, off the 4 KiB COW path:
 *  - do_huge_pmd_wp_page: PMD-mapped THP reused whole, or split (VM_FAULT_FALLBACK; a 4 KiB
 *    do_wp_page() fault follows and is counted on its own), or (7.x) the huge zero page
 *    replaced whole by a new THP.
 *  - finish_mkwrite_fault: a shared-mapping write whose ->page_mkwrite() succeeded, counted
 *    only if it made the pte writable (not when another thread's write did first).
 *
 * Handlers run with preemption disabled and never sleep, allocate only with GFP_NOWAIT (a
 * process's first record), and take no lock but the table's and, for unshares, the pending
 * table's.
 */
#include <linux/ftrace.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/trace_recursion.h>

#include "classify.h"
#include "compat.h"
#include "cowstat.h"
#include "cowstat_trace.h"

static int maxactive = 256;
module_param(maxactive, int, 0444);
MODULE_PARM_DESC(maxactive, "faults each return probe can track at once (missed beyond that)");

/*
 * One fault to count. For the return probes, taken at entry while the fault still holds its
 * locks: after a fault returns VM_FAULT_COMPLETED or VM_FAULT_RETRY the VMA may be gone. The
 * mm stays: the faulting task (or a GUP caller, for a remote mm) holds a reference until the
 * fault returns.
 */
struct cowstat_fault {
	struct mm_struct *mm;
	struct vm_area_struct *vma;	/* for the trace event; valid unless the fault retries */
	unsigned long addr;
	enum cowstat_class class;
	enum cowstat_region region;
};

/*
 * The do_wp_page() last entered on this CPU, if its count waits for the kernel to copy or
 * reuse the page. @busy guards the callbacks that run under the page table lock (preemption
 * disabled) against recursion, for less than ftrace_test_recursion_trylock() costs.
 */
struct cowstat_wp_slot {
	struct task_struct *task;
	struct cowstat_fault f;		/* f.mm NULL: nothing waits */
	pte_t pte;			/* vmf->orig_pte */
	enum cowstat_wp_when when;
	bool busy;
};

static DEFINE_PER_CPU(struct cowstat_wp_slot, cowstat_wp_slot);

/*
 * Unshares that may copy, from do_wp_page() entry to ptep_clear_flush(). A task has at most
 * one fault in flight, so its next do_wp_page() drops what it left (a copy that lost a race).
 * When the table is full the oldest entry goes, and that copy is counted as copy.
 */
#define COWSTAT_NR_PENDING	16

struct cowstat_pending {
	struct task_struct *task;	/* NULL: free; read locklessly by its own task */
	struct mm_struct *mm;
	unsigned long addr;
	unsigned long seq;		/* order of insertion, to drop the oldest */
};

static DEFINE_RAW_SPINLOCK(cowstat_pending_lock);	/* protects the three below */
static struct cowstat_pending cowstat_pending[COWSTAT_NR_PENDING];
static unsigned long cowstat_pending_seq;
static int cowstat_nr_pending;				/* read locklessly as a hint */

/* Where the fault path calls the functions we trace: [start, start + size). */
struct cowstat_text {
	unsigned long start;
	unsigned long size;
};

/*
 * Where the copy path calls ptep_clear_flush(): wp_page_copy's code, under its name or a name
 * gcc gives a specialised copy of it, or do_wp_page's where wp_page_copy is inlined into it.
 */
static struct cowstat_text cowstat_copy_text;

static bool in_text(const struct cowstat_text *t, unsigned long ip)
{
	return ip - t->start < t->size;
}

/* Fill @f from @vmf if its mm is tracked; false to leave the return probe unarmed. */
static bool fault_start(struct cowstat_fault *f, struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;

	if (!cowstat_mm_in_scope(vma->vm_mm))
		return false;
	f->mm = vma->vm_mm;
	f->vma = vma;
	f->addr = vmf->address;
	f->region = cowstat_region_of(vma->vm_mm, vma);
	return true;
}

/*
 * The fault is over: nothing to count if the kernel will retry it (the retry is counted).
 * The return probes' functions do not return VM_FAULT_RETRY on 6.12 (Debian's source
 * read); the test costs nothing and keeps a kernel that does from counting a fault twice.
 */
static __always_inline void fault_end(struct cowstat_fault *f, vm_fault_t ret,
				      enum cowstat_class class)
{
	if (ret & VM_FAULT_RETRY)
		return;
	cowstat_count(f->mm, f->region, f->addr, class);
	if (trace_cow_fault_enabled())
		cowstat_trace_fault(f->mm, ret & VM_FAULT_COMPLETED ? NULL : f->vma, f->addr,
				    class, f->region);
}

/* Forget what @task left pending. Call with cowstat_pending_lock held. */
static void pending_drop_task(struct task_struct *task)
{
	int i;

	lockdep_assert_held(&cowstat_pending_lock);
	for (i = 0; i < COWSTAT_NR_PENDING; i++) {
		if (cowstat_pending[i].task == task) {
			WRITE_ONCE(cowstat_pending[i].task, NULL);
			WRITE_ONCE(cowstat_nr_pending, cowstat_nr_pending - 1);
		}
	}
}

static void pending_add(struct mm_struct *mm, unsigned long addr)
{
	struct cowstat_pending *p = NULL;
	unsigned long flags;
	int i;

	raw_spin_lock_irqsave(&cowstat_pending_lock, flags);
	pending_drop_task(current);
	for (i = 0; i < COWSTAT_NR_PENDING; i++) {
		struct cowstat_pending *q = &cowstat_pending[i];

		if (!q->task) {
			p = q;
			break;
		}
		if (!p || q->seq < p->seq)
			p = q;
	}
	if (!p->task)
		WRITE_ONCE(cowstat_nr_pending, cowstat_nr_pending + 1);
	WRITE_ONCE(p->task, current);
	p->mm = mm;
	p->addr = addr;
	p->seq = ++cowstat_pending_seq;
	raw_spin_unlock_irqrestore(&cowstat_pending_lock, flags);
}

/*
 * Has current an entry? Only current adds entries for current, so it sees its own without the
 * lock: while other tasks' entries wait (an unshare that kept its page, a copy that failed),
 * the faults of every other task do not take the lock.
 */
static bool pending_has_current(void)
{
	int i;

	for (i = 0; i < COWSTAT_NR_PENDING; i++)
		if (READ_ONCE(cowstat_pending[i].task) == current)
			return true;
	return false;
}

/* Was the fault of current at @addr in @mm a pending unshare? Takes it off the table. */
static bool pending_take(struct mm_struct *mm, unsigned long addr)
{
	unsigned long flags;
	bool found = false;
	int i;

	if (!pending_has_current())
		return false;
	raw_spin_lock_irqsave(&cowstat_pending_lock, flags);
	for (i = 0; i < COWSTAT_NR_PENDING; i++) {
		struct cowstat_pending *p = &cowstat_pending[i];

		if (p->task == current && p->mm == mm && p->addr == addr) {
			WRITE_ONCE(p->task, NULL);
			WRITE_ONCE(cowstat_nr_pending, cowstat_nr_pending - 1);
			found = true;
		}
	}
	raw_spin_unlock_irqrestore(&cowstat_pending_lock, flags);
	return found;
}

static void pending_forget_current(void)
{
	unsigned long flags;

	if (!pending_has_current())
		return;
	raw_spin_lock_irqsave(&cowstat_pending_lock, flags);
	pending_drop_task(current);
	raw_spin_unlock_irqrestore(&cowstat_pending_lock, flags);
}

/*
 * The ftrace callbacks. Ftrace does not protect them against recursion (no
 * FTRACE_OPS_FL_RECURSION, which would cost a wrapper). Three run under the page table lock,
 * so with preemption disabled (the target kernels are not PREEMPT_RT), and a per-CPU flag is
 * enough; finish_fault() runs preemptible and takes the ftrace trylock, which also disables
 * preemption. Nothing they call is traced by them, so a refusal, counted as missed, would
 * mean another tracer made it happen.
 */
/* One traced function, and the calls to it that a callback could not handle. */
struct cowstat_hook {
	const char *const *names;	/* the first that the kernel has is traced */
	const char *blind;		/* what goes uncounted without it; NULL: required */
	const char *name;
	unsigned long ip;		/* its fentry call, as ftrace reports it; 0: not traced */
	atomic_long_t missed;
};

static const char *const wp_names[] = { "do_wp_page", NULL };
static const char *const copy_names[] = { "ptep_clear_flush", NULL };
static const char *const access_names[] = { "ptep_set_access_flags", NULL };
static const char *const ff_names[] = { "finish_fault", NULL };

enum { HOOK_WP, HOOK_COPY, HOOK_ACCESS, HOOK_FF, NR_HOOKS };

static struct cowstat_hook cowstat_hooks[NR_HOOKS] = {
	[HOOK_WP] = { .names = wp_names },
	[HOOK_COPY] = { .names = copy_names },
	[HOOK_ACCESS] = { .names = access_names,
			  .blind = "reuse: pages the kernel had to check before reusing them" },
	[HOOK_FF] = { .names = ff_names,
		      .blind = "file: first writes to private file pages not mapped yet" },
};

/* This CPU's slot, marked busy; NULL if it already was (recursion). Page table lock held. */
static struct cowstat_wp_slot *slot_lock(struct cowstat_hook *h)
{
	struct cowstat_wp_slot *slot = this_cpu_ptr(&cowstat_wp_slot);

	if (unlikely(slot->busy)) {
		atomic_long_inc(&h->missed);
		return NULL;
	}
	slot->busy = true;
	barrier();
	return slot;
}

static void slot_unlock(struct cowstat_wp_slot *slot)
{
	barrier();
	slot->busy = false;
}

/*
 * do_wp_page(vmf): page table lock held, vmf->orig_pte is the pte written to. The slot is the
 * fault's record until it is counted (no locals whose address is taken: with the target
 * kernels' stack protector and zeroed automatic variables, those cost more than the rest).
 */
static void wp_entry(struct cowstat_hook *h, struct ftrace_regs *fregs)
{
	struct vm_fault *vmf = (struct vm_fault *)cowstat_ftrace_arg(fregs, 0);
	struct cowstat_wp_slot *slot;

	slot = slot_lock(h);
	if (!slot)
		return;
	/* Always overwrite: a stale slot must never outlive the next fault on this CPU. */
	slot->task = current;
	slot->f.mm = NULL;
	if (unlikely(READ_ONCE(cowstat_nr_pending)))
		pending_forget_current();

	slot->f.class = cowstat_classify_wp(vmf, &slot->when, &slot->f.region);
	slot->f.vma = vmf->vma;
	slot->f.addr = vmf->address;
	switch (slot->when) {
	case COWSTAT_WP_NOW:
		slot->f.mm = vmf->vma->vm_mm;
		fault_end(&slot->f, 0, slot->f.class);
		slot->f.mm = NULL;
		break;
	case COWSTAT_WP_AT_COPY:
	case COWSTAT_WP_AT_REUSE_OR_COPY:
		slot->f.mm = vmf->vma->vm_mm;
		slot->pte = vmf->orig_pte;
		if (slot->f.class == COWSTAT_UNSHARE)
			pending_add(slot->f.mm, slot->f.addr);
		break;
	default:
		break;
	}
	slot_unlock(slot);
}

/*
 * ptep_clear_flush(vma, addr, ptep) from the copy path: page table lock held, *ptep still maps
 * the page the fault started from (the same pte, or with an async uffd-wp bit cleared).
 * Usually the task did not leave the CPU since do_wp_page() entry and the slot has the fault;
 * if it did (the copy may sleep in allocation), the pte tells the class again and the pending
 * table tells an unshare.
 */
static void copy_installed(struct cowstat_hook *h, unsigned long parent_ip,
			   struct ftrace_regs *fregs)
{
	struct vm_area_struct *vma;
	struct cowstat_wp_slot *slot;
	unsigned long addr;
	pte_t pte;

	if (!in_text(&cowstat_copy_text, parent_ip))
		return;
	slot = slot_lock(h);
	if (!slot)
		return;
	vma = (struct vm_area_struct *)cowstat_ftrace_arg(fregs, 0);
	addr = cowstat_ftrace_arg(fregs, 1);
	pte = ptep_get((pte_t *)cowstat_ftrace_arg(fregs, 2));
	if (likely(slot->task == current && slot->f.mm == vma->vm_mm &&
		   slot->f.addr == addr && pte_pfn(slot->pte) == pte_pfn(pte))) {
		/*
		 * A slot a fault left unsettled (an unshare that kept its page, a copy that
		 * failed) can match a later fault of the same task that changed CPU: the pending
		 * table, which do_wp_page() entry keeps right for each task, says unshare or not.
		 */
		if (unlikely(slot->f.class == COWSTAT_UNSHARE)) {
			if (!pending_take(slot->f.mm, addr))
				slot->f.class = cowstat_classify_pte(vma, pte);
		} else if (unlikely(READ_ONCE(cowstat_nr_pending)) &&
			   slot->f.class != COWSTAT_KSM && pending_take(slot->f.mm, addr)) {
			slot->f.class = COWSTAT_UNSHARE;
		}
	} else {
		/* The slot is this CPU's to use: whatever it held is not this task's fault. */
		slot->task = current;
		slot->f.mm = vma->vm_mm;
		slot->f.addr = addr;
		slot->f.class = cowstat_classify_pte(vma, pte);
		slot->f.region = cowstat_region_of(vma->vm_mm, vma);
		if (unlikely(READ_ONCE(cowstat_nr_pending)) && slot->f.class != COWSTAT_KSM &&
		    pending_take(vma->vm_mm, addr))
			slot->f.class = COWSTAT_UNSHARE;
	}
	slot->f.vma = vma;
	fault_end(&slot->f, 0, slot->f.class);
	slot->f.mm = NULL;
	slot_unlock(slot);
}

/*
 * ptep_set_access_flags(vma, addr, ptep, entry, dirty): from wp_page_reuse() it makes the pte
 * the fault started from writable; it is the one sign of every reuse the kernel had to check,
 * of a small folio or (7.x) of a page of a large folio it found exclusive to this mm
 * (__wp_can_reuse_large_anon_folio(), which does not call folio_move_anon_rmap()). Its other
 * callers (spurious faults, GUP, NUMA hinting) are
 * no fault waiting in this CPU's slot: the slot must name this task, mm and address, wait for
 * a reuse or a copy, and the pte must still map its page (an async uffd-wp fault has cleared
 * the bit the slot's copy of it has). Page table lock held by every caller.
 */
static void pte_reused(struct cowstat_hook *h, struct ftrace_regs *fregs)
{
	struct vm_area_struct *vma = (struct vm_area_struct *)cowstat_ftrace_arg(fregs, 0);
	struct cowstat_wp_slot *slot = this_cpu_ptr(&cowstat_wp_slot);
	unsigned long addr;
	pte_t pte;

	/* Most calls come with nothing waiting on this CPU. */
	if (likely(!READ_ONCE(slot->f.mm)))
		return;
	slot = slot_lock(h);
	if (!slot)
		return;
	addr = cowstat_ftrace_arg(fregs, 1);
	pte = ptep_get((pte_t *)cowstat_ftrace_arg(fregs, 2));
	/*
	 * wp_page_reuse() passes dirty = 1 and finds the pte still write-protected; a retried
	 * fault that finds it writable already (a userfaultfd monitor resolved it) is no reuse.
	 */
	if (slot->task == current && slot->f.mm == vma->vm_mm && slot->f.addr == addr &&
	    slot->when == COWSTAT_WP_AT_REUSE_OR_COPY && slot->f.class == COWSTAT_COPY &&
	    (int)cowstat_ftrace_arg(fregs, 4) && !pte_write(pte) &&
	    pte_pfn(slot->pte) == pte_pfn(pte)) {
		slot->f.class = COWSTAT_REUSE;
		fault_end(&slot->f, 0, slot->f.class);
		slot->f.mm = NULL;
	}
	slot_unlock(slot);
}

/*
 * finish_fault(vmf) runs for every file fault that maps a page; only a write to a private
 * mapping is ours. do_cow_fault() (inlined into do_fault() everywhere) calls it only after it
 * has copied the page cache page into a new anonymous folio, so at entry the copy is made:
 * counted as file. If finish_fault() then cannot install it (another thread of the process
 * mapped the page first, VM_FAULT_NOPAGE; no memory for a page table) the copy is thrown
 * away, but it was made. A return probe here cost every file fault 243-320 instructions (11
 * to 14% of a read fault, bench-file); this callback 68-76 (Documentation/cowstat.rst).
 * finish_fault() runs preemptible and may sleep: the ftrace recursion lock disables
 * preemption for the count.
 */
static void ff_entry(struct cowstat_hook *h, unsigned long parent_ip, struct ftrace_regs *fregs)
{
	struct vm_fault *vmf = (struct vm_fault *)cowstat_ftrace_arg(fregs, 0);
	struct vm_area_struct *vma = vmf->vma;
	struct cowstat_fault f;
	int bit;

	if (!(vmf->flags & FAULT_FLAG_WRITE) || (vma->vm_flags & (VM_SHARED | VM_MAYSHARE)))
		return;
	bit = ftrace_test_recursion_trylock(h->ip, parent_ip);
	if (bit < 0) {
		atomic_long_inc(&h->missed);
		return;
	}
	if (fault_start(&f, vmf))
		fault_end(&f, 0, COWSTAT_FILE);
	ftrace_test_recursion_unlock(bit);
}

/*
 * One ftrace_ops for the four functions: each ftrace_ops costs its own RCU-tasks grace
 * periods when it is unregistered, which made unloading under load slow. Its trampoline
 * calls cowstat_ftrace() directly, with the traced function's fentry address.
 */
static void notrace cowstat_ftrace(unsigned long ip, unsigned long parent_ip,
				   struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	if (ip == cowstat_hooks[HOOK_WP].ip)
		wp_entry(&cowstat_hooks[HOOK_WP], fregs);
	else if (ip == cowstat_hooks[HOOK_COPY].ip)
		copy_installed(&cowstat_hooks[HOOK_COPY], parent_ip, fregs);
	else if (ip == cowstat_hooks[HOOK_ACCESS].ip)
		pte_reused(&cowstat_hooks[HOOK_ACCESS], fregs);
	else if (ip == cowstat_hooks[HOOK_FF].ip)
		ff_entry(&cowstat_hooks[HOOK_FF], parent_ip, fregs);
}

static struct ftrace_ops cowstat_ops = { .func = cowstat_ftrace };

/*
 * do_huge_pmd_wp_page(vmf) runs for anonymous VMAs only (wp_huge_pmd()), so a pmd whose folio
 * is not anonymous maps the huge zero page (is_huge_zero_pmd() needs huge_zero_pfn, which is
 * not exported). vmf->orig_pmd is the entry the fault read; the huge zero folio is never freed
 * while mapped, and any other folio read here only has a flag tested.
 */
static int thp_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct cowstat_fault *f = (struct cowstat_fault *)ri->data;
	struct vm_fault *vmf = (struct vm_fault *)regs_get_kernel_argument(regs, 0);

	if (!fault_start(f, vmf))
		return 1;
	if (pmd_present(vmf->orig_pmd) && !folio_test_anon(page_folio(pmd_page(vmf->orig_pmd))))
		f->class = COWSTAT_THP_ZERO;
	else if (vmf->flags & FAULT_FLAG_UNSHARE)
		f->class = COWSTAT_OTHER;	/* unshare of a THP it owns alone: nothing to do */
	else
		f->class = COWSTAT_THP_REUSE;
	return 0;
}

static int thp_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct cowstat_fault *f = (struct cowstat_fault *)ri->data;
	vm_fault_t ret = (__force vm_fault_t)regs_return_value(regs);
	enum cowstat_class class;

	/* VM_FAULT_ERROR includes VM_FAULT_FALLBACK: test the split first. */
	if (ret & VM_FAULT_FALLBACK)
		class = COWSTAT_THP_SPLIT;
	else if (ret & VM_FAULT_ERROR)
		class = COWSTAT_OTHER;
	else
		class = f->class;	/* THP reused, or (7.x) huge zero page replaced */
	fault_end(f, ret, class);
	return 0;
}

static struct kretprobe cowstat_krp_thp = {
	.kp.symbol_name = "do_huge_pmd_wp_page",
	.entry_handler = thp_entry,
	.handler = thp_return,
	.data_size = sizeof(struct cowstat_fault),
};

/*
 * finish_mkwrite_fault(vmf, folio): ->page_mkwrite() or ->pfn_mkwrite() accepted a write to
 * a write-protected pte of a shared mapping; the kernel makes the pte writable only if it is
 * still the one the fault started from. When another thread wrote first it returns
 * VM_FAULT_NOPAGE and that thread's fault is the one counted. It may sleep before taking the
 * page table lock, so no per-CPU state can follow it: a return probe, on a path that has just
 * called into the file system and costs far more.
 */
static int mkwrite_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct cowstat_fault *f = (struct cowstat_fault *)ri->data;
	struct vm_fault *vmf = (struct vm_fault *)regs_get_kernel_argument(regs, 0);

	return fault_start(f, vmf) ? 0 : 1;
}

static int mkwrite_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct cowstat_fault *f = (struct cowstat_fault *)ri->data;
	vm_fault_t ret = (__force vm_fault_t)regs_return_value(regs);

	if (!ret)
		fault_end(f, ret, COWSTAT_SHARED);
	return 0;
}

static struct kretprobe cowstat_krp_mkwrite = {
	.kp.symbol_name = "finish_mkwrite_fault",
	.entry_handler = mkwrite_entry,
	.handler = mkwrite_return,
	.data_size = sizeof(struct cowstat_fault),
};

static struct kretprobe *cowstat_krps[] = { &cowstat_krp_thp, &cowstat_krp_mkwrite };

/* What goes uncounted without each return probe (same order). */
static const char *const cowstat_krp_blind[] = {
	"thp_reuse, thp_split, thp_zero",
	"shared: writes through ->page_mkwrite()",
};

/* Which return probes are registered. */
static bool cowstat_krp_on[ARRAY_SIZE(cowstat_krps)];

/* The code range of the function @kp resolved, from sprint_symbol(): "name+0x4/0x6a0". */
static int text_of(struct kprobe *kp, struct cowstat_text *t)
{
	unsigned long addr = (unsigned long)kp->addr, off, size;
	size_t len = strlen(kp->symbol_name);
	char sym[KSYM_SYMBOL_LEN];

	sprint_symbol(sym, addr);
	if (strncmp(sym, kp->symbol_name, len) || sym[len] != '+' ||
	    sscanf(sym + len, "+%lx/%lx", &off, &size) != 2 || off >= size) {
		pr_err("cannot find the code of %s (%s)\n", kp->symbol_name, sym);
		return -EINVAL;
	}
	t->start = addr - off;
	t->size = size;
	return 0;
}

/* Resolve @name into @kp by registering it disabled (never armed). */
static int resolve(struct kprobe *kp, const char *name)
{
	memset(kp, 0, sizeof(*kp));
	kp->symbol_name = name;
	kp->flags = KPROBE_FLAG_DISABLED;
	return register_kprobe(kp);
}

/*
 * Which functions the kernel has, and where the code that calls the copy and reuse hooks
 * lies. Kernel symbols are not exported to modules: kprobes registered disabled resolve the
 * names, and are unregistered together, in one RCU grace period.
 */
/* The copy path's own function, and what gcc calls its specialised copies (-fipa-*). */
static const char *const copy_fn_names[] = {
	"wp_page_copy", "wp_page_copy.constprop.0", "wp_page_copy.isra.0", "wp_page_copy.part.0",
	NULL
};

static int find_code(void)
{
	struct kprobe kps[NR_HOOKS + 1];	/* the hooks, and wp_page_copy if it has code */
	struct kprobe *reg[ARRAY_SIZE(kps)];
	int i, j, nr = 0, ret = 0;

	for (i = 0; i < ARRAY_SIZE(cowstat_hooks); i++) {
		struct cowstat_hook *h = &cowstat_hooks[i];

		h->ip = 0;
		h->name = h->names[0];
		for (j = 0; h->names[j]; j++) {
			ret = resolve(&kps[nr], h->names[j]);
			if (!ret)
				break;
		}
		/* Only a function this kernel does not have makes a probe optional. */
		if (ret && (!h->blind || ret != -ENOENT)) {
			pr_err("cannot probe %s: %d\n", h->names[0], ret);
			goto out;
		}
		if (ret) {
			pr_warn("cannot probe %s (%d): not counted on this kernel: %s\n",
				h->names[0], ret, h->blind);
			ret = 0;
			continue;
		}
		h->name = h->names[j];
		h->ip = (unsigned long)kps[nr].addr;
		reg[nr] = &kps[nr];
		nr++;
	}
	/* do_wp_page is required and first: reg[0]. */
	ret = text_of(reg[0], &cowstat_copy_text);
	if (ret)
		goto out;
	/*
	 * 6.1: wp_page_copy() is a function of its own; 6.12 and 7.3 inline it into do_wp_page().
	 * Where neither name is found, the copy must be inlined: do_wp_page() is its only caller.
	 */
	for (j = 0; copy_fn_names[j]; j++) {
		ret = resolve(&kps[nr], copy_fn_names[j]);
		if (ret == -ENOENT)
			continue;
		if (ret) {
			pr_err("cannot probe %s: %d\n", copy_fn_names[j], ret);
			goto out;
		}
		reg[nr] = &kps[nr];
		ret = text_of(reg[nr++], &cowstat_copy_text);
		if (ret)
			goto out;
		break;
	}
	ret = 0;	/* none found (-ENOENT): inlined into do_wp_page */
	pr_info("copies are installed from %s\n",
		copy_fn_names[j] ?: "do_wp_page (wp_page_copy inlined)");
out:
	if (nr)
		unregister_kprobes(reg, nr);
	return ret;
}

/*
 * Filter by address: a kprobe on a function with an fentry call sits on that call, which is
 * the address ftrace knows it by. (A filter by name would look up the name of every function
 * ftrace knows, on every load.)
 */
static int trace_hooks(void)
{
	unsigned long ips[NR_HOOKS];
	int i, nr = 0, ret;

	for (i = 0; i < NR_HOOKS; i++) {
		atomic_long_set(&cowstat_hooks[i].missed, 0);
		if (cowstat_hooks[i].ip)
			ips[nr++] = cowstat_hooks[i].ip;
	}
	ret = ftrace_set_filter_ips(&cowstat_ops, ips, nr, 0, 1);
	if (ret) {
		pr_err("cannot trace the fault path: %d\n", ret);
		goto err;
	}
	ret = register_ftrace_function(&cowstat_ops);
	if (ret) {
		pr_err("cannot register the ftrace callback: %d\n", ret);
		goto err;
	}
	return 0;

err:
	ftrace_free_filter(&cowstat_ops);
	return ret;
}

/* The registered return probes, in one RCU grace period. */
static void unregister_krps(void)
{
	struct kretprobe *on[ARRAY_SIZE(cowstat_krps)];
	int i, nr = 0;

	for (i = 0; i < ARRAY_SIZE(cowstat_krps); i++)
		if (cowstat_krp_on[i])
			on[nr++] = cowstat_krps[i];
	if (nr)
		unregister_kretprobes(on, nr);
}

/*
 * The return probes go first; then the ftrace callback. The reuse hook reads the slot that
 * the do_wp_page hook fills, on the same CPU under the page table lock, so they can start in
 * any order. On unload, unregister_ftrace_function() waits until no callback runs.
 */
int cowstat_probe_init(void)
{
	int i, ret;

	if (maxactive < 1 || maxactive > 4096) {
		pr_err("maxactive=%d out of range 1..4096\n", maxactive);
		return -EINVAL;
	}
	ret = find_code();
	if (ret)
		return ret;

	for (i = 0; i < ARRAY_SIZE(cowstat_krps); i++) {
		struct kretprobe *krp = cowstat_krps[i];

		krp->maxactive = maxactive;
		ret = register_kretprobe(krp);
		cowstat_krp_on[i] = !ret;
		if (ret)
			pr_warn("cannot probe %s (%d): not counted on this kernel: %s\n",
				krp->kp.symbol_name, ret, cowstat_krp_blind[i]);
	}
	ret = trace_hooks();
	if (ret)
		goto err_krps;
	return 0;

err_krps:
	unregister_krps();
	return ret;
}

void cowstat_probe_exit(void)
{
	unregister_ftrace_function(&cowstat_ops);
	ftrace_free_filter(&cowstat_ops);
	unregister_krps();
}

/*
 * For the summary: "probe_<function> 1" for every probe on this kernel, 0 for one it could not
 * place (the faults it would count are not counted: the load said which), and
 * "missed_<function> N": hits the probes could not handle.
 */
void cowstat_probe_missed(struct seq_file *m)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(cowstat_hooks); i++)
		seq_printf(m, "probe_%s %d\n", cowstat_hooks[i].name, !!cowstat_hooks[i].ip);
	for (i = 0; i < ARRAY_SIZE(cowstat_krps); i++)
		seq_printf(m, "probe_%s %d\n", cowstat_krps[i]->kp.symbol_name, cowstat_krp_on[i]);
	for (i = 0; i < ARRAY_SIZE(cowstat_hooks); i++)
		seq_printf(m, "missed_%s %ld\n", cowstat_hooks[i].name,
			   atomic_long_read(&cowstat_hooks[i].missed));
	for (i = 0; i < ARRAY_SIZE(cowstat_krps); i++)
		seq_printf(m, "missed_%s %lu\n", cowstat_krps[i]->kp.symbol_name,
			   cowstat_krps[i]->nmissed + cowstat_krps[i]->kp.nmissed);
}
