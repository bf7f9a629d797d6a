// SPDX-License-Identifier: MIT
/*
 * The memory engine's frozen path, kept out of predump.c: the presence check
 * of changed pages, packed reads straight into the final dump's frozen
 * buffer, writing that buffer after the freeze, the kill.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/dump/dump-state.h"
#include "runtime-glue/dump/engine.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/mem/copy.h"
#include "runtime-glue/proc/proc.h"

/*
 * A uffd-wp pre-dump, after the thaw: the tracker's written set (re-protected
 * as it is read), then the presence scan, which dumps layers do while frozen
 * (predump.c says why that is exact).  *trk and *scan add up the time.
 */
static int scan_late(struct engine *e, struct mobj *ob, uint64_t *trk, uint64_t *scan,
		     struct ck_err **err)
{
	uint64_t t0 = glue_now_us();

	if (e->trk.ops->collect && e->trk.ops->collect(&e->trk, &ob->m, err) < 0)
		return ck_err_wrap(err, "tracker %s", glue_tracker_name(e->trk.ops->id));
	*trk += glue_now_us() - t0;
	if (glue_presence_scan(&ob->pres, &ob->m, e->trk.ops, e->layer.parent_dirfd, err) < 0 ||
	    glue_presence_resolve(&ob->pres, &e->trk, &ob->m, err) < 0)
		return -1;
	*scan += ob->pres.scan_us;
	return 0;
}

/* see engine.h */
bool glue_engine_gone(struct engine *e, struct mobj *ob)
{
	if (ob->gone)
		return true;
	if (!e->o->pre_dump || ob->m.shmem)
		return false;
	if (glue_proc_exited(ob->m.pid))
		pr_info("pid %d exited during the pre-dump: left out of this layer",
			(int)ob->m.pid);
	else if (glue_pagescan_mm_gone(ob->m.scan))
		pr_info("pid %d exec'd during the pre-dump (the address space of the freeze is gone): left out of this layer",
			(int)ob->m.pid);
	else if (ob->vm_peer && glue_proc_same_vm(ob->m.pid, ob->vm_peer) != 1)
		/* its vfork parent keeps that address space alive: the test above cannot see it */
		pr_info("pid %d exec'd during the pre-dump (it no longer shares the address space of pid %d, its vfork parent): left out of this layer",
			(int)ob->m.pid, (int)ob->vm_peer);
	else
		return false;
	ob->gone = true;
	return true;
}

/* see engine.h */
int glue_engine_check_presence(struct engine *e, struct ck_err **err)
{
	uint64_t t0 = glue_now_us(), t_trk = 0, t_scan = 0, answered = 0, deferred = 0;

	e->pages_total = 0;
	for (size_t i = 0; i < e->nr_obj; i++) {
		struct mobj *ob = &e->obj[i];

		const struct glue_ranges *seen = NULL, *recheck = NULL;

		if (e->presence_late && !ob->m.shmem) {
			/* then the pages of the tracker's answer, checked as a dump does frozen */
			if (scan_late(e, ob, &t_trk, &t_scan, err) < 0 ||
			    glue_presence_check(&ob->pres, &ob->m, NULL, NULL, err) < 0) {
				if (!glue_engine_gone(e, ob))
					return ck_err_wrap(err, "task %d", (int)ob->m.pid);
				ck_err_free(err);
				continue;
			}
			answered += ob->pres.nr_answered;
			deferred += ob->pres.nr_deferred;
			e->pages_total += ob->m.present.pages;
			continue;
		}

		/* a final dump's written pages seen before the freeze: only changes rechecked */
		if (!ob->m.shmem && !e->o->pre_dump)
			glue_engine_early_presence(e, ob, &seen, &recheck);
		if (!ob->m.shmem &&
		    glue_presence_check(&ob->pres, &ob->m, seen, recheck, err) < 0) {
			/*
			 * A pre-dump checks after the thaw: a task that exited or
			 * exec'd since (a container shell's short-lived child) is
			 * left out of the layer.
			 */
			if (!e->o->pre_dump || !glue_engine_gone(e, ob))
				return ck_err_wrap(err, "task %d", (int)ob->m.pid);
			ck_err_free(err);
			continue;
		}
		e->pages_total += ob->m.present.pages;
	}
	e->res->discover_us += glue_now_us() - t0;
	if (e->presence_late) {
		pr_info("presence scan after the thaw, with the written set: %" PRIu64
			" us (tracker %" PRIu64 " us, presence scans %" PRIu64 " us); %" PRIu64
			" of %" PRIu64
			" unchanged anonymous VMAs answered by the tracker (no presence scan)",
			glue_now_us() - t0, t_trk, t_scan, answered, deferred);
		/* the tree runs: a page that appears now is in the next layer (uffd-late) */
		return glue_fault("late-presence", err);
	}
	return 0;
}

