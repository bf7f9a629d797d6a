// SPDX-License-Identifier: MIT
/*
 * Layer directories (a temporary sibling renamed onto the final name), their
 * meta (inventory, pstree, mm, stats, ckpt-layer) and reading it back.  The
 * pagemap writer and loader are in pagemap.c, the chain reader in chain.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/file.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "proto/img.h"
#include "proto/inventory.pb-c.h"
#include "proto/mm.pb-c.h"
#include "proto/pstree.pb-c.h"
#include "proto/stats.pb-c.h"
#include "proto/vma.pb-c.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/mem/chain.h"
#include "runtime-glue/mem/layer.h"
#include "runtime-glue/mem/pagemap.h"
#include "runtime-glue/proc/proc.h"

#define TMP_TAG ".ckpt-tmp-"
#define META    "ckpt-layer"

/* see layer.h */
int glue_layer_remove_flat(const char *path)
{
	/* never through a symlink swapped in for the layer's name */
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_closedir_ DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(d), de->d_name, 0);
	return rmdir(path);
}

static void split_path(const char *dir, char **parent, char **base)
{
	_cleanup_free_ char *a = xstrdup(dir), *b = xstrdup(dir);

	*parent = xstrdup(dirname(a));
	*base = xstrdup(basename(b));
}

/* see layer.h */
int glue_layer_retire(const char *path)
{
	_cleanup_free_ char *parent = NULL, *base = NULL, *hidden = NULL;
	struct stat st;

	/* the layer's own name only: never through a symlink planted there */
	if (lstat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	split_path(path, &parent, &base);
	hidden = xasprintf("%s/.%s" TMP_TAG "%d", parent, base, (int)getpid());
	glue_layer_remove_flat(hidden);
	if (rename(path, hidden) < 0)
		return -1;
	return glue_layer_remove_flat(hidden);
}

/* Bytes in the files of a flat directory (a temporary layer). */
static uint64_t dir_bytes(const char *path)
{
	_cleanup_closedir_ DIR *d = opendir(path);
	struct dirent *de;
	uint64_t n = 0;

	while (d && (de = readdir(d))) {
		struct stat st;

		if (!fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode))
			n += (uint64_t)st.st_size;
	}
	return n;
}

/* Whether the ckpt run @pid is gone: no such process, or a zombie not reaped yet. */
static bool run_gone(pid_t pid)
{
	char path[64], buf[512], *p;
	_cleanup_close_ int fd = -1;
	ssize_t n;

	if (kill(pid, 0) < 0)
		return errno == ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* a zombie leader whose other threads still run shows Z too: field 20 counts them */
	if (!p || p[1] != ' ' || (p[2] != 'Z' && p[2] != 'X'))
		return false;
	for (int field = 3; field <= 20 && p; field++)
		p = strchr(p + 1, ' ');
	return p && strtol(p + 1, NULL, 10) <= 1;
}

/*
 * A merge (mem/merge.h) killed between its exchange and its base's removal:
 * the stale @stale (.NAME.ckpt-tmp-PID) is then the old child, whose files are
 * the very files (hard links) of the merge now at NAME, and whose `parent`
 * link leads to the old base, a sibling without a parent: that base is no
 * longer part of any chain through NAME and goes too.  Anything else (a
 * layer's own temporary directory, a merge whose files were copied) leaves
 * the parent alone.
 */
