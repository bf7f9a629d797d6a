// SPDX-License-Identifier: MIT
/*
 * The tmpfs contents of a container dump, in two steps so that only the
 * cheap one needs the tree frozen (docs/mounts.md, "tmpfs after the kill"):
 *
 *   frozen       glue_mnt_hold_tmpfs(): per tmpfs, open_tree(OPEN_TREE_CLONE)
 *                of the mount alone, in a CLONE_VM|CLONE_FILES child that
 *                joined the container's mount namespace: the clone's fd lands
 *                in ckpt's fd table and pins the tmpfs superblock
 *   after kill   glue_mnt_dump_tmpfs(): tar from the host on each clone
 *   (or frozen, when the tree lives on: a running container writes its tmpfs)
 *
 * After the kill nothing of the container runs, so the files are those the
 * frozen memory saw; the clone keeps them reachable when the namespaces die.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/xalloc.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/dump/dump-mnt.h"

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif

#define HOLD_STACK (64u << 10)

/* What the hold child is given and answers (shared memory: CLONE_VM). */
struct hold_args {
	const struct glue_mnt_set *s;
	int target_ns, rootfd;
	int *held;
	int err;
	const char *what;
	size_t bad;
};

/*
 * The child: it shares ckpt's memory and fd table but not its fs info, so it
 * may join the container's mount namespace and chroot there; ckpt's thread
 * waits (CLONE_VFORK).  Only syscalls, no allocation.
 */
