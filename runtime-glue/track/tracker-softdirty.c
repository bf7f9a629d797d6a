// SPDX-License-Identifier: MIT
/*
 * The soft-dirty tracker: the kernel's per-PTE soft-dirty bit, as CRIU uses it.
 *
 * Writing "4" to /proc/PID/clear_refs clears the soft-dirty bit of every page
 * of the process (and write-protects them); the kernel sets it again on the
 * next write to a page, on a new page, and for every page of a VMA created
 * since.  Bit 55 of a /proc/PID/pagemap entry reports it.  Per process:
 *
 *   frozen (collect)                        after the thaw
 *   ----------------                        --------------
 *   with history: read bit 55 of every      dirty = written set (no history:
 *     page the engine will look at            every page)
 *   re-arm (pre-dump, dump --track-mem):    pages are copied; a page written
 *     record a new token, then write "4"      after the clear is soft-dirty
 *     to clear_refs                           again and goes to the next layer
 *   softdirty-<id>.state in the layer: "token T starttime S"
 *
 * The clear happens after the bits were read and before any page is copied,
 * so nothing written between two layers can be missed.
 *
 * Valid history.  The bits say "written since the last clear", whoever
 * cleared them.  So a layer's written set is only trusted when the last clear
 * of that process is the one its parent layer recorded:
 *   - the parent layer has softdirty-<id>.state with this process's start time
 *     (a reused pid starts a new history);
 *   - the registry entry /run/ckpt/soft-dirty/<pid>-<starttime> holds the same
 *     token.  Every ckpt run records its token there *before* it clears, so a
 *     run of another chain, or a failed run that cleared and never committed
 *     its layer, invalidates the older layers: the next layer is full.
 *   - a parent written by CRIU (no ckpt-layer file) is valid history when it
 *     is a CRIU pre-dump (inventory pre_dump_mode set: CRIU's pre-dump always
 *     clears soft-dirty after reading it, while the tree is frozen) of this
 *     process (started before its dump_uptime), and no ckpt run cleared the
 *     bits after it (the registry's uptime is older than dump_uptime).
 * Anything else is a full layer for that process, with a log line saying why.
 * CRIU does not record its clears anywhere, so a CRIU run between two ckpt
 * layers of one chain cannot be detected (CRIU has the same blind spot).
 *
 * Shared segments are dumped whole: their pages are written through any
 * mapper, and soft-dirty is per process.  Transparent huge pages are tracked
 * per huge page (the bit lives in the PMD): one 4 KiB write marks 2 MiB.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/linux-compat.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/mem/layer.h"
#include "runtime-glue/proc/proc.h"
#include "runtime-glue/track/tracker.h"

#define REG_DIR "/run/ckpt/soft-dirty"

struct sd_run {
	int parent_dirfd;
	bool rearm;
	bool parent_is_ckpt;
	/* a CRIU parent: its inventory */
	uint64_t parent_uptime;
	bool parent_pre_dump;
	/* tasks collected in this run, whose bits may already be cleared */
	pid_t *seen;
	size_t nr_seen;
};

struct sd_obj {
	bool history; /* written is valid against the parent layer */
	bool armed;   /* cleared for the next layer, under token */
	uint64_t token;
	struct glue_ranges written; /* soft-dirty pages among the present ones */
};

/* What the registry says about the last clear of a process. */
struct sd_reg {
	bool found;
	uint64_t token;
	uint64_t uptime; /* µs of CLOCK_BOOTTIME at that clear */
};

static uint64_t uptime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static char *reg_path(const struct glue_mobj *obj)
{
	return xasprintf(REG_DIR "/%d-%" PRIu64, (int)obj->pid, obj->task->start_time);
}

static void reg_read(const struct glue_mobj *obj, struct sd_reg *out)
{
	_cleanup_free_ char *path = reg_path(obj);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned long long tok, up;
	char buf[128];
	ssize_t n;

	memset(out, 0, sizeof(*out));
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (sscanf(buf, "token %llx uptime %llu", &tok, &up) != 2)
		return;
	out->found = true;
	out->token = tok;
	out->uptime = up;
}

static int mkdir_p(const char *path, struct ck_err **err)
{
	_cleanup_free_ char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return ck_err_set(err, errno, "mkdir %s", p);
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return ck_err_set(err, errno, "mkdir %s", p);
	return 0;
}

/* Entries of processes that are gone (or whose pid now names another process). */
static void reg_prune(void)
{
	_cleanup_closedir_ DIR *d = opendir(REG_DIR);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_err_ struct ck_err *e2 = NULL;
		unsigned long long st;
		uint64_t now_st = 0;
		int pid;

		if (sscanf(de->d_name, "%d-%llu", &pid, &st) != 2)
			continue;
		if (glue_proc_starttime(pid, &now_st, &e2) < 0)
			now_st = 0;
		if (now_st != st)
			unlinkat(dirfd(d), de->d_name, 0);
	}
}

