// SPDX-License-Identifier: MIT
/*
 * cgroup freezer (v1, v2) and ptrace seizing of a process tree.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "parasite/parasite.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/proc/lock.h"
#include "runtime-glue/proc/cgroup-probe.h"
#include "runtime-glue/proc/freezer.h"
#include "runtime-glue/proc/guardian.h"

#define FREEZE_TIMEOUT_US (10ULL * 1000 * 1000)
#define MAX_SEIZE_ROUNDS  16

/* The paused cgroup thawed under our ptrace stops right now, or NULL (see freezer.h). */
static const char *paused_thawed;

struct glue_freezer {
	bool cgroup_mode;
	struct glue_cgroup cg;
	bool was_frozen; /* the cgroup was frozen before us: leave it so */
	bool frozen;
	bool killed; /* the tree was killed: a paused cgroup is not frozen again */
	struct glue_guardian *guardian;
	/* ptrace mode */
	char *paused; /* the cgroup of a paused tree, thawed under our ptrace stops */
	bool paused_v2;
	size_t nr_ctl;
	struct parasite_ctl **ctl;
	uint64_t t_start, t_frozen, t_thawed;
	char desc[PATH_MAX + 32];
	pid_t locked; /* glue_target_lock()ed target */
};

/* see freezer.h */
uint64_t glue_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int read_small(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int write_small(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	return write(fd, val, strlen(val)) < 0 ? -1 : 0;
}

static bool cg_is_frozen(const struct glue_cgroup *cg)
{
	char buf[256];

	if (cg->v2) {
		if (read_small(cg->dir, "cgroup.events", buf, sizeof(buf)) < 0)
			return false;
		return strstr(buf, "frozen 1") != NULL;
	}
	if (read_small(cg->dir, "freezer.state", buf, sizeof(buf)) < 0)
		return false;
	return !strncmp(buf, "FROZEN", 6);
}

static int cg_freeze(struct glue_freezer *fz, struct ck_err **err)
{
	const struct glue_cgroup *cg = &fz->cg;
	const char *file = cg->v2 ? "cgroup.freeze" : "freezer.state";
	const char *val = cg->v2 ? "1" : "FROZEN";
	uint64_t deadline, delay = 50;

	if (write_small(cg->dir, file, val) < 0)
		return ck_err_set(err, errno, "freeze %s/%s", cg->dir, file);
	deadline = glue_now_us() + FREEZE_TIMEOUT_US;
	for (unsigned i = 0; !cg_is_frozen(cg); i++) {
		if (glue_now_us() > deadline)
			return ck_err_set(err, ETIMEDOUT, "cgroup %s did not freeze within %llu s",
					  cg->dir, FREEZE_TIMEOUT_US / 1000000);
		/* v1 can stay FREEZING when a task was busy in the kernel: ask again */
		if (!cg->v2 && i % 16 == 15)
			write_small(cg->dir, file, val);
		usleep((useconds_t)delay);
		if (delay < 5000)
			delay *= 2;
	}
	return 0;
}

static int freeze_cgroup(struct glue_freezer *fz, struct glue_pstree *tree, struct ck_err **err)
{
	pid_t self = getpid();

	snprintf(fz->desc, sizeof(fz->desc), "cgroup %s %s", fz->cg.v2 ? "v2" : "v1", fz->cg.dir);
	fz->was_frozen = cg_is_frozen(&fz->cg);
	if (!fz->was_frozen) {
		fz->guardian = glue_guardian_start(err);
		if (!fz->guardian)
			return -1;
		if (glue_guardian_arm(fz->guardian, fz->cg.dir, fz->cg.v2, err) < 0)
			return -1;
		fz->t_start = glue_now_us();
		fz->frozen = true;
		if (cg_freeze(fz, err) < 0)
			return -1; /* glue_freezer_free thaws */
	} else {
		pr_info("cgroup %s was frozen already; it stays frozen", fz->cg.dir);
		fz->t_start = glue_now_us();
		fz->frozen = true;
	}
	fz->t_frozen = glue_now_us();
	if (glue_pstree_from_cgroup(fz->cg.dir, tree, err) < 0)
		return -1;
	if (glue_pstree_find(tree, self))
		return ck_err_set(err, EDEADLK, "ckpt itself runs in cgroup %s", fz->cg.dir);
	return 0;
}

/*
 * The cgroup that holds @pid paused, or NULL: its v1 freezer when FROZEN or
 * FREEZING (`runc pause`), else its v2 cgroup when cgroup.freeze is 1.  A
 * paused task must not run, yet a remote call needs it to: a v1 frozen task
 * takes no ptrace trap at all, and a v2 frozen one goes back to its freezer
 * trap when continued.  So such a tree is seized first and thawed under its
 * ptrace stops (seize_paused).
 */
static char *paused_dir(pid_t pid, bool *v2)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/cgroup", (int)pid);
	_cleanup_free_ char *line = NULL, *v1mnt = NULL, *v2mnt = NULL, *v2dir = NULL;
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_err_ struct ck_err *e = NULL;
	size_t cap = 0;
	char buf[32];

	v1mnt = glue_cgroup_mount(1, &e);
	ck_err_free(&e);
	v2mnt = glue_cgroup_mount(2, &e);
	while (f && getline(&line, &cap, f) > 0) {
		char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
		char *dir;

		if (!b)
			continue;
		*b++ = '\0';
		b[strcspn(b, "\n")] = '\0';
		if (!strcmp(b, "/"))
			continue;
		if (!a[1] && v2mnt && !v2dir)
			v2dir = xasprintf("%s%s", v2mnt, b);
		if (strcmp(a + 1, "freezer") || !v1mnt)
			continue;
		dir = xasprintf("%s%s", v1mnt, b);
		if (read_small(dir, "freezer.state", buf, sizeof(buf)) == 0 &&
		    strncmp(buf, "THAWED", 6)) {
			*v2 = false;
			return dir;
		}
		free(dir);
	}
	if (v2dir && read_small(v2dir, "cgroup.freeze", buf, sizeof(buf)) == 0 && buf[0] == '1') {
		*v2 = true;
		return steal_ptr(&v2dir);
	}
	return NULL;
}

