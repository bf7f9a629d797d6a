/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * Progress of a long dump: a line on the terminal (stderr, only when it is a
 * tty and the dump has run for more than a second), and/or JSON lines on
 * stdout for machines (--json-progress):
 *
 *   {"event":"phase","phase":"frozen","elapsed_ms":3}
 *   {"event":"progress","done_bytes":1048576,"total_bytes":4194304,"elapsed_ms":120}
 *   {"event":"done","frozen_us":...,"pages_written":...,"peak_rss_kb":...,...}
 */
struct glue_progress;
struct glue_dump_stats;

struct glue_progress *glue_progress_new(const char *verb, bool json);
void glue_progress_set_total(struct glue_progress *p, uint64_t total_bytes);
void glue_progress_phase(struct glue_progress *p, const char *phase);
void glue_progress_add(struct glue_progress *p, uint64_t bytes);
/* Final event with the figures; clears the terminal line.  Frees @p. */
void glue_progress_done(struct glue_progress *p, const char *tracker,
			const struct glue_dump_stats *st, uint64_t discover_us);
/* Free without a final event (failure). Safe on NULL. */
void glue_progress_free(struct glue_progress *p);
