/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "common/err.h"
#include "runtime-glue/proc/pstree.h"
#include "runtime-glue/mem/vma.h"
#include "runtime-glue/proc/freezer.h"

struct parasite_ctl;
struct glue_target;

/*
 * The restorable part of a final dump: everything `criu restore` needs besides
 * the memory layer (criu-image-format.md section 3).
 *
 *   ckpt dump (final)
 *     glue_dump_check(tree)                 /proc only, tree running: refuse what ckpt
 *                                           cannot dump, with the whole list, up front
 *     freeze / seize the tree
 *     memory layer (mm/pagemap/pages: the memory engine)
 *     st = glue_dump_state_new(tree)
 *     for each process of the tree:
 *       glue_dump_task_state(st, dirfd, task, ctl, vmas)
 *                                           core-TID (every thread), ids, fs,
 *                                           fdinfo-<files_id>; pipe contents
 *     glue_dump_frozen_end(st, dirfd)
 *                                           descriptors read, tmpfs clones held,
 *                                           cgroup.img; a tree that lives on:
 *                                           uts/ipc values and the tmpfs tars too;
 *                                           one that is killed: room checked
 *     kill the tree (default)      |  or release it (--leave-running/-stopped)
 *     the memory engine's buffered pages, inventory, pstree
 *     glue_dump_finish(st, dirfd)           mm-PID (with file ids), files.img,
 *                                           pipes-data.img, pstree.img, utsns,
 *                                           ipcns-var, mountpoints, tmpfs tars
 *                                           (after a kill), descriptors.json,
 *                                           inventory.img (root_ids, fdinfo_per_id),
 *                                           timens-0.img, seccomp.img
 *     commit the layer (a failure after the kill: no image, the tree is gone)
 *
 * The file ids in mm-PID.img (exe_file_id, each file VMA's shmid) point into
 * files.img, so glue_dump_finish() writes mm-PID.img itself, replacing the
 * memory engine's (it must therefore run after the engine wrote its images).
 */

/* One --ext-mnt KEY:VAL (runc's ext_mnt: a mount point inside, what it is outside). */
struct glue_ext_mnt {
	const char *key, *val;
};

/* What a container dump is given (the CLI options and the front-end's DUMP request). */
struct glue_ctr_opts {
	const char *root; /* --root: the container's root on the host */
	size_t nr_ext_mnt;
	struct glue_ext_mnt *ext_mnt;
	bool manage_cgroups;     /* write cgroup.img (sets, dirs, properties) */
	bool empty_net;          /* --empty-ns net: the netns is recreated empty */
	const char *ext_net_key; /* --external net[INO]:KEY: that netns is joined at restore */
	uint64_t ext_net_ino;
	bool orphan_pts_master;    /* a tty whose master is outside the container */
	bool descriptors;          /* write runc's descriptors.json (fds 0-2 of the root task) */
	const char *freeze_cgroup; /* the freezer cgroup to freeze the tree with */
};

/*
 * Take CRIU's `--external` @spec into @c: only `net[INODE]:KEY` (a network
 * namespace the container joined by path, which runc names so) is known; the
 * key points into @spec.  0, or -1 with a message naming @spec.
 */
int glue_ctr_external(struct glue_ctr_opts *c, const char *spec, struct ck_err **err);

struct glue_dump_pre;

struct glue_dump_opts {
	bool shell_job; /* session / process group leader may be outside the tree */
	struct glue_ctr_opts ctr;
	struct glue_dump_pre *pre; /* read before the freeze (glue_dump_pre_read), or NULL */
	bool lives_on;             /* the tree is released after the dump, not killed */
};

/*
 * Before the freeze, for a restorable dump of the tree whose root is @pid:
 * what the frozen part can take instead of reading it while frozen, each
 * piece re-validated there (glue_dump_state_new(), cgroup.img): the
 * container's mount tree (kept when its mountinfo reads the same once frozen) and, with ctr->manage_cgroups, the cgroup property files
 * (kept when the tree cannot have written them).  Never fails: what could not
 * be read is read in the freeze.  Freed by glue_dump_pre_free().
 */
struct glue_dump_pre *glue_dump_pre_read(pid_t pid, const struct glue_ctr_opts *ctr);
void glue_dump_pre_free(struct glue_dump_pre *pre);
static inline void glue_dump_pre_freep(struct glue_dump_pre **pre)
{
	glue_dump_pre_free(*pre);
}

/*
 * Check what the tree holds against what ckpt can dump: sockets, ttys (but a
 * container's pty slave with --orphan-pts-master, dump-tty.c), named
 * fifos, anon-inode fds (eventfd, epoll, signalfd, timerfd, inotify, io_uring,
 * userfaultfd, pidfd, ...), deleted or memfd files, pipes leading outside the
 * tree, namespaces other than ckpt's own, shared files/fs/vm tables between
 * processes, posix timers, zombies, tracers,
 * unsupported mappings (SysV shm, memfd, sockets, AIO rings, shadow stacks), a
 * session or process group led from outside the tree (without --shell-job).
 * Reads /proc only and never stops the tree.  Returns 0, or -1 with *err
 * holding one message that lists every problem ("cannot dump: ...").
 */
int glue_dump_check(const struct glue_pstree *tree, const struct glue_dump_opts *opts,
		    struct ck_err **err);

/*
 * glue_dump_check() for a dump target (-t PID or --cgroup PATH|auto), whose
 * tree is listed here without stopping it.
 */
