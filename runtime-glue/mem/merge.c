// SPDX-License-Identifier: MIT
/*
 * Merging the two oldest layers of a chain into one (merge.h): pages streamed
 * from the child, PE_PARENT ranges from the base, the child's metadata kept,
 * and an atomic exchange of the merged directory with the child.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/file.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "proto/img.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/mem/chain.h"
#include "runtime-glue/mem/layer.h"
#include "runtime-glue/mem/merge.h"
#include "runtime-glue/mem/pagemap.h"

#define CHUNK_PAGES 64 /* 256 KiB copy buffer */

struct merge {
	const char *base, *child;
	int bfd, cfd;
	struct glue_layer l;
	struct glue_merge_stats st;
	char *buf;
};

/* The pages file of pagemap @pm in layer @dirfd, opened on first use. */
static int pages_fd(int dirfd, const char *path, const struct glue_pagemap *pm, int *fd,
		    struct ck_err **err)
{
	_cleanup_free_ char *name = NULL;

	if (*fd >= 0)
		return 0;
	name = img_filename(IMG_PAGES, pm->pages_id);
	*fd = ck_open_regular(dirfd, name, true, err);
	if (*fd < 0)
		return ck_err_wrap(err, "%s", path);
	return 0;
}

/* @n pages of data at byte @off of @fd into the merge at @vaddr. */
static int copy_pages(struct merge *m, struct glue_pmw *w, int fd, uint64_t off, uint64_t vaddr,
		      uint64_t n, const char *path, const char *name, struct ck_err **err)
{
	while (n) {
		size_t k = n < CHUNK_PAGES ? (size_t)n : CHUNK_PAGES;
		size_t want = k * GLUE_PAGE_SIZE, got = 0;

		while (got < want) {
			ssize_t r = pread(fd, m->buf + got, want - got, (off_t)(off + got));

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return ck_err_set(err, r < 0 ? errno : 0,
						  "%s: pages of %s end before %#" PRIx64, path,
						  name, vaddr + got);
			got += (size_t)r;
		}
		if (glue_pmw_add(w, vaddr, k, m->buf, err) < 0)
			return ck_err_wrap(err, "%s", m->l.tmp);
		off += want;
		vaddr += want;
		n -= k;
	}
	return 0;
}

struct obj {
	const char *name;
	struct glue_pagemap cpm, bpm;
	bool b_loaded, b_missing;
	int cpages, bpages;
	size_t j; /* cursor in bpm: entries before it end at or before the range */
	uint64_t *count;
};

/* A PE_PARENT range of the child: the base's data, split along its entries. */
static int from_base(struct merge *m, struct obj *o, struct glue_pmw *w, uint64_t vaddr, uint64_t n,
		     struct ck_err **err)
{
	if (!o->b_loaded) {
		if (glue_pagemap_load(m->bfd, o->name, &o->bpm, &o->b_missing, err) < 0)
			return ck_err_wrap(err, "%s", m->base);
		o->b_loaded = true;
	}
	if (o->b_missing)
		return ck_err_set(err, 0, "%s: %s missing, but %s refers to it (PE_PARENT)",
				  m->base, o->name, m->child);
	while (n) {
		const struct glue_pm_ent *e;
		uint64_t end, k;

		while (o->j < o->bpm.nr &&
		       o->bpm.e[o->j].vaddr + o->bpm.e[o->j].nr_pages * GLUE_PAGE_SIZE <= vaddr)
			o->j++;
		e = o->j < o->bpm.nr ? &o->bpm.e[o->j] : NULL;
		if (!e || e->vaddr > vaddr)
			return ck_err_set(err, 0, "%s/%s: missing %#" PRIx64 " in parent pagemap",
					  m->base, o->name, vaddr);
		if (e->flags & IMG_PE_PARENT)
			return ck_err_set(err, 0,
					  "%s/%s: PE_PARENT at %#" PRIx64
					  " but the base has no parent",
					  m->base, o->name, vaddr);
		if (pages_fd(m->bfd, m->base, &o->bpm, &o->bpages, err) < 0)
			return -1;
		end = e->vaddr + e->nr_pages * GLUE_PAGE_SIZE;
		k = (end - vaddr) / GLUE_PAGE_SIZE;
		if (k > n)
			k = n;
		if (copy_pages(m, w, o->bpages, e->pages_off + (vaddr - e->vaddr), vaddr, k,
			       m->base, o->name, err) < 0)
			return -1;
		m->st.pages_from_base += k;
		*o->count += k;
		vaddr += k * GLUE_PAGE_SIZE;
		n -= k;
	}
	return 0;
}

