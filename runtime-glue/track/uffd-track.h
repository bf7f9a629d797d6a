/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "runtime-glue/mem/pages.h"

/*
 * Userfaultfd async write-protect tracking of another process's memory, one
 * VMA at a time (a multi-VMA register or scan fails as a whole, and a scan
 * that fails half-way has already re-protected the VMAs before the failure).
 *
 * The uffd is created inside the target and pulled out (see uffd-holder.h);
 * after that every call here runs in ckpt, so the target's seccomp filter
 * does not apply to them.
 */

/* UFFDIO_API with WP_ASYNC|WP_UNPOPULATED on a fresh uffd. */
int glue_uffd_api(int uffd, struct ck_err **err);

/*
 * Register [start, end) in write-protect mode.  Fails (errnum from the kernel)
 * for VMAs that cannot be tracked: no VM_MAYWRITE (EPERM), owned by another
 * uffd (EBUSY), VM_DROPPABLE or special mappings (EINVAL).
 */
int glue_uffd_register(int uffd, uint64_t start, uint64_t end, struct ck_err **err);

/*
 * Append to @out the pages of [start, end) written since the previous scan,
 * and write-protect them again: PAGEMAP_SCAN with WP_MATCHING|CHECK_WPASYNC
 * and category_mask = return_mask = PAGE_IS_WRITTEN (the kernel's fast path;
 * richer masks drop zapped pages).  The first scan after registration
 * reports every populated page.  *tracked is false, with 0 returned, when the
 * kernel refuses because part of the range is not registered (EPERM): a new,
 * moved or forked mapping; the caller must then treat the whole range as
 * written and register it.
 */
int glue_uffd_scan_written(int pagemap_fd, uint64_t start, uint64_t end, struct glue_ranges *out,
			   bool *tracked, struct ck_err **err);

/*
 * The same for a span of several VMAs of a frozen task in two calls, not one
 * a VMA (10,000 VMAs cost 10,000 ioctls): @unregistered gets the VMAs of
 * [start, end) that are not registered for async write-protection (the
 * PAGE_IS_WPALLOWED category, inverted: the VMAs on which CHECK_WPASYNC
 * fails), then @written the written pages of the others, write-protected
 * again (WP_MATCHING without CHECK_WPASYNC skips the unregistered ones).  The
 * task must be frozen between the two calls, and every VMA of the span must
 * be one the caller tracks: a registered VMA it does not track would have its
 * written bits consumed.
 */
int glue_uffd_scan_span(int pagemap_fd, uint64_t start, uint64_t end, struct glue_ranges *written,
			struct glue_ranges *unregistered, struct ck_err **err);

/*
 * Whether this kernel reports a removed page as written: in a range registered
 * with WP_ASYNC|WP_UNPOPULATED and armed, a page zapped since the last scan
 * (MADV_DONTNEED of a 4 KiB page, of a whole page table, of a THP) is in the
 * next written set, not silently gone.  Then the written set of an anonymous
 * VMA tells every page whose presence changed too.  Probed once per run on a
 * few MiB of ckpt's own memory (about a millisecond); false when anything in
 * the probe fails.
 */
bool glue_uffd_reports_removed(void);
