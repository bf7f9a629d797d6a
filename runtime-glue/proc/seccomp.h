/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

/*
 * System call names and numbers, through libseccomp (its only user).  @arch is
 * an audit architecture (AUDIT_ARCH_X86_64 ...), which libseccomp uses as its
 * arch token; 0 means the architecture ckpt was built for.
 */

/*
 * Resolve @name for @arch into *nr.  A plain number (decimal or 0x hex) is
 * accepted too, within 0..4095.  Fails with EINVAL ("unknown system call 'x'",
 * "system call 'x' does not exist on <arch>").
 */
int glue_syscall_nr(const char *name, uint32_t arch, long *nr, struct ck_err **err)
	__attribute__((warn_unused_result));

/* Name of syscall @nr on @arch (malloc'ed), or NULL when unknown. */
char *glue_syscall_name(long nr, uint32_t arch);

/* The audit architecture ckpt was built for. */
uint32_t glue_native_arch(void);

/* libseccomp's name of @arch ("x86_64"), for messages; never NULL. */
const char *glue_arch_name(uint32_t arch);

/*
 * Issue 12 item 2, checked before anything is seized or frozen: a task under
 * seccomp (strict mode or a filter) that ckpt cannot suspend
 * (PTRACE_O_SUSPEND_SECCOMP needs CAP_SYS_ADMIN in the initial user namespace
 * and a ckpt not under seccomp itself) could be killed, or take a SIGSYS, by
 * any call ckpt injects, so exec, pre-dump and dump refuse it up front: EPERM
 * with the thread, its Seccomp: mode and what ckpt lacks.  0 when no thread
 * is under seccomp or ckpt can suspend it.
 */
/* The threads @tids (@nr of them) of process @pid. */
int glue_seccomp_check_task(pid_t pid, const pid_t *tids, size_t nr, struct ck_err **err)
	__attribute__((warn_unused_result));
/* Every thread of process @pid (from /proc/PID/task). */
int glue_seccomp_check_pid(pid_t pid, struct ck_err **err) __attribute__((warn_unused_result));
struct glue_pstree;
/* Every live task of @tree. */
int glue_seccomp_check_tree(const struct glue_pstree *tree, struct ck_err **err)
	__attribute__((warn_unused_result));