static void remove_merged_base(const char *parent, const char *tmp_name, const char *tag,
			       const char *stale)
{
	_cleanup_free_ char *live =
		xasprintf("%s/%.*s", parent, (int)(tag - tmp_name - 1), tmp_name + 1);
	_cleanup_free_ char *link = xasprintf("%s/parent", stale);
	_cleanup_free_ char *a = xasprintf("%s/inventory.img", live);
	_cleanup_free_ char *b = xasprintf("%s/inventory.img", stale);
	_cleanup_free_ char *lp = xasprintf("%s/parent", live);
	_cleanup_free_ char *base = NULL, *bp = NULL, *real_parent = NULL, *base_dir = NULL;
	_cleanup_free_ char *real_live = NULL;
	struct stat sa, sb, sl;
	char *slash;

	if (lstat(link, &sl) < 0 || !S_ISLNK(sl.st_mode) || stat(a, &sa) < 0 || stat(b, &sb) < 0 ||
	    sa.st_dev != sb.st_dev || sa.st_ino != sb.st_ino || lstat(lp, &sl) == 0)
		return;
	base = realpath(link, NULL);
	real_parent = realpath(parent, NULL);
	real_live = realpath(live, NULL);
	if (!base || !real_parent || !real_live || !strcmp(base, real_live))
		return;
	base_dir = xstrdup(base);
	slash = strrchr(base_dir, '/');
	if (!slash || (*slash = '\0', strcmp(base_dir, real_parent)))
		return;
	bp = xasprintf("%s/parent", base);
	if (lstat(bp, &sl) == 0)
		return;
	if (glue_layer_remove_flat(base) == 0)
		pr_warn("removed %s, the old base of a merge into %s interrupted by a dead ckpt run",
			base, live);
}

/*
 * Temporary directories (.NAME.ckpt-tmp-PID) of ckpt runs that died (SIGKILL)
 * in @parent, whatever layer they were for: a layer is written only by a live
 * run, so the directory of a pid that no longer exists (or is a zombie: a
 * killed agent whose parent has not reaped it yet) is garbage.
 */
static void remove_stale(const char *parent)
{
	_cleanup_closedir_ DIR *d = opendir(parent);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *tag = de->d_name[0] == '.' ? strstr(de->d_name, TMP_TAG) : NULL;
		char *end;
		long pid;

		if (!tag || tag == de->d_name)
			continue;
		pid = strtol(tag + strlen(TMP_TAG), &end, 10);
		if (*end || end == tag + strlen(TMP_TAG) || pid <= 0 || !run_gone((pid_t)pid))
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", parent, de->d_name);
		uint64_t bytes = dir_bytes(p);

		remove_merged_base(parent, de->d_name, tag, p);
		glue_layer_remove_flat(p);
		if (access(p, F_OK) == 0)
			pr_warn("cannot remove %s, left by ckpt run %ld that died", p, pid);
		else
			pr_warn("removed %s (%" PRIu64 " KiB), left by ckpt run %ld that died", p,
				bytes / 1024, pid);
	}
}

static int dir_is_empty(const char *path, bool *empty, struct ck_err **err)
{
	_cleanup_closedir_ DIR *d = opendir(path);
	struct dirent *de;

	if (!d)
		return ck_err_set(err, errno, "open %s", path);
	*empty = true;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			*empty = false;
	return 0;
}

/*
 * The whole parent chain, before anything is frozen: a corrupt layer or a
 * parent loop is an error naming it, never silently a full layer.
 */
static int check_parent_chain(struct glue_layer *l, const char *prev_rel, const char *dir,
			      struct ck_err **err)
{
	_cleanup_free_ char *link = xasprintf("%s/parent", l->tmp);
	char real[PATH_MAX];
	struct glue_chain c;

	if (!realpath(link, real))
		return ck_err_set(err, errno, "parent images directory %s (relative to %s)",
				  prev_rel, dir);
	if (glue_chain_open(real, &c, err) < 0)
		return ck_err_wrap(err, "parent images directory %s", prev_rel);
	glue_chain_close(&c);
	return 0;
}

/* see layer.h */
int glue_layer_begin(const char *dir, const char *prev_rel, struct glue_layer *l,
		     struct ck_err **err)
{
	_cleanup_free_ char *parent = NULL, *base = NULL, *clean = NULL;
	struct stat st;
	size_t len;

