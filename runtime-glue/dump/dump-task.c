// SPDX-License-Identifier: MIT
/*
 * The per-process and tree-wide images of a final dump besides memory pages:
 * ids, fs, mm (with file ids), pstree, inventory, timens, seccomp; and what
 * happens to the tree afterwards.
 *
 * Kernel-object ids (TaskKobjIdsEntry): checkpointed processes never share
 * their mm, fd table, fs info or signal handlers (glue_dump_check() refuses
 * trees that do), so process #i simply gets id 2 + i for all four, and the
 * inventory's root_ids are all 1 -- they must differ from the root task's
 * files_id, and no namespace ids are written on either side (host
 * namespaces only).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "parasite/parasite.h"
#include "proto/img.h"
#include "proto/core.pb-c.h"
#include "proto/fs.pb-c.h"
#include "proto/inventory.pb-c.h"
#include "proto/mm.pb-c.h"
#include "proto/pstree.pb-c.h"
#include "proto/timens.pb-c.h"
#include "proto/vma.pb-c.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/dump/dump-mnt.h"
#include "runtime-glue/dump/dump-priv.h"
#include "runtime-glue/mem/layer.h"
#include "runtime-glue/proc/proc.h"
#include "runtime-glue/dump/dump-state.h"
#include "runtime-glue/proc/pstree.h"
#include "runtime-glue/mem/vma.h"

/* see dump-priv.h */
uint32_t glue_task_kid(const struct glue_dump_state *st, const struct glue_task *task)
{
	return GLUE_ROOT_KID + 1 + (uint32_t)(task - st->tree->t);
}

/* see dump-priv.h */
void glue_ctr_mnt_opts(const struct glue_ctr_opts *c, pid_t root, struct glue_mnt_opts *o,
		       void *ext)
{
	struct glue_mnt_ext *e = ext;

	memset(o, 0, sizeof(*o));
	o->root = c->root;
	o->cgroup_ns = glue_ns_ino(root, GLUE_NS_CGROUP) &&
		       glue_ns_ino(root, GLUE_NS_CGROUP) != glue_ns_ino(0, GLUE_NS_CGROUP);
	for (size_t i = 0; i < c->nr_ext_mnt; i++) {
		e[i].key = c->ext_mnt[i].key;
		e[i].val = c->ext_mnt[i].val;
	}
	o->ext = e;
	o->nr_ext = c->nr_ext_mnt;
}

/*
 * A container with a time namespace of its own (every container CRIU has
 * restored: CRIU restores into a new one) keeps its clocks at an offset from
 * ckpt's.  timens-<id>.img gets the container's clocks, ckpt's plus the
 * offsets in /proc/PID/timens_offsets, so that they go on from where the
 * container saw them.  (CRIU 4.2 and 3.17 write their own clocks there, which
 * moves a restored container's clocks by its offset on every re-dump.)
 */
static int add_timens_offsets(pid_t pid, struct timespec *mono, struct timespec *boot,
			      struct ck_err **err)
{
	char path[64], name[16];
	_cleanup_fclose_ FILE *f = NULL;
	long long sec;
	long nsec;
	int seen = 0;

