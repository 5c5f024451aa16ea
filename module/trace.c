// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: emits the trace event cowstat:cow_fault (cowstat_trace.h) for a counted fault.
 *
 * Called from the probes where a fault is counted, only while the event is enabled
 * (trace_cow_fault_enabled(), a static key): where nobody listens, a fault pays one
 * patched-out branch.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>

#include "compat.h"
#include "cowstat.h"

#define CREATE_TRACE_POINTS
#include "cowstat_trace.h"

/*
 * @vma is the faulting VMA, still held by the fault (NULL once the fault dropped its locks).
 * Runs in a probe handler: preemption disabled, no sleeping, no allocation.
 */
void cowstat_trace_fault(struct mm_struct *mm, struct vm_area_struct *vma, unsigned long addr,
			 enum cowstat_class class, enum cowstat_region region)
{
	char name[COWSTAT_TRACE_FILE_LEN] = "";
	unsigned long ip = 0, ino = 0, pgoff = 0;
	struct task_struct *owner;
	dev_t dev = 0;
	pid_t pid = 0;

	rcu_read_lock();
	owner = cowstat_mm_owner(mm);
	if (owner)
		pid = owner->tgid;
	rcu_read_unlock();

	/* The user instruction that wrote, unless another task (GUP) ran this fault. */
	if (current->mm == mm && !(current->flags & PF_KTHREAD))
		ip = instruction_pointer(task_pt_regs(current));

	if (vma && vma->vm_file) {
		struct inode *inode = file_inode(vma->vm_file);

		dev = inode->i_sb->s_dev;
		ino = inode->i_ino;
		pgoff = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
		/* %pD: the last path component, read safely under RCU by vsprintf. */
		snprintf(name, sizeof(name), "%pD", vma->vm_file);
	}
	trace_cow_fault(pid, class, region, addr, ip,
			cowstat_class_copies(class) ? PAGE_SIZE : 0, dev, ino, pgoff, name);
}
