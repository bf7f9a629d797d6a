/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"

/*
 * The guardian: a small child process that thaws a cgroup if ckpt dies while
 * the cgroup is frozen by it (SIGKILL, crash, OOM kill).
 *
 *   ckpt                               guardian (forked before the freeze)
 *   ----                               --------
 *   "F <v1|v2> <dir>\n" ──pipe──►      armed: remembers the cgroup
 *   write FROZEN / 1 ...
 *   ... dump ...
 *   write THAWED / 0
 *   "T\n"              ──pipe──►      disarmed
 *   "X\n", close       ──pipe──►      exits
 *               ckpt dies: EOF ──►    armed?  thaw the cgroup, say so on stderr, exit
 *
 * The pipe's write end exists only in ckpt (O_CLOEXEC), so the guardian sees
 * EOF exactly when ckpt is gone.  It ignores SIGINT/SIGTERM/SIGHUP/SIGPIPE so
 * that a signal sent to the whole process group does not take it down first.
 *
 * A paused cgroup (frozen before ckpt came) is never thawed by it.  When ckpt
 * thaws one itself under its ptrace stops (v1 tasks take no trap while
 * frozen), it arms the guardian the other way round first:
 *
 *   "R <v1|v2> <dir>\n" ──pipe──►     armed to re-freeze
 *   write THAWED (tasks stay in their ptrace stops) ... dump ...
 *   write FROZEN, detach
 *   "T\n"                             disarmed
 *               ckpt dies: EOF ──►    armed?  freeze the cgroup again, exit
 *
 * The kernel closes ckpt's files before it detaches its tracees, so the
 * re-freeze usually lands while they are still stopped; at worst they run for
 * the moment between the detach and the write.  Either way the cgroup ends
 * FROZEN and untraced, as the user left it.
 *
 * Trees frozen with ptrace need no guardian otherwise: the kernel detaches every tracee
 * when the tracer exits, and a tracee stopped by PTRACE_INTERRUPT resumes
 * (tests/bats/predump.bats checks it).
 */
struct glue_guardian;

/* Fork the guardian.  NULL with *err on failure. */
struct glue_guardian *glue_guardian_start(struct ck_err **err);
/* Tell it the cgroup about to be frozen (call before freezing). */
int glue_guardian_arm(struct glue_guardian *g, const char *cgroup_dir, bool v2,
		      struct ck_err **err);
/* Tell it the paused cgroup about to be thawed under ptrace stops: re-freeze it if ckpt dies. */
int glue_guardian_arm_refreeze(struct glue_guardian *g, const char *cgroup_dir, bool v2,
			       struct ck_err **err);
/* The cgroup is thawed (or deliberately left frozen): nothing to undo any more. */
int glue_guardian_disarm(struct glue_guardian *g, struct ck_err **err);
/* Make it exit and reap it; safe on NULL. */
void glue_guardian_stop(struct glue_guardian *g);
static inline void glue_guardian_stopp(struct glue_guardian **g)
{
	glue_guardian_stop(*g);
	*g = NULL;
}

/*
 * A guardian armed for @dir for as long as the caller holds it: one who
 * leaves a cgroup frozen across calls and thaws it itself later (the agent's
 * final layer) uses it so that its death in between still thaws it.  Not
 * armed when @dir is frozen already (someone else's freeze stays).  Stop it
 * (glue_guardian_stop) after the thaw.  NULL with *err on failure.
 */
struct glue_guardian *glue_guardian_hold(const char *dir, bool v2, struct ck_err **err);

/* Its pid (tests, logs). */
pid_t glue_guardian_pid(const struct glue_guardian *g);

/* Write @v2 ? "0" to cgroup.freeze : "THAWED" to freezer.state of @dir.  0 or -1 (errno). */
int glue_cgroup_write_thaw(const char *dir, bool v2);
/* The same with "1" / "FROZEN". */
int glue_cgroup_write_freeze(const char *dir, bool v2);
