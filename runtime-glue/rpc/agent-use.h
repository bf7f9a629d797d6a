/* SPDX-License-Identifier: MIT */
#pragma once

#include "common/err.h"
#include "runtime-glue/rpc/rpc-priv.h"

/*
 * The container's pre-copy agent (found through /run/ckpt/agents/pid-<pid>),
 * when it has one: its chain is reused instead of starting a second one.
 */

/*
 * PRE_DUMP: ask the agent to write its next layer into the client's images
 * dir.  1 when the agent did, 0 when the container has no agent (the caller
 * runs the engine itself), -1 with *err set when the agent failed.
 */
int rpc_agent_layer(struct rpc_session *s, struct ck_err **err);

/*
 * DUMP by ckpt's own final dump: the agent hands its chain over and exits,
 * leaving its trackers (docs/agent.md "Handover").  1 with *latest (its
 * latest layer, absolute) and *tracker (may be NULL) set, caller frees; 0
 * when the container has no agent; -1 with *err when the agent failed or did
 * not answer.
 */
int rpc_agent_handover(struct rpc_session *s, char **latest, char **tracker, struct ck_err **err);

/*
 * DUMP: stop the container's agent before CRIU freezes the tree; *tracker
 * gets the tracker of its chain (caller frees), NULL when the container has
 * no agent.  0, or -1 with *err set when the agent could not be asked.
 */
int rpc_agent_release(struct rpc_session *s, char **tracker, struct ck_err **err);
