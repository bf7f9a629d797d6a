// SPDX-License-Identifier: MIT
/*
 * `ckpt exec`: one system call inside a live process.
 *
 * String and buffer arguments share one scratch mapping in the target, made
 * with a remote mmap and unmapped before the target is released:
 *
 *   scratch ─► | "&" string 1 \0 | pad | "@" buffer 1 | pad | ... |   (16-byte aligned slots)
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/num.h"
#include "common/xalloc.h"
#include "parasite/parasite.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/exec.h"
#include "runtime-glue/proc/lock.h"
#include "runtime-glue/proc/seccomp.h"

#define SLOT_ALIGN(x) (((x) + 15UL) & ~15UL)

/* see exec.h */
int glue_exec_parse_arg(const char *s, struct glue_exec_arg *a, struct ck_err **err)
{
	char *end;

	memset(a, 0, sizeof(*a));
	if (s[0] == '&') {
		a->kind = GLUE_EXEC_ARG_STRING;
		a->str = s + 1;
		a->size = strlen(s + 1) + 1;
		return 0;
	}
	if (s[0] == '@') {
		unsigned long long n;

		a->kind = GLUE_EXEC_ARG_BUFFER;
		if (s[1] < '0' || s[1] > '9')
			return ck_err_set(
				err, EINVAL,
				"invalid buffer size in '%s' (expected @N, N a positive number)",
				s);
		errno = 0;
		n = strtoull(s + 1, &end, ck_num_base(s + 1));
		if (errno || *end || n == 0)
			return ck_err_set(
				err, EINVAL,
				"invalid buffer size in '%s' (expected @N, N a positive number)",
				s);
		if (n > GLUE_EXEC_MAX_BUFFER)
			return ck_err_set(err, EINVAL,
					  "buffer size in '%s' is too large (at most %u bytes)", s,
					  GLUE_EXEC_MAX_BUFFER);
		a->size = (size_t)n;
		return 0;
	}
	a->kind = GLUE_EXEC_ARG_NUM;
	if (!*s)
		return ck_err_set(err, EINVAL,
				  "empty argument (expected a number, &string or @size)");
	errno = 0;
	a->num = (unsigned long)strtol(s, &end, ck_num_base(s));
	if (errno == ERANGE && s[0] != '-') {
		/* Large unsigned values (0xffffffffffffffff) are fine too. */
		errno = 0;
		a->num = strtoul(s, &end, ck_num_base(s));
	}
	if (errno || *end || end == s)
		return ck_err_set(err, EINVAL,
				  "invalid argument '%s' (expected a number, &string or @size)", s);
	return 0;
}

static int copy_in(struct parasite_ctl *ctl, struct glue_exec *x, unsigned long *scratch,
		   struct ck_err **err)
{
	size_t total = 0, off = 0;

	for (size_t i = 0; i < x->nargs; i++)
		if (x->args[i].kind != GLUE_EXEC_ARG_NUM)
			total += SLOT_ALIGN(x->args[i].size);
	if (!total)
		return 0;
	if (parasite_mmap(ctl, total, PROT_READ | PROT_WRITE, scratch, err) < 0)
		return -1;
	for (size_t i = 0; i < x->nargs; i++) {
		struct glue_exec_arg *a = &x->args[i];

		if (a->kind == GLUE_EXEC_ARG_NUM)
			continue;
		a->raddr = *scratch + off;
		off += SLOT_ALIGN(a->size);
		if (a->kind == GLUE_EXEC_ARG_STRING &&
		    parasite_write(ctl, a->raddr, a->str, a->size, err) < 0)
			return ck_err_wrap(err, "copy argument %zu", i + 1);
	}
	return 0;
}

static int copy_out(struct parasite_ctl *ctl, struct glue_exec *x, struct ck_err **err)
{
	for (size_t i = 0; i < x->nargs; i++) {
		struct glue_exec_arg *a = &x->args[i];

		if (a->kind != GLUE_EXEC_ARG_BUFFER)
			continue;
		free(a->data);
		a->data = xmalloc(a->size);
		if (parasite_read(ctl, a->raddr, a->data, a->size, err) < 0)
			return ck_err_wrap(err, "read back buffer argument %zu", i + 1);
	}
	return 0;
}

/* see exec.h */
int glue_exec_run(struct glue_exec *x, struct ck_err **err)
{
	/* declared first: released last, after the target is detached */
	_cleanup_(glue_target_unlockp) pid_t locked = 0;
	_cleanup_parasite_ctl_ struct parasite_ctl *ctl = NULL;
	unsigned long args[GLUE_EXEC_MAX_ARGS] = { 0 };
	unsigned long scratch = 0;

	if (x->nargs > GLUE_EXEC_MAX_ARGS)
		return ck_err_set(err, E2BIG, "too many arguments (%zu, at most %d)", x->nargs,
				  GLUE_EXEC_MAX_ARGS);
	if (glue_seccomp_check_pid(x->pid, err) < 0)
		return -1;
	if (glue_target_lock(x->pid, err) < 0)
		return -1;
	locked = x->pid;
	if (parasite_seize(x->pid, PARASITE_SEIZE_NO_FPU, &ctl, err) < 0 ||
	    glue_fault("seize", err) < 0)
		return -1;
	x->was_stopped = parasite_was_stopped(ctl);
	x->seccomp_mode = parasite_seccomp_mode(ctl);
	x->seccomp_filtered = x->seccomp_mode && !parasite_seccomp_suspended(ctl);
	/* Names were resolved for ckpt's own architecture: the target must match. */
	if (parasite_audit_arch(ctl) != glue_native_arch())
		return ck_err_set(err, ENOTSUP, "process %d runs a different architecture (%s)",
				  x->pid, glue_arch_name(parasite_audit_arch(ctl)));
	parasite_set_timeout(ctl, x->timeout_ms);
	if (copy_in(ctl, x, &scratch, err) < 0)
		return ck_err_wrap(err, "process %d", x->pid);
	if (glue_fault("exec-call", err) < 0) {
		_cleanup_err_ struct ck_err *e2 = NULL;

		if (scratch && parasite_munmap(ctl, scratch, &e2) < 0)
			pr_warn("process %d: scratch mapping left: %s", x->pid, e2->msg);
		return -1;
	}
	for (size_t i = 0; i < x->nargs; i++)
		args[i] = x->args[i].kind == GLUE_EXEC_ARG_NUM ? x->args[i].num : x->args[i].raddr;
	if (parasite_syscall(ctl, x->nr, args, &x->ret, err) < 0)
		return -1;
	if (copy_out(ctl, x, err) < 0)
		return ck_err_wrap(err, "process %d", x->pid);
	if (scratch && parasite_munmap(ctl, scratch, err) < 0)
		return ck_err_wrap(err, "process %d", x->pid);
	if (parasite_release(ctl, err) < 0)
		return -1;
	pr_debug("exec: process %d: syscall %ld returned %ld", x->pid, x->nr, x->ret);
	return 0;
}

/* see exec.h */
void glue_exec_free(struct glue_exec *x)
{
	for (size_t i = 0; i < x->nargs; i++) {
		free(x->args[i].data);
		x->args[i].data = NULL;
	}
}
