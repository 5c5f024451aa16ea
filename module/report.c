// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: the read-only table files procs, regions and summary. procs and regions print a
 * snapshot of the process records taken when a read starts at offset 0 (the first read, or
 * one after lseek(2) or pread(2) back to 0), so one read(2) loop sees one consistent table
 * however long it is, and a reader that goes back to the start sees the counts of now.
 * Formats: include/cowstat.h, Documentation/cowstat.rst.
 */
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "cowstat.h"

static const char * const cowstat_class_names[] = COWSTAT_CLASS_NAMES;
static const char * const cowstat_region_names[] = COWSTAT_REGION_NAMES;

struct cowstat_report {
	struct cowstat_proc_snap *snap;
	size_t nr;
};

/* Text fields are one token: space, control characters and backslash become \ooo. */
static void cowstat_seq_token(struct seq_file *m, const char *s)
{
	if (!*s) {
		seq_puts(m, "\\000");
		return;
	}
	for (; *s; s++) {
		unsigned char c = *s;

		if (c <= ' ' || c == '\\' || c >= 0x7f)
			seq_printf(m, "\\%03o", c);
		else
			seq_putc(m, c);
	}
}

static void cowstat_seq_class_names(struct seq_file *m)
{
	int c;

	for (c = 0; c < COWSTAT_NR_CLASSES; c++)
		seq_printf(m, " %s", cowstat_class_names[c]);
}

static void *report_start(struct seq_file *m, loff_t *pos)
{
	struct cowstat_report *r = m->private;
	struct cowstat_proc_snap *snap;
	size_t nr;
	int ret;

	/*
	 * seq_read() starts at record 0 only at offset 0: a first read, or a read after a seek
	 * (or pread) back to 0, which traverse() turns into index 0; a jump to another offset
	 * walks there from record 0 too. Take the table then, and keep it for the records that
	 * follow (report_next()), so the reader sees one table.
	 */
	if (!*pos) {
		ret = cowstat_table_snapshot(&snap, &nr);
		if (ret)
			return ERR_PTR(ret);
		kvfree(r->snap);
		r->snap = snap;
		r->nr = nr;
		return SEQ_START_TOKEN;
	}
	return *pos <= r->nr ? &r->snap[*pos - 1] : NULL;
}

static void *report_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct cowstat_report *r = m->private;

	(*pos)++;
	return *pos <= r->nr ? &r->snap[*pos - 1] : NULL;
}

static void report_stop(struct seq_file *m, void *v)
{
}

static int procs_show(struct seq_file *m, void *v)
{
	const struct cowstat_proc_snap *s = v;
	unsigned long total, copied = 0;
	int r, c;

	if (v == SEQ_START_TOKEN) {
		seq_printf(m, "# cowstat %s v%d\npid ppid comm state start_ns fork_ns exit_ns",
			   COWSTAT_FILE_PROCS, COWSTAT_IF_VERSION);
		cowstat_seq_class_names(m);
		seq_puts(m, " copied_bytes\n");
		return 0;
	}
	seq_printf(m, "%d %d ", s->tgid, s->ppid);
	cowstat_seq_token(m, s->comm);
	seq_printf(m, " %s %llu %llu %llu", s->exit_ns ? "exited" : "live",
		   s->start_ns, s->fork_ns, s->exit_ns);
	for (c = 0; c < COWSTAT_NR_CLASSES; c++) {
		total = 0;
		for (r = 0; r < COWSTAT_NR_REGIONS; r++)
			total += s->count[r][c];
		if (cowstat_class_copies(c))
			copied += total;
		seq_printf(m, " %lu", total);
	}
	seq_printf(m, " %lu\n", copied * PAGE_SIZE);
	return 0;
}

static int regions_show(struct seq_file *m, void *v)
{
	const struct cowstat_proc_snap *s = v;
	unsigned long any;
	int r, c;

	if (v == SEQ_START_TOKEN) {
		seq_printf(m, "# cowstat %s v%d\npid start_ns region",
			   COWSTAT_FILE_REGIONS, COWSTAT_IF_VERSION);
		cowstat_seq_class_names(m);
		seq_putc(m, '\n');
		return 0;
	}
	for (r = 0; r < COWSTAT_NR_REGIONS; r++) {
		any = 0;
		for (c = 0; c < COWSTAT_NR_CLASSES; c++)
			any |= s->count[r][c];
		if (!any)
			continue;
		seq_printf(m, "%d %llu %s", s->tgid, s->start_ns, cowstat_region_names[r]);
		for (c = 0; c < COWSTAT_NR_CLASSES; c++)
			seq_printf(m, " %lu", s->count[r][c]);
		seq_putc(m, '\n');
	}
	return 0;
}

static const struct seq_operations procs_sops = {
	.start = report_start,
	.next = report_next,
	.stop = report_stop,
	.show = procs_show,
};

static const struct seq_operations regions_sops = {
	.start = report_start,
	.next = report_next,
	.stop = report_stop,
	.show = regions_show,
};

static int report_open(struct file *file, const struct seq_operations *sops)
{
	/* The table is taken by the first read (report_start()). */
	return __seq_open_private(file, sops, sizeof(struct cowstat_report)) ? 0 : -ENOMEM;
}

static int procs_open(struct inode *inode, struct file *file)
{
	return report_open(file, &procs_sops);
}

static int regions_open(struct inode *inode, struct file *file)
{
	return report_open(file, &regions_sops);
}

static int report_release(struct inode *inode, struct file *file)
{
	struct cowstat_report *r = ((struct seq_file *)file->private_data)->private;

	kvfree(r->snap);
	return seq_release_private(inode, file);
}

const struct file_operations cowstat_procs_fops = {
	.owner = THIS_MODULE,
	.open = procs_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = report_release,
};

const struct file_operations cowstat_regions_fops = {
	.owner = THIS_MODULE,
	.open = regions_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = report_release,
};

/* The summary file (its fops: debugfs.c). */
int cowstat_summary_show(struct seq_file *m, void *v)
{
	unsigned long totals[COWSTAT_NR_CLASSES], copied = 0;
	struct cowstat_table_stats st;
	pid_t scope = cowstat_scope_pid();
	int c;

	cowstat_table_totals(totals);
	cowstat_table_stats(&st);
	seq_printf(m, "# cowstat %s v%d\n", COWSTAT_FILE_SUMMARY, COWSTAT_IF_VERSION);
	for (c = 0; c < COWSTAT_NR_CLASSES; c++) {
		seq_printf(m, "%s %lu\n", cowstat_class_names[c], totals[c]);
		if (cowstat_class_copies(c))
			copied += totals[c];
	}
	seq_printf(m, "copied_bytes %lu\n", copied * PAGE_SIZE);
	seq_printf(m, "procs_live %lu\nprocs_exited %lu\nprocs_dropped %lu\n",
		   st.live, st.exited, st.dropped);
	seq_printf(m, "procs_nomem %lu\nfaults_unattributed %lu\n", st.nomem, st.unattributed);
	seq_printf(m, "procs_percpu %lu\nhash_buckets %lu\nrecord_bytes %u\n",
		   st.percpu, st.buckets, st.record_bytes);
	seq_printf(m, "scope_pid %d\n", scope);
	cowstat_probe_missed(m);
	return 0;
}
