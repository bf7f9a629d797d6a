// SPDX-License-Identifier: MIT
/*
 * The OCI state JSON and the bundle's config.json (the fields ckpt reads).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "oci-spec/json-tree.h"
#include "oci-spec/spec.h"

static const char *const stage_names[OCI_HOOK_NR_STAGES] = {
	[OCI_HOOK_PRESTART] = "prestart",
	[OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
	[OCI_HOOK_CREATE_CONTAINER] = "createContainer",
	[OCI_HOOK_START_CONTAINER] = "startContainer",
	[OCI_HOOK_POSTSTART] = "poststart",
	[OCI_HOOK_POSTSTOP] = "poststop",
};

static const char *const status_names[] = {
	[OCI_STATUS_CREATING] = "creating",
	[OCI_STATUS_CREATED] = "created",
	[OCI_STATUS_RUNNING] = "running",
	[OCI_STATUS_STOPPED] = "stopped",
};

/* see spec.h */
const char *oci_hook_stage_name(enum oci_hook_stage s)
{
	return (unsigned)s < OCI_HOOK_NR_STAGES ? stage_names[s] : "?";
}

/* see spec.h */
int oci_hook_stage_lookup(const char *name)
{
	for (int i = 0; i < OCI_HOOK_NR_STAGES; i++)
		if (!strcmp(stage_names[i], name))
			return i;
	return -1;
}

/* see spec.h */
const char *oci_status_name(enum oci_status s)
{
	return (unsigned)s < sizeof(status_names) / sizeof(status_names[0]) ? status_names[s] : "?";
}

/* see spec.h */
int oci_read_fd(int fd, size_t max, const char *what, char **buf, size_t *len, struct ck_err **err)
{
	_cleanup_free_ char *b = xmalloc(max + 2);
	size_t n = 0;

	for (;;) {
		ssize_t r = read(fd, b + n, max + 1 - n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return ck_err_set(err, errno, "%s: read", what);
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max)
			return ck_err_set(err, EFBIG, "%s: larger than %zu bytes", what, max);
	}
	b[n] = '\0';
	*len = n;
	*buf = steal_ptr(&b);
	return 0;
}

static void kv_free(struct oci_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

/* see spec.h */
const char *oci_annotation(const struct oci_kv *a, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(a[i].key, key))
			return a[i].value;
	return NULL;
}

/* see spec.h */
void oci_state_free(struct oci_state *s)
{
	if (!s)
		return;
	free(s->oci_version);
	free(s->id);
	free(s->bundle);
	kv_free(s->annotations, s->nr_annotations);
	free(s);
}

static int check_id(const struct jdoc *d, const char *id, struct ck_err **err)
{
	if (!*id || strlen(id) > 1024)
		return ck_err_set(err, EINVAL, "%s: field \"id\": empty or longer than 1024 bytes",
				  d->what);
	for (const char *p = id; *p; p++)
		if (*p == '/' || (unsigned char)*p < 0x20)
			return ck_err_set(err, EINVAL,
					  "%s: field \"id\": '/' or a control character in \"%s\"",
					  d->what, id);
	if (!strcmp(id, ".") || !strcmp(id, ".."))
		return ck_err_set(err, EINVAL, "%s: field \"id\": \"%s\"", d->what, id);
	return 0;
}

/* see spec.h */
int oci_state_parse(const char *buf, size_t len, const char *what, struct oci_state **out,
		    struct ck_err **err)
{
	struct jdoc d = { what };
	_cleanup_free_ char *status = NULL;
	struct oci_state *s;
	yajl_val root;
	long long pid = 0;
	bool has_pid = false;
	int i;

