// SPDX-License-Identifier: MIT
/*
 * The memory engine before the freeze: what can be read while the tree runs
 * is read then, so that the frozen window holds only what must be exact at
 * the instant of the freeze.
 *
 *   running                               frozen
 *   -------                               ------
 *   list the tree (glue_target_tree)      list the tree again (the freeze)
 *   per task: the parent layer's meta     per task: maps; parent pages from
 *     and pagemap (by vpid+start time)      this cache (or read now: a task
 *   per task: tracker precollect()          that was not listed before)
 *     (uffd-wp: holder exchange, most     tracker collect(): what changed
 *     of the written set)                   since precollect()
 *
 * The parent layer never changes during a run, so its pages read early are
 * the same as read late; a task is matched by vpid and start time, so a
 * pid reused in between is read again while frozen.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/dump/engine.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/mem/pagemap.h"
#include "runtime-glue/proc/freezer.h"

/* A task object's parent pages, read from the layer; 0 or -1. */
static int read_parent(int parent_dirfd, pid_t vpid, uint64_t start_time, struct engine_parent *p,
		       struct ck_err **err)
{
	_cleanup_free_ char *name = glue_pagemap_name(false, (uint64_t)vpid);
	struct glue_pagemap pm;

	memset(p, 0, sizeof(*p));
	p->vpid = vpid;
	p->start_time = start_time;
	p->same = true;
	if (glue_layer_read_meta(parent_dirfd, vpid, start_time, &p->same, NULL, err) < 0)
		return -1;
	if (!p->same)
		return 0;
	if (glue_pagemap_load(parent_dirfd, name, &pm, &p->missing, err) < 0)
		return ck_err_wrap(err, "parent layer");
	if (p->missing)
		return 0;
	glue_pagemap_ranges(&pm, &p->held);
	glue_pagemap_free(&pm);
	return 0;
}

/* see engine.h */
void glue_engine_prefreeze(struct engine *e, const struct glue_target *tgt)
{
	struct glue_pstree t0 = { 0 };
	_cleanup_err_ struct ck_err *e0 = NULL;
	uint64_t t_start = glue_now_us();

	if (e->layer.parent_dirfd < 0 && !e->trk.ops->precollect)
		return;
	if (glue_target_tree(tgt, &t0, &e0) < 0) {
		/* the freeze says why, if it matters */
		pr_debug("before the freeze: %s", e0->msg);
		return;
	}
	for (size_t i = 0; i < t0.nr; i++) {
		const struct glue_task *t = &t0.t[i];

		if (t->dead || t->kthread)
			continue;
		if (e->layer.parent_dirfd >= 0) {
			e->par = xreallocarray(e->par, e->nr_par + 1, sizeof(*e->par));
			if (read_parent(e->layer.parent_dirfd, t->vpid, t->start_time,
					&e->par[e->nr_par], &e0) < 0) {
				/* read again while frozen, which reports it */
				pr_debug("before the freeze: pid %d: %s", (int)t->pid, e0->msg);
				ck_err_free(&e0);
				glue_ranges_free(&e->par[e->nr_par].held);
			} else {
				e->nr_par++;
			}
		}
		if (e->trk.ops->precollect)
			e->trk.ops->precollect(&e->trk, t);
	}
	glue_pstree_free(&t0);
	/* tests change the tree here, between these reads and the freeze */
	if (glue_fault("prefreeze", &e0) < 0)
		pr_debug("%s", e0->msg);
	pr_info("before the freeze: %zu tasks, parent pages and tracker state read in %" PRIu64
		" us",
		e->nr_par, glue_now_us() - t_start);
}

/* see engine.h */
int glue_engine_load_parent(struct engine *e, struct mobj *ob, struct ck_err **err)
{
	struct engine_parent p0, *p = NULL;

	if (e->layer.parent_dirfd < 0)
		return 0;
	if (ob->m.shmem) {
		_cleanup_free_ char *name = glue_pagemap_name(true, ob->m.id);
		struct glue_pagemap pm;
		bool missing = false;

		if (glue_pagemap_load(e->layer.parent_dirfd, name, &pm, &missing, err) < 0)
			return ck_err_wrap(err, "parent layer");
		if (missing)
			return 0;
		ob->m.has_parent = true;
		glue_pagemap_ranges(&pm, &ob->m.parent_held);
		glue_pagemap_free(&pm);
		return 0;
	}
	for (size_t i = 0; i < e->nr_par && !p; i++)
		if (e->par[i].vpid == ob->m.task->vpid &&
		    e->par[i].start_time == ob->m.task->start_time)
			p = &e->par[i];
	if (!p) {
		p = &p0;
		if (read_parent(e->layer.parent_dirfd, ob->m.task->vpid, ob->m.task->start_time, p,
				err) < 0)
			return -1;
	}
	if (!p->same) {
		pr_info("pid %d: the parent layer is not its history (new or reused pid): full dump",
			(int)ob->m.task->vpid);
		return 0;
	}
	if (p->missing)
		return 0;
	ob->m.has_parent = true;
	/* moved: each task is collected once */
	ob->m.parent_held = p->held;
	memset(&p->held, 0, sizeof(p->held));
	return 0;
}

/* see engine.h */
void glue_engine_prefreeze_free(struct engine *e)
{
	for (size_t i = 0; i < e->nr_par; i++)
		glue_ranges_free(&e->par[i].held);
	free(e->par);
	e->par = NULL;
	e->nr_par = 0;
}
