// SPDX-License-Identifier: MIT
/*
 * The uffd-wp tracker: userfaultfd async write-protect + PAGEMAP_SCAN.
 *
 * Per process (one uffd per address space):
 *
 *   first layer (no history)            every later layer
 *   ------------------------            -----------------
 *   frozen: nothing                     frozen: per VMA, PAGEMAP_SCAN written
 *   all pages dirty (full layer)          set + re-protect (one ioctl each);
 *   before any page is read:              VMAs the kernel says are not
 *     seize, userfaultfd() in the         registered (new, moved, forked) are
 *     target, pidfd_getfd, close() in     registered and armed, and dumped whole
 *     the target, register every VMA,   thaw (pre-dump)
 *     arm (first scan), release,        dirty = written set | whole VMAs
 *     hand the uffd to a holder
 *     (pre-dump: the arm chunk by
 *     chunk ahead of the copy, the
 *     hand-over after it)
 *   uffd-<id>.state: token              uffd-<id>.state: token
 *
 * Arming always happens before the pages it covers are copied, so a page
 * written after the arm is reported next time and a page copied "too new" is
 * harmless.  But a first layer arms after its thaw (the process must be
 * seizable): a page that became present (or went) between the layer's
 * presence scan and its write-protection is not as the layer has it, and the
 * protection hides the change from the next layer's written set.  Such a
 * layer leaves a second state file, uffd-late-<id>.state, with the pages
 * whose presence differs between its presence scan and a scan after the
 * hand-over (late_pages()); the next layer adds them to the written set.
 * When that list could not be made (or is too long, or from an older
 * build), the file has no list and the next layer checks every VMA of that
 * process for presence (changed() answers NULL).  The engine adds its own safety net: a page becomes PE_PARENT
 * only when it is present now, this tracker calls it clean and the parent
 * chain holds it.  Anything without valid history (no state in the parent
 * layer, holder gone, token mismatch, pid reused) is a full layer for that
 * process, with a log line saying why.  Before its scans consume the written
 * set, a run gives the holder a new token that only its own committed layer
 * records: a run that fails or dies before the commit leaves the old parent
 * without history (a full layer next time), never with a reset written set.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
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
#include "runtime-glue/track/tracker.h"
#include "runtime-glue/track/uffd-holder.h"
#include "runtime-glue/track/uffd-track.h"

#include "runtime-glue/track/tracker-uffd-priv.h"

static int uffd_open(struct glue_tracker_ctx *t, int parent_dirfd, int layer_dirfd, bool rearm,
		     struct ck_err **err)
{
	struct glue_feature_result res;
	struct uffd_run *r;

	glue_probe_feature(GLUE_FEAT_UFFD_WP_ASYNC, &res);
	if (!res.available)
		return ck_err_set(err, ENOTSUP,
				  "tracker uffd-wp is not available on this kernel: %s",
				  res.detail);
	r = xzalloc(sizeof(*r));
	r->parent_dirfd = parent_dirfd;
	r->rearm = rearm;
	t->priv = r;
	/* probed now, before the freeze; the answer is asked for while frozen */
	if (parent_dirfd >= 0 && !glue_uffd_reports_removed())
		pr_info("uffd-wp: this kernel does not report removed pages as written: every VMA is scanned for presence");
	return 0;
}

/*
 * The parent layer's tracker of @pid (state @id, started at @start_time):
 * its uffd from the holder, checked against the parent layer's state, then
 * a new token for the holder.  The scans that follow consume the written set,
 * so no other layer may reuse it.  False (logged: a full layer) without
 * history.
 */
static bool take_history(const struct uffd_run *r, pid_t pid, uint64_t id, uint64_t start_time,
			 int *uffd, uint64_t *token)
{
	uint64_t want_token = 0, want_st = 0;
	_cleanup_err_ struct ck_err *e1 = NULL;
	bool found = false;

	if (!glue_tracker_state_read(r->parent_dirfd, "uffd", id, &want_token, &want_st)) {
		pr_info("uffd-wp: pid %d: no tracker state in the parent layer: full layer",
			(int)pid);
		return false;
	}
	if (want_st != start_time) {
		pr_warn("uffd-wp: pid %d is not the process of the parent layer (pid reused): full layer",
			(int)pid);
		return false;
	}
	if (glue_uffd_holder_fetch(pid, uffd, token, &found, &e1) < 0) {
		_cleanup_free_ char *msg = ck_err_str(e1);

		pr_warn("uffd-wp: pid %d: %s: full layer", (int)pid, msg);
		return false;
	}
	if (!found) {
		pr_warn("uffd-wp: pid %d: the tracker process that armed the parent layer is gone: full layer",
			(int)pid);
		return false;
	}
	if (*token != want_token) {
		pr_warn("uffd-wp: pid %d: the tracker process is not the one of the parent layer: full layer",
			(int)pid);
		return false;
	}
	if (getrandom(token, sizeof(*token), 0) != sizeof(*token) ||
	    glue_uffd_holder_retoken(pid, *token, &e1) < 0) {
		_cleanup_free_ char *msg = e1 ? ck_err_str(e1) : xstrdup("getrandom failed");

		pr_warn("uffd-wp: pid %d: %s: full layer", (int)pid, msg);
		return false;
	}
	return true;
}