	memset(l, 0, sizeof(*l));
	l->dirfd = -1;
	l->parent_dirfd = -1;
	l->next_pages_id = 1;
	if (!dir || !*dir)
		return ck_err_set(err, 0, "no images directory (-D DIR)");
	clean = xstrdup(dir);
	len = strlen(clean);
	while (len > 1 && clean[len - 1] == '/')
		clean[--len] = '\0';
	split_path(clean, &parent, &base);
	if (!strcmp(base, ".") || !strcmp(base, "..") || !strcmp(base, "/"))
		return ck_err_set(err, EINVAL, "images directory %s: give a directory name", dir);
	if (stat(parent, &st) < 0)
		return ck_err_set(err, errno, "images directory %s: parent %s", dir, parent);
	if (stat(clean, &st) == 0) {
		bool empty = false;

		if (!S_ISDIR(st.st_mode))
			return ck_err_set(err, ENOTDIR, "images directory %s", dir);
		if (dir_is_empty(clean, &empty, err) < 0)
			return -1;
		if (!empty)
			return ck_err_set(
				err, ENOTEMPTY,
				"images directory %s already holds files (a layer is never overwritten)",
				dir);
	} else if (errno != ENOENT) {
		return ck_err_set(err, errno, "images directory %s", dir);
	}
	remove_stale(parent);
	l->dir = xstrdup(clean);
	l->tmp = xasprintf("%s/.%s" TMP_TAG "%d", parent, base, (int)getpid());
	glue_layer_remove_flat(l->tmp);
	if (mkdir(l->tmp, 0700) < 0) {
		ck_err_set(err, errno, "mkdir %s", l->tmp);
		goto fail;
	}
	l->dirfd = open(l->tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (l->dirfd < 0) {
		ck_err_set(err, errno, "open %s%s", l->tmp,
			   errno == ELOOP ? " (replaced by a symbolic link)" : "");
		goto fail;
	}
	if (prev_rel) {
		if (!*prev_rel) {
			ck_err_set(err, EINVAL, "empty --prev-images-dir");
			goto fail;
		}
		if (prev_rel[0] == '/')
			pr_warn("--prev-images-dir %s is absolute; CRIU expects a path relative to the images directory",
				prev_rel);
		l->parent_rel = xstrdup(prev_rel);
		if (symlinkat(prev_rel, l->dirfd, "parent") < 0) {
			ck_err_set(err, errno, "symlink parent -> %s", prev_rel);
			goto fail;
		}
		/* The temporary dir is a sibling of DIR: relative links resolve alike. */
		l->parent_dirfd = openat(l->dirfd, "parent", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (l->parent_dirfd < 0) {
			ck_err_set(err, errno, "parent images directory %s (relative to %s)",
				   prev_rel, dir);
			goto fail;
		}
		if (faccessat(l->parent_dirfd, "inventory.img", F_OK, 0) < 0) {
			ck_err_set(
				err, errno,
				"parent images directory %s (relative to %s) holds no layer (inventory.img)",
				prev_rel, dir);
			goto fail;
		}
		if (check_parent_chain(l, prev_rel, dir, err) < 0)
			goto fail;
	}
	return 0;
fail:
	glue_layer_abort(l);
	return -1;
}

/* see layer.h */
int glue_layer_commit(struct glue_layer *l, struct ck_err **err)
{
	glue_pmw_pre_drop(l); /* made before the freeze for a task that did not need it */
	if (fsync(l->dirfd) < 0)
		return ck_err_set(err, errno, "fsync %s", l->tmp);
	if (glue_fault("rename", err) < 0)
		return -1;
	/*
	 * The images were written through l->dirfd: what is renamed into place
	 * must be that very directory, not something swapped in for its name
	 * (a symlink to elsewhere would become a layer holding nothing of ours).
	 */
	if (!ck_same_dir(l->tmp, l->dirfd)) {
		ck_empty_dir_fd(l->dirfd);
		return ck_err_set(
			err, EXDEV,
			"the temporary layer %s was replaced during the dump; nothing renamed to %s",
			l->tmp, l->dir);
	}
	if (rename(l->tmp, l->dir) < 0)
		return ck_err_set(err, errno, "rename %s to %s", l->tmp, l->dir);
	if (!ck_same_dir(l->dir, l->dirfd)) {
		struct stat st;

		/* swapped between the check and the rename: take the stranger back out */
		if (lstat(l->dir, &st) == 0 && !S_ISDIR(st.st_mode))
			unlink(l->dir);
		ck_empty_dir_fd(l->dirfd);
		free(l->tmp);
		l->tmp = NULL;
		return ck_err_set(err, EXDEV,
				  "the temporary layer was replaced during the dump; %s removed",
				  l->dir);
	}
	free(l->tmp);
	l->tmp = NULL;
	return 0;
}

/* see layer.h */
char *glue_layer_tmp_name(const char *dir)
{
	_cleanup_free_ char *parent = NULL, *base = NULL;

	split_path(dir, &parent, &base);
	return xasprintf("%s/.%s" TMP_TAG "%d", parent, base, (int)getpid());
}

/* see layer.h */
int glue_layer_begin_replace(const char *dir, struct glue_layer *l, struct ck_err **err)
{
	_cleanup_free_ char *parent = NULL, *base = NULL;
	struct stat st;

	memset(l, 0, sizeof(*l));
	l->dirfd = -1;
	l->parent_dirfd = -1;
	l->next_pages_id = 1;
	if (lstat(dir, &st) < 0)
		return ck_err_set(err, errno, "layer %s", dir);
	if (!S_ISDIR(st.st_mode))
		return ck_err_set(err, ENOTDIR, "layer %s", dir);
	split_path(dir, &parent, &base);
	remove_stale(parent);
	l->dir = xstrdup(dir);
	l->tmp = glue_layer_tmp_name(dir);
	glue_layer_remove_flat(l->tmp);
	if (mkdir(l->tmp, 0700) < 0) {
		ck_err_set(err, errno, "mkdir %s", l->tmp);
		goto fail;
	}
	l->dirfd = open(l->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->dirfd < 0) {
		ck_err_set(err, errno, "open %s", l->tmp);
		goto fail;
	}
	return 0;
fail:
	glue_layer_abort(l);
	return -1;
}

/* see layer.h */
int glue_layer_exchange(struct glue_layer *l, struct ck_err **err)
{
	_cleanup_free_ char *parent = NULL, *base = NULL;
	_cleanup_close_ int pfd = -1;

	if (fsync(l->dirfd) < 0)
		return ck_err_set(err, errno, "fsync %s", l->tmp);
	if (renameat2(AT_FDCWD, l->tmp, AT_FDCWD, l->dir, RENAME_EXCHANGE) < 0)
		return ck_err_set(err, errno, "exchange %s and %s%s", l->tmp, l->dir,
				  errno == EINVAL
					  ? " (the filesystem cannot exchange names atomically)"
					  : "");
	split_path(l->dir, &parent, &base);
	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd >= 0)
		fsync(pfd);
	return 0;
}

/* see layer.h */
void glue_layer_abort(struct glue_layer *l)
{
	glue_pmw_pre_drop(l);
	if (l->tmp)
		glue_layer_remove_flat(l->tmp);
	if (l->dirfd >= 0)
		close(l->dirfd);
	if (l->parent_dirfd >= 0)
		close(l->parent_dirfd);
	free(l->tmp);
	free(l->dir);
	free(l->parent_rel);
	memset(l, 0, sizeof(*l));
	l->dirfd = -1;
	l->parent_dirfd = -1;
}

static int write_single(struct glue_layer *l, const char *name, enum img_type type, const void *msg,
			struct ck_err **err)
{
	_cleanup_(img_abortp) struct img *img = img_create(l->dirfd, name, type, err);

