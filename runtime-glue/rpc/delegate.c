// SPDX-License-Identifier: MIT
/*
 * DUMP and RESTORE through the real CRIU.  See rpc.h.
 *
 * In place (RESTORE always, DUMP when the request can go as it is): the
 * request is still queued on the socket (only peeked at), so exec'ing
 * `criu swrk FD` on the same fd lets CRIU read it, resolve the client's fds
 * itself and be the very process the client spawned (runc moved it into the
 * container's cgroups; rst_sibling makes the restored tree runc's child):
 *
 *   runc ──socket──► ckpt (pid F) ══execv══► criu swrk FD (pid F)
 *
 * Re-encoded (DUMP whose parent chain CRIU cannot continue): the request was
 * consumed, so CRIU gets a new socket with the changed request queued on it,
 * and a relay child copies the datagrams (and passed fds) both ways.  CRIU is
 * still pid F; it resolves the images and work dir fds in its own fd table
 * (the socketpair's peer is F itself):
 *
 *   runc ──socket──► relay (child of F) ──pair──► criu swrk 3 (pid F)
 *        ◄──────────                     ◄───────  NOTIFY, final response
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/mem/layer.h"
#include "runtime-glue/rpc/agent-use.h"
#include "runtime-glue/rpc/rpc-priv.h"
#include "runtime-glue/rpc/rpc.h"

#define DEFAULT_CONF  "/etc/ckpt/criu.conf"
#define RELAY_MAX_FDS 16

/* Whether @path is this very binary (a loop, not a real CRIU). */
static bool is_self(const char *path)
{
	struct stat a, b;

	return stat(path, &a) == 0 && stat("/proc/self/exe", &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static int usable(const char *path, const char *from, struct ck_err **err)
{
	if (access(path, X_OK) < 0)
		return ck_err_set(err, errno, "real CRIU %s (from %s)", path, from);
	if (is_self(path))
		return ck_err_set(err, ELOOP, "real CRIU %s (from %s) is ckpt itself", path, from);
	return 0;
}

/* `criu = PATH` in the config file; NULL when the file or the key is absent. */
static char *conf_criu(const char *conf)
{
	_cleanup_fclose_ FILE *f = fopen(conf, "re");
	_cleanup_free_ char *line = NULL;
	size_t n = 0;

	if (!f)
		return NULL;
	while (getline(&line, &n, f) > 0) {
		char *p = line, *e;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "criu", 4))
			continue;
		p += 4;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p++ != '=')
			continue;
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strcspn(p, "#\n");
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		*e = '\0';
		if (*p)
			return xstrdup(p);
	}
	return NULL;
}

/* The directory the front-end was started from: argv[0]'s, or the `criu` found in PATH. */
static char *front_end_dir(const char *argv0)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;

	if (strchr(argv0, '/')) {
		char *d = xstrdup(argv0);

		*strrchr(d, '/') = '\0';
		if (!*d) {
			free(d);
			return xstrdup("/");
		}
		return d;
	}
	if (!path)
		return NULL;
	copy = xstrdup(path);
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *p = xasprintf("%s/%s", *dir ? dir : ".", argv0);

		if (access(p, X_OK) == 0) {
			char *r = xstrdup(*dir ? dir : ".");

			free(copy);
			return r;
		}
	}
	free(copy);
	return NULL;
}

/* see rpc.h */
int glue_rpc_find_criu(const char *argv0, char **path, char *why, size_t why_len,
		       struct ck_err **err)
{
	const char *env = getenv("CKPT_CRIU");
	const char *conf = getenv("CKPT_CRIU_CONF");
	_cleanup_free_ char *fromconf = NULL, *dir = NULL, *next = NULL;

