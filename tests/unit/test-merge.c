// SPDX-License-Identifier: MIT
/*
 * Merging the two oldest layers of a chain (runtime-glue/mem/merge.h), on
 * synthetic layers: pages only in the base, only in the child, in both,
 * PE_PARENT ranges spanning several base entries, pages the child no longer
 * lists (zero pages), pagemaps of one layer only, a shmem object; bad pairs;
 * and SIGKILL / failure at every fault point of the merge, each leaving a chain
 * that rebuilds the same memory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "common/xalloc.h"
#include "proto/img.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/mem/chain.h"
#include "runtime-glue/mem/layer.h"
#include "runtime-glue/mem/merge.h"
#include "runtime-glue/mem/pagemap.h"
#include "tests/unit/tap.h"

#define PG 4096

/* "@dir/@name" in one of a few rotating static buffers (no frees in the checks). */
static const char *at(const char *dir, const char *name)
{
	static char bufs[8][512];
	static unsigned i;
	char *b = bufs[i++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

static void pattern(uint8_t *p, char tag, uint64_t vaddr)
{
	for (size_t i = 0; i < PG; i++)
		p[i] = (uint8_t)(tag + (vaddr >> 12) * 7 + i % 251);
}

/* An entry of a synthetic layer: present pages carry pattern(tag, vaddr). */
struct ent {
	uint64_t vaddr, n;
	char tag; /* 0: PE_PARENT */
};

static int add(struct glue_pmw *w, const struct ent *e, struct ck_err **err)
{
	static uint8_t buf[PG];

	for (uint64_t i = 0; i < e->n; i++) {
		uint64_t v = e->vaddr + i * PG;

		if (e->tag)
			pattern(buf, e->tag, v);
		if (glue_pmw_add(w, v, 1, e->tag ? buf : NULL, err) < 0)
			return -1;
	}
	return 0;
}

struct obj {
	const char *name;
	const struct ent *e;
	size_t nr;
	bool split; /* write one pagemap entry per ent (the writer would join adjacent ones) */
};

/* A split pagemap written with the image API: adjacent entries stay apart. */
static int write_split(struct glue_layer *l, const struct obj *o, struct ck_err **err)
{
	uint32_t id = l->next_pages_id++;
	char *pages = img_filename(IMG_PAGES, id);
	struct img *pm = img_create(l->dirfd, o->name, IMG_PAGEMAP, err);
	struct img *pg = img_create(l->dirfd, pages, IMG_PAGES, err);
	static uint8_t buf[PG];
	int rc = -1;

	free(pages);
	if (!pm || !pg || img_write_pagemap_head(pm, id, err) < 0)
		goto out;
	for (size_t i = 0; i < o->nr; i++) {
		if (img_write_pagemap_entry(pm, o->e[i].vaddr, o->e[i].n, IMG_PE_PRESENT, err) < 0)
			goto out;
		for (uint64_t k = 0; k < o->e[i].n; k++) {
			pattern(buf, o->e[i].tag, o->e[i].vaddr + k * PG);
			if (img_write_raw(pg, buf, PG, err) < 0)
				goto out;
		}
	}
	rc = img_close(pm, err);
	pm = NULL;
	if (rc == 0)
		rc = img_close(pg, err);
	pg = NULL;
out:
	img_abort(pm);
	img_abort(pg);
	return rc;
}

static int write_layer(const char *path, const char *parent, const struct obj *objs, size_t nr,
		       const char *meta)
{
	struct ck_err *err = NULL;
	struct glue_layer l;
	struct glue_dump_stats st = { .pages_written = 99, .frozen_us = 1234 };
	int fd, rc = -1;

	if (glue_layer_begin(path, parent, &l, &err) < 0)
		goto out;
	for (size_t i = 0; i < nr; i++) {
		struct glue_pmw *w;

		if (objs[i].split) {
			if (write_split(&l, &objs[i], &err) < 0)
				goto out_abort;
			continue;
		}
		w = glue_pmw_open(&l, objs[i].name, &err);
		if (!w)
			goto out_abort;
		for (size_t j = 0; j < objs[i].nr; j++)
			if (add(w, &objs[i].e[j], &err) < 0) {
				glue_pmw_abort(w);
				goto out_abort;
			}
		if (glue_pmw_close(w, &err) < 0)
			goto out_abort;
	}
	fd = openat(l.dirfd, "test-meta", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, meta, strlen(meta)) != (ssize_t)strlen(meta)) {
		if (fd >= 0)
			close(fd);
		goto out_abort;
	}
	close(fd);
	if (glue_layer_write_inventory(&l, true, &err) < 0 ||
	    glue_layer_write_stats(&l, &st, &err) < 0 || glue_layer_commit(&l, &err) < 0)
		goto out_abort;
	rc = 0;
out_abort:
	glue_layer_abort(&l);
out:
	if (err)
		tap_diag("write_layer %s: %s", path, err->msg);
	ck_err_free(&err);
	return rc;
}

/* base 1, child 2 (parent ../1), next 3 (parent ../2) */
static const struct ent b_pm1[] = { { 0x10000, 4, 'B' }, { 0x15000, 2, 'B' }, { 0x17000, 1, 'b' } };
static const struct ent b_pm2[] = { { 0x40000, 1, 'B' } };
static const struct ent b_sh[] = { { 0, 2, 'S' } };
static const struct ent c_pm1[] = { { 0x10000, 2, 0 },
				    { 0x12000, 1, 'C' },
				    { 0x14000, 1, 'C' },
				    { 0x15000, 3, 0 },
				    { 0x20000, 1, 'C' } };
static const struct ent c_pm3[] = { { 0x50000, 2, 'C' } };
static const struct ent c_sh[] = { { 0, 1, 0 }, { 0x1000, 1, 'C' } };
static const struct ent d_pm1[] = {
	{ 0x10000, 3, 0 }, { 0x14000, 1, 'D' }, { 0x15000, 3, 0 }, { 0x20000, 1, 0 }
};
static const struct ent d_pm3[] = { { 0x50000, 2, 0 } };
static const struct ent d_sh[] = { { 0, 2, 0 } };

#define OBJ(n, a, s)                              \
	{                                         \
		n, a, sizeof(a) / sizeof(a[0]), s \
	}

static int make_set(const char *dir)
{
	const struct obj b[] = { OBJ("pagemap-1.img", b_pm1, true),
				 OBJ("pagemap-2.img", b_pm2, false),
				 OBJ("pagemap-shmem-77.img", b_sh, false) };
	const struct obj c[] = { OBJ("pagemap-1.img", c_pm1, false),
				 OBJ("pagemap-3.img", c_pm3, false),
				 OBJ("pagemap-shmem-77.img", c_sh, false) };
	const struct obj d[] = { OBJ("pagemap-1.img", d_pm1, false),
				 OBJ("pagemap-3.img", d_pm3, false),
				 OBJ("pagemap-shmem-77.img", d_sh, false) };
	char p[256];

	if (mkdir(dir, 0700) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/1", dir);
	if (write_layer(p, NULL, b, 3, "meta B\n") < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/2", dir);
	if (write_layer(p, "../1", c, 3, "meta C\n") < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/3", dir);
	return write_layer(p, "../2", d, 3, "meta D\n");
}

/* "name vaddr sum" for every page held by the chain from @top: the memory it rebuilds. */
static char *snapshot(const char *top)
{
	static const char *const names[] = { "pagemap-1.img", "pagemap-2.img", "pagemap-3.img",
					     "pagemap-shmem-77.img" };
	struct ck_err *err = NULL;
	struct glue_chain c;
	char *out = xstrdup("");

	if (glue_chain_open(top, &c, &err) < 0) {
		tap_diag("chain %s: %s", top, err->msg);
		ck_err_free(&err);
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < 4; i++) {
		struct glue_chain_obj *o = glue_chain_obj_open(&c, names[i], &err);
		struct glue_ranges r = { 0 };

		if (!o)
			goto fail;
		glue_chain_obj_ranges(o, &r);
		for (size_t k = 0; k < r.nr; k++)
			for (uint64_t v = r.r[k].start; v < r.r[k].end; v += PG) {
				static uint8_t buf[PG];
				uint64_t sum = 0;
				bool held;
				char *n;

				if (glue_chain_obj_read(o, v, buf, &held, &err) < 0) {
					glue_ranges_free(&r);
					glue_chain_obj_close(o);
					goto fail;
				}
				for (size_t j = 0; j < PG; j++)
					sum = sum * 31 + buf[j];
				n = xasprintf("%s%s %#llx %llx\n", out, names[i],
					      (unsigned long long)v, (unsigned long long)sum);
				free(out);
				out = n;
			}
		glue_ranges_free(&r);
		glue_chain_obj_close(o);
	}
	glue_chain_close(&c);
	return out;
fail:
	tap_diag("read %s: %s", top, err ? err->msg : "?");
	ck_err_free(&err);
	glue_chain_close(&c);
	free(out);
	return NULL;
}

/* The page at @vaddr of object @name of the single layer @dir: 1 = pattern(tag), 0 = not held. */
static int page_is(const char *dir, const char *name, uint64_t vaddr, char tag)
{
	struct ck_err *err = NULL;
	struct glue_chain c;
	struct glue_chain_obj *o;
	static uint8_t buf[PG], want[PG];
	bool held = false;
	int rc = -1;

	if (glue_chain_open(dir, &c, &err) < 0)
		goto out;
	o = glue_chain_obj_open(&c, name, &err);
	if (o && glue_chain_obj_read(o, vaddr, buf, &held, &err) == 0) {
		pattern(want, tag, vaddr);
		rc = tag ? held && !memcmp(buf, want, PG) : !held;
	}
	glue_chain_obj_close(o);
	glue_chain_close(&c);
out:
	ck_err_free(&err);
	return rc;
}

/* Whether @dir holds a hidden temporary directory. */
static bool has_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	while (d && (de = readdir(d)))
		if (strstr(de->d_name, ".ckpt-tmp-"))
			found = true;
	if (d)
		closedir(d);
	return found;
}

static char *file_text(const char *path)
{
	static char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

static void rm_rf(const char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	free(cmd);
}

static void test_merge(const char *root)
{
	char *dir = xasprintf("%s/ok", root), *before, *after;
	char b[512], c[512], d[512], ino_meta[600];
	struct glue_merge_stats st;
	struct ck_err *err = NULL;
	struct glue_dump_stats ds;
	struct stat sb;
	ino_t meta_ino = 0;

	snprintf(b, sizeof(b), "%s/1", dir);
	snprintf(c, sizeof(c), "%s/2", dir);
	snprintf(d, sizeof(d), "%s/3", dir);
	snprintf(ino_meta, sizeof(ino_meta), "%s/test-meta", c);

	tap_ok(make_set(dir) == 0, "synthetic chain 1 <- 2 <- 3 written");
	before = snapshot(d);
	tap_ok(before && strlen(before) > 0, "the chain from 3 rebuilds its memory");
	if (stat(ino_meta, &sb) == 0)
		meta_ino = sb.st_ino;
	tap_ok(glue_layer_merge(b, c, &st, &err) == 0, "1 and 2 merge into 2%s%s", err ? ": " : "",
	       err ? err->msg : "");
	ck_err_free(&err);
	after = snapshot(d);
	tap_ok(before && after && !strcmp(before, after),
	       "the chain from 3 rebuilds exactly the same memory after the merge");
	tap_ok(access(b, F_OK) != 0 && errno == ENOENT, "the old base 1 is gone");
	tap_ok(lstat(at(c, "parent"), &sb) < 0 && errno == ENOENT,
	       "the merged layer has no parent link");
	tap_ok(!has_tmp(dir), "no temporary directory left");
	tap_ok(page_is(c, "pagemap-1.img", 0x10000, 'B') == 1 &&
		       page_is(c, "pagemap-1.img", 0x11000, 'B') == 1,
	       "PE_PARENT pages of the child: the base's data");
	tap_ok(page_is(c, "pagemap-1.img", 0x12000, 'C') == 1,
	       "a page in both layers: the child's data");
	tap_ok(page_is(c, "pagemap-1.img", 0x13000, 0) == 1,
	       "a page only the base held (the child lists it not: a zero page now) is not in the merge");
	tap_ok(page_is(c, "pagemap-1.img", 0x14000, 'C') == 1 &&
		       page_is(c, "pagemap-1.img", 0x20000, 'C') == 1,
	       "pages only in the child");
	tap_ok(page_is(c, "pagemap-1.img", 0x16000, 'B') == 1 &&
		       page_is(c, "pagemap-1.img", 0x17000, 'b') == 1,
	       "a PE_PARENT range spanning two base entries takes each one's data");
	tap_ok(page_is(c, "pagemap-shmem-77.img", 0, 'S') == 1 &&
		       page_is(c, "pagemap-shmem-77.img", 0x1000, 'C') == 1,
	       "shared memory object merged");
	tap_ok(page_is(c, "pagemap-3.img", 0x50000, 'C') == 1, "a pagemap only in the child kept");
	tap_ok(access(at(c, "pagemap-2.img"), F_OK) != 0,
	       "a pagemap only in the base (its task is gone) dropped");
	tap_ok(st.pages == 10 && st.shpages == 2 && st.pages_from_base == 6 &&
		       st.pages_from_child == 6 && st.objects == 3,
	       "merge figures: 10 + 2 pages, 6 from the base, 6 from the child, 3 objects "
	       "(got %llu + %llu, %llu, %llu, %llu)",
	       (unsigned long long)st.pages, (unsigned long long)st.shpages,
	       (unsigned long long)st.pages_from_base, (unsigned long long)st.pages_from_child,
	       (unsigned long long)st.objects);
	tap_ok(!strcmp(file_text(ino_meta), "meta C\n") && stat(ino_meta, &sb) == 0 &&
		       sb.st_ino == meta_ino,
	       "the child's other files are kept (hard links)");
	tap_ok(glue_layer_read_stats(c, &ds, &err) == 0 && ds.pages_written == 10 &&
		       ds.shpages_written == 2 && ds.pages_skipped_parent == 0 &&
		       ds.frozen_us == 1234,
	       "stats-dump: merged page counts, the child's times");
	ck_err_free(&err);
	{
		struct glue_pagemap pm;
		int fd = open(c, O_RDONLY | O_DIRECTORY);
		bool all_present = true;

		tap_ok(glue_pagemap_load(fd, "pagemap-1.img", &pm, NULL, &err) == 0,
		       "merged pagemap loads");
		for (size_t i = 0; i < pm.nr; i++)
			if (pm.e[i].flags != IMG_PE_PRESENT)
				all_present = false;
		tap_ok(all_present && pm.nr == 3,
		       "merged pagemap: PE_PRESENT only, adjacent pages joined (%zu entries)",
		       pm.nr);
		glue_pagemap_free(&pm);
		close(fd);
		ck_err_free(&err);
	}
	/* a pair that is not (base, its child) */
	tap_ok(glue_layer_merge(d, c, &st, &err) < 0 && err && strstr(err->msg, "has a parent"),
	       "a base with a parent is refused");
	ck_err_free(&err);
	tap_ok(glue_layer_merge(c, c, &st, &err) < 0 && err, "a layer is not merged with itself");
	ck_err_free(&err);
	free(before);
	free(after);
	free(dir);
}

static void test_missing_in_base(const char *root)
{
	static const struct ent b1[] = { { 0x10000, 1, 'B' } };
	static const struct ent c1[] = { { 0x10000, 2, 0 } };
	const struct obj b[] = { OBJ("pagemap-1.img", b1, false) };
	const struct obj c[] = { OBJ("pagemap-1.img", c1, false) };
	char *dir = xasprintf("%s/bad", root);
	char bp[512], cp[512];
	struct glue_merge_stats st;
	struct ck_err *err = NULL;
	struct stat sb;

	snprintf(bp, sizeof(bp), "%s/1", dir);
	snprintf(cp, sizeof(cp), "%s/2", dir);
	mkdir(dir, 0700);
	tap_ok(write_layer(bp, NULL, b, 1, "b") == 0 && write_layer(cp, "../1", c, 1, "c") == 0,
	       "a child whose PE_PARENT range its base lacks");
	glue_layer_merge(bp, cp, &st, &err);
	tap_ok(err && strstr(err->msg, "missing 0x11000 in parent pagemap"),
	       "refused, naming the missing page: %s", err ? err->msg : "(no error)");
	ck_err_free(&err);
	tap_ok(lstat(at(cp, "parent"), &sb) == 0 && access(bp, F_OK) == 0 && !has_tmp(dir),
	       "the chain is left as it was, no temporary directory");
	free(dir);
}

/*
 * A merge in a child process with CK_FAULT=@fault: the chain from 3 must
 * rebuild the same memory after it, and the next layer written beside
 * removes what the dead run left.
 */
static void test_fault(const char *root, const char *fault, bool killed, bool merged)
{
	char *dir = xasprintf("%s/f-%s", root, fault), *before, *after, *colon;
	char b[512], c[512], d[512];
	struct ck_err *err = NULL;
	struct glue_layer l;
	struct stat sb;
	pid_t pid;
	int status = 0;

	colon = strchr(dir + strlen(root), ':');
	if (colon)
		*colon = '-';
	snprintf(b, sizeof(b), "%s/1", dir);
	snprintf(c, sizeof(c), "%s/2", dir);
	snprintf(d, sizeof(d), "%s/3", dir);
	if (make_set(dir) < 0) {
		tap_ok(false, "%s: synthetic chain", fault);
		free(dir);
		return;
	}
	before = snapshot(d);
	pid = fork();
	if (pid == 0) {
		struct glue_merge_stats st;
		struct ck_err *e = NULL;

		setenv("CK_FAULT", fault, 1);
		glue_fault_init();
		if (glue_layer_merge(b, c, &st, &e) == 0)
			_exit(0);
		_exit(e && strstr(e->msg, "fault injected") ? 3 : 4);
	}
	waitpid(pid, &status, 0);
	if (killed)
		tap_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		       "%s: the merge is killed", fault);
	else
		tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 3,
		       "%s: the merge fails with the injected fault (status %#x)", fault, status);
	after = snapshot(d);
	tap_ok(before && after && !strcmp(before, after),
	       "%s: the chain from 3 rebuilds the same memory", fault);
	tap_ok((lstat(at(c, "parent"), &sb) < 0) == merged, "%s: %s", fault,
	       merged ? "the chain is the merged one" : "the chain is the old one");
	/* the next run's layer beside removes the stale temporary directories */
	if (glue_layer_begin(at(dir, "4"), "../3", &l, &err) == 0)
		glue_layer_abort(&l);
	ck_err_free(&err);
	tap_ok(!has_tmp(dir),
	       "%s: the next layer's run removed the dead run's temporary directories", fault);
	if (merged)
		tap_ok(access(b, F_OK) != 0 && errno == ENOENT,
		       "%s: the next layer's run also removed the old base the merge had left",
		       fault);
	else
		tap_ok(access(b, F_OK) == 0, "%s: the old chain's base is kept", fault);
	free(before);
	free(after);
	free(dir);
}

static bool zombie(pid_t pid)
{
	char path[64], buf[256], *p;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[2] == 'Z';
}

/*
 * A dead run's own temporary layer directory (with a parent link) beside a
 * complete parentless layer of the same name written later: not a merge's
 * leftover, so the parent it names is kept.
 */
static void test_stale_not_merge(const char *root)
{
	static const struct ent e1[] = { { 0x10000, 1, 'B' } };
	const struct obj o[] = { OBJ("pagemap-1.img", e1, false) };
	char *dir = xasprintf("%s/stale", root);
	char stale[600];
	struct ck_err *err = NULL;
	struct glue_layer l;
	pid_t dead = fork();

	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	mkdir(dir, 0700);
	snprintf(stale, sizeof(stale), "%s/.5.ckpt-tmp-%d", dir, (int)dead);
	tap_ok(write_layer(at(dir, "3"), NULL, o, 1, "3") == 0 &&
		       write_layer(at(dir, "5"), NULL, o, 1, "5") == 0 && mkdir(stale, 0700) == 0 &&
		       symlink("../3", at(stale, "parent")) == 0 &&
		       link(at(at(dir, "5"), "test-meta"), at(stale, "test-meta")) == 0,
	       "a dead run's temporary layer with a parent link, beside a later full layer");
	if (glue_layer_begin(at(dir, "6"), NULL, &l, &err) == 0)
		glue_layer_abort(&l);
	ck_err_free(&err);
	tap_ok(access(stale, F_OK) != 0 && access(at(dir, "3"), F_OK) == 0,
	       "the stale directory goes, the layer its parent link names stays");
	{
		/* a zombie run (killed, not reaped yet) is gone; a live one is not */
		pid_t z = fork();
		char zdir[600], live[600];

		if (z == 0)
			_exit(0);
		snprintf(zdir, sizeof(zdir), "%s/.7.ckpt-tmp-%d", dir, (int)z);
		snprintf(live, sizeof(live), "%s/.8.ckpt-tmp-%d", dir, (int)getppid());
		mkdir(zdir, 0700);
		mkdir(live, 0700);
		for (int i = 0; i < 1000 && !zombie(z); i++)
			usleep(1000);
		if (glue_layer_begin(at(dir, "6"), NULL, &l, &err) == 0)
			glue_layer_abort(&l);
		ck_err_free(&err);
		tap_ok(access(zdir, F_OK) != 0, "a zombie run's temporary directory is removed");
		tap_ok(access(live, F_OK) == 0, "a live run's temporary directory is kept");
		waitpid(z, NULL, 0);
		rmdir(live);
	}
	free(dir);
}

int main(void)
{
	char tmpl[] = "/tmp/test-merge-XXXXXX";
	char *root = mkdtemp(tmpl);

	if (!root) {
		tap_skip("mkdtemp failed", "merge tests");
		return tap_done();
	}
	test_merge(root);
	test_missing_in_base(root);
	test_stale_not_merge(root);
	test_fault(root, "merge-pages:kill", true, false);
	test_fault(root, "merge-built:kill", true, false);
	test_fault(root, "merge-built", false, false);
	test_fault(root, "merge-switched:kill", true, true);
	test_fault(root, "image-PAGEMAP:kill", true, false);
	rm_rf(root);
	return tap_done();
}
