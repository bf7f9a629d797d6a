// SPDX-License-Identifier: MIT
/*
 * Page selection (PAGEMAP_SCAN or pagemap) and remote memory copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/linux-compat.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/mem/pages.h"

#ifndef PME_GUARD_REGION
#define PME_GUARD_REGION (1ULL << 58)
#endif

#define SCAN_VEC      512  /* page_region slots per PAGEMAP_SCAN call */
#define PAGEMAP_CHUNK 8192 /* pagemap entries per read (32 MiB of address space) */

struct glue_pagescan {
	pid_t pid;
	int fd;
	enum glue_scan_method method;
	struct page_region *vec;
	uint64_t *pme;
};

/* see pages.h */
void glue_ranges_add(struct glue_ranges *rs, uint64_t start, uint64_t end)
{
	if (start >= end)
		return;
	rs->pages += (end - start) >> GLUE_PAGE_SHIFT;
	if (rs->nr && rs->r[rs->nr - 1].end == start) {
		rs->r[rs->nr - 1].end = end;
		return;
	}
	if (rs->nr == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 64;
		rs->r = xreallocarray(rs->r, rs->cap, sizeof(*rs->r));
	}
	rs->r[rs->nr].start = start;
	rs->r[rs->nr].end = end;
	rs->nr++;
}