/*
 * Seize the tasks of @t (a tree that cannot change: it is paused), frozen as
 * they are: each is attached and interrupted, the guardian is armed to
 * re-freeze, the cgroup is thawed and each task takes its pending trap before
 * any user code runs.  glue_thaw() freezes the cgroup again before detaching.
 */
static int seize_paused(struct glue_freezer *fz, const struct glue_pstree *t, struct ck_err **err)
{
	size_t first = fz->nr_ctl;

	pr_info("cgroup %s is paused (%s): seizing its tasks frozen, thawing it under their ptrace stops; it is frozen again before they are released",
		fz->paused, fz->paused_v2 ? "v2 cgroup.freeze" : "v1 freezer");
	snprintf(fz->desc, sizeof(fz->desc), "ptrace, paused %s", fz->paused);
	fz->guardian = glue_guardian_start(err);
	if (!fz->guardian ||
	    glue_guardian_arm_refreeze(fz->guardian, fz->paused, fz->paused_v2, err) < 0)
		return -1;
	for (size_t i = 0; i < t->nr; i++) {
		struct parasite_ctl *ctl = NULL;

		if (parasite_seize_start(t->t[i].pid, PARASITE_SEIZE_NO_FPU, &ctl, err) < 0)
			return ck_err_wrap(err, "task %d of the paused tree", (int)t->t[i].pid);
		fz->ctl = xreallocarray(fz->ctl, fz->nr_ctl + 1, sizeof(*fz->ctl));
		fz->ctl[fz->nr_ctl++] = ctl;
	}
	paused_thawed = fz->paused;
	if (glue_cgroup_write_thaw(fz->paused, fz->paused_v2) < 0)
		return ck_err_set(err, errno, "thaw the paused cgroup %s under ptrace", fz->paused);
	for (size_t i = first; i < fz->nr_ctl; i++)
		if (parasite_seize_finish(fz->ctl[i], err) < 0)
			return -1;
	return glue_fault("seize", err);
}

/*
 * The paused cgroup frozen again, its tasks still in their ptrace stops.  v1
 * freezes a traced task at once; v2 counts it frozen only once it is
 * detached and back in its freezer trap (glue_thaw waits for that after).
 */