/*
 * Whether the parent layer armed the tracker of @pid (state @id, started at
 * @start_time) after its freeze (uffd-late state, file comment): LATE_NONE;
 * LATE_PAGES, the pages it could not track in @late (for the written set:
 * the engine checks and reads them as written ones); LATE_ALL, no such list
 * (every VMA is checked for presence).
 */
static int parent_late(const struct uffd_run *r, pid_t pid, uint64_t id, uint64_t start_time,
		       struct glue_ranges *late)
{
	uint64_t tok, st;

	if (!glue_tracker_state_read(r->parent_dirfd, "uffd-late", id, &tok, &st) ||
	    st != start_time)
		return LATE_NONE;
	if (glue_tracker_state_read_ranges(r->parent_dirfd, "uffd-late", id, late) != 1) {
		pr_info("uffd-wp: pid %d: its tracker was armed after the parent layer's freeze: every VMA checked for presence",
			(int)pid);
		return LATE_ALL;
	}
	pr_info("uffd-wp: pid %d: its tracker was armed after the parent layer's freeze: %" PRIu64
		" pages whose presence changed before their protection are checked",
		(int)pid, late->pages);
	return LATE_PAGES;
}

/* @to ∪= @from, which is freed. */
static void take_ranges(struct glue_ranges *to, struct glue_ranges *from)
{
	struct glue_ranges all = { 0 };

	glue_ranges_union(to, from, &all);
	glue_ranges_free(to);
	glue_ranges_free(from);
	*to = all;
}

/*
 * The written-set scan with the tree running, one checked call a VMA: before
 * a dump's freeze, or a pre-dump's after its thaw.  The VMA list may be
 * stale, so the two calls of a span scan could see two VMA sets.  A VMA the
 * kernel refuses (not registered: new, replaced, moved) or that fails
 * part-way (its pages may be consumed already) goes to @unreg, dumped whole.
 * A VMA made since the list was read is not in it: the next layer finds it.
 */
static void scan_checked(int pm, const struct glue_vmas *vmas, struct glue_ranges *written,
			 struct glue_ranges *unreg)
{
	for (size_t i = 0; i < vmas->nr; i++) {
		const struct glue_vma *v = &vmas->v[i];
		_cleanup_err_ struct ck_err *e1 = NULL;
		bool tracked = false;

		if (!glue_uffd_trackable(v))
			continue;
		if (glue_uffd_scan_written(pm, v->start, v->end, written, &tracked, &e1) < 0 ||
		    !tracked)
			glue_ranges_add(unreg, v->start, v->end);
	}
}

/* A dump's written set before the freeze, into @p; false when @task is going. */
static bool scan_before_freeze(const struct glue_task *task, struct uffd_pre *p)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/pagemap", (int)task->pid);
	_cleanup_err_ struct ck_err *e1 = NULL;
	_cleanup_close_ int pm = open(path, O_RDONLY | O_CLOEXEC);
	struct glue_vmas vmas = { 0 };

	if (pm < 0 || glue_vmas_read_fast(task->pid, &vmas, &e1) < 0) {
		/* gone, or about to be: the frozen scan does it all */
		pr_debug("uffd-wp: pid %d: no scan before the freeze", (int)task->pid);
		return false;
	}
	scan_checked(pm, &vmas, &p->written, &p->unsure);
	glue_vmas_free(&vmas);
	return true;
}

/*
 * Running, before the freeze: take the parent's tracker and (a dump; a
 * pre-dump reads its written set after the thaw, t->running) consume the
 * written set of every VMA listed now, so that the frozen scan reports only
 * what was written since (its page-table walk remains; the re-protection and
 * TLB flushes of the dirty pages, which grow with the address space the
 * pages are spread over, and the holder exchange leave the freeze).  Exact:
 * a page written after its PTE was re-protected here is reported by the
 * frozen scan; written = both sets.  A range whose scan failed (a VMA that is
 * new since the parent layer, or changed since it was listed: the kernel may
 * have consumed part of it before refusing) is dumped whole.
 */
