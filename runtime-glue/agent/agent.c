// SPDX-License-Identifier: MIT
/*
 * The pre-copy agent: layers of a running container, the convergence policy,
 * the chain rebase, the control socket and the registry (agent.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/file.h"
#include "common/log.h"
#include "common/stop.h"
#include "common/xalloc.h"
#include "runtime-glue/agent/agent.h"
#include "runtime-glue/agent/agent-priv.h"
#include "runtime-glue/agent/client.h"
#include "runtime-glue/agent/sock.h"
#include "runtime-glue/dump/predump.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/mem/layer.h"
#include "runtime-glue/mem/merge.h"
#include "runtime-glue/proc/guardian.h"
#include "runtime-glue/proc/lock.h"
#include "runtime-glue/proc/proc.h"
#include "runtime-glue/proc/pstree.h"
#include "runtime-glue/track/uffd-holder.h"

static const char *const state_names[] = {
	[AG_WAITING] = "waiting", [AG_PRECOPY] = "precopy",   [AG_CONVERGED] = "converged",
	[AG_FINAL] = "final",     [AG_STOPPING] = "stopping",
};

const char *agent_state_name(enum agent_state s)
{
	return state_names[s];
}

/* Whether the container's init is still the one the hook was told about. */
static bool init_alive(struct agent *a)
{
	uint64_t st;
	_cleanup_err_ struct ck_err *e = NULL;

	if (glue_proc_starttime(a->c->init_pid, &st, &e) < 0)
		return false;
	return st == a->c->start_time;
}

static void exe_of(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, buf, len - 1);
	buf[n < 0 ? 0 : n] = '\0';
}

/*
 * Whether the container's init is still the runtime's own init, waiting to
 * exec the workload.  runc names it "runc:[2:INIT]" (and its earlier stages
 * "runc:[0:PARENT]", "runc:[1:CHILD]").  The agent starts detached from the
 * hook, so the exec may already have happened when it first looks: comparing
 * the exe with the one seen at start would then wait forever.
 */
static bool init_is_runtime(pid_t pid)
{
	char path[64], comm[32] = "";
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, comm, sizeof(comm) - 1);
	comm[n < 0 ? 0 : n] = '\0';
	return !strncmp(comm, "runc:[", 6);
}

static int set_latest(struct agent *a, const struct agent_layer *l, struct ck_err **err)
{
	_cleanup_free_ char *tmp = xasprintf("%s/.latest.tmp", a->c->ckpt_dir);
	_cleanup_free_ char *latest = xasprintf("%s/latest", a->c->ckpt_dir);
	_cleanup_free_ char *target = l->external ? xstrdup(l->dir) : xasprintf("%u", l->n);

	unlink(tmp);
	if (symlink(target, tmp) < 0)
		return ck_err_set(err, errno, "symlink %s", tmp);
	if (rename(tmp, latest) < 0)
		return ck_err_set(err, errno, "rename %s", latest);
	return 0;
}

/* The next numbered directory that does not exist yet. */
static char *next_dir(struct agent *a, unsigned *n)
{
	for (;;) {
		char *d = xasprintf("%s/%u", a->c->ckpt_dir, a->next_n);

		if (access(d, F_OK) < 0 && errno == ENOENT) {
			*n = a->next_n++;
			return d;
		}
		free(d);
		a->next_n++;
	}
}

/*
 * Merge the two oldest layers while the chain holds more than @keep and both
 * are the agent's own (a caller's directory is never rewritten).  Runs with
 * the container running.  false when a merge failed (the chain is unchanged).
 */
