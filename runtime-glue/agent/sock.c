// SPDX-License-Identifier: MIT
/*
 * AF_UNIX SOCK_SEQPACKET transport of the agent's control socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/agent/client.h"
#include "runtime-glue/agent/sock.h"

static int sock_addr(const char *dir, int *dirfd, struct sockaddr_un *sa, struct ck_err **err)
{
	*dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return ck_err_set(err, errno, "open %s", dir);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/" GLUE_AGENT_SOCK, *dirfd);
	return 0;
}

/* see sock.h */
int glue_agent_sock_listen(const char *dir, struct ck_err **err)
{
	_cleanup_close_ int dirfd = -1, fd = -1;
	struct sockaddr_un sa;
	mode_t old;
	int r;

	if (sock_addr(dir, &dirfd, &sa, err) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ck_err_set(err, errno, "socket");
	if (unlinkat(dirfd, GLUE_AGENT_SOCK, 0) < 0 && errno != ENOENT)
		return ck_err_set(err, errno, "remove stale %s/" GLUE_AGENT_SOCK, dir);
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return ck_err_set(err, errno, "bind %s/" GLUE_AGENT_SOCK, dir);
	if (fchmodat(dirfd, GLUE_AGENT_SOCK, 0600, 0) < 0)
		return ck_err_set(err, errno, "chmod %s/" GLUE_AGENT_SOCK, dir);
	if (listen(fd, 8) < 0)
		return ck_err_set(err, errno, "listen %s/" GLUE_AGENT_SOCK, dir);
	return steal_fd(&fd);
}

/* see sock.h */
int glue_agent_sock_connect(const char *dir, struct ck_err **err)
{
	_cleanup_close_ int dirfd = -1, fd = -1;
	struct sockaddr_un sa;

	if (sock_addr(dir, &dirfd, &sa, err) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ck_err_set(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return ck_err_set(err, errno, "connect %s/" GLUE_AGENT_SOCK, dir);
	return steal_fd(&fd);
}

/* see sock.h */
int glue_agent_sock_accept(int lfd, uid_t own_uid, struct ck_err **err)
{
	_cleanup_close_ int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (fd < 0)
		return ck_err_set(err, errno, "accept");
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return ck_err_set(err, errno, "SO_PEERCRED");
	if (cr.uid != 0 && cr.uid != own_uid) {
		struct oci_agent_reply rep = { .ok = false };
		_cleanup_free_ char *out = NULL;
		size_t olen;

		ck_err_set(err, EPERM, "peer pid %d uid %u refused (not root, not uid %u)",
			   (int)cr.pid, (unsigned)cr.uid, (unsigned)own_uid);
		/*
		 * The peer learns why.  Its request is read (and dropped) first:
		 * closing with unread data resets the connection, and the peer
		 * would see ECONNRESET instead of the reply.
		 */
		{
			_cleanup_free_ char *in = NULL;
			_cleanup_err_ struct ck_err *e2 = NULL;
			size_t ilen;

			glue_agent_sock_recv(fd, 1000, &in, &ilen, &e2);
		}
		rep.error = (*err)->msg;
		out = oci_agent_reply_encode(&rep, &olen);
		if (send(fd, out, olen, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			pr_debug("reply to a refused peer: %m");
		return -1;
	}
	return steal_fd(&fd);
}

/* see sock.h */
int glue_agent_sock_send(int fd, const char *buf, size_t len, struct ck_err **err)
{
	ssize_t r;

	if (len > OCI_AGENT_MSG_MAX)
		return ck_err_set(err, EMSGSIZE, "message of %zu bytes (at most %d)", len,
				  OCI_AGENT_MSG_MAX);
	do
		r = send(fd, buf, len, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return ck_err_set(err, errno, "send");
	return 0;
}

/* see sock.h */
int glue_agent_sock_recv(int fd, int timeout_ms, char **buf, size_t *len, struct ck_err **err)
{
	_cleanup_free_ char *b = xmalloc(OCI_AGENT_MSG_MAX + 2);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t r;

	for (;;) {
		int n = poll(&p, 1, timeout_ms > 0 ? timeout_ms : -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ck_err_set(err, errno, "poll");
		if (n == 0)
			return ck_err_set(err, ETIMEDOUT, "no answer within %d ms", timeout_ms);
		break;
	}
	do
		r = recv(fd, b, OCI_AGENT_MSG_MAX + 1, MSG_TRUNC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return ck_err_set(err, errno, "recv");
	if (r == 0)
		return ck_err_set(err, ECONNRESET, "the peer closed the connection");
	if (r > OCI_AGENT_MSG_MAX)
		return ck_err_set(err, EMSGSIZE, "message of %zd bytes (at most %d)", r,
				  OCI_AGENT_MSG_MAX);
	b[r] = '\0';
	*len = (size_t)r;
	*buf = steal_ptr(&b);
	return 0;
}
