// SPDX-License-Identifier: MIT
/*
 * Reading a layer chain: a directory and its parents (`parent` links), and the
 * content of one memory object reconstructed down the chain.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/file.h"
#include "common/err.h"
#include "common/xalloc.h"
#include "proto/img.h"
#include "proto/inventory.pb-c.h"
#include "runtime-glue/mem/chain.h"
#include "runtime-glue/mem/layer.h"
#include "runtime-glue/mem/pagemap.h"

#define MAX_LINK 1024 /* longest chain followed */

/*
 * The files of one layer directory are data only: regular files (and the
 * `parent` link, and directories, which nothing opens).  A FIFO, device,
 * socket or other symlink would block or redirect a later open: refused here,
 * before any tree is frozen.  inventory.img must decode, and a ckpt-layer file
 * must start as one.
 */
static int check_layer(int dirfd, const char *path, struct ck_err **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_(img_releasep) struct img *img = NULL;
	_cleanup_free_ char *inv_path = NULL;
	InventoryEntry *inv = NULL;
	struct dirent *de;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return ck_err_set(err, errno, "%s", path);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return ck_err_set(err, errno, "%s", path);
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return ck_err_set(err, errno, "%s/%s", path, de->d_name);
		if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) ||
		    (S_ISLNK(st.st_mode) && !strcmp(de->d_name, "parent")))
			continue;
		return ck_err_set(err, 0, "%s/%s is %s, not a regular file", path, de->d_name,
				  ck_file_kind(st.st_mode));
	}
	inv_path = xasprintf("%s/inventory.img", path);
	img = img_open(AT_FDCWD, inv_path, IMG_INVENTORY, err);
	if (!img || img_read_entry(img, (void **)&inv, err) < 0)
		return -1;
	if (!inv)
		return ck_err_set(err, 0, "%s holds no entry", inv_path);
	img_free_msg(inv);
	return glue_layer_check_meta(dirfd, path, err);
}

/* see chain.h */
int glue_chain_open(const char *dir, struct glue_chain *out, struct ck_err **err)
{
	struct glue_chain c = { 0 };
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ char *path = xstrdup(dir);
	struct stat *ids = NULL;

	memset(out, 0, sizeof(*out));
	if (fd < 0)
		return ck_err_set(err, errno, "images directory %s", dir);
	for (;;) {
		struct stat st;
		char *real;
		int pfd;

		if (faccessat(fd, "inventory.img", F_OK, 0) < 0) {
			ck_err_set(err, errno, "%s holds no layer (inventory.img)", path);
			close(fd);
			goto fail;
		}
		c.l = xreallocarray(c.l, c.nr + 1, sizeof(*c.l));
		c.l[c.nr].dirfd = fd;
		c.l[c.nr].path = steal_ptr(&path);
		c.nr++;
		ids = xreallocarray(ids, c.nr, sizeof(*ids));
		if (fstat(fd, &ids[c.nr - 1]) < 0) {
			ck_err_set(err, errno, "%s", c.l[c.nr - 1].path);
			goto fail;
		}
		for (size_t i = 0; i + 1 < c.nr; i++) {
			if (ids[i].st_dev != ids[c.nr - 1].st_dev ||
			    ids[i].st_ino != ids[c.nr - 1].st_ino)
				continue;
			ck_err_set(err, 0, "layer chain of %s loops: %s/parent leads back to %s",
				   dir, c.l[c.nr - 2].path, c.l[i].path);
			goto fail;
		}
		if (check_layer(fd, c.l[c.nr - 1].path, err) < 0)
			goto fail;
		if (c.nr > MAX_LINK) {
			ck_err_set(err, ELOOP,
				   "layer chain of %s is longer than %d (a parent loop?)", dir,
				   MAX_LINK);
			goto fail;
		}
		if (fstatat(fd, "parent", &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				break;
			ck_err_set(err, errno, "%s/parent", c.l[c.nr - 1].path);
			goto fail;
		}
		pfd = openat(fd, "parent", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0) {
			ck_err_set(err, errno, "%s/parent (dangling parent link?)",
				   c.l[c.nr - 1].path);
			goto fail;
		}
		fd = pfd;
		path = xasprintf("%s/parent", c.l[c.nr - 1].path);
		/* messages name the parent by its own name where it resolves */
		real = realpath(path, NULL);
		if (real) {
			free(path);
			path = real;
		}
	}
	free(ids);
	*out = c;
	return 0;
fail:
	free(ids);
	glue_chain_close(&c);
	return -1;
}

/* see chain.h */
void glue_chain_close(struct glue_chain *c)
{
	for (size_t i = 0; i < c->nr; i++) {
		close(c->l[i].dirfd);
		free(c->l[i].path);
	}
	free(c->l);
	memset(c, 0, sizeof(*c));
}

struct chain_level {
	bool loaded, missing;
	struct glue_pagemap pm;
	int pages_fd;
};

struct glue_chain_obj {
	const struct glue_chain *c;
	char *name;
	struct chain_level *lv;
};

static int level_load(struct glue_chain_obj *o, size_t i, struct ck_err **err)
{
	struct chain_level *lv = &o->lv[i];
	_cleanup_free_ char *pages = NULL;

	if (lv->loaded)
		return 0;
	if (glue_pagemap_load(o->c->l[i].dirfd, o->name, &lv->pm, &lv->missing, err) < 0)
		return ck_err_wrap(err, "%s", o->c->l[i].path);
	lv->loaded = true;
	if (lv->missing)
		return 0;
	pages = img_filename(IMG_PAGES, lv->pm.pages_id);
	lv->pages_fd = ck_open_regular(o->c->l[i].dirfd, pages, true, err);
	if (lv->pages_fd < 0)
		return ck_err_wrap(err, "%s", o->c->l[i].path);
	return 0;
}

/* see chain.h */
struct glue_chain_obj *glue_chain_obj_open(const struct glue_chain *c, const char *pagemap_name,
					   struct ck_err **err)
{
	struct glue_chain_obj *o = xzalloc(sizeof(*o));

	o->c = c;
	o->name = xstrdup(pagemap_name);
	o->lv = xcalloc(c->nr, sizeof(*o->lv));
	for (size_t i = 0; i < c->nr; i++)
		o->lv[i].pages_fd = -1;
	if (level_load(o, 0, err) < 0) {
		glue_chain_obj_close(o);
		return NULL;
	}
	return o;
}

/* see chain.h */
void glue_chain_obj_close(struct glue_chain_obj *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->c->nr; i++) {
		glue_pagemap_free(&o->lv[i].pm);
		if (o->lv[i].pages_fd >= 0)
			close(o->lv[i].pages_fd);
	}
	free(o->lv);
	free(o->name);
	free(o);
}