	if (!img)
		return -1;
	if (img_write(img, msg, err) < 0)
		return -1;
	return img_close(steal_ptr(&img), err);
}

/* see layer.h */
int glue_layer_write_inventory(struct glue_layer *l, bool pre_dump, struct ck_err **err)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	inv.img_version = IMG_VERSION;
	inv.has_dump_uptime = true;
	inv.dump_uptime = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	inv.has_fdinfo_per_id = true;
	inv.fdinfo_per_id = true;
	inv.has_ns_per_id = true;
	inv.ns_per_id = true;
	if (pre_dump) {
		inv.has_pre_dump_mode = true;
		inv.pre_dump_mode = 2; /* CRIU's PRE_DUMP_READ: pages read, not spliced */
	}
	return write_single(l, "inventory.img", IMG_INVENTORY, &inv, err);
}

/* see layer.h */
int glue_layer_write_pstree(struct glue_layer *l, const struct glue_pstree *tree,
			    struct ck_err **err)
{
	_cleanup_(img_abortp) struct img *img = img_create(l->dirfd, "pstree.img", IMG_PSTREE, err);

	if (!img)
		return -1;
	for (size_t i = 0; i < tree->nr; i++) {
		const struct glue_task *t = &tree->t[i];
		PstreeEntry e = PSTREE_ENTRY__INIT;
		_cleanup_free_ uint32_t *thr = xcalloc(t->nr_threads, sizeof(*thr));

		e.pid = (uint32_t)t->vpid;
		e.ppid = (uint32_t)t->vppid;
		e.pgid = (uint32_t)t->vpgid;
		e.sid = (uint32_t)t->vsid;
		for (size_t j = 0; j < t->nr_threads; j++)
			thr[j] = (uint32_t)t->vthreads[j];
		e.n_threads = t->nr_threads;
		e.threads = thr;
		if (img_write(img, &e, err) < 0)
			return -1;
	}
	return img_close(steal_ptr(&img), err);
}

