// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: the debugfs interface, /sys/kernel/debug/cowstat/. A file that is one show
 * function (version, summary, watches) gets its fops here, from DEFINE_SHOW_ATTRIBUTE(); the
 * others' fops live with the concern they expose. This file creates and removes them.
 * Formats are defined in include/cowstat.h and documented in Documentation/cowstat.rst.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "cowstat.h"

static struct dentry *cowstat_dir;

static int version_show(struct seq_file *m, void *v)
{
	seq_printf(m, "module_version %s\ninterface_version %d\n",
		   COWSTAT_VERSION, COWSTAT_IF_VERSION);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(version);
DEFINE_SHOW_ATTRIBUTE(cowstat_summary);
DEFINE_SHOW_ATTRIBUTE(cowstat_watches);

/* Read-only files are 0400, files that take commands 0600: everything is root only. */
static const struct {
	const char *name;
	umode_t mode;
	const struct file_operations *fops;
} cowstat_files[] = {
	{ COWSTAT_FILE_VERSION, 0400, &version_fops },
	{ COWSTAT_FILE_PROCS, 0400, &cowstat_procs_fops },
	{ COWSTAT_FILE_REGIONS, 0400, &cowstat_regions_fops },
	{ COWSTAT_FILE_SUMMARY, 0400, &cowstat_summary_fops },
	{ COWSTAT_FILE_WATCHES, 0400, &cowstat_watches_fops },
	{ COWSTAT_FILE_CONTROL, 0600, &cowstat_control_fops },
	{ COWSTAT_FILE_SNAPSHOT, 0600, &cowstat_snapshot_fops },
};

int cowstat_debugfs_init(void)
{
	struct dentry *d;
	int i;

	d = debugfs_create_dir("cowstat", NULL);
	if (IS_ERR(d))
		return PTR_ERR(d);
	cowstat_dir = d;

	for (i = 0; i < ARRAY_SIZE(cowstat_files); i++) {
		d = debugfs_create_file(cowstat_files[i].name, cowstat_files[i].mode,
					cowstat_dir, NULL, cowstat_files[i].fops);
		if (IS_ERR(d))
			goto err_remove;
	}
	return 0;

err_remove:
	debugfs_remove_recursive(cowstat_dir);
	cowstat_dir = NULL;
	return PTR_ERR(d);
}

void cowstat_debugfs_exit(void)
{
	debugfs_remove_recursive(cowstat_dir);
	cowstat_dir = NULL;
}
