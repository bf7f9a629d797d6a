// SPDX-License-Identifier: MIT
/*
 * proto/img: framing round trips for every image type, the writer's checks, and
 * every corrupt-input case (which must give an error naming the file and the
 * offset, never a crash; run also under `make SANITIZE=1`).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "proto/img.h"
#include "proto/core.pb-c.h"
#include "proto/pagemap.pb-c.h"
#include "proto/pstree.pb-c.h"
#include "proto/regfile.pb-c.h"
#include "tests/unit/img-sample.h"
#include "tests/unit/tap.h"

static int tdir = -1;

static char *pack(const ProtobufCMessage *m, size_t *len)
{
	char *b;

	*len = protobuf_c_message_get_packed_size(m);
	b = xmalloc(*len ? *len : 1);
	protobuf_c_message_pack(m, (uint8_t *)b);
	return b;
}

static bool same_message(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	_cleanup_free_ char *pa = NULL, *pb = NULL;
	size_t la, lb;

	if (!a || !b || a->descriptor != b->descriptor)
		return false;
	pa = pack(a, &la);
	pb = pack(b, &lb);
	return la == lb && !memcmp(pa, pb, la);
}

static void write_file(const char *name, const void *data, size_t len)
{
	_cleanup_close_ int fd = openat(tdir, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		perror(name);
		exit(1);
	}
}

static char *read_file(const char *name, size_t *len)
{
	_cleanup_close_ int fd = openat(tdir, name, O_RDONLY);
	struct stat st;
	char *b;

	if (fd < 0 || fstat(fd, &st)) {
		perror(name);
		exit(1);
	}
	b = xmalloc((size_t)st.st_size + 1);
	if (read(fd, b, (size_t)st.st_size) != st.st_size) {
		perror(name);
		exit(1);
	}
	*len = (size_t)st.st_size;
	return b;
}

/* Write `count` sample entries of `type` into `name`; returns 0 or -1 (err). */
static int write_sample(struct sample_arena *a, const char *name, enum img_type type, size_t count,
			struct ck_err **err)
{
	_cleanup_(img_abortp) struct img *img = img_create(tdir, name, type, err);

	if (!img)
		return -1;
	for (size_t i = 0; i < count; i++) {
		if (img_write(img, img_sample_entry(a, type, 100, i), err))
			return -1;
		if (type == IMG_PIPES_DATA) {
			size_t len;
			const char *d = img_sample_pipe_data(i, &len);

			if (img_write_extra(img, d, len, err))
				return -1;
		}
	}
	return img_close(steal_ptr(&img), err);
}

/*
 * Read every entry of `name` as `type`; returns the number read, or -1 with
 * *err set.  When `a` is given, each entry is compared with the sample.
 */
static long read_all(struct sample_arena *a, const char *name, enum img_type type, bool *same,
		     struct ck_err **err)
{
	_cleanup_(img_releasep) struct img *img = img_open(tdir, name, type, err);
	long n = 0;

	if (same)
		*same = true;
	if (!img)
		return -1;
	for (;;) {
		void *m = NULL;

		if (img_read_entry(img, &m, err))
			return -1;
		if (!m)
			break;
		if (a && same) {
			if (!same_message(m, img_sample_entry(a, type, 100, (size_t)n)))
				*same = false;
			if (type == IMG_PIPES_DATA) {
				size_t len, elen;
				const char *d = img_sample_pipe_data((size_t)n, &len);
				const void *e = img_extra(img, &elen);

				if (len != elen || (len && memcmp(d, e, len)))
					*same = false;
			}
		}
		img_free_msg(m);
		n++;
	}
	return n;
}

/* The error text contains every one of the given substrings (and is shown when not). */
static bool err_has(struct ck_err *err, const char *a, const char *b)
{
	char *s;
	bool found;

	if (!err) {
		tap_diag("no error");
		return false;
	}
	s = ck_err_str(err);
	found = strstr(s, a) && (!b || strstr(s, b));
	if (!found)
		fprintf(stdout, "# error was: %s\n", s);
	free(s);
	return found;
}

