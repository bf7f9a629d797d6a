// SPDX-License-Identifier: MIT
/*
 * A console-socket receiver for terminal containers (runc's --console-socket;
 * runc's own recvtty is not packaged here).  Usage:
 *
 *   console-recv SOCK OUT [IN]
 *
 * Listens on the unix socket SOCK.  Every connection (runc run, then runc
 * restore, which forwards the master CRIU sends with NOTIFY orphan-pts-master)
 * brings one pty master as SCM_RIGHTS; the newest master is the live one.
 * Everything read from a master is appended to the file OUT.  When the fifo IN
 * is given, what is written into it goes to the live master (input for the
 * container).  Prints "READY" once listening, "MASTER n" for each master
 * received.  Runs until killed; a master that hangs up is closed and waited
 * for no longer.
 *
 *   runc ──connect──► SOCK ──SCM_RIGHTS(master)──► console-recv ──► OUT
 *                                                      ▲
 *                                              IN fifo ┘ (to the master)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The fd carried by one message of @c, or -1. */
static int recv_master(int c)
{
	char data[256], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd = -1;

	if (recvmsg(c, &mh, MSG_CMSG_CLOEXEC) <= 0)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

/* Copy what @from holds into @to; -1 when @from is at its end (hung up). */
static int relay(int from, int to)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return n < 0 && errno == EAGAIN ? 0 : -1;
	return write(to, buf, (size_t)n) == n ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ls, out, in = -1, master = -1, n_masters = 0;

	if (argc < 3 || argc > 4 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: console-recv SOCK OUT [IN-FIFO]\n");
		return 2;
	}
	out = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (out < 0) {
		perror(argv[2]);
		return 1;
	}
	/* O_RDWR: the fifo never reports a hang-up when a writer goes away */
	if (argc == 4 && (in = open(argv[3], O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0) {
		perror(argv[3]);
		return 1;
	}
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 4) < 0) {
		perror(argv[1]);
		return 1;
	}
	printf("READY\n");
	fflush(stdout);
	for (;;) {
		struct pollfd p[3] = { { .fd = ls, .events = POLLIN },
				       { .fd = master, .events = POLLIN },
				       { .fd = master >= 0 ? in : -1, .events = POLLIN } };

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			return 1;
		}
		if (p[0].revents & POLLIN) {
			int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC), fd;

			if (c < 0)
				continue;
			fd = recv_master(c);
			close(c);
			if (fd >= 0) {
				if (master >= 0)
					close(master);
				master = fd;
				fcntl(master, F_SETFL, O_NONBLOCK);
				printf("MASTER %d\n", ++n_masters);
				fflush(stdout);
			}
			continue;
		}
		if (p[1].revents && relay(master, out) < 0) {
			close(master);
			master = -1;
		}
		if (p[2].revents & POLLIN && master >= 0)
			relay(in, master);
	}
}
