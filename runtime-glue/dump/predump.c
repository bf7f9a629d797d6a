// SPDX-License-Identifier: MIT
/*
 * The memory engine: freeze, select pages, ask the tracker, write the layer.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/dump/dump-state.h"
#include "runtime-glue/dump/engine.h"
#include "runtime-glue/dump/frozen-buf.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/mem/copy.h"
#include "runtime-glue/dump/predump.h"
#include "runtime-glue/dump/presence.h"
#include "runtime-glue/mem/pagemap.h"
#include "runtime-glue/proc/proc.h"
#include "runtime-glue/proc/seccomp.h"
#include "runtime-glue/dump/progress.h"
#include "runtime-glue/track/tracker.h"
#include "runtime-glue/track/uffd-target.h"

#define COPY_SLOTS 4 /* buffers between reading and writing (copy.h) */

/* see predump.h */
int glue_mem_pick_tracker(int want, enum glue_tracker *out, char *why, size_t why_len,
			  struct ck_err **err)
{
	char tmp[1024];

	if (want < 0) {
		*out = glue_auto_tracker(tmp, sizeof(tmp));
		if (why)
			snprintf(why, why_len, "%s", tmp);
	} else {
		*out = (enum glue_tracker)want;
		if (why)
			snprintf(why, why_len, "%s: chosen with --tracker",
				 glue_tracker_name(*out));
	}
	return glue_tracker_ops(*out, err) ? 0 : -1;
}

static struct mobj *add_obj(struct engine *e)
{
	e->obj = xreallocarray(e->obj, e->nr_obj + 1, sizeof(*e->obj));
	memset(&e->obj[e->nr_obj], 0, sizeof(*e->obj));
	e->obj[e->nr_obj].shm_fd = -1;
	return &e->obj[e->nr_obj++];
}

static void free_objs(struct engine *e)
{
	for (size_t i = 0; i < e->nr_obj; i++) {
		struct mobj *ob = &e->obj[i];

		if (ob->collected && e->trk.ops->release_obj)
			e->trk.ops->release_obj(&e->trk, &ob->m);
		glue_vmas_free(&ob->vmas);
		glue_pagescan_close(ob->m.scan);
		glue_memreader_close(ob->rd);
		glue_presence_free(&ob->pres);
		glue_pmw_abort(ob->pmw);
		glue_ranges_free(&ob->m.present);
		glue_ranges_free(&ob->m.parent_held);
		if (ob->shm_fd >= 0)
			close(ob->shm_fd);
	}
	glue_engine_prefreeze_free(e);
	free(e->obj);
	e->obj = NULL;
	e->nr_obj = 0;
}

/* Shared segments of a task's VMAs, once per inode across the tree. */
static int add_shmem(struct engine *e, const struct glue_task *t, const struct glue_vma *v,
		     struct ck_err **err)
{
	char path[128];
	struct stat st;
	struct mobj *ob;
	int fd;

	for (size_t i = 0; i < e->nr_obj; i++)
		if (e->obj[i].m.shmem && e->obj[i].m.id == v->ino && e->obj[i].shm_dev == v->dev)
			return 0;
	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)t->pid,
		 v->start, v->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_err_set(err, errno, "open %s (shared segment of %s)", path,
				  v->name ? v->name : "?");
	if (fstat(fd, &st) < 0) {
		close(fd);
		return ck_err_set(err, errno, "stat %s", path);
	}
	ob = add_obj(e);
	ob->m.shmem = true;
	ob->m.pid = t->pid;
	ob->m.id = v->ino;
	ob->shm_dev = v->dev;
	ob->shm_fd = fd;
	/* Data ranges of the segment (holes were never written). */
	for (off_t off = 0; off < st.st_size;) {
		off_t data = lseek(fd, off, SEEK_DATA), hole;

		if (data < 0)
			break; /* ENXIO: no more data */
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			hole = st.st_size;
		data &= ~(off_t)(GLUE_PAGE_SIZE - 1);
		hole = (hole + (off_t)GLUE_PAGE_SIZE - 1) & ~(off_t)(GLUE_PAGE_SIZE - 1);
		glue_ranges_add(&ob->m.present, (uint64_t)data, (uint64_t)hole);
		off = hole;
	}
	return 0;
}

