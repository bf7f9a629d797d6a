// SPDX-License-Identifier: MIT
/*
 * Opening files that are read as data (images, tracker state), safely.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/file.h"

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
