/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

/*
 * oci-spec: the OCI state JSON (what a runtime gives a hook on stdin) and the
 * bundle's config.json, parsed into plain C structs.  Validation is strict on
 * the fields read here (type, range, required); unknown fields are ignored, as
 * the runtime spec asks.  Every error names the field and the file, e.g.
 * "state (stdin): field \"pid\": expected a non-negative integer".
 */

#define OCI_STATE_MAX  (256 * 1024)      /* bytes of a state JSON */
#define OCI_CONFIG_MAX (4 * 1024 * 1024) /* bytes of a config.json */

struct oci_kv {
	char *key;
	char *value;
};

enum oci_status {
	OCI_STATUS_CREATING,
	OCI_STATUS_CREATED,
	OCI_STATUS_RUNNING,
	OCI_STATUS_STOPPED,
};

struct oci_state {
	char *oci_version;
	char *id;
	enum oci_status status;
	pid_t pid; /* 0 when absent (allowed for "stopped" and "creating") */
	char *bundle;
	struct oci_kv *annotations;
	size_t nr_annotations;
};

struct oci_hook {
	char *path;
	char **args;
	size_t nr_args;
	char **env;
	size_t nr_env;
	int timeout; /* seconds, 0 = none */
};

enum oci_hook_stage {
	OCI_HOOK_PRESTART,
	OCI_HOOK_CREATE_RUNTIME,
	OCI_HOOK_CREATE_CONTAINER,
	OCI_HOOK_START_CONTAINER,
	OCI_HOOK_POSTSTART,
	OCI_HOOK_POSTSTOP,
	OCI_HOOK_NR_STAGES,
};

struct oci_namespace {
	char *type;
	char *path; /* NULL when absent */
};

struct oci_config {
	char *oci_version;
	bool has_process;
	char **args;
	size_t nr_args;
	char *cwd;
	uint32_t uid, gid;
	bool terminal;
	char *root_path; /* NULL when absent */
	bool root_readonly;
	char *cgroups_path; /* linux.cgroupsPath, NULL when absent */
	struct oci_namespace *namespaces;
	size_t nr_namespaces;
	struct oci_kv *annotations;
	size_t nr_annotations;
	struct oci_hook *hooks[OCI_HOOK_NR_STAGES];
	size_t nr_hooks[OCI_HOOK_NR_STAGES];
};

/* "poststart" etc. (the config.json spelling), and back; -1 when unknown. */
const char *oci_hook_stage_name(enum oci_hook_stage s);
int oci_hook_stage_lookup(const char *name);
const char *oci_status_name(enum oci_status s);

/*
 * Read all of @fd into *buf (NUL-terminated, caller frees), refusing more than
 * @max bytes.  @what names the input in errors ("state (stdin)").
 */
int oci_read_fd(int fd, size_t max, const char *what, char **buf, size_t *len, struct ck_err **err);

/* Parse a state JSON of @len bytes; @what names it in errors.  0 or -1. */
int oci_state_parse(const char *buf, size_t len, const char *what, struct oci_state **out,
		    struct ck_err **err);
void oci_state_free(struct oci_state *s);
static inline void oci_state_freep(struct oci_state **s)
{
	oci_state_free(*s);
	*s = NULL;
}

/* Parse a config.json; oci_config_load reads it from @path (size-limited). */
int oci_config_parse(const char *buf, size_t len, const char *what, struct oci_config **out,
		     struct ck_err **err);
int oci_config_load(const char *path, struct oci_config **out, struct ck_err **err);
void oci_config_free(struct oci_config *c);
static inline void oci_config_freep(struct oci_config **c)
{
	oci_config_free(*c);
	*c = NULL;
}

/* The value of annotation @key, or NULL. */
const char *oci_annotation(const struct oci_kv *a, size_t n, const char *key);
