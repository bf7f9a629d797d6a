// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "runtime-glue/proc/lock.h"
#include "runtime-glue/proc/proc.h"

#define MAX_LOCKS 16

static struct {
	pid_t pid;
	uint64_t start;
	int fd;
	unsigned refs;
} held[MAX_LOCKS];
static size_t nr_held;

static char *lock_dir(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0)
		return xstrdup("/run/ckpt/lock");
	if (xdg && *xdg == '/')
		return xasprintf("%s/ckpt/lock", xdg);
	return xasprintf("/tmp/ckpt-lock-%u", (unsigned)geteuid());
}

/* mkdir -p with 0700 for what it creates; an existing last part must be ours. */
static int make_dir(char *dir, struct ck_err **err)
{
	struct stat st;

	for (char *p = strchr(dir + 1, '/');; p = strchr(p + 1, '/')) {
		if (p)
			*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return ck_err_set(err, errno, "lock directory %s", dir);
		if (!p)
			break;
		*p = '/';
	}
	if (lstat(dir, &st) < 0)
		return ck_err_set(err, errno, "lock directory %s", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077))
		return ck_err_set(err, EPERM,
				  "lock directory %s is not a directory private to uid %u", dir,
				  (unsigned)geteuid());
	return 0;
}

/* see lock.h */
int glue_target_lock(pid_t pid, struct ck_err **err)
{
	_cleanup_free_ char *dir = lock_dir(), *path = NULL;
	_cleanup_close_ int fd = -1;
	char buf[32] = "";
	uint64_t start;
	ssize_t n;

	if (glue_proc_starttime(pid, &start, err) < 0) {
		/* gone or unreadable: no lock; the seize that follows says why */
		ck_err_free(err);
		return 0;
	}
	for (size_t i = 0; i < nr_held; i++)
		if (held[i].pid == pid && held[i].start == start) {
			held[i].refs++;
			return 0;
		}
	if (nr_held == MAX_LOCKS)
		return ck_err_set(err, EMFILE, "more than %d target locks", MAX_LOCKS);
	if (make_dir(dir, err) < 0)
		return -1;
	path = xasprintf("%s/%d-%" PRIu64, dir, (int)pid, start);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return ck_err_set(err, errno, "lock %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		if (e != EWOULDBLOCK)
			return ck_err_set(err, e, "lock %s", path);
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		return ck_err_set(
			err, EBUSY,
			"process %d is being checkpointed by ckpt pid %s (lock %s); try again when it is done",
			(int)pid, *buf ? buf : "?", path);
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		return ck_err_set(err, errno, "lock %s: write", path);
	held[nr_held].pid = pid;
	held[nr_held].start = start;
	held[nr_held].refs = 1;
	held[nr_held++].fd = fd;
	fd = -1; /* held until glue_target_unlock() */
	return 0;
}

/* see lock.h */
void glue_target_unlock(pid_t pid)
{
	for (size_t i = 0; pid > 0 && i < nr_held; i++) {
		if (held[i].pid != pid || --held[i].refs)
			continue;
		close(held[i].fd); /* drops the flock; the file stays (no unlink race) */
		held[i] = held[--nr_held];
		return;
	}
}
