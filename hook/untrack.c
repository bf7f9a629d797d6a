// SPDX-License-Identifier: MIT
/*
 * ckpt untrack -t PID|--cgroup PATH|auto [-v]
 *
 * Ends the uffd-wp tracking that pre-dumps armed in the tree: the holder of
 * every task exits, which unregisters every range ckpt registered, so the
 * target's own UFFDIO_REGISTER works there again.  The tasks themselves are
 * not touched (not stopped, not injected).  The next layer of the chain is
 * then full.  Prints one line per released task and a summary:
 *
 *   untrack: pid 41: uffd-wp tracking released (tracker process 57)
 *   untrack: 1 of 2 tasks were tracked; released
 *
 * Exit status 0 also when nothing was tracked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "hook/verbs.h"
#include "runtime-glue/track/uffd-target.h"

enum { OPT_TREE = 1, OPT_CGROUP, OPT_VERBOSE };

/* clang-format off */
const struct hook_opt hook_opts_untrack[] = {
	HOOK_OPT(OPT_TREE, "tree", 't', ARG, "PID", NULL, "the task PID and all its descendants"),
	HOOK_OPT(OPT_CGROUP, "cgroup", 0, ARG, "PATH|auto", NULL, "every task of a cgroup (auto: the cgroup of -t PID)"),
	HOOK_OPT(OPT_VERBOSE, NULL, 'v', LEVEL, "N", NULL, "more log; repeatable, or a level 0-4 (-v4, -v 4)"),
	HOOK_OPT_END,
};
/* clang-format on */

int hook_cmd_untrack(int argc, char **argv, struct ck_err **err)
{
	struct glue_target tgt = { 0 };
	struct glue_untrack_result r;
	int level = CK_LOG_WARN, c;
	struct hook_getopt g;
	char *end;

	hook_getopt_init(&g, "untrack", hook_opts_untrack, false, argc, argv);
	while ((c = hook_getopt_next(&g)) > 0) {
		switch (c) {
		case OPT_TREE: {
			long pid = strtol(g.arg, &end, 10);

			if (*end || pid <= 0 || pid > 0x7fffffff)
				return hook_usage_error("untrack", "-t: '%s' is not a process id",
							g.arg);
			tgt.pid = (pid_t)pid;
			break;
		}
		case OPT_CGROUP:
			tgt.cgroup = g.arg;
			break;
		case OPT_VERBOSE:
			if (hook_opt_level("untrack", g.arg, &level))
				return HOOK_EXIT_USAGE;
			break;
		}
	}
	if (c < 0)
		return HOOK_EXIT_USAGE;
	if (optind < argc)
		return hook_usage_error("untrack", "unexpected argument '%s'", argv[optind]);
	if (!tgt.pid && !tgt.cgroup)
		return hook_usage_error("untrack", "no target: give -t PID or --cgroup PATH");
	if (tgt.cgroup && !strcmp(tgt.cgroup, "auto") && !tgt.pid)
		return hook_usage_error("untrack", "--cgroup auto needs -t PID");
	ck_log_set_level(level);
	if (glue_uffd_untrack(&tgt, stdout, &r, err) < 0)
		return HOOK_EXIT_ERR;
	if (r.released)
		printf("untrack: %zu of %zu tasks were tracked; released\n", r.released, r.tasks);
	else
		printf("untrack: no task of the tree (%zu) is tracked\n", r.tasks);
	return HOOK_EXIT_OK;
}
