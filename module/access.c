// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: who may take a snapshot of a process. The rule of /proc/PID/smaps, applied to both
 * the writer of the snapshot file and whoever opened it (cowstat_may_read()).
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>

#include "compat.h"
#include "snapshot.h"

/* ptrace's credential match (__ptrace_may_access()): @cred's fs ids are all of @tcred's. */
static bool cowstat_ids_match(const struct cred *cred, const struct cred *tcred)
{
	return uid_eq(cred->fsuid, tcred->euid) && uid_eq(cred->fsuid, tcred->suid) &&
	       uid_eq(cred->fsuid, tcred->uid) && gid_eq(cred->fsgid, tcred->egid) &&
	       gid_eq(cred->fsgid, tcred->sgid) && gid_eq(cred->fsgid, tcred->gid);
}

/*
 * May the writer, and whoever opened @file, read @task's address space? The rule of
 * /proc/PID/smaps, ptrace_may_access(task, PTRACE_MODE_READ_FSCREDS), which /proc applies
 * to the opener; here it must hold for both, so that a descriptor opened by a weaker process
 * and written by a stronger one (or the other way round) reads nothing either could not.
 * ptrace_may_access() is not exported, nor mm_access() or security_ptrace_access_check():
 * this is its capability and credential part (kernel/ptrace.c, __ptrace_may_access()): same
 * thread group (the writer), or matching fs credentials, or CAP_SYS_PTRACE in the target's
 * user namespace (file_ns_capable() for the opener); a mm not dumpable by its owner needs
 * CAP_SYS_PTRACE over its user namespace. What a module cannot do is consult the LSMs'
 * ptrace hooks (Yama's ptrace_scope, SELinux, AppArmor): Documentation/cowstat.rst says so.
 */
bool cowstat_may_read(struct task_struct *task, struct file *file)
{
	bool self = same_thread_group(task, current);
	const struct cred *tcred;
	struct user_namespace *ns;
	bool ok;

	/* A process asking about itself, through a file it opened with the same credentials. */
	if (self && file->f_cred == current_cred())
		return true;
	rcu_read_lock();
	tcred = __task_cred(task);
	ok = (self || cowstat_ids_match(current_cred(), tcred) ||
	      ns_capable(tcred->user_ns, CAP_SYS_PTRACE)) &&
	     (cowstat_ids_match(file->f_cred, tcred) ||
	      file_ns_capable(file, tcred->user_ns, CAP_SYS_PTRACE));
	rcu_read_unlock();
	if (!ok)
		return false;
	task_lock(task);
	rcu_read_lock();
	if (!cowstat_dumpable(task, &ns))
		ok = (self || ns_capable(ns, CAP_SYS_PTRACE)) &&
		     file_ns_capable(file, ns, CAP_SYS_PTRACE);
	rcu_read_unlock();
	task_unlock(task);
	return ok;
}
