// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: taking a sharing snapshot (cowstat_sharing_take()). Collect the members
 * (family.c); walk all members chunk by chunk (walk.c), settling at each address the frames
 * whose every mapping is found there (cowstat_merge_chunk()); sort the rest by pfn and count
 * it over the whole family. Counting splits shared pages into shared inside the family and
 * with processes outside it, counts distinct frames and fills the pairwise matrix.
 */
#include <linux/bitmap.h>
#include <linux/hash.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "snapshot.h"

/*
 * The kept mappings are one kvmalloc'd array, and the radix sort needs a second one as large:
 * each must stay within INT_MAX bytes, beyond which kvmalloc() does not fail quietly but
 * warns (a panic with panic_on_warn). Writes outside 0..COWSTAT_SNAPSHOT_MAX_FRAMES_LIMIT
 * fail with -EINVAL, and so does loading the module with such a value. Written under the
 * kernel's parameter lock (sysfs) or before init; read once per snapshot with READ_ONCE().
 */
static unsigned long snapshot_max_frames = 1UL << 22;

static int cowstat_max_frames_set(const char *val, const struct kernel_param *kp)
{
	unsigned long v;

	BUILD_BUG_ON(COWSTAT_SNAPSHOT_MAX_FRAMES_LIMIT * sizeof(struct cowstat_frame) > INT_MAX);
	if (kstrtoul(val, 0, &v) || v > COWSTAT_SNAPSHOT_MAX_FRAMES_LIMIT) {
		pr_err("snapshot_max_frames: not a number from 0 to %lu\n",
		       COWSTAT_SNAPSHOT_MAX_FRAMES_LIMIT);
		return -EINVAL;
	}
	WRITE_ONCE(*(unsigned long *)kp->arg, v);
	return 0;
}

static const struct kernel_param_ops cowstat_max_frames_ops = {
	.set = cowstat_max_frames_set,
	.get = param_get_ulong,
};

module_param_cb(snapshot_max_frames, &cowstat_max_frames_ops, &snapshot_max_frames, 0644);
MODULE_PARM_DESC(snapshot_max_frames,
		 "Most anonymous page mappings kept for the final sort (those not settled at their address), 16 bytes each; more gives E2BIG (default 4194304, at most 134217727)");

void cowstat_sharing_free(struct cowstat_sharing *r)
{
	if (!r)
		return;
	kvfree(r->matrix);
	kvfree(r->members);
	kfree(r);
}

#define COWSTAT_RADIX_BITS	11

/*
 * Sort the frames by pfn: an LSD radix sort (stable), 11 bits of pfn per pass: 2 passes
 * for physical addresses below 16 GiB, 3 below 32 TiB. sort(), a heapsort with an indirect
 * compare per step, took 1.5 s of a 1.7 s snapshot of 1M frames in the benchmark guest.
 * Needs a second array as large as the first; returns -ENOMEM if that cannot be had, and
 * the caller falls back to sort().
 */
