/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowstat: reading the commands written to cowstat's files (control, snapshot): one rule for
 * every file, in Documentation/cowstat.rst ("Commands").
 */
#ifndef _COWSTAT_COMMAND_H
#define _COWSTAT_COMMAND_H

#include <linux/compiler.h>
#include <linux/types.h>

struct task_struct;

ssize_t cowstat_read_command(char *buf, size_t size, const char __user *ubuf, size_t count,
			     const loff_t *ppos);
int cowstat_split_words(char *buf, char **word, int max);
int cowstat_parse_pid(const char *s, pid_t *pid);
int cowstat_parse_ulong(const char *s, unsigned long *v);
struct task_struct *cowstat_find_process(pid_t pid);

#endif /* _COWSTAT_COMMAND_H */
