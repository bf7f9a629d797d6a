// SPDX-License-Identifier: MIT
/*
 * ckpt: an OCI checkpoint helper.  This is the only place that prints errors:
 * every verb returns an exit code and a struct ck_err, printed here once as
 * "ckpt VERB: context: context: cause".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/stop.h"
#include "common/log.h"
#include "hook/verbs.h"

#ifndef CKPT_VERSION
#define CKPT_VERSION "0.1.0"
#endif

/* clang-format off */
const struct hook_verb hook_verbs[] = {
	{ "check", hook_cmd_check, "probe kernel features and say which dirty tracker is used",
	  "ckpt check [--feature NAME] [--json] [-v]", NULL, hook_opts_check },
	{ "show", hook_cmd_show, "decode CRIU/ckpt image files to JSON",
	  "ckpt show FILE|DIR [--pretty]", NULL, hook_opts_show },
	{ "restore", hook_cmd_restore, "restore a final dump through CRIU",
	  "ckpt restore -D DIR [OPTIONS] [-- CRIU-ARGS...]", NULL, hook_opts_restore },
	{ "exec", hook_cmd_exec, "run one system call inside a live task",
	  "ckpt exec [OPTIONS] -t PID SYSCALL [ARG...]",
	  "SYSCALL is a name or a number; an ARG is a number (decimal or 0x hex, may be\n"
	  "negative), &STRING (copied into the task, passed as a pointer) or @N (a pointer\n"
	  "to an N-byte buffer, printed after the call).", hook_opts_exec },
	{ "pre-dump", hook_cmd_pre_dump, "write a memory layer while the tree keeps running",
	  "ckpt pre-dump -t PID|--cgroup PATH|auto -D DIR [OPTIONS]", NULL, hook_opts_mem },
	{ "dump", hook_cmd_dump, "write the final, restorable dump of the frozen tree",
	  "ckpt dump -t PID|--cgroup PATH|auto -D DIR [OPTIONS]",
	  "By default dump writes the complete image set `criu restore` needs.  The tree is\n"
	  "checked first: if it holds anything ckpt cannot dump, the dump is refused with\n"
	  "the whole list and the tree keeps running.  After a successful dump the tree is\n"
	  "killed (as CRIU does) unless --leave-running or --leave-stopped is given.\n"
	  "--shell-job accepts a session or process group leader outside the tree and its\n"
	  "shell's terminal (restored onto the terminal of the restore).\n"
	  "--memory-only writes the frozen memory layer only (inventory, pstree, mm,\n"
	  "pagemap, pages, stats-dump), which cannot be restored, without the check; the\n"
	  "tree is then left stopped by default (--leave-running resumes it).", hook_opts_mem },
	{ "verify", hook_cmd_verify, "compare a layer chain with the memory of the frozen tree",
	  "ckpt verify -t PID|--cgroup PATH|auto -D DIR [OPTIONS]",
	  "verify follows the parent links of DIR (no --prev-images-dir); the tree is\n"
	  "frozen for the comparison and thawed afterwards.", hook_opts_mem },
	{ "hook", hook_cmd_hook, "OCI hook: start or stop a container's pre-copy agent",
	  "ckpt hook [createRuntime|poststart|poststop] [-v]  (state JSON on stdin)",
	  "Reads the OCI state JSON on stdin and the bundle's config.json.  Unless the\n"
	  "container has the annotation org.ckpt.enable=true nothing happens (exit 0).\n"
	  "Otherwise poststart (or createRuntime) starts the pre-copy agent detached and\n"
	  "returns; poststop stops it.  A refused org.ckpt.* value is reported on stderr\n"
	  "and in <bundle>/ckpt-hook.log, and the container still starts (exit 0).\n"
	  "Exit 1: malformed or oversized state, missing or unreadable bundle.", hook_opts_hook },
	{ "agent", hook_cmd_agent, "talk to a container's pre-copy agent",
	  "ckpt agent status|layer|final|stop --bundle DIR|--id ID [OPTIONS]", NULL, hook_opts_agent },
	{ "criu", hook_cmd_criu, "ckpt as criu for runc, Podman and libcriu (swrk RPC, check, --version)",
	  "ckpt criu swrk FD | ckpt criu check [--feature NAME] | ckpt criu --version",
	  "Installed as `criu` (a link to ckpt), the same front-end answers runc's, Podman's\n"
	  "and libcriu's `criu swrk FD`: pre-dumps by ckpt, DUMP and RESTORE by the real\n"
	  "CRIU (CKPT_CRIU, /etc/ckpt/criu.conf, or criu.real next to the front-end).\n"
	  "Every other CRIU command is refused as not supported.", hook_opts_criu },
	{ "untrack", hook_cmd_untrack, "end the uffd-wp tracking of a tree (its own userfaultfd works again)",
	  "ckpt untrack -t PID|--cgroup PATH|auto [-v]",
	  "The tree's tasks are not touched; the next layer of the chain is full.", hook_opts_untrack },
	{ "compact", hook_cmd_compact, "merge the oldest layers of a chain until it holds at most N",
	  "ckpt compact -D DIR [--max-layers N] [-v]",
	  "Each merge of the two oldest layers takes the newer one's name, so DIR and the\n"
	  "parent links stay valid; a kill at any point leaves a chain that rebuilds the\n"
	  "same memory.  Not while an agent or a pre-dump writes to the same chain.", hook_opts_compact },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};
