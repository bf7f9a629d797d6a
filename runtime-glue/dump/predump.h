/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "runtime-glue/features.h"
#include "runtime-glue/dump/dump-state.h"
#include "runtime-glue/proc/freezer.h"
#include "runtime-glue/mem/layer.h"

/*
 * The memory engine behind `ckpt pre-dump` and `ckpt dump` (memory layer):
 *
 *   layer_begin ─► tracker open ─► FREEZE ─► VMAs, presence scan, tracker collect
 *        ─► (pre-dump: THAW) ─► per chunk: classify, read, compare, write, record
 *        ─► (dump: THAW or leave stopped) ─► inventory, pstree, mm, stats ─► rename
 *
 * A pre-dump is not restorable by itself, so its pages are copied after the
 * thaw: a page changed meanwhile is caught by the next layer (its content
 * differs from what was recorded, or the tracker reports it).  The final dump
 * copies everything while frozen.
 */
struct glue_mem_opts {
	struct glue_target target;
	const char *images_dir;
	const char *prev_dir; /* --prev-images-dir, relative to images_dir */
	bool pre_dump;        /* copy after thawing; the tree always keeps running */
	bool leave_stopped;   /* dump: leave the tree stopped/frozen */
	bool track_mem;       /* dump: keep tracking for a later layer */
	int tracker;          /* enum glue_tracker, or -1 for the best available */
	bool json_progress;
	/* dump: also write what `criu restore` needs besides memory (dump-state.h) */
	bool restorable;
	bool shell_job;           /* session/group leaders may be outside the tree */
	bool kill_after;          /* dump: SIGKILL the tree once all is read and reserved */
	struct glue_ctr_opts ctr; /* dump: what a container dump is given (dump-state.h) */
	/*
	 * Final dump: told each step as CRIU's notify scripts name them
	 * ("pre-dump" before the freeze, "network-lock" once frozen when the
	 * container's netns is dropped, "post-dump" before the kill (once all is
	 * read and the pages' space reserved) or, left running, once committed, "network-unlock" after a
	 * --leave-running release or a failure that followed "network-lock").
	 * A failure of any but network-unlock fails the dump; the tree is thawed.
	 */
	int (*notify)(void *arg, const char *script, struct ck_err **err);
	void *notify_arg;
	/* dump: bytes of page data held in memory while frozen (frozen-buf.h) */
	uint64_t frozen_buffer;
	bool frozen_buffer_set;
	const char *verb; /* for the progress line */
};

struct glue_mem_result {
	struct glue_dump_stats st;
	enum glue_tracker tracker;
	uint64_t discover_us; /* finding the pages to write: scans + tracker decisions */
	uint64_t bytes_written;
	uint64_t nr_tasks;
};

/* Write one memory layer.  0, or -1 with *err set; the tree is always thawed. */
int glue_mem_dump(const struct glue_mem_opts *o, struct glue_mem_result *res, struct ck_err **err);

/* Choose tracker @want (-1: best available); *why says why (may be NULL). */
int glue_mem_pick_tracker(int want, enum glue_tracker *out, char *why, size_t why_len,
			  struct ck_err **err);
