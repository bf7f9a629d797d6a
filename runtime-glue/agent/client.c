// SPDX-License-Identifier: MIT
/*
 * Client of the agent's control socket and of the registry (client.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "runtime-glue/agent/client.h"
#include "runtime-glue/agent/sock.h"

/* see client.h */
const char *glue_agent_registry(void)
{
	const char *r = getenv("CKPT_AGENT_REGISTRY");

	return r && r[0] == '/' ? r : GLUE_AGENT_REGISTRY;
}

/* Whether the agent of @dir answers (connect succeeds). */
static bool answers(const char *dir)
{
	_cleanup_err_ struct ck_err *e = NULL;
	_cleanup_close_ int fd = glue_agent_sock_connect(dir, &e);

	return fd >= 0;
}

static int lookup(const char *name, char **ckpt_dir, struct ck_err **err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", glue_agent_registry(), name);
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	if (n < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return ck_err_set(err, errno, "agent registry entry %s", path);
	}
	target[n] = '\0';
	if (target[0] != '/' || !answers(target))
		return 0; /* stale */
	*ckpt_dir = xstrdup(target);
	return 1;
}

/* see client.h */
int glue_agent_find(pid_t init_pid, const char *id, char **ckpt_dir, struct ck_err **err)
{
	int r = 0;

	if (id && *id && !strchr(id, '/')) {
		_cleanup_free_ char *name = xasprintf("id-%s", id);

		r = lookup(name, ckpt_dir, err);
	}
	if (r == 0 && init_pid > 0) {
		_cleanup_free_ char *name = xasprintf("pid-%d", (int)init_pid);

		r = lookup(name, ckpt_dir, err);
	}
	return r;
}

/* see client.h */
int glue_agent_call_timeout(const char *ckpt_dir, const struct glue_agent_req *req,
			    struct glue_agent_reply *rep, int timeout_ms, struct ck_err **err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *out = NULL, *in = NULL;
	size_t olen, ilen;

	memset(rep, 0, sizeof(*rep));
	fd = glue_agent_sock_connect(ckpt_dir, err);
	if (fd < 0)
		return ck_err_wrap(err, "agent of %s", ckpt_dir);
	out = oci_agent_req_encode(req, &olen);
	if (glue_agent_sock_send(fd, out, olen, err) < 0 ||
	    glue_agent_sock_recv(fd, timeout_ms, &in, &ilen, err) < 0 ||
	    oci_agent_reply_decode(in, ilen, rep, err) < 0)
		return ck_err_wrap(err, "agent of %s: %s", ckpt_dir, oci_agent_cmd_name(req->cmd));
	return 0;
}

/* see client.h */
int glue_agent_call(const char *ckpt_dir, const struct glue_agent_req *req,
		    struct glue_agent_reply *rep, struct ck_err **err)
{
	return glue_agent_call_timeout(ckpt_dir, req, rep, 0, err);
}
