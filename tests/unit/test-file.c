// SPDX-License-Identifier: MIT
/* ck_open_beneath: '..', absolute paths and symlinks never lead out of the base, with and
 * without openat2.  ck_path_relative: a layer's parent link as CRIU resolves it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/file.h"
#include "tests/unit/tap.h"

static char root[64];

static void mk(const char *rel, bool dir)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (dir) {
		if (mkdir(p, 0700) < 0)
			abort();
	} else {
		int fd = open(p, O_CREAT | O_WRONLY, 0600);

		if (fd < 0)
			abort();
		close(fd);
	}
}

static void ln(const char *target, const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (symlink(target, p) < 0)
		abort();
}

/* 1: opened, 0: refused as an escape (with the message), -1: another error */
static int try(int base, const char *rel, int flags, const char *mode)
{
	struct ck_err *err = NULL;
	int fd = ck_open_beneath(base, "BASE", rel, flags, 0600, &err);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (err && (err->errnum == EXDEV || err->errnum == ELOOP) && strstr(err->msg, "BASE")) {
		ck_err_free(&err);
		return 0;
	}
	tap_diag("%s %s: %s", mode, rel, err ? err->msg : "?");
	ck_err_free(&err);
	return -1;
}

int main(void)
{
	char base_path[128];
	int base;

	snprintf(root, sizeof(root), "/tmp/ckpt-test-file-XXXXXX");
	if (!mkdtemp(root))
		return 1;
	mk("outside", false);
	mk("base", true);
	mk("base/1", true);
	mk("base/1/inventory.img", false);
	mk("base/2", true);
	ln("../1", "base/2/parent");
	ln("../../outside", "base/2/out");
	ln("/etc", "base/abs");
	snprintf(base_path, sizeof(base_path), "%s/base", root);
	base = open(base_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (int pass = 0; pass < 2; pass++) {
		const char *m = pass ? "walk" : "openat2";

		ck_file_no_openat2 = pass;
		tap_ok(try(base, "1/inventory.img", O_RDONLY, m) == 1, "%s: a file beneath", m);
		tap_ok(try(base, "2/../1", O_PATH | O_DIRECTORY, m) == 1,
		       "%s: '..' that stays beneath", m);
		tap_ok(try(base, "2/../../outside", O_RDONLY, m) == 0, "%s: '..' out of the base",
		       m);
		tap_ok(try(base, "..", O_PATH | O_DIRECTORY, m) == 0, "%s: '..' itself", m);
		tap_ok(try(base, "2/out", O_RDONLY, m) == 0, "%s: a symlink leading out", m);
		tap_ok(try(base, "abs/passwd", O_RDONLY, m) == 0, "%s: an absolute symlink", m);
		tap_ok(try(base, "/etc/passwd", O_RDONLY, m) == 0, "%s: an absolute path", m);
		tap_ok(try(base, "/proc/self/root/etc/passwd", O_RDONLY, m) == 0,
		       "%s: a magic link path", m);
		tap_ok(try(base, "new", O_CREAT | O_WRONLY | O_EXCL, m) == 1, "%s: create beneath",
		       m);
		unlinkat(base, "new", 0);
		/* the walk follows no symlink at all, openat2 one that stays beneath */
		tap_ok(try(base, "2/parent/inventory.img", O_RDONLY, m) == (pass ? 0 : 1),
		       "%s: a symlink that stays beneath: %s", m, pass ? "refused" : "followed");
	}
	close(base);
	{
		/* from a dir (existing or not) to another: the relative link that resolves to it */
		static const struct {
			const char *from, *to, *want;
		} rel[] = {
			{ "base/2", "base/1", "../1" }, { "base/new", "base/1", "../1" },
			{ "base", "base/1", "1" },      { "base/2", "outside", "../../outside" },
			{ "base/2", "base/2", "." },
		};

		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			char from[192], to[192];
			char *got;

			snprintf(from, sizeof(from), "%s/%s", root, rel[i].from);
			snprintf(to, sizeof(to), "%s/%s", root, rel[i].to);
			got = ck_path_relative(from, to);
			tap_ok(!strcmp(got, rel[i].want), "relative path %s -> %s: %s (want %s)",
			       rel[i].from, rel[i].to, got, rel[i].want);
			free(got);
		}
	}
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
		if (system(cmd) != 0)
			tap_diag("could not remove %s", root);
	}
	return tap_done();
}
