// SPDX-License-Identifier: MIT
/*
 * Whether uffd-wp may track a tree (the target's own userfaultfd, where the
 * holder would live), and `ckpt untrack`.  See uffd-target.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/proc/proc.h"
#include "runtime-glue/mem/vma.h"
#include "runtime-glue/proc/pstree.h"
#include "runtime-glue/track/uffd-holder.h"
#include "runtime-glue/track/uffd-target.h"

static int list_once(const struct glue_target *tgt, struct glue_pstree *tree, struct ck_err **err)
{
	struct glue_cgroup cg = { 0 };
	int rc;

	memset(tree, 0, sizeof(*tree));
	if (!tgt->cgroup)
		return glue_pstree_from_pid(tgt->pid, tree, err);
	if (!strcmp(tgt->cgroup, "auto"))
		rc = tgt->pid > 0 ? glue_cgroup_of_pid(tgt->pid, &cg, err)
				  : ck_err_set(err, EINVAL, "--cgroup auto needs -t PID");
	else
		rc = glue_cgroup_resolve(tgt->cgroup, &cg, err);
	if (rc == 0)
		rc = glue_pstree_from_cgroup(cg.dir, tree, err);
	glue_cgroup_free(&cg);
	return rc;
}

/*
 * The tasks of @tgt as they are now (nothing frozen): a task that exits while
 * it is read makes the listing fail, so it is tried again a few times.
 */
static int list_target(const struct glue_target *tgt, struct glue_pstree *tree, struct ck_err **err)
{
	for (int i = 0;; i++) {
		if (list_once(tgt, tree, err) == 0)
			return 0;
		if (i == 9 || ((*err)->errnum != ENOENT && (*err)->errnum != ESRCH))
			return -1;
		ck_err_free(err);
	}
}

/* The fd number of a userfaultfd in @pid's table, or -1. */
static int own_uffd_fd(pid_t pid)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/fd", (int)pid);
	_cleanup_closedir_ DIR *d = opendir(path);
	struct dirent *de;
	char link[64];

	if (!d)
		return -1; /* gone, or not ours to look at (then not ours to dump) */
	while ((de = readdir(d))) {
		ssize_t n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);

		if (n <= 0)
			continue;
		link[n] = '\0';
		if (!strcmp(link, "anon_inode:[userfaultfd]"))
			return atoi(de->d_name);
	}
	return -1;
}

/*
 * Whether a VMA of @t is registered with a userfaultfd (VmFlags um, uw or
 * ui); *addr gets its start.  smaps walks the page tables: only asked for
 * tasks no holder of ours tracks, whose registrations cannot be ours.  The
 * VMAs read go to @smaps (when not NULL) for the VmFlags of the layer's mm
 * image, which would otherwise read smaps again after the copy.
 */
static bool uffd_registered(const struct glue_task *t, unsigned long long *addr,
			    struct glue_vmas_snap *smaps)
{
	_cleanup_err_ struct ck_err *e2 = NULL;
	struct glue_vmas vmas = { 0 };
	bool found = false;

	if (glue_vmas_read(t->pid, &vmas, &e2) < 0)
		return false; /* gone, or not ours to look at (then not ours to dump) */
	for (size_t i = 0; i < vmas.nr && !found; i++) {
		if (vmas.v[i].uffd) {
			*addr = vmas.v[i].start;
			found = true;
		}
	}
	if (smaps && !found)
		glue_vmas_snap_add(smaps, t->pid, t->start_time, &vmas);
	glue_vmas_free(&vmas);
	return found;
}

/* A reason not to put a holder where the kernel would reparent it, or "". */
static void adoption_problem(const struct glue_pstree *tree, char *why, size_t len)
{
	char self[32] = "";
	ssize_t n = readlink("/proc/self", self, sizeof(self) - 1);
	pid_t p = getppid();

	if (n > 0)
		self[n] = '\0';
	if (n <= 0 || atoi(self) != getpid()) {
		snprintf(
			why, len,
			"/proc is not of ckpt's pid namespace (/proc/self is '%s', ckpt is pid %d)",
			self, (int)getpid());
		return;
	}
	if (glue_pstree_find(tree, 1)) {
		snprintf(
			why, len,
			"pid 1, the init of ckpt's pid namespace, is in the tree: the tracker "
			"process would become its child (run ckpt outside the target's pid namespace)");
		return;
	}
	for (int i = 0; p > 1 && i < 4096; i++) {
		_cleanup_err_ struct ck_err *e2 = NULL;
		uint64_t f[GLUE_STAT_FIELDS];

		if (glue_pstree_find(tree, p)) {
			snprintf(why, len,
				 "pid %d, an ancestor of ckpt, is in the tree: the tracker process "
				 "could become its child",
				 (int)p);
			return;
		}
		if (glue_proc_stat(p, f, &e2) < 0)
			break;
		p = (pid_t)f[4];
	}
}

/*
 * Whether task @i of @tree shares its address space with another task of the
 * tree that a holder of ours tracks (@ours[j]): a vfork child (dash runs every
 * command through vfork) shows its parent's registrations, which are ours.
 */
