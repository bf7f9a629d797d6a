/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Private to the final-dump files (dump-core.c, dump-files.c, dump-task.c,
 * dump-check.c): the file registry and the dump state they share.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/err.h"
#include "proto/img.h"
#include "runtime-glue/dump/dump-state.h"
#include "runtime-glue/proc/proc.h"

/* One FileEntry of files.img. */
struct glue_dfile {
	uint32_t id;
	uint32_t type; /* FD_TYPES__REG, FD_TYPES__PIPE or FD_TYPES__TTY */
	char *path;    /* REG: absolute path */
	uint32_t flags;
	uint64_t pos;
	uint32_t pipe_id; /* PIPE: the pipe's inode */
	/* An open file description: where it was first seen (for kcmp), else -1. */
	pid_t owner_pid;
	int owner_fd;
	uint64_t dev, ino;
	int mnt_id;    /* REG: the mount in the container's mountpoints image, -1 when unknown */
	uint32_t mode; /* REG: st_mode to write, 0 for none (a tty's path only) */
	uint32_t tty_info_id, regf_id; /* TTY: its tty-info.img entry, the REG entry of its path */
};

/* A pipe seen among the tree's fds. */
struct glue_dpipe {
	uint32_t ino;
	bool has_read, has_write;
	pid_t rpid; /* a task holding the read end, and its fd */
	int rfd;
	void *data; /* content at dump time (read while frozen), NULL when empty */
	size_t len;
	uint32_t size; /* F_GETPIPE_SZ */
};

struct glue_files {
	size_t nr;
	struct glue_dfile *f;
	size_t nr_pipes;
	struct glue_dpipe *pipes;
	struct glue_ttys *ttys; /* dump-tty.c */
	uint32_t next_id;
};

/* What mm-<pid>.img needs, kept from the frozen phase until glue_dump_finish(). */
struct glue_task_mm {
	bool done;
	uint64_t brk;
	int dumpable, thp_disabled;
	struct glue_vmas vmas; /* own copy */
	/* read while frozen: a tree resumed before the images are written may fork, exec, exit */
	uint64_t stat[GLUE_STAT_FIELDS];
	uint64_t auxv[GLUE_AUXV_WORDS];
	size_t n_auxv;
	char *exe;
};

/* Namespace types, in CRIU's root_ids order (id = type + 1 for ckpt's own). */
enum glue_ns_type {
	GLUE_NS_PID,
	GLUE_NS_NET,
	GLUE_NS_IPC,
	GLUE_NS_UTS,
	GLUE_NS_TIME,
	GLUE_NS_MNT,
	GLUE_NS_USER,
	GLUE_NS_CGROUP,
	GLUE_NS_NR
};

/* The namespaces of a dump (dump-ns.c). */
struct glue_dump_ns {
	bool container;              /* the root task has a namespace ckpt has not */
	uint64_t own[GLUE_NS_NR];    /* ckpt's inodes */
	uint64_t ctr[GLUE_NS_NR];    /* the root task's inodes */
	uint32_t ctr_id[GLUE_NS_NR]; /* the image id of a namespace ckpt has not, else 0 */
	int ctr_fd[GLUE_NS_NR];      /* held open so the values can be read after a kill */
	struct glue_ns_vals *vals;   /* UTS and IPC values, once read (dump-ns.c) */
};

/*
 * Where a final dump's time goes, in µs (docs/memory.md "The container dump's
 * frozen window"), logged once by glue_dump_finish().  In the freeze: collect
 * (namespaces, mount tree), remote (the parasite: values only the task can
 * tell), cores, ids_fs, fds, keep_mm, frozen_end (glue_dump_frozen_end).
 * After the kill (or, for a tree that lives on, partly in the freeze): the
 * rest.
 */
struct glue_dump_times {
	uint64_t collect, remote, cores, ids_fs, fds, keep_mm, frozen_end, hold;
	uint64_t mm, files, ns, mnt, tars, cg, rest;
};

