/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

#include "common/err.h"

/*
 * One ckpt at a time per target: an exclusive flock on
 * /run/ckpt/lock/PID-STARTTIME (root; others: $XDG_RUNTIME_DIR/ckpt/lock or
 * /tmp/ckpt-lock-UID), taken before the first seize or freeze and held until
 * ckpt exits (the kernel drops it when ckpt dies, however it dies).  The file
 * holds the holder's pid.  Taking it again for the same target in the same
 * process is a no-op.  A second ckpt fails with EBUSY: "process P is being
 * checkpointed by ckpt pid H (lock FILE)".
 */
int glue_target_lock(pid_t pid, struct ck_err **err) __attribute__((warn_unused_result));
