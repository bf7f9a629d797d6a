/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The mount tree of a container's final dump: mountpoints-<mnt_ns>.img and
 * the tmpfs-dev-<dev>.tar.gz.img contents, as CRIU 4.2 writes and restores
 * them (docs/mounts.md).
 *
 *   glue_mnt_collect()    /proc/PID/mountinfo of the container init -> a set
 *                         of classified mounts plus the list of refusals
 *   glue_mnt_check()      all refusals as one error (nothing is written)
 *   glue_mnt_write()      mountpoints-<id>.img
 *   glue_mnt_hold_tmpfs() a detached clone of each tmpfs to tar (while frozen)
 *   glue_mnt_dump_tmpfs() one tar.gz per tmpfs superblock that is not external
 *   glue_mnt_id_of()      mnt_id for files.img
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

/* One ext_mnt pair as runc sends it on DUMP: key = mount point, val = ext_key. */
struct glue_mnt_ext {
	const char *key;
	const char *val;
};

struct glue_mnt_opts {
	const char *root; /* --root / the RPC's root (the bundle's rootfs); may be NULL */
	const struct glue_mnt_ext *ext;
	size_t nr_ext;
	/* the init has its own cgroup namespace: cgroup mounts are written with root "/" */
	bool cgroup_ns;
	/* st_dev of ckpt's own /dev/pts (0: stat it), to tell a new devpts instance */
	uint64_t host_devpts_dev;
};

struct glue_mnt {
	int mnt_id;
	int parent_mnt_id;
	uint32_t root_dev; /* kernel form: major << 20 | minor */
	uint32_t fstype;   /* FSTYPE__* of proto/mnt.proto */
	char *fsname;      /* type as in mountinfo, e.g. "tmpfs", "fuse.sshfs" */
	char *root;        /* mountinfo root, " (deleted)" stripped */
	char *mountpoint;  /* relative to the container's root: "/", "/proc", ... */
	char *source;
	char *options;     /* superblock options without the sb flags */
	uint32_t flags;    /* MS_* of the mount (+ propagation) */
	uint32_t sb_flags; /* MS_* of the superblock */
	uint32_t shared_id;
	uint32_t master_id;
	bool deleted;
	bool is_root;    /* the container's "/" */
	bool dump_tmpfs; /* its content goes into a tmpfs-dev tar */
	char *ext_key;   /* external: the ext_mnt val; NULL otherwise */
};

struct glue_mnt_refusal {
	char *mountpoint;
	char *reason;
	bool content; /* about the mount's entries, not its place in the tree */
};

struct glue_mnt_set {
	struct glue_mnt *m; /* in /proc/PID/mountinfo order */
	size_t nr;
	struct glue_mnt_refusal *refused;
	size_t nr_refused;
	char *root_path; /* opts->root, if given */
	int *held;       /* per mount: its detached clone (glue_mnt_hold_tmpfs), or -1; NULL */
	pid_t *tar_pid;  /* per mount: its running tar (glue_mnt_tmpfs_start), or 0; NULL */
	int *tar_err;    /* per mount: the memfd of its tar's messages, or -1; NULL */
	char *text;      /* the mountinfo it was parsed from */
};

/*
 * Parse mountinfo text (the content of /proc/PID/mountinfo, as seen by the
 * reader for PID) into a new set.  Malformed lines are an error (-1, *err
 * names the line); mounts ckpt cannot write are not: they land in
 * set->refused, each with its mount point and reason.  @pid is used only to
 * look at mount roots (sockets) through /proc/PID/root; 0 skips that.
 */
int glue_mnt_parse(const char *text, pid_t pid, const struct glue_mnt_opts *o,
		   struct glue_mnt_set **out, struct ck_err **err);

/* glue_mnt_parse() of /proc/PID/mountinfo read from ckpt's own mount namespace. */
int glue_mnt_collect(pid_t pid, const struct glue_mnt_opts *o, struct glue_mnt_set **out,
		     struct ck_err **err);

/*
 * Re-validate a set read before the tree was frozen, now that it is: when
 * /proc/PID/mountinfo reads the same as what *@s was parsed from (mount ids,
 * parents, devices, roots, options, propagation: everything the set holds),
 * *@s stays and only what changes without a mountinfo change is looked at
 * again (mqueue and pstore entries); *@same = true.  Else *@s is replaced by
 * a full parse of the new text.  0 or -1.
 */
int glue_mnt_recheck(struct glue_mnt_set **s, pid_t pid, const struct glue_mnt_opts *o, bool *same,
		     struct ck_err **err);

/* 0 when nothing was refused; else -1 with one error listing every refusal. */
int glue_mnt_check(const struct glue_mnt_set *s, struct ck_err **err);

/*
 * Write mountpoints-<mnt_ns_id>.img into dirfd, entries in the order CRIU
 * writes them (the reverse of mountinfo's).  Refuses a set with refusals.
 */
int glue_mnt_write(const struct glue_mnt_set *s, int dirfd, uint32_t mnt_ns_id,
		   struct ck_err **err);

/*
 * For each mount with dump_tmpfs: take a detached clone of just that mount
 * (open_tree(OPEN_TREE_CLONE) in a CLONE_VM child that joins @pid's mount
 * namespace at its init's root; no mounts on top), kept open in s->held.
 * The clone pins the tmpfs: its files can be read after the container is
 * killed and its namespaces are gone.  Cheap (no fork of ckpt's memory, no
 * file read): done while the tree is frozen.  0 or -1.
 */
int glue_mnt_hold_tmpfs(struct glue_mnt_set *s, pid_t pid, struct ck_err **err);

/* The bytes the held tmpfs clones use (statfs), for the space check before a kill. */
uint64_t glue_mnt_tmpfs_bytes(const struct glue_mnt_set *s);

/*
 * tar (CRIU's options, gzip) of every held tmpfs clone (glue_mnt_hold_tmpfs()
 * first when nothing is held yet) into tmpfs-dev-<root_dev>.tar.gz.img in
 * dirfd; tar runs from the host on the clone, all of them at once.  Fault
 * point "tmpfs-tar" before each tar.  0 or -1 (a failed tar's file removed).
 * glue_mnt_tmpfs_start() only starts them (0 or -1; @background: at nice 19,
 * beside a frozen tree whose dump goes first), glue_mnt_tmpfs_wait()
 * waits for every one (0 or -1: the first failure), glue_mnt_tmpfs_stop()
 * kills what still runs (also done by glue_mnt_set_free()).
 */
int glue_mnt_dump_tmpfs(struct glue_mnt_set *s, pid_t pid, int dirfd, struct ck_err **err);
int glue_mnt_tmpfs_start(struct glue_mnt_set *s, pid_t pid, int dirfd, bool background,
			 struct ck_err **err);
int glue_mnt_tmpfs_wait(struct glue_mnt_set *s, int dirfd, struct ck_err **err);
void glue_mnt_tmpfs_stop(struct glue_mnt_set *s);

/* The image mnt_id of kernel mount @kernel_mnt_id, or -1 when it is not in the set. */
int glue_mnt_id_of(const struct glue_mnt_set *s, int kernel_mnt_id);

/* The mount with this image id (NULL when none). */
const struct glue_mnt *glue_mnt_find(const struct glue_mnt_set *s, int mnt_id);

void glue_mnt_set_free(struct glue_mnt_set *s);

static inline void glue_mnt_set_freep(struct glue_mnt_set **s)
{
	glue_mnt_set_free(*s);
	*s = NULL;
}
