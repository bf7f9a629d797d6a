/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "common/err.h"
#include "runtime-glue/proc/freezer.h"

/*
 * `ckpt verify`: freeze the tree, rebuild every dumpable page of every task
 * from the layer chain (following PE_PARENT down the parents) and compare it
 * with live memory, byte for byte.  Checked, per private VMA (anonymous,
 * private file, vdso) and per shared segment:
 *
 *   - a page the chain holds must equal the live page (whether or not the
 *     live page is present: a restore would put the chain's content there);
 *   - a live page with content (present or swapped, not the zero page, not
 *     unmodified page cache) must be in the chain, unless it is all zeroes;
 *   - the chain must not hold pages outside the task's private VMAs (CRIU
 *     refuses such images).
 *
 * Each problem is reported as one line on @report; the first @max_report
 * per task are printed, all are counted.
 */
struct glue_verify_opts {
	struct glue_target target;
	const char *images_dir;
	unsigned max_report;
};

struct glue_verify_result {
	uint64_t tasks, segments;
	uint64_t pages_checked;
	uint64_t mismatch; /* chain content differs from memory */
	uint64_t missing;  /* memory has content the chain lacks */
	uint64_t outside;  /* chain pages outside any private VMA */
};

/* 0 when the comparison ran (look at the counters), -1 with *err when it could not. */
int glue_verify(const struct glue_verify_opts *o, struct glue_verify_result *r, FILE *report,
		struct ck_err **err);
