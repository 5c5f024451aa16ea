// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: the control file. One command per write(2), whole and at offset 0; the grammar is
 * in include/cowstat.h. Parsing is strict: anything unexpected is -EINVAL and changes nothing.
 * Reading the file returns the commands that recreate the current scope and watches.
 */
#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "cowstat.h"

#define COWSTAT_MAX_ARGS	4

/*
 * Numbers in commands (control and snapshot): a pid is decimal digits only, and leading
 * zeros do not make it octal ("010" is pid 10); an address or a length is decimal the same
 * way, or 0x-prefixed hex. No sign, no space. kstrto*() alone would take a '+' and, with
 * base 0, read "010" as octal 8; it reports overflow as -ERANGE. To a writer every malformed
 * number is -EINVAL.
 */
int cowstat_parse_pid(const char *s, pid_t *pid)
{
	int v;

	if (!isdigit(*s) || kstrtoint(s, 10, &v) || v <= 0)
		return -EINVAL;
	*pid = v;
	return 0;
}

int cowstat_parse_ulong(const char *s, unsigned long *v)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return isxdigit(s[2]) && !kstrtoul(s + 2, 16, v) ? 0 : -EINVAL;
	return isdigit(*s) && !kstrtoul(s, 10, v) ? 0 : -EINVAL;
}

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

/*
 * Read one command written to a debugfs file into @buf (@size bytes, NUL-terminated): the
 * whole command in one write(2) at offset 0, at most @size - 1 bytes, printable ASCII only
 * (no NUL, no control character, no second line), an optional final newline removed.
 * Returns its length (never 0), or -EINVAL / -EFAULT.
 */
ssize_t cowstat_read_command(char *buf, size_t size, const char __user *ubuf, size_t count,
			     const loff_t *ppos)
{
	size_t len = count, i;

	if (*ppos || !count || count >= size)
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	if (buf[len - 1] == '\n')
		buf[--len] = '\0';
	for (i = 0; i < len; i++)
		if (!isprint(buf[i]) || !isascii(buf[i]))
			return -EINVAL;
	return len ? len : -EINVAL;
}

static ssize_t control_write(struct file *file, const char __user *ubuf, size_t count,
			     loff_t *ppos)
{
	char buf[COWSTAT_CONTROL_MAX + 1], *argv[COWSTAT_MAX_ARGS], *p, *tok;
	ssize_t len;
	int argc = 0, ret;

	len = cowstat_read_command(buf, sizeof(buf), ubuf, count, ppos);
	if (len < 0)
		return len;

	p = buf;
	while ((tok = strsep(&p, " "))) {
		if (!*tok)
			continue;
		if (argc == COWSTAT_MAX_ARGS)
			return -EINVAL;
		argv[argc++] = tok;
	}
	if (!argc)
		return -EINVAL;
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
