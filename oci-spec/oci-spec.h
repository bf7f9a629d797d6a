/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * oci-spec: JSON in and out.  The only module that includes yajl; nothing of
 * yajl leaks through this header, so the backend can be swapped.
 */

/* ---- JSON output ------------------------------------------------------- */

/*
 * A JSON generator.  Calls must nest correctly (map key, value, ...); a misuse
 * is a programming error and is reported by oci_json_finish().
 */
struct oci_json;

struct oci_json *oci_json_new(bool pretty);
void oci_json_free(struct oci_json *j);
static inline void oci_json_freep(struct oci_json **j)
{
	oci_json_free(*j);
	*j = NULL;
}

void oci_json_map_open(struct oci_json *j);
void oci_json_map_close(struct oci_json *j);
void oci_json_array_open(struct oci_json *j);
void oci_json_array_close(struct oci_json *j);
/* A map key; must be followed by exactly one value. */
void oci_json_key(struct oci_json *j, const char *key);
void oci_json_string(struct oci_json *j, const char *s);
/* A string of len bytes (may contain NULs; non-UTF-8 bytes are escaped). */
void oci_json_string_len(struct oci_json *j, const char *s, size_t len);
void oci_json_int(struct oci_json *j, int64_t v);
void oci_json_uint(struct oci_json *j, uint64_t v);
void oci_json_double(struct oci_json *j, double v);
void oci_json_bool(struct oci_json *j, bool v);
void oci_json_null(struct oci_json *j);

/*
 * Finish: returns the document (owned by j, valid until oci_json_free) and its
 * length, or NULL with *err set when the calls did not form one document.
 */
const char *oci_json_finish(struct oci_json *j, size_t *len, struct ck_err **err);