static int refreeze_paused(struct glue_freezer *fz, struct ck_err **err)
{
	struct glue_freezer tmp = { .cg = { .dir = fz->paused, .v2 = false } };

	paused_thawed = NULL;
	if (fz->paused_v2) {
		if (glue_cgroup_write_freeze(fz->paused, true) < 0)
			return ck_err_set(err, errno, "pausing %s again", fz->paused);
		return 0;
	}
	if (cg_freeze(&tmp, err) < 0)
		return ck_err_wrap(err, "pausing %s again", fz->paused);
	pr_info("cgroup %s is paused again", fz->paused);
	return 0;
}

/* A v2 paused cgroup, re-frozen before the detach, reports frozen again. */
static void wait_v2_paused(struct glue_freezer *fz)
{
	struct glue_cgroup cg = { .dir = fz->paused, .v2 = true };

	for (int i = 0; i < 200 && !cg_is_frozen(&cg); i++)
		usleep(5000);
	if (cg_is_frozen(&cg))
		pr_info("cgroup %s is paused again", fz->paused);
	else
		pr_warn("cgroup %s: cgroup.freeze is 1 again, but it does not report frozen yet",
			fz->paused);
}

/*
 * A cgroup target that is paused: its own freezer frozen, or (v2 on a hybrid
 * host, `--cgroup auto`) every task paused by its v1 freezer, where a v2
 * freeze would wait forever.  Then it is seized as a paused tree and handled
 * in ptrace mode.  0 (fz->paused set or not) or -1.
 */
static int cgroup_paused(struct glue_freezer *fz, struct glue_pstree *tree, struct ck_err **err)
{
	bool mixed = false;

	if (glue_pstree_from_cgroup(fz->cg.dir, tree, err) < 0)
		return -1;
	if (cg_is_frozen(&fz->cg)) {
		fz->paused = xstrdup(fz->cg.dir);
		fz->paused_v2 = fz->cg.v2;
	}
	for (size_t i = 0; !fz->paused && fz->cg.v2 && i < tree->nr; i++) {
		bool v2 = false;
		_cleanup_free_ char *dir = paused_dir(tree->t[i].pid, &v2);

		if (dir && !v2 && i == 0) {
			fz->paused = steal_ptr(&dir);
			fz->paused_v2 = false;
		} else if (dir && !v2) {
			mixed = true;
		}
	}
	if (mixed || (fz->paused && !fz->paused_v2 && fz->cg.v2)) {
		for (size_t i = 1; !mixed && i < tree->nr; i++) {
			bool v2 = false;
			_cleanup_free_ char *dir = paused_dir(tree->t[i].pid, &v2);

			mixed = !dir || v2 || strcmp(dir, fz->paused);
		}
		if (mixed)
			return ck_err_set(
				err, EBUSY,
				"cgroup %s: some of its tasks are paused by a v1 freezer, others not: name that freezer cgroup instead",
				fz->cg.dir);
	}
	if (!fz->paused) {
		glue_pstree_free(tree);
		return 0;
	}
	fz->t_start = glue_now_us();
	fz->frozen = true;
	fz->cgroup_mode = false;
	if (seize_paused(fz, tree, err) < 0)
		return -1;
	fz->t_frozen = glue_now_us();
	return 0;
}

static bool ctl_has(struct glue_freezer *fz, pid_t pid)
{
	for (size_t i = 0; i < fz->nr_ctl; i++)
		if (parasite_pid(fz->ctl[i]) == pid)
			return true;
	return false;
}