/*
 * A zombie (a task that exited before the freeze stopped it, not yet reaped
 * by its frozen parent) has no memory: it stays in the tree (pstree), without
 * a memory object.  With @err set (reading its memory failed), the error is
 * dropped when the task turns out dead, and its half-made object removed.
 */
static bool skip_dead(struct engine *e, struct glue_task *t, struct ck_err **err)
{
	if (!glue_task_refresh_dead(t))
		return false;
	if (err) {
		struct mobj *ob = &e->obj[--e->nr_obj];

		glue_vmas_free(&ob->vmas);
		glue_pagescan_close(ob->m.scan);
		glue_memreader_close(ob->rd);
		glue_presence_free(&ob->pres);
		glue_ranges_free(&ob->m.present);
		glue_ranges_free(&ob->m.parent_held);
		ck_err_free(err);
	}
	{
		_cleanup_err_ struct ck_err *e2 = NULL;
		uint64_t f[GLUE_STAT_FIELDS];

		if (glue_proc_stat(t->pid, f, &e2) >= 3 && f[3] != 'Z' && f[3] != 'X')
			pr_info("pid %d is exiting (its memory already released): no memory to dump",
				(int)t->pid);
		else
			pr_info("pid %d is a zombie (it exited, its parent has not reaped it): no memory to dump",
				(int)t->pid);
	}
	return true;
}

/*
 * Frozen: VMAs, the pages to dump, the tracker's snapshot.  VMAs an exact
 * tracker answers for are not scanned for presence (presence.h).  A uffd-wp
 * pre-dump reads only the VMAs here; the rest waits for the thaw.
 */
static int collect(struct engine *e, struct ck_err **err)
{
	enum glue_scan_method sm =
		glue_fault_enabled("no-pagemap-scan") ? GLUE_SCAN_PAGEMAP : GLUE_SCAN_AUTO;
	uint64_t t0 = glue_now_us(), t_maps = 0, t_trk = 0, t_scan = 0, deferred = 0, answered = 0;

	for (size_t i = 0; i < e->tree.nr; i++) {
		struct glue_task *t = &e->tree.t[i];
		struct mobj *ob;
		size_t first_shm, j;

		if (skip_dead(e, t, NULL))
			continue;
		ob = add_obj(e);
		ob->m.pid = t->pid;
		ob->m.id = (uint64_t)t->vpid;
		ob->m.task = t;
		/*
		 * A vfork child: its exec after the thaw leaves the parent's mm
		 * alive.  (ppid is 0 when the parent is not in the tree.)
		 */
		if (e->o->pre_dump && t->ppid && glue_proc_same_vm(t->pid, t->ppid) == 1)
			ob->vm_peer = t->ppid;
		t_maps -= glue_now_us();
		/*
		 * The cheap maps inside the freeze, VmFlags after the thaw, except
		 * for a restorable dump (its mm images come from the frozen read).
		 */
		if ((!e->o->restorable ? glue_vmas_read_fast : glue_vmas_read)(t->pid, &ob->vmas,
									       err) < 0) {
			if (skip_dead(e, t, err))
				continue;
			return ck_err_wrap(err, "task %d", (int)t->pid);
		}
		t_maps += glue_now_us();
		ob->m.vmas = &ob->vmas;
		ob->m.scan = glue_pagescan_open(t->pid, sm, err);
		if (!ob->m.scan) {
			if (skip_dead(e, t, err))
				continue;
			return -1;
		}
		ob->rd = glue_memreader_open(t->pid, glue_copy_method_default(), err);
		if (!ob->rd) {
			if (skip_dead(e, t, err))
				continue;
			return -1;
		}
		if (glue_engine_load_parent(e, ob, err) < 0)
			return -1;
		if (!e->presence_late && glue_presence_scan(&ob->pres, &ob->m, e->trk.ops,
							    e->layer.parent_dirfd, err) < 0) {
			if (skip_dead(e, t, err))
				continue;
			return ck_err_wrap(err, "task %d", (int)t->pid);
		}
		/* add_shmem() may move e->obj: use indexes from here */
		first_shm = e->nr_obj;
		for (j = 0; j < e->obj[first_shm - 1].vmas.nr; j++) {
			const struct glue_vma *v = &e->obj[first_shm - 1].vmas.v[j];

			if (v->dump == GLUE_DUMP_SHMEM && add_shmem(e, t, v, err) < 0)
				return ck_err_wrap(err, "task %d", (int)t->pid);
		}
	}
	for (size_t i = 0; i < e->nr_obj; i++) {
		struct mobj *ob = &e->obj[i];

		/* add_obj() moved the array: point each object at its own VMAs again */
		if (!ob->m.shmem)
			ob->m.vmas = &ob->vmas;
		else if (glue_engine_load_parent(e, ob, err) < 0)
			return -1;
		ob->collected = true;
		/* (a uffd-wp pre-dump: after the thaw, glue_engine_check_presence) */
		if (e->trk.ops->collect && (!e->presence_late || ob->m.shmem)) {
			t_trk -= glue_now_us();
			if (e->trk.ops->collect(&e->trk, &ob->m, err) < 0)
				return ck_err_wrap(err, "tracker %s",
						   glue_tracker_name(e->trk.ops->id));
			t_trk += glue_now_us();
		}
		if (!ob->m.shmem && !e->presence_late) {
			if (glue_presence_resolve(&ob->pres, &e->trk, &ob->m, err) < 0)
				return ck_err_wrap(err, "task %d", (int)ob->m.pid);
			t_scan += ob->pres.scan_us;
			deferred += ob->pres.nr_deferred;
			answered += ob->pres.nr_answered;
		}
		e->pages_total += ob->m.present.pages;
	}
	e->res->discover_us += glue_now_us() - t0;
	pr_info("frozen work: maps %" PRIu64 " us, presence scans %" PRIu64 " us, tracker %" PRIu64
		" us; %" PRIu64 " of %" PRIu64
		" unchanged anonymous VMAs answered by the tracker (no presence scan)",
		t_maps, t_scan, t_trk, answered, deferred);
	pr_info("%zu memory objects, %" PRIu64 " pages to look at (page scan: %s)", e->nr_obj,
		e->pages_total,
		e->nr_obj && e->obj[0].m.scan &&
				glue_pagescan_method(e->obj[0].m.scan) == GLUE_SCAN_PAGEMAP_SCAN
			? "PAGEMAP_SCAN"
			: "pagemap");
	return glue_fault("collected", err);
}