/* see pages.h */
void glue_ranges_free(struct glue_ranges *rs)
{
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

/* see pages.h */
void glue_ranges_union(const struct glue_ranges *a, const struct glue_ranges *b,
		       struct glue_ranges *out)
{
	size_t i = 0, j = 0;
	uint64_t cs = 0, ce = 0;
	bool open = false;

	while (i < a->nr || j < b->nr) {
		const struct glue_range *r;

		if (j >= b->nr || (i < a->nr && a->r[i].start <= b->r[j].start))
			r = &a->r[i++];
		else
			r = &b->r[j++];
		if (open && r->start <= ce) {
			if (r->end > ce)
				ce = r->end;
			continue;
		}
		if (open)
			glue_ranges_add(out, cs, ce);
		cs = r->start;
		ce = r->end;
		open = true;
	}
	if (open)
		glue_ranges_add(out, cs, ce);
}

/* see pages.h */
void glue_ranges_subtract(const struct glue_ranges *a, const struct glue_ranges *b,
			  struct glue_ranges *out)
{
	size_t j = 0;

	for (size_t i = 0; i < a->nr; i++) {
		uint64_t s = a->r[i].start;

		while (j < b->nr && b->r[j].end <= s)
			j++;
		for (size_t k = j; k < b->nr && b->r[k].start < a->r[i].end; k++) {
			if (b->r[k].start > s)
				glue_ranges_add(out, s, b->r[k].start);
			if (b->r[k].end > s)
				s = b->r[k].end;
		}
		if (s < a->r[i].end)
			glue_ranges_add(out, s, a->r[i].end);
	}
}

/* see pages.h */
size_t glue_ranges_first_after(const struct glue_ranges *rs, uint64_t addr)
{
	size_t lo = 0, hi = rs->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rs->r[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* see pages.h */
bool glue_ranges_contains(const struct glue_ranges *rs, uint64_t addr)
{
	size_t k = glue_ranges_first_after(rs, addr);

	return k < rs->nr && rs->r[k].start <= addr;
}

/* The PFN of the shared zero page, as seen in our own pagemap (needs root). */
static uint64_t zero_pfn(void)
{
	static int done;
	static uint64_t pfn;
	_cleanup_close_ int fd = -1;
	volatile char *p;
	uint64_t pme = 0;

	if (done)
		return pfn;
	done = 1;
	p = mmap(NULL, GLUE_PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	(void)p[0]; /* read fault maps the zero page */
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 &&
	    pread(fd, &pme, sizeof(pme), (off_t)(((uintptr_t)p >> GLUE_PAGE_SHIFT) * 8)) == 8 &&
	    (pme & PME_PRESENT))
		pfn = pme & PME_PFN_MASK;
	munmap((void *)p, GLUE_PAGE_SIZE);
	if (!pfn)
		pr_warn("cannot see the zero page's PFN (not root?): zero pages will be dumped");
	return pfn;
}

static bool have_pagemap_scan(int fd)
{
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.start = 0,
		.end = 0,
		.category_anyof_mask = PAGE_IS_PRESENT,
		.return_mask = PAGE_IS_PRESENT,
	};

	/* An empty range is valid on kernels that know the ioctl. */
	return ioctl(fd, PAGEMAP_SCAN, &arg) >= 0;
}

/* see pages.h */
struct glue_pagescan *glue_pagescan_open(pid_t pid, enum glue_scan_method m, struct ck_err **err)
{
	struct glue_pagescan *ps;
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ck_err_set(err, errno, "open %s", path);
		return NULL;
	}
	ps = xzalloc(sizeof(*ps));
	ps->pid = pid;
	ps->fd = fd;
	if (m == GLUE_SCAN_AUTO)
		m = have_pagemap_scan(fd) ? GLUE_SCAN_PAGEMAP_SCAN : GLUE_SCAN_PAGEMAP;
	ps->method = m;
	if (m == GLUE_SCAN_PAGEMAP_SCAN) {
		ps->vec = xcalloc(SCAN_VEC, sizeof(*ps->vec));
	} else {
		ps->pme = xcalloc(PAGEMAP_CHUNK, sizeof(*ps->pme));
		zero_pfn();
	}
	return ps;
}

/* see pages.h */
void glue_pagescan_close(struct glue_pagescan *ps)
{
	if (!ps)
		return;
	if (ps->fd >= 0)
		close(ps->fd);
	free(ps->vec);
	free(ps->pme);
	free(ps);
}

/* see pages.h */
enum glue_scan_method glue_pagescan_method(const struct glue_pagescan *ps)
{
	return ps->method;
}

/* see pages.h */
int glue_pagescan_fd(const struct glue_pagescan *ps)
{
	return ps->fd;
}

/* see pages.h */
bool glue_pagescan_mm_gone(const struct glue_pagescan *ps)
{
	uint64_t pme;
	ssize_t n;

	do
		n = pread(ps->fd, &pme, sizeof(pme), 0);
	while (n < 0 && errno == EINTR);
	return n == 0;
}

/*
 * A uffd-wp PTE marker (left in empty slots of a write-protected range by an
 * armed tracker, ckpt's or another chain's) looks like a swapped page to
 * PAGEMAP_SCAN.  /proc/PID/pagemap tells them apart for root: swap type 31
 * (the kernel's marker type, last of the 5-bit types).  Without the PFN/swap
 * fields (unprivileged) nothing is dropped: markers then cost space, never
 * correctness.
 */
#define SWP_TYPE_MASK   0x1fULL
#define SWP_TYPE_MARKER 31ULL

static bool is_marker(uint64_t pme)
{
	return (pme & PME_SWAP) && !(pme & PME_PRESENT) && (pme & SWP_TYPE_MASK) == SWP_TYPE_MARKER;
}

/* Append the swapped pages of [start, end) that are real pages, not markers. */
static int add_swapped(struct glue_pagescan *ps, uint64_t start, uint64_t end,
		       struct glue_ranges *out, struct ck_err **err)
{
	uint64_t pme[512];

	while (start < end) {
		uint64_t cnt = (end - start) >> GLUE_PAGE_SHIFT;
		ssize_t got;

		if (cnt > ARRAY_SIZE(pme))
			cnt = ARRAY_SIZE(pme);
		got = pread(ps->fd, pme, (size_t)cnt * 8, (off_t)((start >> GLUE_PAGE_SHIFT) * 8));
		if (got < 8)
			return ck_err_set(err, got < 0 ? errno : EIO, "read pagemap of %d",
					  (int)ps->pid);
		cnt = (uint64_t)got / 8;
		for (uint64_t j = 0; j < cnt; j++, start += GLUE_PAGE_SIZE)
			if (!is_marker(pme[j]))
				glue_ranges_add(out, start, start + GLUE_PAGE_SIZE);
	}
	return 0;
}

static int scan_ioctl(struct glue_pagescan *ps, uint64_t start, uint64_t end,
		      struct glue_ranges *out, uint64_t skip, struct ck_err **err)
{
	while (start < end) {
		struct pm_scan_arg arg = {
			.size = sizeof(arg),
			.start = start,
			.end = end,
			.vec = (uintptr_t)ps->vec,
			.vec_len = SCAN_VEC,
			.category_inverted = skip,
			.category_mask = skip,
			.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
			.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
		};
		long n = ioctl(ps->fd, PAGEMAP_SCAN, &arg);

		if (n < 0)
			return ck_err_set(err, errno, "PAGEMAP_SCAN of %d at %#llx", (int)ps->pid,
					  (unsigned long long)start);
		for (long i = 0; i < n; i++) {
			if (ps->vec[i].categories & PAGE_IS_PRESENT)
				glue_ranges_add(out, ps->vec[i].start, ps->vec[i].end);
			else if (add_swapped(ps, ps->vec[i].start, ps->vec[i].end, out, err) < 0)
				return -1;
		}
		if (arg.walk_end <= start)
			return ck_err_set(err, 0, "PAGEMAP_SCAN of %d made no progress at %#llx",
					  (int)ps->pid, (unsigned long long)start);
		start = arg.walk_end;
	}
	return 0;
}

static int scan_pagemap(struct glue_pagescan *ps, uint64_t start, uint64_t end,
			struct glue_ranges *out, struct ck_err **err)
{
	uint64_t zpfn = zero_pfn();

	while (start < end) {
		size_t want = (size_t)((end - start) >> GLUE_PAGE_SHIFT);
		ssize_t got;

		if (want > PAGEMAP_CHUNK)
			want = PAGEMAP_CHUNK;
		got = pread(ps->fd, ps->pme, want * 8, (off_t)((start >> GLUE_PAGE_SHIFT) * 8));
		if (got < 0)
			return ck_err_set(err, errno, "read pagemap of %d", (int)ps->pid);
		if (got < 8)
			return ck_err_set(err, 0, "short pagemap read of %d", (int)ps->pid);
		want = (size_t)got / 8;
		for (size_t i = 0; i < want; i++) {
			uint64_t e = ps->pme[i];
			uint64_t addr = start + (i << GLUE_PAGE_SHIFT);

			if (!(e & (PME_PRESENT | PME_SWAP)))
				continue;
			if (e & (PME_FILE_SHARED | PME_GUARD_REGION) || is_marker(e))
				continue;
			if ((e & PME_PRESENT) && zpfn && (e & PME_PFN_MASK) == zpfn)
				continue;
			glue_ranges_add(out, addr, addr + GLUE_PAGE_SIZE);
		}
		start += (uint64_t)want << GLUE_PAGE_SHIFT;
	}
	return 0;
}

/* see pages.h */
int glue_pagescan_range(struct glue_pagescan *ps, uint64_t start, uint64_t end,
			struct glue_ranges *out, struct ck_err **err)
{
	if (ps->method == GLUE_SCAN_PAGEMAP_SCAN)
		return scan_ioctl(ps, start, end, out,
				  PAGE_IS_PFNZERO | PAGE_IS_FILE | PAGE_IS_GUARD, err);
	return scan_pagemap(ps, start, end, out, err);
}

/* see pages.h */
int glue_pagescan_range_anon(struct glue_pagescan *ps, uint64_t start, uint64_t end,
			     struct glue_ranges *out, struct ck_err **err)
{
	/* no PAGE_IS_FILE in any mask: the kernel then never looks at struct page */
	if (ps->method == GLUE_SCAN_PAGEMAP_SCAN)
		return scan_ioctl(ps, start, end, out, PAGE_IS_PFNZERO | PAGE_IS_GUARD, err);
	return scan_pagemap(ps, start, end, out, err);
}

/* see pages.h */
int glue_pagescan_vma(struct glue_pagescan *ps, const struct glue_vma *vma, struct glue_ranges *out,
		      struct ck_err **err)
{
	switch (vma->dump) {
	case GLUE_DUMP_WHOLE:
		glue_ranges_add(out, vma->start, vma->end);
		return 0;
	case GLUE_DUMP_PRIVATE:
		if (!vma->rss_kb)
			return 0; /* smaps says nothing is resident or swapped */
		/* the same answer three times cheaper (a 1 GiB first layer: 15 -> 5 ms) */
		if (glue_vma_anonymous(vma))
			return glue_pagescan_range_anon(ps, vma->start, vma->end, out, err);
		return glue_pagescan_range(ps, vma->start, vma->end, out, err);
	case GLUE_DUMP_SKIP:
	case GLUE_DUMP_SHMEM:
		return 0;
	}
	return 0;
}

struct glue_memreader {
	pid_t pid;
	enum glue_copy_method method;
	int memfd;
};

/* see pages.h */
enum glue_copy_method glue_copy_method_default(void)
{
	static int m = -1;

	if (m < 0) {
		const char *e = getenv("CK_COPY");

		m = (e && !strcmp(e, "procmem")) ? GLUE_COPY_PROC_MEM : GLUE_COPY_VM_READV;
	}
	return (enum glue_copy_method)m;
}

/* see pages.h */
struct glue_memreader *glue_memreader_open(pid_t pid, enum glue_copy_method m, struct ck_err **err)
{
	struct glue_memreader *r = xzalloc(sizeof(*r));

	r->pid = pid;
	r->method = m;
	r->memfd = -1;
	if (m == GLUE_COPY_PROC_MEM) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
		r->memfd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->memfd < 0) {
			ck_err_set(err, errno, "open %s", path);
			free(r);
			return NULL;
		}
	}
	return r;
}

