// SPDX-License-Identifier: MIT
/*
 * ckpt exec [-v] [--timeout SEC] -t PID SYSCALL [ARG...]
 *
 * Runs one system call inside process PID and prints, on stdout:
 *
 *   Syscall returned 3 (0x3)
 *   Syscall returned -2 (ENOENT: No such file or directory)
 *
 * then, for each @N argument, its contents after the call:
 *
 *   Argument 1 (@16 at 0x7f5a2c6d1000):
 *   00000000  2f 74 6d 70 00 00 00 00  00 00 00 00 00 00 00 00  |/tmp............|
 *   00000010
 *
 * (hexdump -C layout; a run of identical lines is shown once followed by "*").
 * Exit status: 0 when the call ran, whatever it returned; 1 when ckpt failed;
 * 2 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "hook/verbs.h"
#include "runtime-glue/exec.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/proc/seccomp.h"

static void print_line(size_t off, const unsigned char *p, size_t n)
{
	printf("%08zx ", off);
	for (size_t i = 0; i < 16; i++) {
		if (i == 8)
			putchar(' ');
		if (i < n)
			printf(" %02x", p[i]);
		else
			printf("   ");
	}
	printf("  |");
	for (size_t i = 0; i < n; i++)
		putchar(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.');
	printf("|\n");
}

static void hexdump(const unsigned char *data, size_t len)
{
	bool starred = false;

	for (size_t off = 0; off < len; off += 16) {
		size_t n = len - off < 16 ? len - off : 16;

		if (off >= 16 && n == 16 && !memcmp(data + off, data + off - 16, 16)) {
			if (!starred)
				printf("*\n");
			starred = true;
			continue;
		}
		starred = false;
		print_line(off, data + off, n);
	}
	printf("%08zx\n", len);
}

static void print_result(const struct glue_exec *x)
{
	if (x->ret < 0 && x->ret >= -4095) {
		int e = (int)-x->ret;
		const char *name = strerrorname_np(e);

		if (name)
			printf("Syscall returned %ld (%s: %s)\n", x->ret, name, strerror(e));
		else
			printf("Syscall returned %ld (errno %d)\n", x->ret, e);
	} else {
		printf("Syscall returned %ld (0x%lx)\n", x->ret, (unsigned long)x->ret);
	}
	for (size_t i = 0; i < x->nargs; i++) {
		const struct glue_exec_arg *a = &x->args[i];

		if (a->kind != GLUE_EXEC_ARG_BUFFER || !a->data)
			continue;
		printf("Argument %zu (@%zu at 0x%lx):\n", i + 1, a->size, a->raddr);
		hexdump(a->data, a->size);
	}
	fflush(stdout);
}

static int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v <= 0 || v > 0x3fffffff)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

enum { OPT_TREE = 1, OPT_TIMEOUT, OPT_VERBOSE };

/* clang-format off */
const struct hook_opt hook_opts_exec[] = {
	HOOK_OPT(OPT_TREE, "tree", 't', ARG, "PID", NULL, "the process to run the call in (required)"),
	HOOK_OPT(OPT_TREE, "pid", 0, ARG, "PID", NULL, "the same as -t"),
	HOOK_OPT(OPT_TIMEOUT, "timeout", 0, ARG, "SEC", NULL, "give up after SEC seconds (default 10; 0: no limit)"),
	HOOK_OPT(OPT_VERBOSE, "verbose", 'v', NONE, NULL, NULL, "log every step (debug level)"),
	HOOK_OPT_END,
};
/* clang-format on */

/* see verbs.h */
int hook_cmd_exec(int argc, char **argv, struct ck_err **err)
{
	struct glue_exec x = { 0 };
	const char *pid_arg = NULL;
	struct hook_getopt g;
	int c, rc;

	x.timeout_ms = 10000;
	/* stop at SYSCALL, so that negative numbers after it are arguments */
	hook_getopt_init(&g, "exec", hook_opts_exec, true, argc, argv);
	while ((c = hook_getopt_next(&g)) > 0) {
		switch (c) {
		case OPT_TREE:
			pid_arg = g.arg;
			break;
		case OPT_TIMEOUT: {
			char *end;
			double s;

			errno = 0;
			s = strtod(g.arg, &end);
			if (errno || *end || end == g.arg || !(s >= 0 && s <= 86400))
				return hook_usage_error(
					"exec", "invalid timeout '%s' (seconds, 0 = none)", g.arg);
			x.timeout_ms = (unsigned int)(s * 1000);
			if (s > 0 && x.timeout_ms == 0)
				x.timeout_ms = 1;
			break;
		}
		case OPT_VERBOSE:
			ck_log_set_level(CK_LOG_DEBUG);
			break;
		}
	}
	if (c < 0)
		return HOOK_EXIT_USAGE;
	if (!pid_arg)
		return hook_usage_error("exec", "missing -t PID");
	if (parse_pid(pid_arg, &x.pid) < 0)
		return hook_usage_error("exec", "invalid process id '%s'", pid_arg);
	if (optind >= argc)
		return hook_usage_error("exec", "missing SYSCALL");
	{
		_cleanup_err_ struct ck_err *e = NULL;

		if (glue_syscall_nr(argv[optind], 0, &x.nr, &e) < 0)
			return hook_usage_error("exec", "%s", e->msg);
	}
	optind++;
	if (argc - optind > GLUE_EXEC_MAX_ARGS)
		return hook_usage_error("exec",
					"too many arguments: %d (a system call takes at most %d)",
					argc - optind, GLUE_EXEC_MAX_ARGS);
	for (; optind < argc; optind++) {
		_cleanup_err_ struct ck_err *e = NULL;

		if (glue_exec_parse_arg(argv[optind], &x.args[x.nargs], &e) < 0)
			return hook_usage_error("exec", "argument %zu: %s", x.nargs + 1, e->msg);
		x.nargs++;
	}

	glue_fault_init();
	rc = glue_exec_run(&x, err);
	if (rc == 0) {
		print_result(&x);
		if (x.seccomp_filtered)
			fprintf(stderr,
				"ckpt exec: note: process %d has a seccomp filter that ckpt could not suspend (it needs root); the call went through that filter\n",
				x.pid);
	}
	glue_exec_free(&x);
	return rc < 0 ? HOOK_EXIT_ERR : HOOK_EXIT_OK;
}
