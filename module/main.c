// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: count and classify copy-on-write faults per process, and measure what a fork family
 * still shares. This file only wires the parts together: init in order, exit in reverse.
 */
#include <linux/module.h>

#include "cowstat.h"

static int __init cowstat_init(void)
{
	int ret;

	ret = cowstat_debugfs_init();
	if (ret)
		goto err;

	pr_info("version %s loaded (interface %d)\n", COWSTAT_VERSION, COWSTAT_IF_VERSION);
	return 0;
err:
	return ret;
}

static void __exit cowstat_exit(void)
{
	cowstat_debugfs_exit();
}

module_init(cowstat_init);
module_exit(cowstat_exit);

MODULE_DESCRIPTION("cowstat: per-process copy-on-write fault and sharing statistics");
MODULE_LICENSE("GPL");
MODULE_VERSION(COWSTAT_VERSION);