/* clang-format on */

/* see verbs.h */
const struct hook_verb *hook_find_verb(const char *name)
{
	for (const struct hook_verb *v = hook_verbs; v->name; v++)
		if (!strcmp(v->name, name))
			return v;
	return NULL;
}

/* see verbs.h */
void hook_usage(const struct hook_verb *v, int to_stderr)
{
	FILE *f = to_stderr ? stderr : stdout;

	fprintf(f, "Usage: %s\n%s.\n", v->usage, v->summary);
	if (v->opts)
		hook_opts_print(f, v->name, v->opts);
	if (v->help)
		fprintf(f, "\n%s\n", v->help);
	fprintf(f, "\nSee ckpt(1) for the details and exit codes.\n");
}

/* see verbs.h */
int hook_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ckpt %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'ckpt %s --help'.\n", verb);
	return HOOK_EXIT_USAGE;
}

/* see verbs.h */
int hook_opt_level(const char *verb, const char *arg, int *level)
{
	char *end;
	long l;

	if (!arg) {
		(*level)++;
		return 0;
	}
	l = strtol(arg, &end, 10);
	if (*end || end == arg || l < 0 || l > 4)
		return hook_usage_error(verb, "-v: bad level '%s' (0-4)", arg);
	*level = l > 0 ? (int)l - 1 : 0;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: ckpt VERB [OPTIONS]\n\nVerbs:\n");
	for (const struct hook_verb *v = hook_verbs; v->name; v++)
		fprintf(f, "  %-10s %s\n", v->name, v->summary);
	fprintf(f, "\n'ckpt VERB --help' describes a verb; ckpt(1) has the details.\n");
}

int main(int argc, char **argv)
{
	_cleanup_err_ struct ck_err *err = NULL;
	const struct hook_verb *v;
	int rc;

	{
		const char *base = strrchr(argv[0], '/');

		base = base ? base + 1 : argv[0];
		if (!strcmp(base, "criu")) {
			/* the criu front-end prints nothing of its own in swrk mode */
			rc = hook_criu_main(argc, argv, argv[0], &err);
			if (err) {
				_cleanup_free_ char *msg = ck_err_str(err);

				fprintf(stderr, "criu: %s\n", msg);
				if (rc == HOOK_EXIT_OK)
					rc = HOOK_EXIT_ERR;
			}
			return rc;
		}
	}
	if (argc < 2) {
		usage(stderr);
		return HOOK_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return HOOK_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("ckpt %s\n", CKPT_VERSION);
		return HOOK_EXIT_OK;
	}
	v = hook_find_verb(argv[1]);
	if (!v) {
		fprintf(stderr, "ckpt: unknown verb '%s'\n", argv[1]);
		usage(stderr);
		return HOOK_EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			hook_usage(v, 0);
			return HOOK_EXIT_OK;
		}
	}
	ck_stop_install();
	rc = v->run(argc - 1, argv + 1, &err);
	if (err) {
		_cleanup_free_ char *msg = ck_err_str(err);

		fprintf(stderr, "ckpt %s: %s\n", v->name, msg);
		if (rc == HOOK_EXIT_OK)
			rc = HOOK_EXIT_ERR;
	}
	if (ck_stop_sig)
		rc = 128 + ck_stop_sig; /* everything was released on the way out */
	return rc;
}
