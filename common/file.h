/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"

/*
 * Open an existing image or state file for reading without ever blocking:
 * O_NONBLOCK keeps a FIFO (or a device) planted in a layer from stalling the
 * open (with the target frozen), and anything but a regular file is refused
 * with a message naming the file and what it is ("a FIFO").  @nofollow adds
 * O_NOFOLLOW: files inside a layer are never symlinks (only `parent` is).
 * The returned descriptor is blocking again.  Returns the fd, or -1 with
 * *err set (errnum ENOENT for a missing file).
 */
int ck_open_regular(int dirfd, const char *name, bool nofollow, struct ck_err **err);

/* "a FIFO", "a directory", "a socket", ... for the file type bits of @mode. */
const char *ck_file_kind(mode_t mode);

/*
 * Open @rel relative to the directory @basefd (named @base in messages) so
 * that it never leaves it: openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS),
 * so neither '..' nor a symbolic link (one swapped in meanwhile included) nor
 * a /proc magic link leads out; an absolute @rel is refused.  Without openat2
 * (Linux < 5.6, or a seccomp filter refusing it) every component is opened
 * with O_NOFOLLOW from the one before and '..' stops at the base: no symlink
 * is followed at all.  @flags as for openat (O_CLOEXEC is added), @mode with
 * O_CREAT.  The fd, or -1 with *err ("REL leads out of BASE ..." for an
 * escape, errnum EXDEV or ELOOP).
 */
int ck_open_beneath(int basefd, const char *base, const char *rel, int flags, mode_t mode,
		    struct ck_err **err);

/* Tests only: behave as if openat2 did not exist (ck_open_beneath's fallback). */
extern bool ck_file_no_openat2;

/* Whether @path (not followed) is the very directory open as @fd (device and inode). */
bool ck_same_dir(const char *path, int fd);

/* Unlink every entry of the flat directory open as @fd, wherever it was moved to. */
void ck_empty_dir_fd(int fd);

/*
 * @to as a path relative to the directory @from (CRIU resolves a layer's
 * parent link against its images dir, and an absolute one breaks once the
 * restore has changed its root).  @from may not exist yet (its parent must).
 * Falls back to a copy of @to when either cannot be resolved.  Caller frees.
 */
char *ck_path_relative(const char *from, const char *to);