/* Record @token as the last clear of @obj's process (before clearing). */
static int reg_write(const struct glue_mobj *obj, uint64_t token, struct ck_err **err)
{
	_cleanup_free_ char *path = reg_path(obj);
	_cleanup_free_ char *tmp = xasprintf("%s.tmp-%d", path, (int)getpid());
	_cleanup_free_ char *text =
		xasprintf("token %016" PRIx64 " uptime %" PRIu64 "\n", token, uptime_us());
	_cleanup_close_ int fd = -1;

	if (mkdir_p(REG_DIR, err) < 0)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return ck_err_set(err, errno, "create %s", tmp);
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		ck_err_set(err, errno, "write %s", tmp);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		ck_err_set(err, errno, "rename %s", tmp);
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int sd_open(struct glue_tracker_ctx *t, int parent_dirfd, int layer_dirfd, bool rearm,
		   struct ck_err **err)
{
	struct glue_feature_result res;
	struct sd_run *r;

	glue_probe_feature(GLUE_FEAT_SOFT_DIRTY, &res);
	if (!res.available)
		return ck_err_set(err, ENOTSUP,
				  "tracker soft-dirty is not available on this kernel: %s",
				  res.detail);
	r = xzalloc(sizeof(*r));
	r->parent_dirfd = parent_dirfd;
	r->rearm = rearm;
	if (parent_dirfd >= 0) {
		r->parent_is_ckpt = glue_layer_is_ckpt(parent_dirfd);
		if (!r->parent_is_ckpt && glue_layer_read_inventory(parent_dirfd, &r->parent_uptime,
								    &r->parent_pre_dump, err) < 0) {
			free(r);
			return ck_err_wrap(err, "parent layer");
		}
	}
	t->priv = r;
	return 0;
}

/* Whether the parent layer is this process's soft-dirty history; logs why not. */
static bool has_history(const struct sd_run *r, const struct glue_mobj *obj)
{
	struct sd_reg reg;
	uint64_t token, st;
	int pid = (int)obj->pid;

	if (r->parent_dirfd < 0) {
		pr_debug("soft-dirty: pid %d: no parent layer: full layer", pid);
		return false;
	}
	if (!obj->has_parent) {
		pr_info("soft-dirty: pid %d: the parent layer does not hold this process (new or reused pid): full layer",
			pid);
		return false;
	}
	reg_read(obj, &reg);
	if (r->parent_is_ckpt) {
		if (!glue_tracker_state_read(r->parent_dirfd, "softdirty", obj->id, &token, &st)) {
			pr_info("soft-dirty: pid %d: no tracker state in the parent layer: full layer",
				pid);
			return false;
		}
		if (st != obj->task->start_time) {
			pr_warn("soft-dirty: pid %d is not the process of the parent layer (pid reused): full layer",
				pid);
			return false;
		}
		if (!reg.found) {
			pr_warn("soft-dirty: pid %d: no record of the clear the parent layer made (%s lost): full layer",
				pid, REG_DIR);
			return false;
		}
		if (reg.token != token) {
			pr_warn("soft-dirty: pid %d: soft-dirty bits were cleared again since the parent layer (another chain or a failed run): full layer",
				pid);
			return false;
		}
		return true;
	}
	/* A CRIU layer (the engine checked the pid against its dump_uptime). */
	if (!r->parent_pre_dump || !r->parent_uptime) {
		pr_info("soft-dirty: pid %d: the parent layer is a CRIU dump, not a pre-dump (its images do not say whether it cleared soft-dirty): full layer",
			pid);
		return false;
	}
	if (reg.found && reg.uptime >= r->parent_uptime) {
		pr_warn("soft-dirty: pid %d: ckpt cleared soft-dirty after the parent CRIU pre-dump: full layer",
			pid);
		return false;
	}
	pr_info("soft-dirty: pid %d: parent is a CRIU pre-dump, which cleared soft-dirty", pid);
	return true;
}

/* Soft-dirty pages among @obj's present pages, from /proc/PID/pagemap bit 55. */
static int read_written(struct glue_mobj *obj, struct glue_ranges *out, struct ck_err **err)
{
	int pm = glue_pagescan_fd(obj->scan);
	uint64_t pme[512];

	for (size_t i = 0; i < obj->present.nr; i++) {
		uint64_t a = obj->present.r[i].start, end = obj->present.r[i].end;

		while (a < end) {
			uint64_t cnt = (end - a) / GLUE_PAGE_SIZE;
			size_t bytes;
			ssize_t got;

			if (cnt > ARRAY_SIZE(pme))
				cnt = ARRAY_SIZE(pme);
			bytes = (size_t)cnt * sizeof(pme[0]);
			got = pread(pm, pme, bytes, (off_t)(a / GLUE_PAGE_SIZE * sizeof(pme[0])));
			if (got < 0)
				return ck_err_set(err, errno, "read pagemap of pid %d",
						  (int)obj->pid);
			if (got == 0)
				return ck_err_set(err, EIO, "short read of the pagemap of pid %d",
						  (int)obj->pid);
			cnt = (uint64_t)got / sizeof(pme[0]);
			for (uint64_t j = 0; j < cnt; j++, a += GLUE_PAGE_SIZE)
				if (pme[j] & PME_SOFT_DIRTY)
					glue_ranges_add(out, a, a + GLUE_PAGE_SIZE);
		}
	}
	return 0;
}

static int clear_refs(pid_t pid, struct ck_err **err)
{
	char path[64];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_err_set(err, errno, "open %s", path);
	if (write(fd, "4", 1) != 1)
		return ck_err_set(err, errno, "write 4 to %s", path);
	return 0;
}

/*
 * The task collected earlier in this run that shares @pid's address space
 * (CLONE_VM without CLONE_THREAD, vfork), or 0.  Its clear already wiped the
 * bits of this one.  When kcmp cannot tell, assume shared (a full layer).
 */
static pid_t shares_mm(const struct sd_run *r, pid_t pid)
{
	for (size_t i = 0; i < r->nr_seen; i++) {
		long rc = syscall(SYS_kcmp, r->seen[i], pid, KCMP_VM, 0, 0);

		if (rc <= 0) /* 0: the same mm; 1, 2, 3: different */
			return r->seen[i];
	}
	return 0;
}

/* Frozen, after the presence scan: read the written set, then clear. */
static int sd_collect(struct glue_tracker_ctx *t, struct glue_mobj *obj, struct ck_err **err)
{
	struct sd_run *r = t->priv;
	struct sd_obj *so = xzalloc(sizeof(*so));
	_cleanup_err_ struct ck_err *e2 = NULL;
	pid_t other;

	obj->tracker_priv = so;
	if (obj->shmem)
		return 0; /* written through any mapper: always whole */
	other = shares_mm(r, obj->pid);
	r->seen = xreallocarray(r->seen, r->nr_seen + 1, sizeof(*r->seen));
	r->seen[r->nr_seen++] = obj->pid;
	if (other) {
		pr_info("soft-dirty: pid %d shares its address space with pid %d, whose bits were just read and cleared: full layer, not tracked",
			(int)obj->pid, (int)other);
		return 0;
	}
	if (has_history(r, obj)) {
		if (read_written(obj, &so->written, err) < 0)
			return -1;
		so->history = true;
		pr_info("soft-dirty: pid %d: %" PRIu64 " of %" PRIu64 " pages written",
			(int)obj->pid, so->written.pages, obj->present.pages);
	}
	if (!r->rearm)
		return 0;
	if (getrandom(&so->token, sizeof(so->token), 0) != sizeof(so->token))
		return ck_err_set(err, errno, "getrandom");
	/* Recorded first: from here on, older layers are no history for this process. */
	if (reg_write(obj, so->token, &e2) < 0 || clear_refs(obj->pid, &e2) < 0) {
		_cleanup_free_ char *msg = ck_err_str(e2);

		pr_warn("soft-dirty: pid %d: cannot re-arm (%s); the next layer is full",
			(int)obj->pid, msg);
		return 0;
	}
	so->armed = true;
	return 0;
}

static int sd_classify(struct glue_tracker_ctx *t, struct glue_mobj *obj, struct glue_chunk *c,
		       struct ck_err **err)
{
	struct sd_obj *so = obj->tracker_priv;

	for (size_t i = 0; i < c->npages; i++)
		if (!so->history ||
		    glue_ranges_contains(&so->written, c->addr + i * GLUE_PAGE_SIZE))
			c->dirty[i] = 1;
	return 0;
}

static int sd_finish_obj(struct glue_tracker_ctx *t, struct glue_mobj *obj, int layer_dirfd,
			 struct ck_err **err)
{
	struct sd_obj *so = obj->tracker_priv;

	if (obj->shmem || !so->armed)
		return 0;
	return glue_tracker_state_write(layer_dirfd, "softdirty", obj->id, so->token,
					obj->task->start_time, err);
}

static int sd_commit(struct glue_tracker_ctx *t, int layer_dirfd, struct ck_err **err)
{
	reg_prune();
	return 0;
}

static void sd_release_obj(struct glue_tracker_ctx *t, struct glue_mobj *obj)
{
	struct sd_obj *so = obj->tracker_priv;

	if (!so)
		return;
	glue_ranges_free(&so->written);
	free(so);
	obj->tracker_priv = NULL;
}

static void sd_close(struct glue_tracker_ctx *t)
{
	struct sd_run *r = t->priv;

	if (r)
		free(r->seen);
	free(t->priv);
	t->priv = NULL;
}

const struct glue_tracker_ops glue_tracker_softdirty_ops = {
	.id = GLUE_TRACKER_SOFT_DIRTY,
	.needs_content = false,
	.open = sd_open,
	.collect = sd_collect,
	.classify = sd_classify,
	.finish_obj = sd_finish_obj,
	.commit = sd_commit,
	.release_obj = sd_release_obj,
	.close = sd_close,
};
