/* SPDX-License-Identifier: MIT */
#pragma once

#include "common/err.h"
#include "hook/opts.h"

/*
 * One function per verb (hook/<verb>.c).  Each parses its own options and calls
 * one runtime-glue entry point.  It returns the process exit code; on failure it
 * returns HOOK_EXIT_ERR with *err set, and main() prints the error once.
 */
enum hook_exit {
	HOOK_EXIT_OK = 0,
	HOOK_EXIT_ERR = 1,   /* operation failed */
	HOOK_EXIT_USAGE = 2, /* bad command line */
};

struct hook_verb {
	const char *name;
	int (*run)(int argc, char **argv, struct ck_err **err);
	const char *summary;
	const char *usage;           /* printed by --help */
	const char *help;            /* more detail for --help, or NULL */
	const struct hook_opt *opts; /* its option table (opts.h) */
};

int hook_cmd_check(int argc, char **argv, struct ck_err **err);
int hook_cmd_show(int argc, char **argv, struct ck_err **err);
int hook_cmd_exec(int argc, char **argv, struct ck_err **err);
int hook_cmd_restore(int argc, char **argv, struct ck_err **err);

int hook_cmd_pre_dump(int argc, char **argv, struct ck_err **err);
int hook_cmd_dump(int argc, char **argv, struct ck_err **err);
int hook_cmd_verify(int argc, char **argv, struct ck_err **err);
int hook_cmd_criu(int argc, char **argv, struct ck_err **err);

/*
 * The `criu` front-end (hook/criu.c), for argv[0] `criu` and `ckpt criu`:
 * argv[1] onwards are CRIU's arguments; @argv0 locates criu.real.
 */
int hook_criu_main(int argc, char **argv, const char *argv0, struct ck_err **err);
int hook_cmd_untrack(int argc, char **argv, struct ck_err **err);
int hook_cmd_compact(int argc, char **argv, struct ck_err **err);

/* Option tables, one per verb (pre-dump, dump and verify share one). */
extern const struct hook_opt hook_opts_check[];
extern const struct hook_opt hook_opts_show[];
extern const struct hook_opt hook_opts_restore[];
extern const struct hook_opt hook_opts_exec[];
extern const struct hook_opt hook_opts_mem[];
extern const struct hook_opt hook_opts_hook[];
extern const struct hook_opt hook_opts_agent[];
extern const struct hook_opt hook_opts_untrack[];
extern const struct hook_opt hook_opts_compact[];

int hook_cmd_hook(int argc, char **argv, struct ck_err **err);
int hook_cmd_agent(int argc, char **argv, struct ck_err **err);
extern const struct hook_opt hook_opts_criu[];

extern const struct hook_verb hook_verbs[];

/* Print a verb's usage to stdout (for --help) or stderr (for errors). */
void hook_usage(const struct hook_verb *v, int to_stderr);
const struct hook_verb *hook_find_verb(const char *name);

/* Common exit for a bad command line: prints "ckpt VERB: MSG" and the usage hint. */
int hook_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * One -v of @verb (a LEVEL option): with @arg a level 0-4 (CRIU's numbers:
 * 4 is debug) sets *level, without one it raises *level by one.  0, or the
 * usage error's exit code for a bad level.
 */
int hook_opt_level(const char *verb, const char *arg, int *level);
