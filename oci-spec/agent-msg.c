// SPDX-License-Identifier: MIT
/*
 * The agent's control messages as JSON (docs/agent.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "oci-spec/agent-msg.h"
#include "oci-spec/json-tree.h"
#include "oci-spec/oci-spec.h"

static const char *const cmd_names[] = {
	[OCI_AGENT_STATUS] = "status",     [OCI_AGENT_LAYER] = "layer",
	[OCI_AGENT_FINAL] = "final",       [OCI_AGENT_STOP] = "stop",
	[OCI_AGENT_HANDOVER] = "handover",
};

/* see agent-msg.h */
const char *oci_agent_cmd_name(enum oci_agent_cmd c)
{
	return (unsigned)c < sizeof(cmd_names) / sizeof(cmd_names[0]) ? cmd_names[c] : "?";
}

static char *finish(struct oci_json *j, size_t *len)
{
	_cleanup_err_ struct ck_err *err = NULL;
	const char *doc = oci_json_finish(j, len, &err);
	char *out;

	if (!doc)
		abort(); /* a nesting mistake in this file */
	out = xmalloc(*len + 1);
	memcpy(out, doc, *len);
	out[*len] = '\0';
	oci_json_free(j);
	return out;
}

/* see agent-msg.h */
char *oci_agent_req_encode(const struct oci_agent_req *r, size_t *len)
{
	struct oci_json *j = oci_json_new(false);

	oci_json_map_open(j);
	oci_json_key(j, "cmd");
	oci_json_string(j, oci_agent_cmd_name(r->cmd));
	if (r->cmd == OCI_AGENT_FINAL) {
		oci_json_key(j, "leave");
		oci_json_string(j, r->leave_frozen ? "frozen" : "running");
	}
	if (r->dir && (r->cmd == OCI_AGENT_LAYER || r->cmd == OCI_AGENT_FINAL)) {
		oci_json_key(j, "dir");
		oci_json_string(j, r->dir);
	}
	oci_json_map_close(j);
	return finish(j, len);
}

static void layer_fields(struct oci_json *j, const struct oci_agent_layer *l, const char *nkey)
{
	oci_json_key(j, nkey);
	oci_json_uint(j, l->n);
	oci_json_key(j, "dir");
	oci_json_string(j, l->dir ? l->dir : "");
	oci_json_key(j, "pages_written");
	oci_json_uint(j, l->pages_written);
	oci_json_key(j, "pages_parent");
	oci_json_uint(j, l->pages_parent);
	oci_json_key(j, "frozen_us");
	oci_json_uint(j, l->frozen_us);
}

static void opt_string(struct oci_json *j, const char *key, const char *v)
{
	if (!v)
		return;
	oci_json_key(j, key);
	oci_json_string(j, v);
}

/* see agent-msg.h */
char *oci_agent_reply_encode(const struct oci_agent_reply *r, size_t *len)
{
	struct oci_json *j = oci_json_new(false);

	oci_json_map_open(j);
	oci_json_key(j, "ok");
	oci_json_bool(j, r->ok);
	if (!r->ok) {
		oci_json_key(j, "error");
		oci_json_string(j, r->error ? r->error : "unknown error");
		oci_json_map_close(j);
		return finish(j, len);
	}
	if (r->has_layer)
		layer_fields(j, &r->layer, "layer");
	opt_string(j, "tracker", r->tracker);
	opt_string(j, "state", r->state);
	opt_string(j, "cgroup", r->cgroup);
	if (r->state) {
		oci_json_key(j, "layers");
		oci_json_array_open(j);
		for (size_t i = 0; i < r->nr_layers; i++) {
			oci_json_map_open(j);
			layer_fields(j, &r->layers[i], "n");
			oci_json_map_close(j);
		}
		oci_json_array_close(j);
	}
	opt_string(j, "latest", r->latest);
	oci_json_map_close(j);
	return finish(j, len);
}

/* see agent-msg.h */
void oci_agent_req_clear(struct oci_agent_req *r)
{
	free(r->dir);
	memset(r, 0, sizeof(*r));
}

/* see agent-msg.h */
void oci_agent_reply_clear(struct oci_agent_reply *r)
{
	free(r->error);
	free(r->layer.dir);
	free(r->state);
	free(r->tracker);
	free(r->cgroup);
	free(r->latest);
	for (size_t i = 0; i < r->nr_layers; i++)
		free(r->layers[i].dir);
	free(r->layers);
	memset(r, 0, sizeof(*r));
}

static int check_abs(const struct jdoc *d, const char *field, const char *dir, struct ck_err **err)
{
	if (dir && dir[0] != '/')
		return ck_err_set(err, EINVAL, "%s: field \"%s\": \"%s\" is not an absolute path",
				  d->what, field, dir);
	return 0;
}

/* see agent-msg.h */
int oci_agent_req_decode(const char *buf, size_t len, struct oci_agent_req *out,
			 struct ck_err **err)
{
	struct jdoc d = { "agent request" };
	_cleanup_free_ char *cmd = NULL, *leave = NULL;
	yajl_val root;
	unsigned i;

