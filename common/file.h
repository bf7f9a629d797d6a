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