	*path = NULL;
	if (!conf || !*conf)
		conf = DEFAULT_CONF;
	if (env && *env) {
		if (usable(env, "CKPT_CRIU", err) < 0)
			return -1;
		*path = xstrdup(env);
		return 0;
	}
	fromconf = conf_criu(conf);
	if (fromconf) {
		if (usable(fromconf, conf, err) < 0)
			return -1;
		*path = steal_ptr(&fromconf);
		return 0;
	}
	dir = front_end_dir(argv0 ? argv0 : "criu");
	if (dir) {
		next = xasprintf("%s/criu.real", dir);
		if (access(next, F_OK) == 0) {
			if (usable(next, "next to the front-end", err) < 0)
				return -1;
			*path = steal_ptr(&next);
			return 0;
		}
	}
	snprintf(
		why, why_len,
		"no real CRIU is configured: set CKPT_CRIU, put 'criu = PATH' in %s, or install it as %s",
		conf, next ? next : "criu.real next to the front-end");
	return 0;
}

/*
 * Whether the layer named by parent_img was written by a ckpt tracker CRIU
 * cannot continue (uffd-wp, hash, none: CRIU continues only soft-dirty
 * chains).  @agent_tracker: that of the container's agent, whose chain the
 * parent belongs to, or NULL.  *why (set when true) says which.
 */
static bool parent_needs_full(struct rpc_session *s, const char *agent_tracker, char *why,
			      size_t why_len)
{
	const CriuOpts *o = s->req->opts;
	_cleanup_err_ struct ck_err *err = NULL;
	_cleanup_free_ char *tracker = agent_tracker ? xstrdup(agent_tracker) : NULL;
	_cleanup_close_ int imgfd = -1, pfd = -1;
	bool same;

	if (!o || !o->parent_img)
		return false;
	if (!tracker) {
		if (o->images_dir_fd >= 0)
			imgfd = rpc_peer_fd(s->peer, o->images_dir_fd, O_RDONLY | O_DIRECTORY, NULL,
					    &err);
		if (imgfd < 0)
			return false; /* CRIU will say what is wrong with it */
		pfd = openat(imgfd, o->parent_img, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0 || !glue_layer_is_ckpt(pfd))
			return false;
		if (glue_layer_read_meta(pfd, 0, 0, &same, &tracker, &err) < 0 || !tracker)
			tracker = xstrdup("unknown");
	}
	if (!strcmp(tracker, "soft-dirty"))
		return false;
	snprintf(
		why, why_len,
		"the parent %s was written by ckpt's %s tracker, which CRIU cannot continue (it continues soft-dirty chains only): the dump is made full, without track_mem and parent_img",
		o->parent_img, tracker);
	return true;
}

static void exec_criu(const char *criu, int sk)
{
	char fd[16];
	int fl = fcntl(sk, F_GETFD);

	snprintf(fd, sizeof(fd), "%d", sk);
	if (fl >= 0)
		fcntl(sk, F_SETFD, fl & ~FD_CLOEXEC);
	execl(criu, criu, "swrk", fd, (char *)NULL);
}

/* Copy one datagram (with its fds) from @from to @to.  0 at EOF, 1 copied, -1 error. */
static int relay_one(int from, int to)
{
	char cbuf[CMSG_SPACE(sizeof(int) * RELAY_MAX_FDS)];
	_cleanup_free_ char *buf = NULL;
	struct msghdr mh = { 0 };
	struct iovec iov;
	struct cmsghdr *c;
	ssize_t n;
	int r = 1;

	n = TEMP_FAILURE_RETRY_INT(recv(from, NULL, 0, MSG_PEEK | MSG_TRUNC));
	if (n <= 0)
		return n < 0 ? -1 : 0;
	buf = xmalloc((size_t)n);
	iov.iov_base = buf;
	iov.iov_len = (size_t)n;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	n = TEMP_FAILURE_RETRY_INT(recvmsg(from, &mh, MSG_CMSG_CLOEXEC));
	if (n <= 0)
		return n < 0 ? -1 : 0;
	iov.iov_len = (size_t)n;
	if (!mh.msg_controllen)
		mh.msg_control = NULL;
	if (TEMP_FAILURE_RETRY_INT(sendmsg(to, &mh, MSG_NOSIGNAL)) < 0)
		r = -1;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
				close(((int *)CMSG_DATA(c))[i]);
	return r;
}

