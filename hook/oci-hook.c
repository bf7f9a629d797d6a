// SPDX-License-Identifier: MIT
/*
 * ckpt hook [STAGE] — the OCI hook (createRuntime, poststart, poststop).
 *
 * The runtime gives the container's state JSON on stdin and waits for the
 * hook and everything holding its stdout/stderr.  With org.ckpt.enable=true
 * the hook starts the container's pre-copy agent fully detached (agent.h) and
 * returns; at poststop it tells the agent to stop.  Exit codes: 0 also when
 * nothing is done or the container's own configuration is refused (the
 * container must still start; the reason is on stderr and in the agent log),
 * 1 when the input cannot be from a working runtime (malformed or oversized
 * state, missing or unreadable bundle), 2 for a bad command line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "hook/opts.h"
#include "hook/verbs.h"
#include "oci-spec/spec.h"
#include "runtime-glue/agent/agent.h"
#include "runtime-glue/agent/client.h"

/* The stage from the state's status when none is given. */
static int infer_stage(enum oci_status s)
{
	switch (s) {
	case OCI_STATUS_CREATING:
		return OCI_HOOK_CREATE_RUNTIME;
	case OCI_STATUS_CREATED:
	case OCI_STATUS_RUNNING:
		return OCI_HOOK_POSTSTART;
	case OCI_STATUS_STOPPED:
		return OCI_HOOK_POSTSTOP;
	}
	return OCI_HOOK_POSTSTART;
}

/*
 * Say why nothing happens and succeed: the container runs on.  The line goes
 * to stderr (runc shows it only on failure, Podman never) and to
 * <bundle>/ckpt-hook.log.
 */
static int refuse(const struct oci_state *st, struct ck_err **e)
{
	_cleanup_free_ char *m = ck_err_str(*e);
	_cleanup_free_ char *log = xasprintf("%s/ckpt-hook.log", st->bundle);
	_cleanup_fclose_ FILE *f = fopen(log, "ae");

	fprintf(stderr, "ckpt hook: container %s: no agent: %s\n", st->id, m);
	if (f)
		fprintf(f, "ckpt hook: container %s: no agent: %s\n", st->id, m);
	ck_err_free(e);
	return HOOK_EXIT_OK;
}

static int stop_agent(const struct oci_state *st)
{
	_cleanup_err_ struct ck_err *e = NULL;
	_cleanup_free_ char *dir = NULL;
	struct glue_agent_req req = { .cmd = OCI_AGENT_STOP };
	struct glue_agent_reply rep;
	int r = glue_agent_find(0, st->id, &dir, &e);

	if (r <= 0) {
		fprintf(stderr, "ckpt hook: container %s stopped; no agent running\n", st->id);
		return HOOK_EXIT_OK;
	}
	if (glue_agent_call_timeout(dir, &req, &rep, 5000, &e) < 0) {
		/* it may have exited with the container meanwhile */
		_cleanup_free_ char *m = ck_err_str(e);

		fprintf(stderr, "ckpt hook: container %s stopped; agent: %s\n", st->id, m);
		return HOOK_EXIT_OK;
	}
	glue_agent_reply_clear(&rep);
	fprintf(stderr, "ckpt hook: container %s stopped; agent stopped\n", st->id);
	return HOOK_EXIT_OK;
}