	memset(out, 0, sizeof(*out));
	if (len > OCI_AGENT_MSG_MAX)
		return ck_err_set(err, EFBIG, "agent request: larger than %d bytes",
				  OCI_AGENT_MSG_MAX);
	root = jt_parse(buf, len, d.what, err);
	if (!root)
		return -1;
	if (jt_string(&d, root, "cmd", "cmd", true, &cmd, err) < 0 ||
	    jt_string(&d, root, "leave", "leave", false, &leave, err) < 0 ||
	    jt_string(&d, root, "dir", "dir", false, &out->dir, err) < 0 ||
	    check_abs(&d, "dir", out->dir, err) < 0)
		goto fail;
	for (i = 0; i < sizeof(cmd_names) / sizeof(cmd_names[0]); i++)
		if (!strcmp(cmd, cmd_names[i]))
			break;
	if (i == sizeof(cmd_names) / sizeof(cmd_names[0])) {
		ck_err_set(
			err, EINVAL,
			"agent request: field \"cmd\": unknown command \"%s\" (status, layer, final, stop, handover)",
			cmd);
		goto fail;
	}
	out->cmd = (enum oci_agent_cmd)i;
	if (leave && out->cmd != OCI_AGENT_FINAL) {
		ck_err_set(err, EINVAL, "agent request: field \"leave\" belongs to \"final\"");
		goto fail;
	}
	if (leave && strcmp(leave, "running") && strcmp(leave, "frozen")) {
		ck_err_set(
			err, EINVAL,
			"agent request: field \"leave\": \"%s\" is not \"running\" or \"frozen\"",
			leave);
		goto fail;
	}
	if (out->dir && out->cmd != OCI_AGENT_LAYER && out->cmd != OCI_AGENT_FINAL) {
		ck_err_set(err, EINVAL,
			   "agent request: field \"dir\" belongs to \"layer\" and \"final\"");
		goto fail;
	}
	out->leave_frozen = leave && !strcmp(leave, "frozen");
	yajl_tree_free(root);
	return 0;
fail:
	yajl_tree_free(root);
	oci_agent_req_clear(out);
	return -1;
}

static int layer_decode(const struct jdoc *d, yajl_val o, const char *nkey, const char *prefix,
			struct oci_agent_layer *l, struct ck_err **err)
{
	char f[64];
	long long v;

	snprintf(f, sizeof(f), "%s%s", prefix, nkey);
	if (jt_int(d, o, nkey, f, true, 0, 0x7fffffff, &v, NULL, err) < 0)
		return -1;
	l->n = (unsigned)v;
	snprintf(f, sizeof(f), "%sdir", prefix);
	if (jt_string(d, o, "dir", f, true, &l->dir, err) < 0)
		return -1;
	snprintf(f, sizeof(f), "%spages_written", prefix);
	if (jt_int(d, o, "pages_written", f, true, 0, INT64_MAX, &v, NULL, err) < 0)
		return -1;
	l->pages_written = (uint64_t)v;
	snprintf(f, sizeof(f), "%spages_parent", prefix);
	if (jt_int(d, o, "pages_parent", f, true, 0, INT64_MAX, &v, NULL, err) < 0)
		return -1;
	l->pages_parent = (uint64_t)v;
	snprintf(f, sizeof(f), "%sfrozen_us", prefix);
	if (jt_int(d, o, "frozen_us", f, true, 0, INT64_MAX, &v, NULL, err) < 0)
		return -1;
	l->frozen_us = (uint64_t)v;
	return 0;
}

/* see agent-msg.h */
int oci_agent_reply_decode(const char *buf, size_t len, struct oci_agent_reply *out,
			   struct ck_err **err)
{
	struct jdoc d = { "agent reply" };
	yajl_val root, layers, v;
	bool bad;

	memset(out, 0, sizeof(*out));
	if (len > OCI_AGENT_MSG_MAX)
		return ck_err_set(err, EFBIG, "agent reply: larger than %d bytes",
				  OCI_AGENT_MSG_MAX);
	root = jt_parse(buf, len, d.what, err);
	if (!root)
		return -1;
	v = jt_get(&d, root, "ok", "ok", &bad, err);
	if (bad)
		goto fail;
	if (!v || (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))) {
		ck_err_set(err, EINVAL, "agent reply: field \"ok\": expected true or false");
		goto fail;
	}
	out->ok = YAJL_IS_TRUE(v);
	if (!out->ok) {
		if (jt_string(&d, root, "error", "error", true, &out->error, err) < 0)
			goto fail;
		yajl_tree_free(root);
		return 0;
	}
	v = jt_get(&d, root, "layer", "layer", &bad, err);
	if (bad)
		goto fail;
	if (v) {
		out->has_layer = true;
		if (layer_decode(&d, root, "layer", "", &out->layer, err) < 0)
			goto fail;
	}
	if (jt_string(&d, root, "tracker", "tracker", false, &out->tracker, err) < 0 ||
	    jt_string(&d, root, "state", "state", false, &out->state, err) < 0 ||
	    jt_string(&d, root, "cgroup", "cgroup", false, &out->cgroup, err) < 0 ||
	    jt_string(&d, root, "latest", "latest", false, &out->latest, err) < 0 ||
	    jt_array(&d, root, "layers", "layers", &layers, err) < 0)
		goto fail;
	if (layers) {
		out->layers = xcalloc(layers->u.array.len + 1, sizeof(*out->layers));
		for (size_t i = 0; i < layers->u.array.len; i++) {
			char prefix[32];

			out->nr_layers = i + 1;
			snprintf(prefix, sizeof(prefix), "layers[%zu].", i);
			if (!YAJL_IS_OBJECT(layers->u.array.values[i])) {
				ck_err_set(err, EINVAL,
					   "agent reply: field \"layers[%zu]\": expected an object",
					   i);
				goto fail;
			}
			if (layer_decode(&d, layers->u.array.values[i], "n", prefix,
					 &out->layers[i], err) < 0)
				goto fail;
		}
	}
	yajl_tree_free(root);
	return 0;
fail:
	yajl_tree_free(root);
	oci_agent_reply_clear(out);
	return -1;
}