static int write_rest(struct engine *e, struct ck_err **err)
{
	if (glue_layer_write_inventory(&e->layer, e->o->pre_dump, err) < 0 ||
	    glue_layer_write_pstree(&e->layer, &e->tree, err) < 0)
		return -1;
	for (size_t i = 0; i < e->nr_obj; i++) {
		struct mobj *ob = &e->obj[i];

		/*
		 * A restorable dump's mm images are written by glue_dump_finish()
		 * from what was read while frozen; after the thaw the task may be gone.
		 */
		if (ob->m.shmem || e->o->restorable || ob->gone)
			continue;
		glue_engine_vmflags(e, ob);
		if (glue_layer_write_mm(&e->layer, ob->m.task, &ob->vmas, err) < 0) {
			/* a pre-dump writes this after the thaw: the task may be gone by now */
			if (!glue_engine_gone(e, ob))
				return -1;
			ck_err_free(err);
		}
	}
	if (glue_layer_write_meta(&e->layer, glue_tracker_name(e->trk.ops->id), &e->tree, err) < 0)
		return -1;
	if (e->trk.ops->commit && e->trk.ops->commit(&e->trk, e->layer.dirfd, err) < 0)
		return -1;
	return 0;
}

/*
 * Final dump: registers, files, ids, ... of every task (dump-state.h), while
 * the tree is still frozen.
 */
static int dump_restorable(struct engine *e, struct glue_dump_pre *pre,
			   struct glue_dump_state **out, struct ck_err **err)
{
	struct glue_dump_opts dopts = { .shell_job = e->o->shell_job,
					.ctr = e->o->ctr,
					.pre = pre,
					.lives_on = !e->o->kill_after };

