/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * Enum <-> name tables: `static const char *const names[N] = { [E_X] = "x", ... }`.
 * One lookup for every table (features, trackers, ...), so each enum's names
 * live in one array and no module writes its own loop.
 */

/* The name of value i, or "?" when i is out of range or has no name. */
const char *ck_name_of(const char *const *names, size_t n, int i);
/* The value whose name is `name`, or -1. */
int ck_name_index(const char *const *names, size_t n, const char *name);
