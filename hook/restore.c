// SPDX-License-Identifier: MIT
/*
 * ckpt restore -D DIR [--criu PATH] [-d] [--shell-job] [-o LOG] [--pidfile FILE] [-- CRIU-ARGS...]
 *
 * Restores a final dump through CRIU.  Exit codes: 0 restored (with -d: the
 * tree runs and criu has exited; without: the restored root has finished and
 * criu returned 0), 1 failure, 2 bad command line.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "hook/verbs.h"
#include "runtime-glue/dump/restore.h"

/* see verbs.h */
int hook_cmd_restore(int argc, char **argv, struct ck_err **err)
{
	static const struct option opts[] = {
		{ "images-dir", required_argument, NULL, 'D' },
		{ "criu", required_argument, NULL, 'c' },
		{ "restore-detached", no_argument, NULL, 'd' },
		{ "shell-job", no_argument, NULL, 's' },
		{ "log-file", required_argument, NULL, 'o' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct glue_restore_opts o = { 0 };
	int c, pid = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+D:do:v", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			o.dir = optarg;
			break;
		case 'c':
			o.criu = optarg;
			break;
		case 'd':
			o.detach = true;
			break;
		case 's':
			o.shell_job = true;
			break;
		case 'o':
			o.log_file = optarg;
			break;
		case 'p':
			o.pidfile = optarg;
			break;
		case 'v':
			ck_log_set_level(ck_log_get_level() + 1);
			break;
		case ':':
			return hook_usage_error("restore", "option '%s' needs an argument",
						argv[optind - 1]);
		default:
			return hook_usage_error(
				"restore", "unknown option '%s' (pass CRIU options after '--')",
				argv[optind - 1]);
		}
	}
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	else if (optind < argc)
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
