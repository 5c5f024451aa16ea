// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: the probes on the fault path (Documentation/trace/kprobes.rst).
 *
 *  - kretprobe do_wp_page: classify at entry (classify.c), count at return. Counting at return
 *    drops faults the kernel retries (VM_FAULT_RETRY, e.g. 6.12's per-VMA-lock faults that need
 *    an anon_vma), so each user-visible fault is counted once.
 *  - kprobe wp_page_reuse: marks the do_wp_page() in flight on this CPU as a reuse. For the
 *    anonymous pages whose fate is decided inside do_wp_page(), the page table lock is held from
 *    entry to that call, so the task cannot leave the CPU in between: a per-CPU slot naming the
 *    task and its return-probe data is enough to connect the two.
 *  - kretprobe do_huge_pmd_wp_page: PMD-mapped THP reused whole, or split (VM_FAULT_FALLBACK;
 *    a 4 KiB do_wp_page() fault follows and is counted on its own).
 *  - kretprobe finish_fault: the first write to a MAP_PRIVATE file page that was not mapped
 *    yet never reaches do_wp_page(); do_cow_fault() installs the copy through finish_fault().
 *
 * Handlers run with preemption disabled and never sleep, allocate only with GFP_NOWAIT (a
 * process's first record), and take no lock but the table's on that path.
 */
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/seq_file.h>

#include "cowstat.h"
#include "cowstat_trace.h"

static int maxactive = 256;
module_param(maxactive, int, 0444);
MODULE_PARM_DESC(maxactive, "faults each return probe can track at once (missed beyond that)");

/*
 * What a return probe needs, taken at entry while the fault still holds its locks: after a
 * fault returns VM_FAULT_COMPLETED or VM_FAULT_RETRY the VMA may be gone. The mm stays: the
 * faulting task (or a GUP caller, for a remote mm) holds a reference until the fault returns.
 */
struct cowstat_fault {
	struct mm_struct *mm;
	struct vm_area_struct *vma;	/* for the trace event; valid unless the fault retries */
	unsigned long addr;
	enum cowstat_class class;
	enum cowstat_region region;
	bool resolve;		/* copy unless wp_page_reuse() is seen */
	bool reused;		/* set by the wp_page_reuse() probe */
	int cpu;		/* whose slot points here */
};

/* The do_wp_page() in flight on this CPU whose outcome wp_page_reuse() may tell. */
struct cowstat_wp_slot {
	struct task_struct *task;
	struct cowstat_fault *data;
};

static DEFINE_PER_CPU(struct cowstat_wp_slot, cowstat_wp_slot);

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
	f->resolve = false;
	f->reused = false;
	return true;
}

/* The fault is over: nothing to count if the kernel will retry it. */
static void fault_end(struct cowstat_fault *f, vm_fault_t ret, enum cowstat_class class)
{
	if (ret & VM_FAULT_RETRY) {
		cowstat_count_retry();
		return;
	}
	cowstat_count(f->mm, f->region, f->addr, class);
	if (trace_cow_fault_enabled())
		cowstat_trace_fault(f->mm, ret & VM_FAULT_COMPLETED ? NULL : f->vma, f->addr,
				    class, f->region);
}

static int wp_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct cowstat_fault *f = (struct cowstat_fault *)ri->data;
	struct cowstat_wp_slot *slot = this_cpu_ptr(&cowstat_wp_slot);
	struct vm_fault *vmf = (struct vm_fault *)regs_get_kernel_argument(regs, 0);

	/* Always overwrite: a stale slot must never outlive the next fault on this CPU. */
	slot->task = current;
	slot->data = NULL;
	if (!fault_start(f, vmf))
		return 1;
	f->class = cowstat_classify_wp(vmf, &f->resolve);
	if (f->resolve) {
		f->cpu = smp_processor_id();
		slot->data = f;
	}
	return 0;
}

static int wp_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct cowstat_fault *f = (struct cowstat_fault *)ri->data;
	vm_fault_t ret = (__force vm_fault_t)regs_return_value(regs);
	enum cowstat_class class = f->class;

	if (f->resolve) {
		/* Another task may have taken the slot meanwhile: clear it only if still ours. */
		cmpxchg(&per_cpu_ptr(&cowstat_wp_slot, f->cpu)->data, f, NULL);
		if (f->reused)
			class = COWSTAT_REUSE;
	}
	fault_end(f, ret, ret & VM_FAULT_ERROR ? COWSTAT_OTHER : class);
	return 0;
}

