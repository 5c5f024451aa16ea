/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowstat: the trace event cowstat:cow_fault, one per fault cowstat counts
 * (Documentation/trace/tracepoints.rst; Documentation/cowstat.rst, "Trace event").
 *
 * Read twice by <trace/define_trace.h> from trace.c, which defines CREATE_TRACE_POINTS; every
 * other file sees only the declarations.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM cowstat

#if !defined(_COWSTAT_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _COWSTAT_TRACE_H

#include <linux/tracepoint.h>

#include <cowstat.h>

/* The format file shows numbers, which perf and trace-cmd can print as names. */
TRACE_DEFINE_ENUM(COWSTAT_COPY);
TRACE_DEFINE_ENUM(COWSTAT_REUSE);
TRACE_DEFINE_ENUM(COWSTAT_ZERO);
TRACE_DEFINE_ENUM(COWSTAT_FILE);
TRACE_DEFINE_ENUM(COWSTAT_THP_REUSE);
TRACE_DEFINE_ENUM(COWSTAT_THP_SPLIT);
TRACE_DEFINE_ENUM(COWSTAT_THP_ZERO);
TRACE_DEFINE_ENUM(COWSTAT_UNSHARE);
TRACE_DEFINE_ENUM(COWSTAT_KSM);
TRACE_DEFINE_ENUM(COWSTAT_SHARED);
TRACE_DEFINE_ENUM(COWSTAT_OTHER);
TRACE_DEFINE_ENUM(COWSTAT_REGION_HEAP);
TRACE_DEFINE_ENUM(COWSTAT_REGION_STACK);
TRACE_DEFINE_ENUM(COWSTAT_REGION_ANON);
TRACE_DEFINE_ENUM(COWSTAT_REGION_FILE);
TRACE_DEFINE_ENUM(COWSTAT_REGION_OTHER);

/*
 * Class and region names are those of COWSTAT_CLASS_NAMES and COWSTAT_REGION_NAMES.
 * pid: the process whose memory the fault changed (common_pid is the task that ran it, which
 * differs for a GUP unshare); addr: the faulting data address; ip: the user instruction of the
 * task that ran the fault when it ran it in its own memory, else 0; copied: bytes copied;
 * dev/ino/pgoff/file: the mapped file and page offset of addr when the mapping has a file
 * (file is its last path component, at most COWSTAT_TRACE_FILE_LEN - 1 bytes), else 0 and "".
 * The text format leaves dev and ino out (binary readers have every field).
 */
TRACE_EVENT(cow_fault,
	    TP_PROTO(pid_t pid, unsigned int class, unsigned int region, unsigned long addr,
		     unsigned long ip, unsigned int copied, dev_t dev, unsigned long ino,
		     unsigned long pgoff, const char *file),
	    TP_ARGS(pid, class, region, addr, ip, copied, dev, ino, pgoff, file),
	    TP_STRUCT__entry(__field(pid_t, pid)
			     __field(u8, class)
			     __field(u8, region)
			     __field(u32, copied)
			     __field(unsigned long, addr)
			     __field(unsigned long, ip)
			     __field(dev_t, dev)
			     __field(unsigned long, ino)
			     __field(unsigned long, pgoff)
			     __array(char, file, COWSTAT_TRACE_FILE_LEN)),
	    TP_fast_assign(__entry->pid = pid;
			   __entry->class = class;
			   __entry->region = region;
			   __entry->copied = copied;
			   __entry->addr = addr;
			   __entry->ip = ip;
			   __entry->dev = dev;
			   __entry->ino = ino;
			   __entry->pgoff = pgoff;
			   strscpy(__entry->file, file, COWSTAT_TRACE_FILE_LEN);),
	    TP_printk("pid=%d class=%s region=%s addr=%#lx ip=%#lx copied=%u file=%s pgoff=%#lx",
		      __entry->pid,
		      __print_symbolic(__entry->class,
				       { COWSTAT_COPY, "copy" }, { COWSTAT_REUSE, "reuse" },
				       { COWSTAT_ZERO, "zero" }, { COWSTAT_FILE, "file" },
				       { COWSTAT_THP_REUSE, "thp_reuse" },
				       { COWSTAT_THP_SPLIT, "thp_split" },
				       { COWSTAT_THP_ZERO, "thp_zero" },
				       { COWSTAT_UNSHARE, "unshare" }, { COWSTAT_KSM, "ksm" },
				       { COWSTAT_SHARED, "shared" }, { COWSTAT_OTHER, "other" }),
		      __print_symbolic(__entry->region,
				       { COWSTAT_REGION_HEAP, "heap" },
				       { COWSTAT_REGION_STACK, "stack" },
				       { COWSTAT_REGION_ANON, "anon" },
				       { COWSTAT_REGION_FILE, "file" },
				       { COWSTAT_REGION_OTHER, "other" }),
		      __entry->addr, __entry->ip, __entry->copied, __entry->file, __entry->pgoff)
);

#endif /* _COWSTAT_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE cowstat_trace
#include <trace/define_trace.h>