/*
 * For trackers that never look at page data, task objects: every dirty run
 * of the chunk in one read (process_vm_readv takes them all), packed in
 * address order at *dst: the final dump's frozen buffer when it has room,
 * else e->buf.  *valid as in do_chunk(); 0 or -1.
 */
int glue_engine_read_packed(struct engine *e, struct mobj *ob, uint64_t addr, size_t n,
			    size_t *valid, uint8_t **dst, struct ck_err **err)
{
	struct glue_range rs[CHUNK_PAGES / 2 + 1];
	size_t nr = 0, left, want = 0;
	ssize_t got = 0;
	bool failed;

	for (size_t i = 0; i < n;) {
		size_t j = i;

		if (!e->dirty[i]) {
			i++;
			continue;
		}
		while (j < n && e->dirty[j])
			j++;
		rs[nr].start = addr + i * GLUE_PAGE_SIZE;
		rs[nr++].end = addr + j * GLUE_PAGE_SIZE;
		want += j - i;
		i = j;
	}
	if (!nr)
		return 0;
	/* the final dump reads straight into its frozen buffer */
	*dst = e->fbuf ? glue_fbuf_tail(e->fbuf, want * GLUE_PAGE_SIZE, err, &failed) : NULL;
	if (!*dst && e->fbuf && failed)
		return -1;
	if (!*dst)
		*dst = e->buf;
	got = glue_memreader_read(ob->rd, rs, nr, *dst, err);
	if (got < 0)
		return -1;
	got /= (ssize_t)GLUE_PAGE_SIZE;
	left = (size_t)got;
	for (size_t r = 0; r < nr; r++) {
		size_t i0 = (size_t)((rs[r].start - addr) / GLUE_PAGE_SIZE);
		size_t len = (size_t)((rs[r].end - rs[r].start) / GLUE_PAGE_SIZE);
		size_t take = left < len ? left : len;

		memset(e->rd + i0, 1, take);
		left -= take;
		if (take == len)
			continue;
		if (!e->o->pre_dump)
			return ck_err_set(
				err, EFAULT,
				"cannot read page %#" PRIx64 " of %s %" PRIu64 " while frozen",
				(uint64_t)(rs[r].start + take * GLUE_PAGE_SIZE), "pid", ob->m.id);
		/* Unmapped since the frozen scan: this layer ends here for the range. */
		*valid = i0 + take;
		break;
	}
	return 0;
}

/* Final dump, after the kill or the thaw: the page data of the frozen buffer. */
int glue_engine_write_buffered(struct engine *e, struct ck_err **err)
{
	struct glue_fbuf_stats st;
	uint64_t t0 = glue_now_us();

	if (!e->fbuf)
		return 0;
	if (glue_fbuf_flush(e->fbuf, err) < 0)
		return ck_err_wrap(err, "write the frozen buffer");
	for (size_t i = 0; i < e->nr_obj; i++)
		if (e->obj[i].pmw && glue_pmw_close(steal_ptr(&e->obj[i].pmw), err) < 0)
			return -1;
	glue_fbuf_stats(e->fbuf, &st);
	e->res->st.memwrite_us += glue_now_us() - t0;
	pr_info("frozen buffer (%" PRIu64 " KiB): %" PRIu64 " KiB of pages, %" PRIu64
		" KiB of them spilled to the image while frozen (%" PRIu64 " times full), %" PRIu64
		" KiB written after the freeze in %" PRIu64 " us; %" PRIu64
		" KiB of them copied before the freeze",
		st.cap >> 10, st.total >> 10, st.spilled >> 10, st.spills,
		(st.total - st.spilled) >> 10, glue_now_us() - t0, st.early >> 10);
	return 0;
}

