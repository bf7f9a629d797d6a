/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * uapi definitions newer than Debian 12's kernel headers (6.1): PAGEMAP_SCAN
 * (6.7), userfaultfd WP_ASYNC (6.7) and WP_UNPOPULATED (6.4).  Values are the
 * kernel's ABI; every definition is guarded so newer headers win.
 */

#include <stdint.h>
#include <linux/fs.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#ifndef PAGEMAP_SCAN
struct page_region {
	uint64_t start;
	uint64_t end; /* exclusive */
	uint64_t categories;
};

struct pm_scan_arg {
	uint64_t size;
	uint64_t flags;
	uint64_t start;
	uint64_t end;
	uint64_t walk_end; /* written by the kernel: where the walk stopped */
	uint64_t vec;
	uint64_t vec_len;
	uint64_t max_pages;
	uint64_t category_inverted;
	uint64_t category_mask;
	uint64_t category_anyof_mask;
	uint64_t return_mask;
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)

#define PM_SCAN_WP_MATCHING   (1ULL << 0)
#define PM_SCAN_CHECK_WPASYNC (1ULL << 1)

#define PAGE_IS_WPALLOWED  (1ULL << 0)
#define PAGE_IS_WRITTEN    (1ULL << 1)
#define PAGE_IS_FILE       (1ULL << 2)
#define PAGE_IS_PRESENT    (1ULL << 3)
#define PAGE_IS_SWAPPED    (1ULL << 4)
#define PAGE_IS_PFNZERO    (1ULL << 5)
#define PAGE_IS_HUGE       (1ULL << 6)
#define PAGE_IS_SOFT_DIRTY (1ULL << 7)
#endif

#ifndef PAGE_IS_GUARD
#define PAGE_IS_GUARD (1ULL << 8)
#endif

#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1ULL << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1ULL << 15)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd 438
#endif

/* pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst) */
#define PME_PFN_MASK    ((1ULL << 55) - 1)
#define PME_SOFT_DIRTY  (1ULL << 55)
#define PME_EXCLUSIVE   (1ULL << 56)
#define PME_UFFD_WP     (1ULL << 57)
#define PME_FILE_SHARED (1ULL << 61)
#define PME_SWAP        (1ULL << 62)
#define PME_PRESENT     (1ULL << 63)
