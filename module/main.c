// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: count and classify copy-on-write faults per process, and measure what a fork family
 * still shares. This file only wires the parts together: init in order, exit in reverse.
 *
 * Unload order: the files go first (no new commands or reads), then the probes and tracepoints
 * (their unregistration waits for running handlers; return probes still pending skip their
 * handler), then the data they used, after an RCU barrier for records freed by call_rcu.
 */
#include <linux/module.h>

#include "cowstat.h"

static int __init cowstat_init(void)
{
	int ret;

	ret = cowstat_table_init();
	if (ret)
		goto err;
	ret = cowstat_lifecycle_init();
	if (ret)
		goto err_table;
	ret = cowstat_probe_init();
	if (ret)
		goto err_lifecycle;
	ret = cowstat_debugfs_init();
	if (ret)
		goto err_probe;

	pr_info("version %s loaded (interface %d)\n", COWSTAT_VERSION, COWSTAT_IF_VERSION);
	return 0;

err_probe:
	cowstat_probe_exit();
err_lifecycle:
	cowstat_lifecycle_exit();
err_table:
	cowstat_watch_exit();
	cowstat_table_exit();
err:
	return ret;
}

static void __exit cowstat_exit(void)
{
	cowstat_debugfs_exit();
	cowstat_probe_exit();
	cowstat_lifecycle_exit();
	cowstat_watch_exit();
	cowstat_table_exit();
}

module_init(cowstat_init);
module_exit(cowstat_exit);

MODULE_DESCRIPTION("cowstat: per-process copy-on-write fault and sharing statistics");
MODULE_LICENSE("GPL");
MODULE_VERSION(COWSTAT_VERSION);
