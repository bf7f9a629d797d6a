// SPDX-License-Identifier: MIT
/*
 * A console-socket receiver for terminal containers (runc's --console-socket;
 * runc's own recvtty is not packaged here).  Usage:
 *
 *   console-recv SOCK OUT [IN]
 *
 * Listens on the unix socket SOCK.  Every connection (runc run, then runc
 * restore, which forwards the master CRIU sends with NOTIFY orphan-pts-master)
 * brings one pty master as SCM_RIGHTS.  What master n (1, 2, ...) outputs is
 * appended to the file OUT.n; a master is read until its slave side is gone
 * (EIO), so nothing written before a dump's kill is lost.  When the fifo IN is
 * given, what is written into it goes to the newest master (input for the
 * container).  Prints "READY" once listening, "MASTER n" for each master.
 * Runs until killed.
 *
 *   runc ──connect──► SOCK ──SCM_RIGHTS(master n)──► console-recv ──► OUT.n
 *                                                        ▲
 *                                        IN fifo ────────┘ (to the newest master)
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

#define MAX_MASTERS 8

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
	/* p[0]: the socket, p[1]: IN, p[2 + i]: master i + 1 */
	struct pollfd p[2 + MAX_MASTERS];
	int out[MAX_MASTERS], ls, in = -1, n = 0;

	if (argc < 3 || argc > 4 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: console-recv SOCK OUT [IN-FIFO]\n");
		return 2;
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
	p[0] = (struct pollfd){ .fd = ls, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = -1, .events = POLLIN };
	printf("READY\n");
	fflush(stdout);
	for (;;) {
		if (poll(p, (nfds_t)(2 + n), -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			return 1;
		}
		if (p[0].revents & POLLIN) {
			int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC), fd;
			char name[4096];

			fd = c < 0 ? -1 : recv_master(c);
			if (c >= 0)
				close(c);
			if (fd < 0 || n == MAX_MASTERS)
				continue;
			snprintf(name, sizeof(name), "%s.%d", argv[2], n + 1);
			out[n] = open(name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
			if (out[n] < 0) {
				perror(name);
				return 1;
			}
			fcntl(fd, F_SETFL, O_NONBLOCK);
			p[2 + n] = (struct pollfd){ .fd = fd, .events = POLLIN };
			p[1].fd = in;
			printf("MASTER %d\n", ++n);
			fflush(stdout);
		}
		for (int i = 0; i < n; i++)
			if (p[2 + i].fd >= 0 && p[2 + i].revents &&
			    relay(p[2 + i].fd, out[i]) < 0) {
				close(p[2 + i].fd);
				p[2 + i].fd = -1; /* poll skips it */
				if (i == n - 1)
					p[1].fd = -1; /* no master for the input */
			}
		if (p[1].fd >= 0 && (p[1].revents & POLLIN) && p[1 + n].fd >= 0)
			relay(in, p[1 + n].fd);
	}
}