struct glue_dump_state {
	const struct glue_pstree *tree;
	struct glue_task_mm *mm; /* one per task of the tree */
	struct glue_dump_opts opts;
	struct glue_files files;
	struct timespec monotonic, boottime; /* clocks at the start of the dump */
	bool seccomp_strict;                 /* some task is in seccomp strict mode */
	struct glue_seccomp *sc;             /* seccomp.img's filter table (dump-seccomp.c) */
	struct glue_dump_ns ns;
	uint32_t root_cg_set;     /* cgroup.img written: ckpt's own set (not in the image) */
	struct glue_cg *cg;       /* cgroup.img: the sets seen (dump-cg.c) */
	struct glue_mnt_set *mnt; /* the container's mount tree (dump-mnt.c), read while frozen */
	bool tars_done;           /* the tmpfs tars are written (in the freeze: tree lives on) */
	struct img_later *later;  /* per-task images made while frozen, files after (finish) */
	int later_dirfd;
	bool later_done;   /* glue_dump_finish() wrote them: images are files again */
	bool frozen_end;   /* glue_dump_frozen_end() ran */
	char *descriptors; /* descriptors.json, read while frozen */
	struct glue_dump_times t;
};

/* What was read before the freeze (glue_dump_pre_read()). */
struct glue_dump_pre {
	pid_t pid;                /* the root task it was read for */
	struct glue_cg_pre *cg;   /* --manage-cgroups: the cgroup files (dump-cg.c) */
	struct glue_mnt_set *mnt; /* the container's mount tree, or NULL */
};

/* The cgroup files of @pid's cgroups, read now (dump-cg.c).  Never NULL. */
struct glue_cg_pre *glue_cg_pre_read(pid_t pid);
void glue_cg_pre_free(struct glue_cg_pre *pre);

struct glue_mnt_opts;
/* The mount options of a container dump (--root, --ext-mnt); @ext holds nr_ext_mnt entries. */
void glue_ctr_mnt_opts(const struct glue_ctr_opts *c, pid_t root, struct glue_mnt_opts *o,
		       void *ext);

/* The cgroup set of @pid (read now; ckpt's own is 1), for thread_core.cg_set.  0 or -1. */
int glue_cg_task_set(struct glue_dump_state *st, pid_t pid, uint32_t *id, struct ck_err **err);
void glue_cg_free(struct glue_dump_state *st);

/* cgroup.img (dump-cg.c): sets of the tasks, controllers with dirs and properties.  0 or -1. */
int glue_cg_write(struct glue_dump_state *st, int dirfd, struct ck_err **err);

/* Kernel-object ids: the root_ids of inventory.img are all 1, tasks use 2 + index. */
#define GLUE_ROOT_KID 1u
uint32_t glue_task_kid(const struct glue_dump_state *st, const struct glue_task *task);

/*
 * The FileEntry id of @path opened with @flags (exe, mapped files, cwd, root):
 * the same path and flags share one entry.  Never fails.
 */
uint32_t glue_files_path_id(struct glue_files *fs, const char *path, uint32_t flags);

/* fdinfo-<files_id>.img of @task (every fd, registering its file).  0 or -1. */
int glue_files_dump_fds(struct glue_dump_state *st, int dirfd, const struct glue_task *task,
			uint32_t files_id, struct ck_err **err);

/* files.img and, when a pipe holds data, pipes-data.img.  0 or -1. */
int glue_files_write(struct glue_files *fs, int dirfd, struct ck_err **err);

void glue_files_free(struct glue_files *fs);

/* ---- namespaces (dump-ns.c) ---- */

#include "proto/core.pb-c.h"

const char *glue_ns_name(enum glue_ns_type t);
/* The inode of /proc/PID/ns/TYPE (@pid 0: ckpt's), 0 when the kernel has none. */
uint64_t glue_ns_ino(pid_t pid, enum glue_ns_type t);
/* Read ckpt's and the root task's namespaces and number them.  0 or -1. */
int glue_ns_collect(struct glue_dump_ns *ns, const struct glue_pstree *tree, struct ck_err **err);
void glue_ns_release(struct glue_dump_ns *ns);
/* The namespace ids of @pid (0: the inventory's root_ids); nothing for a plain tree.  0 or -1. */
int glue_ns_fill_ids(const struct glue_dump_ns *ns, pid_t pid, TaskKobjIdsEntry *ids,
		     struct ck_err **err);
