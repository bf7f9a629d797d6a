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
 *   final dump, per task: the written     final dump: presence and data of
 *     pages' presence, and their data       the pages stale() names (written
 *     (the early copy, within the           since, or dumped whole); the rest
 *     frozen buffer's bound)                from the early copy
 *
 * The parent layer never changes during a run, so its pages read early are
 * the same as read late; a task is matched by vpid and start time, so a
 * pid reused in between is read again while frozen.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/dump/engine.h"
#include "runtime-glue/dump/presence.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/mem/copy.h"
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

static bool early_wanted(const struct engine *e);

/* --frozen-buffer: the bound of the early copy and the frozen buffer together */
static uint64_t fbuf_bound(const struct engine *e)
{
	return e->o->frozen_buffer_set ? e->o->frozen_buffer : GLUE_FROZEN_BUFFER_DEFAULT;
}

#define EARLY_RUNS 1024 /* ranges per process_vm_readv (IOV_MAX) */

/* Read @n ranges of @rd into @dst; appends what was read whole to @have. */
static bool early_read(struct glue_memreader *rd, const struct glue_range *rs, size_t n,
		       uint8_t *dst, struct engine_early *x, uint64_t *pages)
{
	_cleanup_err_ struct ck_err *e0 = NULL;
	ssize_t got = glue_memreader_read(rd, rs, n, dst, &e0);
	uint64_t left = got > 0 ? (uint64_t)got / GLUE_PAGE_SIZE : 0;

	for (size_t i = 0; i < n && left; i++) {
		uint64_t len = (rs[i].end - rs[i].start) / GLUE_PAGE_SIZE;
		uint64_t take = left < len ? left : len;

		if (!x->have.nr || x->have.r[x->have.nr - 1].end != rs[i].start) {
			x->first = xreallocarray(x->first, x->have.nr + 1, sizeof(*x->first));
			x->first[x->have.nr] = *pages;
		}
		glue_ranges_add(&x->have, rs[i].start, rs[i].start + take * GLUE_PAGE_SIZE);
		*pages += take;
		left -= take;
		if (take < len)
			return false;
	}
	return got >= 0;
}

/* Read the batch @rs[*nr] into the early area; false when it stopped short. */
static bool early_flush(struct engine *e, struct glue_memreader *rd, const struct glue_range *rs,
			size_t *nr, uint64_t *batch, struct engine_early *x, uint64_t *pages)
{
	bool ok = !*nr || early_read(rd, rs, *nr, e->early_data + e->early_used, x, pages);

	e->early_used = x->off + *pages * GLUE_PAGE_SIZE;
	*nr = 0;
	*batch = 0;
	return ok;
}

/*
 * Final dump: copy the pages @w (written, found by precollect()) of @t that
 * hold content, while @t runs, into the early area, as far as it has room.
 * Collect() then tells which of them were written again (tracker stale()):
 * only those are read while frozen.
 */
