/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "runtime-glue/features.h"
#include "runtime-glue/mem/pages.h"
#include "runtime-glue/proc/pstree.h"
#include "runtime-glue/mem/vma.h"

/*
 * Dirty trackers: "which pages may have changed since the parent layer?"
 *
 * The memory engine (predump.c) owns everything else: the freeze, the VMA
 * list, the presence scan, the parent chain, the copy and the images.  A
 * tracker only narrows down which present pages must be written again.  The
 * engine never trusts a tracker alone: a page becomes a PE_PARENT entry only
 * when it is present now, the tracker calls it clean, AND the parent layer's
 * pagemap covers that address (glue_mobj.parent_held).  A tracker can thus be
 * wrong only towards writing too much, never too little, as long as it does
 * not call a written page clean.
 *
 * One run, per memory object (a task's address space or one shared segment):
 *
 *   open()                            once per run, tree not frozen yet
 *   precollect(task)                  per task listed before the freeze
 *   ┌ frozen ────────────────────────────────────────────────────────────┐
 *   │ engine: VMAs + presence scan (not of VMAs that changed() covers)   │
 *   │ collect(obj)      kernel trackers read and re-arm the dirty state   │
 *   │ changed(obj, vma) exact trackers: the pages that may differ         │
 *   └────────────────────────────────────────────────────────────────────┘
 *   (pre-dump thaws here; dump stays frozen.  A uffd-wp pre-dump holds
 *   the freeze for the VMAs only: collect() (ctx.running), then the
 *   presence scan and changed(), run after the thaw, in that order)
 *   for each chunk of present pages of obj, in increasing address order:
 *     engine: dirty[i] = !held[i]
 *     classify(obj, chunk)            tracker may set more dirty bits
 *     engine: reads the pages that are dirty (all pages if needs_content)
 *     compare(obj, chunk)             optional: clear bits of unchanged pages
 *     engine: writes PE_PRESENT for dirty pages, PE_PARENT for the rest
 *     record(obj, chunk)              the final decision, with page data
 *   finish_obj(obj, layer_dirfd)      per-object state into the new layer
 *   commit(layer_dirfd)               global state into the new layer
 *   close()
 *
 * Kernel-assisted trackers (uffd-wp, soft-dirty; next issue) implement
 * collect + classify and leave compare NULL, so clean pages are never read.
 * The hash tracker implements compare + record and needs_content.  A tracker
 * that has no valid history for an object (no state from the parent run,
 * tracker process gone, pid reused, new VMA) simply marks the pages dirty.
 */

/* One address space or shared-memory segment being dumped. */
struct glue_mobj {
	bool shmem;                     /* a shared segment (offsets, not addresses) */
	pid_t pid;                      /* host pid used to read it (a mapper, for shmem) */
	uint64_t id;                    /* vpid, or the segment's inode: names the images */
	const struct glue_task *task;   /* NULL for shmem */
	const struct glue_vmas *vmas;   /* the task's VMAs (NULL for shmem) */
	struct glue_pagescan *scan;     /* open pagemap of pid (task objects) */
	struct glue_ranges present;     /* pages to dump, from the frozen presence scan */
	struct glue_ranges parent_held; /* pages the parent chain holds for this object */
	bool has_parent;                /* the parent layer has a pagemap for this object */
	void *tracker_priv;             /* the tracker's per-object state */
};

/* A run of consecutive present pages handed to the tracker. */
struct glue_chunk {
	uint64_t addr; /* first page (address, or offset for shmem) */
	size_t npages;
	const uint8_t *held; /* [npages] 1 = the parent chain holds this page */
	uint8_t *dirty;      /* [npages] 1 = write it (PE_PRESENT), 0 = PE_PARENT */
	const uint8_t *buf;  /* npages * 4096 bytes; pages not read are undefined */
	const uint8_t *read; /* [npages] 1 = buf holds this page's current content */
};

struct glue_tracker_ctx;