static void uffd_precollect(struct glue_tracker_ctx *t, const struct glue_task *task)
{
	struct uffd_run *r = t->priv;
	struct glue_ranges late = { 0 };
	uint64_t tok, st;
	struct uffd_pre *p;
	bool scanned;

	if (r->parent_dirfd < 0 || task->dead || task->kthread ||
	    !glue_tracker_state_read(r->parent_dirfd, "uffd", (uint64_t)task->vpid, &tok, &st) ||
	    st != task->start_time)
		return; /* no history: collect() says so */
	r->pre = xreallocarray(r->pre, r->nr_pre + 1, sizeof(*r->pre));
	p = &r->pre[r->nr_pre++];
	memset(p, 0, sizeof(*p));
	p->pid = task->pid;
	p->start_time = task->start_time;
	p->uffd = -1;
	p->history = take_history(r, task->pid, (uint64_t)task->vpid, task->start_time, &p->uffd,
				  &p->token);
	if (!p->history)
		return;
	p->late = parent_late(r, task->pid, (uint64_t)task->vpid, task->start_time, &late);
	/* a pre-dump: its collect() reads it all after the thaw, in one walk */
	scanned = !t->running && scan_before_freeze(task, p);
	take_ranges(&p->written, &late);
	if (scanned)
		pr_debug("uffd-wp: pid %d: %" PRIu64 " written pages before the freeze",
			 (int)task->pid, p->written.pages);
}

static const struct glue_ranges *uffd_early_written(struct glue_tracker_ctx *t,
						    const struct glue_task *task)
{
	struct uffd_run *r = t->priv;

	for (size_t i = 0; i < r->nr_pre; i++)
		if (r->pre[i].pid == task->pid && r->pre[i].start_time == task->start_time)
			return r->pre[i].history ? &r->pre[i].written : NULL;
	return NULL;
}

static const struct glue_ranges *uffd_stale(struct glue_tracker_ctx *t, const struct glue_mobj *obj)
{
	const struct uffd_obj *uo = obj->tracker_priv;

	return uo && uo->history && uo->early ? &uo->stale : NULL;
}

static struct uffd_pre *find_pre(struct uffd_run *r, const struct glue_mobj *obj)
{
	for (size_t i = 0; i < r->nr_pre; i++)
		if (r->pre[i].pid == obj->pid && r->pre[i].start_time == obj->task->start_time)
			return &r->pre[i];
	return NULL;
}

static bool overlaps(const struct glue_ranges *rs, uint64_t start, uint64_t end)
{
	size_t k = glue_ranges_first_after(rs, start);

	return k < rs->nr && rs->r[k].start < end;
}

/* Append the part of @rs inside [start, end) to @out (in order). */
static void add_clipped(struct glue_ranges *out, const struct glue_ranges *rs, uint64_t start,
			uint64_t end)
{
	/* binary search first: O(ranges met) per VMA, not O(all ranges) */
	for (size_t i = glue_ranges_first_after(rs, start); i < rs->nr && rs->r[i].start < end; i++)
		glue_ranges_add(out, rs->r[i].start > start ? rs->r[i].start : start,
				rs->r[i].end < end ? rs->r[i].end : end);
}

/*
 * The frozen written-set scan: one glue_uffd_scan_span() per run of
 * consecutive trackable VMAs (holes between them do not matter; any other
 * VMA ends the run, so that no registered VMA ckpt does not track has its
 * written bits consumed).  @written gets the written pages of the registered
 * ones, @unreg the VMAs no longer registered (new, moved, forked, replaced:
 * dumped whole by the caller).  Two ioctls for 10,000 VMAs instead of 10,000.
 */
static int scan_frozen(int pm, const struct glue_vmas *vmas, struct glue_ranges *written,
		       struct glue_ranges *unreg, struct ck_err **err)
{
	for (size_t i = 0; i < vmas->nr; i++) {
		size_t j = i;

		if (!glue_uffd_trackable(&vmas->v[i]))
			continue;
		while (j + 1 < vmas->nr && glue_uffd_trackable(&vmas->v[j + 1]))
			j++;
		if (glue_uffd_scan_span(pm, vmas->v[i].start, vmas->v[j].end, written, unreg, err) <
		    0)
			return -1;
		i = j;
	}
	return 0;
}