/* see layer.h */
void glue_vma_entry_fill(struct VmaEntry *e, const struct glue_vma *v)
{
	vma_entry__init(e);
	e->start = v->start;
	e->end = v->end;
	e->pgoff = v->pgoff;
	e->prot = v->prot;
	e->flags = v->flags;
	e->status = v->status;
	e->fd = -1;
	if (v->madv) {
		e->has_madv = true;
		e->madv = v->madv;
	}
}

/* see layer.h */
int glue_layer_write_mm(struct glue_layer *l, const struct glue_task *task,
			const struct glue_vmas *vmas, struct ck_err **err)
{
	MmEntry mm = MM_ENTRY__INIT;
	uint64_t f[GLUE_STAT_FIELDS];
	_cleanup_free_ VmaEntry *ve = xcalloc(vmas->nr ? vmas->nr : 1, sizeof(*ve));
	_cleanup_free_ VmaEntry **vp = xcalloc(vmas->nr ? vmas->nr : 1, sizeof(*vp));
	_cleanup_free_ uint64_t *auxv = xcalloc(GLUE_AUXV_WORDS, sizeof(*auxv));
	_cleanup_free_ uint64_t *file_ids = xcalloc(vmas->nr ? vmas->nr * 2 : 1, sizeof(uint64_t));
	_cleanup_free_ char *name = NULL;
	size_t nfiles = 0;

	if (glue_proc_stat_need(task->pid, f, 51, err) < 0)
		return -1;
	mm.mm_start_code = f[26];
	mm.mm_end_code = f[27];
	mm.mm_start_stack = f[28];
	mm.mm_start_data = f[45];
	mm.mm_end_data = f[46];
	mm.mm_start_brk = f[47];
	mm.mm_arg_start = f[48];
	mm.mm_arg_end = f[49];
	mm.mm_env_start = f[50];
	mm.mm_env_end = f[51];
	/* The exact brk needs a syscall inside the task (final dump); the heap end is its page-rounded value. */
	mm.mm_brk = mm.mm_start_brk;
	mm.exe_file_id = 0;
	/* A memory layer does without auxv when it cannot be read (err NULL: no error). */
	glue_proc_auxv(task->pid, auxv, &mm.n_mm_saved_auxv, NULL);
	mm.mm_saved_auxv = auxv;
	for (size_t i = 0; i < vmas->nr; i++) {
		const struct glue_vma *v = &vmas->v[i];
		VmaEntry *e = &ve[i];

		glue_vma_entry_fill(e, v);
		if (v->status & GLUE_VMA_HEAP)
			mm.mm_brk = v->end;
		if (v->status & (GLUE_VMA_ANON_SHARED | GLUE_VMA_SYSVIPC)) {
			e->shmid = v->ino;
		} else if (v->status & (GLUE_VMA_FILE_PRIVATE | GLUE_VMA_FILE_SHARED)) {
			/* No files.img in the memory layer: ids number the distinct files. */
			size_t j;

			for (j = 0; j < nfiles; j++)
				if (file_ids[2 * j] == v->dev && file_ids[2 * j + 1] == v->ino)
					break;
			if (j == nfiles) {
				file_ids[2 * j] = v->dev;
				file_ids[2 * j + 1] = v->ino;
				nfiles++;
			}
			e->shmid = j + 1;
		}
		vp[i] = e;
	}
	mm.n_vmas = vmas->nr;
	mm.vmas = vp;
	name = img_filename(IMG_MM, (unsigned long)task->vpid);
	if (write_single(l, name, IMG_MM, &mm, err) < 0)
		return ck_err_wrap(err, "task %d", (int)task->pid);
	return 0;
}