static bool compact(struct agent *a, size_t keep)
{
	while (a->nr_chain > keep && a->nr_chain >= 2 && !a->chain[0].external &&
	       !a->chain[1].external) {
		struct agent_layer *b = &a->chain[0], *c = &a->chain[1];
		struct glue_merge_stats st;
		_cleanup_err_ struct ck_err *e = NULL;
		uint64_t t0 = glue_now_us();

		if (glue_layer_merge(b->dir, c->dir, &st, &e) < 0) {
			_cleanup_free_ char *m = ck_err_str(e);

			pr_warn("%s; the next layer is a full one", m);
			return false;
		}
		pr_info("merged layers %u and %u into %u: %" PRIu64 " pages (%" PRIu64
			" from %u), %.3f ms",
			b->n, c->n, c->n, st.pages + st.shpages, st.pages_from_base, b->n,
			(double)(glue_now_us() - t0) / 1000.0);
		c->rebased = true;
		c->pages_written = st.pages + st.shpages;
		c->pages_parent = 0;
		free(b->dir);
		a->nr_chain--;
		memmove(a->chain, a->chain + 1, a->nr_chain * sizeof(*a->chain));
	}
	if (a->nr_chain > keep && a->nr_chain >= 2)
		pr_info("layer %s is a caller's directory, never merged; the next layer is a full one",
			a->chain[a->chain[0].external ? 0 : 1].dir);
	return a->nr_chain <= keep;
}

/* see agent-priv.h */
int agent_take_layer(struct agent *a, const char *dir, bool final, bool leave_frozen,
		     struct agent_layer *out, struct ck_err **err)
{
	/* a final layer left frozen for our own thaw: thawed if we die in between */
	_cleanup_(glue_guardian_stopp) struct glue_guardian *hold = NULL;
	struct glue_mem_opts o = { 0 };
	struct glue_mem_result res;
	_cleanup_free_ char *path = NULL, *prev = NULL;
	struct agent_layer *latest;
	struct agent_layer *old = NULL;
	size_t nr_old = 0;
	/*
	 * A layer asked for into a given directory (a front-end's PRE_DUMP, whose
	 * caller names its parent) always chains onto the latest one; only the
	 * agent's own rounds keep the chain at max-layers: before the layer the
	 * oldest two are merged when the chain is full (after it, with
	 * max-layers 1), so that the numbered directories never exceed it.  Only
	 * when a merge fails is the layer a full one (a rebase).
	 */
	bool own = !final && !dir;
	size_t keep = a->c->max_layers > 1 ? a->c->max_layers - 1 : 1;
	bool rebase = own && !compact(a, keep);
	unsigned n = 0;
	int level, rc;

