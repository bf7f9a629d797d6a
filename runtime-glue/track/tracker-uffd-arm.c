// SPDX-License-Identifier: MIT
/*
 * The uffd-wp tracker's arm: a process without a usable history (a first or
 * full layer, a holder gone) gets a new uffd, created inside it, taken out,
 * registered over its private VMAs, write-protected (at once, or chunk by
 * chunk ahead of a pre-dump's copy) and handed to a holder process that keeps
 * it until the next run.  Kept apart from the tracker ops (tracker-uffd.c)
 * because it is the only part that seizes the target and forks.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/linux-compat.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "parasite/parasite.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/proc/freezer.h"
#include "runtime-glue/proc/proc.h"
#include "runtime-glue/track/tracker-uffd-priv.h"
#include "runtime-glue/track/uffd-holder.h"
#include "runtime-glue/track/uffd-track.h"

/*
 * The holder must never be part of the tree it tracks: a task of the tree
 * would see it as its child (wait(2) would wait for it) and the next run
 * would freeze it.  The double fork reparents it at once, to a subreaper
 * or the init of ckpt's pid namespace; glue_uffd_check_target() refuses
 * uffd-wp before the freeze when that would be a task of the tree, and this
 * checks the result.
 */
static int holder_adopted_by_tree(struct glue_tracker_ctx *t, pid_t holder,
				  const struct glue_mobj *obj, struct ck_err **err)
{
	_cleanup_err_ struct ck_err *e2 = NULL;
	uint64_t f[GLUE_STAT_FIELDS];
	pid_t ppid;

	if (glue_proc_stat(holder, f, &e2) < 0)
		return 0; /* gone already: the next layer says so */
	ppid = (pid_t)f[4];
	if (!t->tree || !glue_pstree_find(t->tree, ppid))
		return 0;
	if (glue_uffd_holder_stop(obj->pid, NULL, NULL, &e2) < 0)
		pr_warn("uffd-wp: pid %d: %s", (int)obj->pid, e2->msg);
	return ck_err_set(err, EDEADLK,
			  "the tracker process was adopted by pid %d of the tree (ckpt runs in "
			  "its pid namespace?) and was stopped",
			  (int)ppid);
}

static int hand_over(struct glue_tracker_ctx *t, struct uffd_obj *uo, struct glue_mobj *obj,
		     int uffd_in, struct ck_err **err);

/*
 * Arm a new uffd in a running (or seizable) process: create it inside the
 * target, take it out, close the target's copy, register and arm every VMA,
 * and give it to a holder.  Called before any page of @obj is read.  @lazy
 * (a pre-dump's copy, chunk by chunk): register only; glue_uffd_arm_protect_below()
 * write-protects ahead of the copy and the holder gets the uffd after it
 * (finish_lazy), so that the 1 GiB protection walk (~15 ms) runs while the
 * page writer, the copy's slower half, has work queued.
 */
