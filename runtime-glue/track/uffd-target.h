/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/err.h"
#include "runtime-glue/features.h"
#include "runtime-glue/mem/vma.h"
#include "runtime-glue/proc/freezer.h"

/*
 * uffd-wp tracking and the target's own use of userfaultfd.
 *
 * A VMA is registered with one userfaultfd at a time: while ckpt's uffd
 * tracks a range (from a pre-dump until the final dump, `ckpt untrack`, or the
 * target's exit), the target's own UFFDIO_REGISTER on it fails with EBUSY.  So
 * uffd-wp tracking is not armed in a tree that uses userfaultfd itself.  Nor
 * where its holder would become a child of a task of the tree: the double
 * fork hands the holder to the nearest subreaper among ckpt's ancestors, or
 * to the init of ckpt's pid namespace (`nsenter -t P -p ckpt pre-dump -t 1`);
 * a task of the tree would then see it in wait(2), and the next run would
 * freeze it.  A process cannot create one outside its own pid namespace, so
 * uffd-wp is refused there.
 */

/*
 * Before a run that arms tracking (@rearm) with *tid: when *tid is uffd-wp and
 * a task of @tgt (listed now, not frozen) holds a userfaultfd (an
 * anon_inode:[userfaultfd] fd), has ranges registered with one (VmFlags
 * um/uw/ui while no holder of ours tracks it), or the holder would be adopted
 * by a task of the tree (pid 1 or an ancestor of ckpt is in it): with
 * @explicit (--tracker uffd-wp) fail with the reason; else switch *tid to the
 * next tracker, with a warning and *why saying why.  Holders of ours for tasks
 * that use userfaultfd are stopped, so their own registrations work again.
 * A tree that cannot be listed is not checked (the freeze reports why).
 * The smaps read for the check are kept in @smaps (when not NULL and uffd-wp
 * stays): the layer takes its VmFlags from them (glue_vmas_snap).
 */
int glue_uffd_fit_target(const struct glue_target *tgt, bool explicit, bool rearm,
			 enum glue_tracker *tid, char *why, size_t why_len,
			 struct glue_vmas_snap *smaps, struct ck_err **err);

struct glue_untrack_result {
	size_t tasks;    /* tasks of the tree */
	size_t released; /* holders stopped */
};

/*
 * `ckpt untrack`: stop the uffd holder of every task of @tgt (listed, not
 * frozen; the tasks are not touched), which unregisters every range ckpt
 * registered.  One line per released task goes to @out.
 */
int glue_uffd_untrack(const struct glue_target *tgt, FILE *out, struct glue_untrack_result *r,
		      struct ck_err **err);
