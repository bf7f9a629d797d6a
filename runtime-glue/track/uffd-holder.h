/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

/*
 * The uffd holder: a tiny daemon per tracked process that keeps the
 * userfaultfd of that process open between ckpt runs.  Closing the last
 * reference to a uffd unregisters every range and drops the write-protect
 * state, so the tracker must outlive the ckpt run that armed it.
 *
 *   ckpt pre-dump #1                 holder                          target
 *   ----------------                 ------                          ------
 *   userfaultfd() injected  ─────────────────────────────────────►  fd N
 *   pidfd_getfd(N), close(N) in target ◄─────────────────────────
 *   spawn(uffd, token) ──fork,setsid──► listens on the abstract socket
 *                                       @ckpt-uffd-<pid>-<starttime>
 *   ckpt pre-dump #2: fetch ── 'G' ──►  replies token + uffd (SCM_RIGHTS)
 *   ckpt dump (final): stop ── 'Q' ──►  exits
 *                                       target exits (pidfd readable) ► exits
 *
 * The socket name carries the target's start time, so a recycled pid never
 * reaches an old holder.  Only a peer with the holder's uid (or root) is
 * served.  The token is chosen by the caller when the uffd is created and is
 * recorded in the layer, so a later run can tell "the holder that armed my
 * parent layer" from a new one.
 */

/*
 * Fork the holder for @target, handing it @uffd and @token.  Returns once the
 * holder is listening; the caller keeps its own copy of @uffd.  Fails with
 * EEXIST when a holder for @target is already running.
 */
int glue_uffd_holder_spawn(pid_t target, int uffd, uint64_t token, pid_t *holder_pid,
			   struct ck_err **err);

/*
 * Ask the holder of @target for its uffd.  *found is false (and 0 returned)
 * when no holder answers: it was never started, has exited, or was killed.
 * On success *uffd is a new O_CLOEXEC descriptor owned by the caller.
 */
int glue_uffd_holder_fetch(pid_t target, int *uffd, uint64_t *token, bool *found,
			   struct ck_err **err);

/* Tell the holder of @target to exit; 0 also when there is none. */
int glue_uffd_holder_stop(pid_t target, struct ck_err **err);
