// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat_delay: a selftest helper, not part of cowstat. It holds one chosen task for a while
 * at the entry of one kernel function, to open a race window that is otherwise a few
 * instructions wide, so that a test can show a fix for that race deterministically
 * (selftests/snapshot_test.c exec_window_*, selftests/table_test.c exit_window_*).
 *
 *   insmod cowstat_delay.ko func=commit_creds comm=cowstat-suid ms=1000
 *   insmod cowstat_delay.ko func=kmem_cache_alloc_noprof,kmem_cache_alloc \
 *          comm=cowstat-gupw caller=proc_create ms=1000
 *
 * A kprobe on the first of the comma-separated @func names that exists on this kernel; its
 * handler busy-waits (a kprobe handler must not sleep) when the current task's name is @comm
 * and, if @caller is set, the symbol of the probed call's return address contains @caller
 * (sprint_symbol(): "proc_create+0x3c/0x160 [cowstat]"), until the test writes 1 to
 * release, or @ms milliseconds at most. At most @max times per load. hits counts the waits
 * begun, active is 1 during one: the test reads both under
 * /sys/module/cowstat_delay/parameters/ to know the window is open, and ends it when it has
 * done what it wanted to do inside.
 *
 * Written after samples/kprobes/kprobe_example.c.
 */
#include <linux/atomic.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/processor.h>

static char *func;
module_param(func, charp, 0444);
MODULE_PARM_DESC(func, "function(s) to probe, comma-separated: the first that exists");

static char *comm;
module_param(comm, charp, 0444);
MODULE_PARM_DESC(comm, "hold only a task of this name (required)");

static char *caller;
module_param(caller, charp, 0444);
MODULE_PARM_DESC(caller, "hold only when the return address's symbol contains this");

static unsigned int ms = 1000;
module_param(ms, uint, 0444);
MODULE_PARM_DESC(ms, "hold the task at most this long, in milliseconds (at most 10000)");

static int max = 1;
module_param(max, int, 0444);
MODULE_PARM_DESC(max, "how many times to hold a task per load");

/* Waits begun, and whether one is running: read by the tests, written only here. */
static int hits;
module_param(hits, int, 0444);
MODULE_PARM_DESC(hits, "waits begun (read-only)");

static int active;
module_param(active, int, 0444);
MODULE_PARM_DESC(active, "1 while a task is held (read-only)");

/* Written by the test (sysfs), read by the waiting handler. */
static int release;
module_param(release, int, 0644);
MODULE_PARM_DESC(release, "write 1 to end the wait (and the waits to come)");

/* Claims one of the @max waits; several CPUs may hit the probe at once. */
static atomic_t cowstat_delay_claimed = ATOMIC_INIT(0);

static int cowstat_delay_pre(struct kprobe *p, struct pt_regs *regs)
{
	char sym[KSYM_SYMBOL_LEN];
	u64 deadline;

	if (strncmp(current->comm, comm, TASK_COMM_LEN))
		return 0;
	if (caller && *caller) {
		/* At a function's entry the return address is on top of the stack. */
		sprint_symbol(sym, regs_get_kernel_stack_nth(regs, 0));
		if (!strstr(sym, caller))
			return 0;
	}
	if (atomic_inc_return(&cowstat_delay_claimed) > max)
		return 0;
	deadline = ktime_get_ns() + (u64)ms * NSEC_PER_MSEC;
	WRITE_ONCE(active, 1);
	WRITE_ONCE(hits, READ_ONCE(hits) + 1);
	while (!READ_ONCE(release) && ktime_get_ns() < deadline)
		cpu_relax();
	WRITE_ONCE(active, 0);
	return 0;
}

static struct kprobe cowstat_delay_kp = {
	.pre_handler = cowstat_delay_pre,
};

static int __init cowstat_delay_init(void)
{
	char *names, *name, *rest;
	int ret = -ENOENT;

	if (!func || !comm || !*comm || ms > 10000)
		return -EINVAL;
	names = kstrdup(func, GFP_KERNEL);
	if (!names)
		return -ENOMEM;
	rest = names;
	while ((name = strsep(&rest, ",")) != NULL) {
		if (!*name)
			continue;
		/* A failed try may have left the address it resolved. */
		cowstat_delay_kp.addr = NULL;
		cowstat_delay_kp.flags = 0;
		cowstat_delay_kp.symbol_name = name;
		ret = register_kprobe(&cowstat_delay_kp);
		if (!ret)
			break;
	}
	if (ret) {
		pr_err("cannot probe any of %s: %d\n", func, ret);
		goto out;
	}
	/* register_kprobe() resolved the name to .addr; the string is no longer needed. */
	pr_info("holding %s for up to %u ms at %ps%s%s\n", comm, ms, cowstat_delay_kp.addr,
		caller && *caller ? " called from " : "", caller && *caller ? caller : "");
	cowstat_delay_kp.symbol_name = NULL;
out:
	kfree(names);
	return ret;
}

static void __exit cowstat_delay_exit(void)
{
	/* Waits until no handler runs. */
	unregister_kprobe(&cowstat_delay_kp);
}

module_init(cowstat_delay_init);
module_exit(cowstat_delay_exit);
MODULE_DESCRIPTION("cowstat selftest helper: hold a task at a function's entry");
MODULE_LICENSE("GPL");