/*
 * Frozen, or for a pre-dump after the thaw (t->running).  With history: read
 * and re-arm the written set of every VMA; VMAs the uffd does not cover yet
 * are registered, armed and dumped whole (their presence is scanned after
 * this).  What uffd_precollect() read before the freeze is added.
 */
static int uffd_collect(struct glue_tracker_ctx *t, struct glue_mobj *obj, struct ck_err **err)
{
	struct uffd_run *r = t->priv;
	struct uffd_obj *uo = xzalloc(sizeof(*uo));
	struct glue_ranges frozen = { 0 }, pre = { 0 }, unreg = { 0 };
	_cleanup_close_ int uffd = -1;
	struct uffd_pre *p;
	uint64_t token = 0;
	bool execd = false;
	int pm;

	obj->tracker_priv = uo;
	uo->lazy_uffd = -1;
	if (obj->shmem)
		return 0; /* shared segments: written through any mapper; always whole */
	p = find_pre(r, obj);
	if (p) {
		/* taken before the freeze (and logged there when it failed) */
		uffd = p->uffd;
		p->uffd = -1;
		token = p->token;
		if (p->history && !obj->has_parent)
			pr_info("uffd-wp: pid %d: the parent layer has no pagemap of it: full layer",
				(int)obj->pid);
		if (!obj->has_parent || !p->history)
			return 0;
	} else if (!obj->has_parent) {
		pr_info("uffd-wp: pid %d: no tracker state in the parent layer: full layer",
			(int)obj->pid);
		return 0;
	} else if (!take_history(r, obj->pid, obj->id, obj->task->start_time, &uffd, &token)) {
		return 0;
	}
	pm = glue_pagescan_fd(obj->scan);
	if (t->running) {
		scan_checked(pm, obj->vmas, &frozen, &unreg);
	} else if (scan_frozen(pm, obj->vmas, &frozen, &unreg, err) < 0) {
		glue_ranges_free(&frozen);
		glue_ranges_free(&unreg);
		return ck_err_wrap(err, "pid %d", (int)obj->pid);
	}
	for (size_t i = 0; i < obj->vmas->nr && !execd; i++) {
		const struct glue_vma *v = &obj->vmas->v[i];
		_cleanup_err_ struct ck_err *e2 = NULL;
		struct glue_ranges arm = { 0 };
		bool tracked;

		if (!glue_uffd_trackable(v))
			continue;
		tracked = !overlaps(&unreg, v->start, v->end);
		if (tracked && p && overlaps(&p->unsure, v->start, v->end))
			tracked = false; /* its scan before the freeze failed */
		if (tracked) {
			if (p)
				add_clipped(&pre, &p->written, v->start, v->end);
			continue;
		}
		/* New, moved or never-registered VMA: whole now, tracked from now on. */
		glue_ranges_add(&uo->whole, v->start, v->end);
		uo->nr_whole_vmas++;
		if (glue_uffd_register(uffd, v->start, v->end, &e2) < 0) {
			/*
			 * ENOMEM: the uffd's address space has no users (the
			 * kernel's mmget_not_zero() failed): the process exec'd
			 * since the uffd was made, and its new VMAs are none of it.
			 */
			execd = e2->errnum == ENOMEM;
			if (!execd)
				pr_debug("uffd-wp: pid %d: %s: stays untracked", (int)obj->pid,
					 e2->msg);
			continue;
		}
		if (glue_uffd_scan_written(pm, v->start, v->end, &arm, &tracked, err) < 0) {
			glue_ranges_free(&frozen);
			glue_ranges_free(&pre);
			glue_ranges_free(&unreg);
			return ck_err_wrap(err, "pid %d", (int)obj->pid);
		}
		glue_ranges_free(&arm);
	}
	glue_ranges_free(&unreg);
	if (execd) {
		pr_info("uffd-wp: pid %d exec'd since its parent layer (its tracker's address space is gone): full layer, tracked anew",
			(int)obj->pid);
		glue_ranges_free(&frozen);
		glue_ranges_free(&pre);
		glue_ranges_free(&uo->whole);
		uo->nr_whole_vmas = 0;
		return 0; /* no history: the arm stops the old holder first */
	}
	if (p) {
		uo->late = p->late == LATE_ALL; /* its pages are in p->written */
	} else {
		struct glue_ranges late = { 0 };

		uo->late =
			parent_late(r, obj->pid, obj->id, obj->task->start_time, &late) == LATE_ALL;
		take_ranges(&frozen, &late);
	}
	glue_ranges_union(&pre, &frozen, &uo->written);
	if (p) {
		uo->early = true;
		glue_ranges_union(&frozen, &uo->whole, &uo->stale);
	}
	glue_ranges_free(&frozen);
	glue_ranges_free(&pre);
	uo->history = true;
	uo->armed = true; /* the scans above re-protected everything they reported */
	uo->token = token;
	uo->nr_written = uo->written.pages;
	pr_info("uffd-wp: pid %d: %" PRIu64 " written pages, %" PRIu64 " VMAs dumped whole",
		(int)obj->pid, uo->nr_written, uo->nr_whole_vmas);
	return 0;
}

