// SPDX-License-Identifier: MIT
/*
 * Opening files that are read as data (images, tracker state), safely, and
 * paths confined beneath a base directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/file.h"
#include "common/xalloc.h"

/* see file.h */
const char *ck_file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFLNK:
		return "a symbolic link";
	default:
		return "of an unknown file type";
	}
}

/* see file.h */
int ck_open_regular(int dirfd, const char *name, bool nofollow, struct ck_err **err)
{
	int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0);
	struct stat st;
	int fd, fl;

	fd = openat(dirfd, name, flags);
	if (fd < 0) {
		if (errno == ELOOP && nofollow)
			return ck_err_set(err, 0, "%s is a symbolic link, not an image file", name);
		return ck_err_set(err, errno, "open %s", name);
	}
	if (fstat(fd, &st) < 0) {
		ck_err_set(err, errno, "stat %s", name);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return ck_err_set(err, 0, "%s is %s, not a regular file", name,
				  ck_file_kind(st.st_mode));
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		ck_err_set(err, errno, "fcntl %s", name);
		close(fd);
		return -1;
	}
	return fd;
}

#ifndef RESOLVE_BENEATH
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_BENEATH       0x08
#endif

/* see file.h */
bool ck_file_no_openat2;

struct ck_open_how {
	uint64_t flags, mode, resolve;
};

/*
 * Without openat2 (Linux < 5.6): one component at a time, each opened with
 * O_NOFOLLOW from the one before; ".." may climb back only as far as the
 * base.  No symlink is followed at all (openat2 would follow one that stays
 * beneath), which is stricter, never looser.
 */
static int walk_beneath(int basefd, const char *rel, int flags, mode_t mode)
{
	char copy[PATH_MAX];
	int fds[64], depth = 0, fd, rc = -1, err = 0;
	char *save = NULL, *comp, *next;

	if (snprintf(copy, sizeof(copy), "%s", rel) >= (int)sizeof(copy)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fds[0] = fcntl(basefd, F_DUPFD_CLOEXEC, 3);
	if (fds[0] < 0)
		return -1;
	for (comp = strtok_r(copy, "/", &save); comp; comp = next) {
		next = strtok_r(NULL, "/", &save);
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			if (depth == 0) {
				err = EXDEV;
				goto out;
			}
			close(fds[depth--]);
			continue;
		}
		if (depth + 1 >= (int)(sizeof(fds) / sizeof(fds[0]))) {
			err = ELOOP;
			goto out;
		}
		fd = openat(fds[depth], comp,
			    next ? O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
				 : flags | O_NOFOLLOW | O_CLOEXEC,
			    mode);
		if (fd < 0) {
			struct stat st;

			err = errno;
			/* a directory component that is a symlink says ENOTDIR: it is ELOOP here */
			if (err == ENOTDIR &&
			    fstatat(fds[depth], comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				err = ELOOP;
			goto out;
		}
		fds[++depth] = fd;
		/* O_PATH | O_NOFOLLOW opens a symlink itself instead of failing */
		{
			struct stat st;

			if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)) {
				err = S_ISLNK(st.st_mode) ? ELOOP : errno;
				goto out;
			}
		}
	}
	if (depth == 0) {
		/* the base itself ("." or ""): reopen it with the flags asked for */
		char self[32];

		snprintf(self, sizeof(self), "/proc/self/fd/%d", fds[0]);
		rc = open(self, flags | O_CLOEXEC, mode);
		err = rc < 0 ? errno : 0;
		goto out;
	}
	rc = fds[depth--];
out:
	while (depth >= 0)
		close(fds[depth--]);
	if (rc < 0)
		errno = err;
	return rc;
}

/* see file.h */
int ck_open_beneath(int basefd, const char *base, const char *rel, int flags, mode_t mode,
		    struct ck_err **err)
{
	struct ck_open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	if (!rel || !*rel)
		return ck_err_set(err, EINVAL, "an empty path under %s", base);
	if (rel[0] == '/')
		return ck_err_set(err, EXDEV, "%s is absolute: it must stay beneath %s", rel, base);
	if (ck_file_no_openat2) {
		fd = -1;
		errno = ENOSYS;
	} else {
		fd = (int)syscall(SYS_openat2, basefd, rel, &how, sizeof(how));
	}
	if (fd < 0 && (errno == ENOSYS || errno == E2BIG || errno == EPERM))
		fd = walk_beneath(basefd, rel, flags, mode);
	if (fd >= 0)
		return fd;
	if (errno == EXDEV || errno == ELOOP)
		return ck_err_set(err, errno,
				  "%s leads out of %s (through '..' or a symbolic link)", rel,
				  base);
	return ck_err_set(err, errno, "%s (beneath %s)", rel, base);
}

/* see file.h */
bool ck_same_dir(const char *path, int fd)
{
	struct stat a, b;

	return lstat(path, &a) == 0 && fstat(fd, &b) == 0 && S_ISDIR(a.st_mode) &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* see file.h */
void ck_empty_dir_fd(int fd)
{
	int d2 = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	DIR *d = d2 < 0 ? NULL : fdopendir(d2);
	struct dirent *de;

	if (!d) {
		if (d2 >= 0)
			close(d2);
		return;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

/* realpath(@path), or realpath of its parent + its last component when @path does not exist. */
static bool resolve(const char *path, char out[PATH_MAX])
{
	_cleanup_free_ char *d = xstrdup(path);
	char *slash = strrchr(d, '/');
	char pa[PATH_MAX];

	if (realpath(path, out))
		return true;
	if (!slash || slash == d)
		return false;
	*slash = '\0';
	if (!realpath(d, pa) || strlen(pa) + strlen(slash + 1) + 2 > PATH_MAX)
		return false;
	strcpy(out, pa);
	strcat(out, "/");
	strcat(out, slash + 1);
	return true;
}

/* see file.h */
char *ck_path_relative(const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];
	size_t common = 0, i, ups = 0;
	char *out, *p;

	if (!resolve(from, a) || !realpath(to, b))
		return xstrdup(to);
	for (i = 0; a[i] && a[i] == b[i]; i++)
		if (a[i] == '/')
			common = i;
	if (!a[i] && (b[i] == '/' || !b[i]))
		common = i; /* @from is a prefix of @to */
	for (const char *q = a + common; *q; q++)
		ups += *q == '/';
	out = xmalloc(ups * 3 + strlen(b) + 2);
	p = out;
	for (size_t k = 0; k < ups; k++, p += 3)
		memcpy(p, "../", 3);
	strcpy(p, b[common] == '/' ? b + common + 1 : b + common);
	if (!*out)
		strcpy(out, ".");
	return out;
}