	if (len > OCI_STATE_MAX)
		return ck_err_set(err, EFBIG, "%s: larger than %d bytes", what, OCI_STATE_MAX);
	root = jt_parse(buf, len, what, err);
	if (!root)
		return -1;
	s = xzalloc(sizeof(*s));
	if (jt_string(&d, root, "ociVersion", "ociVersion", true, &s->oci_version, err) < 0 ||
	    jt_string(&d, root, "id", "id", true, &s->id, err) < 0 ||
	    check_id(&d, s->id, err) < 0 ||
	    jt_string(&d, root, "status", "status", true, &status, err) < 0 ||
	    jt_int(&d, root, "pid", "pid", false, 0, 0x3fffffff, &pid, &has_pid, err) < 0 ||
	    jt_string(&d, root, "bundle", "bundle", true, &s->bundle, err) < 0 ||
	    jt_string_map(&d, root, "annotations", "annotations", &s->annotations,
			  &s->nr_annotations, err) < 0)
		goto fail;
	for (i = 0; i < (int)(sizeof(status_names) / sizeof(status_names[0])); i++)
		if (!strcmp(status, status_names[i]))
			break;
	if (i == (int)(sizeof(status_names) / sizeof(status_names[0]))) {
		ck_err_set(
			err, EINVAL,
			"%s: field \"status\": \"%s\" is not creating, created, running or stopped",
			what, status);
		goto fail;
	}
	s->status = (enum oci_status)i;
	if ((s->status == OCI_STATUS_CREATED || s->status == OCI_STATUS_RUNNING) &&
	    (!has_pid || pid == 0)) {
		ck_err_set(err, EINVAL, "%s: field \"pid\" is missing (status \"%s\")", what,
			   status);
		goto fail;
	}
	s->pid = (pid_t)pid;
	if (s->bundle[0] != '/') {
		ck_err_set(err, EINVAL, "%s: field \"bundle\": \"%s\" is not an absolute path",
			   what, s->bundle);
		goto fail;
	}
	yajl_tree_free(root);
	*out = s;
	return 0;
fail:
	yajl_tree_free(root);
	oci_state_free(s);
	return -1;
}

static void hook_clear(struct oci_hook *h)
{
	free(h->path);
	jt_strv_free(h->args, h->nr_args);
	jt_strv_free(h->env, h->nr_env);
}

/* see spec.h */
void oci_config_free(struct oci_config *c)
{
	if (!c)
		return;
	free(c->oci_version);
	jt_strv_free(c->args, c->nr_args);
	free(c->cwd);
	free(c->root_path);
	free(c->cgroups_path);
	for (size_t i = 0; i < c->nr_namespaces; i++) {
		free(c->namespaces[i].type);
		free(c->namespaces[i].path);
	}
	free(c->namespaces);
	kv_free(c->annotations, c->nr_annotations);
	for (int s = 0; s < OCI_HOOK_NR_STAGES; s++) {
		for (size_t i = 0; i < c->nr_hooks[s]; i++)
			hook_clear(&c->hooks[s][i]);
		free(c->hooks[s]);
	}
	free(c);
}

static int parse_process(const struct jdoc *d, yajl_val root, struct oci_config *c,
			 struct ck_err **err)
{
	yajl_val p, user;
	long long v;

	if (jt_object(d, root, "process", "process", &p, err) < 0)
		return -1;
	if (!p)
		return 0;
	c->has_process = true;
	if (jt_strings(d, p, "args", "process.args", &c->args, &c->nr_args, err) < 0 ||
	    jt_string(d, p, "cwd", "process.cwd", true, &c->cwd, err) < 0 ||
	    jt_bool(d, p, "terminal", "process.terminal", &c->terminal, err) < 0 ||
	    jt_object(d, p, "user", "process.user", &user, err) < 0)
		return -1;
	if (c->cwd[0] != '/')
		return ck_err_set(err, EINVAL, "%s: field \"process.cwd\": \"%s\" is not absolute",
				  d->what, c->cwd);
	if (!user)
		return ck_err_set(err, EINVAL, "%s: field \"process.user\" is missing", d->what);
	if (jt_int(d, user, "uid", "process.user.uid", true, 0, UINT32_MAX, &v, NULL, err) < 0)
		return -1;
	c->uid = (uint32_t)v;
	if (jt_int(d, user, "gid", "process.user.gid", true, 0, UINT32_MAX, &v, NULL, err) < 0)
		return -1;
	c->gid = (uint32_t)v;
	return 0;
}

static int parse_hooks(const struct jdoc *d, yajl_val root, struct oci_config *c,
		       struct ck_err **err)
{
	yajl_val hooks;
	char field[96];