	latest = a->nr_chain ? &a->chain[a->nr_chain - 1] : NULL;
	rebase = rebase && latest;
	if (glue_fault("agent-round", err) < 0)
		return ck_err_wrap(err, "layer (%s)", dir ? dir : "next");
	if (dir) {
		path = xstrdup(dir);
		n = a->next_n++;
	} else {
		path = next_dir(a, &n);
	}
	/* relative, as CRIU resolves it (an absolute link breaks inside the restore's root) */
	if (latest && !rebase)
		prev = latest->external || dir ? ck_path_relative(path, latest->dir)
					       : xasprintf("../%u", latest->n);
	o.target.pid = a->c->init_pid;
	o.target.cgroup = a->cg.dir;
	o.images_dir = path;
	o.prev_dir = prev;
	o.pre_dump = !final;
	/*
	 * A final layer always leaves the cgroup frozen and is thawed here: the
	 * engine writes part of a frozen dump's metadata after its thaw, and a
	 * forking container's short-lived task may be gone by then.
	 */
	o.leave_stopped = final;
	/*
	 * The final layer ends the tracking: arming the tracker of a task that
	 * has none yet while the tree is held frozen for the copy does not
	 * return (uffd-wp).  Layers after a final are full ones.
	 */
	o.track_mem = !final;
	o.tracker = a->c->tracker;
	o.verb = final ? "agent final" : "agent layer";
	/* one line per layer in agent.log, not the engine's detail (it runs for days) */
	if (final && !leave_frozen && !(hold = glue_guardian_hold(a->cg.dir, a->cg.v2, err)))
		return ck_err_wrap(err, "final layer");
	level = ck_log_get_level();
	if (level < CK_LOG_DEBUG)
		ck_log_set_level(CK_LOG_WARN);
	rc = glue_mem_dump(&o, &res, err);
	ck_log_set_level(level);
	if (rc < 0) {
		/* a failed round leaves no directory: the next one takes its number */
		if (!dir && access(path, F_OK) < 0 && errno == ENOENT)
			a->next_n = n;
		return ck_err_wrap(err, "layer %u (%s)", n, path);
	}
	if (final && !leave_frozen && glue_cgroup_write_thaw(a->cg.dir, a->cg.v2) < 0)
		return ck_err_set(err, errno, "final layer %u: thaw %s", n, a->cg.dir);
	memset(out, 0, sizeof(*out));
	out->n = n;
	out->dir = steal_ptr(&path);
	out->external = dir != NULL;
	out->rebased = rebase || !latest;
	out->pages_written = res.st.pages_written;
	out->pages_parent = res.st.pages_skipped_parent;
	out->frozen_us = res.st.frozen_us;
	a->tracker = res.tracker;
	pr_info("layer %u: %s: %" PRIu64 " pages written, %" PRIu64
		" from parent, frozen %.3f ms%s",
		n, out->dir, out->pages_written, out->pages_parent, (double)out->frozen_us / 1000.0,
		rebase ? " (chain rebased: a full layer)" : "");
	if (rebase) {
		/* the new layer holds everything: the old chain goes, once latest names it */
		old = a->chain;
		nr_old = a->nr_chain;
		a->chain = NULL;
		a->nr_chain = 0;
	}
	a->chain = xreallocarray(a->chain, a->nr_chain + 1, sizeof(*a->chain));
	a->chain[a->nr_chain] = *out;
	a->chain[a->nr_chain].dir = xstrdup(out->dir);
	a->nr_chain++;
	rc = set_latest(a, out, err);
	/*
	 * Only now: a kill while the old layers go must not leave latest naming a
	 * half-removed one, and each goes hidden first (glue_layer_retire).
	 */
	for (size_t i = 0; i < nr_old; i++) {
		if (!old[i].external && glue_layer_retire(old[i].dir) < 0)
			pr_warn("cannot remove the old layer %s: %s", old[i].dir, strerror(errno));
		free(old[i].dir);
	}
	free(old);
	if (rc < 0)
		return -1;
	if (own && !rebase)
		compact(a, a->c->max_layers);
	return 0;
}

/* Convergence after a pre-copy layer (agent.h). */
static void converge_step(struct agent *a, const struct agent_layer *l)
{
	uint64_t w = l->pages_written;

	if (l->rebased && a->have_prev) {
		a->next_at = glue_now_us(); /* a full layer says nothing about the dirty rate */
		return;
	}
	if (a->state == AG_PRECOPY && a->have_prev &&
	    (w < a->c->converge_pages || w * 10 > a->prev_written * 9)) {
		a->state = AG_CONVERGED;
		pr_info("converged after layer %u: %" PRIu64 " pages (previous %" PRIu64
			", converge-pages %" PRIu64 "); a layer every %" PRIu64 " ms",
			l->n, w, a->prev_written, a->c->converge_pages, a->c->interval_ms);
	}
	a->have_prev = true;
	a->prev_written = w;
	a->next_at = glue_now_us() + (a->state == AG_CONVERGED ? a->c->interval_ms * 1000 : 0);
}

static void registry_names(const struct agent *a, char **id, char **pid)
{
	*id = xasprintf("%s/id-%s", glue_agent_registry(), a->c->id);
	*pid = xasprintf("%s/pid-%d", glue_agent_registry(), (int)a->c->init_pid);
}

