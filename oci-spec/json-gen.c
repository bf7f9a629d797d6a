// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "common/xalloc.h"
#include "oci-spec/oci-spec.h"

struct oci_json {
	yajl_gen g;
	yajl_gen_status first_error; /* first failing call, reported by finish */
};

/* see oci-spec.h */
struct oci_json *oci_json_new(bool pretty)
{
	struct oci_json *j = xzalloc(sizeof(*j));

	j->g = yajl_gen_alloc(NULL);
	if (!j->g)
		xoom();
	yajl_gen_config(j->g, yajl_gen_beautify, pretty ? 1 : 0);
	yajl_gen_config(j->g, yajl_gen_indent_string, "  ");
	yajl_gen_config(j->g, yajl_gen_validate_utf8, 1);
	return j;
}

/* see oci-spec.h */
void oci_json_free(struct oci_json *j)
{
	if (!j)
		return;
	yajl_gen_free(j->g);
	free(j);
}

static void note(struct oci_json *j, yajl_gen_status st)
{
	if (st != yajl_gen_status_ok && j->first_error == yajl_gen_status_ok)
		j->first_error = st;
}

/* see oci-spec.h */
void oci_json_map_open(struct oci_json *j)
{
	note(j, yajl_gen_map_open(j->g));
}

/* see oci-spec.h */
void oci_json_map_close(struct oci_json *j)
{
	note(j, yajl_gen_map_close(j->g));
}

/* see oci-spec.h */
void oci_json_array_open(struct oci_json *j)
{
	note(j, yajl_gen_array_open(j->g));
}

/* see oci-spec.h */
void oci_json_array_close(struct oci_json *j)
{
	note(j, yajl_gen_array_close(j->g));
}

/* see oci-spec.h */
void oci_json_key(struct oci_json *j, const char *key)
{
	oci_json_string(j, key);
}

/* see oci-spec.h */
void oci_json_string(struct oci_json *j, const char *s)
{
	oci_json_string_len(j, s, strlen(s));
}

/*
 * yajl refuses invalid UTF-8 when validating; image strings (file names, comm)
 * are arbitrary bytes, so bytes >= 0x80 that do not form valid UTF-8 are written
 * as \u00XX escapes of the byte value instead (lossless for display).
 */
static bool valid_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0 && c >= 0xc2)
			n = 1;
		else if ((c & 0xf0) == 0xe0)
			n = 2;
		else if ((c & 0xf8) == 0xf0 && c <= 0xf4)
			n = 3;
		else
			return false;
		for (size_t k = 1; k <= n; k++)
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				return false;
		i += n + 1;
	}
	return true;
}

/* see oci-spec.h */
void oci_json_string_len(struct oci_json *j, const char *s, size_t len)
{
	char *buf, *p;

	if (valid_utf8((const unsigned char *)s, len) && !memchr(s, 0, len)) {
		note(j, yajl_gen_string(j->g, (const unsigned char *)s, len));
		return;
	}
	/* Map each invalid byte to U+00XX, encoded as 2-byte UTF-8. */
	buf = xmalloc(len * 2 + 1);
	p = buf;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x80 && c != 0) {
			*p++ = (char)c;
		} else {
			*p++ = (char)(0xc0 | (c >> 6));
			*p++ = (char)(0x80 | (c & 0x3f));
		}
	}
	note(j, yajl_gen_string(j->g, (const unsigned char *)buf, (size_t)(p - buf)));
	free(buf);
}

/* see oci-spec.h */
void oci_json_int(struct oci_json *j, int64_t v)
{
	note(j, yajl_gen_integer(j->g, (long long)v));
}

/* see oci-spec.h */
void oci_json_uint(struct oci_json *j, uint64_t v)
{
	char num[32];
	int n;

	/* yajl_gen_integer is signed; u64 values above INT64_MAX go out as raw numbers. */
	n = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	note(j, yajl_gen_number(j->g, num, (size_t)n));
}

/* see oci-spec.h */
void oci_json_double(struct oci_json *j, double v)
{
	note(j, yajl_gen_double(j->g, v));
}

/* see oci-spec.h */
void oci_json_bool(struct oci_json *j, bool v)
{
	note(j, yajl_gen_bool(j->g, v ? 1 : 0));
}

/* see oci-spec.h */
void oci_json_null(struct oci_json *j)
{
	note(j, yajl_gen_null(j->g));
}

static const char *status_str(yajl_gen_status st)
{
	switch (st) {
	case yajl_gen_status_ok:
		return "ok";
	case yajl_gen_keys_must_be_strings:
		return "map key is not a string";
	case yajl_max_depth_exceeded:
		return "nesting too deep";
	case yajl_gen_in_error_state:
		return "generator in error state";
	case yajl_gen_generation_complete:
		return "value after a complete document";
	case yajl_gen_invalid_number:
		return "invalid number";
	case yajl_gen_no_buf:
		return "no buffer";
	case yajl_gen_invalid_string:
		return "invalid UTF-8 string";
	}
	return "unknown generator error";
}

/* see oci-spec.h */
const char *oci_json_finish(struct oci_json *j, size_t *len, struct ck_err **err)
{
	const unsigned char *buf = NULL;
	size_t n = 0;

	if (j->first_error != yajl_gen_status_ok)
		return ck_err_set(err, 0, "JSON output: %s", status_str(j->first_error)), NULL;
	yajl_gen_get_buf(j->g, &buf, &n);
	if (len)
		*len = n;
	return (const char *)buf;
}
