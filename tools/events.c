// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat trace's event source (events.h): one perf event per online CPU on the tracepoint
 * cowstat:cow_fault, system-wide, because a fault is attributed to the process whose memory it
 * changes, which is not always the task that ran it (an unshare by another process's GUP).
 * The same events carry the side-band records (fork, exec, exit, executable mmaps) that let the
 * report name code addresses of processes that are gone by then.
 *
 * Field offsets are taken from the event's format file in tracefs, not assumed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "tool.h"

static const char *const tracefs_dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

enum { F_PID, F_CLASS, F_REGION, F_COPIED, F_ADDR, F_IP, F_DEV, F_INO, F_PGOFF, F_FILE, F_NR };
static const char *const field_names[F_NR] = {
	"pid", "class", "region", "copied", "addr", "ip", "dev", "ino", "pgoff", "file",
};

struct ring {
	int fd;
	struct perf_event_mmap_page *meta;
	unsigned char *data;
	size_t size;		/* data area, a power of 2 */
};

struct cowstat_evsrc {
	struct ring *rings;
	int nr;
	struct pollfd *pfds;
	unsigned int off[F_NR], size[F_NR];
	struct cowstat_ev *pending;
	size_t npending, cap;
	u64 lost;
	unsigned char *rec;	/* one record copied out of the ring when it wraps */
	int stacks;		/* samples carry a callchain (PERF_SAMPLE_CALLCHAIN) */
};

static int read_small(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* The event directory in tracefs, and why not when it is missing. */
static int event_dir(char *dir, size_t size, char *err)
{
	char probe[512];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tracefs_dirs); i++) {
		snprintf(dir, size, "%s/events/%s/%s", tracefs_dirs[i], COWSTAT_TRACE_SYSTEM,
			 COWSTAT_TRACE_EVENT);
		if (access(dir, F_OK) == 0)
			return 0;
	}
	if (geteuid() != 0) {
		snprintf(err, COWSTAT_ERR_MAX, "tracing COW faults needs root (try: sudo %s trace)",
			 cowstat_prog);
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(tracefs_dirs); i++) {
		snprintf(probe, sizeof(probe), "%s/events", tracefs_dirs[i]);
		if (access(probe, F_OK) == 0)
			break;
	}
	if (i == ARRAY_SIZE(tracefs_dirs))
		snprintf(err, COWSTAT_ERR_MAX,
			 "tracefs is not mounted (mount -t tracefs none /sys/kernel/tracing)");
	else
		snprintf(err, COWSTAT_ERR_MAX,
			 "no trace event %s:%s: cowstat.ko is not loaded (sudo insmod cowstat.ko)",
			 COWSTAT_TRACE_SYSTEM, COWSTAT_TRACE_EVENT);
	return -1;
}

