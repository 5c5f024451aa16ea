// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: the members of a snapshot. A "pid" snapshot has one, the named process; a "tree"
 * snapshot has the process and its live descendants (following real_parent). Each member is
 * pinned by its address space (get_task_mm()), taken under the same lock as the access check
 * (access.c); processes sharing one address space (CLONE_VM) are one member.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "command.h"
#include "snapshot.h"

static unsigned int snapshot_max_members = 1024;
module_param(snapshot_max_members, uint, 0644);
MODULE_PARM_DESC(snapshot_max_members,
		 "Most processes in one snapshot; more gives E2BIG (default 1024, at most 65535)");

/*
 * Add @task as a member. The root must have an address space: kernel threads give -EINVAL,
 * zombies and exiting processes -ENOENT. Descendants without one are left out.
 */
static int cowstat_add_member(struct cowstat_snap *snap, struct task_struct *task,
			      struct file *file, bool root)
{
	struct cowstat_member *m;
	struct mm_struct *mm;
	int ret;

	if (task->flags & PF_KTHREAD)
		return root ? -EINVAL : 0;
	/*
	 * As mm_access() does: the check and get_task_mm() under exec_update_lock, so that an
	 * exec (setuid, or of a file it cannot read) cannot replace the mm in between.
	 */
	ret = down_read_killable(&task->signal->exec_update_lock);
	if (ret)
		return ret;
	mm = cowstat_may_read(task, file) ? get_task_mm(task) : ERR_PTR(-EACCES);
	up_read(&task->signal->exec_update_lock);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	if (!mm)
		return root ? -ENOENT : 0;
	m = &snap->members[snap->nr_members++];
	m->mm = mm;
	m->pid = task_tgid_vnr(task);
	rcu_read_lock();
	m->ppid = task_tgid_vnr(rcu_dereference(task->real_parent));
	rcu_read_unlock();
	return 0;
}

struct cowstat_mm_ref {
	struct mm_struct *mm;
	unsigned int member;
};

static int cowstat_mm_ref_cmp(const void *a, const void *b)
{
	const struct cowstat_mm_ref *x = a, *y = b;

	if (x->mm != y->mm)
		return x->mm < y->mm ? -1 : 1;
	return x->member < y->member ? -1 : x->member > y->member;
}

/*
 * CLONE_VM without CLONE_THREAD: one address space, counted once, as its first member (the
 * root is member 0). Sorted by mm, O(n log n): comparing each new member with all before it
 * took 2 * 10^9 comparisons at the 65,535-member cap.
 */
static int cowstat_drop_shared_mm(struct cowstat_snap *snap)
{
	unsigned int n = snap->nr_members, i, j;
	struct cowstat_mm_ref *ref;

	if (n < 2)
		return 0;
	ref = kvmalloc_array(n, sizeof(*ref), GFP_KERNEL_ACCOUNT);
	if (!ref)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		ref[i] = (struct cowstat_mm_ref) { snap->members[i].mm, i };
	sort(ref, n, sizeof(*ref), cowstat_mm_ref_cmp, NULL);
	for (i = 1; i < n; i++) {
		if (ref[i].mm == ref[i - 1].mm) {
			mmput(ref[i].mm);
			snap->members[ref[i].member].mm = NULL;
		}
	}
	kvfree(ref);
	for (i = 0, j = 0; i < n; i++)
		if (snap->members[i].mm)
			snap->members[j++] = snap->members[i];
	snap->nr_members = j;
	return 0;
}

/* Call under rcu_read_lock(). */
static bool cowstat_is_descendant(struct task_struct *t, struct task_struct *root)
{
	struct task_struct *a;

	for (a = rcu_dereference(t->real_parent); a != &init_task;
	     a = rcu_dereference(a->real_parent)) {
		if (same_thread_group(a, root))
			return true;
	}
	return false;
}

/*
 * Fill @snap->members (kvcalloc'd; the caller frees it and drops the mm of every member, also
 * on error). Member 0 is the process @pid (in the writer's pid namespace).
 */
int cowstat_family_collect(struct cowstat_snap *snap, struct file *file, pid_t pid, bool tree)
{
	struct task_struct *root, *t, **tasks = NULL;
	unsigned int n = 0, i, max = tree ? min(snapshot_max_members, 65535U) : 1;
	bool overflow = false;
	int ret;

	if (!max)
		return -E2BIG;
	root = cowstat_find_process(pid);
	if (!root)
		return -ESRCH;

	if (tree) {
		tasks = kvmalloc_array(max, sizeof(*tasks), GFP_KERNEL_ACCOUNT);
		if (!tasks) {
			ret = -ENOMEM;
			goto out_root;
		}
		rcu_read_lock();
		for_each_process(t) {
			if (t == root || !cowstat_is_descendant(t, root))
				continue;
			if (n + 1 >= max) {
				overflow = true;
				break;
			}
			get_task_struct(t);
			tasks[n++] = t;
		}
		rcu_read_unlock();
	}
	/* As many members as were found, not snapshot_max_members: the array is zeroed. */
	snap->members = kvcalloc(n + 1, sizeof(*snap->members), GFP_KERNEL_ACCOUNT);
	ret = snap->members ? cowstat_add_member(snap, root, file, true) : -ENOMEM;
	if (!ret && overflow)
		ret = -E2BIG;
	for (i = 0; i < n; i++) {
		if (!ret)
			ret = cowstat_add_member(snap, tasks[i], file, false);
		put_task_struct(tasks[i]);
	}
	kvfree(tasks);
	if (!ret)
		ret = cowstat_drop_shared_mm(snap);
out_root:
	put_task_struct(root);
	return ret;
}
