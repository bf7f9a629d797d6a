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
#include "runtime-glue/dump/dump-state.h"
#include "runtime-glue/dump/engine.h"

/* see engine.h */
int glue_engine_check_presence(struct engine *e, struct ck_err **err)
{
	uint64_t t0 = glue_now_us();

	e->pages_total = 0;
	for (size_t i = 0; i < e->nr_obj; i++) {
		struct mobj *ob = &e->obj[i];

		if (!ob->m.shmem && glue_presence_check(&ob->pres, &ob->m, err) < 0)
			return ck_err_wrap(err, "task %d", (int)ob->m.pid);
		e->pages_total += ob->m.present.pages;
	}
	e->res->discover_us += glue_now_us() - t0;
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
		" KiB written after the freeze in %" PRIu64 " us",
		st.cap >> 10, st.total >> 10, st.spilled >> 10, st.spills,
		(st.total - st.spilled) >> 10, glue_now_us() - t0);
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
	glue_progress_phase(e->prog, "killed");
	if (glue_thaw(e->fz, false, &e2) < 0)
		pr_debug("release after kill: %s", e2->msg);
	pr_info("tree killed after %" PRIu64 " us frozen (%s)", e->res->st.frozen_us,
		glue_freezer_describe(e->fz));
	return 0;
}