/* "field:unsigned long addr;	offset:24;	size:8;	signed:0;" for each field we read. */
static int parse_format(struct cowstat_evsrc *s, const char *fmt, char *err)
{
	const char *line = fmt;
	unsigned int seen = 0;
	int i;

	while (line && *line) {
		const char *f = strstr(line, "field:"), *nl = strchr(line, '\n');
		const char *semi, *name;
		unsigned int off, size;

		if (f && (!nl || f < nl)) {
			const char *end;

			semi = strchr(f, ';');
			if (!semi)
				break;
			name = semi;
			while (name > f && name[-1] != ' ' && name[-1] != '\t')
				name--;
			if (sscanf(semi, "; offset:%u; size:%u;", &off, &size) != 2)
				break;
			/* "char file[32]": the name ends at '[' */
			end = memchr(name, '[', semi - name);
			if (!end)
				end = semi;
			for (i = 0; i < F_NR; i++) {
				size_t len = strlen(field_names[i]);

				if ((size_t)(end - name) != len ||
				    memcmp(name, field_names[i], len))
					continue;
				s->off[i] = off;
				s->size[i] = size;
				seen |= 1u << i;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	for (i = 0; i < F_NR; i++) {
		if (!(seen & (1u << i))) {
			snprintf(err, COWSTAT_ERR_MAX,
				 "malformed trace event format: no field '%s' (module and tool differ?)",
				 field_names[i]);
			return -1;
		}
	}
	return 0;
}

static void close_rings(struct cowstat_evsrc *s)
{
	int i;

	for (i = 0; i < s->nr; i++) {
		if (s->rings[i].meta)
			munmap(s->rings[i].meta, s->rings[i].size + sysconf(_SC_PAGESIZE));
		if (s->rings[i].fd >= 0)
			close(s->rings[i].fd);
	}
}

void cowstat_evsrc_close(struct cowstat_evsrc *s)
{
	size_t i;

	if (!s)
		return;
	close_rings(s);
	for (i = 0; i < s->npending; i++) {
		free(s->pending[i].path);
		free(s->pending[i].stack);
	}
	free(s->pending);
	free(s->rings);
	free(s->pfds);
	free(s->rec);
	free(s);
}

int cowstat_evsrc_open(struct cowstat_evsrc **out, unsigned int buf_pages, int stacks,
		       char *err)
{
	long page = sysconf(_SC_PAGESIZE), ncpu = sysconf(_SC_NPROCESSORS_CONF);
	struct perf_event_attr attr;
	struct cowstat_evsrc *s;
	char dir[256], path[300], buf[8192], *end;
	unsigned long long id;
	int cpu;

	if (event_dir(dir, sizeof(dir), err))
		return -1;
	snprintf(path, sizeof(path), "%s/id", dir);
	if (!read_small(path, buf, sizeof(buf)))
		id = strtoull(buf, &end, 10);
	else
		end = buf;
	if (end == buf) {
		snprintf(err, COWSTAT_ERR_MAX, "cannot read %.100s: %s", path, strerror(errno));
		return -1;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto nomem;
	snprintf(path, sizeof(path), "%s/format", dir);
	if (read_small(path, buf, sizeof(buf))) {
		snprintf(err, COWSTAT_ERR_MAX, "cannot read %.100s: %s", path, strerror(errno));
		goto err;
	}
	if (parse_format(s, buf, err))
		goto err;
	s->rings = calloc(ncpu, sizeof(*s->rings));
	s->pfds = calloc(ncpu, sizeof(*s->pfds));
	s->rec = malloc(65536);
	if (!s->rings || !s->pfds || !s->rec)
		goto nomem_free;

	memset(&attr, 0, sizeof(attr));
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.size = sizeof(attr);
	attr.config = id;
	attr.sample_period = 1;
	attr.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_RAW;
	if (stacks) {
		/* User stacks only, at most the kernel's default limit (perf_event_max_stack). */
		attr.sample_type |= PERF_SAMPLE_CALLCHAIN;
		attr.exclude_callchain_kernel = 1;
		attr.sample_max_stack = 127;
		s->stacks = 1;
	}
	attr.mmap = 1;
	attr.mmap2 = 1;
	attr.comm = 1;
	attr.comm_exec = 1;
	attr.task = 1;
	attr.sample_id_all = 1;
	attr.use_clockid = 1;
	attr.clockid = CLOCK_MONOTONIC;
	attr.watermark = 1;
	attr.wakeup_watermark = buf_pages * page / 4;
	attr.disabled = 1;
	/* read() gives the events lost so far, also those no PERF_RECORD_LOST reported yet. */
	attr.read_format = PERF_FORMAT_LOST;

	for (cpu = 0; cpu < ncpu; cpu++) {
		struct ring *r = &s->rings[s->nr];
		void *m;

		r->fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (r->fd < 0) {
			if (errno == ENODEV || errno == EINVAL)
				continue;	/* CPU offline */
			snprintf(err, COWSTAT_ERR_MAX, "perf_event_open on CPU %d: %s", cpu,
				 strerror(errno));
			goto err;
		}
		r->size = (size_t)buf_pages * page;
		m = mmap(NULL, r->size + page, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
		if (m == MAP_FAILED) {
			snprintf(err, COWSTAT_ERR_MAX, "mapping the event buffer of CPU %d: %s",
				 cpu, strerror(errno));
			close(r->fd);
			r->fd = -1;
			goto err;
		}
		r->meta = m;
		r->data = (unsigned char *)m + page;
		s->pfds[s->nr].fd = r->fd;
		s->pfds[s->nr].events = POLLIN;
		s->nr++;
	}
	for (cpu = 0; cpu < s->nr; cpu++) {
		if (ioctl(s->rings[cpu].fd, PERF_EVENT_IOC_ENABLE, 0)) {
			snprintf(err, COWSTAT_ERR_MAX, "enabling the event: %s", strerror(errno));
			goto err;
		}
	}
	*out = s;
	return 0;

nomem_free:
	cowstat_evsrc_close(s);
nomem:
	snprintf(err, COWSTAT_ERR_MAX, "out of memory");
	return -1;
err:
	cowstat_evsrc_close(s);
	return -1;
}

static u64 field(const struct cowstat_evsrc *s, const unsigned char *raw, uint32_t rawlen, int f)
{
	u64 v = 0;

	if (s->off[f] + s->size[f] > rawlen)
		return 0;
	switch (s->size[f]) {
	case 1:
		v = raw[s->off[f]];
		break;
	case 2: {
		uint16_t x;

		memcpy(&x, raw + s->off[f], 2);
		v = x;
		break;
	}
	case 4: {
		uint32_t x;

		memcpy(&x, raw + s->off[f], 4);
		v = x;
		break;
	}
	case 8:
		memcpy(&v, raw + s->off[f], 8);
		break;
	}
	return v;
}

static struct cowstat_ev *new_pending(struct cowstat_evsrc *s)
{
	if (s->npending == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4096;
		struct cowstat_ev *p = realloc(s->pending, cap * sizeof(*p));

		if (!p)
			cowstat_fatal("out of memory for %zu trace events", s->npending);
		s->pending = p;
		s->cap = cap;
	}
	memset(&s->pending[s->npending], 0, sizeof(s->pending[0]));
	return &s->pending[s->npending++];
}

/* The sample_id trailer of a side-band record: pid, tid, time (sample_type TID | TIME). */
static u64 trailer_time(const struct perf_event_header *h)
{
	u64 t;

	if (h->size < sizeof(*h) + 16)
		return 0;
	memcpy(&t, (const unsigned char *)h + h->size - 8, 8);
	return t;
}

/*
 * The callchain of a sample (after TID and TIME, before RAW): u64 nr, then nr entries, the
 * user ones after the marker PERF_CONTEXT_USER. Moves *@p past it; -1 if it is cut short.
 */
static int decode_stack(struct cowstat_ev *ev, const unsigned char **p, const unsigned char *end)
{
	u64 nr, ip;
	size_t i;

	if (end - *p < 8)
		return -1;
	memcpy(&nr, *p, 8);
	*p += 8;
	if (nr > (u64)(end - *p) / 8)
		return -1;
	ev->stack = malloc((nr ? nr : 1) * sizeof(*ev->stack));
	if (!ev->stack)
		cowstat_fatal("out of memory for a stack of %llu frames", (unsigned long long)nr);
	for (i = 0; i < nr; i++, *p += 8) {
		memcpy(&ip, *p, 8);
		if (ip >= (u64)PERF_CONTEXT_MAX)
			continue;	/* a context marker */
		ev->stack[ev->nstack++] = ip;
	}
	return 0;
}

static void decode(struct cowstat_evsrc *s, const struct perf_event_header *h)
{
	const unsigned char *p = (const unsigned char *)(h + 1);
	const unsigned char *end = (const unsigned char *)h + h->size;
	struct cowstat_ev *ev;
	uint32_t u[4];

	switch (h->type) {
	case PERF_RECORD_SAMPLE: {
		uint32_t rawlen;
		const unsigned char *raw;
		u64 len;

		if (end - p < 8 + 8 + 4)
			return;
		ev = new_pending(s);
		ev->type = COWSTAT_EV_FAULT;
		memcpy(u, p, 8);
		ev->task_pid = u[0];
		memcpy(&ev->time, p + 8, 8);
		p += 16;
		if (s->stacks && decode_stack(ev, &p, end))
			return;
		if (end - p < 4)
			return;
		memcpy(&rawlen, p, 4);
		raw = p + 4;
		if (raw + rawlen > end)
			rawlen = end - raw;
		ev->pid = (int)field(s, raw, rawlen, F_PID);
		ev->class = (int)field(s, raw, rawlen, F_CLASS);
		ev->region = (int)field(s, raw, rawlen, F_REGION);
		ev->copied = (unsigned int)field(s, raw, rawlen, F_COPIED);
		ev->addr = field(s, raw, rawlen, F_ADDR);
		ev->ip = field(s, raw, rawlen, F_IP);
		ev->dev = (unsigned int)field(s, raw, rawlen, F_DEV);
		ev->ino = field(s, raw, rawlen, F_INO);
		ev->pgoff = field(s, raw, rawlen, F_PGOFF);
		len = s->size[F_FILE] < sizeof(ev->file) ? s->size[F_FILE] : sizeof(ev->file) - 1;
		if (s->off[F_FILE] + len <= (u64)rawlen)
			memcpy(ev->file, raw + s->off[F_FILE], len);
		ev->file[sizeof(ev->file) - 1] = '\0';
		if (ev->class < 0 || ev->class >= COWSTAT_NR_CLASSES)
			ev->class = COWSTAT_OTHER;
		if (ev->region < 0 || ev->region >= COWSTAT_NR_REGIONS)
			ev->region = COWSTAT_REGION_OTHER;
		return;
	}
	case PERF_RECORD_MMAP2: {
		/* pid, tid, addr, len, pgoff, maj, min, ino, ino_generation, prot, flags, name */
		const unsigned char *name = p + 8 + 24 + 8 + 16 + 8;

		if (name >= end)
			return;
		ev = new_pending(s);
		ev->type = COWSTAT_EV_MMAP;
		memcpy(u, p, 8);
		ev->pid = u[0];
		memcpy(&ev->start, p + 8, 8);
		memcpy(&ev->len, p + 16, 8);
		memcpy(&ev->offset, p + 24, 8);
		ev->path = strndup((const char *)name, end - name);
		ev->time = trailer_time(h);
		if (!ev->path)
			cowstat_fatal("out of memory");
		return;
	}
	case PERF_RECORD_COMM:
		if (!(h->misc & PERF_RECORD_MISC_COMM_EXEC) || end - p < 9)
			return;
		memcpy(u, p, 8);
		if (u[0] != u[1])
			return;
		ev = new_pending(s);
		ev->type = COWSTAT_EV_EXEC;
		ev->pid = u[0];
		snprintf(ev->comm, sizeof(ev->comm), "%.*s", (int)(end - p - 8), p + 8);
		ev->time = trailer_time(h);
		return;
	case PERF_RECORD_FORK:
	case PERF_RECORD_EXIT:
		if (end - p < 16)
			return;
		memcpy(u, p, 16);	/* pid, ppid, tid, ptid */
		if (h->type == PERF_RECORD_FORK && u[0] == u[1])
			return;		/* a new thread */
		if (h->type == PERF_RECORD_EXIT && u[0] != u[2])
			return;		/* a thread, not the process, exited */
		ev = new_pending(s);
		ev->type = h->type == PERF_RECORD_FORK ? COWSTAT_EV_FORK : COWSTAT_EV_EXIT;
		ev->pid = u[0];
		ev->ppid = u[1];
		ev->time = trailer_time(h);
		return;
	case PERF_RECORD_LOST: {
		u64 lost;

		if (end - p >= 16) {
			memcpy(&lost, p + 8, 8);
			s->lost += lost;
		}
		return;
	}
	}
}

static void read_ring(struct cowstat_evsrc *s, struct ring *r)
{
	u64 head = __atomic_load_n(&r->meta->data_head, __ATOMIC_ACQUIRE);
	u64 tail = r->meta->data_tail;

	while (tail < head) {
		size_t at = tail & (r->size - 1);
		struct perf_event_header h;
		const struct perf_event_header *rec;

		if (at + sizeof(h) <= r->size) {
			memcpy(&h, r->data + at, sizeof(h));
		} else {
			size_t first = r->size - at;

			memcpy(&h, r->data + at, first);
			memcpy((unsigned char *)&h + first, r->data, sizeof(h) - first);
		}
		if (h.size < sizeof(h) || tail + h.size > head)
			break;
		if (at + h.size <= r->size) {
			rec = (const struct perf_event_header *)(r->data + at);
		} else {
			size_t first = r->size - at;

			memcpy(s->rec, r->data + at, first);
			memcpy(s->rec + first, r->data, h.size - first);
			rec = (const struct perf_event_header *)s->rec;
		}
		decode(s, rec);
		tail += h.size;
	}
	__atomic_store_n(&r->meta->data_tail, tail, __ATOMIC_RELEASE);
}

int cowstat_evsrc_read(struct cowstat_evsrc *s, int timeout_ms)
{
	int i;

	if (timeout_ms > 0 && poll(s->pfds, s->nr, timeout_ms) < 0)
		return -1;
	for (i = 0; i < s->nr; i++)
		read_ring(s, &s->rings[i]);
	return 0;
}

static int by_time(const void *a, const void *b)
{
	const struct cowstat_ev *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	/* Same time: side-band records (fork, exec, mmap) before the faults they explain. */
	return (x->type == COWSTAT_EV_FAULT) - (y->type == COWSTAT_EV_FAULT);
}

void cowstat_evsrc_deliver(struct cowstat_evsrc *s, u64 upto,
			   void (*cb)(const struct cowstat_ev *ev, void *arg), void *arg)
{
	size_t i, n;

	qsort(s->pending, s->npending, sizeof(s->pending[0]), by_time);
	for (n = 0; n < s->npending && s->pending[n].time <= upto; n++) {
		cb(&s->pending[n], arg);
		free(s->pending[n].path);
		free(s->pending[n].stack);
	}
	for (i = n; i < s->npending; i++)
		s->pending[i - n] = s->pending[i];
	s->npending -= n;
}

/*
 * The kernel writes PERF_RECORD_LOST only when the next record fits, which may never come;
 * reading the events' lost counts (PERF_FORMAT_LOST) gives the whole number.
 */
u64 cowstat_evsrc_lost(const struct cowstat_evsrc *s)
{
	u64 lost = 0, v[2];
	int i;

	for (i = 0; i < s->nr; i++) {
		if (read(s->rings[i].fd, v, sizeof(v)) != sizeof(v))
			return s->lost > lost ? s->lost : lost;
		lost += v[1];
	}
	return s->lost > lost ? s->lost : lost;
}
