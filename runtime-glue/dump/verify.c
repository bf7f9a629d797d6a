// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/mem/chain.h"
#include "runtime-glue/mem/pagemap.h"
#include "runtime-glue/mem/pages.h"
#include "runtime-glue/proc/pstree.h"
#include "runtime-glue/dump/verify.h"
#include "runtime-glue/mem/vma.h"

#define BATCH 256 /* pages read from the task at once */

struct vctx {
	const struct glue_verify_opts *o;
	struct glue_verify_result *r;
	FILE *report;
	unsigned reported;
	uint8_t *live, *img;
};

static bool is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;

	for (size_t i = 0; i < GLUE_PAGE_SIZE / 8; i++)
		if (w[i])
			return false;
	return true;
}

static void report(struct vctx *v, const char *what, const char *obj, uint64_t addr,
		   const char *kind)
{
	if (v->reported++ >= v->o->max_report)
		return;
	fprintf(v->report, "%s %s page %#" PRIx64 " (%s)\n", what, obj, addr, kind);
}

/* Union of two sorted range lists, clipped to [lo, hi). */
static void union_clip(const struct glue_ranges *a, const struct glue_ranges *b, uint64_t lo,
		       uint64_t hi, struct glue_ranges *out)
{
	size_t i = 0, j = 0;
	uint64_t cs = 0, ce = 0;
	bool open = false;

	while (i < a->nr || j < b->nr) {
		const struct glue_range *n;

		if (j >= b->nr || (i < a->nr && a->r[i].start <= b->r[j].start))
			n = &a->r[i++];
		else
			n = &b->r[j++];
		uint64_t s = n->start < lo ? lo : n->start, e = n->end > hi ? hi : n->end;

		if (s >= e)
			continue;
		if (open && s <= ce) {
			if (e > ce)
				ce = e;
			continue;
		}
		if (open)
			glue_ranges_add(out, cs, ce);
		cs = s;
		ce = e;
		open = true;
	}
	if (open)
		glue_ranges_add(out, cs, ce);
}

/* Compare pages [a, a+n) of one object; live content is in v->live. */
static int compare_pages(struct vctx *v, struct glue_chain_obj *co, const char *obj,
			 const struct glue_ranges *present, uint64_t a, size_t n, const char *kind,
			 struct ck_err **err)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t addr = a + i * GLUE_PAGE_SIZE;
		const uint8_t *live = v->live + i * GLUE_PAGE_SIZE;
		bool held = false;

		if (co && glue_chain_obj_read(co, addr, v->img, &held, err) < 0)
			return -1;
		v->r->pages_checked++;
		if (held) {
			if (memcmp(live, v->img, GLUE_PAGE_SIZE)) {
				v->r->mismatch++;
				report(v, "MISMATCH", obj, addr, kind);
			}
		} else if (glue_ranges_contains(present, addr) && !is_zero(live)) {
			v->r->missing++;
			report(v, "MISSING", obj, addr, kind);
		}
	}
	return 0;
}

static int verify_task(struct vctx *v, const struct glue_chain *chain, const struct glue_task *t,
		       struct ck_err **err)
{
	_cleanup_free_ char *pmname = glue_pagemap_name(false, (uint64_t)t->vpid);
	_cleanup_free_ char *obj = xasprintf("pid %d", (int)t->vpid);
	struct glue_chain_obj *co = NULL;
	struct glue_pagescan *ps = NULL;
	struct glue_memreader *rd = NULL;
	struct glue_vmas vmas = { 0 };
	struct glue_ranges held = { 0 }, present = { 0 };
	int rc = -1;

	co = glue_chain_obj_open(chain, pmname, err);
	if (!co)
		goto out;
	glue_chain_obj_ranges(co, &held);
	if (glue_vmas_read(t->pid, &vmas, err) < 0)
		goto out;
	ps = glue_pagescan_open(t->pid, GLUE_SCAN_AUTO, err);
	if (!ps)
		goto out;
	rd = glue_memreader_open(t->pid, GLUE_COPY_VM_READV, err);
	if (!rd)
		goto out;
	for (size_t i = 0; i < vmas.nr; i++)
		if (glue_pagescan_vma(ps, &vmas.v[i], &present, err) < 0)
			goto out;
	/* chain pages outside every private VMA */
	for (size_t i = 0; i < held.nr; i++)
		for (uint64_t a = held.r[i].start; a < held.r[i].end; a += GLUE_PAGE_SIZE) {
			const struct glue_vma *vm = glue_vma_find(&vmas, a);

			if (!vm || (vm->dump != GLUE_DUMP_PRIVATE && vm->dump != GLUE_DUMP_WHOLE)) {
				v->r->outside++;
				report(v, "OUTSIDE", obj, a, vm ? glue_vma_kind(vm) : "unmapped");
			}
		}
	for (size_t i = 0; i < vmas.nr; i++) {
		const struct glue_vma *vm = &vmas.v[i];
		struct glue_ranges u = { 0 };

		if (vm->dump != GLUE_DUMP_PRIVATE && vm->dump != GLUE_DUMP_WHOLE)
			continue;
		union_clip(&present, &held, vm->start, vm->end, &u);
		for (size_t k = 0; k < u.nr; k++) {
			for (uint64_t a = u.r[k].start; a < u.r[k].end;) {
				size_t n = (size_t)((u.r[k].end - a) / GLUE_PAGE_SIZE);
				struct glue_range rr;
				ssize_t got;

				if (n > BATCH)
					n = BATCH;
				rr.start = a;
				rr.end = a + n * GLUE_PAGE_SIZE;
				got = glue_memreader_read(rd, &rr, 1, v->live, err);
				if (got < 0) {
					glue_ranges_free(&u);
					goto out;
				}
				if ((size_t)got < n * GLUE_PAGE_SIZE) {
					glue_ranges_free(&u);
					ck_err_set(err, EFAULT,
						   "cannot read %#" PRIx64 " of pid %d",
						   (uint64_t)(a + (uint64_t)got), (int)t->pid);
					goto out;
				}
				if (compare_pages(v, co, obj, &present, a, n, glue_vma_kind(vm),
						  err) < 0) {
					glue_ranges_free(&u);
					goto out;
				}
				a += n * GLUE_PAGE_SIZE;
			}
		}
		glue_ranges_free(&u);
	}
	rc = 0;
out:
	glue_chain_obj_close(co);
	glue_pagescan_close(ps);
	glue_memreader_close(rd);
	glue_vmas_free(&vmas);
	glue_ranges_free(&held);
	glue_ranges_free(&present);
	if (rc < 0)
		ck_err_wrap(err, "verify pid %d", (int)t->pid);
	return rc;
}

