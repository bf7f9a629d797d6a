/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "runtime-glue/mem/pagemap.h"

/*
 * The final dump's frozen buffer (frozen-buf.c): while the tree is frozen,
 * the data of the pages to write is copied into a bounded buffer in memory
 * (a pagemap writer's sink, glue_pmw_set_sink()); the files are written after
 * the kill or the thaw.  When the buffer is full, everything in it is written
 * at once ("spilled", still frozen) and buffering goes on: ckpt's memory never
 * grows past the bound.  Size 0: every page is written while frozen.
 */
#define GLUE_FROZEN_BUFFER_DEFAULT (40ULL << 20)

struct glue_fbuf;

struct glue_fbuf *glue_fbuf_new(uint64_t cap);
void glue_fbuf_free(struct glue_fbuf *fb);
/* The sink: pass as glue_pmw_set_sink(w, glue_fbuf_put, fb). */
int glue_fbuf_put(void *fb, struct glue_pmw *w, const void *data, size_t len, struct ck_err **err);
/*
 * Room for @len bytes at the buffer's end (spilling first when it is full),
 * to read page data straight into: glue_fbuf_put() of that same pointer then
 * copies nothing.  NULL when @len does not fit at all (or *failed, with *err,
 * when the spill failed).
 */
void *glue_fbuf_tail(struct glue_fbuf *fb, size_t len, struct ck_err **err, bool *failed);
/*
 * Page data that lies in [@p, @p + @len) (the final dump's early copy, made
 * before the freeze: engine-pre.c) is recorded by pointer, not copied into
 * the buffer: it must stay mapped until glue_fbuf_flush().  Its @len counts
 * against the buffer's bound (the log still names the whole bound).
 */
void glue_fbuf_external(struct glue_fbuf *fb, const void *p, size_t len);
/* Reserve file space for everything buffered (img_reserve()), before a kill. */
int glue_fbuf_reserve(struct glue_fbuf *fb, struct ck_err **err);
/* Write everything buffered, in order, and give the memory back. */
int glue_fbuf_flush(struct glue_fbuf *fb, struct ck_err **err);

struct glue_fbuf_stats {
	uint64_t cap;
	uint64_t total;    /* bytes of page data of the layer */
	uint64_t buffered; /* bytes that went through the buffer */
	uint64_t spilled;  /* bytes written while frozen because the buffer was full */
	uint64_t spills;   /* times it was full */
	uint64_t early;    /* bytes taken from the early copy (glue_fbuf_external) */
	uint64_t peak;     /* most bytes held at once */
};
void glue_fbuf_stats(const struct glue_fbuf *fb, struct glue_fbuf_stats *st);

/* "48M", "1m", "512K", "1G", "4096": bytes; -1 when malformed. */
int glue_parse_size(const char *s, uint64_t *out);
