/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "runtime-glue/mem/pages.h"

/*
 * Reading a layer chain (chain.c): a layer directory and its parents, and the
 * pages of one memory object (a pagemap name) as the chain holds them: the
 * topmost PE_PRESENT entry for a page wins, PE_PARENT looks one layer down.
 */

struct glue_chain_layer {
	int dirfd;
	char *path;
};

struct glue_chain {
	size_t nr;
	struct glue_chain_layer *l; /* l[0] is the top layer, l[nr-1] the oldest */
};

/* Open @dir and its parents (following `parent` links).  0 or -1. */
int glue_chain_open(const char *dir, struct glue_chain *out, struct ck_err **err);
void glue_chain_close(struct glue_chain *c);

/* Reconstructed content of one memory object along a chain. */
struct glue_chain_obj;

struct glue_chain_obj *glue_chain_obj_open(const struct glue_chain *c, const char *pagemap_name,
					   struct ck_err **err);
void glue_chain_obj_close(struct glue_chain_obj *o);
/*
 * Content of the page at @vaddr into @buf (4096 bytes).  *held is false when
 * the chain has no entry for it.  Fails on a PE_PARENT entry whose parent lacks
 * the page, or a short pages file.
 */
int glue_chain_obj_read(struct glue_chain_obj *o, uint64_t vaddr, void *buf, bool *held,
			struct ck_err **err);
/* Every page the top layer covers. */
void glue_chain_obj_ranges(const struct glue_chain_obj *o, struct glue_ranges *out);
