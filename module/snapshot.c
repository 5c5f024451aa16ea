// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: the "snapshot" debugfs file. A write names a process or a process tree; the
 * snapshot is taken during that write (share.c; so its errors are the write's return value),
 * and reads of the same open file return the report, through seq_file. Each open file keeps
 * its own result. Format: include/cowstat.h; meaning: Documentation/cowstat.rst.
 */
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "command.h"
#include "snapshot.h"

/* Per open file. */
struct cowstat_snapshot_file {
	struct mutex lock;		/* protects report (writers vs readers of this file) */
	struct cowstat_sharing *report;	/* NULL until a write succeeded */
};

/*
 * "pid|tree <PID> [<START> <END>]", read as every command is (command.c): one space between
 * words, numbers by cowstat_parse_pid() and cowstat_parse_ulong(); page-aligned START < END.
 */
static int cowstat_parse(char *buf, pid_t *pid, bool *tree, unsigned long *start,
			 unsigned long *end)
{
	char *word[4];
	int n, ret;

	n = cowstat_split_words(buf, word, ARRAY_SIZE(word));
	if (n < 0)
		return n;
	if (n != 2 && n != 4)
		return -EINVAL;
	if (!strcmp(word[0], "pid"))
		*tree = false;
	else if (!strcmp(word[0], "tree"))
		*tree = true;
	else
		return -EINVAL;
	ret = cowstat_parse_pid(word[1], pid);
	if (ret)
		return ret;
	*start = 0;
	*end = ULONG_MAX;
	if (n == 4) {
		ret = cowstat_parse_ulong(word[2], start);
		if (!ret)
			ret = cowstat_parse_ulong(word[3], end);
		if (ret)
			return ret;
		if (*start >= *end || !PAGE_ALIGNED(*start) || !PAGE_ALIGNED(*end))
			return -EINVAL;
	}
	return 0;
}

static ssize_t cowstat_snapshot_write(struct file *file, const char __user *ubuf, size_t count,
				      loff_t *ppos)
{
	struct seq_file *m = file->private_data;
	struct cowstat_snapshot_file *sf = m->private;
	char buf[COWSTAT_SNAPSHOT_CMD_MAX + 1];
	struct cowstat_sharing *r, *old;
	unsigned long start, end;
	pid_t pid;
	bool tree;
	int ret;

	ret = cowstat_read_command(buf, sizeof(buf), ubuf, count, ppos);
	if (ret < 0)
		return ret;
	ret = cowstat_parse(buf, &pid, &tree, &start, &end);
	if (ret)
		return ret;
	ret = cowstat_sharing_take(file, pid, tree, start, end, &r);
	if (ret)
		return ret;
	mutex_lock(&sf->lock);
	old = sf->report;
	sf->report = r;
	mutex_unlock(&sf->lock);
	cowstat_sharing_free(old);
	return count;
}

static const char * const cowstat_region_names[] = COWSTAT_REGION_NAMES;

static void cowstat_show_counts(struct seq_file *m, const struct cowstat_member *mb,
				const char *region, const u64 *c)
{
	int i;

	seq_printf(m, "proc %d %d %s", mb->pid, mb->ppid, region);
	for (i = 0; i < COWSTAT_NR_COUNTERS; i++)
		seq_printf(m, " %llu", c[i]);
	seq_putc(m, '\n');
}

/*
 * The report is printed one record at a time (seq_file), so that a large family needs no
 * buffer for the whole of it: position 0 is the header, 1 to N the members (six lines each),
 * N + 1 the family and the matrix's first line, then the N matrix rows if there is a matrix,
 * then "end". A read cannot mix two reports: a write is refused unless the file offset is 0
 * (cowstat_read_command()), the offset is shared by every user of the open file, and read()
 * and write() on it are serialised by the file's position lock (a regular file's
 * FMODE_ATOMIC_POS); seq_file files take no pwrite().
 */
static loff_t cowstat_snapshot_items(const struct cowstat_sharing *r)
{
	return 2 + (loff_t)r->nr_members + (r->matrix ? r->nr_members : 0) + 1;
}

static void *cowstat_snapshot_start(struct seq_file *m, loff_t *pos)
{
	struct cowstat_snapshot_file *sf = m->private;
	struct cowstat_sharing *r;

	mutex_lock(&sf->lock);
	r = sf->report;
	if (!r)
		return ERR_PTR(-ENODATA);
	if (*pos >= cowstat_snapshot_items(r))
		return NULL;
	return (void *)(uintptr_t)(*pos + 1);
}

static void *cowstat_snapshot_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct cowstat_snapshot_file *sf = m->private;

	++*pos;
	return *pos < cowstat_snapshot_items(sf->report) ? (void *)(uintptr_t)(*pos + 1) : NULL;
}