/*
 * The relay child: client <-> CRIU until CRIU closes its end.  @note is
 * appended to the log once CRIU has opened (and truncated) it, that is at
 * its first message.
 */
static void write_note(int logfd, const char *note)
{
	if (logfd >= 0 && note && write(logfd, note, strlen(note)) < 0)
		pr_debug("log note: %s", strerror(errno));
}

static void relay(int client, int criu, int logfd, const char *note)
{
	struct pollfd p[2] = { { .fd = client, .events = POLLIN },
			       { .fd = criu, .events = POLLIN } };
	bool noted = false;

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents) {
			/* CRIU has opened its log by now; noted before the client hears anything */
			if (!noted)
				write_note(logfd, note);
			noted = true;
			if (relay_one(criu, client) <= 0)
				break;
		}
		if (p[0].revents) {
			int r = relay_one(client, criu);

			if (r <= 0) {
				/* the client is done (runc: shutdown after the response) */
				shutdown(criu, SHUT_WR);
				p[0].fd = -1;
			}
		}
	}
	if (!noted)
		write_note(logfd, note);
}

/* Move @fd to a number >= 10 without CLOEXEC (CRIU inherits it). */
static int inheritable(int fd)
{
	int r = fcntl(fd, F_DUPFD, 10);

	close(fd);
	return r;
}

/*
 * Hand a changed copy of the request to CRIU through a new socket (see the
 * top of the file).  Returns only on failure, with the exit status.
 */
