// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/linux-compat.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/proc/proc.h"
#include "runtime-glue/track/uffd-holder.h"

/* The holder's reply to 'G': this header, with the uffd attached. */
struct holder_reply {
	uint32_t magic;
	uint32_t pid;
	uint64_t token;
};

#define HOLDER_MAGIC 0x646c6f48u /* "Hold" */

static int holder_addr(pid_t target, struct sockaddr_un *sa, socklen_t *len, struct ck_err **err)
{
	uint64_t st;
	int n;

	if (glue_proc_starttime(target, &st, err))
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* Abstract name: sun_path[0] = '\0'. */
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "ckpt-uffd-%d-%llu", (int)target,
		     (unsigned long long)st);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	return 0;
}

static bool peer_allowed(int fd)
{
	struct ucred cr;
	socklen_t l = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l))
		return false;
	return cr.uid == 0 || cr.uid == getuid();
}

static void serve(int conn, int uffd, uint64_t token, bool *quit)
{
	struct holder_reply rep = { HOLDER_MAGIC, (uint32_t)getpid(), token };
	char cmsgbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &rep, sizeof(rep) };
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	char cmd;

	if (!peer_allowed(conn) || read(conn, &cmd, 1) != 1)
		return;
	if (cmd == 'Q') {
		*quit = true;
		rep.token = 0;
		if (write(conn, &rep, sizeof(rep)) < 0)
			return;
		return;
	}
	if (cmd != 'G')
		return;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsgbuf;
	mh.msg_controllen = sizeof(cmsgbuf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &uffd, sizeof(int));
	if (sendmsg(conn, &mh, MSG_NOSIGNAL) < 0)
		return;
}

/*
 * The holder's main loop; never returns.  It exits when told to, when the
 * target exits, or when its listening socket fails.
 */
__attribute__((noreturn)) static void holder_main(int lsock, int pidfd, int uffd, uint64_t token)
{
	struct pollfd pfd[2] = { { lsock, POLLIN, 0 }, { pidfd, POLLIN, 0 } };
	bool quit = false;

	while (!quit) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (pfd[1].revents)
			_exit(0); /* the target exited */
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			_exit(1);
		if (pfd[0].revents & POLLIN) {
			int conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);

			if (conn >= 0) {
				serve(conn, uffd, token, &quit);
				close(conn);
			}
		}
	}
	_exit(0);
}

/* The grandchild: report bind errors through @syncfd as an errno value. */
__attribute__((noreturn)) static void holder_start(pid_t target, int uffd, uint64_t token,
						   const struct sockaddr_un *sa, socklen_t salen,
						   int syncfd)
{
	int lsock, pidfd, e = 0;
	pid_t me = getpid();

	prctl(PR_SET_NAME, "ckpt-uffd");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	if (chdir("/"))
		e = errno;
	pidfd = (int)syscall(__NR_pidfd_open, target, 0);
	if (pidfd < 0)
		e = errno;
	lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!e && lsock < 0)
		e = errno;
	if (!e && bind(lsock, (const struct sockaddr *)sa, salen))
		e = errno;
	if (!e && listen(lsock, 8))
		e = errno;
	if (write(syncfd, &e, sizeof(e)) != sizeof(e) || e)
		_exit(1);
	if (write(syncfd, &me, sizeof(me)) != sizeof(me))
		_exit(1);
	close(syncfd);
	/* Keep nothing of ckpt's: only the socket, the pidfd and the uffd. */
	for (int fd = 0; fd < 1024; fd++)
		if (fd != lsock && fd != pidfd && fd != uffd)
			close(fd);
	open("/dev/null", O_RDWR); /* stdin/out/err on /dev/null (fds 0..2 are free) */
	open("/dev/null", O_RDWR);
	open("/dev/null", O_RDWR);
	holder_main(lsock, pidfd, uffd, token);
}

/* see uffd-holder.h */
int glue_uffd_holder_spawn(pid_t target, int uffd, uint64_t token, pid_t *holder_pid,
			   struct ck_err **err)
{
	struct sockaddr_un sa;
	socklen_t salen;
	int sync[2], e = 0, status;
	pid_t child, gc = 0;
	ssize_t n;

