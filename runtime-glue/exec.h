/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

/*
 * `ckpt exec`: run one system call inside a live process (the semantics of
 * CRIU's former `criu exec`), on top of parasite/.
 */

enum glue_exec_arg_kind {
	GLUE_EXEC_ARG_NUM,    /* strtol() value */
	GLUE_EXEC_ARG_STRING, /* "&text": text + NUL copied into the target */
	GLUE_EXEC_ARG_BUFFER, /* "@N": N bytes of target memory, read back after the call */
};

#define GLUE_EXEC_MAX_ARGS   6
#define GLUE_EXEC_MAX_BUFFER (16u << 20) /* per @N buffer */

struct glue_exec_arg {
	enum glue_exec_arg_kind kind;
	unsigned long num;   /* NUM: the value */
	const char *str;     /* STRING: the text (not owned) */
	size_t size;         /* BUFFER: N; STRING: strlen + 1 */
	unsigned long raddr; /* STRING, BUFFER: address in the target, after the call */
	unsigned char *data; /* BUFFER: contents after the call (owned) */
};

struct glue_exec {
	/* in */
	pid_t pid;
	long nr;
	size_t nargs;
	struct glue_exec_arg args[GLUE_EXEC_MAX_ARGS];
	unsigned int timeout_ms; /* 0: wait forever */
	/* out */
	long ret;              /* raw return value; -4095..-1 is -errno */
	int seccomp_mode;      /* target's Seccomp: field */
	bool seccomp_filtered; /* a filter applied to the call (not suspended) */
	bool was_stopped;      /* target was (and still is) stopped */
};

/*
 * Parse one command-line argument: "&text", "@N" (1..GLUE_EXEC_MAX_BUFFER) or a
 * number for strtol(, 0) (decimal, 0x hex, 0 octal, negative; values up to
 * ULONG_MAX are accepted too).  Fails with EINVAL and a message naming it.
 */
int glue_exec_parse_arg(const char *s, struct glue_exec_arg *a, struct ck_err **err)
	__attribute__((warn_unused_result));

/*
 * Seize x->pid, copy the string arguments into a scratch mapping, run the
 * call, read the buffers back, unmap the scratch mapping and release.  Returns
 * 0 when the call ran (whatever it returned: see x->ret); -1 when it could not
 * be run or did not finish (the target is released unharmed in every case it
 * survives).
 */
int glue_exec_run(struct glue_exec *x, struct ck_err **err) __attribute__((warn_unused_result));

/* Free the buffers read back by glue_exec_run(). */
void glue_exec_free(struct glue_exec *x);