	*out = glue_dump_state_new(&e->tree, &dopts, err);
	if (!*out)
		return -1;
	for (size_t i = 0; i < e->tree.nr; i++) {
		const struct glue_task *t = &e->tree.t[i];
		const struct glue_vmas *v = NULL;

		if (t->dead)
			return ck_err_set(
				err, ESRCH,
				"pid %d is a zombie (exited, and its parent pid %d did not reap it while the tree ran between 5 stops): ckpt does not write zombies into a restorable dump yet (pre-dump and --memory-only do)",
				(int)t->pid, (int)t->ppid);
		for (size_t j = 0; j < e->nr_obj; j++)
			if (!e->obj[j].m.shmem && e->obj[j].m.task == t)
				v = &e->obj[j].vmas;
		if (glue_dump_task_state(*out, e->layer.dirfd, t, glue_freezer_ctl(e->fz, t->pid),
					 v, err) < 0)
			return -1;
	}
	return glue_dump_frozen_end(*out, e->layer.dirfd, err);
}

/*
 * A restorable dump cannot write a zombie yet: a child that exited while the
 * tree was being stopped (a shell's short-lived `sleep`) is reaped by its
 * parent once the tree runs again.  So thaw, give the parent a moment, and
 * stop the tree again, at most 5 times; then the dump fails as before.
 */
static int refreeze_without_zombies(struct engine *e, const struct glue_target *tgt,
				    struct ck_err **err)
{
	for (int round = 0; round < 5; round++) {
		pid_t zombie = 0;

		for (size_t i = 0; i < e->tree.nr && !zombie; i++)
			if (e->tree.t[i].dead || glue_task_refresh_dead(&e->tree.t[i]))
				zombie = e->tree.t[i].pid;
		if (!zombie)
			return 0;
		pr_info("pid %d exited while the tree was being stopped: thaw and stop it again",
			(int)zombie);
		if (glue_thaw(e->fz, false, err) < 0)
			return -1;
		glue_freezer_free(e->fz);
		e->fz = NULL;
		glue_pstree_free(&e->tree);
		usleep(20000u << round);
		if (glue_freeze(tgt, &e->fz, &e->tree, err) < 0)
			return -1;
	}
	return 0;
}

static int thaw(struct engine *e, bool leave_stopped, struct ck_err **err)
{
	int rc = glue_thaw(e->fz, leave_stopped, err);

	e->res->st.frozen_us = glue_freezer_frozen_us(e->fz);
	glue_progress_phase(e->prog, leave_stopped ? "left-stopped" : "thawed");
	pr_info("frozen for %" PRIu64 " us (%s)", e->res->st.frozen_us,
		glue_freezer_describe(e->fz));
	return rc;
}

