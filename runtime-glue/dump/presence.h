/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "runtime-glue/mem/pages.h"
#include "runtime-glue/track/tracker.h"

/*
 * Which pages of a task object to dump, without a presence scan of the
 * VMAs an exact tracker answers for (presence.c):
 *
 *   frozen   glue_presence_scan()     VMAs read; the parent layer's VMA list;
 *                                     presence scan of every VMA that is not
 *                                     an anonymous one the parent had at the
 *                                     same place and size (those are deferred)
 *            tracker collect()
 *            glue_presence_resolve()  per deferred VMA: the tracker's changed
 *                                     pages C, or a presence scan without one;
 *                                     known = parent's pages of the VMA - C
 *   frozen (dump) / thawed (pre-dump)
 *            glue_presence_check()    present = known + (C that is present),
 *                                     a presence scan of C's pages only
 *
 * Checking C after the thaw of a pre-dump is exact: the tracker was re-armed
 * while frozen, so whatever happens to a page after the freeze is in the next
 * layer's C, and a page of C that this layer leaves out is not in its
 * pagemap, so the next layer cannot refer to it.
 */
struct glue_presence {
	uint8_t *deferred;        /* [vmas->nr] 1 = no presence scan while frozen */
	struct glue_ranges known; /* pages known to be there (scanned, or parent - C) */
	struct glue_ranges maybe; /* changed pages of deferred VMAs: presence to check */
	uint64_t nr_deferred, nr_answered;
	uint64_t scan_us; /* time in presence scans while frozen */
};

int glue_presence_scan(struct glue_presence *p, struct glue_mobj *obj,
		       const struct glue_tracker_ops *ops, int parent_dirfd, struct ck_err **err);
int glue_presence_resolve(struct glue_presence *p, struct glue_tracker_ctx *t,
			  struct glue_mobj *obj, struct ck_err **err);
/*
 * With @seen (the presence, found earlier, of pages that include every page
 * of C not in @recheck): only C ∩ @recheck is scanned, the rest of C is
 * present as @seen says (the final dump's early copy: engine-pre.c).
 */
int glue_presence_check(struct glue_presence *p, struct glue_mobj *obj,
			const struct glue_ranges *seen, const struct glue_ranges *recheck,
			struct ck_err **err);
/*
 * The pages of @maybe that hold content now (anonymous VMAs), appended to
 * @found: one scan per window of changed pages less than 1 MiB apart.
 */
int glue_presence_of(struct glue_pagescan *ps, const struct glue_ranges *maybe,
		     struct glue_ranges *found, struct ck_err **err);
void glue_presence_free(struct glue_presence *p);
