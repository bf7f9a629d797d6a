// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/cleanup.h"
#include "common/linux-compat.h"
#include "common/xalloc.h"
#include "runtime-glue/track/uffd-track.h"

/* see uffd-track.h */
int glue_uffd_api(int uffd, struct ck_err **err)
{
	const uint64_t want = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;
	struct uffdio_api api = { .api = UFFD_API, .features = want };

	if (ioctl(uffd, UFFDIO_API, &api))
		return ck_err_set(err, errno, "UFFDIO_API (WP_ASYNC|WP_UNPOPULATED)");
	if ((api.features & want) != want)
		return ck_err_set(err, EOPNOTSUPP, "UFFDIO_API: no WP_ASYNC|WP_UNPOPULATED");
	return 0;
}

/* see uffd-track.h */
int glue_uffd_register(int uffd, uint64_t start, uint64_t end, struct ck_err **err)
{
	struct uffdio_register reg = {
		.range = { .start = start, .len = end - start },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};

	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		return ck_err_set(err, errno, "UFFDIO_REGISTER %#llx-%#llx",
				  (unsigned long long)start, (unsigned long long)end);
	return 0;
}

/*
 * Result slots for the written-set scans, kept between calls and grown when a
 * scan fills them, so that a registered range normally takes one ioctl.
 */
static struct page_region *scan_vec;
static size_t scan_vec_len;

#define SCAN_VEC_MIN 4096    /* 96 KiB */
#define SCAN_VEC_MAX 1048576 /* 24 MiB: bounds ckpt's memory */

/* see uffd-track.h */
int glue_uffd_scan_written(int pagemap_fd, uint64_t start, uint64_t end, struct glue_ranges *out,
			   bool *tracked, struct ck_err **err)
{
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};
	uint64_t pos = start;

	if (!scan_vec) {
		scan_vec_len = SCAN_VEC_MIN;
		scan_vec = xcalloc(scan_vec_len, sizeof(*scan_vec));
	}
	*tracked = true;
	while (pos < end) {
		long n;

		arg.start = pos;
		arg.end = end;
		arg.walk_end = 0;
		arg.vec = (uintptr_t)scan_vec;
		arg.vec_len = scan_vec_len;
		n = ioctl(pagemap_fd, PAGEMAP_SCAN, &arg);
		if (n < 0 && errno == EPERM) {
			*tracked = false;
			return 0;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ck_err_set(err, errno, "PAGEMAP_SCAN %#llx-%#llx",
					  (unsigned long long)pos, (unsigned long long)end);
		for (long i = 0; i < n; i++)
			glue_ranges_add(out, scan_vec[i].start, scan_vec[i].end);
		/* The kernel stops early when vec is full; walk_end says where. */
		if (arg.walk_end <= pos)
			return ck_err_set(err, EIO, "PAGEMAP_SCAN made no progress at %#llx",
					  (unsigned long long)pos);
		pos = arg.walk_end;
		if (pos < end && (size_t)n == scan_vec_len && scan_vec_len < SCAN_VEC_MAX) {
			/* Full: the rest of the range in one more call with more slots. */
			scan_vec_len *= 4;
			free(scan_vec);
			scan_vec = xcalloc(scan_vec_len, sizeof(*scan_vec));
		}
	}
	return 0;
}