static void test_round_trips(void)
{
	for (int t = 0; t < IMG_NR; t++) {
		_cleanup_err_ struct ck_err *err = NULL;
		struct sample_arena *a;
		struct img_info info;
		size_t count;
		char name[64];
		bool same = false;
		long n;

		if (t == IMG_PAGES)
			continue;
		a = sample_arena_new();
		count = img_sample_count(t) + (img_sample_count(t) > 1 ? 2 : 0);
		snprintf(name, sizeof(name), "rt-%s.img", img_type_name(t));
		if (write_sample(a, name, t, count, &err)) {
			tap_ok(false, "%s: write", img_type_name(t));
			err_has(err, "", NULL);
			sample_arena_free(a);
			continue;
		}
		n = read_all(a, name, t, &same, &err);
		tap_ok(n == (long)count && same, "%s: %zu entries round-trip byte for byte",
		       img_type_name(t), count);
		if (err)
			err_has(err, "", NULL);
		tap_ok(!img_probe(tdir, name, &info, &err) && info.type == (enum img_type)t &&
			       !strcmp(info.magic_name, img_type_name(t)),
		       "%s: probe detects the type from the magics", img_type_name(t));
		sample_arena_free(a);
	}
}

/* Images kept in memory (img_create_later) become the same files when written. */
static void test_later(void)
{
	_cleanup_err_ struct ck_err *err = NULL;
	_cleanup_free_ char *now = NULL, *later = NULL;
	struct sample_arena *a = sample_arena_new();
	struct img_later *l = img_later_new(tdir);
	struct img *img;
	size_t n1 = 0, n2 = 0;
	bool ok = true;

	write_sample(a, "now-core.img", IMG_CORE, 1, &err);
	for (int k = 0; k < 2 && ok; k++) {
		img = img_create_later(l, k ? "later-fs.img" : "later-core.img",
				       k ? IMG_FS : IMG_CORE, &err);
		ok = img &&
		     !img_write(img, img_sample_entry(a, k ? IMG_FS : IMG_CORE, 100, 0), &err) &&
		     !img_close(img, &err);
	}
	tap_ok(ok && img_later_bytes(l) > 16 && faccessat(tdir, "later-core.img", F_OK, 0) < 0,
	       "later: kept in memory, no file yet (%llu bytes)",
	       (unsigned long long)img_later_bytes(l));
	tap_ok(!img_later_write(l, &err) && img_later_bytes(l) == 0, "later: written");
	now = read_file("now-core.img", &n1);
	later = read_file("later-core.img", &n2);
	tap_ok(now && later && n1 == n2 && !memcmp(now, later, n1),
	       "later: the same bytes as a file written at once");
	tap_ok(faccessat(tdir, "later-fs.img", F_OK, 0) == 0, "later: every kept image written");
	img_later_free(l);
	sample_arena_free(a);
}

static void test_magics_on_disk(void)
{
	_cleanup_err_ struct ck_err *err = NULL;
	_cleanup_free_ char *inv = NULL, *pm = NULL, *st = NULL;
	struct sample_arena *a = sample_arena_new();
	uint32_t w[2];
	size_t len;

	write_sample(a, "m-inventory.img", IMG_INVENTORY, 1, &err);
	write_sample(a, "m-pagemap.img", IMG_PAGEMAP, 1, &err);
	write_sample(a, "m-stats", IMG_STATS, 1, &err);
	tap_ok(!err, "magic files written");
	inv = read_file("m-inventory.img", &len);
	memcpy(w, inv, 8);
	tap_ok(w[0] == 0x58313116 && w[1] == len - 8,
	       "inventory: type magic only, then the entry length");
	pm = read_file("m-pagemap.img", &len);
	memcpy(w, pm, 8);
	tap_ok(w[0] == IMG_COMMON_MAGIC && w[1] == 0x56084025, "pagemap: IMG_COMMON + PAGEMAP");
	st = read_file("m-stats", &len);
	memcpy(w, st, 8);
	tap_ok(w[0] == IMG_SERVICE_MAGIC && w[1] == 0x57093306, "stats: IMG_SERVICE + STATS");
	sample_arena_free(a);
}

