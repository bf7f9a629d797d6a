/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * The layer's page writer (copy.c): reading the target and writing the image
 * overlap.  The engine fills one buffer of a small ring (glue_copier_buf),
 * names the runs of it that go to a pages image (glue_copier_queue, through
 * glue_pmw_add), and hands it over (glue_copier_submit); a writer thread
 * writes the runs in order and gives the buffer back.  Memory is bounded by
 * the ring (nslots * slot_bytes).
 *
 * Errors: the first write error (or the `copy-write` fault point) stops the
 * writer; the engine sees it at its next buf/submit/drain call, so either
 * side failing ends the layer (which is then removed, never committed).
 * Data queued after an error is dropped.
 */

struct glue_copier;
struct img;

/* A ring of @nslots buffers of @slot_bytes; the writer thread starts at the first submit. */
struct glue_copier *glue_copier_new(size_t slot_bytes, unsigned nslots);

/*
 * The buffer to fill next (slot_bytes), waiting for the writer to free one.
 * Returns NULL with *err set when the writer failed.
 */
void *glue_copier_buf(struct glue_copier *c, struct ck_err **err);

/* Write @len bytes at @p (inside the current buffer) to @pages when the buffer is submitted. */
int glue_copier_queue(struct glue_copier *c, struct img *pages, const void *p, size_t len,
		      struct ck_err **err);

/*
 * Write @len bytes at @p, anywhere in memory, to @pages after everything
 * queued before: the caller keeps them untouched until glue_copier_wait() of
 * a ticket taken after they were submitted (or glue_copier_drain()).
 */
int glue_copier_queue_ext(struct glue_copier *c, struct img *pages, const void *p, size_t len,
			  struct ck_err **err);

/* Submit what is queued; *ticket names it for glue_copier_wait(). */
int glue_copier_submit_ticket(struct glue_copier *c, uint64_t *ticket, struct ck_err **err);

/* Wait until everything submitted up to @ticket is written; the writer's error, if any. */
int glue_copier_wait(struct glue_copier *c, uint64_t ticket, struct ck_err **err);

/* Hand the current buffer to the writer.  -1 with *err when the writer failed. */
int glue_copier_submit(struct glue_copier *c, struct ck_err **err);

/*
 * Wait until everything submitted is written (a buffer still being filled is
 * dropped).  Returns the writer's error, if any, once (it stays failed).
 */
int glue_copier_drain(struct glue_copier *c, struct ck_err **err);

/* Stop the writer (dropping what is queued) and free.  Safe on NULL. */
void glue_copier_free(struct glue_copier *c);