/*
 * CRIU's default: the dumped tree never runs again (killed while stopped).
 * The frozen time ends here.
 */
int glue_engine_kill_tree(struct engine *e, struct ck_err **err)
{
	_cleanup_err_ struct ck_err *e2 = NULL;

	if (glue_dump_after(&e->tree, GLUE_DUMP_KILL, err) < 0)
		return -1;
	e->res->st.frozen_us = glue_freezer_frozen_us(e->fz);
	e->killed = true;
	glue_freezer_tree_killed(e->fz);
	glue_progress_phase(e->prog, "killed");
	if (glue_thaw(e->fz, false, &e2) < 0)
		pr_debug("release after kill: %s", e2->msg);
	pr_info("tree killed after %" PRIu64 " us frozen (%s)", e->res->st.frozen_us,
		glue_freezer_describe(e->fz));
	return 0;
}

#define SPARSE_RUNS 1024 /* process_vm_readv's IOV_MAX */

struct sparse {
	struct engine *e;
	struct mobj *ob;
	struct glue_pmw *w;
	struct glue_range run[SPARSE_RUNS]; /* pending runs, both kinds, in order */
	bool dirty[SPARSE_RUNS];
	const uint8_t *src[SPARSE_RUNS];   /* dirty, copied before the freeze: its data */
	struct glue_range rd[SPARSE_RUNS]; /* the dirty ones to read now */
	size_t nr, nr_rd, rd_pages;
	uint64_t written, scanned, reported;
};

/* Read the pending dirty runs in one call, then add every pending run in order. */
static int sparse_flush(struct sparse *sp, struct ck_err **err)
{
	struct engine *e = sp->e;
	uint8_t *dst = NULL;
	size_t off = 0;
	bool failed = false;
	ssize_t got;

	if (sp->nr_rd) {
		size_t want = sp->rd_pages * GLUE_PAGE_SIZE;

		if (e->fbuf)
			dst = glue_fbuf_tail(e->fbuf, want, err, &failed);
		if (failed)
			return -1;
		/* else the page writer's current buffer (rd_pages <= CHUNK_PAGES): nothing
		 * is queued to it here, the data goes through the sink at once */
		if (!dst)
			dst = glue_copier_buf(e->layer.copier, err);
		if (!dst)
			return -1;
		got = glue_memreader_read(sp->ob->rd, sp->rd, sp->nr_rd, dst, err);
		if (got < 0)
			return -1;
		if ((size_t)got < want)
			return ck_err_set(err, EFAULT,
					  "cannot read page %#" PRIx64 " of pid %" PRIu64
					  " while frozen",
					  sp->rd[0].start + (uint64_t)got, sp->ob->m.id);
	}
	for (size_t i = 0; i < sp->nr; i++) {
		size_t n = (size_t)((sp->run[i].end - sp->run[i].start) / GLUE_PAGE_SIZE);

		const uint8_t *data = !sp->dirty[i] ? NULL : sp->src[i] ? sp->src[i] : dst + off;

		if (glue_pmw_add(sp->w, sp->run[i].start, n, data, err) < 0)
			return -1;
		if (sp->dirty[i] && !sp->src[i])
			off += n * GLUE_PAGE_SIZE;
		if (sp->dirty[i])
			sp->written += n;
		sp->scanned += n;
	}
	glue_progress_add(e->prog, (sp->scanned - sp->reported) * GLUE_PAGE_SIZE);
	e->pages_done += sp->scanned - sp->reported;
	sp->reported = sp->scanned;
	if (!e->half_fault_done && e->pages_done * 2 >= e->pages_total) {
		e->half_fault_done = true;
		if (glue_fault("pages", err) < 0)
			return -1;
	}
	sp->nr = sp->nr_rd = sp->rd_pages = 0;
	return 0;
}