static int merge_entries(struct merge *m, struct obj *o, struct glue_pmw *w, struct ck_err **err)
{
	for (size_t i = 0; i < o->cpm.nr; i++) {
		const struct glue_pm_ent *e = &o->cpm.e[i];

		/* PE_PARENT wins over PE_PRESENT, as in the chain reader and CRIU */
		if (e->flags & IMG_PE_PARENT) {
			if (from_base(m, o, w, e->vaddr, e->nr_pages, err) < 0)
				return -1;
			continue;
		}
		if (pages_fd(m->cfd, m->child, &o->cpm, &o->cpages, err) < 0)
			return -1;
		if (copy_pages(m, w, o->cpages, e->pages_off, e->vaddr, e->nr_pages, m->child,
			       o->name, err) < 0)
			return -1;
		m->st.pages_from_child += e->nr_pages;
		*o->count += e->nr_pages;
	}
	return 0;
}

/* One memory object: the child's pagemap @name with the base's data filled in. */
static int merge_obj(struct merge *m, const char *name, struct ck_err **err)
{
	bool shmem = !strncmp(name, "pagemap-shmem-", 14);
	struct obj o = { .name = name, .cpages = -1, .bpages = -1 };
	struct glue_pmw *w;
	int rc = -1;

	o.count = shmem ? &m->st.shpages : &m->st.pages;
	if (glue_pagemap_load(m->cfd, name, &o.cpm, NULL, err) < 0)
		return ck_err_wrap(err, "%s", m->child);
	w = glue_pmw_open(&m->l, name, err);
	if (w) {
		if (merge_entries(m, &o, w, err) < 0)
			glue_pmw_abort(w);
		else
			rc = glue_pmw_close(w, err);
	}
	glue_pagemap_free(&o.cpm);
	glue_pagemap_free(&o.bpm);
	if (o.cpages >= 0)
		close(o.cpages);
	if (o.bpages >= 0)
		close(o.bpages);
	m->st.objects++;
	return rc;
}