static void test_pagemap_helpers(void)
{
	_cleanup_err_ struct ck_err *err = NULL;
	_cleanup_(img_abortp) struct img *img = img_create(tdir, "pm.img", IMG_PAGEMAP, &err);
	PagemapEntry *pe = NULL;
	PagemapHead *ph = NULL;

	tap_ok(img != NULL, "pagemap: create");
	if (!img)
		return;
	tap_ok(img_write_pagemap_entry(img, 0x1000, 1, IMG_PE_PRESENT, &err) == -1 &&
		       err_has(err, "before the head", NULL),
	       "pagemap: entry before the head is refused");
	ck_err_free(&err);
	tap_ok(!img_write_pagemap_head(img, 7, &err), "pagemap: head");
	tap_ok(!img_write_pagemap_entry(img, 0x10000, 3, IMG_PE_PRESENT | IMG_PE_LAZY, &err),
	       "pagemap: entry");
	tap_ok(!img_write_pagemap_entry(img, 0x100000000000ull, 0x100000001ull, IMG_PE_PARENT,
					&err),
	       "pagemap: entry with more than 2^32 pages");
	tap_ok(img_write_pagemap_entry(img, 0x20000000000000ull, 1, IMG_PE_LAZY, &err) == -1 &&
		       err_has(err, "neither PE_PRESENT nor PE_PARENT", "pm.img"),
	       "pagemap: entry without PRESENT or PARENT is refused");
	ck_err_free(&err);
	tap_ok(img_write_pagemap_entry(img, 0x10000, 1, IMG_PE_PRESENT, &err) == -1 &&
		       err_has(err, "overlaps", NULL),
	       "pagemap: overlapping entry is refused");
	ck_err_free(&err);
	tap_ok(img_write_pagemap_entry(img, 0x7fff00000123ull, 1, IMG_PE_PRESENT, &err) == -1 &&
		       err_has(err, "bad pagemap range", NULL),
	       "pagemap: unaligned entry is refused");
	ck_err_free(&err);
	tap_ok(img_write_pagemap_entry(img, 0x7fff00000000ull, 0, IMG_PE_PRESENT, &err) == -1,
	       "pagemap: empty entry is refused");
	ck_err_free(&err);
	tap_ok(!img_close(steal_ptr(&img), &err), "pagemap: close");

	img = img_open(tdir, "pm.img", IMG_PAGEMAP, &err);
	tap_ok(img && !img_read_entry(img, (void **)&ph, &err) && ph && ph->pages_id == 7,
	       "pagemap: head reads back");
	tap_ok(img && !img_read_entry(img, (void **)&pe, &err) && pe && pe->vaddr == 0x10000 &&
		       pe->has_nr_pages && pe->nr_pages == 3 && pe->compat_nr_pages == 3 &&
		       pe->has_flags && pe->flags == (IMG_PE_PRESENT | IMG_PE_LAZY),
	       "pagemap: entry has nr_pages == compat_nr_pages and flags");
	img_free_msg(pe);
	pe = NULL;
	tap_ok(img && !img_read_entry(img, (void **)&pe, &err) && pe &&
		       pe->nr_pages == 0x100000001ull && pe->compat_nr_pages == 0,
	       "pagemap: a count above 2^32 leaves compat_nr_pages 0");
	img_free_msg(pe);
	pe = NULL;
	tap_ok(img && !img_read_entry(img, (void **)&pe, &err) && !pe, "pagemap: clean EOF");
	img_free_msg(ph);
}

static void test_writer_checks(void)
{
	_cleanup_err_ struct ck_err *err = NULL;
	_cleanup_(img_abortp) struct img *img = NULL;
	struct sample_arena *a = sample_arena_new();
	PstreeEntry ps = PSTREE_ENTRY__INIT;
	RegFileEntry rf = REG_FILE_ENTRY__INIT;
	CoreEntry *core;

	img = img_create(tdir, "w.img", IMG_CORE, &err);
	tap_ok(img_write(img, &ps, &err) == -1 && err_has(err, "must be a core_entry", "w.img"),
	       "write: wrong message type is refused");
	ck_err_free(&err);
	core = (CoreEntry *)img_sample_entry(a, IMG_CORE, 1, 0);
	core->tc->comm = NULL;
	tap_ok(img_write(img, core, &err) == -1 && err_has(err, "lacks a required field", NULL),
	       "write: missing required field is refused");
	ck_err_free(&err);
	core->tc->comm = (char *)"x";
	tap_ok(!img_write(img, core, &err), "write: a complete core");
	tap_ok(img_write(img, core, &err) == -1 && err_has(err, "single entry", NULL),
	       "write: a second entry in a single-entry image is refused");
	ck_err_free(&err);
	tap_ok(img_write_raw(img, "x", 1, &err) == -1,
	       "write: raw data into a protobuf image is refused");
	ck_err_free(&err);
	img_abort(steal_ptr(&img));

	img = img_create(tdir, "w-pages.img", IMG_PAGES, &err);
	tap_ok(img_write(img, &ps, &err) == -1, "write: messages into a pages image are refused");
	ck_err_free(&err);
	img_abort(steal_ptr(&img));

	img = img_create(tdir, "w-reg.img", IMG_REG_FILES, &err);
	rf.name = (char *)"/x";
	tap_ok(img_write(img, &rf, &err) == -1 && err_has(err, "lacks a required field", NULL),
	       "write: missing required sub-message is refused");
	ck_err_free(&err);
	img_abort(steal_ptr(&img));

	img = img_create(tdir, "w-pd.img", IMG_PIPES_DATA, &err);
	tap_ok(!img_write(img, img_sample_entry(a, IMG_PIPES_DATA, 1, 0), &err) &&
		       img_close(steal_ptr(&img), &err) == -1 && err_has(err, "lacks its", NULL),
	       "write: pipes-data entry without its data fails at close");
	ck_err_free(&err);

	tap_ok(!img_create(tdir, "no/such/dir.img", IMG_PSTREE, &err) &&
		       err_has(err, "create no/such/dir.img", "No such file"),
	       "create: error names the file and errno");
	sample_arena_free(a);
}

