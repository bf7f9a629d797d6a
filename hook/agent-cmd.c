// SPDX-License-Identifier: MIT
/*
 * ckpt agent status|layer|final|stop --bundle DIR|--id ID [--dir D]
 *            [--leave running|frozen] [--json]
 *
 * Talks to the pre-copy agent of a container over its control socket.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "hook/opts.h"
#include "hook/verbs.h"
#include "runtime-glue/agent/agent.h"
#include "runtime-glue/agent/client.h"

enum { OPT_BUNDLE = 1, OPT_ID, OPT_DIR, OPT_LEAVE, OPT_JSON, OPT_TIMEOUT };

/* clang-format off */
const struct hook_opt hook_opts_agent[] = {
	HOOK_OPT(OPT_BUNDLE, "bundle", 0, ARG, "DIR", NULL, "the container's bundle (its agent listens in the bundle's checkpoint directory)"),
	HOOK_OPT(OPT_ID, "id", 0, ARG, "ID", NULL, "the container id, looked up in the agent registry"),
	HOOK_OPT(OPT_DIR, "dir", 0, ARG, "ABS", NULL, "(layer, final) write the layer into this absolute, empty or absent directory"),
	HOOK_OPT(OPT_LEAVE, "leave", 0, ARG, "running|frozen", NULL, "(final) thaw the container afterwards (default) or keep it frozen"),
	HOOK_OPT(OPT_JSON, "json", 0, NONE, NULL, NULL, "print the agent's reply as JSON"),
	HOOK_OPT(OPT_TIMEOUT, "timeout", 0, ARG, "MS", NULL, "give up waiting for the reply after MS milliseconds"),
	HOOK_OPT_END,
};
/* clang-format on */

static void print_layer(const char *what, const struct oci_agent_layer *l)
{
	printf("%s %u: %s: %llu pages written, %llu from parent, frozen %.3f ms\n", what, l->n,
	       l->dir, (unsigned long long)l->pages_written, (unsigned long long)l->pages_parent,
	       (double)l->frozen_us / 1000.0);
}

static void print_reply(enum oci_agent_cmd cmd, const char *dir, const struct oci_agent_reply *r)
{
	switch (cmd) {
	case OCI_AGENT_STATUS:
		printf("agent of %s: %s, tracker %s, cgroup %s\n", dir, r->state ? r->state : "?",
		       r->tracker ? r->tracker : "?", r->cgroup ? r->cgroup : "?");
		for (size_t i = 0; i < r->nr_layers; i++)
			print_layer("layer", &r->layers[i]);
		if (r->latest)
			printf("latest: %s\n", r->latest);
		break;
	case OCI_AGENT_LAYER:
	case OCI_AGENT_FINAL:
		print_layer(cmd == OCI_AGENT_FINAL ? "final layer" : "layer", &r->layer);
		break;
	case OCI_AGENT_STOP:
		printf("agent of %s: stopped\n", dir);
		break;
	case OCI_AGENT_HANDOVER: /* the front-end's, not a verb of `ckpt agent` */
		printf("agent of %s: handed over\n", dir);
		break;
	}
}

/* see verbs.h */
int hook_cmd_agent(int argc, char **argv, struct ck_err **err)
{
	struct hook_getopt g;
	static const char *const cmds[] = { "status", "layer", "final", "stop" };
	const char *bundle = NULL, *id = NULL, *leave = NULL;
	_cleanup_free_ char *ckpt_dir = NULL, *out = NULL;
	struct glue_agent_req req = { 0 };
	struct glue_agent_reply rep;
	bool json = false;
	long timeout_ms = 0;
	unsigned i;
	size_t len;
	char *end;
	int c;

	hook_getopt_init(&g, "agent", hook_opts_agent, false, argc, argv);
	while ((c = hook_getopt_next(&g)) > 0) {
		switch (c) {
		case OPT_BUNDLE:
			bundle = g.arg;
			break;
		case OPT_ID:
			id = g.arg;
			break;
		case OPT_DIR:
			if (g.arg[0] != '/')
				return hook_usage_error("agent", "--dir: '%s' is not absolute",
							g.arg);
			req.dir = (char *)g.arg; /* borrowed; req is never cleared */
			break;
		case OPT_LEAVE:
			if (strcmp(g.arg, "running") && strcmp(g.arg, "frozen"))
				return hook_usage_error(
					"agent", "--leave: running or frozen, not '%s'", g.arg);
			leave = g.arg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_TIMEOUT:
			timeout_ms = strtol(g.arg, &end, 10);
			if (*end || timeout_ms <= 0 || timeout_ms > 86400000)
				return hook_usage_error("agent", "--timeout: bad milliseconds '%s'",
							g.arg);
			break;
		}
	}
	if (c < 0)
		return HOOK_EXIT_USAGE;
	if (optind >= argc)
		return hook_usage_error("agent", "no command: status, layer, final or stop");
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(argv[optind], cmds[i]))
			break;
	if (i == ARRAY_SIZE(cmds))
		return hook_usage_error(
			"agent", "unknown command '%s' (status, layer, final, stop)", argv[optind]);
	if (optind + 1 < argc)
		return hook_usage_error("agent", "unexpected argument '%s'", argv[optind + 1]);
	req.cmd = (enum oci_agent_cmd)i;
	if (!bundle == !id)
		return hook_usage_error("agent", "give exactly one of --bundle DIR and --id ID");
	if (leave && req.cmd != OCI_AGENT_FINAL)
		return hook_usage_error("agent", "--leave belongs to final");
	if (req.dir && req.cmd != OCI_AGENT_LAYER && req.cmd != OCI_AGENT_FINAL)
		return hook_usage_error("agent", "--dir belongs to layer and final");
	req.leave_frozen = leave && !strcmp(leave, "frozen");
	if (bundle) {
		if (glue_agent_dir_of_bundle(bundle, &ckpt_dir, err) < 0)
			return HOOK_EXIT_ERR;
	} else {
		int r = glue_agent_find(0, id, &ckpt_dir, err);

		if (r < 0)
			return HOOK_EXIT_ERR;
		if (r == 0)
			return ck_err_set(err, ENOENT, "container %s: no agent", id), HOOK_EXIT_ERR;
	}
	if (glue_agent_call_timeout(ckpt_dir, &req, &rep, (int)timeout_ms, err) < 0)
		return HOOK_EXIT_ERR;
	if (!rep.ok) {
		ck_err_set(err, 0, "the agent refused %s: %s", cmds[i], rep.error);
		glue_agent_reply_clear(&rep);
		return HOOK_EXIT_ERR;
	}
	if (json) {
		out = oci_agent_reply_encode(&rep, &len);
		printf("%s\n", out);
	} else {
		print_reply(req.cmd, ckpt_dir, &rep);
	}
	glue_agent_reply_clear(&rep);
	return HOOK_EXIT_OK;
}
