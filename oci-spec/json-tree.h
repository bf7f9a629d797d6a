/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * oci-spec internal: typed access to a parsed yajl tree with errors naming
 * the field and the document.  Not for use outside oci-spec/.
 */
#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "common/err.h"
#include "oci-spec/spec.h"

struct jdoc {
	const char *what; /* "state (stdin)", "/b/config.json" */
};

/* Parse @len bytes (a NUL-terminated copy is made); the root must be an object. */
yajl_val jt_parse(const char *buf, size_t len, const char *what, struct ck_err **err);

/*
 * Member @key of object @obj: NULL when absent (not an error); a duplicate key
 * is an error (*bad set).  @field is the dotted name for messages.
 */
yajl_val jt_get(const struct jdoc *d, yajl_val obj, const char *key, const char *field, bool *bad,
		struct ck_err **err);

/* Typed getters: 0 (absent: *present false) or -1 with *err naming the field. */
int jt_string(const struct jdoc *d, yajl_val obj, const char *key, const char *field, bool required,
	      char **out, struct ck_err **err);
int jt_int(const struct jdoc *d, yajl_val obj, const char *key, const char *field, bool required,
	   long long lo, long long hi, long long *out, bool *present, struct ck_err **err);
int jt_bool(const struct jdoc *d, yajl_val obj, const char *key, const char *field, bool *out,
	    struct ck_err **err);
int jt_strings(const struct jdoc *d, yajl_val obj, const char *key, const char *field, char ***out,
	       size_t *n, struct ck_err **err);
int jt_string_map(const struct jdoc *d, yajl_val obj, const char *key, const char *field,
		  struct oci_kv **out, size_t *n, struct ck_err **err);
int jt_object(const struct jdoc *d, yajl_val obj, const char *key, const char *field, yajl_val *out,
	      struct ck_err **err);
int jt_array(const struct jdoc *d, yajl_val obj, const char *key, const char *field, yajl_val *out,
	     struct ck_err **err);

void jt_strv_free(char **v, size_t n);
