// SPDX-License-Identifier: MIT
/*
 * The memory engine's copy of one memory object, kept out of predump.c: chunk
 * by chunk (CHUNK_PAGES), the tracker decides which pages are dirty, those
 * are read, and the page writer (copy.h) writes them while the next chunk is
 * read.  A pre-dump copies with the tree running, so a task may unmap, exit
 * or exec under it (glue_engine_gone()).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "runtime-glue/dump/engine.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/mem/copy.h"
#include "runtime-glue/mem/pagemap.h"

/* Read @n pages at @addr of @ob into @buf; returns pages read (a prefix). */
static ssize_t read_pages(struct mobj *ob, uint64_t addr, size_t n, uint8_t *buf,
			  struct ck_err **err)
{
	ssize_t got;

	if (ob->m.shmem) {
		size_t len = n * GLUE_PAGE_SIZE, off = 0;

		while (off < len) {
			got = pread(ob->shm_fd, buf + off, len - off, (off_t)(addr + off));
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				return ck_err_set(err, errno, "read shared segment %" PRIu64,
						  ob->m.id);
			if (got == 0)
				break;
			off += (size_t)got;
		}
		return (ssize_t)(off / GLUE_PAGE_SIZE);
	}
	struct glue_range r = { addr, addr + n * GLUE_PAGE_SIZE };

	got = glue_memreader_read(ob->rd, &r, 1, buf, err);
	if (got < 0)
		return -1;
	return got / (ssize_t)GLUE_PAGE_SIZE;
}

static void fill_held(const struct glue_ranges *h, size_t *cur, uint64_t addr, size_t n,
		      uint8_t *held)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t a = addr + i * GLUE_PAGE_SIZE;

		while (*cur < h->nr && h->r[*cur].end <= a)
			(*cur)++;
		held[i] = *cur < h->nr && h->r[*cur].start <= a;
	}
}

/*
 * One chunk: decide, read, write.  Returns the pages consumed (<= n; fewer
 * when the running task unmapped the rest), or -1.
 */
