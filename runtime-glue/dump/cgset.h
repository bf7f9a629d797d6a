/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * /proc/PID/cgroup as a set of (hierarchy, path) pairs, and the roots of a
 * cgroup namespace (cgset.c), for cgroup.img (dump-cg.c).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

#define CG_MAX_CTLS 16

struct cg_set {
	uint32_t id;
	size_t nr;
	char *name[CG_MAX_CTLS]; /* "cpu,cpuacct", "name=systemd", "" */
	char *path[CG_MAX_CTLS];
};

/* The cgroups of @pid (0: ckpt itself), as the host sees them, sorted by name.  0 or -1. */
int glue_cgset_read(pid_t pid, struct cg_set *s, struct ck_err **err);
bool glue_cgset_same(const struct cg_set *a, const struct cg_set *b);
void glue_cgset_free(struct cg_set *s);

/* Whether @pid is in a cgroup namespace other than ckpt's. */
bool glue_cgns_own(pid_t pid);

/*
 * The root of @pid's cgroup namespace in each of its hierarchies, as host
 * paths by name in @roots: the host's view of its cgroup minus its own view
 * from inside (read by a child of ckpt that joined the namespace).  Fails
 * when @pid is not below that root.  0 or -1.
 */
int glue_cgns_roots(pid_t pid, struct cg_set *roots, struct ck_err **err);
