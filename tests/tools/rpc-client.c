// SPDX-License-Identifier: MIT
/*
 * A libcriu-style client of `criu swrk FD` for the tests: it encodes the
 * requests by hand, the way libcriu (crun) puts them on the wire, starts the
 * server the way libcriu does (socketpair SEQPACKET, fork, exec
 * `CRIU swrk FD` with FD whatever socketpair returned), and prints what came
 * back as key=value lines.  Deliberately independent of ckpt's code.
 *
 *   rpc-client CRIU version
 *   rpc-client CRIU features   -D DIR [-W WORKDIR]
 *   rpc-client CRIU pre-dump   -t PID -D DIR [-W WORKDIR] [-P PARENT] [--type N]
 *   rpc-client CRIU dump       -t PID -D DIR [-W WORKDIR] [-P PARENT]  (track_mem with -P)
 *   rpc-client CRIU raw HEX            send these bytes
 *   rpc-client CRIU garbage N          send N bytes of 0xff
 *   rpc-client CRIU pre-dump ... --exit-after-send   exit right after sending
 *   rpc-client CRIU version --second   send a second request after the answer
 *
 * Output: "resp type=T success=S [errno=E] [errmsg=...] [major=..] [minor=..]
 * [mem_track=..] [lazy_pages=..] [pidfd_store=..]" per response, "eof" when the
 * server closed without answering, then "server exit=N" or "server signal=N".
 * Every wait is bounded (30 s): "timeout" and exit 3 on a hang.
 * With RPC_CLIENT_PIDFILE=FILE the server's pid is written to FILE as soon as
 * it is forked (for tests that kill the server mid-request).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 30000

struct buf {
	uint8_t b[200 * 1024];
	size_t n;
};

static void put_varint(struct buf *b, uint64_t v)
{
	do {
		uint8_t c = v & 0x7f;

		v >>= 7;
		b->b[b->n++] = c | (v ? 0x80 : 0);
	} while (v);
}

static void put_int(struct buf *b, int field, int64_t v)
{
	put_varint(b, (uint64_t)field << 3);
	put_varint(b, (uint64_t)v); /* negative int32: 10-byte varint, as protobuf does */
}

static void put_bytes(struct buf *b, int field, const void *p, size_t n)
{
	put_varint(b, (uint64_t)field << 3 | 2);
	put_varint(b, n);
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void put_str(struct buf *b, int field, const char *s)
{
	put_bytes(b, field, s, strlen(s));
}

static uint64_t get_varint(const uint8_t *p, size_t n, size_t *i)
{
	uint64_t v = 0;

	for (int shift = 0; *i < n && shift < 64; shift += 7) {
		uint8_t c = p[(*i)++];

		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			break;
	}
	return v;
}

/* Print the fields of a message; nested ones (version, features) one level deep. */
static void print_msg(const uint8_t *p, size_t n, int depth_field)
{
	size_t i = 0;

	while (i < n) {
		uint64_t key = get_varint(p, n, &i), v = 0, len;
		int f = (int)(key >> 3), wt = (int)(key & 7);

		if (wt == 0) {
			v = get_varint(p, n, &i);
		} else if (wt == 2) {
			len = get_varint(p, n, &i);
			if (len > n - i) {
				printf(" truncated");
				return;
			}
			if (!depth_field && f == 9)
				printf(" errmsg=%.*s", (int)len, (const char *)p + i);
			else if (!depth_field && (f == 10 || f == 8 || f == 3 || f == 4))
				print_msg(p + i, len, f);
			i += len;
			continue;
		} else {
			printf(" badwire=%d", wt);
			return;
		}
		if (!depth_field) {
			const char *names[] = {
				"?", "type", "success", "?", "?", "?", "?", "errno"
			};

			if (f >= 1 && f <= 7 && f != 3 && f != 4)
				printf(" %s=%lld", names[f], (long long)(int32_t)v);
		} else if (depth_field == 10) {
			printf(" %s=%lld",
			       f == 1   ? "major"
			       : f == 2 ? "minor"
					: "vfield",
			       (long long)v);
		} else if (depth_field == 8) {
			printf(" %s=%lld",
			       f == 1   ? "mem_track"
			       : f == 2 ? "lazy_pages"
			       : f == 3 ? "pidfd_store"
					: "ffield",
			       (long long)v);
		} else if (depth_field == 3) {
			printf(" restored=%lld", (long long)v);
		} else if (depth_field == 4) {
			printf(" restore_pid=%lld", (long long)v);
		}
	}
}

static int wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r = poll(&p, 1, TIMEOUT_MS);

	if (r == 0) {
		printf("timeout\n");
		fflush(stdout);
		exit(3);
	}
	return r;
}

/* Read one response; 0 at EOF. */
static int read_resp(int sk)
{
	static uint8_t rb[65536];
	ssize_t n;

	wait_readable(sk);
	n = recv(sk, rb, sizeof(rb), 0);
	if (n < 0) {
		printf("recv error=%s\n", strerror(errno));
		return 0;
	}
	if (n == 0) {
		printf("eof\n");
		return 0;
	}
	printf("resp bytes=%zd", n);
	print_msg(rb, (size_t)n, 0);
	printf("\n");
	fflush(stdout);
	return 1;
}