static void test_pages(void)
{
	_cleanup_err_ struct ck_err *err = NULL;
	_cleanup_(img_abortp) struct img *img = img_create(tdir, "pages-3.img", IMG_PAGES, &err);
	_cleanup_free_ char *big = xzalloc(256 << 10);
	_cleanup_free_ char *back = NULL;
	struct img_info info;
	size_t len;

	memset(big, 0xa5, 256 << 10);
	tap_ok(img && !img_write_raw(img, "abc", 3, &err) &&
		       !img_write_raw(img, big, 256 << 10, &err) &&
		       !img_close(steal_ptr(&img), &err),
	       "pages: small and large raw writes");
	back = read_file("pages-3.img", &len);
	tap_ok(len == 3 + (256 << 10) && !memcmp(back, "abc", 3) &&
		       !memcmp(back + 3, big, 256 << 10),
	       "pages: file holds exactly the bytes written, in order");
	tap_ok(!img_probe(tdir, "pages-3.img", &info, &err) && info.type == IMG_PAGES &&
		       info.size == len,
	       "pages: probe reports raw pages and the size");
	img = img_open(tdir, "pages-3.img", IMG_PAGES, &err);
	{
		char *rb = xmalloc(len + 10);
		ssize_t a = img ? img_read_raw(img, rb, 2, &err) : -1;
		ssize_t b = img ? img_read_raw(img, rb + 2, len + 10, &err) : -1;
		ssize_t c = img ? img_read_raw(img, rb, 1, &err) : -1;

		tap_ok(img && img_size(img) == len && a == 2 && b == (ssize_t)len - 2 && c == 0 &&
			       !memcmp(rb + 2, back + 2, len - 2) && !memcmp(rb, "ab", 2),
		       "pages: raw reads return the bytes, short at end of file, 0 after");
		free(rb);
	}
}

/* A valid 3-entry pstree image, as bytes. */
static char *valid_pstree(size_t *len)
{
	_cleanup_err_ struct ck_err *err = NULL;
	struct sample_arena *a = sample_arena_new();

	write_sample(a, "valid-pstree.img", IMG_PSTREE, 3, &err);
	sample_arena_free(a);
	return read_file("valid-pstree.img", len);
}

static void expect_corrupt(const char *what, const char *name, const void *data, size_t len,
			   enum img_type type, const char *msg1, const char *msg2)
{
	_cleanup_err_ struct ck_err *err = NULL;
	long n;

	write_file(name, data, len);
	n = read_all(NULL, name, type, NULL, &err);
	tap_ok(n == -1 && err_has(err, name, msg1) && (!msg2 || err_has(err, msg2, NULL)),
	       "corrupt: %s", what);
}