/*
 * Exact for a VMA that was tracked since the parent layer (not dumped whole
 * this round), on a kernel that reports removed pages as written.
 */
static const struct glue_ranges *uffd_changed(struct glue_tracker_ctx *t,
					      const struct glue_mobj *obj, const struct glue_vma *v)
{
	const struct uffd_obj *uo = obj->tracker_priv;

	if (!uo || !uo->history || uo->late || obj->shmem || !glue_uffd_trackable(v) ||
	    glue_ranges_contains(&uo->whole, v->start) || !glue_uffd_reports_removed())
		return NULL;
	return &uo->written;
}

/* Set the dirty bits of @c's pages that are in @rs: O(ranges met), not O(pages). */
static void mark(const struct glue_ranges *rs, struct glue_chunk *c)
{
	uint64_t end = c->addr + c->npages * GLUE_PAGE_SIZE;

	for (size_t k = glue_ranges_first_after(rs, c->addr); k < rs->nr && rs->r[k].start < end;
	     k++) {
		uint64_t s = rs->r[k].start > c->addr ? rs->r[k].start : c->addr;
		uint64_t e = rs->r[k].end < end ? rs->r[k].end : end;

		memset(c->dirty + (s - c->addr) / GLUE_PAGE_SIZE, 1, (e - s) / GLUE_PAGE_SIZE);
	}
}

static bool uffd_dirty_ranges(struct glue_tracker_ctx *t, struct glue_mobj *obj,
			      struct glue_ranges *out)
{
	const struct uffd_obj *uo = obj->tracker_priv;

	if (!uo || !uo->history)
		return false;
	glue_ranges_union(&uo->written, &uo->whole, out);
	return true;
}

static int uffd_classify(struct glue_tracker_ctx *t, struct glue_mobj *obj, struct glue_chunk *c,
			 struct ck_err **err)
{
	struct uffd_obj *uo = obj->tracker_priv;

	/* a chunk of a pre-dump's copy: protected lazily; else (npages 0: arm now) whole */
	glue_uffd_arm_maybe(t, obj, c->npages > 0);
	if (uo->lazy_uffd >= 0) {
		_cleanup_err_ struct ck_err *e2 = NULL;

		if (glue_uffd_arm_protect_below(uo, glue_pagescan_fd(obj->scan),
						c->addr + c->npages * GLUE_PAGE_SIZE, &e2) < 0) {
			/* not tracked after all (this layer is complete): the next one is full */
			pr_warn("uffd-wp: pid %d: cannot arm the tracker (%s); the next layer is full",
				(int)obj->pid, e2->msg);
			close(steal_fd(&uo->lazy_uffd));
			uo->armed = uo->armed_now = false;
		}
	}
	if (!c->npages)
		return 0;
	if (!uo->history) {
		memset(c->dirty, 1, c->npages);
		return 0;
	}
	mark(&uo->written, c);
	mark(&uo->whole, c);
	return 0;
}

/*
 * A process this run armed after its thaw, once every registered page is
 * write-protected (after the hand-over): the pages of its anonymous VMAs
 * whose presence now differs from the layer's presence scan (@obj->present,
 * what the layer holds), which the next layer must check as written ones.
 * Exact: a page changes its presence only by a fault or a zap; one after
 * its protection is in the next written set (a write) or maps the zero page
 * (a read: no content), so whatever the written set cannot name happened
 * between the presence scan and the protection and shows here.  A page
 * present in both was read after its protection (the copy runs behind it).
 * Private file mappings are scanned by every layer anyway.  False (the
 * next layer checks every VMA): the scan failed, or the list is too long.
 */