	snprintf(path, sizeof(path), "/proc/%d/timens_offsets", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return ck_err_set(err, errno, "open %s", path);
	while (fscanf(f, "%15s %lld %ld", name, &sec, &nsec) == 3) {
		struct timespec *ts = !strcmp(name, "monotonic")  ? mono
				      : !strcmp(name, "boottime") ? boot
								  : NULL;

		if (!ts)
			continue;
		ts->tv_sec += sec;
		ts->tv_nsec += nsec;
		if (ts->tv_nsec >= 1000000000L) {
			ts->tv_nsec -= 1000000000L;
			ts->tv_sec++;
		}
		seen++;
	}
	if (seen != 2)
		return ck_err_set(err, EINVAL, "%s: no monotonic and boottime offsets", path);
	return 0;
}

/* see dump-state.h */
struct glue_dump_state *glue_dump_state_new(const struct glue_pstree *tree,
					    const struct glue_dump_opts *opts, struct ck_err **err)
{
	struct glue_dump_state *st;

	if (!tree->nr) {
		ck_err_set(err, EINVAL, "empty process tree");
		return NULL;
	}
	uint64_t t0 = glue_now_us();

	st = xzalloc(sizeof(*st));
	st->tree = tree;
	st->mm = xcalloc(tree->nr, sizeof(*st->mm));
	if (opts)
		st->opts = *opts;
	if (glue_ns_collect(&st->ns, tree, err) < 0) {
		free(st->mm);
		free(st);
		return NULL;
	}
	if (st->ns.ctr_id[GLUE_NS_MNT]) {
		/*
		 * The container's mount tree, as read before the freeze when its
		 * mountinfo still reads the same now that the tree is stopped.
		 */
		struct glue_dump_pre *pre = st->opts.pre;
		struct glue_mnt_opts mo;
		_cleanup_free_ struct glue_mnt_ext *ext =
			xcalloc(st->opts.ctr.nr_ext_mnt + 1, sizeof(*ext));
		bool same = false;
		int rc;

		glue_ctr_mnt_opts(&st->opts.ctr, tree->t[0].pid, &mo, ext);
		if (pre && pre->mnt && pre->pid == tree->t[0].pid) {
			st->mnt = steal_ptr(&pre->mnt);
			rc = glue_mnt_recheck(&st->mnt, tree->t[0].pid, &mo, &same, err);
		} else {
			rc = glue_mnt_collect(tree->t[0].pid, &mo, &st->mnt, err);
		}
		if (rc < 0 || glue_mnt_check(st->mnt, err) < 0) {
			glue_dump_state_free(st);
			return NULL;
		}
		pr_info("mount tree: %s", same ? "as read before the freeze (mountinfo unchanged)"
					       : "read while frozen");
	}
	clock_gettime(CLOCK_MONOTONIC, &st->monotonic);
	clock_gettime(CLOCK_BOOTTIME, &st->boottime);
	if (st->ns.ctr_id[GLUE_NS_TIME] &&
	    add_timens_offsets(tree->t[0].pid, &st->monotonic, &st->boottime, err) < 0) {
		glue_dump_state_free(st);
		return NULL;
	}
	st->t.collect = glue_now_us() - t0;
	return st;
}

/* see dump-state.h */
struct glue_dump_pre *glue_dump_pre_read(pid_t pid, const struct glue_ctr_opts *ctr)
{
	struct glue_dump_pre *pre = xzalloc(sizeof(*pre));

	pre->pid = pid;
	parasite_warm_gadgets(pid);
	if (ctr->manage_cgroups)
		pre->cg = glue_cg_pre_read(pid);
	if (glue_ns_ino(pid, GLUE_NS_MNT) &&
	    glue_ns_ino(pid, GLUE_NS_MNT) != glue_ns_ino(0, GLUE_NS_MNT)) {
		_cleanup_err_ struct ck_err *e = NULL;
		struct glue_mnt_opts mo;
		_cleanup_free_ struct glue_mnt_ext *ext =
			xcalloc(ctr->nr_ext_mnt + 1, sizeof(*ext));

		glue_ctr_mnt_opts(ctr, pid, &mo, ext);
		if (glue_mnt_collect(pid, &mo, &pre->mnt, &e) < 0)
			pre->mnt = NULL; /* read in the freeze, which reports the error */
	}
	{
		/* for tests: the container changed between this read and the freeze */
		_cleanup_err_ struct ck_err *e = NULL;

		glue_fault("pre-read", &e);
	}
	return pre;
}

/* see dump-state.h */
void glue_dump_pre_free(struct glue_dump_pre *pre)
{
	if (!pre)
		return;
	glue_cg_pre_free(pre->cg);
	glue_mnt_set_free(pre->mnt);
	free(pre);
}

/* see dump-state.h */
void glue_dump_state_free(struct glue_dump_state *st)
{
	if (!st)
		return;
	img_later_free(st->later);
	glue_files_free(&st->files);
	glue_ns_release(&st->ns);
	glue_cg_free(st);
	glue_seccomp_free(st);
	glue_mnt_set_free(st->mnt);
	free(st->descriptors);
	for (size_t i = 0; i < st->tree->nr; i++) {
		glue_vmas_free(&st->mm[i].vmas);
		free(st->mm[i].exe);
	}
	free(st->mm);
	free(st);
}

static int write_ids(struct glue_dump_state *st, int dirfd, const struct glue_task *task,
		     struct ck_err **err)
{
	TaskKobjIdsEntry ids = TASK_KOBJ_IDS_ENTRY__INIT;
	uint32_t kid = glue_task_kid(st, task);