static int verify_shmem(struct vctx *v, const struct glue_chain *chain, const struct glue_task *t,
			const struct glue_vma *vm, struct ck_err **err)
{
	_cleanup_free_ char *pmname = glue_pagemap_name(true, vm->ino);
	_cleanup_free_ char *obj = xasprintf("segment %" PRIu64, vm->ino);
	_cleanup_close_ int fd = -1;
	struct glue_chain_obj *co = NULL;
	struct glue_ranges present = { 0 }, held = { 0 }, u = { 0 };
	char path[128];
	struct stat st;
	int rc = -1;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)t->pid,
		 vm->start, vm->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return ck_err_set(err, errno, "open %s", path);
	co = glue_chain_obj_open(chain, pmname, err);
	if (!co)
		return -1;
	glue_chain_obj_ranges(co, &held);
	for (off_t off = 0; off < st.st_size;) {
		off_t d = lseek(fd, off, SEEK_DATA), h;

		if (d < 0)
			break;
		h = lseek(fd, d, SEEK_HOLE);
		if (h < 0)
			h = st.st_size;
		d &= ~(off_t)(GLUE_PAGE_SIZE - 1);
		h = (h + (off_t)GLUE_PAGE_SIZE - 1) & ~(off_t)(GLUE_PAGE_SIZE - 1);
		glue_ranges_add(&present, (uint64_t)d, (uint64_t)h);
		off = h;
	}
	union_clip(&present, &held, 0, UINT64_MAX, &u);
	for (size_t k = 0; k < u.nr; k++)
		for (uint64_t a = u.r[k].start; a < u.r[k].end; a += GLUE_PAGE_SIZE) {
			ssize_t got = pread(fd, v->live, GLUE_PAGE_SIZE, (off_t)a);

			if (got < (ssize_t)GLUE_PAGE_SIZE)
				memset(v->live + (got > 0 ? got : 0), 0,
				       GLUE_PAGE_SIZE - (size_t)(got > 0 ? got : 0));
			if (compare_pages(v, co, obj, &present, a, 1, glue_vma_kind(vm), err) < 0)
				goto out;
		}
	v->r->segments++;
	rc = 0;
out:
	glue_chain_obj_close(co);
	glue_ranges_free(&present);
	glue_ranges_free(&held);
	glue_ranges_free(&u);
	return rc;
}

/* see verify.h */
int glue_verify(const struct glue_verify_opts *o, struct glue_verify_result *r, FILE *report,
		struct ck_err **err)
{
	_cleanup_(glue_freezer_freep) struct glue_freezer *fz = NULL;
	struct glue_pstree tree = { 0 };
	struct glue_chain chain = { 0 };
	struct vctx v = { .o = o, .r = r, .report = report };
	uint64_t *seen = NULL;
	size_t nseen = 0;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (glue_chain_open(o->images_dir, &chain, err) < 0)
		return -1;
	v.live = xmalloc_pages(BATCH * GLUE_PAGE_SIZE);
	v.img = xmalloc_pages(GLUE_PAGE_SIZE);
	if (glue_freeze(&o->target, &fz, &tree, err) < 0)
		goto out;
	for (size_t i = 0; i < tree.nr; i++) {
		struct glue_vmas vmas = { 0 };

		v.reported = 0;
		if (glue_task_refresh_dead(&tree.t[i])) {
			pr_info("pid %d is a zombie: no memory to compare", (int)tree.t[i].pid);
			continue;
		}
		if (verify_task(&v, &chain, &tree.t[i], err) < 0)
			goto out;
		r->tasks++;
		if (glue_vmas_read(tree.t[i].pid, &vmas, err) < 0)
			goto out;
		for (size_t j = 0; j < vmas.nr; j++) {
			const struct glue_vma *vm = &vmas.v[j];
			bool dup = false;

			if (vm->dump != GLUE_DUMP_SHMEM)
				continue;
			for (size_t k = 0; k < nseen; k++)
				dup |= seen[k] == vm->ino;
			if (dup)
				continue;
			seen = xreallocarray(seen, nseen + 1, sizeof(*seen));
			seen[nseen++] = vm->ino;
			if (verify_shmem(&v, &chain, &tree.t[i], vm, err) < 0) {
				glue_vmas_free(&vmas);
				goto out;
			}
		}
		glue_vmas_free(&vmas);
	}
	if (glue_thaw(fz, false, err) < 0)
		goto out;
	rc = 0;
out:
	glue_pstree_free(&tree);
	glue_chain_close(&chain);
	free(v.live);
	free(v.img);
	free(seen);
	if (rc < 0)
		ck_err_wrap(err, "verify %s", o->images_dir);
	return rc;
}