static bool shares_tracked_mm(const struct glue_pstree *tree, const bool *ours, size_t i)
{
	for (size_t j = 0; j < tree->nr; j++)
		if (j != i && ours[j] && glue_proc_same_vm(tree->t[i].pid, tree->t[j].pid) == 1)
			return true;
	return false;
}

/* The first task of @tree that uses userfaultfd itself, or "": releases our tracking of it. */
static void own_uffd_problem(const struct glue_pstree *tree, char *why, size_t len,
			     struct glue_vmas_snap *smaps)
{
	/* one holder connect per task: the mm check below asks about the others */
	_cleanup_free_ bool *ours = xcalloc(tree->nr ? tree->nr : 1, sizeof(*ours));

	for (size_t i = 0; i < tree->nr; i++)
		ours[i] = glue_uffd_holder_alive(tree->t[i].pid);
	for (size_t i = 0; i < tree->nr; i++) {
		pid_t pid = tree->t[i].pid;
		/*
		 * Asked before the smaps read: a vfork child seen sharing a tracked mm
		 * may exec before the read, and one that had exec'd (its own mm) when
		 * asked shows only registrations of its own.
		 */
		bool shared = !ours[i] && shares_tracked_mm(tree, ours, i);
		unsigned long long addr = 0;
		int fd = own_uffd_fd(pid);
		_cleanup_err_ struct ck_err *e2 = NULL;

		if (fd >= 0)
			snprintf(why, len,
				 "pid %d holds a userfaultfd of its own (fd %d): uffd-wp tracking "
				 "would make its UFFDIO_REGISTER fail with EBUSY",
				 (int)pid, fd);
		else if (!ours[i] && !shared && uffd_registered(&tree->t[i], &addr, smaps))
			snprintf(
				why, len,
				"pid %d has ranges registered with a userfaultfd (VmFlags um, uw or ui at "
				"%#llx): uffd-wp tracking would make its UFFDIO_REGISTER fail with "
				"EBUSY",
				(int)pid, addr);
		else
			continue;
		if (ours[i]) {
			if (glue_uffd_holder_stop(pid, NULL, NULL, &e2) < 0)
				pr_warn("uffd-wp: pid %d: %s", (int)pid, e2->msg);
			else
				pr_warn("uffd-wp: pid %d uses userfaultfd itself: its tracking from an earlier run is released",
					(int)pid);
		}
		return;
	}
}

/* see uffd-target.h */
int glue_uffd_fit_target(const struct glue_target *tgt, bool explicit, bool rearm,
			 enum glue_tracker *tid, char *why, size_t why_len,
			 struct glue_vmas_snap *smaps, struct ck_err **err)
{
	_cleanup_err_ struct ck_err *e2 = NULL;
	struct glue_pstree tree;
	char reason[512] = "";

	if (*tid != GLUE_TRACKER_UFFD_WP || !rearm)
		return 0; /* a final dump arms nothing: it uses and releases what is there */
	if (list_target(tgt, &tree, &e2) < 0) {
		/* the freeze lists it again and reports the problem in its words */
		pr_debug("uffd-wp: tree not checked: %s", e2->msg);
		return 0;
	}
	own_uffd_problem(&tree, reason, sizeof(reason), smaps);
	if (!reason[0])
		adoption_problem(&tree, reason, sizeof(reason));
	glue_pstree_free(&tree);
	if (!reason[0])
		return 0;
	if (smaps)
		glue_vmas_snap_free(smaps); /* another tracker, or none: not asked for */
	if (explicit)
		return ck_err_set(err, 0, "--tracker uffd-wp refused: %s", reason);
	*tid = glue_auto_tracker_except(GLUE_TRACKER_UFFD_WP, reason, why, why_len);
	pr_warn("tracker: uffd-wp not used: %s; using %s", reason, glue_tracker_name(*tid));
	return 0;
}

/* see uffd-target.h */
int glue_uffd_untrack(const struct glue_target *tgt, FILE *out, struct glue_untrack_result *r,
		      struct ck_err **err)
{
	struct glue_pstree tree;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if (list_target(tgt, &tree, err) < 0)
		return ck_err_wrap(err, "list the tree");
	r->tasks = tree.nr;
	for (size_t i = 0; i < tree.nr; i++) {
		_cleanup_err_ struct ck_err *e2 = NULL;
		pid_t pid = tree.t[i].pid, holder = 0;
		bool stopped = false;

		if (glue_uffd_holder_stop(pid, &stopped, &holder, &e2) < 0) {
			if (e2->errnum == ENOENT || e2->errnum == ESRCH)
				continue; /* exited meanwhile: so did its holder */
			if (!rc) {
				*err = steal_ptr(&e2);
				rc = ck_err_wrap(err, "pid %d", (int)pid);
			}
			continue;
		}
		if (!stopped)
			continue;
		r->released++;
		fprintf(out, "untrack: pid %d: uffd-wp tracking released (tracker process %d)\n",
			(int)pid, (int)holder);
	}
	glue_pstree_free(&tree);
	return rc;
}