static void test_corrupt(void)
{
	_cleanup_free_ char *good = NULL;
	char buf[64];
	uint32_t w[4];
	size_t len;

	good = valid_pstree(&len);

	memcpy(buf, good, 8);
	buf[0] ^= 1;
	expect_corrupt("wrong head magic", "c-head.img", buf, 8, IMG_PSTREE, "offset 0",
		       "head magic");
	memcpy(buf, good, 8);
	buf[5] ^= 1;
	expect_corrupt("wrong type magic", "c-type.img", buf, 8, IMG_PSTREE, "offset 4",
		       "expected 0x50273030");
	expect_corrupt("image of another type", "c-other.img", good, len, IMG_CORE, "offset 4",
		       "(CORE)");
	expect_corrupt("empty file", "c-empty.img", good, 0, IMG_PSTREE, "offset 0", "too short");
	expect_corrupt("truncated magic", "c-tmagic.img", good, 6, IMG_PSTREE, "offset 4",
		       "too short");
	expect_corrupt("truncated entry length", "c-tlen.img", good, 10, IMG_PSTREE, "offset 8",
		       "truncated entry length");
	expect_corrupt("truncated message", "c-tmsg.img", good, len - 1, IMG_PSTREE, "offset ",
		       "bytes left in the file");

	w[0] = IMG_COMMON_MAGIC;
	w[1] = 0x50273030;
	w[2] = 100; /* length larger than the file */
	w[3] = 0x01020308;
	expect_corrupt("length larger than the file", "c-large.img", w, 16, IMG_PSTREE, "offset 8",
		       "entry length 100 is larger than the 4 bytes left");
	w[2] = 0xffffffffu;
	expect_corrupt("hostile huge length", "c-huge.img", w, 16, IMG_PSTREE, "offset 8",
		       "exceeds the");
	w[2] = IMG_MAX_ENTRY; /* at the limit, but the file is tiny */
	expect_corrupt("length at the cap, tiny file", "c-cap.img", w, 16, IMG_PSTREE, "offset 8",
		       "larger than");

	/* PstreeEntry with pid, ppid, pgid but no sid (required field 4). */
	{
		static const unsigned char msg[] = { 0x08, 0x01, 0x10, 0x00, 0x18, 0x01 };

		memcpy(buf, good, 8);
		w[0] = sizeof(msg);
		memcpy(buf + 8, w, 4);
		memcpy(buf + 12, msg, sizeof(msg));
		expect_corrupt("missing required field", "c-req.img", buf, 12 + sizeof(msg),
			       IMG_PSTREE, "offset 8", "pstree_entry");
	}
	/* Garbage protobuf: a field with wire type 7 (invalid). */
	{
		static const unsigned char msg[] = { 0x0f, 0x01, 0x02 };

		memcpy(buf, good, 8);
		w[0] = sizeof(msg);
		memcpy(buf + 8, w, 4);
		memcpy(buf + 12, msg, sizeof(msg));
		expect_corrupt("malformed protobuf", "c-garbage.img", buf, 12 + sizeof(msg),
			       IMG_PSTREE, "offset 8", "cannot decode");
	}
	/* Pipes data shorter than the entry announces. */
	{
		_cleanup_err_ struct ck_err *err = NULL;
		_cleanup_free_ char *pd = NULL;
		struct sample_arena *a = sample_arena_new();
		size_t pdlen;

		write_sample(a, "valid-pd.img", IMG_PIPES_DATA, 1, &err);
		sample_arena_free(a);
		pd = read_file("valid-pd.img", &pdlen);
		expect_corrupt("pipe data shorter than announced", "c-pd.img", pd, pdlen - 1,
			       IMG_PIPES_DATA, "offset 8", "pipe data of");
	}
}

/* Every prefix and every single-byte corruption of a valid file: error or data, no crash. */
static void test_every_prefix_and_flip(void)
{
	_cleanup_free_ char *good = NULL;
	_cleanup_err_ struct ck_err *err = NULL;
	struct sample_arena *a = sample_arena_new();
	size_t len, ok_prefixes = 0, bad_prefixes = 0, flips = 0;
	bool boundary_ok = true;

	write_sample(a, "valid-core.img", IMG_CORE, 1, &err);
	sample_arena_free(a);
	good = read_file("valid-core.img", &len);
	for (size_t cut = 0; cut < len; cut++) {
		long n;

		write_file("prefix.img", good, cut);
		n = read_all(NULL, "prefix.img", IMG_CORE, NULL, &err);
		if (n < 0) {
			bad_prefixes++;
			ck_err_free(&err);
		} else {
			ok_prefixes++;
			/* Only the bare magics (a valid, empty image) may read cleanly. */
			if (cut != 8)
				boundary_ok = false;
		}
	}
	tap_ok(boundary_ok && ok_prefixes == 1 && bad_prefixes == len - 1,
	       "every truncation of a core image is an error, except at the entry boundary (%zu prefixes)",
	       len);
	for (size_t i = 0; i < len; i += 1 + i / 64) {
		char *copy = xmalloc(len);

		memcpy(copy, good, len);
		copy[i] ^= (char)(0x80 | i);
		write_file("flip.img", copy, len);
		free(copy);
		if (read_all(NULL, "flip.img", IMG_CORE, NULL, &err) < 0)
			ck_err_free(&err);
		flips++;
	}
	tap_ok(flips > 0, "%zu byte flips of a core image decoded or failed cleanly", flips);
}

