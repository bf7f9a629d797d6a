// SPDX-License-Identifier: MIT
/*
 * Unit tests of the frozen path's helpers: --frozen-buffer sizes, the range
 * union of the presence module, the kernel probe behind the no-scan path.
 */
#include <stdint.h>
#include <string.h>

#include "runtime-glue/dump/frozen-buf.h"
#include "runtime-glue/dump/presence.h"
#include "runtime-glue/features.h"
#include "runtime-glue/track/uffd-track.h"
#include "tests/unit/tap.h"

static void test_sizes(void)
{
	static const struct {
		const char *s;
		int rc;
		uint64_t v;
	} c[] = {
		{ "0", 0, 0 },
		{ "4096", 0, 4096 },
		{ "48M", 0, 48ULL << 20 },
		{ "1m", 0, 1ULL << 20 },
		{ "512K", 0, 512ULL << 10 },
		{ "2G", 0, 2ULL << 30 },
		{ "1MiB", 0, 1ULL << 20 },
		{ "1MB", 0, 1ULL << 20 },
		{ "", -1, 0 },
		{ "x", -1, 0 },
		{ "-1", -1, 0 },
		{ "1MX", -1, 0 },
		{ "12Q", -1, 0 },
		{ " 1", -1, 0 },
		{ "99999999999999999999", -1, 0 },
		{ "17179869184G", -1, 0 },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint64_t v = 0;
		int rc = glue_parse_size(c[i].s, &v);

		tap_ok(rc == c[i].rc && (rc || v == c[i].v), "size '%s': %d %llu", c[i].s, rc,
		       (unsigned long long)v);
	}
}

static void test_union(void)
{
	struct glue_ranges a = { 0 }, b = { 0 }, u = { 0 }, e = { 0 };

	glue_ranges_add(&a, 0x1000, 0x3000);
	glue_ranges_add(&a, 0x8000, 0x9000);
	glue_ranges_add(&b, 0x3000, 0x4000);
	glue_ranges_add(&b, 0x6000, 0x7000);
	glue_ranges_add(&b, 0xa000, 0xb000);
	glue_ranges_union(&a, &b, &u);
	tap_ok(u.nr == 4 && u.pages == 6 && u.r[0].start == 0x1000 && u.r[0].end == 0x4000 &&
		       u.r[1].start == 0x6000 && u.r[3].end == 0xb000,
	       "union merges adjacent ranges across both lists (%zu ranges, %llu pages)", u.nr,
	       (unsigned long long)u.pages);
	glue_ranges_free(&u);
	glue_ranges_union(&a, &e, &u);
	tap_ok(u.nr == a.nr && u.pages == a.pages, "union with an empty list");
	glue_ranges_free(&u);
	glue_ranges_free(&a);
	glue_ranges_free(&b);
}

static void test_probe(void)
{
	struct glue_feature_result res;

	glue_probe_feature(GLUE_FEAT_UFFD_WP_ASYNC, &res);
	if (!res.available) {
		tap_skip(res.detail, "no uffd-wp async on this kernel");
		return;
	}
	/* 6.18: zapped pages, a zapped THP and emptied tables are reported written */
	tap_ok(glue_uffd_reports_removed(), "the kernel reports removed pages as written");
	tap_ok(glue_uffd_reports_removed(), "the answer is kept");
}

int main(void)
{
	test_sizes();
	test_union();
	test_probe();
	return tap_done();
}
