// SPDX-License-Identifier: MIT
/*
 * ckpt restore -D DIR [--criu PATH] [-d] [--shell-job] [-o LOG] [--pidfile FILE] [-- CRIU-ARGS...]
 *
 * Restores a final dump through CRIU.  Exit codes: 0 restored (with -d: the
 * tree runs and criu has exited; without: the restored root has finished and
 * criu returned 0), 1 failure, 2 bad command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "hook/verbs.h"
#include "runtime-glue/dump/restore.h"

enum { OPT_DIR = 1, OPT_CRIU, OPT_DETACH, OPT_SHELL_JOB, OPT_LOG, OPT_PIDFILE, OPT_VERBOSE };

/* clang-format off */
const struct hook_opt hook_opts_restore[] = {
	HOOK_OPT(OPT_DIR, "images-dir", 'D', ARG, "DIR", NULL, "the final dump's directory (required)"),
	HOOK_OPT(OPT_CRIU, "criu", 0, ARG, "PATH", NULL, "the criu binary to run (default: criu from PATH)"),
	HOOK_OPT(OPT_DETACH, "restore-detached", 'd', NONE, NULL, NULL, "return once the tree runs (criu's -d)"),
	HOOK_OPT(OPT_SHELL_JOB, "shell-job", 0, NONE, NULL, NULL, "pass --shell-job to CRIU (automatic when the dump needs it)"),
	HOOK_OPT(OPT_LOG, "log-file", 'o', ARG, "LOG", NULL, "CRIU's log file (default: a temporary one, kept on failure)"),
	HOOK_OPT(OPT_PIDFILE, "pidfile", 0, ARG, "FILE", NULL, "have CRIU write the restored root's pid to FILE"),
	HOOK_OPT(OPT_VERBOSE, "verbose", 'v', NONE, NULL, NULL, "more of ckpt's own log (repeatable)"),
	HOOK_OPT_END,
};
/* clang-format on */

/* see verbs.h */
int hook_cmd_restore(int argc, char **argv, struct ck_err **err)
{
	struct glue_restore_opts o = { 0 };
	struct hook_getopt g;
	int c, pid = 0;

	hook_getopt_init(&g, "restore", hook_opts_restore, true, argc, argv);
	g.unknown_hint = "pass CRIU options after '--'";
	while ((c = hook_getopt_next(&g)) > 0) {
		switch (c) {
		case OPT_DIR:
			o.dir = g.arg;
			break;
		case OPT_CRIU:
			o.criu = g.arg;
			break;
		case OPT_DETACH:
			o.detach = true;
			break;
		case OPT_SHELL_JOB:
			o.shell_job = true;
			break;
		case OPT_LOG:
			o.log_file = g.arg;
			break;
		case OPT_PIDFILE:
			o.pidfile = g.arg;
			break;
		case OPT_VERBOSE:
			ck_log_set_level(ck_log_get_level() + 1);
			break;
		}
	}
	if (c < 0)
		return HOOK_EXIT_USAGE;
	/* getopt consumed a "--": what follows is CRIU's */
	if (optind < argc && strcmp(argv[optind - 1], "--"))
		return hook_usage_error("restore", "unexpected argument '%s'", argv[optind]);
	o.extra = argv + optind;
	o.nr_extra = (size_t)(argc - optind);
	if (!o.dir)
		return hook_usage_error("restore",
					"-D DIR (the final dump's directory) is required");
	if (glue_restore(&o, &pid, err) < 0)
		return HOOK_EXIT_ERR;
	printf("restored pid %d\n", pid);
	return HOOK_EXIT_OK;
}