static int freeze_ptrace(struct glue_freezer *fz, pid_t root, struct glue_pstree *tree,
			 struct ck_err **err)
{
	snprintf(fz->desc, sizeof(fz->desc), "ptrace");
	fz->t_start = glue_now_us();
	fz->frozen = true;
	fz->paused = paused_dir(root, &fz->paused_v2);
	if (fz->paused) {
		struct glue_pstree t = { 0 };
		int rc = glue_pstree_from_pid(root, &t, err);

		if (rc == 0)
			rc = seize_paused(fz, &t, err);
		glue_pstree_free(&t);
		if (rc < 0)
			return -1;
	}
	for (int round = 0;; round++) {
		struct glue_pstree t = { 0 };
		size_t added = 0;

		if (glue_pstree_from_pid(root, &t, err) < 0)
			return -1;
		if (glue_pstree_find(&t, getpid())) {
			glue_pstree_free(&t);
			return ck_err_set(err, EDEADLK,
					  "ckpt itself (process %d) is in the tree of process %d",
					  (int)getpid(), (int)root);
		}
		for (size_t i = 0; i < t.nr; i++) {
			pid_t pid = t.t[i].pid;

			struct parasite_ctl *ctl = NULL;

			if (ctl_has(fz, pid))
				continue;
			if (parasite_seize(pid, PARASITE_SEIZE_NO_FPU, &ctl, err) < 0) {
				if (i > 0 && (*err)->errnum == ESRCH) {
					/* a child exited meanwhile */
					ck_err_free(err);
					continue;
				}
				glue_pstree_free(&t);
				return i ? ck_err_wrap(err, "task %d of the tree of %d", (int)pid,
						       (int)root)
					 : -1;
			}
			fz->ctl = xreallocarray(fz->ctl, fz->nr_ctl + 1, sizeof(*fz->ctl));
			fz->ctl[fz->nr_ctl++] = ctl;
			added++;
			if (glue_fault("seize", err) < 0) {
				glue_pstree_free(&t);
				return -1;
			}
		}
		if (!added) {
			/* Every task of this listing was stopped before it was read: stable. */
			*tree = t;
			break;
		}
		glue_pstree_free(&t);
		if (round == MAX_SEIZE_ROUNDS)
			return ck_err_set(err, EAGAIN,
					  "the tree of %d keeps forking; gave up after %d rounds",
					  (int)root, MAX_SEIZE_ROUNDS);
	}
	fz->t_frozen = glue_now_us();
	return 0;
}

/* see freezer.h */
int glue_target_tree(const struct glue_target *tgt, struct glue_pstree *out, struct ck_err **err)
{
	struct glue_cgroup cg = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	if (!tgt->cgroup)
		return glue_pstree_from_pid(tgt->pid, out, err);
	if (!strcmp(tgt->cgroup, "auto"))
		rc = glue_cgroup_of_pid(tgt->pid, &cg, err);
	else
		rc = glue_cgroup_resolve(tgt->cgroup, &cg, err);
	if (rc == 0)
		rc = glue_pstree_from_cgroup(cg.dir, out, err);
	glue_cgroup_free(&cg);
	return rc;
}

/* see freezer.h */
int glue_freeze(const struct glue_target *tgt, struct glue_freezer **out, struct glue_pstree *tree,
		struct ck_err **err)
{
	struct glue_freezer *fz = xzalloc(sizeof(*fz));
	int rc;

	memset(tree, 0, sizeof(*tree));
	if (tgt->pid > 0 && glue_target_lock(tgt->pid, err) < 0) {
		free(fz);
		return -1;
	}
	fz->locked = tgt->pid > 0 ? tgt->pid : 0;
	if (tgt->cgroup) {
		fz->cgroup_mode = true;
		if (!strcmp(tgt->cgroup, "auto")) {
			if (tgt->pid <= 0)
				rc = ck_err_set(err, EINVAL, "--cgroup auto needs -t PID");
			else
				rc = glue_cgroup_of_pid(tgt->pid, &fz->cg, err);
		} else {
			rc = glue_cgroup_resolve(tgt->cgroup, &fz->cg, err);
		}
		if (rc == 0)
			rc = cgroup_paused(fz, tree, err);
		if (rc == 0 && !fz->paused)
			rc = freeze_cgroup(fz, tree, err);
		if (rc == 0 && tgt->pid > 0 && !glue_pstree_find(tree, tgt->pid))
			rc = ck_err_set(err, ESRCH, "process %d is not in cgroup %s", (int)tgt->pid,
					fz->cg.dir);
	} else {
		rc = freeze_ptrace(fz, tgt->pid, tree, err);
	}
	if (rc == 0)
		rc = glue_fault("frozen", err);
	if (rc < 0) {
		glue_pstree_free(tree);
		glue_freezer_free(fz);
		return -1;
	}
	pr_info("froze %zu tasks (%zu threads) with %s in %llu us", tree->nr,
		glue_pstree_nr_threads(tree), fz->desc,
		(unsigned long long)(fz->t_frozen - fz->t_start));
	*out = fz;
	return 0;
}

