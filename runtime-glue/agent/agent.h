/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "oci-spec/spec.h"

/*
 * The pre-copy agent of one container (docs/agent.md).
 *
 * `ckpt hook` reads the state and config.json, builds a glue_agent_conf from
 * the org.ckpt.* annotations and calls glue_agent_spawn(): the agent runs
 * detached (own session, stdio on its log file, no fd of the hook kept) and
 * the hook returns once the agent listens on <ckpt-dir>/agent.sock.
 *
 * The agent waits until the container's init has exec'd its workload, then
 * takes layers 1, 2, ... under the ckpt-dir, each with a `parent` link to the
 * one before, and points `latest` at the newest complete one:
 *
 *   waiting ─► precopy: a layer right after the other, until the dirty set
 *              converges (pages_written < converge-pages, or it no longer
 *              shrinks by a tenth)
 *           ─► converged: a layer every interval
 *   (final: after `final`; stopping: after `stop` or when the container ends)
 *
 * When the chain holds max-layers layers, its two oldest are merged into one
 * (mem/merge.h) before the next layer, with the container running, and the
 * next layer stays incremental; with max-layers 1 the new layer is merged
 * into its parent right after it.  Only when a merge fails is the next layer
 * written without a parent (a rebase: a full copy; the older layers are
 * removed once it is complete).  So a chain never holds more than max-layers
 * layers and each chain rebuilds the memory exactly.
 */

#define GLUE_AGENT_ANN_ENABLE   "org.ckpt.enable"
#define GLUE_AGENT_ANN_INTERVAL "org.ckpt.interval"
#define GLUE_AGENT_ANN_MAX      "org.ckpt.max-layers"
#define GLUE_AGENT_ANN_CONVERGE "org.ckpt.converge-pages"
#define GLUE_AGENT_ANN_TRACKER  "org.ckpt.tracker"
#define GLUE_AGENT_ANN_DIR      "org.ckpt.dir"

#define GLUE_AGENT_DEF_INTERVAL_MS 30000
#define GLUE_AGENT_DEF_MAX_LAYERS  4
#define GLUE_AGENT_DEF_CONVERGE    64
#define GLUE_AGENT_DEF_DIR         "checkpoint"

struct glue_agent_conf {
	char *id;       /* container id */
	char *bundle;   /* absolute */
	char *ckpt_dir; /* absolute, created 0700, inside the bundle */
	pid_t init_pid;
	uint64_t start_time; /* of init_pid (pid reuse) */
	uint64_t interval_ms;
	unsigned max_layers;
	uint64_t converge_pages;
	int tracker;    /* enum glue_tracker, or -1: best available */
	bool wait_exec; /* the init is still `runc init`: wait for its exec */
};

void glue_agent_conf_clear(struct glue_agent_conf *c);

/* Whether the annotations ask for an agent (org.ckpt.enable=true). */
bool glue_agent_enabled(const struct oci_kv *a, size_t n);

/*
 * Refuse a checkpoint directory inside the container's root filesystem
 * (@root: config.json's root.path, relative to the bundle or absolute; NULL
 * for none): the agent uses the directory by path for its whole life, and
 * the container's own processes can rename or symlink anything in there.
 */
int glue_agent_conf_check_root(const struct glue_agent_conf *c, const char *root,
			       struct ck_err **err);

/*
 * Fill @c from the annotations (and the bundle): every value is checked and a
 * bad one named ("org.ckpt.interval: \"x\" is not a duration").  The ckpt-dir
 * is created (0700) inside the bundle; `..`, absolute paths and symlinks
 * leading out of the bundle are refused.  0 or -1.
 */
int glue_agent_conf_from(const struct oci_kv *a, size_t n, const char *bundle, const char *id,
			 pid_t init_pid, struct glue_agent_conf *c, struct ck_err **err);

/*
 * Start the agent detached; returns once it listens (or failed to), with
 * *agent_pid set.  The agent's log is <ckpt-dir>/agent.log.  0 or -1.
 */
int glue_agent_spawn(const struct glue_agent_conf *c, pid_t *agent_pid, struct ck_err **err);

/* The agent itself (in the detached process): runs until the container stops. */
int glue_agent_run(const struct glue_agent_conf *c, int ready_fd, struct ck_err **err);

/* Parse "30s", "500ms", "2m", "10" (seconds) into ms; -1 when malformed or out of range. */
int glue_agent_parse_duration(const char *s, uint64_t *ms);

/*
 * The ckpt-dir of the container of @bundle (org.ckpt.dir of its config.json,
 * default "checkpoint"), without creating anything.  *dir is the caller's.
 */
int glue_agent_dir_of_bundle(const char *bundle, char **dir, struct ck_err **err);
