/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

#include "common/err.h"

/*
 * The cgroup-freezer probe of `ckpt check`: move a scratch child into a new
 * cgroup of the v1 freezer hierarchy or the v2 hierarchy, freeze it, wait for
 * FROZEN, thaw it.  Always thaws before returning.  The scratch cgroups are
 * removed by glue_cgroup_probe_cleanup() once the child is gone.
 */
int glue_cgroup_probe_freeze(int version, pid_t pid, struct ck_err **err);
void glue_cgroup_probe_cleanup(void);

/*
 * Mount point of the v1 freezer hierarchy (version 1) or of the cgroup2
 * hierarchy (version 2), from /proc/self/mountinfo; NULL with *err if none.
 */
char *glue_cgroup_mount(int version, struct ck_err **err);
