/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "runtime-glue/proc/pstree.h"

/*
 * Freezing the tree to dump.
 *
 * - A cgroup target (--cgroup PATH, or --cgroup auto = the cgroup of -t PID)
 *   is frozen with the cgroup freezer: v2 cgroup.freeze (waiting for
 *   "frozen 1" in cgroup.events) or v1 freezer.state (waiting for FROZEN,
 *   re-asking while it says FREEZING).  The task list is read after the
 *   freeze, so it cannot change under us.  A guardian process thaws the cgroup
 *   if ckpt dies meanwhile.  A cgroup that was already frozen stays frozen.
 * - A pid target (-t PID) is frozen by seizing every thread of every task
 *   with ptrace, through parasite_seize(), re-reading the tree until no new task
 *   appears.  If ckpt dies, the kernel detaches and the tasks run on.
 *   A pid target in a paused v1 cgroup (`runc pause`) is seized frozen, then
 *   thawed under the ptrace stops (a v1 frozen task takes no trap), and frozen
 *   again before it is released, as CRIU does; a guardian re-freezes it if
 *   ckpt dies meanwhile.  It never runs, and stays paused.
 */
struct glue_target {
	pid_t pid;          /* -t PID, or 0 */
	const char *cgroup; /* --cgroup PATH, "auto" (the cgroup of pid), or NULL */
};

struct glue_freezer;
struct parasite_ctl;

/*
 * List the tree of @tgt into @out without stopping it (checks made before the
 * freeze; the tree may change until then).  0 or -1.
 */
int glue_target_tree(const struct glue_target *tgt, struct glue_pstree *out, struct ck_err **err);

/*
 * Freeze the target and collect its tree into @tree (freed by the caller).
 * Returns 0 with *out set, or -1 with *err set and nothing left frozen.
 */
int glue_freeze(const struct glue_target *tgt, struct glue_freezer **out, struct glue_pstree *tree,
		struct ck_err **err);

/*
 * Let the tree run again, exactly as it was found (tasks stopped before stay
 * stopped; a cgroup frozen before stays frozen).  With @leave_stopped the
 * tasks are left stopped instead: the cgroup stays frozen, ptrace'd tasks get
 * SIGSTOP before detaching.  Returns 0 or -1; safe to call once.
 */
int glue_thaw(struct glue_freezer *fz, bool leave_stopped, struct ck_err **err);

/* Thaw if still frozen (errors only logged) and free.  Safe on NULL. */
void glue_freezer_free(struct glue_freezer *fz);

static inline void glue_freezer_freep(struct glue_freezer **fz)
{
	glue_freezer_free(*fz);
	*fz = NULL;
}

/* Whether @pid's cgroup is paused: its v1 freezer not THAWED, or its v2 cgroup.freeze 1. */
bool glue_pid_paused(pid_t pid);

/*
 * Whether @dir (a v1 freezer directory) is a paused cgroup that this process
 * has thawed under its ptrace stops right now: its freezer.state reads
 * THAWED, but the user left it FROZEN, and that is the value a dump records.
 */
bool glue_freezer_paused(const char *dir);

/*
 * The tree was killed (a final dump without --leave-running): a paused cgroup
 * is not frozen again on release (its dying tasks would keep it FREEZING).
 */
void glue_freezer_tree_killed(struct glue_freezer *fz);

/*
 * The parasite handle of process @pid when the tree was frozen by seizing it
 * (-t PID), NULL for a cgroup freeze or an unknown pid.  Still owned by @fz.
 */
struct parasite_ctl *glue_freezer_ctl(const struct glue_freezer *fz, pid_t pid);

/* Microseconds spent getting frozen, and frozen (until thaw, or until now). */
uint64_t glue_freezer_freezing_us(const struct glue_freezer *fz);
uint64_t glue_freezer_frozen_us(const struct glue_freezer *fz);
/* "cgroup v2 /sys/fs/cgroup/x" or "ptrace" */
const char *glue_freezer_describe(const struct glue_freezer *fz);

/* Monotonic microseconds. */
uint64_t glue_now_us(void);
