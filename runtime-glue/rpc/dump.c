// SPDX-License-Identifier: MIT
/*
 * DUMP of a container by ckpt's own final dump (issue 15), the memory as the
 * last layer of ckpt's chain (opts.parent_img), with the NOTIFY sequence runc
 * 1.1.5 expects (criu-rpc.md section 7):
 *
 *   runc                           ckpt criu swrk 3
 *   DUMP{opts} ─────────────────►  images dir: runc's descriptors.json kept
 *   ◄── NOTIFY pre-dump     ack ─►
 *                                  ptrace-stop the container's tree
 *   ◄── NOTIFY network-lock ack ─► (its netns is dropped: empty_ns NEWNET)
 *                                  images (dump-state.h), commit
 *   ◄── NOTIFY post-dump    ack ─► runc writes its checkpoint marker
 *   ◄── NOTIFY network-unlock  ─►  with leave_running only
 *                                  kill (default) / leave running
 *   ◄── {DUMP, success, dump{restored:false}}
 *
 * Anything ckpt does not implement goes to the real CRIU (rpc_delegate), and
 * the reason is logged: a plain tree (no namespaces of its own), TCP, external
 * unix sockets, file locks, lazy pages, a page server, `external` resources
 * other than a netns joined by path (`net[INODE]:KEY`, which runc sends for
 * one: netns-<id>.img then holds the key, dump-ns.c), unix_sk_ino, inherit_fd at dump, join_ns, skip_mnt/enable_fs/auto_ext_mnt,
 * auto_dedup, an LSM profile, a manage_cgroups_mode, or a tree ckpt's check
 * refuses (a tty other than the console, ...), which CRIU may still dump.  A
 * console (orphan_pts_master, a pty slave whose master runc's console socket
 * holds) is ckpt's: the check accepts it (dump-tty.c).  Seccomp filters
 * (Podman's default profile) are ckpt's own (dump-seccomp.c).  Either way
 * ckpt-front-end.log in the work dir says who wrote the DUMP.
 *
 * A container with ckpt's pre-copy agent is dumped here too, on the agent's
 * chain: the agent hands it over (rpc_agent_handover) and exits, its uffd
 * holders keep tracking, and the dump's parent is the agent's latest layer,
 * named relative to the images dir as CRIU resolves it.  An agent that does
 * not answer leaves a full dump (and the container as it was).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/file.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/rpc/agent-use.h"
#include "runtime-glue/dump/predump.h"
#include "runtime-glue/mem/layer.h"
#include "runtime-glue/rpc/rpc-priv.h"

static bool has_own_ns(pid_t pid)
{
	static const char *const ns[] = { "pid", "mnt" };

	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		char a[64], b[64];
		struct stat sa, sb;

		snprintf(a, sizeof(a), "/proc/%d/ns/%s", (int)pid, ns[i]);
		snprintf(b, sizeof(b), "/proc/self/ns/%s", ns[i]);
		if (stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino != sb.st_ino)
			return true;
	}
	return false;
}

/*
 * The container options of the request (ext_mnt pairs and the external netns
 * key point into the request).  -1 for an `external` ckpt does not know.
 */
static int ctr_opts(const CriuOpts *ro, struct glue_ctr_opts *c, struct ck_err **err)
{
	memset(c, 0, sizeof(*c));
	c->root = ro->root;
	c->nr_ext_mnt = ro->n_ext_mnt;
	c->ext_mnt = xcalloc(ro->n_ext_mnt + 1, sizeof(*c->ext_mnt));
	for (size_t i = 0; i < ro->n_ext_mnt; i++) {
		c->ext_mnt[i].key = ro->ext_mnt[i]->key;
		c->ext_mnt[i].val = ro->ext_mnt[i]->val;
	}
	c->manage_cgroups = ro->has_manage_cgroups && ro->manage_cgroups;
	c->empty_net = ro->has_empty_ns && (ro->empty_ns & CLONE_NEWNET);
	c->orphan_pts_master = ro->has_orphan_pts_master && ro->orphan_pts_master;
	c->freeze_cgroup = ro->freeze_cgroup;
	for (size_t i = 0; i < ro->n_external; i++)
		if (glue_ctr_external(c, ro->external[i], err) < 0)
			return -1;
	return 0;
}

