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
 *   bind DIR/<pid>-<starttime>.sock
 *   spawn(uffd, token) ──fork,setsid──► listens on it
 *   ckpt pre-dump #2: fetch ── 'G' ──►  replies token + uffd (SCM_RIGHTS)
 *   ckpt dump (final): stop ── 'Q' ──►  unlinks its socket, replies, exits
 *                                       target exits (pidfd readable) ► exits
 *
 * DIR is a directory only the user running ckpt can create entries in:
 * /run/ckpt/uffd for root, else ckpt-uffd under $XDG_RUNTIME_DIR or
 * /run/user/UID, else /tmp/ckpt-uffd-UID; it is refused unless it is a real
 * directory (not a symlink) owned by that user with no group/other access.
 * Both ends check the other's uid (SO_PEERCRED): the client talks only to a
 * holder of its own uid, the holder serves only its uid or root.  Every
 * exchange is bounded (GLUE_UFFD_HOLDER_TIMEOUT_MS): a holder that is stopped
 * or frozen counts as absent, and stop kills it.
 *
 * The socket name carries the target's start time, so a recycled pid never
 * reaches an old holder.  The token is chosen by the caller when the uffd is
 * created and is recorded in the layer, so a later run can tell "the holder
 * that armed my parent layer" from a new one.
 */

#define GLUE_UFFD_HOLDER_TIMEOUT_MS 2000

/*
 * The holder socket directory for this user (created when @create), its path
 * in @path.  Returns an O_DIRECTORY fd, or -1 with *err set (ENOENT when it
 * does not exist and !@create; EPERM when it exists but is not safe to use).
 */
int glue_uffd_holder_dir(bool create, char *path, size_t len, struct ck_err **err);

/*
 * Fork the holder for @target, handing it @uffd and @token.  Returns once the
 * holder is listening; the caller keeps its own copy of @uffd.  Fails with
 * EEXIST when a holder for @target is already running.
 */
int glue_uffd_holder_spawn(pid_t target, int uffd, uint64_t token, pid_t *holder_pid,
			   struct ck_err **err);

/*
 * Ask the holder of @target for its uffd.  *found is false (and 0 returned)
 * when no holder answers: it was never started, has exited, was killed, does
 * not answer in time, or is not of our uid (the last two with a warning).
 * On success *uffd is a new O_CLOEXEC descriptor owned by the caller.
 */
int glue_uffd_holder_fetch(pid_t target, int *uffd, uint64_t *token, bool *found,
			   struct ck_err **err);

/*
 * Make the holder of @target exit and wait (bounded) until it has: once this
 * returns, the holder's uffd reference is gone.  A holder that does not answer
 * is killed.  0 also when there is none; *stopped (may be NULL) says whether
 * there was one, *holder_pid (may be NULL) its pid.
 */
int glue_uffd_holder_stop(pid_t target, bool *stopped, pid_t *holder_pid, struct ck_err **err);

/*
 * Give the holder of @target a new token, before a run consumes the
 * written-page state (its scans re-protect what they report): from then on
 * only the layer that records @token may continue from it.  A run that fails
 * or is killed before its layer is committed leaves a token no layer has, so
 * the next run on the old parent takes a full layer instead of trusting a
 * written set that was already consumed.
 */
int glue_uffd_holder_retoken(pid_t target, uint64_t token, struct ck_err **err);

/* Whether a holder of our uid listens for @target (no request is sent). */
bool glue_uffd_holder_alive(pid_t target);