static void reap(pid_t pid)
{
	int st;

	for (int i = 0; i < TIMEOUT_MS / 10; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid) {
			if (WIFEXITED(st))
				printf("server exit=%d\n", WEXITSTATUS(st));
			else
				printf("server signal=%d\n", WTERMSIG(st));
			return;
		}
		usleep(10000);
	}
	printf("timeout waiting for the server\n");
	kill(pid, SIGKILL);
	exit(3);
}

static int open_dir(const char *p)
{
	int fd = open(p, O_RDONLY | O_DIRECTORY); /* no CLOEXEC, as crun does */

	if (fd < 0) {
		perror(p);
		exit(2);
	}
	return fd;
}

int main(int argc, char **argv)
{
	static struct buf req, opts, sub;
	const char *criu, *cmd, *dir = NULL, *work = NULL, *parent = NULL;
	bool exit_after = false, second = false;
	int type = 13, pid = 0, sv[2];
	pid_t srv;

	if (argc < 3) {
		fprintf(stderr, "usage: rpc-client CRIU CMD [ARGS]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	criu = argv[1];
	cmd = argv[2];
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "-t") && i + 1 < argc)
			pid = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-D") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "-W") && i + 1 < argc)
			work = argv[++i];
		else if (!strcmp(argv[i], "-P") && i + 1 < argc)
			parent = argv[++i];
		else if (!strcmp(argv[i], "--type") && i + 1 < argc)
			type = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--exit-after-send"))
			exit_after = true;
		else if (!strcmp(argv[i], "--second"))
			second = true;
		else if (!strcmp(cmd, "raw") || !strcmp(cmd, "garbage"))
			continue;
		else {
			fprintf(stderr, "rpc-client: bad argument %s\n", argv[i]);
			return 2;
		}
	}

	if (!strcmp(cmd, "version")) {
		/* libcriu 3.17: {type:VERSION, opts{images_dir_fd:0}} */
		put_int(&req, 1, 10);
		put_int(&opts, 1, 0);
		put_bytes(&req, 2, opts.b, opts.n);
	} else if (!strcmp(cmd, "features") || !strcmp(cmd, "pre-dump") || !strcmp(cmd, "dump")) {
		if (!dir) {
			fprintf(stderr, "rpc-client: -D DIR needed\n");
			return 2;
		}
		put_int(&opts, 1, open_dir(dir));
		if (pid)
			put_int(&opts, 2, pid);
		put_int(&opts, 9, 4);
		put_str(&opts, 10, "dump.log");
		if (parent)
			put_str(&opts, 14, parent);
		if (!strcmp(cmd, "pre-dump") || (!strcmp(cmd, "dump") && parent))
			put_int(&opts, 15, 1); /* track_mem */
		if (work)
			put_int(&opts, 17, open_dir(work));
		put_int(&req, 1, !strcmp(cmd, "features") ? 9 : !strcmp(cmd, "dump") ? 1 : type);
		put_bytes(&req, 2, opts.b, opts.n);
		if (!strcmp(cmd, "features")) {
			put_int(&sub, 1, 1);
			put_bytes(&req, 5, sub.b, sub.n);
		}
	} else if (!strcmp(cmd, "raw") && argc > 3) {
		const char *h = argv[3];

		for (size_t i = 0; h[i] && h[i + 1]; i += 2) {
			unsigned v;

			sscanf(h + i, "%2x", &v);
			req.b[req.n++] = (uint8_t)v;
		}
	} else if (!strcmp(cmd, "garbage") && argc > 3) {
		req.n = (size_t)atol(argv[3]);
		if (req.n > sizeof(req.b))
			req.n = sizeof(req.b);
		memset(req.b, 0xff, req.n);
	} else {
		fprintf(stderr, "rpc-client: unknown command %s\n", cmd);
		return 2;
	}

	if (socketpair(AF_LOCAL, SOCK_SEQPACKET, 0, sv) < 0) {
		perror("socketpair");
		return 2;
	}
	if (req.n > 100000) {
		int sz = (int)req.n + 4096;

		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	srv = fork();
	if (srv == 0) {
		char fd[16];

		close(sv[0]);
		snprintf(fd, sizeof(fd), "%d", sv[1]);
		execlp(criu, criu, "swrk", fd, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	if (getenv("RPC_CLIENT_PIDFILE")) {
		FILE *pf = fopen(getenv("RPC_CLIENT_PIDFILE"), "we");

		if (pf) {
			fprintf(pf, "%d\n", (int)srv);
			fclose(pf);
		}
	}
	if (send(sv[0], req.b, req.n, 0) != (ssize_t)req.n) {
		printf("send error=%s\n", strerror(errno));
		reap(srv);
		return 1;
	}
	if (exit_after) {
		/* the peer goes away mid-request: the server must cope */
		printf("sent %zu bytes, exiting; server pid=%d\n", req.n, (int)srv);
		fflush(stdout);
		_exit(0);
	}
	if (read_resp(sv[0]) && second) {
		if (send(sv[0], req.b, req.n, 0) < 0)
			printf("second send error=%s\n", strerror(errno));
		else
			read_resp(sv[0]);
	}
	shutdown(sv[0], SHUT_WR);
	reap(srv);
	return 0;
}
