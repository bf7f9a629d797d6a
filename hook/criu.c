// SPDX-License-Identifier: MIT
/*
 * ckpt as `criu`: started as argv[0] `criu` (a link to ckpt) or as
 * `ckpt criu ARGS`.
 *
 *   criu swrk FD                        the RPC server (runtime-glue/rpc/rpc.h)
 *   criu --version | -V                 "Version: 4.2" (what the RPC reports)
 *   criu check [--feature NAME] [-v]    mem_dirty_track, pidfd_store; plain: "Looks good."
 *                                       (options: hook_opts_criu)
 *   criu --help | -h
 *   anything else                       "not supported by ckpt's criu front-end", exit 1
 *
 * In swrk mode nothing is printed on stdout or stderr: during a restore they
 * are the container's pipes.  Errors go into the response and the log file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "hook/opts.h"
#include "hook/verbs.h"
#include "runtime-glue/rpc/rpc.h"

#define PROG "criu"

enum {
	OPT_VERSION = 1,
	OPT_FEATURE,
	OPT_VERBOSE,
	OPT_ALL,
};

/* clang-format off */
const struct hook_opt hook_opts_criu[] = {
	HOOK_OPT(OPT_VERSION, "version", 'V', NONE, NULL, NULL, "print the CRIU version the front-end reports (Version: 4.2)"),
	HOOK_OPT(OPT_FEATURE, "feature", 0, ARG, "NAME", NULL, "check: mem_dirty_track or pidfd_store; exit 0 when available, 1 when not"),
	HOOK_OPT(OPT_ALL, "all", 0, NONE, NULL, NULL, "check: accepted as CRIU's (the same checks)"),
	HOOK_OPT(OPT_ALL, "extra", 0, NONE, NULL, NULL, "check: accepted as CRIU's (the same checks)"),
	HOOK_OPT(OPT_VERBOSE, NULL, 'v', LEVEL, "N", NULL, "accepted as CRIU's log level (the log goes to the request's log_file)"),
	HOOK_OPT_END,
};
/* clang-format on */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: criu swrk FD | criu check [--feature NAME] | criu --version\n"
		"ckpt's criu front-end: serves runc, Podman and libcriu over the swrk RPC.\n"
		"Pre-dumps are ckpt's own; DUMP and RESTORE go to the real CRIU\n"
		"($CKPT_CRIU, 'criu = PATH' in /etc/ckpt/criu.conf, or criu.real next to this file).\n");
	hook_opts_print(f, "criu", hook_opts_criu);
	fprintf(f, "Every other CRIU command is not supported by this front-end.\n");
}

static int not_supported(const char *what)
{
	fprintf(stderr,
		"criu: '%s' is not supported by ckpt's criu front-end (it serves swrk, check and --version; use the real CRIU or ckpt(1))\n",
		what);
	return HOOK_EXIT_ERR;
}

/* `swrk FD`: exactly one operand after the command, no options. */
static int swrk(int argc, char **argv, const char *argv0, struct ck_err **err)
{
	char *end;
	long fd;
	int null, rc;

	if (argc != 3 || strcmp(argv[1], "swrk"))
		return not_supported("swrk with anything but exactly one FD");
	fd = strtol(argv[2], &end, 10);
	if (*end || fd < 0 || fd > 1 << 20) {
		fprintf(stderr, "criu swrk: '%s' is not a file descriptor\n", argv[2]);
		return HOOK_EXIT_USAGE;
	}
	/* no log line may reach stderr: it goes to log_file once the request names one */
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ck_log_set_fd(null);
	rc = glue_rpc_serve((int)fd, argv0, err);
	return rc < 0 ? HOOK_EXIT_ERR : rc;
}

static int check(const char *feature)
{
	char why[1024] = "";

	if (!feature) {
		if (!glue_rpc_mem_track(why, sizeof(why)))
			printf("Warn: no dirty-memory tracker: %s\n", why);
		printf("Looks good.\n");
		return HOOK_EXIT_OK;
	}
	if (!strcmp(feature, "mem_dirty_track")) {
		if (glue_rpc_mem_track(why, sizeof(why))) {
			printf("mem_dirty_track is supported (%s)\n", why);
			return HOOK_EXIT_OK;
		}
		fprintf(stderr, "Error: mem_dirty_track is not supported: %s\n", why);
		return HOOK_EXIT_ERR;
	}
	if (!strcmp(feature, "pidfd_store")) {
		if (glue_rpc_pidfd_store()) {
			printf("pidfd_store is supported\n");
			return HOOK_EXIT_OK;
		}
		fprintf(stderr, "Error: pidfd_store is not supported\n");
		return HOOK_EXIT_ERR;
	}
	fprintf(stderr,
		"Error: feature '%s' is not supported by ckpt's criu front-end (mem_dirty_track, pidfd_store)\n",
		feature);
	return HOOK_EXIT_ERR;
}

/* see verbs.h */
int hook_criu_main(int argc, char **argv, const char *argv0, struct ck_err **err)
{
	const char *cmd = NULL, *feature = NULL;
	bool version = false;
	struct hook_getopt g;
	int c;

	/*
	 * The command is the first word that is not an option.  Only check and
	 * swrk are parsed further: any other CRIU command is refused whole, its
	 * options unread.
	 */
	for (int i = 1; i < argc && !cmd; i++)
		if (argv[i][0] != '-')
			cmd = argv[i];
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return HOOK_EXIT_OK;
		}
	if (cmd && strcmp(cmd, "check") && strcmp(cmd, "swrk"))
		return not_supported(cmd);
	if (cmd && !strcmp(cmd, "swrk"))
		return swrk(argc, argv, argv0, err);
	hook_getopt_init(&g, "criu", hook_opts_criu, false, argc, argv);
	while ((c = hook_getopt_next(&g)) > 0) {
		switch (c) {
		case OPT_VERSION:
			version = true;
			break;
		case OPT_FEATURE:
			feature = g.arg;
			break;
		case OPT_VERBOSE:
		case OPT_ALL:
			break;
		}
	}
	if (c < 0)
		return HOOK_EXIT_USAGE;
	if (version) {
		printf("Version: %d.%d\n", GLUE_RPC_VERSION_MAJOR, GLUE_RPC_VERSION_MINOR);
		printf("ckpt's criu front-end\n");
		return HOOK_EXIT_OK;
	}
	if (!cmd) {
		usage(stderr);
		return HOOK_EXIT_USAGE;
	}
	if (optind < argc - 1)
		return hook_usage_error("criu", "unexpected argument '%s'", argv[optind + 1]);
	return check(feature);
}

/* see verbs.h */
int hook_cmd_criu(int argc, char **argv, struct ck_err **err)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	/* `ckpt criu ARGS`: criu.real is looked for next to ckpt */
	self[n > 0 ? n : 0] = '\0';
	return hook_criu_main(argc, argv, n > 0 ? self : "ckpt", err);
}
