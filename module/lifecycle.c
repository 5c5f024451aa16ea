// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: process life cycle from the scheduler's tracepoints. The __tracepoint_* symbols are
 * not exported to modules, so the tracepoints are found by name with
 * for_each_kernel_tracepoint() and attached with tracepoint_probe_register(). The probe
 * prototypes follow include/trace/events/sched.h of each kernel (compat.h).
 */
#include <linux/binfmts.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

#include "compat.h"
#include "cowstat.h"

static void cowstat_tp_fork(void *data, struct task_struct *parent, struct task_struct *child)
{
	cowstat_proc_forked(parent, child);
}

static void cowstat_tp_exec(void *data, struct task_struct *p, pid_t old_pid,
			    struct linux_binprm *bprm)
{
	cowstat_proc_exec(p);
}

/*
 * Fires per thread; table.c acts on the last thread of the group (signal->live is already 0
 * for it on every target kernel). 6.x fires it after exit_mm(), 7.3 before, with one more
 * argument (compat.h): faults in exit_mm() (clear_child_tid) come after the exit there.
 */
static void cowstat_tp_exit(void *data, COWSTAT_TP_EXIT_PROTO)
{
	cowstat_proc_exited(p);
}

static struct cowstat_tp {
	const char *name;
	void *probe;
	struct tracepoint *tp;
} cowstat_tps[] = {
	{ "sched_process_fork", cowstat_tp_fork },
	{ "sched_process_exec", cowstat_tp_exec },
	{ "sched_process_exit", cowstat_tp_exit },
};

static void cowstat_tp_find(struct tracepoint *tp, void *priv)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(cowstat_tps); i++)
		if (!strcmp(tp->name, cowstat_tps[i].name))
			cowstat_tps[i].tp = tp;
}

int cowstat_lifecycle_init(void)
{
	int i, ret;

	for_each_kernel_tracepoint(cowstat_tp_find, NULL);
	for (i = 0; i < ARRAY_SIZE(cowstat_tps); i++) {
		if (!cowstat_tps[i].tp) {
			pr_err("tracepoint %s not found\n", cowstat_tps[i].name);
			ret = -ENOENT;
			goto err_unregister;
		}
		ret = tracepoint_probe_register(cowstat_tps[i].tp, cowstat_tps[i].probe, NULL);
		if (ret) {
			pr_err("cannot attach to tracepoint %s: %d\n", cowstat_tps[i].name, ret);
			goto err_unregister;
		}
	}
	return 0;

err_unregister:
	while (--i >= 0)
		tracepoint_probe_unregister(cowstat_tps[i].tp, cowstat_tps[i].probe, NULL);
	tracepoint_synchronize_unregister();
	return ret;
}

void cowstat_lifecycle_exit(void)
{
	int i;

	for (i = ARRAY_SIZE(cowstat_tps) - 1; i >= 0; i--)
		tracepoint_probe_unregister(cowstat_tps[i].tp, cowstat_tps[i].probe, NULL);
	tracepoint_synchronize_unregister();
}
