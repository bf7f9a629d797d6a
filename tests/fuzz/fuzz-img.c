// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the image reader (proto/img-read.c): the input is one
 * image file; it is probed, opened with the type its magics name and read entry
 * by entry to the end.  Every outcome must be a clean end or a ck_err; nothing
 * may crash, leak or read out of bounds.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/err.h"
#include "proto/img.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ck_err *err = NULL;
	struct img *img;
	void *msg;

	if (memfd < 0) {
		memfd = memfd_create("ckpt-fuzz-img", MFD_CLOEXEC);
		if (memfd < 0)
			return 0;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) || pwrite(memfd, data, size, 0) != (ssize_t)size)
		return 0;

	img = img_open_any(AT_FDCWD, path, &err);
	if (!img) {
		ck_err_free(&err);
		return 0;
	}
	for (;;) {
		size_t n;

		msg = NULL;
		if (img_read_entry(img, &msg, &err) < 0) {
			ck_err_free(&err);
			err = NULL;
			break;
		}
		if (!msg)
			break;
		(void)img_extra(img, &n);
		img_free_msg(msg);
	}
	img_release(img);
	return 0;
}
