/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "common/err.h"
#include "proto/img.h"

/*
 * Realistic sample images for tests and the demo: a single-threaded task `pid`
 * with a file-backed text, heap, anonymous memory and stack, stdio on /dev/null
 * and a pipe.  Shared by tests/unit/test-img.c and the img-sample writer.
 */

/* Every allocation of the builders below; freed at once. */
struct sample_arena;
struct sample_arena *sample_arena_new(void);
void sample_arena_free(struct sample_arena *a);

/*
 * Entry number idx of an image of `type` (IMG_PAGEMAP: 0 is the head).  Any idx
 * gives a valid, deterministic message; the sample set uses the first
 * img_sample_count(type).  NULL for IMG_PAGES.
 */
ProtobufCMessage *img_sample_entry(struct sample_arena *a, enum img_type type, unsigned pid,
				   size_t idx);

/* Entries of `type` in the written sample set. */
size_t img_sample_count(enum img_type type);

/* The raw bytes that follow pipes-data entry idx (length = its `bytes`). */
const char *img_sample_pipe_data(size_t idx, size_t *len);

/*
 * Write the sample set into dirfd: inventory.img pstree.img core-PID.img
 * mm-PID.img pagemap-PID.img pages-1.img stats-dump ids-PID.img fs-PID.img
 * files.img fdinfo-2.img timens-0.img seccomp.img creds-PID.img reg-files.img
 * pipes.img pipes-data.img memfd.img.  Returns 0 or -1 with *err set.
 */
int img_sample_write(int dirfd, unsigned pid, struct ck_err **err);

/* Byte value of page `page` (0-based, pagemap order) of pages-1.img at `off`. */
unsigned char img_sample_page_byte(size_t page, size_t off);
