/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"

/*
 * Feature probes that need ptrace (kept in parasite/, the only ptrace user).
 * Used by `ckpt check`; they never inject anything.
 */

/*
 * Seize `pid` (a child the caller created and will reap), interrupt it, wait
 * for the stop and detach again.  With suspend_seccomp, ask for
 * PTRACE_O_SUSPEND_SECCOMP at seize time (needs CAP_SYS_ADMIN in the initial
 * user namespace and a tracer that is not itself under seccomp).
 * Returns 0, or -1 with *err saying which step the kernel refused.
 */
int parasite_probe_seize(pid_t pid, bool suspend_seccomp, struct ck_err **err)
	__attribute__((warn_unused_result));