static int cowstat_radix_sort(struct cowstat_frame *f, size_t n)
{
	struct cowstat_frame *src = f, *dst, *tmp;
	const size_t nb = 1 << COWSTAT_RADIX_BITS;
	unsigned int shift, bits;
	size_t *count, i, sum, c;
	u64 maxpfn = 0;

	for (i = 0; i < n; i++)
		maxpfn = max(maxpfn, f[i].pfn);
	bits = fls64(maxpfn);
	tmp = kvmalloc_array(n, sizeof(*f), GFP_KERNEL_ACCOUNT);
	count = kvmalloc_array(nb, sizeof(*count), GFP_KERNEL_ACCOUNT);
	if (!tmp || !count) {
		kvfree(tmp);
		kvfree(count);
		return -ENOMEM;
	}
	dst = tmp;
	for (shift = 0; shift < bits; shift += COWSTAT_RADIX_BITS) {
		memset(count, 0, nb * sizeof(*count));
		for (i = 0; i < n; i++)
			count[(src[i].pfn >> shift) & (nb - 1)]++;
		for (i = 0, sum = 0; i < nb; i++) {
			c = count[i];
			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[count[(src[i].pfn >> shift) & (nb - 1)]++] = src[i];
		swap(src, dst);
		cond_resched();
	}
	if (src != f)
		memcpy(f, src, n * sizeof(*f));
	kvfree(tmp);
	kvfree(count);
	return 0;
}

static int cowstat_frame_cmp(const void *a, const void *b)
{
	const struct cowstat_frame *x = a, *y = b;

	if (x->pfn != y->pfn)
		return x->pfn < y->pfn ? -1 : 1;
	return (int)x->member - (int)y->member;
}

/* Add @n to the matrix entries of every pair of members in @mask. */
static void cowstat_matrix_add(u64 *matrix, unsigned int nm, u64 mask, u64 n)
{
	u64 ma, mb;

	for (ma = mask; ma; ma &= ma - 1)
		for (mb = mask; mb; mb &= mb - 1)
			matrix[__ffs64(ma) * nm + __ffs64(mb)] += n;
}

/*
 * The sets of members sharing a frame repeat a lot in a family, and neighbouring addresses
 * usually have the same one: count frames per set (the last set in a register, then in a
 * small open-addressing table) and expand each set into the matrix once at the end. A set
 * that finds no slot goes straight into the matrix.
 */
#define COWSTAT_MASK_SLOTS	1024

struct cowstat_mask_count {
	u64 mask;
	u64 count;	/* 0: free slot */
};

/* Family accounting state of one snapshot. */
struct cowstat_acct {
	struct cowstat_sharing *r;
	struct cowstat_mask_count *masks;	/* NULL without a matrix */
	u64 last_mask, last_count;		/* the set counted last, not in masks yet */
	unsigned long *any;			/* union of the members' slot bitmaps */
	unsigned int *list, *group;		/* scratch: member indexes */
};

static void cowstat_mask_flush(struct cowstat_acct *a, unsigned int nm)
{
	struct cowstat_mask_count *t = a->masks;
	unsigned int h = hash_64(a->last_mask, ilog2(COWSTAT_MASK_SLOTS)), i;

	if (!a->last_count)
		return;
	for (i = 0; i < 8; i++, h = (h + 1) & (COWSTAT_MASK_SLOTS - 1)) {
		if (!t[h].count)
			t[h].mask = a->last_mask;
		if (t[h].mask == a->last_mask) {
			t[h].count += a->last_count;
			goto out;
		}
	}
	cowstat_matrix_add(a->r->matrix, nm, a->last_mask, a->last_count);
out:
	a->last_count = 0;
}

/* One distinct frame shared by the members of @mask (bits of members 0-63). */
static void cowstat_count_distinct(struct cowstat_acct *a, unsigned int nm, u64 mask)
{
	a->r->distinct++;
	if (!a->masks)
		return;
	if (mask != a->last_mask) {
		cowstat_mask_flush(a, nm);
		a->last_mask = mask;
	}
	a->last_count++;
}

/*
 * A frame mapped more than once whose mappings in the family do not account for its
 * mapcount (the largest any member saw): mapped by a process outside the family too. The
 * walk counted it as shared; this splits shared into shared_outside and (at the end, by
 * difference) shared_family.
 */
static void cowstat_count_outside(struct cowstat_snap *snap, const struct cowstat_frame *f)
{
	snap->members[f->member].count[f->region][COWSTAT_C_SHARED_OUTSIDE]++;
}

/* Keep a frame whose mappings are not all in its chunk, for cowstat_account_residue(). */
static int cowstat_residue_push(struct cowstat_snap *snap, const struct cowstat_frame *f)
{
	struct cowstat_frame *n;
	size_t cap;

	if (snap->nr_frames == snap->cap_frames) {
		cap = min(max_t(size_t, 65536, snap->cap_frames * 2), snap->max_frames);
		if (cap <= snap->cap_frames)
			return -E2BIG;
		n = kvmalloc_array(cap, sizeof(*n), GFP_KERNEL_ACCOUNT);
		if (!n)
			return -ENOMEM;
		if (snap->nr_frames)
			memcpy(n, snap->frames, snap->nr_frames * sizeof(*n));
		kvfree(snap->frames);
		snap->frames = n;
		snap->cap_frames = cap;
	}
	snap->frames[snap->nr_frames++] = *f;
	return 0;
}

/*
 * The common case at one address: every member with a slot there maps the same frame, and
 * these are all its mappings. Count it and return true; else leave it alone.
 */
static bool cowstat_merge_same(struct cowstat_snap *snap, struct cowstat_acct *a,
			       unsigned long idx)
{
	unsigned int nm = snap->nr_members, np = snap->chunk_pages, words = BITS_TO_LONGS(np);
	unsigned long bit = BIT_MASK(idx);
	const struct cowstat_frame *f;
	unsigned int i, m, ng = 0;
	u32 mapcount = 0;
	u64 pfn = 0, mask = 0;

	for (i = 0; i < snap->nr_walked; i++) {
		m = snap->walked[i];
		if (!(snap->present[(size_t)m * words + BIT_WORD(idx)] & bit))
			continue;
		f = snap->slots + (size_t)m * np + idx;
		if (!ng)
			pfn = f->pfn;
		else if (f->pfn != pfn)
			return false;
		ng++;
		mapcount = max(mapcount, f->mapcount);
		if (m < 64)
			mask |= BIT_ULL(m);
	}
	if (mapcount > ng)
		return false;
	cowstat_count_distinct(a, nm, mask);
	return true;
}

/*
 * The members with a slot at @idx do not all map one frame, or not all its mappings: group
 * them by frame; a group holding every mapping of its frame is counted here, the others go
 * to the residue.
 */
static int cowstat_merge_split(struct cowstat_snap *snap, struct cowstat_acct *a,
			       unsigned long idx)
{
	unsigned int nm = snap->nr_members, np = snap->chunk_pages, words = BITS_TO_LONGS(np);
	unsigned int i, m, cnt = 0, ng, keep, t;
	const struct cowstat_frame *f0, *f;
	u32 mapcount;
	u64 mask;
	int ret;

	for (i = 0; i < snap->nr_walked; i++) {
		m = snap->walked[i];
		if (test_bit(idx, snap->present + (size_t)m * words))
			a->list[cnt++] = m;
	}
	while (cnt) {
		f0 = &snap->slots[(size_t)a->list[0] * np + idx];
		mapcount = 0;
		mask = 0;
		ng = 0;
		keep = 0;
		for (t = 0; t < cnt; t++) {
			f = &snap->slots[(size_t)a->list[t] * np + idx];
			if (f->pfn != f0->pfn) {
				a->list[keep++] = a->list[t];
				continue;
			}
			a->group[ng++] = a->list[t];
			mapcount = max(mapcount, f->mapcount);
			if (a->list[t] < 64)
				mask |= BIT_ULL(a->list[t]);
		}
		if (mapcount <= ng) {
			cowstat_count_distinct(a, nm, mask);
		} else {
			for (t = 0; t < ng; t++) {
				f = &snap->slots[(size_t)a->group[t] * np + idx];
				ret = cowstat_residue_push(snap, f);
				if (ret)
					return ret;
			}
		}
		cnt = keep;
	}
	return 0;
}

/*
 * Settle the frames of one chunk. Copy-on-write sharing in a fork family keeps a frame at
 * the same virtual address in every process that shares it, so at each address the members
 * that map the same pfn are grouped: if the group holds every mapping of the frame
 * (mapcount), the frame is counted here, once. Otherwise (mapped outside the family, or at
 * another address after mremap()) its mappings go to the residue, which is sorted by pfn
 * at the end. The result is exact either way; this only keeps the residue small. The slots
 * hold only pages mapped more than once (walk.c counts the others itself). Only the members
 * walked in this chunk have slots in it.
 */
static int cowstat_merge_chunk(struct cowstat_snap *snap, struct cowstat_acct *a)
{
	unsigned int np = snap->chunk_pages, words = BITS_TO_LONGS(np);
	unsigned long idx, any;
	unsigned int i, wi;
	int ret;

	bitmap_zero(a->any, np);
	for (i = 0; i < snap->nr_walked; i++)
		bitmap_or(a->any, a->any, snap->present + (size_t)snap->walked[i] * words, np);
	for (wi = 0; wi < words; wi++) {
		for (any = a->any[wi]; any; any &= any - 1) {
			idx = wi * BITS_PER_LONG + __ffs(any);
			if (cowstat_merge_same(snap, a, idx))
				continue;
			ret = cowstat_merge_split(snap, a, idx);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* The residue: group its mappings by pfn, over the whole family. */
static void cowstat_account_residue(struct cowstat_snap *snap, struct cowstat_acct *a)
{
	struct cowstat_frame *f = snap->frames;
	size_t n = snap->nr_frames, i, j, k;
	u64 mask;

	if (cowstat_radix_sort(f, n))
		sort(f, n, sizeof(*f), cowstat_frame_cmp, NULL);
	for (i = 0; i < n; i = j) {
		u32 mapcount = 0;

		mask = 0;
		for (j = i; j < n && f[j].pfn == f[i].pfn; j++) {
			mapcount = max(mapcount, f[j].mapcount);
			if (f[j].member < 64)
				mask |= BIT_ULL(f[j].member);
		}
		if (mapcount > j - i)
			for (k = i; k < j; k++)
				cowstat_count_outside(snap, &f[k]);
		cowstat_count_distinct(a, snap->nr_members, mask);
		if (!(a->r->distinct & 0xffff))
			cond_resched();
	}
}

/*
 * The chunk: as many pages as slots of all members fit in the budget, 16 bytes a slot. Up to
 * 64 members, 32768 slots (512 KiB), at most 32 MiB of address space; from 64 to 512 members,
 * one page table (2 MiB of address space, 8 KiB per member, at most 4 MiB); beyond, 262144
 * slots (4 MiB), the chunk a power of two from 256 pages down to 8, and 8 pages (128 bytes
 * per member, 8 MiB at the 65,535-member cap) above 32768 members. Before, a chunk was never
 * less than one page table: 512 MiB of slots at the cap. The walker reads any part of a page
 * table or of a huge pmd (walk.c); a smaller chunk costs more walks (one mmap lock and page
 * table descent per member and chunk), which matters only for families that large. The
 * array is zeroed when it is allocated (init_on_alloc, the default of Debian kernels), so a
 * larger one costs more than the chunks it saves.
 */
#define COWSTAT_SLOTS_MIN	32768UL
#define COWSTAT_SLOTS_MAX	262144UL
#define COWSTAT_CHUNK_PAGES_MIN	8UL
#define COWSTAT_CHUNK_PAGES_MAX	(16UL * PTRS_PER_PTE)	/* 32 MiB of address space */

static unsigned int cowstat_chunk_pages(unsigned int nm)
{
	unsigned long pages = clamp((unsigned long)nm * PTRS_PER_PTE, COWSTAT_SLOTS_MIN,
				    COWSTAT_SLOTS_MAX) / nm;

	if (pages >= PTRS_PER_PTE)
		return min(rounddown(pages, PTRS_PER_PTE), COWSTAT_CHUNK_PAGES_MAX);
	return max(pages ? rounddown_pow_of_two(pages) : 0, COWSTAT_CHUNK_PAGES_MIN);
}

/*
 * Walk every member chunk by chunk, settling each chunk's frames. A member is walked only in
 * the chunks from its next populated address on (snap->due, from walk.c), and the walk jumps
 * over address space where no member has page tables: a member's untouched reservation costs
 * a look ahead over its empty upper-level entries, not a walk per chunk. Before, every member
 * was walked over every chunk any member mapped: 64 members each with an untouched 64 GiB
 * mapping took 5.0 s per snapshot in the 6.1 guest, against 15 ms without the mapping
 * (Documentation/cowstat.rst, "Cost and safety", has what it takes now).
 */
static int cowstat_walk_all(struct cowstat_snap *snap, struct cowstat_acct *a)
{
	unsigned int nm = snap->nr_members, m;
	unsigned long addr = snap->start, chunk_size, chunk_end, next;
	size_t words;
	int ret;

	snap->chunk_pages = cowstat_chunk_pages(nm);
	words = BITS_TO_LONGS(snap->chunk_pages);
	snap->slots = kvmalloc_array((size_t)nm * snap->chunk_pages, sizeof(*snap->slots),
				     GFP_KERNEL_ACCOUNT);
	snap->present = kvmalloc_array((size_t)nm * words, sizeof(long), GFP_KERNEL_ACCOUNT);
	a->any = kvmalloc_array(words, sizeof(long), GFP_KERNEL_ACCOUNT);
	a->list = kvmalloc_array(nm, sizeof(*a->list), GFP_KERNEL_ACCOUNT);
	a->group = kvmalloc_array(nm, sizeof(*a->group), GFP_KERNEL_ACCOUNT);
	snap->due = kvmalloc_array(nm, sizeof(*snap->due), GFP_KERNEL_ACCOUNT);
	snap->walked = kvmalloc_array(nm, sizeof(*snap->walked), GFP_KERNEL_ACCOUNT);
	if (!snap->slots || !snap->present || !a->any || !a->list || !a->group || !snap->due ||
	    !snap->walked)
		return -ENOMEM;
	chunk_size = (unsigned long)snap->chunk_pages << PAGE_SHIFT;
	for (m = 0; m < nm; m++)
		snap->due[m] = addr;

	while (addr < snap->end) {
		snap->chunk_base = addr - addr % chunk_size;
		chunk_end = snap->end;
		if (snap->chunk_base + chunk_size > snap->chunk_base)
			chunk_end = min(chunk_end, snap->chunk_base + chunk_size);
		snap->nr_walked = 0;
		next = ULONG_MAX;
		/*
		 * After a chunk every due address is at or past its end, so addr, the smallest,
		 * makes at least one member due here.
		 */
		for (m = 0; m < nm; m++) {
			if (snap->due[m] < chunk_end) {
				bitmap_zero(snap->present + (size_t)m * words, snap->chunk_pages);
				ret = cowstat_walk_chunk(snap, m, addr, chunk_end, &snap->due[m]);
				if (ret)
					return ret;
				snap->walked[snap->nr_walked++] = m;
			}
			next = min(next, snap->due[m]);
		}
		ret = cowstat_merge_chunk(snap, a);
		if (ret)
			return ret;
		/* Skip the address space where no member has page tables. */
		addr = max(chunk_end, next);
	}
	return 0;
}

/* Take a snapshot; on success *rp is the new result. */
int cowstat_sharing_take(struct file *file, pid_t pid, bool tree, unsigned long start,
			 unsigned long end, struct cowstat_sharing **rp)
{
	struct cowstat_snap snap = {
		.start = start,
		.end = end,
		.max_frames = READ_ONCE(snapshot_max_frames),
	};
	struct cowstat_acct acct = { };
	struct cowstat_sharing *r;
	unsigned int i, reg;
	int ret;

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	acct.r = r;
	ret = cowstat_family_collect(&snap, file, pid, tree);
	if (ret)
		goto out;
	if (snap.nr_members <= COWSTAT_SNAPSHOT_MATRIX_MAX) {
		r->matrix = kvcalloc(snap.nr_members * snap.nr_members, sizeof(*r->matrix),
				     GFP_KERNEL_ACCOUNT);
		acct.masks = kvcalloc(COWSTAT_MASK_SLOTS, sizeof(*acct.masks), GFP_KERNEL_ACCOUNT);
		if (!r->matrix || !acct.masks) {
			ret = -ENOMEM;
			goto out;
		}
	}
	ret = cowstat_walk_all(&snap, &acct);
	if (ret)
		goto out;
	/* The walk is over: drop the address spaces before sorting the residue. */
	for (i = 0; i < snap.nr_members; i++) {
		mmput(snap.members[i].mm);
		snap.members[i].mm = NULL;
	}
	cowstat_account_residue(&snap, &acct);
	if (acct.masks) {
		cowstat_mask_flush(&acct, snap.nr_members);
		for (i = 0; i < COWSTAT_MASK_SLOTS; i++)
			if (acct.masks[i].count)
				cowstat_matrix_add(r->matrix, snap.nr_members, acct.masks[i].mask,
						   acct.masks[i].count);
	}
	for (i = 0; i < snap.nr_members; i++) {
		u64 exclusive = 0;

		for (reg = 0; reg < COWSTAT_NR_REGIONS; reg++) {
			u64 *c = snap.members[i].count[reg];

			c[COWSTAT_C_SHARED_FAMILY] =
				c[COWSTAT_C_SHARED] - c[COWSTAT_C_SHARED_OUTSIDE];
			exclusive += c[COWSTAT_C_EXCLUSIVE];
			r->anon_mapped += c[COWSTAT_C_ANON];
			r->resident += c[COWSTAT_C_ANON] + c[COWSTAT_C_FILE_UNCOPIED] +
				       c[COWSTAT_C_KSM];
		}
		/* Pages mapped once (walk.c): each a distinct frame of this member only. */
		r->distinct += exclusive;
		if (r->matrix)
			r->matrix[i * snap.nr_members + i] += exclusive;
	}
	r->tree = tree;
	r->pid = pid;
	r->start = start;
	r->end = end;
	r->nr_members = snap.nr_members;
	r->members = snap.members;
	snap.members = NULL;
	*rp = r;
	r = NULL;
out:
	if (snap.members) {
		for (i = 0; i < snap.nr_members; i++)
			if (snap.members[i].mm)
				mmput(snap.members[i].mm);
		kvfree(snap.members);
	}
	kvfree(acct.group);
	kvfree(acct.list);
	kvfree(acct.any);
	kvfree(acct.masks);
	kvfree(snap.walked);
	kvfree(snap.due);
	kvfree(snap.present);
	kvfree(snap.slots);
	kvfree(snap.frames);
	cowstat_sharing_free(r);
	return ret;
}
