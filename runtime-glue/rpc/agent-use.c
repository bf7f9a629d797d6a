// SPDX-License-Identifier: MIT
/*
 * The pre-copy agent from the front-end's side.  See agent-use.h.
 *
 *   PRE_DUMP:  registry pid-<pid> -> ckpt-dir ── {"cmd":"layer","dir":P} ──► agent
 *              the agent writes P (parent: its latest layer), P becomes its latest
 *   DUMP by ckpt:  {"cmd":"handover"} ──► agent: replies latest + tracker, unlocks
 *              the init, exits leaving its uffd holders; the dump's parent is
 *              latest (relative to the images dir), its tracker the agent's
 *   DUMP by CRIU:  {"cmd":"status"} -> tracker (does CRIU continue the chain?), then
 *              {"cmd":"stop"}: the agent's freezes and trackers must not meet CRIU's
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/rpc/agent-use.h"

#include "runtime-glue/agent/client.h"

/* A final layer of a big container takes a while; a hung agent must not hang runc. */
#define AGENT_TIMEOUT_MS (10 * 60 * 1000)

static int call(const char *dir, enum oci_agent_cmd cmd, const char *layer_dir,
		struct glue_agent_reply *rep, struct ck_err **err)
{
	struct glue_agent_req req = { .cmd = cmd, .dir = (char *)layer_dir };

	memset(rep, 0, sizeof(*rep));
	if (glue_fault("rpc-agent-call", err) < 0 ||
	    glue_agent_call_timeout(dir, &req, rep, AGENT_TIMEOUT_MS, err) < 0)
		return ck_err_wrap(err, "the container's agent (%s)", dir);
	if (!rep->ok) {
		ck_err_set(err, 0, "the container's agent (%s) refused '%s': %s", dir,
			   oci_agent_cmd_name(cmd), rep->error ? rep->error : "no reason given");
		glue_agent_reply_clear(rep);
		return -1;
	}
	return 0;
}

/* see agent-use.h */
int rpc_agent_layer(struct rpc_session *s, struct ck_err **err)
{
	struct glue_agent_reply rep;
	char *dir = NULL;
	int r = glue_agent_find(s->pid, NULL, &dir, err);

	if (r <= 0)
		return r;
	pr_info("pid %d has a pre-copy agent (%s): it writes this layer", (int)s->pid, dir);
	if (s->req->opts->parent_img)
		pr_info("parent_img %s is not used: the agent's chain continues from its latest layer",
			s->req->opts->parent_img);
	r = call(dir, OCI_AGENT_LAYER, s->images_dir, &rep, err);
	free(dir);
	if (r < 0)
		return -1;
	pr_info("agent layer %u: %llu pages written, %llu in parent, frozen %llu us, tracker %s",
		rep.layer.n, (unsigned long long)rep.layer.pages_written,
		(unsigned long long)rep.layer.pages_parent, (unsigned long long)rep.layer.frozen_us,
		rep.tracker ? rep.tracker : "?");
	glue_agent_reply_clear(&rep);
	return 1;
}

/* see agent-use.h */
int rpc_agent_handover(struct rpc_session *s, char **latest, char **tracker, struct ck_err **err)
{
	struct glue_agent_reply rep;
	_cleanup_free_ char *dir = NULL;
	int r = glue_agent_find(s->pid, NULL, &dir, err);

	*latest = *tracker = NULL;
	if (r <= 0)
		return r;
	if (call(dir, OCI_AGENT_HANDOVER, NULL, &rep, err) < 0)
		return -1;
	if (!rep.latest) {
		glue_agent_reply_clear(&rep);
		return ck_err_set(err, ENOENT, "the container's agent (%s) named no latest layer",
				  dir);
	}
	*latest = steal_ptr(&rep.latest);
	*tracker = rep.tracker ? steal_ptr(&rep.tracker) : NULL;
	pr_info("pid %d has a pre-copy agent (%s): handed over; the final dump continues its chain from %s (tracker %s)",
		(int)s->pid, dir, *latest, *tracker ? *tracker : "?");
	glue_agent_reply_clear(&rep);
	return 1;
}

/* see agent-use.h */
int rpc_agent_release(struct rpc_session *s, char **tracker, struct ck_err **err)
{
	struct glue_agent_reply rep;
	_cleanup_err_ struct ck_err *e2 = NULL;
	char *dir = NULL;
	pid_t pid = s->req->opts && s->req->opts->has_pid ? s->req->opts->pid : s->peer;
	int r = glue_agent_find(pid, NULL, &dir, err);

	*tracker = NULL;
	if (r <= 0)
		return r;
	if (call(dir, OCI_AGENT_STATUS, NULL, &rep, err) < 0) {
		free(dir);
		return -1;
	}
	*tracker = rep.tracker ? xstrdup(rep.tracker) : xstrdup("unknown");
	glue_agent_reply_clear(&rep);
	/* CRIU freezes and reads the tree now: the agent must not take a layer meanwhile */
	if (call(dir, OCI_AGENT_STOP, NULL, &rep, &e2) < 0)
		pr_warn("stop the agent of pid %d: %s", (int)pid, e2->msg);
	else
		glue_agent_reply_clear(&rep);
	pr_info("pid %d had a pre-copy agent (%s, tracker %s): stopped before CRIU's dump",
		(int)pid, dir, *tracker);
	free(dir);
	return 0;
}
