// SPDX-License-Identifier: MIT
/*
 * The presence side of the freeze: scan only what an exact tracker cannot
 * answer for (see presence.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "proto/img.h"
#include "proto/mm.pb-c.h"
#include "runtime-glue/dump/presence.h"
#include "runtime-glue/proc/freezer.h"

/* Changed pages closer than this are checked with one scan (1 MiB). */
#define CHECK_GAP (256 * GLUE_PAGE_SIZE)

/* Append @in ∩ [start, end) to @out; *cur walks @in forward. */
static void clip(const struct glue_ranges *in, size_t *cur, uint64_t start, uint64_t end,
		 struct glue_ranges *out)
{
	while (*cur < in->nr && in->r[*cur].end <= start)
		(*cur)++;
	for (size_t k = *cur; k < in->nr && in->r[k].start < end; k++) {
		uint64_t s = in->r[k].start > start ? in->r[k].start : start;
		uint64_t e = in->r[k].end < end ? in->r[k].end : end;

		glue_ranges_add(out, s, e);
	}
}

/* Append [start, end) - @minus to @out (@minus sorted). */
static void subtract(uint64_t start, uint64_t end, const struct glue_ranges *minus, size_t *cur,
		     struct glue_ranges *out)
{
	while (*cur < minus->nr && minus->r[*cur].end <= start)
		(*cur)++;
	for (size_t k = *cur; k < minus->nr && minus->r[k].start < end && start < end; k++) {
		if (minus->r[k].start > start)
			glue_ranges_add(out, start, minus->r[k].start);
		if (minus->r[k].end > start)
			start = minus->r[k].end;
	}
	glue_ranges_add(out, start, end);
}

/* The [start, end) of every VMA of mm-<vpid>.img in the parent layer. */
static int parent_vmas(int dirfd, uint64_t vpid, struct glue_range **out, size_t *nr,
		       struct ck_err **err)
{
	_cleanup_free_ char *name = img_filename(IMG_MM, (unsigned long)vpid);
	_cleanup_(img_releasep) struct img *img = NULL;
	MmEntry *mm = NULL;

	*out = NULL;
	*nr = 0;
	img = img_open(dirfd, name, IMG_MM, err);
	if (!img)
		return -1;
	if (img_read_entry(img, (void **)&mm, err) < 0)
		return -1;
	if (!mm)
		return 0;
	*out = xcalloc(mm->n_vmas + 1, sizeof(**out));
	for (size_t i = 0; i < mm->n_vmas; i++) {
		(*out)[i].start = mm->vmas[i]->start;
		(*out)[i].end = mm->vmas[i]->end;
	}
	*nr = mm->n_vmas;
	img_free_msg(mm);
	return 0;
}

static bool had_same(const struct glue_range *pv, size_t nr, const struct glue_vma *v)
{
	size_t lo = 0, hi = nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pv[mid].start < v->start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nr && pv[lo].start == v->start && pv[lo].end == v->end;
}

/* see presence.h */
int glue_presence_scan(struct glue_presence *p, struct glue_mobj *obj,
		       const struct glue_tracker_ops *ops, int parent_dirfd, struct ck_err **err)
{
	_cleanup_free_ struct glue_range *pv = NULL;
	size_t npv = 0;
	uint64_t t0;

	memset(p, 0, sizeof(*p));
	p->deferred = xcalloc(obj->vmas->nr + 1, 1);
	if (ops->changed && obj->has_parent && parent_dirfd >= 0) {
		_cleanup_err_ struct ck_err *e2 = NULL;

		/* no VMA list in the parent: nothing is deferred, all is scanned */
		if (parent_vmas(parent_dirfd, obj->id, &pv, &npv, &e2) < 0)
			pr_info("pid %d: %s: every VMA is scanned", (int)obj->pid, e2->msg);
	}
	t0 = glue_now_us();
	for (size_t j = 0; j < obj->vmas->nr; j++) {
		const struct glue_vma *v = &obj->vmas->v[j];

		if (npv && glue_vma_anonymous(v) && had_same(pv, npv, v)) {
			p->deferred[j] = 1;
			p->nr_deferred++;
			continue;
		}
		if (glue_pagescan_vma(obj->scan, v, &p->known, err) < 0)
			return -1;
	}
	p->scan_us += glue_now_us() - t0;
	if (!p->nr_deferred) {
		/*
		 * Everything was scanned: the tracker's collect sees the present
		 * pages (soft-dirty reads bit 55 of exactly those).
		 */
		struct glue_ranges none = { 0 };

		glue_ranges_free(&obj->present);
		glue_ranges_union(&p->known, &none, &obj->present);
	}
	return 0;
}

