// SPDX-License-Identifier: MIT
/*
 * The page writer (runtime-glue/mem/copy.c): buffers written in order, runs
 * from outside the ring written in their place, a failing write reported to
 * the engine (and every call after it), the copy-write fault point.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "proto/img.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/mem/copy.h"
#include "tap.h"

#define PG    4096
#define SLOT  (4 * PG)
#define ROUND 64

/* what round @i writes: pages 0-1 of its buffer, page 3, and (every 5th) an outside page */
static void fill(char *buf, int i)
{
	for (int p = 0; p < 4; p++)
		memset(buf + p * PG, (i * 4 + p) & 0xff, PG);
}

static void test_order(const char *dir)
{
	static char outside[PG], expect[ROUND * 4 * PG];
	struct glue_copier *c = glue_copier_new(SLOT, 2);
	struct ck_err *err = NULL;
	size_t elen = 0;
	struct img *img;
	char path[256], *got;
	struct stat st;
	bool ok = true;
	int fd;

	img = img_create(AT_FDCWD, (snprintf(path, sizeof(path), "%s/pages-1.img", dir), path),
			 IMG_PAGES, &err);
	tap_ok(img != NULL, "pages image created");
	for (int i = 0; i < ROUND && ok; i++) {
		char *buf = glue_copier_buf(c, &err);

		ok = buf != NULL;
		if (!ok)
			break;
		fill(buf, i);
		ok = glue_copier_queue(c, img, buf, PG, &err) == 0 &&
		     glue_copier_queue(c, img, buf + PG, PG, &err) == 0;
		memcpy(expect + elen, buf, 2 * PG);
		elen += 2 * PG;
		if (ok && i % 5 == 0) {
			/* data from elsewhere: after what is queued, before what follows */
			memset(outside, 0x80 | i, PG);
			ok = glue_copier_queue(c, img, outside, PG, &err) == 0;
			memcpy(expect + elen, outside, PG);
			elen += PG;
		}
		ok = ok && glue_copier_queue(c, img, buf + 3 * PG, PG, &err) == 0 &&
		     glue_copier_submit(c, &err) == 0;
		memcpy(expect + elen, buf + 3 * PG, PG);
		elen += PG;
	}
	tap_ok(ok && glue_copier_drain(c, &err) == 0, "%d buffers queued and written", ROUND);
	tap_ok(img_close(img, &err) == 0, "image closed");
	glue_copier_free(c);
	fd = open(path, O_RDONLY);
	got = malloc(elen);
	tap_ok(fd >= 0 && fstat(fd, &st) == 0 && (size_t)st.st_size == elen &&
		       pread(fd, got, elen, 0) == (ssize_t)elen && !memcmp(got, expect, elen),
	       "the file holds every run in queue order (%zu bytes)", elen);
	free(got);
	if (fd >= 0)
		close(fd);
	ck_err_free(&err);
}

static void test_error(void)
{
	struct glue_copier *c = glue_copier_new(256 << 10, 2);
	struct ck_err *err = NULL;
	struct img *img = img_create(AT_FDCWD, "/dev/full", IMG_PAGES, &err);
	char *buf;
	int rc = 0;

	if (!img) {
		tap_skip("no /dev/full", "a failing write stops the writer");
		ck_err_free(&err);
		glue_copier_free(c);
		return;
	}
	/* the engine goes on until it hears of the error, at most a ring later */
	for (int i = 0; i < 8 && rc == 0; i++) {
		buf = glue_copier_buf(c, &err);
		if (!buf)
			break;
		memset(buf, 1, 256 << 10);
		rc = glue_copier_queue(c, img, buf, 256 << 10, &err) ?: glue_copier_submit(c, &err);
	}
	if (!err)
		glue_copier_drain(c, &err);
	tap_ok(err && err->errnum == ENOSPC && strstr(err->msg, "writing pages"),
	       "a write error reaches the engine: %s", err ? err->msg : "none");
	ck_err_free(&err);
	tap_ok(glue_copier_buf(c, &err) == NULL && err, "and every later call fails");
	ck_err_free(&err);
	tap_ok(glue_copier_drain(c, &err) < 0, "drain reports it too");
	ck_err_free(&err);
	img_abort(img);
	glue_copier_free(c);
}

static void test_fault(const char *dir)
{
	struct glue_copier *c;
	struct ck_err *err = NULL;
	char path[256];
	struct img *img;
	int i;

	setenv("CK_FAULT", "copy-write", 1);
	glue_fault_init();
	c = glue_copier_new(SLOT, 2);
	snprintf(path, sizeof(path), "%s/pages-2.img", dir);
	img = img_create(AT_FDCWD, path, IMG_PAGES, &err);
	for (i = 0; i < 8; i++) {
		char *buf = glue_copier_buf(c, &err);

		if (!buf || glue_copier_queue(c, img, buf, PG, &err) < 0 ||
		    glue_copier_submit(c, &err) < 0)
			break;
	}
	if (!err)
		glue_copier_drain(c, &err);
	tap_ok(err && strstr(err->msg, "fault injected at copy-write"),
	       "the copy-write point fails the writer's second buffer: %s",
	       err ? err->msg : "none");
	ck_err_free(&err);
	img_abort(img);
	glue_copier_free(c);
}

int main(void)
{
	char tmpl[] = "/tmp/test-copy-XXXXXX";
	char *dir = mkdtemp(tmpl);
	char cmd[64];

	if (!dir) {
		tap_skip("mkdtemp failed", "page writer");
		return tap_done();
	}
	test_order(dir);
	test_error();
	test_fault(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
