/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"
#include "oci-spec/agent-msg.h"

/*
 * Client side of the pre-copy agent's control socket (docs/agent.md).
 *
 * The agent of a container listens on <ckpt-dir>/agent.sock (AF_UNIX,
 * SOCK_SEQPACKET, 0600; the peer must be root or the agent's uid).  One JSON
 * object per datagram each way (oci-spec/agent-msg.h encodes them).
 *
 * Registry: /run/ckpt/agents/ (0700) holds symlinks id-<container id> and
 * pid-<init pid>, each pointing to the ckpt-dir; an entry whose agent.sock
 * does not answer is stale and counts as "no agent".
 *
 * The request and reply are the oci-spec message structs:
 *
 *   struct glue_agent_req   == struct oci_agent_req   { cmd, dir, leave_frozen }
 *   struct glue_agent_reply == struct oci_agent_reply { ok, error, has_layer, layer,
 *                                                       state, tracker, cgroup, latest,
 *                                                       layers, nr_layers }
 *
 * A reply is freed with glue_agent_reply_clear().
 */
#define glue_agent_req   oci_agent_req
#define glue_agent_reply oci_agent_reply

#define GLUE_AGENT_REGISTRY "/run/ckpt/agents"
#define GLUE_AGENT_SOCK     "agent.sock"

/* The registry directory: $CKPT_AGENT_REGISTRY when set (tests), else GLUE_AGENT_REGISTRY. */
const char *glue_agent_registry(void);

/*
 * Find the agent of a container by its init pid (0: not used) or id (NULL:
 * not used).  Returns 1 with *ckpt_dir set (caller frees) when an agent
 * answers, 0 when there is none (no entry, or a stale one), -1 on error.
 */
int glue_agent_find(pid_t init_pid, const char *id, char **ckpt_dir, struct ck_err **err);

/*
 * Send @req to the agent of @ckpt_dir and wait for its reply (@timeout_ms,
 * <= 0: no limit; a final layer of a big container can take a while).
 * Returns 0 with *rep filled — rep->ok false with rep->error when the agent
 * refused — or -1 with *err set when the agent could not be reached or
 * answered garbage.
 */
int glue_agent_call_timeout(const char *ckpt_dir, const struct glue_agent_req *req,
			    struct glue_agent_reply *rep, int timeout_ms, struct ck_err **err);

/* glue_agent_call_timeout() without a time limit. */
int glue_agent_call(const char *ckpt_dir, const struct glue_agent_req *req,
		    struct glue_agent_reply *rep, struct ck_err **err);

static inline void glue_agent_reply_clear(struct glue_agent_reply *rep)
{
	oci_agent_reply_clear(rep);
}