static void test_probe(void)
{
	_cleanup_err_ struct ck_err *err = NULL;
	struct img_info info;
	uint32_t w[3] = { IMG_COMMON_MAGIC, 0x55344201 /* SIGACT */, 0 };

	write_file("sigacts-1.img", w, sizeof(w));
	tap_ok(!img_probe(tdir, "sigacts-1.img", &info, &err) && info.type == IMG_NR &&
		       !strcmp(info.magic_name, "SIGACT"),
	       "probe: a CRIU kind without a schema is named, not decoded");
	tap_ok(!img_open_any(tdir, "sigacts-1.img", &err) &&
		       err_has(err, "sigacts-1.img", "SIGACT"),
	       "open_any: unsupported kind gives a clear error");
	ck_err_free(&err);
	w[1] = 0x12345678;
	write_file("unknown.img", w, sizeof(w));
	tap_ok(img_probe(tdir, "unknown.img", &info, &err) == -1 &&
		       err_has(err, "unknown.img: offset 4", "unknown image magic 0x12345678"),
	       "probe: unknown magic names file, offset and value");
	ck_err_free(&err);
	w[1] = 0x58313116; /* INVENTORY has no head magic */
	write_file("headinv.img", w, sizeof(w));
	tap_ok(img_probe(tdir, "headinv.img", &info, &err) == -1 &&
		       err_has(err, "headinv.img: offset 0: INVENTORY magic",
			       "expected head 0x00000000"),
	       "probe: a known type behind the wrong head magic is named");
	ck_err_free(&err);
	write_file("short.img", w, 2);
	tap_ok(img_probe(tdir, "short.img", &info, &err) == -1 &&
		       err_has(err, "short.img", "too short"),
	       "probe: a 2-byte file is an error");
	ck_err_free(&err);
	tap_ok(img_probe(tdir, ".", &info, &err) == -1 && err_has(err, "not a regular file", NULL),
	       "probe: a directory is refused");
	ck_err_free(&err);
	tap_ok(img_probe(tdir, "missing.img", &info, &err) == -1 &&
		       err_has(err, "open missing.img", "No such file"),
	       "probe: missing file");
}

static void test_sample_set(void)
{
	_cleanup_err_ struct ck_err *err = NULL;
	_cleanup_close_ int sd = -1;

	mkdirat(tdir, "sample", 0755);
	sd = openat(tdir, "sample", O_RDONLY | O_DIRECTORY);
	tap_ok(sd >= 0 && !img_sample_write(sd, 4242, &err), "sample set written");
	for (int t = 0; t < IMG_NR; t++) {
		_cleanup_free_ char *name = img_filename(t, t == IMG_FDINFO   ? 2
							    : t == IMG_TIMENS ? 0
							    : t == IMG_PAGES  ? 1
									      : 4242);
		struct img_info info;

		tap_ok(!faccessat(sd, name, F_OK, 0) && !img_probe(sd, name, &info, &err) &&
			       info.type == (enum img_type)t,
		       "sample set has %s as %s", name, img_type_name(t));
	}
}

/* img_create never follows a symlink planted at the image's name (a symlink swap). */
static void test_no_follow(void)
{
	struct ck_err *err = NULL;
	struct img *img;

	if (symlinkat("/nonexistent-ckpt-target", tdir, "swap.img") < 0) {
		tap_ok(0, "symlink for the no-follow test");
		return;
	}
	img = img_create(tdir, "swap.img", IMG_PSTREE, &err);
	tap_ok(!img && err && err->errnum == ELOOP,
	       "img_create refuses a symlink at the name (ELOOP)");
	img_abort(img);
	ck_err_free(&err);
	unlinkat(tdir, "swap.img", 0);
}

int main(void)
{
	char tmpl[] = "/tmp/test-img.XXXXXX";

	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 1;
	}
	tdir = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tdir < 0) {
		perror(tmpl);
		return 1;
	}
	test_round_trips();
	test_magics_on_disk();
	test_later();
	test_pagemap_helpers();
	test_writer_checks();
	test_pages();
	test_corrupt();
	test_every_prefix_and_flip();
	test_probe();
	test_sample_set();
	test_no_follow();
	close(tdir);
	if (!getenv("CKPT_KEEP_TMP")) {
		char cmd[sizeof(tmpl) + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpl);
		if (system(cmd) != 0)
			tap_diag("could not remove %s", tmpl);
	}
	return tap_done();
}
