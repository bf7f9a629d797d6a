// SPDX-License-Identifier: MIT
/*
 * The agent's control socket: one request, one reply per connection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/agent/agent-priv.h"
#include "runtime-glue/agent/sock.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/features.h"
#include "runtime-glue/proc/freezer.h"
#include "runtime-glue/proc/lock.h"

static void fill_layer(struct oci_agent_layer *o, const struct agent_layer *l)
{
	o->n = l->n;
	o->dir = xstrdup(l->dir);
	o->pages_written = l->pages_written;
	o->pages_parent = l->pages_parent;
	o->frozen_us = l->frozen_us;
}

static const char *tracker_name(const struct agent *a)
{
	if (a->tracker >= 0)
		return glue_tracker_name((enum glue_tracker)a->tracker);
	if (a->c->tracker >= 0)
		return glue_tracker_name((enum glue_tracker)a->c->tracker);
	return "auto";
}

static int do_status(struct agent *a, struct oci_agent_reply *rep)
{
	rep->state = xstrdup(agent_state_name(a->state));
	rep->cgroup = xstrdup(a->cg.dir ? a->cg.dir : "");
	rep->nr_layers = a->nr_chain;
	rep->layers = xcalloc(a->nr_chain + 1, sizeof(*rep->layers));
	for (size_t i = 0; i < a->nr_chain; i++)
		fill_layer(&rep->layers[i], &a->chain[i]);
	if (a->nr_chain)
		rep->latest = xstrdup(a->chain[a->nr_chain - 1].dir);
	return 0;
}

static int check_dir(const char *dir, struct ck_err **err)
{
	struct stat st;

	if (!dir)
		return 0;
	if (lstat(dir, &st) < 0)
		return errno == ENOENT ? 0 : ck_err_set(err, errno, "%s", dir);
	if (!S_ISDIR(st.st_mode))
		return ck_err_set(err, ENOTDIR, "%s", dir);
	return 0;
}

static int do_layer(struct agent *a, const struct oci_agent_req *req, struct oci_agent_reply *rep,
		    struct ck_err **err)
{
	bool final = req->cmd == OCI_AGENT_FINAL;
	struct agent_layer l;

	if (a->state == AG_WAITING)
		return ck_err_set(err, EAGAIN, "the container has not started its process yet");
	if (check_dir(req->dir, err) < 0)
		return -1;
	if (agent_take_layer(a, req->dir, final, req->leave_frozen, &l, err) < 0)
		return -1;
	rep->has_layer = true;
	fill_layer(&rep->layer, &l);
	free(l.dir);
	if (final) {
		a->state = AG_FINAL;
		/* no layer of its own any more: the target is free for others (verify) */
		glue_target_unlock(a->c->init_pid);
	} else if (a->state == AG_CONVERGED)
		a->next_at = glue_now_us() + a->c->interval_ms * 1000;
	return 0;
}

/*
 * The front-end's DUMP takes the chain over (docs/agent.md "Handover"): the
 * agent answers with its latest layer, gives up the init's lock, and exits
 * without stopping the uffd holders, which keep the written-page state for
 * the final dump as they do between two `ckpt pre-dump` runs.  No freeze of
 * its own can meet the dump's: it takes no layer after this reply.
 */
static int do_handover(struct agent *a, struct oci_agent_reply *rep, struct ck_err **err)
{
	/* without a layer it still steps aside: the front-end then makes a full dump */
	a->state = AG_STOPPING;
	glue_target_unlock(a->c->init_pid);
	if (!a->nr_chain)
		return ck_err_set(err, ENOENT, "no layer yet: nothing to hand over (stopping)");
	do_status(a, rep);
	a->handed_over = true;
	pr_info("handover: the front-end's final dump continues the chain from %s", rep->latest);
	return 0;
}

/* see agent-priv.h */
void agent_serve(struct agent *a)
{
	_cleanup_err_ struct ck_err *err = NULL;
	_cleanup_close_ int fd = glue_agent_sock_accept(a->lfd, geteuid(), &err);
	_cleanup_free_ char *in = NULL, *out = NULL;
	struct oci_agent_req req = { 0 };
	struct oci_agent_reply rep = { 0 };
	size_t len;

	if (fd < 0 || glue_fault("agent-accept", &err) < 0) {
		/* the peer (if any) sees the connection closed without an answer */
		pr_warn("control socket: %s", err->msg);
		return;
	}
	if (glue_agent_sock_recv(fd, 5000, &in, &len, &err) < 0 ||
	    oci_agent_req_decode(in, len, &req, &err) < 0 ||
	    glue_fault("agent-request", &err) < 0) {
		/* answer what we can: the peer learns why */
		goto reply;
	}
	pr_info("control: %s%s%s", oci_agent_cmd_name(req.cmd), req.dir ? " " : "",
		req.dir ? req.dir : "");
	switch (req.cmd) {
	case OCI_AGENT_STATUS:
		do_status(a, &rep);
		break;
	case OCI_AGENT_LAYER:
	case OCI_AGENT_FINAL:
		do_layer(a, &req, &rep, &err);
		break;
	case OCI_AGENT_STOP:
		a->state = AG_STOPPING;
		break;
	case OCI_AGENT_HANDOVER:
		do_handover(a, &rep, &err);
		break;
	}
reply:
	if (err) {
		oci_agent_reply_clear(&rep);
		rep.error = ck_err_str(err);
		pr_warn("control: %s", rep.error);
	} else {
		rep.ok = true;
		rep.tracker = xstrdup(tracker_name(a));
	}
	out = oci_agent_reply_encode(&rep, &len);
	{
		_cleanup_err_ struct ck_err *e2 = NULL;

		if (glue_fault("agent-reply", &e2) < 0 ||
		    glue_agent_sock_send(fd, out, len, &e2) < 0)
			pr_warn("control: reply: %s", e2->msg);
	}
	oci_agent_req_clear(&req);
	oci_agent_reply_clear(&rep);
}
