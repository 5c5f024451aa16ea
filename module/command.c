// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: reading a command written to one of cowstat's files, the same way for every file
 * (Documentation/cowstat.rst, "Commands"): the write itself (cowstat_read_command()), its
 * words (cowstat_split_words()), the numbers in them (cowstat_parse_pid(),
 * cowstat_parse_ulong()) and the process a pid names (cowstat_find_process()). Every
 * malformed command is -EINVAL.
 */
#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "command.h"

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

/*
 * Split a command read by cowstat_read_command() into its words, in place: at most @max of
 * them into @word. Words are separated by exactly one space: an empty word (a leading or
 * trailing space, two spaces in a row) is malformed. Returns the number of words, at least
 * 1, or -EINVAL.
 */
int cowstat_split_words(char *buf, char **word, int max)
{
	char *p = buf, *w;
	int n = 0;

	while ((w = strsep(&p, " "))) {
		if (!*w || n == max)
			return -EINVAL;
		word[n++] = w;
	}
	return n;
}

/*
 * Numbers in commands: a pid is decimal digits only, and leading zeros do not make it octal
 * ("010" is pid 10); an address or a length is decimal the same way, or 0x-prefixed hex. No
 * sign, no space. kstrto*() alone would take a '+' and, with base 0, read "010" as octal 8;
 * it reports overflow as -ERANGE. To a writer every malformed number is -EINVAL.
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

/*
 * The process (thread group leader) with tgid @pid in the writer's pid namespace, as the
 * kernel reads a pid from a caller (find_vpid(), kill(2), /proc of the caller's namespace),
 * with a reference the caller drops with put_task_struct(); NULL if there is none. A thread
 * id that is not a process id names no process. Call as the writer.
 */
struct task_struct *cowstat_find_process(pid_t pid)
{
	struct task_struct *task;

	if (pid <= 0)
		return NULL;
	rcu_read_lock();
	task = pid_task(find_vpid(pid), PIDTYPE_TGID);
	if (task)
		get_task_struct(task);
	rcu_read_unlock();
	return task;
}
