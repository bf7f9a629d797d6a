/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Private to the uffd-wp tracker's two files: tracker-uffd.c (the tracker
 * ops: history, the written set read before and while frozen, what changed)
 * and tracker-uffd-arm.c (arming a new uffd in a process and handing it to a
 * holder, which runs after the freeze or chunk by chunk ahead of the copy).
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime-glue/mem/pages.h"
#include "runtime-glue/mem/vma.h"
#include "runtime-glue/track/tracker.h"

/*
 * A process whose written set was read before the freeze (uffd_precollect):
 * the holder's uffd, the new token it was given, the pages reported (and
 * re-protected) while the process ran, and the ranges whose scan failed.
 */
struct uffd_pre {
	pid_t pid;
	uint64_t start_time;
	bool history; /* false: the parent's tracker could not be taken (logged) */
	int uffd;
	uint64_t token;
	struct glue_ranges written;
	struct glue_ranges unsure;
	int late; /* parent_late() of this process: LATE_NONE, LATE_PAGES (in written), LATE_ALL */
};

/* What the parent layer says about a tracker it armed after its freeze. */
enum { LATE_NONE, LATE_PAGES, LATE_ALL };

struct uffd_run {
	int parent_dirfd;
	bool rearm;
	struct uffd_pre *pre;
	size_t nr_pre;
};

struct uffd_obj {
	bool history;               /* written/whole are valid against the parent layer */
	bool armed;                 /* tracking is armed for the next layer */
	uint64_t token;             /* identifies the uffd (and its holder) */
	struct glue_ranges written; /* pages written since the parent layer */
	struct glue_ranges whole;   /* VMAs without tracking this round */
	bool early;                 /* built on uffd_precollect() */
	bool late;                  /* the parent's tracker was armed after its freeze */
	bool armed_now;             /* armed by this run after its thaw */
	struct glue_ranges stale;   /* then: written since, or whole */
	/*
	 * A pre-dump's arm after the thaw, write-protecting chunk by chunk
	 * (tracker-uffd-arm.c): the uffd until it goes to a holder, the
	 * registered ranges, and the address below which all are protected.
	 */
	int lazy_uffd;
	struct glue_ranges unprot;
	uint64_t prot_upto;
	bool arm_tried; /* glue_uffd_arm_maybe() ran for this run */
	uint64_t nr_written, nr_whole_vmas;
};

/* The VMAs the tracker registers: private memory of the task's own. */
static inline bool glue_uffd_trackable(const struct glue_vma *v)
{
	return v->dump == GLUE_DUMP_PRIVATE;
}

/*
 * Arm @obj's tracker for the next layer, once per run, unless it is armed
 * (history taken over), the run does not rearm, or the process cannot be
 * seized now (a warning or info line says why; the next layer is full).
 * @lazy: register only, write-protect with glue_uffd_arm_protect_below()
 * ahead of the copy, hand over with glue_uffd_arm_finish() after it.
 */
void glue_uffd_arm_maybe(struct glue_tracker_ctx *t, struct glue_mobj *obj, bool lazy);

/*
 * A lazily armed process, chunk by chunk: write-protect what was registered
 * below @end (UINT64_MAX: all of it) before those pages are read.
 */
int glue_uffd_arm_protect_below(struct uffd_obj *uo, int pm, uint64_t end, struct ck_err **err);

/* After the copy of a lazily armed process: protect the rest, hand it to a holder. */
void glue_uffd_arm_finish(struct glue_tracker_ctx *t, struct uffd_obj *uo, struct glue_mobj *obj);