static int reuse_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct cowstat_wp_slot *slot = this_cpu_ptr(&cowstat_wp_slot);

	if (slot->task == current && slot->data) {
		slot->data->reused = true;
		slot->data = NULL;
	}
	return 0;
}

static int thp_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct cowstat_fault *f = (struct cowstat_fault *)ri->data;

	return fault_start(f, (struct vm_fault *)regs_get_kernel_argument(regs, 0)) ? 0 : 1;
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
		class = COWSTAT_THP_REUSE;
	fault_end(f, ret, class);
	return 0;
}

/* finish_fault() runs for every file fault: only private writes arm the return probe. */
static int ff_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct cowstat_fault *f = (struct cowstat_fault *)ri->data;
	struct vm_fault *vmf = (struct vm_fault *)regs_get_kernel_argument(regs, 0);

	if (!(vmf->flags & FAULT_FLAG_WRITE) || (vmf->vma->vm_flags & (VM_SHARED | VM_MAYSHARE)))
		return 1;
	return fault_start(f, vmf) ? 0 : 1;
}

static int ff_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct cowstat_fault *f = (struct cowstat_fault *)ri->data;
	vm_fault_t ret = (__force vm_fault_t)regs_return_value(regs);

	/* VM_FAULT_NOPAGE: another fault mapped the page first and was counted itself. */
	if (ret & VM_FAULT_NOPAGE)
		return 0;
	fault_end(f, ret, ret & VM_FAULT_ERROR ? COWSTAT_OTHER : COWSTAT_FILE);
	return 0;
}

static struct kretprobe cowstat_krp_wp = {
	.kp.symbol_name = "do_wp_page",
	.entry_handler = wp_entry,
	.handler = wp_return,
	.data_size = sizeof(struct cowstat_fault),
};

static struct kretprobe cowstat_krp_thp = {
	.kp.symbol_name = "do_huge_pmd_wp_page",
	.entry_handler = thp_entry,
	.handler = thp_return,
	.data_size = sizeof(struct cowstat_fault),
};

static struct kretprobe cowstat_krp_ff = {
	.kp.symbol_name = "finish_fault",
	.entry_handler = ff_entry,
	.handler = ff_return,
	.data_size = sizeof(struct cowstat_fault),
};

static struct kprobe cowstat_kp_reuse = {
	.symbol_name = "wp_page_reuse",
	.pre_handler = reuse_pre,
};

static struct kretprobe *cowstat_krps[] = {
	&cowstat_krp_wp, &cowstat_krp_thp, &cowstat_krp_ff,
};

static struct kprobe *cowstat_kps[] = { &cowstat_kp_reuse };

/*
 * Order matters on unload: the reuse probe writes into do_wp_page's return-probe data, so it
 * goes first and comes last.
 */
int cowstat_probe_init(void)
{
	int i, ret;

	if (maxactive < 1 || maxactive > 4096) {
		pr_err("maxactive=%d out of range 1..4096\n", maxactive);
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(cowstat_krps); i++)
		cowstat_krps[i]->maxactive = maxactive;

	ret = register_kretprobes(cowstat_krps, ARRAY_SIZE(cowstat_krps));
	if (ret) {
		pr_err("cannot probe the fault path (return probes): %d\n", ret);
		return ret;
	}
	ret = register_kprobes(cowstat_kps, ARRAY_SIZE(cowstat_kps));
	if (ret) {
		pr_err("cannot probe %s: %d\n", cowstat_kp_reuse.symbol_name, ret);
		goto err_krps;
	}
	return 0;

err_krps:
	unregister_kretprobes(cowstat_krps, ARRAY_SIZE(cowstat_krps));
	return ret;
}

void cowstat_probe_exit(void)
{
	unregister_kprobes(cowstat_kps, ARRAY_SIZE(cowstat_kps));
	unregister_kretprobes(cowstat_krps, ARRAY_SIZE(cowstat_krps));
}

/* "missed_<function> N" for the summary: hits the probes could not handle. */
void cowstat_probe_missed(struct seq_file *m)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(cowstat_krps); i++)
		seq_printf(m, "missed_%s %lu\n", cowstat_krps[i]->kp.symbol_name,
			   cowstat_krps[i]->nmissed + cowstat_krps[i]->kp.nmissed);
	seq_printf(m, "missed_%s %lu\n", cowstat_kp_reuse.symbol_name, cowstat_kp_reuse.nmissed);
}