static void cowstat_snapshot_stop(struct seq_file *m, void *v)
{
	struct cowstat_snapshot_file *sf = m->private;

	mutex_unlock(&sf->lock);
}

static int cowstat_snapshot_show(struct seq_file *m, void *v)
{
	struct cowstat_snapshot_file *sf = m->private;
	const struct cowstat_sharing *r = sf->report;
	loff_t pos = (uintptr_t)v - 1, nm = r->nr_members;
	unsigned int i, j, reg, c;

	if (!pos) {
		seq_printf(m, "cowstat_snapshot %d\ntarget %s %d\nrange %#lx %#lx\npage_size %lu\nmembers %u\n",
			   COWSTAT_SNAPSHOT_FORMAT, r->tree ? "tree" : "pid", r->pid, r->start,
			   r->end, PAGE_SIZE, r->nr_members);
		seq_puts(m, "proc_columns " COWSTAT_SNAPSHOT_PROC_COLUMNS "\n");
	} else if (pos <= nm) {
		const struct cowstat_member *mb = &r->members[pos - 1];
		u64 all[COWSTAT_NR_COUNTERS] = { };

		for (reg = 0; reg < COWSTAT_NR_REGIONS; reg++)
			for (c = 0; c < COWSTAT_NR_COUNTERS; c++)
				all[c] += mb->count[reg][c];
		cowstat_show_counts(m, mb, "all", all);
		for (reg = 0; reg < COWSTAT_NR_REGIONS; reg++)
			cowstat_show_counts(m, mb, cowstat_region_names[reg], mb->count[reg]);
	} else if (pos == nm + 1) {
		seq_puts(m, "family_columns " COWSTAT_SNAPSHOT_FAMILY_COLUMNS "\n");
		seq_printf(m, "family %u %llu %llu %llu %llu %llu\n", r->nr_members, r->resident,
			   r->anon_mapped, r->distinct, r->anon_mapped - r->distinct,
			   (r->anon_mapped - r->distinct) * PAGE_SIZE);
		if (r->matrix) {
			seq_puts(m, "matrix_columns");
			for (i = 0; i < r->nr_members; i++)
				seq_printf(m, " %d", r->members[i].pid);
			seq_putc(m, '\n');
		} else {
			seq_puts(m, "matrix none\n");
		}
	} else if (r->matrix && pos <= 2 * nm + 1) {
		i = pos - nm - 2;
		seq_printf(m, "matrix %d", r->members[i].pid);
		for (j = 0; j < r->nr_members; j++)
			seq_printf(m, " %llu", r->matrix[i * r->nr_members + j]);
		seq_putc(m, '\n');
	} else {
		seq_puts(m, "end\n");
	}
	return 0;
}

static const struct seq_operations cowstat_snapshot_seq_ops = {
	.start = cowstat_snapshot_start,
	.next = cowstat_snapshot_next,
	.stop = cowstat_snapshot_stop,
	.show = cowstat_snapshot_show,
};

static int cowstat_snapshot_open(struct inode *inode, struct file *file)
{
	struct cowstat_snapshot_file *sf;

	sf = __seq_open_private(file, &cowstat_snapshot_seq_ops, sizeof(*sf));
	if (!sf)
		return -ENOMEM;
	mutex_init(&sf->lock);
	return 0;
}

static int cowstat_snapshot_release(struct inode *inode, struct file *file)
{
	struct seq_file *m = file->private_data;
	struct cowstat_snapshot_file *sf = m->private;

	cowstat_sharing_free(sf->report);
	mutex_destroy(&sf->lock);
	return seq_release_private(inode, file);
}

const struct file_operations cowstat_snapshot_fops = {
	.owner = THIS_MODULE,
	.open = cowstat_snapshot_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.write = cowstat_snapshot_write,
	.release = cowstat_snapshot_release,
};
