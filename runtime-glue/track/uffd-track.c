// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

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

/*
 * PAGEMAP_SCAN of [start, end) with @arg's flags and masks, every reported
 * range appended to @out; *tracked false (0 returned) on EPERM.
 */
static int scan(int pagemap_fd, struct pm_scan_arg arg, uint64_t start, uint64_t end,
		struct glue_ranges *out, bool *tracked, struct ck_err **err)
{
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

	return scan(pagemap_fd, arg, start, end, out, tracked, err);
}

/* see uffd-track.h */
int glue_uffd_scan_span(int pagemap_fd, uint64_t start, uint64_t end, struct glue_ranges *written,
			struct glue_ranges *unregistered, struct ck_err **err)
{
	/* VMAs without async write-protection: a VMA-wide category, so whole VMAs */
	struct pm_scan_arg unreg = {
		.size = sizeof(unreg),
		.category_inverted = PAGE_IS_WPALLOWED,
		.category_mask = PAGE_IS_WPALLOWED,
		.return_mask = PAGE_IS_WPALLOWED,
	};
	/* no CHECK_WPASYNC: the kernel skips the VMAs above instead of failing part-way */
	struct pm_scan_arg wr = {
		.size = sizeof(wr),
		.flags = PM_SCAN_WP_MATCHING,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};
	bool tracked;

	if (scan(pagemap_fd, unreg, start, end, unregistered, &tracked, err) < 0)
		return -1;
	return scan(pagemap_fd, wr, start, end, written, &tracked, err);
}

#define PROBE_PMD (2ULL << 20)

/* Pages of [start, end) reported written (no re-protect); -1 on error. */
static long count_written(int pm, uint64_t start, uint64_t end, struct glue_ranges *out)
{
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.start = start,
		.end = end,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};
	struct page_region v[16];
	long n;

	arg.vec = (uintptr_t)v;
	arg.vec_len = 16;
	n = ioctl(pm, PAGEMAP_SCAN, &arg);

	if (n < 0 || arg.walk_end != end)
		return -1;
	for (long i = 0; i < n; i++)
		glue_ranges_add(out, v[i].start, v[i].end);
	return n;
}

/*
 * Three 2 MiB blocks: A populated, one page zapped (an empty PTE); B populated
 * with a THP where the kernel gives one, then zapped whole (no PMD entry, or
 * an emptied page table); C never touched (markers after the arm).  After the
 * arm scan exactly A's zapped page and all of B must be reported written.
 */
static bool probe_removed(void)
{
	_cleanup_close_ int uffd = -1, pm = -1;
	_cleanup_err_ struct ck_err *e = NULL;
	struct glue_ranges got = { 0 }, arm = { 0 };
	size_t len = 4 * PROBE_PMD;
	uint8_t *map, *a;
	uint64_t A, B, C;
	bool tracked, ok = false;

	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return false;
	a = (uint8_t *)(((uintptr_t)map + PROBE_PMD - 1) & ~(uintptr_t)(PROBE_PMD - 1));
	A = (uintptr_t)a;
	B = A + PROBE_PMD;
	C = B + PROBE_PMD;

	madvise(a + PROBE_PMD, PROBE_PMD, MADV_HUGEPAGE);
	memset(a, 1, 2 * PROBE_PMD);
	uffd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (uffd < 0 || pm < 0 || glue_uffd_api(uffd, &e) < 0 ||
	    glue_uffd_register(uffd, A, C + PROBE_PMD, &e) < 0 ||
	    glue_uffd_scan_written(pm, A, C + PROBE_PMD, &arm, &tracked, &e) < 0 || !tracked)
		goto out;
	if (madvise(a + 5 * GLUE_PAGE_SIZE, GLUE_PAGE_SIZE, MADV_DONTNEED) ||
	    madvise(a + PROBE_PMD, PROBE_PMD, MADV_DONTNEED))
		goto out;
	if (count_written(pm, A, C + PROBE_PMD, &got) < 0)
		goto out;
	ok = got.nr == 2 && got.r[0].start == A + 5 * GLUE_PAGE_SIZE &&
	     got.r[0].end == A + 6 * GLUE_PAGE_SIZE && got.r[1].start == B && got.r[1].end == C;
out:
	glue_ranges_free(&got);
	glue_ranges_free(&arm);
	munmap(map, len);
	return ok;
}

/* see uffd-track.h */
bool glue_uffd_reports_removed(void)
{
	static int known = -1;

	if (known < 0)
		known = probe_removed();
	return known;
}