static const struct glue_pm_ent *pm_find(const struct glue_pagemap *pm, uint64_t vaddr)
{
	size_t lo = 0, hi = pm->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct glue_pm_ent *e = &pm->e[mid];

		if (vaddr < e->vaddr)
			hi = mid;
		else if (vaddr >= e->vaddr + e->nr_pages * GLUE_PAGE_SIZE)
			lo = mid + 1;
		else
			return e;
	}
	return NULL;
}

/* see chain.h */
int glue_chain_obj_read(struct glue_chain_obj *o, uint64_t vaddr, void *buf, bool *held,
			struct ck_err **err)
{
	*held = false;
	for (size_t i = 0; i < o->c->nr; i++) {
		const struct glue_pm_ent *e;
		ssize_t got;

		if (level_load(o, i, err) < 0)
			return -1;
		if (o->lv[i].missing) {
			if (i == 0)
				return 0;
			return ck_err_set(err, 0,
					  "%s: %s missing, but the layer above refers to it",
					  o->c->l[i].path, o->name);
		}
		e = pm_find(&o->lv[i].pm, vaddr);
		if (!e) {
			if (i == 0)
				return 0;
			return ck_err_set(err, 0, "%s/%s: missing %#" PRIx64 " in parent pagemap",
					  o->c->l[i].path, o->name, vaddr);
		}
		if (e->flags & IMG_PE_PARENT) {
			if (i + 1 == o->c->nr)
				return ck_err_set(err, 0,
						  "%s/%s: PE_PARENT at %#" PRIx64
						  " but no parent layer",
						  o->c->l[i].path, o->name, vaddr);
			continue;
		}
		got = pread(o->lv[i].pages_fd, buf, GLUE_PAGE_SIZE,
			    (off_t)(e->pages_off + (vaddr - e->vaddr)));
		if (got != (ssize_t)GLUE_PAGE_SIZE)
			return ck_err_set(err, got < 0 ? errno : 0,
					  "%s: pages of %s end before %#" PRIx64, o->c->l[i].path,
					  o->name, vaddr);
		*held = true;
		return 0;
	}
	return 0;
}

/* see chain.h */
void glue_chain_obj_ranges(const struct glue_chain_obj *o, struct glue_ranges *out)
{
	if (!o->lv[0].missing)
		glue_pagemap_ranges(&o->lv[0].pm, out);
}
