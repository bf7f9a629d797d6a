// SPDX-License-Identifier: MIT
/*
 * Pagemaps of a layer: the writer (pagemap-*.img plus its pages-*.img, adjacent
 * pages merged into one entry) and the loader (checked entries with the offset
 * of their data).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/xalloc.h"
#include "proto/img.h"
#include "proto/pagemap.pb-c.h"
#include "runtime-glue/mem/copy.h"
#include "runtime-glue/mem/layer.h"
#include "runtime-glue/mem/pagemap.h"

/* see pagemap.h */
char *glue_pagemap_name(bool shmem, uint64_t id)
{
	if (shmem)
		return xasprintf("pagemap-shmem-%llu.img", (unsigned long long)id);
	return img_filename(IMG_PAGEMAP, (unsigned long)id);
}

struct glue_pmw {
	struct glue_layer *l;
	struct img *pm, *pages;
	char *name;
	uint32_t pages_id;
	uint64_t pend_vaddr, pend_n;
	bool pend_present;
	glue_pmw_put_fn put; /* page data sink (glue_pmw_set_sink) */
	void *put_ctx;
	/* with a sink: entries kept here, written by glue_pmw_close() (no I/O before) */
	struct glue_pm_ent *held;
	size_t nr_held, cap_held;
};

/* An image file made before the freeze. */
struct glue_pmw_pre {
	char *name;
	int fd;
};