/* Read the UTS and IPC values of the container's namespaces now (once).  0 or -1. */
int glue_ns_read_vals(struct glue_dump_ns *ns, struct ck_err **err);
/*
 * utsns-<id>.img and ipcns-var-<id>.img (the values read now unless read
 * before), and netns-<id>.img when @ctr names the netns external.  0 or -1.
 */
int glue_ns_write(struct glue_dump_ns *ns, const struct glue_ctr_opts *ctr, int dirfd,
		  struct ck_err **err);
/* -1 with @why set when @pid's ipc namespace holds what ckpt cannot dump (SysV objects). */
int glue_ns_check_ipc(pid_t pid, char *why, size_t why_len);
/*
 * @path as named inside @pid's mount namespace, reachable from ckpt:
 * "/proc/PID/root@path" when the task's mount namespace is not ckpt's, else @path.
 */
const char *glue_task_path(pid_t pid, const char *path, char *buf, size_t len);

/* ---- /proc helpers (dump-check.c) ---- */

/* Read a small /proc file into @buf (NUL-terminated, trailing newline kept).  0 or -1 (errno). */
int glue_read_small(const char *path, char *buf, size_t len);

/*
 * What an fd of @pid is, for the registry and the checker: GLUE_FD_REG (a file
 * CRIU reopens by path: regular file, directory, /dev/null and the other
 * memory devices), GLUE_FD_PIPE (*pipe_ino set), or GLUE_FD_UNSUPP with a
 * description in @why ("socket:[123] (TCP)", "anon_inode:[eventfd]", ...).
 */
enum glue_fd_kind {
	GLUE_FD_REG,
	GLUE_FD_PIPE,
	GLUE_FD_TTY, /* a Unix98 pty slave (dump-tty.c decides whether it is dumped) */
	GLUE_FD_UNSUPP,
};
enum glue_fd_kind glue_fd_classify(pid_t pid, int fd, char *path, size_t path_len,
				   uint32_t *pipe_ino, char *why, size_t why_len);

/* ---- terminals (dump-tty.c) ---- */

struct glue_ttys;
/* A Unix98 pty slave's device number (majors 136-143). */
bool glue_tty_is_pts(dev_t rdev);
/*
 * The checker's part for @pid's pty slave @fd named @path (@seen keeps the
 * ttys met so far): -1 with @why set when ckpt cannot dump it (no
 * --orphan-pts-master, not a container's devpts, not named /dev/pts/N, hung
 * up, a second tty).  Never changes the tty.
 */
int glue_tty_check(struct glue_files *seen, pid_t pid, int fd, const char *path,
		   const struct glue_dump_opts *opts, char *why, size_t why_len);
/*
 * Read the tty behind @pid's @fd (named @path) into @fs once per tty (modes,
 * termios, window size, session and group in @tree's namespace pids);
 * *info_id = its tty-info.img id.  Refuses as glue_tty_check() does (a tty
 * opened after the check).  0 or -1.
 */
int glue_tty_note(struct glue_files *fs, const struct glue_pstree *tree,
		  const struct glue_dump_opts *opts, pid_t pid, int fd, const char *path,
		  uint32_t *info_id, struct ck_err **err);
/* tty-info.img when a tty was dumped.  0 or -1. */
int glue_tty_write(const struct glue_files *fs, int dirfd, struct ck_err **err);
void glue_ttys_free(struct glue_ttys *ts);

/* "flags:" (octal, includes O_CLOEXEC) and "pos:" of /proc/PID/fdinfo/FD.  0 or -1. */
int glue_fdinfo_read(pid_t pid, int fd, uint32_t *flags, uint64_t *pos);