	ids.vm_id = ids.files_id = ids.fs_id = ids.sighand_id = kid;
	if (glue_ns_fill_ids(&st->ns, task->pid, &ids, err) < 0)
		return -1;
	return glue_dump_write_later(st, dirfd, IMG_IDS, (unsigned long)task->vpid, &ids, err);
}

/* The path a /proc/PID/<link> points to (cwd, root, exe). */
static int proc_link(pid_t pid, const char *link, char *buf, size_t len, struct ck_err **err)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, link);
	n = readlink(path, buf, len - 1);
	if (n < 0)
		return ck_err_set(err, errno, "readlink %s", path);
	buf[n] = '\0';
	if (buf[0] != '/' || strstr(buf, " (deleted)"))
		return ck_err_set(err, 0, "pid %d: %s '%s' cannot be reopened by name", (int)pid,
				  link, buf);
	return 0;
}

static int write_fs(struct glue_dump_state *st, int dirfd, const struct glue_task *task,
		    struct ck_err **err)
{
	FsEntry fs = FS_ENTRY__INIT;
	char cwd[PATH_MAX], root[PATH_MAX], umask_s[32];

	if (proc_link(task->pid, "cwd", cwd, sizeof(cwd), err) < 0 ||
	    proc_link(task->pid, "root", root, sizeof(root), err) < 0)
		return -1;
	fs.cwd_id = glue_files_path_id(&st->files, cwd, O_RDONLY);
	fs.root_id = glue_files_path_id(&st->files, root, O_RDONLY);
	if (glue_proc_status_field(task->pid, "Umask", umask_s, sizeof(umask_s)) == 0) {
		fs.has_umask = true;
		fs.umask = (uint32_t)strtoul(umask_s, NULL, 8);
	}
	return glue_dump_write_later(st, dirfd, IMG_FS, (unsigned long)task->vpid, &fs, err);
}

/*
 * Keep what write_mm() needs, all read while the tree is frozen: the VMA list, the
 * values read in the task, /proc/PID/stat fields 26.., exe and auxv.
 */
static int keep_mm(struct glue_dump_state *st, const struct glue_task *task,
		   const struct glue_vmas *vmas, const struct glue_task_remote *rem,
		   struct ck_err **err)
{
	struct glue_task_mm *m = &st->mm[task - st->tree->t];
	char exe[PATH_MAX];

	if (glue_proc_stat_need(task->pid, m->stat, 51, err) < 0 ||
	    proc_link(task->pid, "exe", exe, sizeof(exe), err) < 0 ||
	    glue_proc_auxv(task->pid, m->auxv, &m->n_auxv, err) < 0)
		return -1;
	free(m->exe);
	m->exe = xstrdup(exe);

	glue_vmas_free(&m->vmas);
	m->vmas.nr = vmas->nr;
	m->vmas.v = xcalloc(vmas->nr ? vmas->nr : 1, sizeof(*m->vmas.v));
	for (size_t i = 0; i < vmas->nr; i++) {
		m->vmas.v[i] = vmas->v[i];
		m->vmas.v[i].name = vmas->v[i].name ? xstrdup(vmas->v[i].name) : NULL;
	}
	m->brk = rem->brk;
	m->dumpable = rem->dumpable;
	m->thp_disabled = rem->thp_disabled;
	m->done = true;
	return 0;
}

static int write_mm(struct glue_dump_state *st, int dirfd, const struct glue_task *task,
		    struct ck_err **err)
{
	const struct glue_task_mm *m = &st->mm[task - st->tree->t];
	const struct glue_vmas *vmas = &m->vmas;
	MmEntry mm = MM_ENTRY__INIT;
	_cleanup_free_ VmaEntry *ve = NULL;
	_cleanup_free_ VmaEntry **vp = NULL;
	const uint64_t *f = m->stat;
	uint64_t auxv[GLUE_AUXV_WORDS];

