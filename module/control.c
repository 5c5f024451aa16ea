// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: the control file. One command per write(2), read as every command file reads its
 * commands (command.c); the commands are in include/cowstat.h. Anything unexpected is -EINVAL
 * and changes nothing.
 * Reading the file returns the commands that recreate the current scope and watches.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "command.h"
#include "cowstat.h"

#define COWSTAT_MAX_ARGS	4

static int cowstat_command(int argc, char **argv)
{
	unsigned long start, len;
	pid_t pid;

	if (argc == 1 && !strcmp(argv[0], "reset")) {
		cowstat_table_reset();
		return 0;
	}
	if (argc == 2 && !strcmp(argv[0], "scope")) {
		if (!strcmp(argv[1], "all"))
			return cowstat_scope_set(0);
		return cowstat_parse_pid(argv[1], &pid) ? : cowstat_scope_set(pid);
	}
	if (argc == 4 && !strcmp(argv[0], "watch")) {
		if (cowstat_parse_pid(argv[1], &pid) || cowstat_parse_ulong(argv[2], &start) ||
		    cowstat_parse_ulong(argv[3], &len))
			return -EINVAL;
		return cowstat_watch_add(pid, start, len);
	}
	if (argc == 2 && !strcmp(argv[0], "unwatch") && !strcmp(argv[1], "all")) {
		cowstat_watch_del_all();
		return 0;
	}
	if (argc == 3 && !strcmp(argv[0], "unwatch")) {
		if (cowstat_parse_pid(argv[1], &pid) || cowstat_parse_ulong(argv[2], &start))
			return -EINVAL;
		return cowstat_watch_del(pid, start);
	}
	return -EINVAL;
}

static ssize_t control_write(struct file *file, const char __user *ubuf, size_t count,
			     loff_t *ppos)
{
	char buf[COWSTAT_CONTROL_MAX + 1], *argv[COWSTAT_MAX_ARGS];
	ssize_t len;
	int argc, ret;

	len = cowstat_read_command(buf, sizeof(buf), ubuf, count, ppos);
	if (len < 0)
		return len;
	argc = cowstat_split_words(buf, argv, COWSTAT_MAX_ARGS);
	if (argc < 0)
		return argc;
	ret = cowstat_command(argc, argv);
	return ret ? ret : count;
}

static int control_show(struct seq_file *m, void *v)
{
	pid_t scope = cowstat_scope_pid();

	if (scope)
		seq_printf(m, "scope %d\n", scope);
	else
		seq_puts(m, "scope all\n");
	cowstat_watch_show_commands(m);
	return 0;
}

static int control_open(struct inode *inode, struct file *file)
{
	return single_open(file, control_show, NULL);
}

const struct file_operations cowstat_control_fops = {
	.owner = THIS_MODULE,
	.open = control_open,
	.read = seq_read,
	.write = control_write,
	.llseek = seq_lseek,
	.release = single_release,
};