/* see rpc-priv.h */
bool rpc_dump_is_ours(struct rpc_session *s, char *why, size_t why_len)
{
	const CriuOpts *ro = s->req->opts;
	struct glue_dump_opts dopts = { 0 };
	struct glue_target tgt = { 0 };
	_cleanup_err_ struct ck_err *err = NULL;
	pid_t pid;
	int rc;

#define FLAG(f) (ro->has_##f && ro->f)
	why[0] = '\0';
	if (!ro)
		return snprintf(why, why_len, "no opts"), false;
	pid = ro->has_pid ? ro->pid : s->peer;
	if (!has_own_ns(pid))
		snprintf(why, why_len, "pid %d is not a container (ckpt's own namespaces)",
			 (int)pid);
	else if (FLAG(tcp_established) || FLAG(ext_unix_sk) || FLAG(file_locks) ||
		 FLAG(lazy_pages) || ro->ps || ro->n_unix_sk_ino || ro->n_inherit_fd ||
		 ro->n_join_ns || ro->n_skip_mnt || ro->n_enable_fs || FLAG(auto_ext_mnt) ||
		 FLAG(auto_dedup) || ro->lsm_profile || ro->has_manage_cgroups_mode)
		snprintf(
			why, why_len,
			"the request asks for options ckpt does not implement (tcp_established, ext_unix_sk, file_locks, lazy_pages, ps, unix_sk_ino, inherit_fd, join_ns, skip_mnt, enable_fs, auto_ext_mnt, auto_dedup, lsm_profile or manage_cgroups_mode)");
#undef FLAG
	if (why[0]) {
		if (strncmp(why, "pid ", 4) || !strstr(why, "is not a container"))
			s->not_ours = xstrdup(why);
		return false;
	}
	dopts.shell_job = ro->has_shell_job && ro->shell_job;
	if (ctr_opts(ro, &dopts.ctr, &err) < 0) {
		free(dopts.ctr.ext_mnt);
		snprintf(why, why_len, "the request asks for what ckpt does not implement: %s",
			 err->msg);
		s->not_ours = xstrdup(why);
		return false;
	}
	tgt.pid = pid;
	tgt.cgroup = ro->freeze_cgroup ? "auto" : NULL;
	{
		struct glue_target t2;

		rc = glue_dump_container_target(&tgt, &t2, &err);
		if (rc == 0)
			rc = glue_dump_check_target(&t2, &dopts, &err);
	}
	free(dopts.ctr.ext_mnt);
	if (rc < 0) {
		snprintf(why, why_len, "ckpt's check refuses it: %s", err->msg);
		s->not_ours = xstrdup(why);
		return false;
	}
	return true;
}

/* One NOTIFY and its ack (runc answers {type:NOTIFY, notify_success}). */
static int notify(void *arg, const char *script, struct ck_err **err)
{
	struct rpc_session *s = arg;
	CriuResp resp = CRIU_RESP__INIT;
	CriuNotify nt = CRIU_NOTIFY__INIT;
	uint8_t buf[4096];
	CriuReq *ack;
	ssize_t n;
	int hint;
	bool ok;

	nt.script = (char *)script;
	resp.type = CRIU_REQ_TYPE__NOTIFY;
	resp.success = true;
	resp.notify = &nt;
	pr_info("notify %s", script);
	if (rpc_send(s->sk, &resp, err) < 0)
		return ck_err_wrap(err, "NOTIFY %s", script);
	n = TEMP_FAILURE_RETRY_INT(recv(s->sk, buf, sizeof(buf), 0));
	if (n <= 0)
		return ck_err_set(err, n < 0 ? errno : ECONNRESET, "NOTIFY %s: no answer", script);
	ack = img_rpc_req_unpack(buf, (size_t)n, &hint, err);
	if (!ack)
		return ck_err_wrap(err, "NOTIFY %s: the answer", script);
	ok = ack->type == CRIU_REQ_TYPE__NOTIFY && ack->has_notify_success && ack->notify_success;
	img_rpc_req_free(ack);
	if (!ok)
		return ck_err_set(err, ECANCELED, "NOTIFY %s: the client answered failure", script);
	return 0;
}

/* Move runc's descriptors.json from the old images dir into the new layer. */
static void keep_descriptors(const char *aside, const char *dir)
{
	_cleanup_free_ char *from = xasprintf("%s/descriptors.json", aside);
	_cleanup_free_ char *to = xasprintf("%s/descriptors.json", dir);

	if (rename(from, to) < 0 && errno != ENOENT)
		pr_warn("keep %s: %s", to, strerror(errno));
}

/*
 * ckpt-front-end.log of the work dir, where a delegated DUMP says why
 * (delegate.c): this one was ckpt's own, so a runtime's user can tell.
 */