/* see predump.h */
int glue_mem_dump(const struct glue_mem_opts *o, struct glue_mem_result *res, struct ck_err **err)
{
	struct engine e = { .o = o, .res = res };
	struct glue_dump_state *rst = NULL; /* final dump: the restorable part */
	_cleanup_(glue_dump_pre_freep) struct glue_dump_pre *pre = NULL;
	struct glue_target tgt = o->target;
	bool net_locked = false;
	enum glue_tracker tid;
	char why[1024];
	int rc = -1;

	memset(res, 0, sizeof(*res));
	e.layer.dirfd = e.layer.parent_dirfd = -1;
	if (o->restorable && glue_dump_container_target(&o->target, &tgt, err) < 0)
		return -1;
	{
		/*
		 * Issue 12 item 2: seccomp that ckpt cannot suspend: refuse before
		 * anything is frozen.  A tree that cannot be listed is left to the
		 * freeze, which says why.
		 */
		struct glue_pstree t0 = { 0 };
		_cleanup_err_ struct ck_err *e0 = NULL;
		int r = 0;

		if (glue_target_tree(&o->target, &t0, &e0) == 0)
			r = glue_seccomp_check_tree(&t0, err);
		/* what the frozen part can take from before the freeze (dump-state.h) */
		if (r == 0 && t0.nr && o->restorable)
			pre = glue_dump_pre_read(t0.t[0].pid, &o->ctr);
		glue_pstree_free(&t0);
		if (r < 0)
			return -1;
	}
	if (o->restorable) {
		/* refuse what cannot be restored before anything is stopped */
		struct glue_dump_opts dopts = { .shell_job = o->shell_job, .ctr = o->ctr };

		if (glue_dump_check_target(&tgt, &dopts, err) < 0)
			return -1;
	}
	if (glue_mem_pick_tracker(o->tracker, &tid, why, sizeof(why), err) < 0)
		return -1;
	if (glue_uffd_fit_target(&tgt, o->tracker >= 0, o->pre_dump || o->track_mem, &tid, why,
				 sizeof(why), o->restorable ? NULL : &e.smaps, err) < 0)
		return -1;
	res->tracker = tid;
	pr_info("tracker: %s", why);
	e.trk.ops = glue_tracker_ops(tid, err);
	if (glue_layer_begin(o->images_dir, o->prev_dir, &e.layer, err) < 0) {
		glue_vmas_snap_free(&e.smaps);
		return -1;
	}
	/*
	 * A pre-dump with uffd-wp holds the freeze for the VMA list only: a
	 * pre-dump is no instant of the tree (its pages are copied after the
	 * thaw), only each page must be copied after its write-protection.  So
	 * the written set is read and re-protected after the thaw (collect()
	 * with the tree running), then presence is scanned where the tracker
	 * cannot answer (a VMA it registers anew is protected before its scan),
	 * then the pages are copied (glue_engine_check_presence, docs/memory.md).
	 * A first layer's tracker is armed after its presence scan; the layer
	 * lists the pages that changed in between (uffd-late).
	 */
	e.presence_late = o->pre_dump && tid == GLUE_TRACKER_UFFD_WP;
	e.trk.running = e.presence_late; /* its precollect() has no scan to do then */
	if (e.trk.ops->open && e.trk.ops->open(&e.trk, e.layer.parent_dirfd, e.layer.dirfd,
					       o->pre_dump || o->track_mem, err) < 0)
		goto out;
	e.trk_open = true;
	e.prog = glue_progress_new(o->verb ? o->verb : "dump", o->json_progress);
	e.layer.copier = glue_copier_new(CHUNK_PAGES * GLUE_PAGE_SIZE, COPY_SLOTS);
	e.held = xmalloc(CHUNK_PAGES);
	e.dirty = xmalloc(CHUNK_PAGES);
	e.rd = xmalloc(CHUNK_PAGES);

	if (o->notify && !o->pre_dump && o->notify(o->notify_arg, "pre-dump", err) < 0)
		goto out;
	glue_engine_prefreeze(&e, &tgt);
	if (glue_freeze(&tgt, &e.fz, &e.tree, err) < 0)
		goto out;
	if (o->restorable && refreeze_without_zombies(&e, &tgt, err) < 0)
		goto out;
	if (o->notify && !o->pre_dump && o->ctr.empty_net) {
		if (o->notify(o->notify_arg, "network-lock", err) < 0)
			goto out;
		net_locked = true;
	}
	e.trk.tree = &e.tree;
	res->st.freezing_us = glue_freezer_freezing_us(e.fz);
	res->nr_tasks = e.tree.nr;
	glue_progress_phase(e.prog, "frozen");
	if (collect(&e, err) < 0)
		goto out;
	if (o->pre_dump) {
		if (thaw(&e, false, err) < 0)
			goto out;
		if (glue_fault("thawed", err) < 0)
			goto out;
	}
	/* the changed pages' presence: frozen for a dump, after the thaw for a pre-dump */
	if (glue_engine_check_presence(&e, err) < 0)
		goto out;
	glue_progress_set_total(e.prog, e.pages_total * GLUE_PAGE_SIZE);
	if (!o->pre_dump)
		e.fbuf = glue_engine_fbuf_new(&e);
	for (size_t i = 0; i < e.nr_obj; i++)
		if (glue_engine_dump_obj(&e, &e.obj[i], err) < 0)
			goto out;
	if (o->restorable && dump_restorable(&e, pre, &rst, err) < 0)
		goto out;
	if (!o->pre_dump && !o->kill_after && thaw(&e, o->leave_stopped, err) < 0)
		goto out;
	if (!o->pre_dump && !o->kill_after && glue_fault("final-thawed", err) < 0)
		goto out;
	if (o->kill_after) {
		/*
		 * The tree is killed before the images are written (only what
		 * needs it frozen was read: dump-state.h): what could fail for
		 * want of space is checked first (the pages' space reserved, the
		 * room for the rest), the tree still frozen.
		 */
		if (glue_fbuf_reserve(e.fbuf, err) < 0 || glue_fault("pre-kill", err) < 0)
			goto out;
		/* CRIU's order: post-dump, then the kill; a failed post-dump resumes the tree */
		if (o->notify && o->notify(o->notify_arg, "post-dump", err) < 0)
			goto out;
		if (glue_engine_kill_tree(&e, err) < 0)
			goto out;
		if (glue_engine_write_buffered(&e, err) < 0 || write_rest(&e, err) < 0 ||
		    (rst && glue_dump_finish(rst, e.layer.dirfd, err) < 0)) {
			ck_err_wrap(err, "after the tree was killed (the layer is not complete)");
			goto out;
		}
		/* runc removes the container once answered: its tasks must be gone */
		glue_dump_wait_gone(&e.tree, 5000);
	} else {
		if (glue_engine_write_buffered(&e, err) < 0 || write_rest(&e, err) < 0)
			goto out;
		if (rst && glue_dump_finish(rst, e.layer.dirfd, err) < 0)
			goto out;
	}
	/* a layer of a tree that is gone restores nothing: not a success */
	if (o->pre_dump && glue_task_refresh_dead(&e.tree.t[0])) {
		ck_err_set(
			err, ESRCH,
			"pid %d (the root of the tree) exited during the pre-dump; no layer written",
			(int)e.tree.t[0].pid);
		goto out;
	}
	if (glue_layer_write_stats(&e.layer, &res->st, err) < 0)
		goto out;
	if (glue_fault("commit", err) < 0)
		goto out;
	res->bytes_written = e.layer.bytes_written;
	if (glue_layer_commit(&e.layer, err) < 0)
		goto out;
	if (o->notify && !o->pre_dump && !o->kill_after &&
	    o->notify(o->notify_arg, "post-dump", err) < 0)
		goto out;
	if (net_locked && !o->kill_after && !o->leave_stopped) {
		_cleanup_err_ struct ck_err *e3 = NULL;

		net_locked = false;
		if (o->notify(o->notify_arg, "network-unlock", &e3) < 0)
			pr_warn("network-unlock: %s", e3->msg);
	}
	pr_info("layer %s: %" PRIu64 " pages written, %" PRIu64 " in parent, %" PRIu64
		" scanned, frozen %" PRIu64 " us",
		o->images_dir, res->st.pages_written, res->st.pages_skipped_parent,
		res->st.pages_scanned, res->st.frozen_us);
	glue_progress_done(steal_ptr(&e.prog), glue_tracker_name(tid), &res->st, res->discover_us);
	rc = 0;
out:
	if (rc < 0 && e.fz && !e.killed) {
		/* The tree runs again before anything else is cleaned up. */
		_cleanup_err_ struct ck_err *e2 = NULL;

		if (glue_thaw(e.fz, false, &e2) < 0) {
			_cleanup_free_ char *m = ck_err_str(e2);

			pr_warn("thaw: %s", m);
		}
	}
	if (rc < 0 && net_locked) {
		_cleanup_err_ struct ck_err *e3 = NULL;

		if (o->notify(o->notify_arg, "network-unlock", &e3) < 0)
			pr_warn("network-unlock: %s", e3->msg);
	}
	glue_fbuf_free(e.fbuf);
	glue_vmas_snap_free(&e.smaps);
	glue_dump_state_free(rst);
	free_objs(&e);
	if (e.trk_open && e.trk.ops->close)
		e.trk.ops->close(&e.trk);
	glue_freezer_free(e.fz);
	glue_pstree_free(&e.tree);
	glue_copier_free(e.layer.copier); /* owns e.buf */
	glue_layer_abort(&e.layer);
	glue_progress_free(e.prog);
	free(e.held);
	free(e.dirty);
	free(e.rd);
	if (rc < 0)
		ck_err_wrap(err, "%s of %s", o->pre_dump ? "pre-dump" : "dump",
			    o->target.cgroup ? o->target.cgroup : "the tree");
	return rc;
}
