/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "runtime-glue/mem/pages.h"

/*
 * Pagemaps of a layer (pagemap.c): pagemap-<vpid>.img (or
 * pagemap-shmem-<inode>.img) lists page ranges, each PE_PRESENT (data in this
 * layer's pages-<id>.img, in the order of the entries) or PE_PARENT (data in a
 * layer below).
 */

struct glue_layer;

/* Name of the pagemap image of a task (vpid) or shared segment (inode).  Caller frees. */
char *glue_pagemap_name(bool shmem, uint64_t id);

/* ---- writing a pagemap + its pages ---- */

struct glue_pmw;

/*
 * Create pagemap @name and a new pages-<id>.img in the layer, or take the
 * files glue_pmw_precreate() made for them.
 */
struct glue_pmw *glue_pmw_open(struct glue_layer *l, const char *name, struct ck_err **err);

/*
 * Before a final dump's freeze: make the empty image files its writers will
 * open while frozen, pagemap-<vpid>.img of a task listed then and the next
 * pages-<id>.img (@npages of them; taken in order, whichever object opens
 * one).  Creating a file in the layer cost 0.13-0.5 ms each in the bench's
 * container dump, two per task.  Best effort: what is not made here is
 * created when opened, as before.
 */
void glue_pmw_precreate(struct glue_layer *l, const char *name);
void glue_pmw_precreate_pages(struct glue_layer *l, size_t npages);
/* Close and remove the files made in advance that no writer took (layer.c). */
void glue_pmw_pre_drop(struct glue_layer *l);
/*
 * Add @npages pages at @vaddr, in increasing order: PE_PRESENT with @data
 * (npages * 4096 bytes) or PE_PARENT (@data NULL).  Adjacent pages of the same
 * kind are merged into one entry.
 */
int glue_pmw_add(struct glue_pmw *w, uint64_t vaddr, size_t npages, const void *data,
		 struct ck_err **err);
int glue_pmw_close(struct glue_pmw *w, struct ck_err **err);
/*
 * A sink for page data: while set, the data of PE_PRESENT pages added to @w
 * goes to @put, in order, instead of pages-<id>.img (the entries are written
 * as usual).  The sink's owner writes it later with glue_pmw_write_data(), in
 * the same order, before glue_pmw_close().  The entries are kept in memory
 * too (up to 64 Ki of them, then written at once) and written by
 * glue_pmw_close(): normally no write at all until then.  Used by
 * the final dump to write after the freeze (dump/frozen-buf.h).
 */
typedef int (*glue_pmw_put_fn)(void *ctx, struct glue_pmw *w, const void *data, size_t len,
			       struct ck_err **err);
void glue_pmw_set_sink(struct glue_pmw *w, glue_pmw_put_fn put, void *ctx);
/* Written at once by the calling thread (never through the layer's copier). */
int glue_pmw_write_data(struct glue_pmw *w, const void *data, size_t len, struct ck_err **err);
/*
 * Through the layer's copier when it has one (glue_copier_queue_ext(): @data
 * stays untouched until the copier has written it), else as
 * glue_pmw_write_data().  Never mixed with that one while queued data is
 * unwritten: both go to the same pages image.
 */
int glue_pmw_queue_data(struct glue_pmw *w, const void *data, size_t len, struct ck_err **err);
/* The layer's copier, or NULL. */
struct glue_copier *glue_pmw_copier(const struct glue_pmw *w);
/* Reserve space for @len more bytes of page data (img_reserve()). */
int glue_pmw_reserve(struct glue_pmw *w, uint64_t len, bool *reserved, struct ck_err **err);
void glue_pmw_abort(struct glue_pmw *w);
/* Abort @w (not NULL), and remove both its image files from the layer (an object left out of it). */
void glue_pmw_discard(struct glue_pmw *w);

/* ---- reading pagemaps ---- */

struct glue_pm_ent {
	uint64_t vaddr, nr_pages;
	uint32_t flags;     /* IMG_PE_* */
	uint64_t pages_off; /* byte offset of the data in pages-<id>.img (PE_PRESENT) */
};

struct glue_pagemap {
	size_t nr;
	struct glue_pm_ent *e;
	uint32_t pages_id;
};

/*
 * Load pagemap @name of the layer @dirfd.  *missing (may be NULL) is set and 0
 * returned when the layer has no such pagemap.  Checks ordering and flags.
 */
int glue_pagemap_load(int dirfd, const char *name, struct glue_pagemap *out, bool *missing,
		      struct ck_err **err);
void glue_pagemap_free(struct glue_pagemap *pm);
/* Every page the pagemap covers (PE_PRESENT or PE_PARENT), appended to @out. */
void glue_pagemap_ranges(const struct glue_pagemap *pm, struct glue_ranges *out);