struct glue_tracker_ops {
	enum glue_tracker id;
	/* The engine must read every present page (content-based trackers). */
	bool needs_content;
	/*
	 * Set up for one run.  @parent_dirfd is the parent layer directory or -1,
	 * @layer_dirfd the (still temporary) directory of the new layer; @rearm:
	 * keep tracking for a later layer (pre-dump, dump --track-mem).
	 */
	int (*open)(struct glue_tracker_ctx *t, int parent_dirfd, int layer_dirfd, bool rearm,
		    struct ck_err **err);
	/*
	 * Running, before the freeze, for each task listed then: do what part
	 * of collect() can be done early (optional; best effort: what it
	 * cannot do, collect() does while frozen; it never makes collect()
	 * less exact).
	 */
	void (*precollect)(struct glue_tracker_ctx *t, const struct glue_task *task);
	/*
	 * After precollect(): the pages of @task it found written (NULL: none
	 * or not done).  The final dump copies them before the freeze
	 * (optional; with stale()).
	 */
	const struct glue_ranges *(*early_written)(struct glue_tracker_ctx *t,
						   const struct glue_task *task);
	/*
	 * After collect(): the pages of @obj whose copy made after
	 * precollect() may differ from memory now (written since, or in a VMA
	 * dumped whole); NULL when collect() did not build on precollect()
	 * (no early copy is valid).
	 */
	const struct glue_ranges *(*stale)(struct glue_tracker_ctx *t, const struct glue_mobj *obj);
	/* Frozen: snapshot the dirty state of @obj and re-arm (optional). */
	int (*collect)(struct glue_tracker_ctx *t, struct glue_mobj *obj, struct ck_err **err);
	/*
	 * Frozen, after collect(): the pages of anonymous VMA @v of @obj that may
	 * differ from the parent layer, when the tracker knows them exactly,
	 * pages that were removed since (MADV_DONTNEED, ...) included; NULL when
	 * it does not (optional).  With an answer the engine does not scan @v for
	 * presence: the parent's pages of @v that are not in the answer are
	 * still there, unchanged; only the answer's pages are checked.
	 */
	const struct glue_ranges *(*changed)(struct glue_tracker_ctx *t,
					     const struct glue_mobj *obj, const struct glue_vma *v);
	/*
	 * After collect(): every page of @obj that may differ from the parent
	 * layer, as ranges appended to @out; false when the tracker has no
	 * history for @obj (every page may differ).  Lets the engine write a
	 * layer run by run instead of page by page (optional; only for trackers
	 * without needs_content, compare and record, whose classify() marks
	 * exactly these pages).
	 */
	bool (*dirty_ranges)(struct glue_tracker_ctx *t, struct glue_mobj *obj,
			     struct glue_ranges *out);
	/* Mark pages of @c that may differ from the parent layer (optional). */
	int (*classify)(struct glue_tracker_ctx *t, struct glue_mobj *obj, struct glue_chunk *c,
			struct ck_err **err);
	/* Clear dirty bits of read pages whose content equals the parent's (optional). */
	int (*compare)(struct glue_tracker_ctx *t, struct glue_mobj *obj, struct glue_chunk *c,
		       struct ck_err **err);
	/* The final decision for @c, in address order (optional). */
	int (*record)(struct glue_tracker_ctx *t, struct glue_mobj *obj, const struct glue_chunk *c,
		      struct ck_err **err);
	/* Write per-object state into the new layer (optional). */
	int (*finish_obj)(struct glue_tracker_ctx *t, struct glue_mobj *obj, int layer_dirfd,
			  struct ck_err **err);
	/* Write global state into the new layer (optional). */
	int (*commit)(struct glue_tracker_ctx *t, int layer_dirfd, struct ck_err **err);
	/* Free per-object state (optional; called for every collected object). */
	void (*release_obj)(struct glue_tracker_ctx *t, struct glue_mobj *obj);
	/* Free everything (optional). */
	void (*close)(struct glue_tracker_ctx *t);
};

struct glue_tracker_ctx {
	const struct glue_tracker_ops *ops;
	void *priv;
	const struct glue_pstree *tree; /* the frozen tree, set by the engine before collect() */
	/*
	 * Set before precollect(): collect() will run with the tree running (a
	 * uffd-wp pre-dump, after its thaw: predump.c), so the VMA list may be
	 * stale and no scan may rely on the VMA set staying as it was between
	 * two calls; nor is there any point in reading part of it before the
	 * freeze.
	 */
	bool running;
	/* counters for stats and the log */
	uint64_t pages_compared;  /* pages whose content was checked */
	uint64_t pages_unchanged; /* checked pages found equal to the parent */
};

/*
 * The implementation of tracker @id, or NULL with *err set when this build
 * does not have it.
 */
const struct glue_tracker_ops *glue_tracker_ops(enum glue_tracker id, struct ck_err **err);

/*
 * Per-process tracker state kept in a layer: "<prefix>-<id>.state" holding
 * "token T starttime S" (the tracker instance that armed the process, and the
 * process's start time, which tells a reused pid apart).  read returns false
 * when the file is absent or malformed (no history); @dirfd may be -1.
 */
bool glue_tracker_state_read(int dirfd, const char *prefix, uint64_t id, uint64_t *token,
			     uint64_t *starttime);
int glue_tracker_state_write(int dirfd, const char *prefix, uint64_t id, uint64_t token,
			     uint64_t starttime, struct ck_err **err);

/*
 * The same state with a list of page ranges after it ("ranges N", then N
 * lines "START-END" in hex), at most GLUE_TRACKER_STATE_RANGES_MAX of them;
 * @rs NULL writes the plain state.  read_ranges: 1 with @out filled, 0 when
 * the file has no list (or is absent), -1 when the list is malformed (a
 * warning says so; @out is left empty).
 */
#define GLUE_TRACKER_STATE_RANGES_MAX 16384
int glue_tracker_state_write_ranges(int dirfd, const char *prefix, uint64_t id, uint64_t token,
				    uint64_t starttime, const struct glue_ranges *rs,
				    struct ck_err **err);
int glue_tracker_state_read_ranges(int dirfd, const char *prefix, uint64_t id,
				   struct glue_ranges *out);

/* Implementations (tracker-<name>.c). */
extern const struct glue_tracker_ops glue_tracker_uffd_ops;
extern const struct glue_tracker_ops glue_tracker_softdirty_ops;
extern const struct glue_tracker_ops glue_tracker_hash_ops;
extern const struct glue_tracker_ops glue_tracker_none_ops;

/*
 * The page hash used by the hash tracker: 128 bits, keyed, non-cryptographic.
 * Exposed for unit tests and verify.
 */
struct glue_hash128 {
	uint64_t lo, hi;
};
struct glue_hash128 glue_page_hash(const void *page, const uint64_t key[2]);