static int arm_new(struct glue_tracker_ctx *t, struct uffd_obj *uo, struct glue_mobj *obj,
		   bool lazy, struct ck_err **err)
{
	_cleanup_parasite_ctl_ struct parasite_ctl *ctl = NULL;
	_cleanup_close_ int uffd = -1;
	unsigned long args[6] = { O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY };
	_cleanup_err_ struct ck_err *e2 = NULL;
	long rfd = -1, ret;
	int pm = glue_pagescan_fd(obj->scan);

	/*
	 * A holder from an older chain (or one that did not answer) may still run
	 * for this pid: it goes first, or its registrations would refuse ours.
	 */
	if (glue_uffd_holder_stop(obj->pid, NULL, NULL, err) < 0)
		return -1;
	if (parasite_seize(obj->pid, PARASITE_SEIZE_NO_FPU, &ctl, err) < 0 ||
	    glue_fault("seize", err) < 0)
		return -1;
	if (parasite_syscall(ctl, __NR_userfaultfd, args, &rfd, err) < 0)
		return -1;
	if (rfd < 0) {
		parasite_release_quiet(ctl);
		return ck_err_set(err, (int)-rfd, "userfaultfd() inside pid %d%s", (int)obj->pid,
				  rfd == -EPERM && parasite_seccomp_mode(ctl) == 2 &&
						  !parasite_seccomp_suspended(ctl)
					  ? " (refused by its seccomp filter; root can suspend it)"
					  : "");
	}
	if (parasite_steal_fd(ctl, (int)rfd, &uffd, err) < 0) {
		args[0] = (unsigned long)rfd;
		if (parasite_syscall(ctl, __NR_close, args, &ret, &e2) < 0)
			pr_warn("uffd-wp: pid %d keeps a userfaultfd at fd %ld: %s", (int)obj->pid,
				rfd, e2->msg);
		return -1;
	}
	/* The target must not end up with an extra fd. */
	args[0] = (unsigned long)rfd;
	if (parasite_syscall(ctl, __NR_close, args, &ret, err) < 0)
		return -1;
	if (parasite_release(ctl, err) < 0)
		return -1;
	if (glue_fault("uffd-create", err) < 0 || glue_uffd_api(uffd, err) < 0)
		return -1;
	for (size_t i = 0; i < obj->vmas->nr; i++) {
		const struct glue_vma *v = &obj->vmas->v[i];
		struct glue_ranges arm = { 0 };
		bool tracked;

		if (!glue_uffd_trackable(v))
			continue;
		if (glue_uffd_register(uffd, v->start, v->end, &e2) < 0) {
			/* Gone since the frozen VMA list, or not trackable: whole next time. */
			pr_debug("uffd-wp: pid %d: %s", (int)obj->pid, e2->msg);
			ck_err_free(&e2);
			continue;
		}
		if (glue_fault("uffd-register", err) < 0)
			return -1;
		if (lazy) {
			glue_ranges_add(&uo->unprot, v->start, v->end);
			continue;
		}
		if (glue_uffd_scan_written(pm, v->start, v->end, &arm, &tracked, err) < 0)
			return -1;
		glue_ranges_free(&arm);
	}
	if (lazy) {
		/* protected chunk by chunk before each is read, handed over after the copy */
		uo->lazy_uffd = steal_fd(&uffd);
		uo->armed = true;
		return 0;
	}
	return hand_over(t, uo, obj, steal_fd(&uffd), err);
}

/*
 * Write-protect what @uo registered below @end (all of it with UINT64_MAX),
 * in address order: a page is protected before it is read, so a write after
 * its copy is in the next layer.  A page protected without being read (not
 * present at the presence scan) is the uffd-late case (file comment).  A range
 * the kernel refuses (EPERM: replaced since it was registered) is left to the
 * next layer's frozen scan, which finds it unregistered and dumps it whole.
 */
int glue_uffd_arm_protect_below(struct uffd_obj *uo, int pm, uint64_t end, struct ck_err **err)
{
	for (size_t i = glue_ranges_first_after(&uo->unprot, uo->prot_upto); i < uo->unprot.nr;
	     i++) {
		const struct glue_range *r = &uo->unprot.r[i];
		uint64_t s = r->start > uo->prot_upto ? r->start : uo->prot_upto;
		uint64_t e = r->end < end ? r->end : end;
		struct glue_ranges arm = { 0 };
		bool tracked;

		if (r->start >= end)
			break;
		if (s < e && glue_uffd_scan_written(pm, s, e, &arm, &tracked, err) < 0)
			return -1;
		glue_ranges_free(&arm);
	}
	if (end > uo->prot_upto)
		uo->prot_upto = end;
	return 0;
}

