/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Private to the memory engine (predump.c, engine-frozen.c): its state and
 * the pieces of the frozen path kept out of predump.c.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "runtime-glue/dump/frozen-buf.h"
#include "runtime-glue/dump/predump.h"
#include "runtime-glue/dump/presence.h"
#include "runtime-glue/mem/layer.h"
#include "runtime-glue/mem/pagemap.h"
#include "runtime-glue/dump/progress.h"
#include "runtime-glue/proc/freezer.h"
#include "runtime-glue/track/tracker.h"

#define CHUNK_PAGES 512 /* 2 MiB copied per step: bounds ckpt's memory */

/*
 * The final dump's early copy of one task (engine-pre.c): the pages its
 * tracker found written before the freeze, copied then, packed in address
 * order in the engine's early area from @off.
 */
struct engine_early {
	pid_t pid;
	uint64_t start_time;
	struct glue_ranges present; /* pages of the written set with content then */
	struct glue_ranges have;    /* pages copied */
	uint64_t *first;            /* [have.nr] index of each range's first page */
	size_t off;                 /* bytes into e->early_data */
};

/* A memory object plus what only the engine needs. */
struct mobj {
	struct glue_mobj m;
	struct glue_vmas vmas;     /* task objects */
	struct glue_memreader *rd; /* task objects */
	int shm_fd;                /* shmem objects: the segment, via map_files */
	uint64_t shm_dev;
	struct glue_presence pres; /* task objects */
	struct glue_pmw *pmw;      /* final dump: open until the frozen buffer is written */
	bool collected;
	/* a pre-dump: its task exited or exec'd after the thaw; left out of the layer */
	bool gone;
	pid_t vm_peer; /* a pre-dump: its vfork parent, whose address space it shared frozen */
	/* final dump: the early copy's pages still exact (engine-pre.c) */
	bool early_resolved;
	const struct engine_early *early;
	const struct glue_ranges *early_stale; /* the tracker's stale() */
	struct glue_ranges early_ok;
};

/* A task's parent pages, read before the freeze (engine-pre.c). */
struct engine_parent {
	pid_t vpid;
	uint64_t start_time;
	bool same;    /* the parent layer is this task's history */
	bool missing; /* ... but has no pagemap of it */
	struct glue_ranges held;
};

struct engine {
	const struct glue_mem_opts *o;
	struct glue_layer layer;
	struct glue_tracker_ctx trk;
	bool trk_open;
	struct glue_freezer *fz;
	struct glue_pstree tree;
	struct mobj *obj;
	size_t nr_obj;
	struct glue_progress *prog;
	struct glue_mem_result *res;
	struct glue_fbuf *fbuf; /* final dump: page data written after the freeze */
	uint8_t *buf, *held, *dirty, *rd;
	uint64_t pages_total, pages_done;
	bool half_fault_done;
	bool killed;               /* the tree was killed: nothing to thaw on failure */
	struct engine_parent *par; /* read before the freeze */
	size_t nr_par;
	struct engine_early *early; /* final dump: copied before the freeze */
	size_t nr_early;
	uint8_t *early_data; /* mapped, of the frozen buffer's size */
	size_t early_used;
	struct glue_vmas_snap smaps; /* read before the freeze (uffd-target.h), for VmFlags */
	bool presence_late;          /* the presence scan after the thaw (predump.c) */
};

/*
 * Running, before the freeze (engine-pre.c): list the tree of @tgt, read each
 * task's parent pages and let the tracker precollect().  Best effort: what
 * fails here is done while frozen.
 */
void glue_engine_prefreeze(struct engine *e, const struct glue_target *tgt);
/* Frozen: @ob's parent pages (from the cache above when it has them); 0 or -1. */
int glue_engine_load_parent(struct engine *e, struct mobj *ob, struct ck_err **err);
/* Frees the above (before e->obj: the objects' early_ok too). */
void glue_engine_prefreeze_free(struct engine *e);
/*
 * The final dump's frozen buffer: --frozen-buffer less what the early copy
 * holds (one bound for both), taking the early copy's pages by pointer.
 */
struct glue_fbuf *glue_engine_fbuf_new(const struct engine *e);
/*
 * Frozen, after collect(): the pages of [@start, @end) of @ob whose early
 * copy is still exact, as a pointer to the first one's data, and how many
 * pages from @start (0: read it now; *skip then says how many pages from
 * @start have no valid copy).
 */
/*
 * Frozen, after collect(): for @ob's early copy, the presence of the written
 * pages found before the freeze and the pages that may have changed since
 * (to be checked again); false without an early copy.
 */
bool glue_engine_early_presence(struct engine *e, struct mobj *ob,
				const struct glue_ranges **present,
				const struct glue_ranges **stale);
size_t glue_engine_early_at(struct engine *e, struct mobj *ob, uint64_t start, uint64_t end,
			    const uint8_t **data, size_t *skip);

/*
 * After a pre-dump's copy: VmFlags of @ob's VMAs that did not change since
 * the freeze, from the smaps read before it (e->smaps) when every VMA is
 * there alike, else from smaps read now.  A flag changed by madvise() on a
 * whole VMA is missed either way: no read outside the freeze is of its
 * instant, and a pre-dump's mm image restores nothing.
 */
void glue_engine_vmflags(struct engine *e, struct mobj *ob);
/*
 * A pre-dump, after the thaw: whether @ob's task exited or exec'd since the
 * freeze (sets ob->gone, logged once).  What was read of it may be of another
 * address space, so none of it goes into the layer: no pages, no mm image,
 * no tracker state, and its next layer is whole.
 */
bool glue_engine_gone(struct engine *e, struct mobj *ob);
/*
 * The copy of @ob into the layer (engine-copy.c): its pagemap and pages
 * images, then the tracker's finish_obj().  A pre-dump's object whose task
 * is gone by the end is left out (its images removed).  0 or -1.
 */
int glue_engine_dump_obj(struct engine *e, struct mobj *ob, struct ck_err **err);
/* The presence of the pages the tracker reported changed (presence.h). */
int glue_engine_check_presence(struct engine *e, struct ck_err **err);
/*
 * Trackers that never look at page data: every dirty run of a chunk in one
 * read, packed; *dst says where (the final dump's frozen buffer, or e->buf).
 */
int glue_engine_read_packed(struct engine *e, struct mobj *ob, uint64_t addr, size_t n,
			    size_t *valid, uint8_t **dst, struct ck_err **err);
/*
 * The final dump of @ob, run by run: for a tracker with dirty_ranges(), the
 * layer's entries come from range arithmetic (present, parent, dirty) and the
 * dirty runs are read up to 1024 at a time, straight into the frozen buffer.
 * 1 when done, 0 when not applicable (the caller goes chunk by chunk), -1.
 */
int glue_engine_dump_sparse(struct engine *e, struct mobj *ob, struct glue_pmw *w,
			    struct ck_err **err);
/* Final dump, after the kill or the thaw: the page data of the frozen buffer. */
int glue_engine_write_buffered(struct engine *e, struct ck_err **err);
/* Kill the frozen tree (CRIU's default); the frozen time ends here. */
int glue_engine_kill_tree(struct engine *e, struct ck_err **err);