	mm.mm_start_code = f[26];
	mm.mm_end_code = f[27];
	mm.mm_start_data = f[45];
	mm.mm_end_data = f[46];
	mm.mm_start_stack = f[28];
	mm.mm_start_brk = f[47];
	mm.mm_brk = m->brk;
	mm.mm_arg_start = f[48];
	mm.mm_arg_end = f[49];
	mm.mm_env_start = f[50];
	mm.mm_env_end = f[51];
	mm.exe_file_id = glue_files_path_id(&st->files, m->exe, O_RDONLY);
	memcpy(auxv, m->auxv, sizeof(auxv));
	mm.n_mm_saved_auxv = m->n_auxv;
	mm.mm_saved_auxv = auxv;
	mm.has_dumpable = true;
	mm.dumpable = m->dumpable;
	mm.has_thp_disabled = true;
	mm.thp_disabled = m->thp_disabled != 0;

	if (!vmas->nr)
		return ck_err_set(err, EINVAL, "pid %d has no memory mappings", (int)task->pid);
	ve = xcalloc(vmas->nr, sizeof(*ve));
	vp = xcalloc(vmas->nr, sizeof(*vp));
	for (size_t i = 0; i < vmas->nr; i++) {
		const struct glue_vma *v = &vmas->v[i];
		VmaEntry *e = &ve[i];

		glue_vma_entry_fill(e, v);
		if (v->status & (GLUE_VMA_FILE_PRIVATE | GLUE_VMA_FILE_SHARED)) {
			uint32_t fl = ((v->flags & MAP_SHARED) && (v->prot & PROT_WRITE))
					      ? O_RDWR
					      : O_RDONLY;

			if (!v->name || v->name[0] != '/')
				return ck_err_set(err, EINVAL,
						  "pid %d: file mapping %#" PRIx64
						  " has no file name",
						  (int)task->pid, v->start);
			e->shmid = glue_files_path_id(&st->files, v->name, fl);
			e->has_fdflags = true;
			e->fdflags = fl;
		} else if (v->status & GLUE_VMA_ANON_SHARED) {
			e->shmid = v->ino;
		}
		vp[i] = e;
	}
	mm.n_vmas = vmas->nr;
	mm.vmas = vp;
	return glue_dump_write_single(dirfd, IMG_MM, (unsigned long)task->vpid, &mm, err);
}

/* µs since *t, and *t moved to now */
static uint64_t lap(uint64_t *t)
{
	uint64_t now = glue_now_us(), d = now - *t;

	*t = now;
	return d;
}

/* see dump-state.h */
int glue_dump_task_state(struct glue_dump_state *st, int dirfd, const struct glue_task *task,
			 struct parasite_ctl *ctl, const struct glue_vmas *vmas,
			 struct ck_err **err)
{
	_cleanup_parasite_ctl_ struct parasite_ctl *own_ctl = NULL;
	struct glue_task_remote rem = { 0 };
	struct glue_vmas own = { 0 };
	uint64_t t;
	int rc = -1;