static int start_agent(const struct oci_state *st, const struct oci_kv *ann, size_t nr_ann,
		       const char *root, struct ck_err **err)
{
	_cleanup_err_ struct ck_err *e = NULL;
	_cleanup_free_ char *running = NULL;
	struct glue_agent_conf c;
	pid_t agent;

	if (st->pid <= 0)
		return ck_err_set(err, EINVAL, "state (stdin): no pid for status \"%s\"",
				  oci_status_name(st->status));
	if (glue_agent_find(st->pid, st->id, &running, &e) > 0) {
		fprintf(stderr, "ckpt hook: container %s: agent already running (%s)\n", st->id,
			running);
		return HOOK_EXIT_OK;
	}
	ck_err_free(&e);
	if (glue_agent_conf_from(ann, nr_ann, st->bundle, st->id, st->pid, &c, &e) < 0)
		return refuse(st, &e);
	if (glue_agent_conf_check_root(&c, root, &e) < 0) {
		glue_agent_conf_clear(&c);
		return refuse(st, &e);
	}
	c.wait_exec = st->status == OCI_STATUS_CREATING || st->status == OCI_STATUS_CREATED;
	if (glue_agent_spawn(&c, &agent, &e) < 0) {
		glue_agent_conf_clear(&c);
		return refuse(st, &e);
	}
	fprintf(stderr, "ckpt hook: container %s: agent %d, layers in %s\n", st->id, (int)agent,
		c.ckpt_dir);
	glue_agent_conf_clear(&c);
	return HOOK_EXIT_OK;
}

enum { OPT_VERBOSE = 1 };

/* clang-format off */
const struct hook_opt hook_opts_hook[] = {
	HOOK_OPT(OPT_VERBOSE, "verbose", 'v', NONE, NULL, NULL, "log what the hook does on stderr"),
	HOOK_OPT_END,
};
/* clang-format on */

/* see verbs.h */
int hook_cmd_hook(int argc, char **argv, struct ck_err **err)
{
	struct hook_getopt g;
	_cleanup_(oci_state_freep) struct oci_state *st = NULL;
	_cleanup_(oci_config_freep) struct oci_config *cfg = NULL;
	_cleanup_free_ char *buf = NULL, *cfg_path = NULL;
	const struct oci_kv *ann;
	size_t len, nr_ann;
	int stage = -1, c;

	hook_getopt_init(&g, "hook", hook_opts_hook, false, argc, argv);
	while ((c = hook_getopt_next(&g)) > 0)
		if (c == OPT_VERBOSE)
			ck_log_set_level(CK_LOG_INFO);
	if (c < 0)
		return HOOK_EXIT_USAGE;
	if (optind < argc) {
		stage = oci_hook_stage_lookup(argv[optind]);
		if (stage != OCI_HOOK_CREATE_RUNTIME && stage != OCI_HOOK_POSTSTART &&
		    stage != OCI_HOOK_POSTSTOP && stage != OCI_HOOK_PRESTART)
			return hook_usage_error(
				"hook", "unknown stage '%s' (createRuntime, poststart, poststop)",
				argv[optind]);
		if (optind + 1 < argc)
			return hook_usage_error("hook", "unexpected argument '%s'",
						argv[optind + 1]);
	}
	if (oci_read_fd(STDIN_FILENO, OCI_STATE_MAX, "state (stdin)", &buf, &len, err) < 0 ||
	    oci_state_parse(buf, len, "state (stdin)", &st, err) < 0)
		return HOOK_EXIT_ERR;
	if (stage < 0)
		stage = infer_stage(st->status);
	cfg_path = xasprintf("%s/config.json", st->bundle);
	if (oci_config_load(cfg_path, &cfg, err) < 0)
		return ck_err_wrap(err, "container %s", st->id), HOOK_EXIT_ERR;
	/* the state carries the config's annotations; podman's adds its own */
	ann = st->nr_annotations ? st->annotations : cfg->annotations;
	nr_ann = st->nr_annotations ? st->nr_annotations : cfg->nr_annotations;
	if (!glue_agent_enabled(ann, nr_ann)) {
		fprintf(stderr,
			"ckpt hook: container %s: " GLUE_AGENT_ANN_ENABLE
			" is not \"true\"; nothing to do\n",
			st->id);
		return HOOK_EXIT_OK;
	}
	if (stage == OCI_HOOK_POSTSTOP || st->status == OCI_STATUS_STOPPED)
		return stop_agent(st);
	if (start_agent(st, ann, nr_ann, cfg->root_path, err) < 0)
		return HOOK_EXIT_ERR;
	return HOOK_EXIT_OK;
}