static int exec_reencoded(struct rpc_session *s, const char *criu, const char *why)
{
	_cleanup_err_ struct ck_err *err = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_free_ char *note = NULL;
	CriuOpts *o = s->req->opts;
	int pair[2], img = -1, work = -1, logfd = -1;
	size_t len;
	pid_t child;

	rpc_consume(s);
	img = rpc_peer_fd(s->peer, o->images_dir_fd, O_RDONLY | O_DIRECTORY, NULL, &err);
	if (img < 0)
		goto fail;
	img = inheritable(img);
	if (o->has_work_dir_fd && o->work_dir_fd >= 0) {
		work = rpc_peer_fd(s->peer, o->work_dir_fd, O_RDONLY | O_DIRECTORY, NULL, &err);
		if (work < 0)
			goto fail;
		work = inheritable(work);
	}
	if (img < 0 || (o->has_work_dir_fd && work < 0)) {
		ck_err_set(&err, errno, "keep the client's directories open for CRIU");
		goto fail;
	}
	if (o->has_status_fd && o->status_fd >= 0) {
		/* lazy pages: CRIU writes its readiness there, also a client fd */
		int st = rpc_peer_fd(s->peer, o->status_fd, O_WRONLY, NULL, &err);

		if (st < 0)
			goto fail;
		o->status_fd = inheritable(st);
	}
	o->images_dir_fd = img;
	if (work >= 0)
		o->work_dir_fd = work;
	if (!o->has_pid) {
		/* unset means "the requesting process": that is the client, not us */
		o->has_pid = true;
		o->pid = s->peer;
	}
	o->parent_img = NULL;
	o->has_track_mem = false;
	o->track_mem = false;
	if (img_rpc_req_pack(s->req, &buf, &len, &err) < 0)
		goto fail;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
		ck_err_set(&err, errno, "socketpair");
		goto fail;
	}
	if (send(pair[0], buf, len, MSG_NOSIGNAL) != (ssize_t)len) {
		ck_err_set(&err, errno, "queue the re-encoded request");
		goto fail;
	}
	logfd = openat(work >= 0 ? work : img, o->log_file ? o->log_file : "criu.log",
		       O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	note = xasprintf("ckpt's criu front-end: DUMP handed to %s: %s\n", criu, why);
	/*
	 * The relay is a grandchild: CRIU waits for its own children before
	 * it exits, and the relay waits for CRIU to close its socket.
	 */
	child = fork();
	if (child < 0) {
		ck_err_set(&err, errno, "fork the relay");
		goto fail;
	}
	if (child == 0 && fork() != 0)
		_exit(0);
	if (child == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		close(pair[1]);
		close(img);
		if (work >= 0)
			close(work);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		relay(s->sk, pair[0], logfd, note);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	close(pair[0]);
	if (logfd >= 0)
		close(logfd);
	/* the client's socket is the relay's now */
	fcntl(s->sk, F_SETFD, FD_CLOEXEC);
	/* CRIU's socket: fd 3 would clash with nothing we still need */
	exec_criu(criu, pair[1]);
	ck_err_set(&err, errno, "exec %s", criu);
	/* the relay sees EOF on its end and exits; the client gets our answer directly */
	close(pair[1]);
fail:
	ck_err_wrap(&err, "hand DUMP to %s", criu);
	rpc_send_error(s->sk, s->req->type, err);
	return 1;
}

/*
 * A container's DUMP that ckpt does not write itself goes to CRIU as before
 * (in place when it can); CRIU truncates its own log, so the reason goes to
 * ckpt-front-end.log in the client's work dir.
 */
static void note_not_ours(struct rpc_session *s, const char *criu)
{
	const CriuOpts *o = s->req->opts;
	_cleanup_close_ int dir = -1, fd = -1;
	_cleanup_err_ struct ck_err *e = NULL;
	_cleanup_free_ char *line = NULL;

	if (!o)
		return;
	dir = rpc_peer_fd(s->peer, o->has_work_dir_fd ? o->work_dir_fd : o->images_dir_fd,
			  O_RDONLY | O_DIRECTORY, NULL, &e);
	if (dir < 0)
		return;
	fd = openat(dir, "ckpt-front-end.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	line = xasprintf(
		"ckpt's criu front-end: DUMP handed to %s: a container ckpt does not dump itself: %s\n",
		criu, s->not_ours);
	if (write(fd, line, strlen(line)) < 0)
		pr_debug("ckpt-front-end.log: %s", strerror(errno));
}

/* see rpc-priv.h */
int rpc_delegate(struct rpc_session *s)
{
	_cleanup_err_ struct ck_err *err = NULL;
	_cleanup_free_ char *criu = NULL, *agent_tracker = NULL;
	char why[1024] = "", tn[32];
	int type = s->req->type;

	if (glue_rpc_find_criu(s->argv0, &criu, why, sizeof(why), &err) < 0)
		goto fail;
	if (!criu) {
		ck_err_set(&err, EOPNOTSUPP, "%s needs a real CRIU, and %s",
			   img_rpc_type_name(type, tn, sizeof(tn)), why);
		goto fail;
	}
	if (type == CRIU_REQ_TYPE__DUMP && rpc_agent_release(s, &agent_tracker, &err) < 0)
		goto fail;
	if (glue_fault("rpc-delegate", &err) < 0)
		goto fail;
	if (type == CRIU_REQ_TYPE__DUMP && s->not_ours)
		note_not_ours(s, criu);
	if (type == CRIU_REQ_TYPE__DUMP && parent_needs_full(s, agent_tracker, why, sizeof(why))) {
		if (!s->req->opts || s->req->opts->images_dir_fd < 0) {
			ck_err_set(&err, EINVAL, "DUMP without images_dir_fd");
			goto fail;
		}
		return exec_reencoded(s, criu, why);
	}
	/* as it is: CRIU reads the queued request itself */
	ck_log_set_fd(-1);
	exec_criu(criu, s->sk);
	ck_err_set(&err, errno, "exec %s", criu);
fail:
	rpc_consume(s);
	if (s->req->opts) {
		/* runc 1.1.5 shows only cr_errno and the log's name: say it there */
		_cleanup_err_ struct ck_err *e2 = NULL;

		if (rpc_setup_dirs(s, &e2) < 0)
			pr_debug("no log for the error: %s", e2->msg);
	}
	rpc_send_error(s->sk, type, err);
	return 1;
}