/* see pagemap.h */
void glue_pmw_precreate(struct glue_layer *l, const char *name)
{
	int fd;

	for (size_t i = 0; i < l->nr_pre; i++)
		if (!strcmp(l->pre[i].name, name))
			return;
	fd = openat(l->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return; /* created when opened */
	l->pre = xreallocarray(l->pre, l->nr_pre + 1, sizeof(*l->pre));
	l->pre[l->nr_pre].name = xstrdup(name);
	l->pre[l->nr_pre++].fd = fd;
}

/* see pagemap.h */
void glue_pmw_precreate_pages(struct glue_layer *l, size_t npages)
{
	for (size_t i = 0; i < npages; i++) {
		_cleanup_free_ char *name = img_filename(IMG_PAGES, l->next_pages_id + i);

		glue_pmw_precreate(l, name);
	}
}

/* The image @name of the layer: the file made for it before the freeze, else a new one. */
static struct img *create(struct glue_layer *l, const char *name, enum img_type type,
			  struct ck_err **err)
{
	for (size_t i = 0; i < l->nr_pre; i++) {
		struct glue_pmw_pre *p = &l->pre[i];
		int fd = p->fd;

		if (fd < 0 || strcmp(p->name, name))
			continue;
		p->fd = -1; /* taken: kept in the layer */
		return img_create_fd(fd, name, type, err);
	}
	return img_create(l->dirfd, name, type, err);
}

/* see pagemap.h */
void glue_pmw_pre_drop(struct glue_layer *l)
{
	for (size_t i = 0; i < l->nr_pre; i++) {
		if (l->pre[i].fd >= 0) {
			close(l->pre[i].fd);
			unlinkat(l->dirfd, l->pre[i].name, 0);
		}
		free(l->pre[i].name);
	}
	free(l->pre);
	l->pre = NULL;
	l->nr_pre = 0;
}

/* see pagemap.h */
struct glue_pmw *glue_pmw_open(struct glue_layer *l, const char *name, struct ck_err **err)
{
	struct glue_pmw *w = xzalloc(sizeof(*w));
	uint32_t id = l->next_pages_id++;
	_cleanup_free_ char *pages = img_filename(IMG_PAGES, id);

	w->l = l;
	w->name = xstrdup(name);
	w->pages_id = id;
	w->pm = create(l, name, IMG_PAGEMAP, err);
	if (!w->pm)
		goto fail;
	if (img_write_pagemap_head(w->pm, id, err) < 0)
		goto fail;
	w->pages = create(l, pages, IMG_PAGES, err);
	if (!w->pages)
		goto fail;
	return w;
fail:
	glue_pmw_abort(w);
	return NULL;
}

/* Entries kept in memory at most (2 MiB); past that they are written at once. */
#define PMW_HELD_MAX 65536

static int write_held(struct glue_pmw *w, struct ck_err **err)
{
	for (size_t i = 0; i < w->nr_held; i++)
		if (img_write_pagemap_entry(w->pm, w->held[i].vaddr, w->held[i].nr_pages,
					    w->held[i].flags, err) < 0)
			return -1;
	w->nr_held = 0;
	return 0;
}

static int flush_pending(struct glue_pmw *w, struct ck_err **err)
{
	if (!w->pend_n)
		return 0;
	if (w->put) {
		if (w->nr_held == PMW_HELD_MAX && write_held(w, err) < 0)
			return -1;
		if (w->nr_held == w->cap_held) {
			w->cap_held = w->cap_held ? w->cap_held * 2 : 256;
			w->held = xreallocarray(w->held, w->cap_held, sizeof(*w->held));
		}
		w->held[w->nr_held++] = (struct glue_pm_ent){
			.vaddr = w->pend_vaddr,
			.nr_pages = w->pend_n,
			.flags = w->pend_present ? IMG_PE_PRESENT : IMG_PE_PARENT,
		};
		w->pend_n = 0;
		return 0;
	}
	if (img_write_pagemap_entry(w->pm, w->pend_vaddr, w->pend_n,
				    w->pend_present ? IMG_PE_PRESENT : IMG_PE_PARENT, err) < 0)
		return -1;
	w->pend_n = 0;
	return 0;
}

/* see pagemap.h */
int glue_pmw_add(struct glue_pmw *w, uint64_t vaddr, size_t npages, const void *data,
		 struct ck_err **err)
{
	bool present = data != NULL;

	if (!npages)
		return 0;
	if (w->pend_n &&
	    (w->pend_present != present || w->pend_vaddr + w->pend_n * GLUE_PAGE_SIZE != vaddr))
		if (flush_pending(w, err) < 0)
			return -1;
	if (!w->pend_n) {
		w->pend_vaddr = vaddr;
		w->pend_present = present;
	}
	w->pend_n += npages;
	if (present && w->put)
		return w->put(w->put_ctx, w, data, npages * GLUE_PAGE_SIZE, err);
	if (present) {
		size_t len = npages * GLUE_PAGE_SIZE;

		/* with a page writer, the data is written by its thread (copy.h) */
		if ((w->l->copier ? glue_copier_queue(w->l->copier, w->pages, data, len, err)
				  : img_write_raw(w->pages, data, len, err)) < 0)
			return -1;
		w->l->bytes_written += npages * GLUE_PAGE_SIZE;
	}
	return 0;
}

/* see pagemap.h */
void glue_pmw_set_sink(struct glue_pmw *w, glue_pmw_put_fn put, void *ctx)
{
	w->put = put;
	w->put_ctx = ctx;
}

/* see pagemap.h */
int glue_pmw_write_data(struct glue_pmw *w, const void *data, size_t len, struct ck_err **err)
{
	if (img_write_raw(w->pages, data, len, err) < 0)
		return -1;
	w->l->bytes_written += len;
	return 0;
}

/* see pagemap.h */
int glue_pmw_queue_data(struct glue_pmw *w, const void *data, size_t len, struct ck_err **err)
{
	if (!w->l->copier)
		return glue_pmw_write_data(w, data, len, err);
	if (glue_copier_queue_ext(w->l->copier, w->pages, data, len, err) < 0)
		return -1;
	w->l->bytes_written += len;
	return 0;
}

/* see pagemap.h */
struct glue_copier *glue_pmw_copier(const struct glue_pmw *w)
{
	return w->l->copier;
}

/* see pagemap.h */
int glue_pmw_reserve(struct glue_pmw *w, uint64_t len, bool *reserved, struct ck_err **err)
{
	return img_reserve(w->pages, len, reserved, err);
}

/* see pagemap.h */
int glue_pmw_close(struct glue_pmw *w, struct ck_err **err)
{
	int rc = 0;

	if ((w->l->copier && glue_copier_drain(w->l->copier, err) < 0) ||
	    flush_pending(w, err) < 0) {
		glue_pmw_abort(w);
		return -1;
	}
	if (write_held(w, err) < 0) {
		glue_pmw_abort(w);
		return -1;
	}
	if (img_close(steal_ptr(&w->pm), err) < 0)
		rc = -1;
	if (rc == 0 && img_close(steal_ptr(&w->pages), err) < 0)
		rc = -1;
	glue_pmw_abort(w);
	return rc;
}

/* see pagemap.h */
void glue_pmw_discard(struct glue_pmw *w)
{
	_cleanup_free_ char *pages = img_filename(IMG_PAGES, w->pages_id);

	/* the open fds stay valid for the writer that abort() waits for */
	unlinkat(w->l->dirfd, w->name, 0);
	unlinkat(w->l->dirfd, pages, 0);
	glue_pmw_abort(w);
}

/* see pagemap.h */
void glue_pmw_abort(struct glue_pmw *w)
{
	if (!w)
		return;
	if (w->l->copier) {
		/* the writer may still be using w->pages */
		struct ck_err *e = NULL;

		glue_copier_drain(w->l->copier, &e);
		ck_err_free(&e);
	}
	img_abort(w->pm);
	img_abort(w->pages);
	free(w->held);
	free(w->name);
	free(w);
}

/* see pagemap.h */
int glue_pagemap_load(int dirfd, const char *name, struct glue_pagemap *out, bool *missing,
		      struct ck_err **err)
{
	_cleanup_(img_releasep) struct img *img = NULL;
	struct glue_pagemap pm = { 0 };
	PagemapHead *head = NULL;
	size_t cap = 0;
	uint64_t off = 0;

	memset(out, 0, sizeof(*out));
	if (missing)
		*missing = false;
	if (faccessat(dirfd, name, F_OK, 0) < 0 && errno == ENOENT && missing) {
		*missing = true;
		return 0;
	}
	img = img_open(dirfd, name, IMG_PAGEMAP, err);
	if (!img)
		return -1;
	if (img_read_entry(img, (void **)&head, err) < 0)
		return -1;
	if (!head)
		return ck_err_set(err, 0, "%s: no pagemap head", name);
	pm.pages_id = head->pages_id;
	img_free_msg(head);
	for (;;) {
		PagemapEntry *e = NULL;
		struct glue_pm_ent ent;

		if (img_read_entry(img, (void **)&e, err) < 0)
			goto fail;
		if (!e)
			break;
		ent.vaddr = e->vaddr;
		ent.nr_pages = e->has_nr_pages ? e->nr_pages : e->compat_nr_pages;
		ent.flags =
			e->has_flags ? e->flags : (e->in_parent ? IMG_PE_PARENT : IMG_PE_PRESENT);
		img_free_msg(e);
		if (!ent.nr_pages || (ent.vaddr & (GLUE_PAGE_SIZE - 1)) ||
		    !(ent.flags & (IMG_PE_PRESENT | IMG_PE_PARENT))) {
			ck_err_set(err, 0, "%s: bad entry at %#" PRIx64, name, ent.vaddr);
			goto fail;
		}
		if (pm.nr &&
		    pm.e[pm.nr - 1].vaddr + pm.e[pm.nr - 1].nr_pages * GLUE_PAGE_SIZE > ent.vaddr) {
			ck_err_set(err, 0, "%s: entries overlap or are unsorted at %#" PRIx64, name,
				   ent.vaddr);
			goto fail;
		}
		ent.pages_off = off;
		if (ent.flags & IMG_PE_PRESENT && !(ent.flags & IMG_PE_PARENT))
			off += ent.nr_pages * GLUE_PAGE_SIZE;
		if (pm.nr == cap) {
			cap = cap ? cap * 2 : 64;
			pm.e = xreallocarray(pm.e, cap, sizeof(*pm.e));
		}
		pm.e[pm.nr++] = ent;
	}
	*out = pm;
	return 0;
fail:
	glue_pagemap_free(&pm);
	return -1;
}

/* see pagemap.h */
void glue_pagemap_free(struct glue_pagemap *pm)
{
	free(pm->e);
	memset(pm, 0, sizeof(*pm));
}

/* see pagemap.h */
void glue_pagemap_ranges(const struct glue_pagemap *pm, struct glue_ranges *out)
{
	for (size_t i = 0; i < pm->nr; i++)
		glue_ranges_add(out, pm->e[i].vaddr,
				pm->e[i].vaddr + pm->e[i].nr_pages * GLUE_PAGE_SIZE);
}