/* ---- values read inside the task (dump-core.c, leader context) ---- */

#include <sys/time.h>
#include <signal.h>

#include "parasite/parasite-abi.h"

struct glue_task_remote {
	struct itimerval itimer[3]; /* ITIMER_REAL, VIRTUAL, PROF */
	uint64_t brk;               /* current program break */
	stack_t sas;                /* the leader's sigaltstack (thr[]: the others') */
	int pdeath_sig, child_subreaper, secbits, dumpable, thp_disabled;
	struct parasite_sigactions_args sa; /* dispositions + leader's clear_child_tid */
	/* per seized thread index (thr[0] unused): what only each thread can tell */
	struct parasite_thread_state *thr;
	size_t nr_thr;
};

/*
 * Collect the values only the task itself can tell (the blob's
 * GET_TASK_STATE command, run in the leader through @ctl).  0 or -1.
 */
int glue_task_remote_read(struct parasite_ctl *ctl, struct glue_task_remote *out,
			  struct ck_err **err);
void glue_task_remote_free(struct glue_task_remote *r);

/*
 * An image of the final dump: while the tree is frozen it is kept in memory
 * and made a file by glue_dump_finish() (img_create_later()), else a file now.
 */
struct img *glue_dump_img_create(struct glue_dump_state *st, int dirfd, const char *name,
				 enum img_type type, struct ck_err **err);
/* glue_dump_write_single() through glue_dump_img_create(). */
int glue_dump_write_later(struct glue_dump_state *st, int dirfd, enum img_type type,
			  unsigned long id, const void *msg, struct ck_err **err);

/* core-<vtid>.img for every thread of @task.  0 or -1. */
int glue_dump_cores(struct glue_dump_state *st, int dirfd, const struct glue_task *task,
		    struct parasite_ctl *ctl, const struct glue_task_remote *rem,
		    struct ck_err **err);

/* ---- pending signals (dump-sig.c) ---- */

#include "proto/siginfo.pb-c.h"

/* One signal queue of a seized task, ready for the core image. */
struct glue_sigqueue {
	SignalQueueEntry entry; /* points into the arrays below */
	siginfo_t *si;
	size_t nr;
	SiginfoEntry *e, **ep;
};

/*
 * Read the private queue of seized thread @idx of @ctl, or with @shared the
 * process's shared queue, plus the leader's held-back signals that belong to
 * it.  @pending is the queue's mask from /proc (SigPnd / ShdPnd), read before:
 * a bit without a queued siginfo is refused.  0 or -1.
 */
int glue_sigqueue_read(struct parasite_ctl *ctl, size_t idx, bool shared, uint64_t pending,
		       struct glue_sigqueue *q, struct ck_err **err);
void glue_sigqueue_free(struct glue_sigqueue *q);

/* ---- seccomp (dump-seccomp.c) ---- */

/* What thread_core says of one thread's seccomp state. */
struct glue_seccomp_thread {
	int mode;        /* SECCOMP_MODE_DISABLED, _STRICT or _FILTER */
	bool has_filter; /* FILTER: @filter is its first filter's seccomp.img entry */
	uint32_t filter;
};

/*
 * Read the seccomp state of every thread of @task (seized in @ctl; @out has one
 * slot per seized thread, in @ctl's order) and add their filter chains to the
 * dump's table.  EACCES without CAP_SYS_ADMIN.  0 or -1.
 */
int glue_seccomp_collect(struct glue_dump_state *st, const struct glue_task *task,
			 struct parasite_ctl *ctl, struct glue_seccomp_thread *out,
			 struct ck_err **err);
/* seccomp.img: the table (empty for a container or a strict-mode task).  0 or -1. */
int glue_seccomp_write(struct glue_dump_state *st, int dirfd, struct ck_err **err);
void glue_seccomp_free(struct glue_dump_state *st);

/* One image file holding the single message @msg (TYPE-@id.img).  0 or -1. */
int glue_dump_write_single(int dirfd, enum img_type type, unsigned long id, const void *msg,
			   struct ck_err **err);