/* Give @uffd (taken over) to a holder: the tracking outlives this run. */
static int hand_over(struct glue_tracker_ctx *t, struct uffd_obj *uo, struct glue_mobj *obj,
		     int uffd_in, struct ck_err **err)
{
	_cleanup_close_ int uffd = uffd_in;
	uint64_t token;
	pid_t holder = 0;

	if (getrandom(&token, sizeof(token), 0) != sizeof(token))
		return ck_err_set(err, errno, "getrandom");
	if (glue_fault("uffd-handoff", err) < 0 ||
	    glue_uffd_holder_spawn(obj->pid, uffd, token, &holder, err) < 0)
		return -1;
	if (holder_adopted_by_tree(t, holder, obj, err) < 0)
		return -1;
	uo->token = token;
	uo->armed = true;
	return 0;
}

/*
 * Whether @pid can be seized now: not while our own ptrace freeze holds it,
 * and not while its cgroup is paused (a v1 frozen task enters no ptrace stop
 * until thawed; a v2 frozen one goes back to its freezer trap when continued,
 * so a remote call would wait for its timeout).
 */
static bool seizable_now(pid_t pid)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/status", (int)pid);
	_cleanup_free_ char *line = NULL;
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	size_t cap = 0;
	int tracer = 0;

	if (!f)
		return false;
	while (getline(&line, &cap, f) > 0)
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	return !tracer && !glue_pid_paused(pid);
}

void glue_uffd_arm_maybe(struct glue_tracker_ctx *t, struct glue_mobj *obj, bool lazy)
{
	struct uffd_run *r = t->priv;
	struct uffd_obj *uo = obj->tracker_priv;
	_cleanup_err_ struct ck_err *e2 = NULL;

	if (!r->rearm || uo->armed || uo->arm_tried || obj->shmem)
		return;
	/*
	 * One attempt per run: an arm that succeeded at a later chunk would come
	 * after the copy of the earlier ones, and its first scan would consume
	 * what was written to them in between.
	 */
	uo->arm_tried = true;
	uo->armed = true;
	if (!seizable_now(obj->pid)) {
		pr_info("uffd-wp: pid %d: not armed while the tree is held frozen; the next layer is full",
			(int)obj->pid);
		uo->armed = false;
		return;
	}
	if (arm_new(t, uo, obj, lazy, &e2) < 0) {
		_cleanup_free_ char *msg = ck_err_str(e2);

		uo->armed = false;
		if (uo->lazy_uffd >= 0)
			close(steal_fd(&uo->lazy_uffd));
		if (kill(obj->pid, 0) < 0 && errno == ESRCH) {
			pr_info("uffd-wp: pid %d exited before its tracker was armed",
				(int)obj->pid);
			return;
		}
		pr_warn("uffd-wp: pid %d: cannot arm the tracker (%s); the next layer is full",
			(int)obj->pid, msg);
		uo->armed = false;
		return;
	}
	uo->armed_now = true;
	pr_info("uffd-wp: pid %d: tracker armed", (int)obj->pid);
}

/*
 * After the copy of a lazily armed process: protect the rest (the pages that
 * were not present, between and after the chunks) and hand the uffd to a
 * holder.  A failure there leaves the process untracked: the next layer is
 * full, as when the arm fails.
 */
void glue_uffd_arm_finish(struct glue_tracker_ctx *t, struct uffd_obj *uo, struct glue_mobj *obj)
{
	_cleanup_err_ struct ck_err *e2 = NULL;
	_cleanup_free_ char *msg = NULL;

	if (uo->lazy_uffd < 0)
		return;
	if (glue_uffd_arm_protect_below(uo, glue_pagescan_fd(obj->scan), UINT64_MAX, &e2) == 0 &&
	    hand_over(t, uo, obj, steal_fd(&uo->lazy_uffd), &e2) == 0)
		return;
	if (uo->lazy_uffd >= 0)
		close(steal_fd(&uo->lazy_uffd));
	uo->armed = uo->armed_now = false;
	msg = ck_err_str(e2);
	if (kill(obj->pid, 0) < 0 && errno == ESRCH) {
		pr_info("uffd-wp: pid %d exited before its tracker was armed", (int)obj->pid);
		return;
	}
	pr_warn("uffd-wp: pid %d: cannot arm the tracker (%s); the next layer is full",
		(int)obj->pid, msg);
}
