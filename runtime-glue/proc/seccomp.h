/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

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
