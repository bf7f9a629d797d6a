// SPDX-License-Identifier: MIT
/*
 * The pre-copy agent from the front-end's side.  See agent-use.h.  Until the
 * agent's C client (runtime-glue/agent/client.h) is in the tree, no container
 * is considered to have an agent.
 */
#include "runtime-glue/rpc/agent-use.h"

/* see agent-use.h */
int rpc_agent_layer(struct rpc_session *s, struct ck_err **err)
{
	return 0;
}

/* see agent-use.h */
int rpc_agent_tracker(struct rpc_session *s, char **tracker, struct ck_err **err)
{
	*tracker = NULL;
	return 0;
}
