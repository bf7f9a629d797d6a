// SPDX-License-Identifier: MIT
/*
 * PRE_DUMP and SINGLE_PRE_DUMP: one memory layer by ckpt's engine, in CRIU's
 * format, into the client's images dir, the parent from opts.parent_img.
 *
 *   runc                        ckpt criu swrk 3
 *   PRE_DUMP{opts} ──────────►  /proc/<runc>/fd/<images_dir_fd> -> P
 *                               (P already holds a layer: moved aside, CRIU
 *                                overwrites such a directory too)
 *                               glue_mem_dump(pid, cgroup of pid, P,
 *                                             prev = parent_img)
 *                               work dir: log_file, stats-dump (Podman reads it)
 *              ◄────────────   {PRE_DUMP, success}
 *
 * The tracker outlives this process through its holder (uffd-wp) or its
 * registry (soft-dirty), so the next request's layer holds only what changed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/file.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/dump/predump.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/mem/layer.h"
#include "runtime-glue/rpc/agent-use.h"
#include "runtime-glue/rpc/rpc-priv.h"

/*
 * A layer is never written over another; CRIU writes over whatever the
 * directory holds (Podman pre-checkpoints into the same dir each time).  So
 * a non-empty images dir is renamed aside; *aside is its new name, NULL when
 * the directory was empty.
 */
/* see rpc-priv.h */
int rpc_move_aside(const char *dir, char **aside, struct ck_err **err)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	_cleanup_free_ char *copy = xstrdup(dir);
	struct dirent *de;
	bool empty = true;
	char *slash;

	*aside = NULL;
	if (!d)
		return ck_err_set(err, errno, "open %s", dir);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	if (empty)
		return 0;
	slash = strrchr(copy, '/');
	if (!slash || !slash[1])
		return ck_err_set(err, EINVAL, "images dir %s", dir);
	*slash = '\0';
	*aside = xasprintf("%s/.%s.ckpt-old-%d", copy, slash + 1, (int)getpid());
	if (rename(dir, *aside) < 0) {
		ck_err_set(err, errno, "rename the previous images in %s aside", dir);
		free(steal_ptr(aside));
		return -1;
	}
	pr_info("%s held earlier images: replaced by this layer", dir);
	return 0;
}