/* see presence.h */
int glue_presence_resolve(struct glue_presence *p, struct glue_tracker_ctx *t,
			  struct glue_mobj *obj, struct ck_err **err)
{
	struct glue_ranges add = { 0 }, all = { 0 };
	uint64_t t0 = glue_now_us();
	int rc = -1;

	for (size_t j = 0; j < obj->vmas->nr; j++) {
		const struct glue_vma *v = &obj->vmas->v[j];
		const struct glue_ranges *c;
		struct glue_ranges held = { 0 };
		size_t hcur, ccur, mcur;

		if (!p->deferred[j])
			continue;
		c = t->ops->changed(t, obj, v);
		if (!c) {
			/* no answer (tracked anew, no history): scanned as before */
			if (glue_pagescan_vma(obj->scan, v, &add, err) < 0)
				goto out;
			continue;
		}
		p->nr_answered++;
		hcur = glue_ranges_first_after(&obj->parent_held, v->start);
		ccur = mcur = glue_ranges_first_after(c, v->start);
		clip(&obj->parent_held, &hcur, v->start, v->end, &held);
		for (size_t k = 0; k < held.nr; k++)
			subtract(held.r[k].start, held.r[k].end, c, &ccur, &add);
		clip(c, &mcur, v->start, v->end, &p->maybe);
		glue_ranges_free(&held);
	}
	glue_ranges_union(&p->known, &add, &all);
	glue_ranges_free(&p->known);
	p->known = all;
	memset(&all, 0, sizeof(all));
	/* until checked: everything that may be there */
	glue_ranges_free(&obj->present);
	glue_ranges_union(&p->known, &p->maybe, &obj->present);
	rc = 0;
out:
	glue_ranges_free(&add);
	p->scan_us += glue_now_us() - t0;
	return rc;
}

/* see presence.h */
int glue_presence_of(struct glue_pagescan *ps, const struct glue_ranges *maybe,
		     struct glue_ranges *found, struct ck_err **err)
{
	struct glue_ranges win = { 0 };
	size_t mcur = 0;

	for (size_t i = 0; i < maybe->nr;) {
		uint64_t ws = maybe->r[i].start, we = maybe->r[i].end;
		size_t k = i + 1;

		/* (a window may cross other VMAs: only the changed pages are kept) */
		while (k < maybe->nr && maybe->r[k].start - we <= CHECK_GAP)
			we = maybe->r[k++].end;
		if (glue_pagescan_range_anon(ps, ws, we, &win, err) < 0) {
			glue_ranges_free(&win);
			return -1;
		}
		/* what the window scan found, of the changed pages only */
		for (size_t w = 0; w < win.nr; w++)
			clip(maybe, &mcur, win.r[w].start, win.r[w].end, found);
		win.nr = 0;
		win.pages = 0;
		i = k;
	}
	glue_ranges_free(&win);
	return 0;
}

/* see presence.h */
int glue_presence_check(struct glue_presence *p, struct glue_mobj *obj,
			const struct glue_ranges *seen, const struct glue_ranges *recheck,
			struct ck_err **err)
{
	struct glue_ranges now = { 0 }, rest = { 0 }, gone = { 0 }, kept = { 0 };
	struct glue_ranges found = { 0 }, all = { 0 };
	const struct glue_ranges *scan = &p->maybe;
	int rc = -1;

	if (!p->nr_answered)
		return 0;
	if (seen) {
		/* maybe ∩ recheck scanned now; the rest as seen: kept = rest ∩ seen */
		glue_ranges_subtract(&p->maybe, recheck, &rest);
		glue_ranges_subtract(&p->maybe, &rest, &now);
		glue_ranges_subtract(&rest, seen, &gone);
		glue_ranges_subtract(&rest, &gone, &kept);
		scan = &now;
	}
	if (glue_presence_of(obj->scan, scan, &found, err) < 0)
		goto out;
	glue_ranges_union(&found, &kept, &all);
	glue_ranges_free(&obj->present);
	glue_ranges_union(&p->known, &all, &obj->present);
	rc = 0;
out:
	glue_ranges_free(&now);
	glue_ranges_free(&rest);
	glue_ranges_free(&gone);
	glue_ranges_free(&kept);
	glue_ranges_free(&found);
	glue_ranges_free(&all);
	return rc;
}

/* see presence.h */
void glue_presence_free(struct glue_presence *p)
{
	free(p->deferred);
	glue_ranges_free(&p->known);
	glue_ranges_free(&p->maybe);
	memset(p, 0, sizeof(*p));
}
