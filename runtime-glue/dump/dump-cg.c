// SPDX-License-Identifier: MIT
/* cgroup.img of a container dump. */
#include <errno.h>

#include "common/err.h"
#include "runtime-glue/dump/dump-priv.h"

/* see dump-priv.h */
int glue_cg_write(struct glue_dump_state *st, int dirfd, struct ck_err **err)
{
	(void)st;
	(void)dirfd;
	return ck_err_set(err, ENOSYS, "cgroup.img: not written yet");
}