/* CRIU writes stats-dump into the work dir; Podman's --print-stats reads it there. */
/* see rpc-priv.h */
void rpc_copy_stats(struct rpc_session *s)
{
	_cleanup_close_ int in = -1, out = -1;
	char buf[4096];
	ssize_t n;

	if (!strcmp(s->images_dir, s->work_dir))
		return;
	in = open(s->images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (in < 0)
		return;
	{
		int f = openat(in, "stats-dump", O_RDONLY | O_CLOEXEC);

		close(in);
		in = f;
	}
	if (in < 0)
		return;
	out = openat(s->workfd, "stats-dump", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		pr_warn("stats-dump in %s: %s", s->work_dir, strerror(errno));
		return;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			pr_warn("write %s/stats-dump: %s", s->work_dir, strerror(errno));
			return;
		}
}

static int engine_layer(struct rpc_session *s, struct ck_err **err)
{
	const CriuOpts *ro = s->req->opts;
	struct glue_mem_opts o = { 0 };
	struct glue_mem_result res;

	o.target.pid = s->pid;
	/* runc names the container's freezer: freeze the cgroup of the container's init */
	o.target.cgroup = ro->freeze_cgroup ? "auto" : NULL;
	o.images_dir = s->images_dir;
	o.prev_dir = ro->parent_img;
	o.pre_dump = true;
	o.track_mem = true;
	o.tracker = -1;
	o.verb = "pre-dump";
	pr_info("pre-dump of pid %d%s into %s, parent %s", (int)o.target.pid,
		o.target.cgroup ? " (its cgroup)" : "", o.images_dir,
		o.prev_dir ? o.prev_dir : "(none)");
	if (glue_mem_dump(&o, &res, err) < 0)
		return -1;
	pr_info("pre-dump: %llu pages written, %llu in parent, %llu scanned, frozen %llu us, tracker %s",
		(unsigned long long)res.st.pages_written,
		(unsigned long long)res.st.pages_skipped_parent,
		(unsigned long long)res.st.pages_scanned, (unsigned long long)res.st.frozen_us,
		glue_tracker_name(res.tracker));
	return 0;
}

/*
 * parent_img comes from the client, relative to the images dir: it must name
 * a layer beside it (CRIU's "../NAME") or below it, never anything out of
 * the directory that holds the images dir, through '..' or a symbolic link.
 */
static int check_parent(struct rpc_session *s, struct ck_err **err)
{
	const char *p = s->req->opts->parent_img;
	_cleanup_free_ char *copy = xstrdup(s->images_dir), *rel = NULL;
	_cleanup_close_ int pfd = -1, fd = -1;
	char *slash = strrchr(copy, '/');

	if (!p)
		return 0;
	if (!slash || !slash[1])
		return ck_err_set(err, EINVAL, "images dir %s", s->images_dir);
	*slash = '\0';
	pfd = open(slash == copy ? "/" : copy, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return ck_err_set(err, errno, "open %s", copy);
	/* an absolute one is refused as such by ck_open_beneath */
	rel = p[0] == '/' ? xstrdup(p) : xasprintf("%s/%s", slash + 1, p);
	fd = ck_open_beneath(pfd, slash == copy ? "/" : copy, rel, O_PATH | O_DIRECTORY, 0, err);
	if (fd < 0)
		return ck_err_wrap(err, "parent_img %s (relative to %s)", p, s->images_dir);
	return 0;
}

/* The layer by the container's agent, else by the engine, into a fresh images dir. */
static int layer(struct rpc_session *s, struct ck_err **err)
{
	_cleanup_free_ char *aside = NULL;
	int found;

	/* the client's fd keeps the old directory alive; the layer goes to the path */
	close(s->imgfd);
	s->imgfd = -1;
	if (rpc_move_aside(s->images_dir, &aside, err) < 0)
		return -1;
	found = rpc_agent_layer(s, err);
	if (found < 0 || (!found && engine_layer(s, err) < 0)) {
		if (aside && rename(aside, s->images_dir) < 0)
			pr_warn("put %s back: %s", s->images_dir, strerror(errno));
		return -1;
	}
	if (aside && !strcmp(s->images_dir, s->work_dir)) {
		/* the log was in the images dir (no work dir): it belongs to the new layer */
		_cleanup_free_ char *from = xasprintf("%s/%s", aside, s->log_name);
		_cleanup_free_ char *to = xasprintf("%s/%s", s->images_dir, s->log_name);

		if (rename(from, to) < 0)
			pr_warn("keep the log %s: %s", to, strerror(errno));
	}
	if (aside)
		if (glue_layer_remove_flat(aside) < 0)
			pr_warn("cannot remove %s: %s", aside, strerror(errno));
	rpc_copy_stats(s);
	return 0;
}

/* see rpc-priv.h */
int rpc_pre_dump(struct rpc_session *s)
{
	_cleanup_err_ struct ck_err *err = NULL;
	CriuResp resp = CRIU_RESP__INIT;
	int type = s->req->type;

	if (rpc_setup_dirs(s, &err) < 0 || glue_fault("rpc-pre-dump", &err) < 0 ||
	    check_parent(s, &err) < 0)
		goto fail;
	if (layer(s, &err) < 0)
		goto fail;
	resp.type = type;
	resp.success = true;
	if (rpc_send(s->sk, &resp, &err) < 0) {
		/* the layer is complete; the client just cannot hear it (it went away) */
		_cleanup_free_ char *m = ck_err_str(err);

		ck_log(CK_LOG_ERROR, "Error: %s", m);
		return 1;
	}
	return 0;
fail:
	rpc_send_error(s->sk, type, err);
	return 1;
}
