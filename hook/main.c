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
	  "ckpt check [--feature NAME] [--json] [-v]", NULL },
	{ "show", hook_cmd_show, "decode CRIU/ckpt image files to JSON",
	  "ckpt show FILE|DIR [--pretty]", NULL },
	{ "restore", hook_cmd_restore, "restore a final dump through CRIU",
	  "ckpt restore -D DIR [--criu PATH] [-d] [--shell-job] [-o LOG] [--pidfile FILE] [-- CRIU-ARGS...]", NULL },
	{ "exec", hook_cmd_exec, "run one system call inside a live task",
	  "ckpt exec -t PID SYSCALL [ARG...]", NULL },
	{ "pre-dump", hook_cmd_pre_dump, "write a memory layer while the tree keeps running",
	  "ckpt pre-dump -t PID|--cgroup PATH|auto -D DIR [--prev-images-dir REL] [--tracker NAME] [--track-mem] [--json-progress] [-o LOG] [-v]", NULL },
	{ "dump", hook_cmd_dump, "write the final, restorable dump of the frozen tree",
	  "ckpt dump -t PID|--cgroup PATH|auto -D DIR [--prev-images-dir REL] [--tracker NAME] [--track-mem] [--leave-running|--leave-stopped] [--shell-job] [--memory-only] [--json-progress] [-o LOG] [-v]",
	  "By default dump writes the complete image set `criu restore` needs.  The tree is\n"
	  "checked first: if it holds anything ckpt cannot dump, the dump is refused with\n"
	  "the whole list and the tree keeps running.  After a successful dump the tree is\n"
	  "killed (as CRIU does) unless --leave-running or --leave-stopped is given.\n"
	  "--shell-job accepts a session or process group leader outside the tree.\n"
	  "--memory-only writes the frozen memory layer only (inventory, pstree, mm,\n"
	  "pagemap, pages, stats-dump), which cannot be restored, without the check; the\n"
	  "tree is then left stopped by default (--leave-running resumes it)." },
	{ "verify", hook_cmd_verify, "compare a layer chain with the memory of the frozen tree",
	  "ckpt verify -t PID|--cgroup PATH|auto -D DIR [--max-report N] [-o LOG] [-v]", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
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
	if (v->help)
		fprintf(f, "%s\n", v->help);
	fprintf(f, "See ckpt(1) for the options and exit codes.\n");
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