static void early_copy(struct engine *e, const struct glue_task *t, const struct glue_ranges *w)
{
	_cleanup_err_ struct ck_err *e0 = NULL;
	struct glue_pagescan *ps = glue_pagescan_open(t->pid, GLUE_SCAN_AUTO, &e0);
	struct glue_memreader *rd = NULL;
	struct glue_ranges found = { 0 };
	struct glue_range rs[EARLY_RUNS];
	struct engine_early *x;
	/* at most 7/8 of the bound: the frozen buffer keeps room for what changes */
	uint64_t pages = 0, cap = fbuf_bound(e) / 8 * 7 / GLUE_PAGE_SIZE * GLUE_PAGE_SIZE;
	uint64_t batch = 0;
	size_t nr = 0;

	if (!ps || glue_presence_of(ps, w, &found, &e0) < 0)
		goto out;
	e->early = xreallocarray(e->early, e->nr_early + 1, sizeof(*e->early));
	x = &e->early[e->nr_early++];
	memset(x, 0, sizeof(*x));
	x->pid = t->pid;
	x->start_time = t->start_time;
	x->off = e->early_used;
	x->present = found; /* moved */
	memset(&found, 0, sizeof(found));
	rd = glue_memreader_open(t->pid, glue_copy_method_default(), &e0);
	if (!rd)
		goto out;
	if (!e->early_data) {
		void *p = mmap(NULL, fbuf_bound(e), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			goto out;
		e->early_data = p;
	}
	for (size_t i = 0; i < x->present.nr; i++) {
		const struct glue_range *f = &x->present.r[i];

		for (uint64_t s = f->start; s < f->end;) {
			uint64_t room = (cap - e->early_used) / GLUE_PAGE_SIZE - batch;
			uint64_t n = (f->end - s) / GLUE_PAGE_SIZE;

			if (!room)
				goto last; /* the area is full */
			if (n > CHUNK_PAGES - batch)
				n = CHUNK_PAGES - batch;
			if (n > room)
				n = room;
			rs[nr].start = s;
			rs[nr++].end = s + n * GLUE_PAGE_SIZE;
			batch += n;
			s += n * GLUE_PAGE_SIZE;
			if (nr < EARLY_RUNS && batch < CHUNK_PAGES)
				continue;
			if (!early_flush(e, rd, rs, &nr, &batch, x, &pages))
				goto out;
		}
	}
last:
	early_flush(e, rd, rs, &nr, &batch, x, &pages);
out:
	if (e0)
		pr_debug("before the freeze: pid %d: no early copy: %s", (int)t->pid, e0->msg);
	glue_ranges_free(&found);
	glue_memreader_close(rd);
	glue_pagescan_close(ps);
}

/* see engine.h */
void glue_engine_prefreeze(struct engine *e, const struct glue_target *tgt)
{
	struct glue_pstree t0 = { 0 };
	_cleanup_err_ struct ck_err *e0 = NULL;
	uint64_t t_start = glue_now_us();

	/* a first layer: no parent to read, no written set yet */
	if (e->layer.parent_dirfd < 0 && e->o->pre_dump)
		return;
	if (glue_target_tree(tgt, &t0, &e0) < 0) {
		/* the freeze says why, if it matters */
		pr_debug("before the freeze: %s", e0->msg);
		return;
	}
	/* a final dump opens its image files while frozen: made now (pagemap.h) */
	if (!e->o->pre_dump)
		glue_pmw_precreate_pages(&e->layer, t0.nr);
	for (size_t i = 0; i < t0.nr; i++) {
		const struct glue_task *t = &t0.t[i];

		if (t->dead || t->kthread)
			continue;
		if (!e->o->pre_dump) {
			_cleanup_free_ char *name = glue_pagemap_name(false, (uint64_t)t->vpid);

			glue_pmw_precreate(&e->layer, name);
		}
		if (e->layer.parent_dirfd < 0)
			continue;
		e->par = xreallocarray(e->par, e->nr_par + 1, sizeof(*e->par));
		if (read_parent(e->layer.parent_dirfd, t->vpid, t->start_time, &e->par[e->nr_par],
				&e0) < 0) {
			/* read again while frozen, which reports it */
			pr_debug("before the freeze: pid %d: %s", (int)t->pid, e0->msg);
			ck_err_free(&e0);
			glue_ranges_free(&e->par[e->nr_par].held);
		} else {
			e->nr_par++;
		}
		if (e->trk.ops->precollect)
			e->trk.ops->precollect(&e->trk, t);
		if (early_wanted(e) && e->trk.ops->early_written) {
			const struct glue_ranges *w = e->trk.ops->early_written(&e->trk, t);

			if (w && w->nr)
				early_copy(e, t, w);
		}
	}
	glue_pstree_free(&t0);
	/* tests change the tree here, between these reads and the freeze */
	if (glue_fault("prefreeze", &e0) < 0)
		pr_debug("%s", e0->msg);
	if (e->layer.nr_pre)
		pr_debug("before the freeze: %zu image files made", e->layer.nr_pre);
	pr_info("before the freeze: %zu tasks, parent pages and tracker state read, %zu KiB "
		"copied, in %" PRIu64 " us",
		e->nr_par, e->early_used >> 10, glue_now_us() - t_start);
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

/* A final dump with a frozen buffer (the early copy shares its bound). */
static bool early_wanted(const struct engine *e)
{
	return !e->o->pre_dump && (!e->o->frozen_buffer_set || e->o->frozen_buffer > 0);
}

/* see engine.h */
struct glue_fbuf *glue_engine_fbuf_new(const struct engine *e)
{
	struct glue_fbuf *fb = glue_fbuf_new(fbuf_bound(e));

	if (e->early_used)
		glue_fbuf_external(fb, e->early_data, e->early_used);
	return fb;
}

/*
 * @ob's early copy, when collect() built on precollect() (the tracker's
 * stale() answers): sets ob->early, ob->early_stale and ob->early_ok once.
 */
static const struct engine_early *resolve(struct engine *e, struct mobj *ob)
{
	if (ob->early_resolved)
		return ob->early;
	ob->early_resolved = true;
	if (ob->m.shmem || !e->trk.ops->stale)
		return NULL;
	ob->early_stale = e->trk.ops->stale(&e->trk, &ob->m);
	for (size_t i = 0; i < e->nr_early && ob->early_stale; i++)
		if (e->early[i].pid == ob->m.pid &&
		    e->early[i].start_time == ob->m.task->start_time)
			ob->early = &e->early[i];
	if (ob->early)
		glue_ranges_subtract(&ob->early->have, ob->early_stale, &ob->early_ok);
	return ob->early;
}

/* see engine.h */
bool glue_engine_early_presence(struct engine *e, struct mobj *ob,
				const struct glue_ranges **present,
				const struct glue_ranges **stale)
{
	const struct engine_early *x = resolve(e, ob);

	if (!x)
		return false;
	*present = &x->present;
	*stale = ob->early_stale;
	return true;
}

/* see engine.h */
size_t glue_engine_early_at(struct engine *e, struct mobj *ob, uint64_t start, uint64_t end,
			    const uint8_t **data, size_t *skip)
{
	const struct engine_early *x = resolve(e, ob);
	size_t k, h;

	k = glue_ranges_first_after(&ob->early_ok, start);
	if (!x || k == ob->early_ok.nr || ob->early_ok.r[k].start >= end) {
		*skip = (size_t)((end - start) / GLUE_PAGE_SIZE);
		return 0;
	}
	if (ob->early_ok.r[k].start > start) {
		*skip = (size_t)((ob->early_ok.r[k].start - start) / GLUE_PAGE_SIZE);
		return 0;
	}
	h = glue_ranges_first_after(&x->have, start);
	*data = e->early_data + x->off +
		(x->first[h] + (start - x->have.r[h].start) / GLUE_PAGE_SIZE) * GLUE_PAGE_SIZE;
	*skip = 0;
	return (size_t)(((ob->early_ok.r[k].end < end ? ob->early_ok.r[k].end : end) - start) /
			GLUE_PAGE_SIZE);
}

/* see engine.h */
void glue_engine_prefreeze_free(struct engine *e)
{
	for (size_t i = 0; i < e->nr_obj; i++)
		glue_ranges_free(&e->obj[i].early_ok);
	for (size_t i = 0; i < e->nr_par; i++)
		glue_ranges_free(&e->par[i].held);
	free(e->par);
	e->par = NULL;
	e->nr_par = 0;
	for (size_t i = 0; i < e->nr_early; i++) {
		glue_ranges_free(&e->early[i].have);
		glue_ranges_free(&e->early[i].present);
		free(e->early[i].first);
	}
	free(e->early);
	e->early = NULL;
	e->nr_early = 0;
	if (e->early_data)
		munmap(e->early_data, fbuf_bound(e));
	e->early_data = NULL;
	e->early_used = 0;
}

/* see engine.h */
void glue_engine_vmflags(struct engine *e, struct mobj *ob)
{
	const struct glue_vmas *early =
		glue_vmas_snap_find(&e->smaps, ob->m.pid, ob->m.task->start_time);
	struct glue_vmas full = { 0 };
	_cleanup_err_ struct ck_err *e2 = NULL;
	size_t missed = early ? glue_vmas_merge_flags(&ob->vmas, early) : 1;

	if (!missed)
		return;
	if (early)
		pr_debug(
			"pid %d: %zu VMAs changed since the smaps read before the freeze: smaps read again",
			(int)ob->m.pid, missed);
	if (glue_vmas_read(ob->m.task->pid, &full, &e2) == 0) {
		glue_vmas_merge_flags(&ob->vmas, &full);
		glue_vmas_free(&full);
	}
}