static int hold_child(void *arg)
{
	struct hold_args *a = arg;

	if (setns(a->target_ns, CLONE_NEWNS)) {
		a->err = errno;
		a->what = "setns into the mount namespace";
		return 1;
	}
	if (fchdir(a->rootfd) || chroot(".")) {
		a->err = errno;
		a->what = "chroot to the container root";
		return 1;
	}
	for (size_t i = 0; i < a->s->nr; i++) {
		const struct glue_mnt *m = &a->s->m[i];
		struct stat st;
		int fd;

		if (!m->dump_tmpfs)
			continue;
		a->bad = i;
		fd = (int)syscall(SYS_open_tree, AT_FDCWD, m->mountpoint,
				  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
		if (fd < 0) {
			a->err = errno;
			a->what = "open_tree";
			return 1;
		}
		a->held[i] = fd;
		if (fstat(fd, &st)) {
			a->err = errno;
			a->what = "fstat the clone of";
			return 1;
		}
		if (((major(st.st_dev) << 20) | minor(st.st_dev)) != m->root_dev) {
			a->err = ESTALE;
			a->what = "not the dumped tmpfs (its mount changed):";
			return 1;
		}
	}
	return 0;
}

/* see dump-mnt.h */
int glue_mnt_hold_tmpfs(struct glue_mnt_set *s, pid_t pid, struct ck_err **err)
{
	_cleanup_free_ char *ns = xasprintf("/proc/%d/ns/mnt", pid);
	_cleanup_free_ char *root = xasprintf("/proc/%d/root", pid);
	_cleanup_free_ char *stack = NULL;
	_cleanup_close_ int target_ns = -1, rootfd = -1;
	struct hold_args a = { .s = s };
	bool any = false;
	int status;
	pid_t child;

	if (s->held)
		return 0;
	s->held = xcalloc(s->nr ? s->nr : 1, sizeof(*s->held));
	for (size_t i = 0; i < s->nr; i++) {
		s->held[i] = -1;
		any = any || s->m[i].dump_tmpfs;
	}
	if (!any)
		return 0;
	target_ns = open(ns, O_RDONLY | O_CLOEXEC);
	if (target_ns < 0)
		return ck_err_set(err, errno, "open %s", ns);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return ck_err_set(err, errno, "open %s", root);
	a.target_ns = target_ns;
	a.rootfd = rootfd;
	a.held = s->held;
	stack = xmalloc(HOLD_STACK);
	child = clone(hold_child, stack + HOLD_STACK,
		      CLONE_VM | CLONE_FILES | CLONE_VFORK | SIGCHLD, &a);
	if (child < 0)
		return ck_err_set(err, errno, "clone for the tmpfs mounts of pid %d", pid);
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return ck_err_set(err, errno, "wait for the tmpfs clone child");
	if (a.what)
		return ck_err_set(err, a.err, "%s %s", a.what, s->m[a.bad].mountpoint);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return ck_err_set(err, EIO, "the tmpfs clone child of pid %d failed", pid);
	return 0;
}

/* see dump-mnt.h */
uint64_t glue_mnt_tmpfs_bytes(const struct glue_mnt_set *s)
{
	uint64_t sum = 0;

	for (size_t i = 0; s->held && i < s->nr; i++) {
		struct statfs sf;

		if (s->held[i] >= 0 && !fstatfs(s->held[i], &sf))
			sum += (uint64_t)(sf.f_blocks - sf.f_bfree) * (uint64_t)sf.f_bsize;
	}
	return sum;
}

/* The options CRIU's tmpfs dump gives tar (its restore extracts with --extract --gzip). */
static char *const tar_argv[] = {
	"tar",
	"--create",
	"--gzip",
	"--no-unquote",
	"--no-wildcards",
	"--one-file-system",
	"--check-links",
	"--preserve-permissions",
	"--sparse",
	"--numeric-owner",
	"--directory",
	"/proc/self/fd/0",
	".",
	NULL,
};

/* The end of what the child wrote to @errfd (a memfd), for the error message. */
static char *child_msg(int errfd)
{
	char buf[512];
	off_t end = lseek(errfd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
	ssize_t n = pread(errfd, buf, sizeof(buf) - 1, from);

	if (n <= 0)
		return xstrdup("");
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return xstrdup(strrchr(buf, '\n') ? strrchr(buf, '\n') + 1 : buf);
}

static char *tar_name(const struct glue_mnt *m)
{
	return xasprintf("tmpfs-dev-%u.tar.gz.img", m->root_dev);
}

/* Start tar on clone #@i (stdin) into its image (stdout); messages to a memfd.  0 or -1. */
static int tar_start(struct glue_mnt_set *s, size_t i, int dirfd, bool background,
		     struct ck_err **err)
{
	const struct glue_mnt *m = &s->m[i];
	_cleanup_free_ char *name = tar_name(m);
	_cleanup_close_ int imgfd = -1;
	pid_t pid;

	imgfd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (imgfd < 0)
		return ck_err_set(err, errno, "create %s", name);
	s->tar_err[i] = (int)syscall(SYS_memfd_create, "ckpt-tar-err", MFD_CLOEXEC);
	if (s->tar_err[i] < 0)
		return ck_err_set(err, errno, "memfd_create");
	pid = fork();
	if (pid < 0)
		return ck_err_set(err, errno, "fork for tar of %s", m->mountpoint);
	if (pid == 0) {
		/* beside a frozen tree: ckpt's ptrace round trips go first */
		if (background && setpriority(PRIO_PROCESS, 0, 19) < 0)
			_exit(126);
		if (dup2(s->tar_err[i], STDERR_FILENO) < 0 || dup2(s->held[i], STDIN_FILENO) < 0 ||
		    dup2(imgfd, STDOUT_FILENO) < 0)
			_exit(126);
		execvp("tar", tar_argv);
		dprintf(STDERR_FILENO, "exec tar for %s: %s\n", m->mountpoint, strerror(errno));
		_exit(127);
	}
	s->tar_pid[i] = pid;
	return 0;
}

/* Wait for the tar of #@i; a failed one's image is removed.  0 or -1. */
static int tar_wait(struct glue_mnt_set *s, size_t i, int dirfd, struct ck_err **err)
{
	const struct glue_mnt *m = &s->m[i];
	_cleanup_free_ char *name = tar_name(m);
	_cleanup_free_ char *msg = NULL;
	int status;

	while (waitpid(s->tar_pid[i], &status, 0) < 0)
		if (errno != EINTR)
			return ck_err_set(err, errno, "wait for tar of %s", m->mountpoint);
	s->tar_pid[i] = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	msg = child_msg(s->tar_err[i]);
	unlinkat(dirfd, name, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return ck_err_set(err, ENOENT, "tar of tmpfs %s: tar or gzip not found (%s)",
				  m->mountpoint, msg);
	if (WIFEXITED(status))
		return ck_err_set(err, 0, "tar of tmpfs %s failed with status %d: %s",
				  m->mountpoint, WEXITSTATUS(status), msg);
	return ck_err_set(err, 0, "tar of tmpfs %s killed by signal %d: %s", m->mountpoint,
			  WTERMSIG(status), msg);
}

/* see dump-mnt.h */
int glue_mnt_tmpfs_start(struct glue_mnt_set *s, pid_t pid, int dirfd, bool background,
			 struct ck_err **err)
{
	if (glue_mnt_hold_tmpfs(s, pid, err) < 0)
		return ck_err_wrap(err, "tmpfs contents of pid %d", pid);
	if (s->tar_pid)
		return 0;
	s->tar_pid = xcalloc(s->nr ? s->nr : 1, sizeof(*s->tar_pid));
	s->tar_err = xcalloc(s->nr ? s->nr : 1, sizeof(*s->tar_err));
	for (size_t i = 0; i < s->nr; i++)
		s->tar_err[i] = -1;
	for (size_t i = 0; i < s->nr; i++) {
		if (s->held[i] < 0)
			continue;
		if (glue_fault("tmpfs-tar", err) < 0 || tar_start(s, i, dirfd, background, err) < 0)
			return ck_err_wrap(err, "tmpfs contents of pid %d", pid);
	}
	return 0;
}

/* see dump-mnt.h */
int glue_mnt_tmpfs_wait(struct glue_mnt_set *s, int dirfd, struct ck_err **err)
{
	int rc = 0;

	/* every tar is waited for; the first failure is the error */
	for (size_t i = 0; s->tar_pid && i < s->nr; i++) {
		_cleanup_err_ struct ck_err *e = NULL;

		if (s->tar_pid[i] > 0 && tar_wait(s, i, dirfd, rc ? &e : err) < 0)
			rc = -1;
	}
	return rc;
}

/* see dump-mnt.h */
int glue_mnt_dump_tmpfs(struct glue_mnt_set *s, pid_t pid, int dirfd, struct ck_err **err)
{
	if (glue_mnt_tmpfs_start(s, pid, dirfd, false, err) < 0) {
		glue_mnt_tmpfs_stop(s);
		return -1;
	}
	return glue_mnt_tmpfs_wait(s, dirfd, err);
}

/* see dump-mnt.h */
void glue_mnt_tmpfs_stop(struct glue_mnt_set *s)
{
	for (size_t i = 0; s->tar_pid && i < s->nr; i++) {
		if (s->tar_pid[i] > 0) {
			kill(s->tar_pid[i], SIGKILL);
			while (waitpid(s->tar_pid[i], NULL, 0) < 0 && errno == EINTR)
				;
			s->tar_pid[i] = 0;
		}
	}
	for (size_t i = 0; s->tar_err && i < s->nr; i++) {
		if (s->tar_err[i] >= 0)
			close(s->tar_err[i]);
		s->tar_err[i] = -1;
	}
	free(s->tar_pid);
	free(s->tar_err);
	s->tar_pid = NULL;
	s->tar_err = NULL;
}