	if (holder_addr(target, &sa, &salen, err))
		return -1;
	if (pipe2(sync, O_CLOEXEC))
		return ck_err_set(err, errno, "pipe");
	child = fork();
	if (child < 0) {
		close(sync[0]);
		close(sync[1]);
		return ck_err_set(err, errno, "fork the uffd holder");
	}
	if (child == 0) {
		/* Double fork: the holder is reparented and not our zombie to reap. */
		close(sync[0]);
		if (setsid() < 0)
			_exit(1);
		if (fork() == 0)
			holder_start(target, uffd, token, &sa, salen, sync[1]);
		_exit(0);
	}
	close(sync[1]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	n = read(sync[0], &e, sizeof(e));
	if (n == sizeof(e) && !e)
		n = read(sync[0], &gc, sizeof(gc));
	close(sync[0]);
	if (n != sizeof(int))
		return ck_err_set(err, EIO, "the uffd holder died while starting");
	if (e == EADDRINUSE)
		return ck_err_set(err, EEXIST, "a uffd holder for pid %d is already running",
				  (int)target);
	if (e)
		return ck_err_set(err, e, "start the uffd holder for pid %d", (int)target);
	if (holder_pid)
		*holder_pid = gc;
	pr_info("uffd holder %d keeps the tracker of pid %d", (int)gc, (int)target);
	return 0;
}

static int holder_connect(pid_t target, int *out, bool *found, struct ck_err **err)
{
	struct sockaddr_un sa;
	socklen_t salen;
	_cleanup_close_ int s = -1;

	*found = false;
	if (holder_addr(target, &sa, &salen, err))
		return -1;
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return ck_err_set(err, errno, "socket");
	if (connect(s, (struct sockaddr *)&sa, salen)) {
		if (errno == ECONNREFUSED || errno == ENOENT)
			return 0;
		return ck_err_set(err, errno, "connect to the uffd holder of pid %d", (int)target);
	}
	*found = true;
	*out = steal_fd(&s);
	return 0;
}

/* see uffd-holder.h */
int glue_uffd_holder_fetch(pid_t target, int *uffd, uint64_t *token, bool *found,
			   struct ck_err **err)
{
	char cmsgbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct holder_reply rep = { 0 };
	struct iovec iov = { &rep, sizeof(rep) };
	struct msghdr mh = { 0 };
	_cleanup_close_ int s = -1;
	struct cmsghdr *cm;
	ssize_t n;

	if (holder_connect(target, &s, found, err) || !*found)
		return *found ? -1 : 0;
	if (write(s, "G", 1) != 1)
		return ck_err_set(err, errno, "ask the uffd holder of pid %d", (int)target);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsgbuf;
	mh.msg_controllen = sizeof(cmsgbuf);
	n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0 && errno == ECONNRESET) {
		/* The holder was exiting (stopped, or its target died): none. */
		*found = false;
		return 0;
	}
	if (n < 0)
		return ck_err_set(err, errno, "receive from the uffd holder of pid %d",
				  (int)target);
	cm = CMSG_FIRSTHDR(&mh);
	if (n != sizeof(rep) || rep.magic != HOLDER_MAGIC || !cm || cm->cmsg_type != SCM_RIGHTS) {
		/* A holder that refused us (other uid) or an impostor: no tracker. */
		*found = false;
		return 0;
	}
	memcpy(uffd, CMSG_DATA(cm), sizeof(int));
	*token = rep.token;
	return 0;
}

/* see uffd-holder.h */
int glue_uffd_holder_stop(pid_t target, struct ck_err **err)
{
	struct holder_reply rep;
	_cleanup_close_ int s = -1;
	bool found;

	if (holder_connect(target, &s, &found, err))
		return -1;
	if (!found)
		return 0;
	if (write(s, "Q", 1) != 1)
		return ck_err_set(err, errno, "stop the uffd holder of pid %d", (int)target);
	/* Wait for the reply so the holder has acted before we return. */
	if (read(s, &rep, sizeof(rep)) < 0)
		return ck_err_set(err, errno, "stop the uffd holder of pid %d", (int)target);
	return 0;
}
