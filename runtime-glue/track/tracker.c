// SPDX-License-Identifier: MIT
/*
 * Tracker registry: maps the tracker enum of features.h to an implementation.
 * A new tracker adds its ops here and sets `built` in features.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/file.h"
#include "common/log.h"
#include "common/xalloc.h"

#include "runtime-glue/track/tracker.h"

/* see tracker.h */
const struct glue_tracker_ops *glue_tracker_ops(enum glue_tracker id, struct ck_err **err)
{
	switch (id) {
	case GLUE_TRACKER_UFFD_WP:
		return &glue_tracker_uffd_ops;
	case GLUE_TRACKER_SOFT_DIRTY:
		return &glue_tracker_softdirty_ops;
	case GLUE_TRACKER_HASH:
		return &glue_tracker_hash_ops;
	case GLUE_TRACKER_NONE:
		return &glue_tracker_none_ops;
	case GLUE_TRACKER_NR:
		break;
	}
	ck_err_set(err, ENOTSUP, "tracker '%s' is not implemented in this build",
		   glue_tracker_name(id));
	return NULL;
}

static char *state_name(const char *prefix, uint64_t id)
{
	return xasprintf("%s-%" PRIu64 ".state", prefix, id);
}

/* see tracker.h */
bool glue_tracker_state_read(int dirfd, const char *prefix, uint64_t id, uint64_t *token,
			     uint64_t *starttime)
{
	_cleanup_free_ char *name = state_name(prefix, id);
	_cleanup_err_ struct ck_err *e = NULL;
	_cleanup_close_ int fd = -1;
	unsigned long long tok, st;
	char buf[256];
	ssize_t n;

	if (dirfd < 0)
		return false;
	fd = ck_open_regular(dirfd, name, true, &e);
	if (fd < 0) {
		if (e->errnum != ENOENT)
			pr_warn("%s in the parent layer: %s; no history", name, e->msg);
		return false;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	if (sscanf(buf, "token %llx starttime %llu", &tok, &st) != 2)
		return false;
	*token = tok;
	*starttime = st;
	return true;
}

/* see tracker.h */
int glue_tracker_state_write(int dirfd, const char *prefix, uint64_t id, uint64_t token,
			     uint64_t starttime, struct ck_err **err)
{
	_cleanup_free_ char *name = state_name(prefix, id);
	_cleanup_free_ char *text =
		xasprintf("token %016" PRIx64 " starttime %" PRIu64 "\n", token, starttime);
	_cleanup_close_ int fd =
		openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return ck_err_set(err, errno, "create %s", name);
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return ck_err_set(err, errno, "write %s", name);
	return 0;
}