static bool late_pages(const struct glue_mobj *obj, struct glue_ranges *late)
{
	struct glue_ranges held = { 0 }, now = { 0 }, gone = { 0 }, came = { 0 };
	_cleanup_err_ struct ck_err *e2 = NULL;
	uint64_t t0 = glue_now_us();
	bool ok = true;

	for (size_t i = 0; i < obj->vmas->nr && ok; i++) {
		const struct glue_vma *v = &obj->vmas->v[i];

		if (!glue_uffd_trackable(v) || !glue_vma_anonymous(v))
			continue;
		add_clipped(&held, &obj->present, v->start, v->end);
		ok = glue_pagescan_vma(obj->scan, v, &now, &e2) == 0;
	}
	if (ok) {
		glue_ranges_subtract(&held, &now, &gone);
		glue_ranges_subtract(&now, &held, &came);
		glue_ranges_union(&gone, &came, late);
		ok = late->nr <= GLUE_TRACKER_STATE_RANGES_MAX;
	}
	if (ok)
		pr_info("uffd-wp: pid %d: %" PRIu64 " pages came and %" PRIu64
			" went before their protection (scan after the hand-over: %" PRIu64 " us)",
			(int)obj->pid, came.pages, gone.pages, glue_now_us() - t0);
	else
		pr_info("uffd-wp: pid %d: %s: the next layer checks every VMA for presence",
			(int)obj->pid,
			e2 ? e2->msg : "too many pages changed before their protection");
	if (!ok)
		glue_ranges_free(late);
	glue_ranges_free(&held);
	glue_ranges_free(&now);
	glue_ranges_free(&gone);
	glue_ranges_free(&came);
	return ok;
}

static int uffd_finish_obj(struct glue_tracker_ctx *t, struct glue_mobj *obj, int layer_dirfd,
			   struct ck_err **err)
{
	struct uffd_run *r = t->priv;
	struct uffd_obj *uo = obj->tracker_priv;

	if (obj->shmem)
		return 0;
	/* A process with no page to copy was never classified: arm it now. */
	glue_uffd_arm_maybe(t, obj, false);
	glue_uffd_arm_finish(t, uo, obj);
	if (!r->rearm) {
		/* Final dump: nobody will ask for this tracker again. */
		_cleanup_err_ struct ck_err *e2 = NULL;

		if (glue_uffd_holder_stop(obj->pid, NULL, NULL, &e2) < 0)
			pr_warn("uffd-wp: pid %d: %s", (int)obj->pid, e2->msg);
		return 0;
	}
	if (!uo->armed)
		return 0;
	if (uo->armed_now) {
		struct glue_ranges late = { 0 };
		bool known = late_pages(obj, &late);
		int rc = glue_tracker_state_write_ranges(layer_dirfd, "uffd-late", obj->id,
							 uo->token, obj->task->start_time,
							 known ? &late : NULL, err);

		glue_ranges_free(&late);
		if (rc < 0)
			return -1;
	}
	return glue_tracker_state_write(layer_dirfd, "uffd", obj->id, uo->token,
					obj->task->start_time, err);
}

static void uffd_release_obj(struct glue_tracker_ctx *t, struct glue_mobj *obj)
{
	struct uffd_obj *uo = obj->tracker_priv;

	if (!uo)
		return;
	glue_ranges_free(&uo->written);
	glue_ranges_free(&uo->whole);
	glue_ranges_free(&uo->stale);
	glue_ranges_free(&uo->unprot);
	if (uo->lazy_uffd >= 0)
		close(uo->lazy_uffd);
	free(uo);
	obj->tracker_priv = NULL;
}

static void uffd_close(struct glue_tracker_ctx *t)
{
	struct uffd_run *r = t->priv;

	for (size_t i = 0; i < r->nr_pre; i++) {
		if (r->pre[i].uffd >= 0)
			close(r->pre[i].uffd);
		glue_ranges_free(&r->pre[i].written);
		glue_ranges_free(&r->pre[i].unsure);
	}
	free(r->pre);
	free(r);
	t->priv = NULL;
}

const struct glue_tracker_ops glue_tracker_uffd_ops = {
	.id = GLUE_TRACKER_UFFD_WP,
	.needs_content = false,
	.open = uffd_open,
	.precollect = uffd_precollect,
	.early_written = uffd_early_written,
	.stale = uffd_stale,
	.collect = uffd_collect,
	.changed = uffd_changed,
	.dirty_ranges = uffd_dirty_ranges,
	.classify = uffd_classify,
	.finish_obj = uffd_finish_obj,
	.release_obj = uffd_release_obj,
	.close = uffd_close,
};