static ssize_t do_chunk(struct engine *e, struct mobj *ob, struct glue_pmw *w, size_t *hcur,
			uint64_t addr, size_t n, struct ck_err **err)
{
	const struct glue_tracker_ops *ops = e->trk.ops;
	struct glue_chunk c = {
		.addr = addr,
		.npages = n,
		.held = e->held,
		.dirty = e->dirty,
		.buf = e->buf,
		.read = e->rd,
	};
	uint64_t t0 = glue_now_us(), t1, written = 0;
	size_t valid = n, dpos = 0;
	uint8_t *pbuf; /* where packed data was read */
	/* data is never looked at by the tracker: dirty runs read packed */
	bool packed = !ops->needs_content && !ops->compare && !ops->record && !ob->m.shmem;

	/* a free buffer of the page writer (waiting for it is write time) */
	e->buf = glue_copier_buf(e->layer.copier, err);
	if (!e->buf)
		return -1;
	c.buf = e->buf;
	pbuf = e->buf;
	e->res->st.memwrite_us += glue_now_us() - t0;
	t0 = glue_now_us();
	fill_held(&ob->m.parent_held, hcur, addr, n, e->held);
	for (size_t i = 0; i < n; i++)
		e->dirty[i] = !e->held[i];
	memset(e->rd, 0, n);
	if (ops->classify && ops->classify(&e->trk, &ob->m, &c, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		e->dirty[i] |= !e->held[i];

	/* Read what must be looked at: everything for content trackers, else dirty runs. */
	if (packed && glue_engine_read_packed(e, ob, addr, n, &valid, &pbuf, err) < 0)
		return -1;
	for (size_t i = 0; i < n && !packed;) {
		size_t j = i;
		ssize_t got;

		if (!ops->needs_content && !e->dirty[i]) {
			i++;
			continue;
		}
		while (j < n && (ops->needs_content || e->dirty[j]))
			j++;
		got = read_pages(ob, addr + i * GLUE_PAGE_SIZE, j - i, e->buf + i * GLUE_PAGE_SIZE,
				 err);
		if (got < 0)
			return -1;
		memset(e->rd + i, 1, (size_t)got);
		if ((size_t)got < j - i) {
			if (!e->o->pre_dump)
				return ck_err_set(
					err, EFAULT,
					"cannot read page %#" PRIx64 " of %s %" PRIu64
					" while frozen",
					(uint64_t)(addr + (i + (size_t)got) * GLUE_PAGE_SIZE),
					ob->m.shmem ? "segment" : "pid", ob->m.id);
			/* Unmapped since the frozen scan: this layer ends here for the range. */
			valid = i + (size_t)got;
			break;
		}
		i = j;
	}
	c.npages = valid;
	if (ops->compare) {
		if (ops->compare(&e->trk, &ob->m, &c, err) < 0)
			return -1;
		for (size_t i = 0; i < valid; i++)
			e->dirty[i] |= !e->held[i];
	}
	t1 = glue_now_us();
	if (ops->needs_content)
		e->res->discover_us += t1 - t0;

	/* Write runs: PE_PRESENT for dirty pages, PE_PARENT for the rest. */
	for (size_t i = 0; i < valid;) {
		size_t j = i;
		bool d = e->dirty[i];

		while (j < valid && e->dirty[j] == d)
			j++;
		if (glue_pmw_add(w, addr + i * GLUE_PAGE_SIZE, j - i,
				 d ? (packed ? pbuf + dpos * GLUE_PAGE_SIZE
					     : e->buf + i * GLUE_PAGE_SIZE)
				   : NULL,
				 err) < 0)
			return -1;
		if (d) {
			written += j - i;
			dpos += j - i;
		}
		i = j;
	}
	if (ops->record && ops->record(&e->trk, &ob->m, &c, err) < 0)
		return -1;
	if (glue_copier_submit(e->layer.copier, err) < 0)
		return -1;
	if (ob->m.shmem) {
		e->res->st.shpages_scanned += valid;
		e->res->st.shpages_written += written;
		e->res->st.shpages_skipped_parent += valid - written;
	} else {
		e->res->st.pages_scanned += valid;
		e->res->st.pages_written += written;
		e->res->st.pages_skipped_parent += valid - written;
	}
	e->res->st.memwrite_us += glue_now_us() - t1;
	e->res->st.memdump_us += t1 - t0;
	glue_progress_add(e->prog, n * GLUE_PAGE_SIZE);
	e->pages_done += n;
	if (!e->half_fault_done && e->pages_done * 2 >= e->pages_total) {
		e->half_fault_done = true;
		if (glue_fault("pages", err) < 0)
			return -1;
	}
	return (ssize_t)valid;
}

/* see engine.h */
int glue_engine_dump_obj(struct engine *e, struct mobj *ob, struct ck_err **err)
{
	_cleanup_free_ char *name = glue_pagemap_name(ob->m.shmem, ob->m.id);
	struct glue_dump_stats st0 = e->res->st;
	struct glue_pmw *w;
	size_t hcur = 0;

	if (glue_engine_gone(e, ob))
		return 0; /* before its tracker would be armed in another program */
	w = glue_pmw_open(&e->layer, name, err);
	if (!w)
		return -1;
	if (e->fbuf)
		glue_pmw_set_sink(w, glue_fbuf_put, e->fbuf);
	switch (glue_engine_dump_sparse(e, ob, w, err)) {
	case -1:
		goto fail;
	case 1:
		goto done; /* written run by run */
	}
	for (size_t r = 0; r < ob->m.present.nr; r++) {
		uint64_t a = ob->m.present.r[r].start, end = ob->m.present.r[r].end;

		while (a < end) {
			size_t n = (size_t)((end - a) / GLUE_PAGE_SIZE);
			ssize_t done;

			if (n > CHUNK_PAGES)
				n = CHUNK_PAGES;
			done = do_chunk(e, ob, w, &hcur, a, n, err);
			if (done < 0)
				goto fail;
			if ((size_t)done < n) {
				pr_info("%s: %#" PRIx64 "-%#" PRIx64
					" vanished while copying; left to the next layer",
					name, (uint64_t)(a + (uint64_t)done * GLUE_PAGE_SIZE), end);
				break;
			}
			a += n * GLUE_PAGE_SIZE;
		}
	}
done:
	/* exec'd or exited during the copy: what was read may be the new program's */
	if (glue_engine_gone(e, ob))
		goto discard;
	if (e->fbuf)
		ob->pmw = w; /* closed once the buffer is written (write_buffered) */
	else if (glue_pmw_close(w, err) < 0)
		return ck_err_wrap(err, "%s", name);
	if (e->trk.ops->finish_obj &&
	    e->trk.ops->finish_obj(&e->trk, &ob->m, e->layer.dirfd, err) < 0)
		return -1;
	return 0;
fail:
	/* its tracker's calls fail once the address space is gone */
	if (glue_engine_gone(e, ob)) {
		ck_err_free(err);
		goto discard;
	}
	glue_pmw_abort(w);
	return ck_err_wrap(err, "%s", name);
discard:
	glue_pmw_discard(w);
	e->res->st.pages_scanned = st0.pages_scanned;
	e->res->st.pages_written = st0.pages_written;
	e->res->st.pages_skipped_parent = st0.pages_skipped_parent;
	return 0;
}