/* see pages.h */
void glue_memreader_close(struct glue_memreader *r)
{
	if (!r)
		return;
	if (r->memfd >= 0)
		close(r->memfd);
	free(r);
}

static ssize_t read_procmem(struct glue_memreader *r, const struct glue_range *rs, size_t n,
			    char *buf, struct ck_err **err)
{
	size_t done = 0;

	for (size_t i = 0; i < n; i++) {
		size_t len = (size_t)(rs[i].end - rs[i].start);
		size_t off = 0;

		while (off < len) {
			ssize_t got = pread(r->memfd, buf + done + off, len - off,
					    (off_t)(rs[i].start + off));

			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0 && (errno == EIO || errno == EFAULT))
				return (ssize_t)(done + off);
			if (got < 0)
				return ck_err_set(err, errno, "read /proc/%d/mem", (int)r->pid);
			if (got == 0)
				return (ssize_t)(done + off);
			off += (size_t)got;
		}
		done += len;
	}
	return (ssize_t)done;
}

static ssize_t read_vm(struct glue_memreader *r, const struct glue_range *rs, size_t n, char *buf,
		       struct ck_err **err)
{
	struct iovec remote[IOV_MAX];
	size_t done = 0, i = 0;

	while (i < n) {
		size_t k = 0, want = 0;
		struct iovec local;
		ssize_t got;

		while (i + k < n && k < IOV_MAX) {
			remote[k].iov_base = (void *)(uintptr_t)rs[i + k].start;
			remote[k].iov_len = (size_t)(rs[i + k].end - rs[i + k].start);
			want += remote[k].iov_len;
			k++;
		}
		local.iov_base = buf + done;
		local.iov_len = want;
		got = process_vm_readv(r->pid, &local, 1, remote, k, 0);
		if (got < 0 && errno == EINTR)
			continue;
		/*
		 * The task exited (a pre-dump copies after the thaw): nothing more
		 * to read, like an unmapped range; the caller reports the short read.
		 */
		if (got < 0 && errno == ESRCH)
			return (ssize_t)done;
		if (got < 0 && errno != EFAULT && errno != ENOMEM)
			return ck_err_set(err, errno, "process_vm_readv from %d", (int)r->pid);
		if (got < 0)
			got = 0;
		if ((size_t)got < want) {
			/*
			 * A page process_vm_readv cannot read: gone, or not readable
			 * (PROT_NONE, write-only).  /proc/PID/mem reads with FOLL_FORCE,
			 * which covers the second case; it still stops at unmapped pages.
			 */
			struct glue_range rest[IOV_MAX];
			size_t skip = (size_t)got, m = 0;
			ssize_t more;

			for (size_t q = 0; q < k; q++) {
				size_t len = remote[q].iov_len;

				if (skip >= len) {
					skip -= len;
					continue;
				}
				rest[m].start = (uint64_t)(uintptr_t)remote[q].iov_base + skip;
				rest[m].end = (uint64_t)(uintptr_t)remote[q].iov_base + len;
				m++;
				skip = 0;
			}
			if (r->memfd < 0) {
				char path[64];

				snprintf(path, sizeof(path), "/proc/%d/mem", (int)r->pid);
				r->memfd = open(path, O_RDONLY | O_CLOEXEC);
				if (r->memfd < 0)
					return (ssize_t)(done + (size_t)got);
			}
			more = read_procmem(r, rest, m, buf + done + (size_t)got, err);
			if (more < 0)
				return -1;
			done += (size_t)got + (size_t)more;
			if ((size_t)got + (size_t)more < want)
				return (ssize_t)done;
			i += k;
			continue;
		}
		done += (size_t)got;
		i += k;
	}
	return (ssize_t)done;
}

/* see pages.h */
ssize_t glue_memreader_read(struct glue_memreader *r, const struct glue_range *rs, size_t n,
			    void *buf, struct ck_err **err)
{
	if (r->method == GLUE_COPY_PROC_MEM)
		return read_procmem(r, rs, n, buf, err);
	return read_vm(r, rs, n, buf, err);
}
