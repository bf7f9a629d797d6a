/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

#include "common/err.h"

/*
 * One ckpt at a time per target: an exclusive flock on
 * /run/ckpt/lock/PID-STARTTIME (root; others: $XDG_RUNTIME_DIR/ckpt/lock or
 * /tmp/ckpt-lock-UID), taken before the first seize or freeze and held until
 * glue_target_unlock() (the kernel drops it when ckpt dies, however it dies).
 * The file holds the holder's pid.  Taken again for the same target in the
 * same process, it is counted (released by the last unlock).  A second ckpt fails with EBUSY: "process P is being
 * checkpointed by ckpt pid H (lock FILE)".  A target whose /proc/PID/stat
 * cannot be read is not locked (0: the seize that follows reports it).
 */
int glue_target_lock(pid_t pid, struct ck_err **err) __attribute__((warn_unused_result));

/* Release one glue_target_lock() of @pid (no-op for 0 or a pid not locked). */
void glue_target_unlock(pid_t pid);

/* For _cleanup_(glue_target_unlockp) pid_t locked = 0. */
static inline void glue_target_unlockp(pid_t *pid)
{
	glue_target_unlock(*pid);
	*pid = 0;
}
