/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "runtime-glue/mem/vma.h"

/*
 * Page selection and copying.
 *
 * Selection answers "which pages of a VMA hold content that a restore needs":
 * present or swapped, not the shared zero page, not an unmodified page-cache
 * page of a private file mapping, not a guard marker.  It uses the
 * PAGEMAP_SCAN ioctl (category_inverted = PFNZERO|FILE|GUARD, anyof =
 * PRESENT|SWAPPED) and falls back to reading /proc/PID/pagemap entries.
 *
 * Copying reads another process's memory with process_vm_readv (default) or
 * pread on /proc/PID/mem (CK_COPY=procmem, for comparison in the benchmark).
 */

#define GLUE_PAGE_SIZE  4096ULL
#define GLUE_PAGE_SHIFT 12

/* A sorted list of disjoint page-aligned [start, end) ranges. */
struct glue_range {
	uint64_t start, end;
};

struct glue_ranges {
	size_t nr, cap;
	struct glue_range *r;
	uint64_t pages; /* total pages in all ranges */
};

/* Append [start, end); merges with the last range when adjacent.  Must be called in order. */
void glue_ranges_add(struct glue_ranges *rs, uint64_t start, uint64_t end);
void glue_ranges_free(struct glue_ranges *rs);
/* @a ∪ @b appended to @out (sorted, disjoint inputs; @out must not be either). */
void glue_ranges_union(const struct glue_ranges *a, const struct glue_ranges *b,
		       struct glue_ranges *out);
/* The pages of @a not in @b appended to @out (sorted, disjoint inputs). */
void glue_ranges_subtract(const struct glue_ranges *a, const struct glue_ranges *b,
			  struct glue_ranges *out);
/* Index of the first range of @rs that ends after @addr (rs->nr when none). */
size_t glue_ranges_first_after(const struct glue_ranges *rs, uint64_t addr);
/* True when @addr is in one of the ranges (binary search). */
bool glue_ranges_contains(const struct glue_ranges *rs, uint64_t addr);

struct glue_pagescan;

/* How pages are found; settable for tests and the benchmark. */
enum glue_scan_method {
	GLUE_SCAN_AUTO,
	GLUE_SCAN_PAGEMAP_SCAN, /* the PAGEMAP_SCAN ioctl (6.7+) */
	GLUE_SCAN_PAGEMAP,      /* reading 8-byte /proc/PID/pagemap entries */
};

/*
 * Open the page scanner of task @pid.  Returns NULL with *err set on failure.
 * GLUE_SCAN_AUTO picks PAGEMAP_SCAN when the kernel has it.
 */
struct glue_pagescan *glue_pagescan_open(pid_t pid, enum glue_scan_method m, struct ck_err **err);
void glue_pagescan_close(struct glue_pagescan *ps);
enum glue_scan_method glue_pagescan_method(const struct glue_pagescan *ps);
/* The pagemap fd of the task (O_RDONLY), for trackers that issue their own scans. */
int glue_pagescan_fd(const struct glue_pagescan *ps);
/*
 * Whether the address space the scan was opened on has no users left: its
 * task exited or exec'd since (the fd pins that mm, and a read of a pagemap
 * whose mm is gone returns nothing).  A task whose mm is shared with another
 * (vfork) and that exec'd is not seen here.
 */
bool glue_pagescan_mm_gone(const struct glue_pagescan *ps);

/*
 * Append to @out the content pages of [start, end) (see above).  Returns 0 or -1.
 */
int glue_pagescan_range(struct glue_pagescan *ps, uint64_t start, uint64_t end,
			struct glue_ranges *out, struct ck_err **err);

/*
 * The same for ranges of anonymous VMAs only, about three times cheaper: no
 * page there can be page cache, so the kernel is not asked (it would look at
 * every page's struct page).
 */
int glue_pagescan_range_anon(struct glue_pagescan *ps, uint64_t start, uint64_t end,
			     struct glue_ranges *out, struct ck_err **err);

/*
 * Append the pages to dump for one VMA: for GLUE_DUMP_PRIVATE the scan above,
 * for GLUE_DUMP_WHOLE the whole VMA, nothing for the other kinds.
 */
int glue_pagescan_vma(struct glue_pagescan *ps, const struct glue_vma *vma, struct glue_ranges *out,
		      struct ck_err **err);

/* Copy method: process_vm_readv (default) or /proc/PID/mem (CK_COPY=procmem). */
enum glue_copy_method {
	GLUE_COPY_VM_READV,
	GLUE_COPY_PROC_MEM,
};

struct glue_memreader;

struct glue_memreader *glue_memreader_open(pid_t pid, enum glue_copy_method m, struct ck_err **err);
void glue_memreader_close(struct glue_memreader *r);

/*
 * Read the remote ranges @rs[0..n) (in order) into @buf, which holds their
 * total size.  Returns the number of bytes read: less than the total when a
 * range vanished (unmapped or shrunk by the running task); the bytes read are
 * always a prefix.  -1 with *err on a real error.
 */
ssize_t glue_memreader_read(struct glue_memreader *r, const struct glue_range *rs, size_t n,
			    void *buf, struct ck_err **err);

/* Default copy method from the environment (CK_COPY=procmem|vm-readv), read once. */
enum glue_copy_method glue_copy_method_default(void);