	if (task < st->tree->t || task >= st->tree->t + st->tree->nr)
		return ck_err_set(err, EINVAL, "pid %d is not a task of the dumped tree",
				  (int)task->pid);
	/* a tree that lives on has its tars written in the freeze: along with the tasks */
	if (st->mnt && st->opts.lives_on &&
	    glue_mnt_tmpfs_start(st->mnt, st->tree->t[0].pid, dirfd, true, err) < 0)
		return ck_err_wrap(err, "final dump: the container's mounts");
	if (!ctl) {
		/* frozen by a cgroup freezer: seize it for the registers (cgroup v2 allows it) */
		if (parasite_seize(task->pid, 0, &own_ctl, err) < 0)
			return ck_err_wrap(err, "dumping the state of pid %d", (int)task->pid);
		ctl = own_ctl;
	}
	if (parasite_pid(ctl) != task->pid)
		return ck_err_set(err, EINVAL, "parasite handle of pid %d given for pid %d",
				  (int)parasite_pid(ctl), (int)task->pid);
	if (!vmas) {
		if (glue_vmas_read(task->pid, &own, err) < 0)
			return ck_err_wrap(err, "pid %d", (int)task->pid);
		vmas = &own;
	}
	/* each step's time goes to st->t (the frozen window's breakdown) */
	t = glue_now_us();
	if (glue_task_remote_read(ctl, &rem, err) < 0)
		goto out;
	st->t.remote += lap(&t);
	if (glue_dump_cores(st, dirfd, task, ctl, &rem, err) < 0)
		goto out;
	st->t.cores += lap(&t);
	if (write_ids(st, dirfd, task, err) < 0 || write_fs(st, dirfd, task, err) < 0)
		goto out;
	st->t.ids_fs += lap(&t);
	if (glue_files_dump_fds(st, dirfd, task, glue_task_kid(st, task), err) < 0)
		goto out;
	st->t.fds += lap(&t);
	if (keep_mm(st, task, vmas, &rem, err) < 0)
		goto out;
	st->t.keep_mm += lap(&t);
	rc = 0;
out:
	glue_vmas_free(&own);
	glue_task_remote_free(&rem);
	if (own_ctl && rc == 0 && parasite_release(own_ctl, err) < 0)
		rc = -1;
	if (rc < 0)
		return ck_err_wrap(err, "dumping the state of pid %d", (int)task->pid);
	return 0;
}

static int write_pstree(const struct glue_pstree *tree, int dirfd, struct ck_err **err)
{
	_cleanup_(img_abortp) struct img *img = img_create(dirfd, "pstree.img", IMG_PSTREE, err);

	if (!img)
		return -1;
	for (size_t i = 0; i < tree->nr; i++) {
		const struct glue_task *t = &tree->t[i];
		PstreeEntry pe = PSTREE_ENTRY__INIT;
		_cleanup_free_ uint32_t *th = xcalloc(t->nr_threads, sizeof(*th));

		pe.pid = (uint32_t)t->vpid;
		pe.ppid = i ? (uint32_t)t->vppid : 0;
		pe.pgid = (uint32_t)t->vpgid;
		pe.sid = (uint32_t)t->vsid;
		for (size_t j = 0; j < t->nr_threads; j++)
			th[j] = (uint32_t)t->vthreads[j];
		pe.n_threads = t->nr_threads;
		pe.threads = th;
		if (img_write(img, &pe, err) < 0)
			return -1;
	}
	return img_close(steal_ptr(&img), err);
}

static int write_inventory(const struct glue_dump_state *st, int dirfd, struct ck_err **err)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	TaskKobjIdsEntry root = TASK_KOBJ_IDS_ENTRY__INIT;
	struct timespec up;
	struct img *img;

	root.vm_id = root.files_id = root.fs_id = root.sighand_id = GLUE_ROOT_KID;
	if (glue_ns_fill_ids(&st->ns, 0, &root, err) < 0)
		return -1;
	if (st->ns.container) {
		/* as CRIU writes it: ids per namespace, the network locked with iptables (0) */
		inv.has_ns_per_id = inv.ns_per_id = true;
		inv.has_network_lock_method = true;
		inv.network_lock_method = 0;
	}
	if (st->root_cg_set) {
		inv.has_root_cg_set = true;
		inv.root_cg_set = st->root_cg_set;
	}
	inv.img_version = IMG_VERSION;
	inv.has_fdinfo_per_id = true;
	inv.fdinfo_per_id = true;
	inv.root_ids = &root;
	inv.has_lsmtype = true;
	inv.lsmtype = LSMTYPE__NO_LSM;
	clock_gettime(CLOCK_BOOTTIME, &up);
	inv.has_dump_uptime = true;
	inv.dump_uptime = (uint64_t)up.tv_sec * 1000000u + (uint64_t)up.tv_nsec / 1000u;
	img = img_create(dirfd, "inventory.img", IMG_INVENTORY, err);
	if (!img)
		return -1;
	if (img_write(img, &inv, err) < 0) {
		img_abort(img);
		return -1;
	}
	return img_close(img, err);
}

