// SPDX-License-Identifier: MIT
/*
 * Typed, strict access to yajl trees (oci-spec internal).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "oci-spec/json-tree.h"
#include "oci-spec/spec.h"

/* see json-tree.h */
yajl_val jt_parse(const char *buf, size_t len, const char *what, struct ck_err **err)
{
	_cleanup_free_ char *copy = NULL;
	char ebuf[256] = "";
	yajl_val root;
	char *nl;

	if (memchr(buf, '\0', len))
		return ck_err_set(err, EINVAL, "%s: NUL byte in JSON", what), NULL;
	copy = xmalloc(len + 1);
	memcpy(copy, buf, len);
	copy[len] = '\0';
	root = yajl_tree_parse(copy, ebuf, sizeof(ebuf));
	if (!root) {
		while ((nl = strchr(ebuf, '\n')))
			*nl = ' ';
		len = strlen(ebuf);
		while (len && ebuf[len - 1] == ' ')
			ebuf[--len] = '\0';
		ck_err_set(err, EINVAL, "%s: malformed JSON: %s", what,
			   *ebuf ? ebuf : "parse error");
		return NULL;
	}
	if (!YAJL_IS_OBJECT(root)) {
		yajl_tree_free(root);
		ck_err_set(err, EINVAL, "%s: expected a JSON object", what);
		return NULL;
	}
	return root;
}

/* see json-tree.h */
yajl_val jt_get(const struct jdoc *d, yajl_val obj, const char *key, const char *field, bool *bad,
		struct ck_err **err)
{
	yajl_val found = NULL;

	*bad = false;
	for (size_t i = 0; i < obj->u.object.len; i++) {
		if (strcmp(obj->u.object.keys[i], key))
			continue;
		if (found) {
			*bad = true;
			ck_err_set(err, EINVAL, "%s: field \"%s\" appears twice", d->what, field);
			return NULL;
		}
		found = obj->u.object.values[i];
	}
	return found;
}

static int expected(const struct jdoc *d, const char *field, const char *type, struct ck_err **err)
{
	return ck_err_set(err, EINVAL, "%s: field \"%s\": expected %s", d->what, field, type);
}

static int missing(const struct jdoc *d, const char *field, struct ck_err **err)
{
	return ck_err_set(err, EINVAL, "%s: field \"%s\" is missing", d->what, field);
}

/* see json-tree.h */
int jt_string(const struct jdoc *d, yajl_val obj, const char *key, const char *field, bool required,
	      char **out, struct ck_err **err)
{
	bool bad;
	yajl_val v = jt_get(d, obj, key, field, &bad, err);

	if (bad)
		return -1;
	if (!v)
		return required ? missing(d, field, err) : 0;
	if (!YAJL_IS_STRING(v))
		return expected(d, field, "a string", err);
	free(*out);
	*out = xstrdup(YAJL_GET_STRING(v));
	return 0;
}

/* see json-tree.h */
int jt_int(const struct jdoc *d, yajl_val obj, const char *key, const char *field, bool required,
	   long long lo, long long hi, long long *out, bool *present, struct ck_err **err)
{
	bool bad;
	yajl_val v = jt_get(d, obj, key, field, &bad, err);

	if (present)
		*present = false;
	if (bad)
		return -1;
	if (!v)
		return required ? missing(d, field, err) : 0;
	if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < lo || YAJL_GET_INTEGER(v) > hi) {
		char range[96];

		snprintf(range, sizeof(range), "an integer in %lld..%lld", lo, hi);
		return expected(d, field, range, err);
	}
	*out = YAJL_GET_INTEGER(v);
	if (present)
		*present = true;
	return 0;
}

/* see json-tree.h */
int jt_bool(const struct jdoc *d, yajl_val obj, const char *key, const char *field, bool *out,
	    struct ck_err **err)
{
	bool bad;
	yajl_val v = jt_get(d, obj, key, field, &bad, err);

	if (bad)
		return -1;
	if (!v)
		return 0;
	if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
		return expected(d, field, "true or false", err);
	*out = YAJL_IS_TRUE(v);
	return 0;
}

/* see json-tree.h */
int jt_object(const struct jdoc *d, yajl_val obj, const char *key, const char *field, yajl_val *out,
	      struct ck_err **err)
{
	bool bad;
	yajl_val v = jt_get(d, obj, key, field, &bad, err);

	*out = NULL;
	if (bad)
		return -1;
	if (v && !YAJL_IS_OBJECT(v))
		return expected(d, field, "an object", err);
	*out = v;
	return 0;
}

/* see json-tree.h */
int jt_array(const struct jdoc *d, yajl_val obj, const char *key, const char *field, yajl_val *out,
	     struct ck_err **err)
{
	bool bad;
	yajl_val v = jt_get(d, obj, key, field, &bad, err);

	*out = NULL;
	if (bad)
		return -1;
	if (v && !YAJL_IS_ARRAY(v))
		return expected(d, field, "an array", err);
	*out = v;
	return 0;
}

/* see json-tree.h */
void jt_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* see json-tree.h */
int jt_strings(const struct jdoc *d, yajl_val obj, const char *key, const char *field, char ***out,
	       size_t *n, struct ck_err **err)
{
	yajl_val a;
	char **v;

	if (jt_array(d, obj, key, field, &a, err) < 0)
		return -1;
	if (!a)
		return 0;
	v = xcalloc(a->u.array.len + 1, sizeof(*v));
	for (size_t i = 0; i < a->u.array.len; i++) {
		if (!YAJL_IS_STRING(a->u.array.values[i])) {
			jt_strv_free(v, i);
			return ck_err_set(err, EINVAL, "%s: field \"%s[%zu]\": expected a string",
					  d->what, field, i);
		}
		v[i] = xstrdup(YAJL_GET_STRING(a->u.array.values[i]));
	}
	jt_strv_free(*out, *n);
	*out = v;
	*n = a->u.array.len;
	return 0;
}

/* see json-tree.h */
int jt_string_map(const struct jdoc *d, yajl_val obj, const char *key, const char *field,
		  struct oci_kv **out, size_t *n, struct ck_err **err)
{
	yajl_val m;
	struct oci_kv *kv;
	size_t len;

	if (jt_object(d, obj, key, field, &m, err) < 0)
		return -1;
	if (!m)
		return 0;
	len = m->u.object.len;
	kv = xcalloc(len + 1, sizeof(*kv));
	for (size_t i = 0; i < len; i++) {
		yajl_val v = m->u.object.values[i];

		if (!YAJL_IS_STRING(v)) {
			for (size_t j = 0; j < i; j++) {
				free(kv[j].key);
				free(kv[j].value);
			}
			free(kv);
			return ck_err_set(err, EINVAL, "%s: field \"%s.%s\": expected a string",
					  d->what, field, m->u.object.keys[i]);
		}
		kv[i].key = xstrdup(m->u.object.keys[i]);
		kv[i].value = xstrdup(YAJL_GET_STRING(v));
	}
	*out = kv;
	*n = len;
	return 0;
}
