/* SPDX-License-Identifier: MIT */
#pragma once

/* Internal to runtime-glue/agent/: the running agent's state. */
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "runtime-glue/agent/agent.h"
#include "runtime-glue/proc/pstree.h"

enum agent_state { AG_WAITING, AG_PRECOPY, AG_CONVERGED, AG_FINAL, AG_STOPPING };

struct agent_layer {
	unsigned n;
	char *dir;
	bool external; /* written into a directory named by the caller */
	bool rebased;  /* no parent: a full layer */
	uint64_t pages_written, pages_parent, frozen_us;
};

struct agent {
	const struct glue_agent_conf *c;
	enum agent_state state;
	struct glue_cgroup cg;
	int lfd;
	int tracker; /* enum glue_tracker of the last layer, or -1 */
	unsigned next_n;
	struct agent_layer *chain; /* the current chain, oldest first */
	size_t nr_chain;
	bool have_prev;
	uint64_t prev_written;
	uint64_t next_at; /* µs (glue_now_us) of the next layer */
	bool handed_over; /* exit leaving the uffd holders to the front-end's dump */
};

const char *agent_state_name(enum agent_state s);

/* Take a layer into @dir (NULL: the next numbered one); out->dir is the caller's. */
int agent_take_layer(struct agent *a, const char *dir, bool final, bool leave_frozen,
		     struct agent_layer *out, struct ck_err **err);

/* Serve one connection on the control socket. */
void agent_serve(struct agent *a);
