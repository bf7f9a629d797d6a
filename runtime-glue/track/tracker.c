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
	return glue_tracker_state_write_ranges(dirfd, prefix, id, token, starttime, NULL, err);
}

/* see tracker.h */
int glue_tracker_state_write_ranges(int dirfd, const char *prefix, uint64_t id, uint64_t token,
				    uint64_t starttime, const struct glue_ranges *rs,
				    struct ck_err **err)
{
	_cleanup_free_ char *name = state_name(prefix, id);
	_cleanup_fclose_ FILE *f = NULL;
	int fd;

	if (rs && rs->nr > GLUE_TRACKER_STATE_RANGES_MAX)
		return ck_err_set(err, E2BIG, "%s: %zu ranges (at most %d)", name, rs->nr,
				  GLUE_TRACKER_STATE_RANGES_MAX);
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return ck_err_set(err, errno, "create %s", name);
	f = fdopen(fd, "we");
	if (!f) {
		close(fd);
		return ck_err_set(err, errno, "fdopen %s", name);
	}
	fprintf(f, "token %016" PRIx64 " starttime %" PRIu64 "\n", token, starttime);
	if (rs) {
		fprintf(f, "ranges %zu\n", rs->nr);
		for (size_t i = 0; i < rs->nr; i++)
			fprintf(f, "%" PRIx64 "-%" PRIx64 "\n", rs->r[i].start, rs->r[i].end);
	}
	if (fflush(f) || ferror(f))
		return ck_err_set(err, errno ? errno : EIO, "write %s", name);
	return 0;
}

/* see tracker.h */
int glue_tracker_state_read_ranges(int dirfd, const char *prefix, uint64_t id,
				   struct glue_ranges *out)
{
	_cleanup_free_ char *name = state_name(prefix, id);
	_cleanup_err_ struct ck_err *e = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	unsigned long long s, t, prev = 0;
	size_t n;
	int fd;

	memset(out, 0, sizeof(*out));
	if (dirfd < 0)
		return 0;
	fd = ck_open_regular(dirfd, name, true, &e);
	if (fd < 0)
		return 0;
	f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return 0;
	}
	if (fscanf(f, "token %llx starttime %llu ", &s, &t) != 2 ||
	    fscanf(f, "ranges %zu", &n) != 1)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (n > GLUE_TRACKER_STATE_RANGES_MAX || fscanf(f, " %llx-%llx", &s, &t) != 2 ||
		    s >= t || s < prev || (s | t) % GLUE_PAGE_SIZE) {
			pr_warn("%s in the parent layer: malformed range list (entry %zu of %zu)",
				name, i + 1, n);
			glue_ranges_free(out);
			return -1;
		}
		glue_ranges_add(out, s, t);
		prev = t;
	}
	return 1;
}