/* see freezer.h */
int glue_thaw(struct glue_freezer *fz, bool leave_stopped, struct ck_err **err)
{
	int rc = 0;

	if (!fz->frozen)
		return 0;
	fz->frozen = false;
	if (fz->cgroup_mode) {
		if (!fz->was_frozen && !leave_stopped) {
			if (glue_cgroup_write_thaw(fz->cg.dir, fz->cg.v2) < 0)
				rc = ck_err_set(err, errno, "thaw cgroup %s", fz->cg.dir);
		}
		fz->t_thawed = glue_now_us();
		if (fz->guardian && rc == 0) {
			_cleanup_err_ struct ck_err *e2 = NULL;

			if (glue_guardian_disarm(fz->guardian, &e2) < 0)
				pr_warn("guardian: %s", e2->msg);
		}
		glue_guardian_stop(fz->guardian);
		fz->guardian = NULL;
		return rc;
	}
	if (fz->paused && !fz->killed && refreeze_paused(fz, err) < 0)
		rc = -1; /* still released: the guardian re-freezes it when we exit */
	for (size_t i = 0; i < fz->nr_ctl; i++) {
		_cleanup_err_ struct ck_err *e2 = NULL;

		if (leave_stopped)
			kill(parasite_pid(fz->ctl[i]), SIGSTOP);
		if (parasite_release(fz->ctl[i], &e2) < 0 && rc == 0) {
			rc = -1;
			*err = steal_ptr(&e2);
		}
	}
	fz->t_thawed = glue_now_us();
	if (fz->paused && fz->paused_v2 && !fz->killed && rc == 0)
		wait_v2_paused(fz);
	if (fz->guardian && rc == 0) {
		_cleanup_err_ struct ck_err *e3 = NULL;

		if (glue_guardian_disarm(fz->guardian, &e3) < 0)
			pr_warn("guardian: %s", e3->msg);
	}
	glue_guardian_stop(fz->guardian);
	fz->guardian = NULL;
	return rc;
}

/* see freezer.h */
void glue_freezer_free(struct glue_freezer *fz)
{
	if (!fz)
		return;
	if (fz->frozen) {
		_cleanup_err_ struct ck_err *e = NULL;

		if (glue_thaw(fz, false, &e) < 0) {
			_cleanup_free_ char *m = ck_err_str(e);

			pr_warn("thaw after failure: %s", m);
		}
	}
	for (size_t i = 0; i < fz->nr_ctl; i++)
		parasite_ctl_free(fz->ctl[i]);
	free(fz->ctl);
	glue_guardian_stop(fz->guardian);
	glue_cgroup_free(&fz->cg);
	if (paused_thawed == fz->paused)
		paused_thawed = NULL;
	free(fz->paused);
	glue_target_unlock(fz->locked);
	free(fz);
}

/* see freezer.h */
bool glue_pid_paused(pid_t pid)
{
	bool v2;
	_cleanup_free_ char *dir = paused_dir(pid, &v2);

	return dir != NULL;
}

/* see freezer.h */
bool glue_freezer_paused(const char *dir)
{
	return paused_thawed && !strcmp(paused_thawed, dir);
}

/* see freezer.h */
void glue_freezer_tree_killed(struct glue_freezer *fz)
{
	fz->killed = true;
}

/* see freezer.h */
struct parasite_ctl *glue_freezer_ctl(const struct glue_freezer *fz, pid_t pid)
{
	for (size_t i = 0; fz && i < fz->nr_ctl; i++)
		if (parasite_pid(fz->ctl[i]) == pid)
			return fz->ctl[i];
	return NULL;
}

/* see freezer.h */
uint64_t glue_freezer_freezing_us(const struct glue_freezer *fz)
{
	return fz->t_frozen - fz->t_start;
}

/* see freezer.h */
uint64_t glue_freezer_frozen_us(const struct glue_freezer *fz)
{
	uint64_t end = fz->t_thawed ? fz->t_thawed : glue_now_us();

	return end - fz->t_frozen;
}

/* see freezer.h */
const char *glue_freezer_describe(const struct glue_freezer *fz)
{
	return fz->desc;
}