/* A metadata file of the child, into the merge: a hard link, or a copy. */
static int keep_file(struct merge *m, const char *name, struct ck_err **err)
{
	_cleanup_close_ int in = -1, out = -1;
	struct stat st;
	ssize_t r;

	if (linkat(m->cfd, name, m->l.dirfd, name, 0) == 0)
		return 0;
	in = ck_open_regular(m->cfd, name, true, err);
	if (in < 0)
		return ck_err_wrap(err, "%s", m->child);
	if (fstat(in, &st) < 0)
		return ck_err_set(err, errno, "%s/%s", m->child, name);
	out = openat(m->l.dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0777);
	if (out < 0)
		return ck_err_set(err, errno, "create %s/%s", m->l.tmp, name);
	while ((r = read(in, m->buf, CHUNK_PAGES * GLUE_PAGE_SIZE)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ck_err_set(err, errno, "read %s/%s", m->child, name);
		if (write(out, m->buf, (size_t)r) != r)
			return ck_err_set(err, errno, "write %s/%s", m->l.tmp, name);
	}
	return 0;
}

static bool has_affix(const char *s, const char *pre, const char *suf)
{
	size_t n = strlen(s), p = strlen(pre), q = strlen(suf);

	return n >= p + q && !strncmp(s, pre, p) && !strcmp(s + n - q, suf);
}

/* Every file of the child into the merge (stats-dump last, with the merged counts). */
static int build(struct merge *m, struct ck_err **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct glue_dump_stats st;
	struct dirent *de;
	bool stats = false, first = true;
	int fd = openat(m->cfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return ck_err_set(err, errno, "%s", m->child);
	}
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		struct stat sb;

		if (!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, "parent") ||
		    has_affix(n, "pages-", ".img"))
			continue;
		if (!strcmp(n, "stats-dump")) {
			stats = true;
			continue;
		}
		if (fstatat(m->cfd, n, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			return ck_err_set(err, errno, "%s/%s", m->child, n);
		if (!S_ISREG(sb.st_mode))
			return ck_err_set(err, 0, "%s/%s is %s, not a layer's file", m->child, n,
					  ck_file_kind(sb.st_mode));
		if (!has_affix(n, "pagemap-", ".img")) {
			if (keep_file(m, n, err) < 0)
				return -1;
			continue;
		}
		if (merge_obj(m, n, err) < 0)
			return -1;
		if (first && glue_fault("merge-pages", err) < 0)
			return -1;
		first = false;
	}
	if (!stats)
		return 0;
	if (glue_layer_read_stats(m->child, &st, err) < 0)
		return -1;
	st.pages_written = m->st.pages;
	st.pages_skipped_parent = 0;
	st.shpages_written = m->st.shpages;
	st.shpages_skipped_parent = 0;
	return glue_layer_write_stats(&m->l, &st, err);
}

/* fsync every file of the merge (hard links included: the child's data may be unsynced). */
static int sync_files(struct merge *m, struct ck_err **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd = openat(m->l.dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return ck_err_set(err, errno, "%s", m->l.tmp);
	}
	while ((de = readdir(d))) {
		_cleanup_close_ int f = -1;

		if (de->d_name[0] == '.')
			continue;
		f = openat(m->l.dirfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (f < 0 || fsync(f) < 0)
			return ck_err_set(err, errno, "fsync %s/%s", m->l.tmp, de->d_name);
	}
	return 0;
}

/* @child's parent link leads to @base, which has none; both are layers. */
static int check_pair(struct merge *m, struct ck_err **err)
{
	struct glue_chain c;
	struct stat a, b;
	_cleanup_close_ int pfd = -1;

	if (fstatat(m->bfd, "parent", &a, AT_SYMLINK_NOFOLLOW) == 0)
		return ck_err_set(err, 0, "%s has a parent: only the oldest layer is merged",
				  m->base);
	pfd = openat(m->cfd, "parent", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return ck_err_set(err, errno, "%s/parent", m->child);
	if (fstat(pfd, &a) < 0 || fstat(m->bfd, &b) < 0)
		return ck_err_set(err, errno, "%s", m->child);
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return ck_err_set(err, 0, "%s/parent does not lead to %s", m->child, m->base);
	if (glue_chain_open(m->child, &c, err) < 0)
		return -1;
	glue_chain_close(&c);
	return 0;
}

/* Past the exchange: the old layers go (nothing fails any more). */
static void remove_old(struct merge *m)
{
	_cleanup_free_ char *hidden = glue_layer_tmp_name(m->base);
	_cleanup_free_ char *old_child = xstrdup(m->l.tmp);
	_cleanup_err_ struct ck_err *e = NULL;

	if (glue_fault("merge-switched", &e) < 0)
		pr_warn("%s", e->msg);
	if (rename(m->base, hidden) < 0) {
		pr_warn("merged %s: cannot rename the old base %s: %s", m->child, m->base,
			strerror(errno));
		free(hidden);
		hidden = xstrdup(m->base);
	}
	glue_layer_abort(&m->l);
	if (access(old_child, F_OK) == 0)
		pr_warn("merged %s: cannot remove %s", m->child, old_child);
	if (glue_layer_remove_flat(hidden) < 0 && errno != ENOENT)
		pr_warn("merged %s: cannot remove %s: %s", m->child, hidden, strerror(errno));
}

static int run(struct merge *m, struct ck_err **err)
{
	m->bfd = open(m->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->bfd < 0)
		return ck_err_set(err, errno, "layer %s", m->base);
	m->cfd = open(m->child, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->cfd < 0)
		return ck_err_set(err, errno, "layer %s", m->child);
	if (check_pair(m, err) < 0 || glue_layer_begin_replace(m->child, &m->l, err) < 0)
		return -1;
	if (build(m, err) < 0 || sync_files(m, err) < 0 || glue_fault("merge-built", err) < 0 ||
	    glue_layer_exchange(&m->l, err) < 0) {
		glue_layer_abort(&m->l);
		return -1;
	}
	remove_old(m);
	return 0;
}

/* see merge.h */
int glue_layer_merge(const char *base, const char *child, struct glue_merge_stats *st,
		     struct ck_err **err)
{
	struct merge m = { .base = base, .child = child, .bfd = -1, .cfd = -1 };
	int rc;

	memset(st, 0, sizeof(*st));
	m.l.dirfd = m.l.parent_dirfd = -1;
	m.buf = xmalloc_pages(CHUNK_PAGES * GLUE_PAGE_SIZE);
	rc = run(&m, err);
	free(m.buf);
	if (m.bfd >= 0)
		close(m.bfd);
	if (m.cfd >= 0)
		close(m.cfd);
	if (rc < 0)
		return ck_err_wrap(err, "merge of %s into %s", base, child);
	*st = m.st;
	return 0;
}

/* see merge.h */
int glue_chain_lock(const char *dir, struct ck_err **err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return ck_err_set(err, errno, "layer directory %s", dir);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK)
			return ck_err_set(
				err, EBUSY,
				"the layers in %s are being merged by another ckpt (a pre-copy agent keeping them, or a ckpt compact)",
				dir);
		return ck_err_set(err, e, "lock %s", dir);
	}
	return fd;
}
