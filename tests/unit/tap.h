/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/*
 * Minimal TAP producer for the C unit tests: one "ok N - name" line per check,
 * the plan printed at the end (no hand-kept counts), exit status non-zero when
 * any check failed.
 */
void tap_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_skip(const char *reason, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the plan; returns the exit status for main(). */
int tap_done(void);