static uint32_t clamp32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* see layer.h */
int glue_layer_write_stats(struct glue_layer *l, const struct glue_dump_stats *st,
			   struct ck_err **err)
{
	StatsEntry s = STATS_ENTRY__INIT;
	DumpStatsEntry d = DUMP_STATS_ENTRY__INIT;

	d.freezing_time = clamp32(st->freezing_us);
	d.frozen_time = clamp32(st->frozen_us);
	d.memdump_time = clamp32(st->memdump_us);
	d.memwrite_time = clamp32(st->memwrite_us);
	d.pages_scanned = st->pages_scanned;
	d.pages_skipped_parent = st->pages_skipped_parent;
	d.pages_written = st->pages_written;
	d.pages_lazy = 0;
	d.has_shpages_scanned = d.has_shpages_skipped_parent = d.has_shpages_written = true;
	d.shpages_scanned = st->shpages_scanned;
	d.shpages_skipped_parent = st->shpages_skipped_parent;
	d.shpages_written = st->shpages_written;
	s.dump = &d;
	return write_single(l, "stats-dump", IMG_STATS, &s, err);
}

/* see layer.h */
int glue_layer_read_stats(const char *dir, struct glue_dump_stats *st, struct ck_err **err)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_(img_releasep) struct img *img = NULL;
	StatsEntry *s = NULL;

	memset(st, 0, sizeof(*st));
	if (dfd < 0)
		return ck_err_set(err, errno, "open %s", dir);
	img = img_open(dfd, "stats-dump", IMG_STATS, err);
	if (!img)
		return -1;
	if (img_read_entry(img, (void **)&s, err) < 0)
		return -1;
	if (!s || !s->dump) {
		img_free_msg(s);
		return ck_err_set(err, 0, "%s/stats-dump holds no dump statistics", dir);
	}
	st->freezing_us = s->dump->freezing_time;
	st->frozen_us = s->dump->frozen_time;
	st->memdump_us = s->dump->memdump_time;
	st->memwrite_us = s->dump->memwrite_time;
	st->pages_scanned = s->dump->pages_scanned;
	st->pages_skipped_parent = s->dump->pages_skipped_parent;
	st->pages_written = s->dump->pages_written;
	st->shpages_scanned = s->dump->shpages_scanned;
	st->shpages_skipped_parent = s->dump->shpages_skipped_parent;
	st->shpages_written = s->dump->shpages_written;
	img_free_msg(s);
	return 0;
}

/* see layer.h */
int glue_layer_write_meta(struct glue_layer *l, const char *tracker, const struct glue_pstree *tree,
			  struct ck_err **err)
{
	int fd = openat(l->dirfd, META, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	_cleanup_fclose_ FILE *f = NULL;

	if (fd < 0)
		return ck_err_set(err, errno, "create %s", META);
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return ck_err_set(err, errno, "fdopen %s", META);
	}
	fprintf(f, "ckpt-layer 1\ntracker %s\n", tracker);
	for (size_t i = 0; i < tree->nr; i++)
		fprintf(f, "task %d %d %" PRIu64 "\n", (int)tree->t[i].vpid, (int)tree->t[i].pid,
			tree->t[i].start_time);
	if (fclose(steal_ptr(&f)) != 0)
		return ck_err_set(err, errno, "write %s", META);
	return 0;
}

