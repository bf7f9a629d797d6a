/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "runtime-glue/mem/pages.h"
#include "runtime-glue/proc/pstree.h"
#include "runtime-glue/mem/vma.h"

/*
 * Image layers: one directory per ckpt run, linked to its parent.
 *
 *   pre-1/            pre-2/                 dump/
 *   inventory.img     inventory.img          inventory.img
 *   pstree.img        pstree.img             pstree.img
 *   mm-1.img          mm-1.img               mm-1.img
 *   pagemap-1.img     pagemap-1.img          pagemap-1.img
 *    P P P P P         P . . P .              . . . . P      P = PE_PRESENT (data here)
 *   pages-1.img       pages-1.img            pages-1.img     . = PE_PARENT  (data below)
 *   stats-dump        stats-dump             stats-dump
 *   ckpt-layer        ckpt-layer             ckpt-layer
 *   ckpt-hash-*.bin   ckpt-hash-*.bin        ckpt-hash-*.bin
 *                     parent -> ../pre-1     parent -> ../pre-2
 *
 * A layer is written into a hidden sibling directory (.NAME.ckpt-tmp-PID) and
 * renamed onto NAME when complete, so NAME either does not exist, is an empty
 * directory made by the caller (runc does this), or holds a whole layer.
 *
 * layer.c: the directory and its meta; pagemap.h: the pagemap writer and
 * loader; chain.h: reading a layer and its parents.
 */

struct glue_copier;

struct glue_layer {
	char *dir;        /* final path as given */
	char *tmp;        /* temporary sibling */
	int dirfd;        /* the temporary directory */
	int parent_dirfd; /* the parent layer, or -1 */
	char *parent_rel; /* --prev-images-dir as given */
	uint32_t next_pages_id;
	uint64_t bytes_written;     /* page data written (pages-*.img) */
	struct glue_copier *copier; /* page writer thread (copy.h), or NULL: written inline */
	struct glue_pmw_pre *pre;   /* image files made before the freeze (pagemap.h) */
	size_t nr_pre;
};

/*
 * Prepare a new layer for final directory @dir, with @prev_rel (relative to
 * @dir, may be NULL) as its parent: checks the parent holds a layer
 * (inventory.img), creates the temporary directory and the `parent` symlink.
 * Removes stale temporary directories of dead ckpt runs for the same @dir.
 */
int glue_layer_begin(const char *dir, const char *prev_rel, struct glue_layer *l,
		     struct ck_err **err);

/*
 * fsync the temporary directory (its entries) and rename it onto @dir.  The
 * images' data is left to writeback, as CRIU leaves its own: a host crash
 * within the writeback delay can lose a recent layer's pages (verify
 * reports it).  A merge (mem/merge.c), which deletes the layer it replaces,
 * fsyncs every file first.
 */
int glue_layer_commit(struct glue_layer *l, struct ck_err **err);

/*
 * Prepare a layer that replaces the existing layer directory @dir (a merge,
 * mem/merge.h): the temporary sibling as for glue_layer_begin(), no parent.
 */
int glue_layer_begin_replace(const char *dir, struct glue_layer *l, struct ck_err **err);

/*
 * fsync the directory, then swap the temporary directory and @dir in one
 * renameat2(RENAME_EXCHANGE): @dir is the new layer, and l->tmp (hidden,
 * removed by glue_layer_abort() or as a stale directory by a later run) holds
 * the old one.
 */
int glue_layer_exchange(struct glue_layer *l, struct ck_err **err);

/* The hidden temporary name of this process for layer @dir.  Caller frees. */
char *glue_layer_tmp_name(const char *dir);

/* Remove the temporary directory (no error: cleanup path).  Safe after commit. */
void glue_layer_abort(struct glue_layer *l);

/*
 * Remove a flat layer directory: its files (and `parent` link), then the
 * directory itself.  Returns rmdir's result (errno set on failure).
 */
int glue_layer_remove_flat(const char *path);

/*
 * Retire a complete layer: rename it to a hidden temporary name first
 * (.NAME.ckpt-tmp-PID), then remove it.  A kill in between leaves no visible
 * half-removed layer, only a hidden directory that the next layer written
 * beside it removes (its pid is dead).  0, or -1 with errno.
 */
int glue_layer_retire(const char *path);

/* inventory.img: img_version 2, dump_uptime; pre_dump_mode READ for pre-dumps. */
int glue_layer_write_inventory(struct glue_layer *l, bool pre_dump, struct ck_err **err);
/* pstree.img, namespace pids. */
int glue_layer_write_pstree(struct glue_layer *l, const struct glue_pstree *tree,
			    struct ck_err **err);
struct VmaEntry;

/*
 * Fill the fields of a VmaEntry that come straight from the VMA (range,
 * pgoff, prot, flags, status, madv, fd -1); shmid and fdflags are the
 * caller's, since they depend on the image set being written.
 */
void glue_vma_entry_fill(struct VmaEntry *e, const struct glue_vma *v);

/* mm-<vpid>.img from /proc/PID/stat, auxv and the VMA list. */
int glue_layer_write_mm(struct glue_layer *l, const struct glue_task *task,
			const struct glue_vmas *vmas, struct ck_err **err);

/* Figures for stats-dump (CRIU's DumpStatsEntry), times in microseconds. */
struct glue_dump_stats {
	uint64_t freezing_us, frozen_us, memdump_us, memwrite_us;
	uint64_t pages_scanned, pages_skipped_parent, pages_written;
	uint64_t shpages_scanned, shpages_skipped_parent, shpages_written;
};
int glue_layer_write_stats(struct glue_layer *l, const struct glue_dump_stats *st,
			   struct ck_err **err);

/* Read stats-dump of the layer directory @dir. */
int glue_layer_read_stats(const char *dir, struct glue_dump_stats *st, struct ck_err **err);

/* ckpt-layer: tracker name and "vpid pid start_time" per task (pid-reuse detection). */
int glue_layer_write_meta(struct glue_layer *l, const char *tracker, const struct glue_pstree *tree,
			  struct ck_err **err);
/*
 * Whether the layer at @dirfd recorded task @vpid with @start_time; *tracker
 * (may be NULL) gets the tracker name (caller frees).  0 or -1.  A layer
 * written by CRIU (no ckpt-layer file) holds every task that started before
 * its inventory's dump_uptime: CRIU's own pid-reuse rule; *tracker stays NULL.
 */
int glue_layer_read_meta(int dirfd, pid_t vpid, uint64_t start_time, bool *same_task,
			 char **tracker, struct ck_err **err);
/*
 * From inventory.img of the layer at @dirfd: @dump_uptime (µs of
 * CLOCK_BOOTTIME when it was taken; 0 when absent) and @pre_dump
 * (pre_dump_mode set: a pre-dump by ckpt or CRIU).  0 or -1.
 */
int glue_layer_read_inventory(int dirfd, uint64_t *dump_uptime, bool *pre_dump,
			      struct ck_err **err);
/*
 * A ckpt-layer file at @dirfd, when there is one, is a regular file in
 * ckpt-layer's format; else -1 with *err naming it (@path: the layer's
 * directory, for messages).  0 when absent (CRIU).
 */
int glue_layer_check_meta(int dirfd, const char *path, struct ck_err **err);
/* Whether the layer at @dirfd was written by ckpt (has a ckpt-layer file). */
bool glue_layer_is_ckpt(int dirfd);
