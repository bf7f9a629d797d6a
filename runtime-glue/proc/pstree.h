/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

/*
 * The process tree being checkpointed: tasks (thread-group leaders) with their
 * threads, parents before children, each with host pids (for /proc and
 * syscalls) and the pids seen in the task's own pid namespace (for images).
 */
struct glue_task {
	pid_t pid, ppid, pgid, sid;     /* host view; ppid 0 when the parent is outside the tree */
	pid_t vpid, vppid, vpgid, vsid; /* innermost pid namespace view */
	size_t nr_threads;
	pid_t *threads;      /* host tids, the leader first */
	pid_t *vthreads;     /* namespace tids */
	uint64_t start_time; /* /proc/PID/stat field 22: tells a reused pid apart */
	bool dead;           /* a zombie (exited, not yet reaped): no memory, no threads to seize */
	bool kthread;        /* a kernel thread (PF_KTHREAD): nothing ckpt can dump */
};

struct glue_pstree {
	size_t nr;
	struct glue_task *t; /* t[0] is the root */
};

/*
 * Collect @root, its threads and all its descendants (through
 * /proc/PID/task/TID/children).  Returns 0 or -1.
 */
int glue_pstree_from_pid(pid_t root, struct glue_pstree *out, struct ck_err **err);

/*
 * Collect every task of the cgroup directory @dir and of its descendant
 * cgroups (cgroup.procs, v1 or v2).  The root is the task whose parent is
 * outside the set; exactly one is required.  Returns 0 or -1.
 */
int glue_pstree_from_cgroup(const char *dir, struct glue_pstree *out, struct ck_err **err);

void glue_pstree_free(struct glue_pstree *tree);

/* The task with host pid @pid, or NULL. */
struct glue_task *glue_pstree_find(const struct glue_pstree *tree, pid_t pid);

/*
 * Read @t's state again (a frozen tree: only a task that exited before it
 * could be stopped changes: a fatal signal ends a task under ptrace too) and
 * set t->dead for a zombie, a vanished task, or one past the release of its
 * memory in its exit.
 * Returns t->dead.
 */
bool glue_task_refresh_dead(struct glue_task *t);

/* Total number of threads in the tree. */
size_t glue_pstree_nr_threads(const struct glue_pstree *tree);

/* A cgroup that can be frozen. */
struct glue_cgroup {
	char *dir; /* absolute directory in the mounted hierarchy */
	bool v2;   /* cgroup.freeze (v2) or freezer.state (v1) */
};

/*
 * Resolve a --cgroup argument: an absolute directory of a mounted v2 or v1
 * freezer hierarchy, or a path relative to one of them ("/machine/x" is looked
 * up in the v2 mount first, then in the v1 freezer mount).  Returns 0 or -1.
 */
int glue_cgroup_resolve(const char *arg, struct glue_cgroup *out, struct ck_err **err);

/*
 * The freezable cgroup of @pid: its v2 cgroup when that is not the root and
 * has cgroup.freeze, else its v1 freezer cgroup when not the root.
 * Returns 0, or -1 with *err set when the task is in no freezable cgroup.
 */
int glue_cgroup_of_pid(pid_t pid, struct glue_cgroup *out, struct ck_err **err);

void glue_cgroup_free(struct glue_cgroup *cg);

/* Read the "key:\tvalue" line @key of /proc/@pid/status into @buf.  0 or -1 (no err). */
int glue_proc_status_field(pid_t pid, const char *key, char *buf, size_t len);