	if (jt_object(d, root, "hooks", "hooks", &hooks, err) < 0)
		return -1;
	if (!hooks)
		return 0;
	for (int s = 0; s < OCI_HOOK_NR_STAGES; s++) {
		yajl_val a;

		snprintf(field, sizeof(field), "hooks.%s", stage_names[s]);
		if (jt_array(d, hooks, stage_names[s], field, &a, err) < 0)
			return -1;
		if (!a)
			continue;
		c->hooks[s] = xcalloc(a->u.array.len + 1, sizeof(struct oci_hook));
		for (size_t i = 0; i < a->u.array.len; i++) {
			yajl_val h = a->u.array.values[i];
			struct oci_hook *o = &c->hooks[s][i];
			long long t = 0;

			snprintf(field, sizeof(field), "hooks.%s[%zu]", stage_names[s], i);
			c->nr_hooks[s] = i + 1;
			if (!YAJL_IS_OBJECT(h))
				return ck_err_set(err, EINVAL,
						  "%s: field \"%s\": expected an object", d->what,
						  field);
			snprintf(field, sizeof(field), "hooks.%s[%zu].path", stage_names[s], i);
			if (jt_string(d, h, "path", field, true, &o->path, err) < 0)
				return -1;
			if (o->path[0] != '/')
				return ck_err_set(err, EINVAL,
						  "%s: field \"%s\": \"%s\" is not absolute",
						  d->what, field, o->path);
			snprintf(field, sizeof(field), "hooks.%s[%zu].args", stage_names[s], i);
			if (jt_strings(d, h, "args", field, &o->args, &o->nr_args, err) < 0)
				return -1;
			snprintf(field, sizeof(field), "hooks.%s[%zu].env", stage_names[s], i);
			if (jt_strings(d, h, "env", field, &o->env, &o->nr_env, err) < 0)
				return -1;
			snprintf(field, sizeof(field), "hooks.%s[%zu].timeout", stage_names[s], i);
			if (jt_int(d, h, "timeout", field, false, 1, 86400, &t, NULL, err) < 0)
				return -1;
			o->timeout = (int)t;
		}
	}
	return 0;
}

static int parse_linux(const struct jdoc *d, yajl_val root, struct oci_config *c,
		       struct ck_err **err)
{
	yajl_val lx, ns;
	char field[64];

	if (jt_object(d, root, "linux", "linux", &lx, err) < 0)
		return -1;
	if (!lx)
		return 0;
	if (jt_string(d, lx, "cgroupsPath", "linux.cgroupsPath", false, &c->cgroups_path, err) <
		    0 ||
	    jt_array(d, lx, "namespaces", "linux.namespaces", &ns, err) < 0)
		return -1;
	if (!ns)
		return 0;
	c->namespaces = xcalloc(ns->u.array.len + 1, sizeof(*c->namespaces));
	for (size_t i = 0; i < ns->u.array.len; i++) {
		yajl_val n = ns->u.array.values[i];

		c->nr_namespaces = i + 1;
		snprintf(field, sizeof(field), "linux.namespaces[%zu]", i);
		if (!YAJL_IS_OBJECT(n))
			return ck_err_set(err, EINVAL, "%s: field \"%s\": expected an object",
					  d->what, field);
		snprintf(field, sizeof(field), "linux.namespaces[%zu].type", i);
		if (jt_string(d, n, "type", field, true, &c->namespaces[i].type, err) < 0)
			return -1;
		snprintf(field, sizeof(field), "linux.namespaces[%zu].path", i);
		if (jt_string(d, n, "path", field, false, &c->namespaces[i].path, err) < 0)
			return -1;
	}
	return 0;
}

/* see spec.h */
int oci_config_parse(const char *buf, size_t len, const char *what, struct oci_config **out,
		     struct ck_err **err)
{
	struct jdoc d = { what };
	struct oci_config *c;
	yajl_val root, r;

	if (len > OCI_CONFIG_MAX)
		return ck_err_set(err, EFBIG, "%s: larger than %d bytes", what, OCI_CONFIG_MAX);
	root = jt_parse(buf, len, what, err);
	if (!root)
		return -1;
	c = xzalloc(sizeof(*c));
	if (jt_string(&d, root, "ociVersion", "ociVersion", true, &c->oci_version, err) < 0 ||
	    parse_process(&d, root, c, err) < 0 ||
	    jt_object(&d, root, "root", "root", &r, err) < 0 ||
	    (r && jt_string(&d, r, "path", "root.path", true, &c->root_path, err) < 0) ||
	    (r && jt_bool(&d, r, "readonly", "root.readonly", &c->root_readonly, err) < 0) ||
	    parse_linux(&d, root, c, err) < 0 ||
	    jt_string_map(&d, root, "annotations", "annotations", &c->annotations,
			  &c->nr_annotations, err) < 0 ||
	    parse_hooks(&d, root, c, err) < 0) {
		yajl_tree_free(root);
		oci_config_free(c);
		return -1;
	}
	yajl_tree_free(root);
	*out = c;
	return 0;
}

/* see spec.h */
int oci_config_load(const char *path, struct oci_config **out, struct ck_err **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	_cleanup_free_ char *buf = NULL;
	size_t len;

	if (fd < 0)
		return ck_err_set(err, errno, "open %s", path);
	if (oci_read_fd(fd, OCI_CONFIG_MAX, path, &buf, &len, err) < 0)
		return -1;
	return oci_config_parse(buf, len, path, out, err);
}