/*
 * Queue [start, end) as dirty or clean, flushing first when full.  Dirty
 * pages whose copy made before the freeze is still exact are taken from it;
 * only the others are read now.
 */
static int sparse_add(struct sparse *sp, uint64_t start, uint64_t end, bool dirty,
		      struct ck_err **err)
{
	while (start < end) {
		uint64_t stop = end;
		const uint8_t *src = NULL;

		if (dirty) {
			size_t skip = 0,
			       n = glue_engine_early_at(sp->e, sp->ob, start, end, &src, &skip);

			if (!n)
				src = NULL;
			stop = start + (n ? n : skip) * GLUE_PAGE_SIZE;
		}
		if (dirty && !src && sp->rd_pages + (stop - start) / GLUE_PAGE_SIZE > CHUNK_PAGES)
			stop = start + (CHUNK_PAGES - sp->rd_pages) * GLUE_PAGE_SIZE;
		if (sp->nr == SPARSE_RUNS || (dirty && stop == start)) {
			if (sparse_flush(sp, err) < 0)
				return -1;
			continue;
		}
		sp->run[sp->nr].start = start;
		sp->run[sp->nr].end = stop;
		sp->src[sp->nr] = src;
		sp->dirty[sp->nr++] = dirty;
		if (dirty && !src) {
			sp->rd[sp->nr_rd].start = start;
			sp->rd[sp->nr_rd++].end = stop;
			sp->rd_pages += (size_t)((stop - start) / GLUE_PAGE_SIZE);
		}
		start = stop;
	}
	return 0;
}

/* see engine.h */
int glue_engine_dump_sparse(struct engine *e, struct mobj *ob, struct glue_pmw *w,
			    struct ck_err **err)
{
	const struct glue_tracker_ops *ops = e->trk.ops;
	const struct glue_ranges *P = &ob->m.present, *H = &ob->m.parent_held;
	struct glue_ranges D = { 0 };
	struct glue_chunk none = { 0 };
	struct sparse *sp;
	bool all_dirty;
	size_t hc = 0, dc = 0;
	uint64_t t0 = glue_now_us();
	int rc = -1;

	if (e->o->pre_dump || !ops->dirty_ranges || ops->needs_content || ops->compare ||
	    ops->record || ob->m.shmem)
		return 0;
	/* the tracker's per-object work before any page is read (uffd-wp: arming) */
	if (ops->classify && ops->classify(&e->trk, &ob->m, &none, err) < 0)
		return -1;
	all_dirty = !ops->dirty_ranges(&e->trk, &ob->m, &D);
	sp = xzalloc(sizeof(*sp));
	sp->e = e;
	sp->ob = ob;
	sp->w = w;
	for (size_t r = 0; r < P->nr; r++) {
		uint64_t pos = P->r[r].start, end = P->r[r].end;

		while (pos < end) {
			uint64_t next = end;
			bool held, in_d;

			while (hc < H->nr && H->r[hc].end <= pos)
				hc++;
			while (dc < D.nr && D.r[dc].end <= pos)
				dc++;
			held = hc < H->nr && H->r[hc].start <= pos;
			in_d = all_dirty || (dc < D.nr && D.r[dc].start <= pos);
			/* the next edge of either set */
			if (hc < H->nr) {
				uint64_t edge = held ? H->r[hc].end : H->r[hc].start;

				if (edge < next)
					next = edge;
			}
			if (!all_dirty && dc < D.nr) {
				uint64_t edge = in_d ? D.r[dc].end : D.r[dc].start;

				if (edge < next)
					next = edge;
			}
			if (sparse_add(sp, pos, next, in_d || !held, err) < 0)
				goto out;
			pos = next;
		}
	}
	if (sparse_flush(sp, err) < 0)
		goto out;
	e->res->st.pages_scanned += sp->scanned;
	e->res->st.pages_written += sp->written;
	e->res->st.pages_skipped_parent += sp->scanned - sp->written;
	e->res->st.memdump_us += glue_now_us() - t0;
	rc = 1;
out:
	free(sp);
	glue_ranges_free(&D);
	return rc;
}