/*
 * descriptors.json as runc writes it before a DUMP: what fds 0, 1 and 2 of the
 * container's init point to ("/dev/null", "pipe:[INO]", ...), a JSON array.
 * Read while frozen (the init could dup2() over them; after a kill they are
 * gone), written with the other images.
 */
static char *read_descriptors(const struct glue_dump_state *st)
{
	char buf[3 * (PATH_MAX + 8) + 8];
	size_t off = 0;

	off += (size_t)snprintf(buf + off, sizeof(buf) - off, "[");
	for (int i = 0; i < 3; i++) {
		char link[64], target[PATH_MAX];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)st->tree->t[0].pid, i);
		n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s\"", i ? "," : "");
		for (char *c = target; *c && off < sizeof(buf) - 8; c++) {
			if (*c == '"' || *c == '\\')
				buf[off++] = '\\';
			buf[off++] = *c;
		}
		buf[off++] = '"';
	}
	snprintf(buf + off, sizeof(buf) - off, "]");
	return xstrdup(buf);
}

static int write_descriptors(const struct glue_dump_state *st, int dirfd, struct ck_err **err)
{
	_cleanup_close_ int fd = -1;
	size_t len = strlen(st->descriptors);

	fd = openat(dirfd, "descriptors.json", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return ck_err_set(err, errno, "create descriptors.json");
	if (write(fd, st->descriptors, len) != (ssize_t)len)
		return ck_err_set(err, errno ? errno : EIO, "write descriptors.json");
	return 0;
}

/*
 * Room for what a killing dump writes after the kill besides the reserved
 * pages: the tmpfs tars (at most about the bytes the tmpfs use, gzip only
 * shrinks them, plus tar's headers) and the small images.  Checked while the
 * tree can still be resumed; a concurrent writer on the same file system can
 * still take the room (docs/reliability.md).
 */
#define SMALL_IMAGES_SLACK (1u << 20)

static int check_room(const struct glue_dump_state *st, int dirfd, struct ck_err **err)
{
	uint64_t need = SMALL_IMAGES_SLACK + img_later_bytes(st->later), have;
	struct statvfs sv;

	if (st->mnt)
		need += glue_mnt_tmpfs_bytes(st->mnt) + glue_mnt_tmpfs_bytes(st->mnt) / 8;
	if (fstatvfs(dirfd, &sv) < 0)
		return ck_err_set(err, errno, "statvfs of the images directory");
	have = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	if (have < need)
		return ck_err_set(
			err, ENOSPC,
			"the images directory has %" PRIu64 " KiB free, the images written "
			"after the kill (tmpfs tars, the per-task and small images) may need %" PRIu64
			" KiB",
			have >> 10, need >> 10);
	return 0;
}

/* see dump-state.h */
int glue_dump_frozen_end(struct glue_dump_state *st, int dirfd, struct ck_err **err)
{
	bool lives_on = st->opts.lives_on;
	uint64_t t0 = glue_now_us();

	st->frozen_end = true;
	if (st->opts.ctr.descriptors)
		st->descriptors = read_descriptors(st);
	/* the mount pins the tmpfs files for a tar after the kill */
	if (st->mnt && glue_mnt_hold_tmpfs(st->mnt, st->tree->t[0].pid, err) < 0)
		return ck_err_wrap(err, "final dump: the container's mounts");
	st->t.hold = glue_now_us() - t0;
	/*
	 * cgroup.img stays in the freeze: reading ~25 files per hierarchy is most
	 * of its cost, and a systemd-managed scope is removed once the killed
	 * tasks are gone.  The tasks could write their own cgroup files only
	 * while running.
	 */
	if (st->opts.ctr.manage_cgroups) {
		uint64_t t1 = glue_now_us();

		if (glue_cg_write(st, dirfd, err) < 0)
			return ck_err_wrap(err, "final dump");
		st->t.cg = glue_now_us() - t1;
		pr_info("cgroup.img written");
	}
	if (lives_on) {
		uint64_t t1 = glue_now_us();

		/* a running container changes its tmpfs and its host name: read them now */
		if (glue_ns_read_vals(&st->ns, err) < 0)
			return ck_err_wrap(err, "final dump");
		st->t.ns = glue_now_us() - t1;
		t1 = glue_now_us();
		/* started with the first task: only what is left of them counts here */
		if (st->mnt && glue_mnt_dump_tmpfs(st->mnt, st->tree->t[0].pid, dirfd, err) < 0)
			return ck_err_wrap(err, "final dump: the container's mounts");
		st->t.tars = glue_now_us() - t1;
		st->tars_done = true;
	} else if (check_room(st, dirfd, err) < 0) {
		return ck_err_wrap(err, "final dump, before the kill");
	}
	st->t.frozen_end = glue_now_us() - t0;
	return 0;
}

/* The frozen window's breakdown and the work after it (docs/memory.md). */
static void log_times(const struct glue_dump_state *st)
{
	const struct glue_dump_times *t = &st->t;

	pr_info("final dump, frozen: state %" PRIu64
		" us (namespaces, mount tree), parasite %" PRIu64 " us, cores %" PRIu64
		" us, ids+fs %" PRIu64 " us, fds %" PRIu64 " us, mm %" PRIu64 " us, end %" PRIu64
		" us (tmpfs held %" PRIu64 " us, cgroups %" PRIu64 " us%s)",
		t->collect, t->remote, t->cores, t->ids_fs, t->fds, t->keep_mm, t->frozen_end,
		t->hold, t->cg, st->tars_done ? ", namespaces and tars: the tree lives on" : "");
	pr_info("final dump, %s: mm %" PRIu64 " us, files %" PRIu64 " us, namespaces %" PRIu64
		" us, mounts %" PRIu64 " us, tmpfs tars %" PRIu64 " us, rest %" PRIu64 " us",
		st->tars_done ? "images" : "after the kill", t->mm, t->files, t->ns, t->mnt,
		t->tars, t->rest);
}

/* see dump-state.h */
int glue_dump_finish(struct glue_dump_state *st, int dirfd, struct ck_err **err)
{
	TimensEntry tn = TIMENS_ENTRY__INIT;
	Timespec mono = TIMESPEC__INIT, boot = TIMESPEC__INIT;
	uint64_t t = glue_now_us();

	if (!st->frozen_end)
		return ck_err_set(err, EINVAL, "final dump: the frozen part was not ended");
	/* the cores, ids, fs, fdinfo and cgroup images made while frozen */
	if (st->later &&
	    (glue_fault("late-images", err) < 0 || img_later_write(st->later, err) < 0))
		return ck_err_wrap(err, "final dump");
	img_later_free(steal_ptr(&st->later));
	st->later_done = true;
	for (size_t i = 0; i < st->tree->nr; i++) {
		if (!st->mm[i].done)
			return ck_err_set(err, EINVAL, "final dump: pid %d was not dumped",
					  (int)st->tree->t[i].pid);
		if (write_mm(st, dirfd, &st->tree->t[i], err) < 0)
			return ck_err_wrap(err, "final dump: mm of pid %d",
					   (int)st->tree->t[i].pid);
	}
	st->t.mm = lap(&t);
	if (glue_files_write(&st->files, dirfd, err) < 0 || write_pstree(st->tree, dirfd, err) < 0)
		return ck_err_wrap(err, "final dump");
	st->t.files = lap(&t);
	mono.tv_sec = (uint64_t)st->monotonic.tv_sec;
	mono.tv_nsec = (uint64_t)st->monotonic.tv_nsec;
	boot.tv_sec = (uint64_t)st->boottime.tv_sec;
	boot.tv_nsec = (uint64_t)st->boottime.tv_nsec;
	tn.monotonic = &mono;
	tn.boottime = &boot;
	/* timens-0.img, or timens-<id>.img for a time namespace of its own (as CRIU) */
	if (glue_dump_write_single(dirfd, IMG_TIMENS, st->ns.ctr_id[GLUE_NS_TIME], &tn, err) < 0)
		return ck_err_wrap(err, "final dump");
	lap(&t);
	/* values read while frozen (the tree lives on), else now through the held ns fds */
	if (glue_ns_write(&st->ns, &st->opts.ctr, dirfd, err) < 0)
		return ck_err_wrap(err, "final dump");
	st->t.ns += lap(&t);
	if (st->mnt && glue_mnt_write(st->mnt, dirfd, st->ns.ctr_id[GLUE_NS_MNT], err) < 0)
		return ck_err_wrap(err, "final dump: the container's mounts");
	st->t.mnt = lap(&t);
	/* after a kill: from the clones held while frozen (dump-tmpfs.c) */
	if (st->mnt && !st->tars_done &&
	    glue_mnt_dump_tmpfs(st->mnt, st->tree->t[0].pid, dirfd, err) < 0)
		return ck_err_wrap(err, "final dump: the container's mounts");
	if (st->mnt && !st->tars_done)
		st->t.tars = lap(&t);
	if (st->mnt)
		pr_info("mountpoints-%u.img and the tmpfs tars written",
			st->ns.ctr_id[GLUE_NS_MNT]);
	if (st->opts.ctr.descriptors && write_descriptors(st, dirfd, err) < 0)
		return ck_err_wrap(err, "final dump");
	if (glue_seccomp_write(st, dirfd, err) < 0)
		return ck_err_wrap(err, "final dump");
	if (write_inventory(st, dirfd, err) < 0)
		return ck_err_wrap(err, "final dump");
	st->t.rest = lap(&t);
	log_times(st);
	return 0;
}

/* see dump-state.h */
int glue_dump_after(const struct glue_pstree *tree, enum glue_dump_after after, struct ck_err **err)
{
	int sig, rc = 0;

	switch (after) {
	case GLUE_DUMP_LEAVE_RUNNING:
		return 0;
	case GLUE_DUMP_KILL:
		if (glue_fault("kill", err) < 0)
			return -1;
		sig = SIGKILL;
		break;
	case GLUE_DUMP_LEAVE_STOPPED:
		sig = SIGSTOP;
		break;
	default:
		return ck_err_set(err, EINVAL, "unknown post-dump action %d", (int)after);
	}
	/* children first, so no parent sees a child die before it is signalled itself */
	for (size_t i = tree->nr; i-- > 0;) {
		if (kill(tree->t[i].pid, sig) < 0 && errno != ESRCH && rc == 0)
			rc = ck_err_set(err, errno, "%s pid %d", sig == SIGKILL ? "kill" : "stop",
					(int)tree->t[i].pid);
	}
	return rc;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* see dump-state.h */
void glue_dump_wait_gone(const struct glue_pstree *tree, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	size_t nr = glue_pstree_nr_threads(tree), left;
	_cleanup_free_ pid_t *tid = xcalloc(nr ? nr : 1, sizeof(*tid));
	size_t k = 0;

	/*
	 * Killed tasks that were still traced by ckpt (a detach needs a stopped
	 * tracee) report their exit to ckpt first: until ckpt collects it, their
	 * parent cannot reap them, and a pid namespace's init waits for its
	 * children forever.  Collect every thread's exit as the tracer.
	 */
	for (size_t i = tree->nr; i-- > 0;)
		for (size_t j = 0; j < tree->t[i].nr_threads; j++)
			tid[k++] = tree->t[i].threads[j];
	do {
		left = 0;
		for (size_t i = 0; i < k; i++) {
			int status;
			pid_t r;

			if (!tid[i])
				continue;
			r = waitpid(tid[i], &status, __WALL | WNOHANG);
			if ((r == tid[i] && (WIFEXITED(status) || WIFSIGNALED(status))) ||
			    (r < 0 && errno == ECHILD))
				tid[i] = 0;
			else
				left++;
		}
		if (left)
			usleep(1000);
	} while (left && now_ms() < deadline);
	for (size_t i = 0; i < tree->nr; i++) {
		int fd = (int)syscall(SYS_pidfd_open, tree->t[i].pid, 0);
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = now_ms();

		if (fd < 0)
			continue; /* gone already */
		if (poll(&pfd, 1, now < deadline ? (int)(deadline - now) : 0) == 0)
			pr_warn("pid %d is still there %d ms after the kill", (int)tree->t[i].pid,
				timeout_ms);
		close(fd);
	}
}