static int registry_add(struct agent *a, struct ck_err **err)
{
	_cleanup_free_ char *id = NULL, *pid = NULL;
	const char *reg = glue_agent_registry();

	if (mkdir(reg, 0700) < 0 && errno != EEXIST) {
		/* /run/ckpt may be missing */
		_cleanup_free_ char *parent = xstrdup(reg);
		char *slash = strrchr(parent, '/');

		if (slash && slash != parent)
			*slash = '\0';
		if (mkdir(parent, 0755) < 0 && errno != EEXIST)
			return ck_err_set(err, errno, "mkdir %s", parent);
		if (mkdir(reg, 0700) < 0 && errno != EEXIST)
			return ck_err_set(err, errno, "mkdir %s", reg);
	}
	registry_names(a, &id, &pid);
	unlink(id);
	unlink(pid);
	if (symlink(a->c->ckpt_dir, id) < 0)
		return ck_err_set(err, errno, "symlink %s", id);
	if (symlink(a->c->ckpt_dir, pid) < 0)
		return ck_err_set(err, errno, "symlink %s", pid);
	return 0;
}

/* Remove our entries (only if they still point at our ckpt-dir). */
static void registry_remove(struct agent *a)
{
	_cleanup_free_ char *id = NULL, *pid = NULL;
	char buf[PATH_MAX];
	const char *names[2];

	registry_names(a, &id, &pid);
	names[0] = id;
	names[1] = pid;
	for (int i = 0; i < 2; i++) {
		ssize_t n = readlink(names[i], buf, sizeof(buf) - 1);

		if (n < 0)
			continue;
		buf[n] = '\0';
		if (!strcmp(buf, a->c->ckpt_dir))
			unlink(names[i]);
	}
}

/* Let the uffd holders of the container's tasks go (their trackers end). */
static void release_trackers(struct agent *a)
{
	struct glue_pstree t = { 0 };
	_cleanup_err_ struct ck_err *e = NULL;

	if (!a->cg.dir || glue_pstree_from_cgroup(a->cg.dir, &t, &e) < 0)
		return;
	for (size_t i = 0; i < t.nr; i++) {
		_cleanup_err_ struct ck_err *e2 = NULL;

		if (glue_uffd_holder_stop(t.t[i].pid, NULL, NULL, &e2) < 0)
			pr_warn("uffd holder of %d: %s", (int)t.t[i].pid, e2->msg);
	}
	glue_pstree_free(&t);
}

static void ready_ok(int *ready)
{
	if (*ready < 0)
		return;
	dprintf(*ready, "OK %d\n", (int)getpid());
	close(*ready);
	*ready = -1;
}