int glue_dump_check_target(const struct glue_target *tgt, const struct glue_dump_opts *opts,
			   struct ck_err **err);

/*
 * The target a restorable dump of a container stops: a container named by its
 * cgroup (--cgroup, --freeze-cgroup) is stopped with ptrace from the cgroup's
 * root task (as CRIU, which seizes every task; ckpt's cgroup freezers leave
 * tasks the final dump cannot seize).  Any other target is returned as is.
 * 0 or -1.
 */
int glue_dump_container_target(const struct glue_target *in, struct glue_target *out,
			       struct ck_err **err);

/* One final dump's shared state: the file registry and the kernel-object ids. */
struct glue_dump_state;

struct glue_dump_state *glue_dump_state_new(const struct glue_pstree *tree,
					    const struct glue_dump_opts *opts, struct ck_err **err);
void glue_dump_state_free(struct glue_dump_state *st);

/*
 * Write the per-process images of @task into directory @dirfd: core-<vtid>.img
 * for every thread, ids-<vpid>.img, fs-<vpid>.img, fdinfo-<files_id>.img; and
 * keep what mm-<vpid>.img needs (@vmas as read while frozen; NULL = read them
 * here).  @ctl is
 * the task seized by parasite_seize() (registers, sigactions, remote syscalls
 * for timers, brk, sigaltstack, prctl values) and must stay seized; NULL (a
 * tree frozen by a cgroup v2 freezer) makes this function seize and release
 * the task itself.  Pipe contents are copied here too, so everything that
 * needs the tree frozen is done when this returns for every task.
 * Returns 0, or -1 with *err set.
 */
int glue_dump_task_state(struct glue_dump_state *st, int dirfd, const struct glue_task *task,
			 struct parasite_ctl *ctl, const struct glue_vmas *vmas,
			 struct ck_err **err);

/*
 * The end of what needs the tree frozen, once glue_dump_task_state() ran for
 * every task: fds 0-2 of the init (descriptors.json), a clone of every tmpfs
 * to tar (dump-tmpfs.c), cgroup.img.  A tree that lives on (opts.lives_on:
 * released after the dump instead of killed) gets its UTS/IPC values read
 * here, and its tmpfs tars (started with its first task) waited for, since
 * the released container may change them.  Else the images directory's room
 * for what is written after the kill is checked.  Returns 0 or -1 (the tree
 * is still frozen: the caller resumes it).
 */
int glue_dump_frozen_end(struct glue_dump_state *st, int dirfd, struct ck_err **err);

/*
 * Write the tree-wide images into @dirfd once every task is done and
 * glue_dump_frozen_end() ran (safe after the kill: nothing here reads the
 * tasks): mm-<vpid>.img
 * of every task, files.img, pipes-data.img (when a pipe held data),
 * pstree.img, inventory.img (final:
 * root_ids, fdinfo_per_id, dump_uptime), timens-0.img and seccomp.img (the
 * filters of every task, dump-seccomp.c).  Returns 0 or -1.
 */
int glue_dump_finish(struct glue_dump_state *st, int dirfd, struct ck_err **err);

/*
 * What to do with the tree after a successful final dump (CRIU's default is
 * to kill it; runc relies on that).
 */
enum glue_dump_after {
	GLUE_DUMP_KILL, /* SIGKILL every process while still stopped */
	GLUE_DUMP_LEAVE_RUNNING,
	GLUE_DUMP_LEAVE_STOPPED, /* SIGSTOP every process before release */
};

/*
 * Apply @after to the tree: for GLUE_DUMP_KILL sends SIGKILL to every process
 * (callable while the tree is still seized or frozen: the tasks die as soon as
 * they are released and never run again); for GLUE_DUMP_LEAVE_STOPPED sends
 * SIGSTOP (pending until release, so the tasks stop in group-stop).  Nothing
 * for GLUE_DUMP_LEAVE_RUNNING.  Returns 0, or -1 when a signal could not be
 * sent to a live process.
 */
int glue_dump_after(const struct glue_pstree *tree, enum glue_dump_after after,
		    struct ck_err **err);

/*
 * After GLUE_DUMP_KILL and the release: wait (at most @timeout_ms in all)
 * until every process of @tree has exited, as CRIU does before it answers, so
 * that a runtime removing the container's cgroups right after finds them
 * empty.
 */
void glue_dump_wait_gone(const struct glue_pstree *tree, int timeout_ms);

/* ---- pieces, exposed for tests and the orchestrator ---- */

/*
 * Apply the interrupted-syscall fix-up to registers saved while a task sat in
 * a syscall (criu-image-format.md 2.3): -ERESTARTSYS/-NOINTR/-NOHAND re-run
 * the syscall (ax = orig_ax, ip -= 2), -ERESTART_RESTARTBLOCK becomes -EINTR.
 */
void glue_regs_fixup_syscall(struct user_regs_struct *regs);

/*
 * The saved state of one seized thread.  Until parasite.h exposes it, this is
 * filled from the injector's private state (dump-regs.c).
 */
struct glue_thread_regs {
	struct user_regs_struct regs; /* as saved at seize time, before any fix-up */
	uint64_t sigmask;
	const void *xsave; /* NT_X86_XSTATE buffer (standard format), may be NULL */
	size_t xsave_len;
};

/* Saved state of thread @idx (0 = leader) of a seized process.  0 or -1. */
int glue_thread_regs_get(struct parasite_ctl *ctl, size_t idx, struct glue_thread_regs *out,
			 struct ck_err **err);
