/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "common/err.h"

/*
 * Merging the two oldest layers of a chain (merge.c), so that a chain that
 * grows one layer per round stays short:
 *
 *   base/ (no parent)     child/ (parent -> base)     next/ (parent -> child)
 *    P P P P P             . P . . P     ->    child/ (no parent)   next/ unchanged
 *                                               P P P P P
 *
 * The merged layer covers exactly what the child's pagemaps cover: a page the
 * child has PE_PRESENT keeps the child's data, a PE_PARENT page takes the
 * base's, and a page the child's pagemap does not list (never touched, a zero
 * page, unmapped since) is not listed in the merge either, whatever the base
 * held for it (CRIU restores such pages as fresh zero pages).  Pagemaps the
 * child has not (tasks gone since the base) are dropped.  Every other file of
 * the child (inventory, pstree, mm, core, tracker state, ckpt-layer, ...) is
 * the newest metadata and is kept as is (hard links); stats-dump is rewritten
 * with the merged page counts.  There is no parent link: the merge is the new
 * base.
 *
 * Crash safety: the merge is built in the child's hidden temporary sibling
 * (.NAME.ckpt-tmp-PID, see layer.h), every file and the directory fsynced,
 * then swapped with the child in one renameat2(RENAME_EXCHANGE), so the name
 * (and every `parent` link to it) holds the old child or the merge, never
 * anything else; both rebuild the same memory.  Then the base is renamed to
 * its own hidden name and both hidden directories are removed.  A run killed
 * at any point leaves only hidden directories, removed as stale by the next
 * layer written beside them (glue_layer_begin()); killed between the exchange
 * and the base's rename (fault point merge-switched), the base is still under
 * its name, and that cleanup removes it too: the stale old child shares its
 * files with the merge (hard links) and its `parent` link names the base.
 *
 * Memory: the pagemap entries of one object of each layer, and a 256 KiB copy
 * buffer; pages are streamed.
 *
 * Fault points (runtime-glue/fault.h): merge-pages (the first pagemap of the
 * merge written), merge-built (complete and fsynced, before the exchange),
 * merge-switched (exchanged, the old layers still there).
 */

struct glue_merge_stats {
	uint64_t pages;            /* pages of task memory in the merged layer */
	uint64_t shpages;          /* pages of shared memory objects (pagemap-shmem-*) */
	uint64_t pages_from_child; /* data the child held */
	uint64_t pages_from_base;  /* data taken from the base (PE_PARENT in the child) */
	uint64_t objects;          /* pagemaps */
};

/*
 * Merge @base and @child (whose `parent` link must lead to @base; @base must
 * have no parent) into one layer under @child's name, and remove @base.
 * 0, or -1 with *err set and the chain left as it was.  Past the exchange
 * nothing fails: an old directory that cannot be removed is a warning.
 */
int glue_layer_merge(const char *base, const char *child, struct glue_merge_stats *st,
		     struct ck_err **err);

/*
 * Two merges of one chain must never overlap (each renames the other's
 * layers away), and a chain a pre-copy agent keeps is rewritten only by the
 * agent.  Whoever merges holds an exclusive flock(2) on the directory that
 * holds the layers, for as long as it may merge: the agent for its whole life,
 * `ckpt compact` for its run.  The kernel drops it when the holder dies.
 * Returns the locked directory's fd (close it to release), or -1 with *err
 * set: EBUSY "the layers in DIR are being merged by another ckpt ...".
 */
int glue_chain_lock(const char *dir, struct ck_err **err) __attribute__((warn_unused_result));