/* see layer.h */
int glue_layer_read_inventory(int dirfd, uint64_t *dump_uptime, bool *pre_dump, struct ck_err **err)
{
	_cleanup_(img_releasep) struct img *img = NULL;
	InventoryEntry *inv = NULL;

	*dump_uptime = 0;
	*pre_dump = false;
	img = img_open(dirfd, "inventory.img", IMG_INVENTORY, err);
	if (!img)
		return -1;
	if (img_read_entry(img, (void **)&inv, err) < 0)
		return -1;
	if (!inv)
		return ck_err_set(err, 0, "inventory.img holds no entry");
	if (inv->has_dump_uptime)
		*dump_uptime = inv->dump_uptime;
	*pre_dump = inv->has_pre_dump_mode;
	img_free_msg(inv);
	return 0;
}

/* see layer.h */
int glue_layer_check_meta(int dirfd, const char *path, struct ck_err **err)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t n = 0, lineno = 0;
	int fd = ck_open_regular(dirfd, META, true, err);

	if (fd < 0) {
		if ((*err)->errnum != ENOENT)
			return ck_err_wrap(err, "%s", path);
		ck_err_free(err);
		return 0;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return ck_err_set(err, errno, "fdopen %s/%s", path, META);
	}
	while (getline(&line, &n, f) > 0) {
		char name[64];
		unsigned ver;
		int v, p;
		uint64_t st;

		lineno++;
		if (lineno == 1 ? sscanf(line, "ckpt-layer %u", &ver) != 1
				: sscanf(line, "tracker %63s", name) != 1 &&
					  sscanf(line, "task %d %d %" SCNu64, &v, &p, &st) != 3)
			return ck_err_set(err, 0,
					  "%s/%s: line %zu: damaged (not ckpt's layer record)",
					  path, META, lineno);
	}
	if (!lineno)
		return ck_err_set(err, 0, "%s/%s: empty", path, META);
	return 0;
}

/* see layer.h */
bool glue_layer_is_ckpt(int dirfd)
{
	return faccessat(dirfd, META, F_OK, 0) == 0;
}

/*
 * A layer written by CRIU has no ckpt-layer file.  Whether a task is the one
 * it dumped is decided by CRIU's own rule (detect_pid_reuse): the task started
 * before the dump, comparing its start time (clock ticks since boot, from
 * /proc/PID/stat) with the inventory's dump_uptime in the same unit.
 */
static int criu_same_task(int dirfd, uint64_t start_time, bool *same, struct ck_err **err)
{
	long tps = sysconf(_SC_CLK_TCK);
	uint64_t up;
	bool pre;

	if (glue_layer_read_inventory(dirfd, &up, &pre, err) < 0)
		return ck_err_wrap(err, "parent layer written by CRIU");
	*same = up && tps > 0 && tps <= 1000000 && start_time < up / (1000000 / (uint64_t)tps);
	return 0;
}

/* see layer.h */
int glue_layer_read_meta(int dirfd, pid_t vpid, uint64_t start_time, bool *same_task,
			 char **tracker, struct ck_err **err)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t n = 0;
	int fd;

	*same_task = false;
	if (tracker)
		*tracker = NULL;
	fd = ck_open_regular(dirfd, META, true, err);
	if (fd < 0) {
		if ((*err)->errnum != ENOENT)
			return -1;
		ck_err_free(err);
		return criu_same_task(dirfd, start_time, same_task, err);
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return ck_err_set(err, errno, "fdopen %s", META);
	}
	while (getline(&line, &n, f) > 0) {
		char name[64];
		int v, p;
		uint64_t st;

		if (tracker && !*tracker && sscanf(line, "tracker %63s", name) == 1)
			*tracker = xstrdup(name);
		if (sscanf(line, "task %d %d %" SCNu64, &v, &p, &st) == 3 && v == vpid &&
		    st == start_time)
			*same_task = true;
	}
	return 0;
}