/* see agent.h */
int glue_agent_run(const struct glue_agent_conf *c, int ready_fd, struct ck_err **err)
{
	struct agent a = { .c = c, .state = AG_WAITING, .next_n = 1, .lfd = -1, .tracker = -1 };
	_cleanup_close_ int pidfd = -1, chain_fd = -1;
	char exe0[PATH_MAX], exe[PATH_MAX];
	int rc = -1;

	glue_fault_init(); /* CK_FAULT from the hook's env (tests) */
	pr_info("agent for container %s (init %d), bundle %s, dir %s: interval %" PRIu64
		" ms, max-layers %u, converge-pages %" PRIu64,
		c->id, (int)c->init_pid, c->bundle, c->ckpt_dir, c->interval_ms, c->max_layers,
		c->converge_pages);
	/*
	 * SIGTERM/SIGINT (common/stop.h, installed by main): a layer in progress
	 * is undone (remote call finished or cured, tree thawed), then the agent
	 * cleans up like `stop` and exits 128 + the signal.  SIGHUP stays
	 * ignored (agent_main).
	 */
	pidfd = (int)syscall(SYS_pidfd_open, c->init_pid, 0);
	if (pidfd < 0 || !init_alive(&a)) {
		ck_err_set(err, pidfd < 0 ? errno : ESRCH,
			   "container %s: init %d is gone before the agent started", c->id,
			   (int)c->init_pid);
		goto out;
	}
	/*
	 * The agent is the target's one ckpt from now until its final layer: a
	 * manual pre-dump, dump or exec of the init is refused naming the agent
	 * (between two layers it would reset the dirty tracker under the chain).
	 */
	if (glue_target_lock(c->init_pid, err) < 0)
		goto out;
	/* and its chain's only merger: `ckpt compact` of it is refused (merge.h) */
	chain_fd = glue_chain_lock(c->ckpt_dir, err);
	if (chain_fd < 0)
		goto out;
	if (glue_cgroup_of_pid(c->init_pid, &a.cg, err) < 0) {
		ck_err_wrap(err, "container %s: init %d", c->id, (int)c->init_pid);
		goto out;
	}
	a.lfd = glue_agent_sock_listen(c->ckpt_dir, err);
	if (a.lfd < 0)
		goto out;
	if (registry_add(&a, err) < 0 || glue_fault("agent-ready", err) < 0)
		goto out_registry;
	ready_ok(&ready_fd);
	exe_of(c->init_pid, exe0, sizeof(exe0));
	a.next_at = glue_now_us();
	if (!c->wait_exec) {
		/* the workload runs already: its first layer now, not after a poll */
		pr_info("workload started (%s); pre-copy", exe0);
		a.state = AG_PRECOPY;
	}
	while (a.state != AG_STOPPING && !ck_stop_sig) {
		struct pollfd pf[2] = { { .fd = a.lfd, .events = POLLIN },
					{ .fd = pidfd, .events = POLLIN } };
		int timeout = 100, r;
		uint64_t now = glue_now_us();

		if (a.state == AG_PRECOPY || a.state == AG_CONVERGED)
			timeout = a.next_at > now ? (int)((a.next_at - now + 999) / 1000) : 0;
		if (timeout > 1000)
			timeout = 1000;
		r = poll(pf, 2, timeout);
		if (ck_stop_sig)
			break;
		if (r < 0 && errno != EINTR) {
			ck_err_set(err, errno, "poll");
			goto out_registry;
		}
		if ((r > 0 && pf[1].revents) || !init_alive(&a)) {
			pr_info("container %s stopped (init %d exited)", c->id, (int)c->init_pid);
			break;
		}
		if (r > 0 && pf[0].revents)
			agent_serve(&a);
		if (a.state == AG_WAITING) {
			exe_of(c->init_pid, exe, sizeof(exe));
			if (!c->wait_exec || strcmp(exe, exe0) || !init_is_runtime(c->init_pid)) {
				pr_info("workload started (%s); pre-copy", exe);
				a.state = AG_PRECOPY;
				a.next_at = glue_now_us();
			}
			continue;
		}
		if ((a.state == AG_PRECOPY || a.state == AG_CONVERGED) &&
		    glue_now_us() >= a.next_at) {
			struct agent_layer l;
			_cleanup_err_ struct ck_err *e = NULL;

			if (agent_take_layer(&a, NULL, false, false, &l, &e) < 0) {
				_cleanup_free_ char *m = ck_err_str(e);

				if (!init_alive(&a))
					continue; /* the container ended under us */
				pr_warn("%s; next try in %" PRIu64 " ms", m, a.c->interval_ms);
				a.next_at = glue_now_us() + a.c->interval_ms * 1000;
				continue;
			}
			converge_step(&a, &l);
			free(l.dir);
		}
	}
	if (ck_stop_sig)
		pr_info("signal %d: stopping", (int)ck_stop_sig);
	rc = 0;
out_registry:
	if (!a.handed_over)
		release_trackers(&a);
	registry_remove(&a);
	if (a.lfd >= 0) {
		_cleanup_free_ char *sock = xasprintf("%s/" GLUE_AGENT_SOCK, c->ckpt_dir);

		close(a.lfd);
		unlink(sock);
	}
out:
	for (size_t i = 0; i < a.nr_chain; i++)
		free(a.chain[i].dir);
	free(a.chain);
	glue_cgroup_free(&a.cg);
	glue_target_unlock(c->init_pid);
	pr_info("agent for container %s exits", c->id);
	return rc;
}