static void note_ours(struct rpc_session *s, const char *parent)
{
	_cleanup_close_ int fd = openat(s->workfd, "ckpt-front-end.log",
					O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (fd < 0 ||
	    dprintf(fd,
		    "ckpt's criu front-end: DUMP of container pid %d by ckpt's own final dump, parent %s\n",
		    (int)s->pid, parent ? parent : "(none)") < 0)
		pr_debug("ckpt-front-end.log: %s", strerror(errno));
}

static void log_error(const struct ck_err *err)
{
	_cleanup_free_ char *m = ck_err_str(err);

	ck_log(CK_LOG_ERROR, "Error: %s", m);
}

/*
 * The agent's chain, when the container has an agent: *prev (its latest,
 * relative to the images dir) and *tracker.  An agent that fails to hand
 * over leaves a full dump: logged, not an error.
 */
static void agent_chain(struct rpc_session *s, char **prev, int *tracker)
{
	_cleanup_err_ struct ck_err *err = NULL;
	_cleanup_free_ char *latest = NULL, *tname = NULL;
	int r = rpc_agent_handover(s, &latest, &tname, &err);

	if (r < 0) {
		_cleanup_free_ char *m = ck_err_str(err);

		pr_warn("%s: the final dump is a full one", m);
		return;
	}
	if (r == 0)
		return;
	{
		char a[PATH_MAX], b[PATH_MAX];
		size_t n;

		if (realpath(s->images_dir, a) && realpath(latest, b) &&
		    !strncmp(a, b, (n = strlen(a))) && b[n] == '/') {
			/* Podman's images dir is <bundle>/checkpoint, the agent's default dir */
			pr_warn("the agent's layers (%s) are inside the images dir %s, which this dump replaces: a full dump (give the agent another org.ckpt.dir)",
				latest, s->images_dir);
			return;
		}
	}
	if (s->req->opts->parent_img)
		pr_info("parent_img %s is not used: the final dump continues the agent's chain",
			s->req->opts->parent_img);
	*prev = ck_path_relative(s->images_dir, latest);
	*tracker = tname ? glue_tracker_lookup(tname) : -1;
}

/* see rpc-priv.h */
int rpc_dump(struct rpc_session *s)
{
	_cleanup_err_ struct ck_err *err = NULL;
	_cleanup_free_ char *aside = NULL, *agent_prev = NULL;
	const CriuOpts *ro = s->req->opts;
	CriuResp resp = CRIU_RESP__INIT;
	CriuDumpResp dr = CRIU_DUMP_RESP__INIT;
	struct glue_mem_opts o = { 0 };
	struct glue_mem_result res;
	bool leave = ro->has_leave_running && ro->leave_running;
	int agent_tracker = -1;
	int rc;

	rpc_consume(s);
	if (ctr_opts(ro, &o.ctr, &err) < 0 || rpc_setup_dirs(s, &err) < 0)
		goto fail;
	close(s->imgfd);
	s->imgfd = -1;
	/* before the images dir is moved aside: the agent's chain may be named relative to it */
	agent_chain(s, &agent_prev, &agent_tracker);
	if (rpc_move_aside(s->images_dir, &aside, &err) < 0)
		goto fail;
	o.target.pid = s->pid;
	o.target.cgroup = ro->freeze_cgroup ? "auto" : NULL;
	o.images_dir = s->images_dir;
	o.prev_dir = ro->parent_img;
	o.track_mem = ro->has_track_mem && ro->track_mem;
	o.tracker = agent_tracker;
	if (agent_prev)
		o.prev_dir = agent_prev;
	o.restorable = true;
	o.shell_job = ro->has_shell_job && ro->shell_job;
	o.kill_after = !leave;
	o.verb = "dump";
	o.notify = notify;
	o.notify_arg = s;
	pr_info("ckpt's criu front-end: DUMP of container pid %d by ckpt's own final dump into %s, parent %s%s",
		(int)s->pid, s->images_dir, o.prev_dir ? o.prev_dir : "(none)",
		leave ? ", leave running" : "");
	rc = glue_mem_dump(&o, &res, &err);
	free(steal_ptr(&o.ctr.ext_mnt));
	if (rc < 0) {
		if (aside && rename(aside, s->images_dir) < 0)
			pr_warn("put %s back: %s", s->images_dir, strerror(errno));
		goto fail;
	}
	if (aside) {
		keep_descriptors(aside, s->images_dir);
		if (!strcmp(s->images_dir, s->work_dir)) {
			_cleanup_free_ char *from = xasprintf("%s/%s", aside, s->log_name);
			_cleanup_free_ char *to = xasprintf("%s/%s", s->images_dir, s->log_name);

			if (rename(from, to) < 0)
				pr_warn("keep the log %s: %s", to, strerror(errno));
		}
		if (glue_layer_remove_flat(aside) < 0)
			pr_warn("cannot remove %s: %s", aside, strerror(errno));
	}
	rpc_copy_stats(s);
	note_ours(s, ro->parent_img);
	pr_info("dump: %llu pages written, %llu in parent, frozen %llu us",
		(unsigned long long)res.st.pages_written,
		(unsigned long long)res.st.pages_skipped_parent,
		(unsigned long long)res.st.frozen_us);
	resp.type = CRIU_REQ_TYPE__DUMP;
	resp.success = true;
	dr.has_restored = true;
	dr.restored = false;
	resp.dump = &dr;
	if (rpc_send(s->sk, &resp, &err) < 0) {
		log_error(err);
		return 1;
	}
	return 0;
fail:
	free(o.ctr.ext_mnt);
	log_error(err);
	rpc_send_error(s->sk, CRIU_REQ_TYPE__DUMP, err);
	return 1;
}
