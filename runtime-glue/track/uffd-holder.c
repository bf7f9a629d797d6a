// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/linux-compat.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/proc/proc.h"
#include "runtime-glue/track/uffd-holder.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif

/* The holder's reply to 'G' (with the uffd attached) and to 'Q'. */
struct holder_reply {
	uint32_t magic;
	uint32_t pid;
	uint64_t token;
};

#define HOLDER_MAGIC 0x646c6f48u /* "Hold" */

/*
 * Open @name under @parent as a directory (mkdir 0700 first when @create) and
 * check it: owned by @uid, not writable by group/others (@strict: no access
 * for them at all).  O_NOFOLLOW: a symlink planted there is refused.
 */
static int open_dir_checked(int parent, const char *name, const char *path, bool create, uid_t uid,
			    bool strict, struct ck_err **err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (create && mkdirat(parent, name, 0700) < 0 && errno != EEXIST)
		return ck_err_set(err, errno, "mkdir %s", path);
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		return ck_err_set(err, EPERM, "%s is not a directory (a symlink?): not used", path);
	if (fd < 0)
		return ck_err_set(err, errno, "open %s", path);
	if (fstat(fd, &st) < 0)
		return ck_err_set(err, errno, "stat %s", path);
	if (st.st_uid != uid)
		return ck_err_set(err, EPERM, "%s is owned by uid %u, not %u: not used", path,
				  (unsigned)st.st_uid, (unsigned)uid);
	if (st.st_mode & (strict ? 077 : 022))
		return ck_err_set(err, EPERM,
				  "%s has mode %04o (open to group or others): not used", path,
				  (unsigned)(st.st_mode & 07777));
	return steal_fd(&fd);
}

/* A per-user runtime directory: absolute, ours, mode 0700. */
static int user_base(const char *dir, uid_t uid)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (!dir || dir[0] != '/')
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_uid != uid || (st.st_mode & 077))
		return -1;
	return steal_fd(&fd);
}

/* see uffd-holder.h */
int glue_uffd_holder_dir(bool create, char *path, size_t len, struct ck_err **err)
{
	uid_t uid = geteuid();
	_cleanup_close_ int base = -1, mid = -1;
	char run_user[64], sub[64];
	const char *bdir;

	if (uid == 0) {
		base = open("/run", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (base < 0)
			return ck_err_set(err, errno, "open /run");
		mid = open_dir_checked(base, "ckpt", "/run/ckpt", create, 0, false, err);
		if (mid < 0)
			return -1;
		snprintf(path, len, "/run/ckpt/uffd");
		return open_dir_checked(mid, "uffd", path, create, 0, true, err);
	}
	snprintf(run_user, sizeof(run_user), "/run/user/%u", (unsigned)uid);
	bdir = getenv("XDG_RUNTIME_DIR");
	base = user_base(bdir, uid);
	if (base < 0) {
		bdir = run_user;
		base = user_base(bdir, uid);
	}
	if (base >= 0) {
		snprintf(sub, sizeof(sub), "ckpt-uffd");
	} else {
		/* /tmp is sticky: a directory of ours there cannot be swapped. */
		bdir = "/tmp";
		base = open(bdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (base < 0)
			return ck_err_set(err, errno, "open /tmp");
		snprintf(sub, sizeof(sub), "ckpt-uffd-%u", (unsigned)uid);
	}
	if ((size_t)snprintf(path, len, "%s/%s", bdir, sub) >= len)
		return ck_err_set(err, ENAMETOOLONG, "uffd holder directory %s/%s", bdir, sub);
	return open_dir_checked(base, sub, path, create, uid, true, err);
}

/* "<pid>-<starttime>.sock" */
static int sock_name(pid_t target, char *name, size_t len, struct ck_err **err)
{
	uint64_t st;

	if (glue_proc_starttime(target, &st, err))
		return -1;
	snprintf(name, len, "%d-%llu.sock", (int)target, (unsigned long long)st);
	return 0;
}

static int sock_addr(const char *dir, const char *name, struct sockaddr_un *sa, socklen_t *salen,
		     struct ck_err **err)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path))
		return ck_err_set(err, ENAMETOOLONG, "socket path %s/%s is too long", dir, name);
	*salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
	return 0;
}

static void set_timeouts(int fd, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static bool peer_allowed(int fd)
{
	struct ucred cr;
	socklen_t l = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l))
		return false;
	return cr.uid == 0 || cr.uid == geteuid();
}

/*
 * The holder's side of one connection; *quit after 'Q' (socket already
 * unlinked).  'T' + 8 bytes replaces the token (see glue_uffd_holder_retoken).
 */
static void serve(int conn, int uffd, uint64_t *token, int dfd, const char *name, bool *quit)
{
	struct holder_reply rep = { HOLDER_MAGIC, (uint32_t)getpid(), *token };
	char cmsgbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &rep, sizeof(rep) };
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	char cmd;

	/* A client that connects and stays silent must not block the holder. */
	set_timeouts(conn, GLUE_UFFD_HOLDER_TIMEOUT_MS);
	if (!peer_allowed(conn) || read(conn, &cmd, 1) != 1)
		return;
	if (cmd == 'Q') {
		/* Unlink first: once the client has the reply, the name is free. */
		unlinkat(dfd, name, 0);
		*quit = true;
		rep.token = 0;
		if (write(conn, &rep, sizeof(rep)) < 0)
			return;
		return;
	}
	if (cmd == 'T') {
		uint64_t t;

		if (read(conn, &t, sizeof(t)) != sizeof(t))
			return;
		*token = rep.token = t;
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
__attribute__((noreturn)) static void holder_main(int lsock, int pidfd, int uffd, uint64_t token,
						  int dfd, const char *name)
{
	struct pollfd pfd[2] = { { lsock, POLLIN, 0 }, { pidfd, POLLIN, 0 } };
	bool quit = false;

	while (!quit) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break; /* the target exited */
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			break;
		if (pfd[0].revents & POLLIN) {
			int conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);

			if (conn >= 0) {
				serve(conn, uffd, &token, dfd, name, &quit);
				close(conn);
			}
		}
	}
	if (!quit)
		unlinkat(dfd, name, 0);
	_exit(0);
}

/* Close every descriptor but the @n in @keep. */
static void close_all_but(int *keep, size_t n)
{
	unsigned lo = 0;

	for (size_t i = 1; i < n; i++) /* insertion sort: n is tiny */
		for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int x = keep[j];

			keep[j] = keep[j - 1];
			keep[j - 1] = x;
		}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)keep[i] > lo)
			close_range(lo, (unsigned)keep[i] - 1, 0);
		lo = (unsigned)keep[i] + 1;
	}
	close_range(lo, ~0U, 0);
}

/* The grandchild: listen on @lsock (bound by ckpt); report an errno value through @syncfd. */
__attribute__((noreturn)) static void holder_start(pid_t target, int uffd, uint64_t token,
						   int lsock, int dfd, const char *name, int syncfd)
{
	int keep[] = { uffd, lsock, dfd, syncfd };
	int pidfd = -1, e = 0;
	pid_t me = getpid();

	prctl(PR_SET_NAME, "ckpt-uffd");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	if (chdir("/"))
		e = errno;
	/* Keep nothing of ckpt's (its lock on the directory included). */
	close_all_but(keep, ARRAY_SIZE(keep));
	for (int i = 0; i < 3; i++)
		if (fcntl(i, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0)
			e = errno;
	pidfd = (int)syscall(__NR_pidfd_open, target, 0);
	if (!e && pidfd < 0)
		e = errno;
	if (!e && listen(lsock, 8))
		e = errno;
	if (write(syncfd, &e, sizeof(e)) != sizeof(e) || e)
		_exit(1);
	if (write(syncfd, &me, sizeof(me)) != sizeof(me))
		_exit(1);
	close(syncfd);
	holder_main(lsock, pidfd, uffd, token, dfd, name);
}

/* 1 when a listener answers the connect at @dir/@name, 0 when none; -1 unknown. */
static int listener_at(const char *dir, const char *name)
{
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	_cleanup_err_ struct ck_err *e2 = NULL;
	struct sockaddr_un sa;
	socklen_t salen;

	if (s < 0 || sock_addr(dir, name, &sa, &salen, &e2) < 0)
		return -1;
	if (!connect(s, (struct sockaddr *)&sa, salen))
		return 1;
	return errno == ECONNREFUSED || errno == ENOENT ? 0 : -1;
}

/*
 * Remove sockets nobody listens on any more (a holder that was killed) whose
 * target is gone, and a dead one for @mine (replaced now).  Under the lock.
 */
static void prune_stale(int dfd, const char *dir, const char *mine)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		unsigned long long want;
		uint64_t st;
		int pid, used = 0;
		_cleanup_err_ struct ck_err *e2 = NULL;

		if (sscanf(de->d_name, "%d-%llu.sock%n", &pid, &want, &used) != 2 ||
		    de->d_name[used] != '\0')
			continue;
		if (strcmp(de->d_name, mine) && !glue_proc_starttime(pid, &st, &e2) && st == want)
			continue; /* the target lives: its holder is its own business */
		if (listener_at(dir, de->d_name) == 0) {
			pr_debug("uffd holder: removing the stale socket %s/%s", dir, de->d_name);
			unlinkat(dfd, de->d_name, 0);
		}
	}
	closedir(d);
}

static int lock_dir(int lockfd, const char *dir, struct ck_err **err)
{
	for (int i = 0; i < GLUE_UFFD_HOLDER_TIMEOUT_MS / 10; i++) {
		if (!flock(lockfd, LOCK_EX | LOCK_NB))
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return ck_err_set(err, errno, "lock %s/.lock", dir);
		usleep(10000);
	}
	return ck_err_set(err, ETIMEDOUT, "%s/.lock is held by another process", dir);
}

/* see uffd-holder.h */
int glue_uffd_holder_spawn(pid_t target, int uffd, uint64_t token, pid_t *holder_pid,
			   struct ck_err **err)
{
	_cleanup_close_ int dfd = -1, lockfd = -1, ls = -1;
	char dir[PATH_MAX], name[64];
	struct sockaddr_un sa;
	struct pollfd pfd;
	socklen_t salen;
	int sync[2], e = 0, status;
	pid_t child, gc = 0;
	ssize_t n = 0;

	dfd = glue_uffd_holder_dir(true, dir, sizeof(dir), err);
	if (dfd < 0)
		return ck_err_wrap(err, "uffd holder directory");
	if (sock_name(target, name, sizeof(name), err) < 0 ||
	    sock_addr(dir, name, &sa, &salen, err) < 0)
		return -1;
	lockfd = openat(dfd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lockfd < 0)
		return ck_err_set(err, errno, "open %s/.lock", dir);
	if (lock_dir(lockfd, dir, err) < 0)
		return -1;
	prune_stale(dfd, dir, name);
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0)
		return ck_err_set(err, errno, "socket");
	if (bind(ls, (const struct sockaddr *)&sa, salen)) {
		if (errno == EADDRINUSE)
			return ck_err_set(err, EEXIST,
					  "a uffd holder for pid %d is already running",
					  (int)target);
		return ck_err_set(err, errno, "bind %s", sa.sun_path);
	}
	if (pipe2(sync, O_CLOEXEC)) {
		e = errno;
		goto unlink_sock;
	}
	child = fork();
	if (child < 0) {
		e = errno;
		close(sync[0]);
		close(sync[1]);
		goto unlink_sock;
	}
	if (child == 0) {
		/* Double fork: the holder is reparented and not our zombie to reap. */
		close(sync[0]);
		if (setsid() < 0)
			_exit(1);
		if (fork() == 0)
			holder_start(target, uffd, token, ls, dfd, name, sync[1]);
		_exit(0);
	}
	close(sync[1]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	pfd = (struct pollfd){ sync[0], POLLIN, 0 };
	if (poll(&pfd, 1, GLUE_UFFD_HOLDER_TIMEOUT_MS) == 1) {
		n = read(sync[0], &e, sizeof(e));
		if (n == sizeof(e) && !e && read(sync[0], &gc, sizeof(gc)) != sizeof(gc))
			n = 0;
	}
	close(sync[0]);
	if (n != sizeof(int) || (!e && gc <= 0)) {
		unlinkat(dfd, name, 0);
		return ck_err_set(err, EIO, "the uffd holder did not start");
	}
	if (e)
		goto unlink_sock;
	if (holder_pid)
		*holder_pid = gc;
	pr_info("uffd holder %d keeps the tracker of pid %d (%s/%s)", (int)gc, (int)target, dir,
		name);
	return 0;

unlink_sock:
	unlinkat(dfd, name, 0);
	return ck_err_set(err, e, "start the uffd holder for pid %d", (int)target);
}

/* A connection to the holder of a target. */
struct holder_conn {
	int s, dfd;
	char dir[PATH_MAX], name[64];
	struct ucred cr;
	bool stopped; /* the holder is in a stop (signal, ptrace): it cannot answer */
};

/* Whether @pid is stopped (T) or traced (t) now: no need to wait for its answer. */
static bool is_stopped(pid_t pid)
{
	_cleanup_err_ struct ck_err *e2 = NULL;
	uint64_t f[GLUE_STAT_FIELDS];

	return glue_proc_stat(pid, f, &e2) >= 3 && (f[3] == 'T' || f[3] == 't');
}

static void holder_conn_close(struct holder_conn *c)
{
	closep(&c->s);
	closep(&c->dfd);
}

/* 1: connected to a holder of our uid; 0: there is none; -1 with *err. */
static int holder_connect(pid_t target, struct holder_conn *c, struct ck_err **err)
{
	_cleanup_err_ struct ck_err *e2 = NULL;
	struct sockaddr_un sa;
	socklen_t salen, l = sizeof(c->cr);

	c->s = -1;
	c->stopped = false;
	c->dfd = glue_uffd_holder_dir(false, c->dir, sizeof(c->dir), &e2);
	if (c->dfd < 0) {
		if (e2->errnum == ENOENT)
			return 0; /* no holder was ever started by this user */
		*err = steal_ptr(&e2);
		return ck_err_wrap(err, "uffd holder directory");
	}
	if (sock_name(target, c->name, sizeof(c->name), err) < 0 ||
	    sock_addr(c->dir, c->name, &sa, &salen, err) < 0)
		return -1;
	c->s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->s < 0)
		return ck_err_set(err, errno, "socket");
	if (connect(c->s, (struct sockaddr *)&sa, salen)) {
		if (errno == ECONNREFUSED || errno == ENOENT)
			return 0;
		if (errno == EAGAIN) {
			pr_warn("uffd holder of pid %d: %s does not accept connections: ignored",
				(int)target, sa.sun_path);
			return 0;
		}
		return ck_err_set(err, errno, "connect to %s", sa.sun_path);
	}
	if (getsockopt(c->s, SOL_SOCKET, SO_PEERCRED, &c->cr, &l))
		return ck_err_set(err, errno, "SO_PEERCRED of %s", sa.sun_path);
	if (c->cr.uid != geteuid()) {
		pr_warn("uffd holder of pid %d: %s is served by uid %u, not by ours (%u): ignored",
			(int)target, sa.sun_path, (unsigned)c->cr.uid, (unsigned)geteuid());
		return 0;
	}
	c->stopped = is_stopped(c->cr.pid);
	if (fcntl(c->s, F_SETFL, 0) < 0)
		return ck_err_set(err, errno, "fcntl");
	set_timeouts(c->s, GLUE_UFFD_HOLDER_TIMEOUT_MS);
	return 1;
}

/* see uffd-holder.h */
bool glue_uffd_holder_alive(pid_t target)
{
	_cleanup_err_ struct ck_err *e2 = NULL;
	struct holder_conn c;
	int rc = holder_connect(target, &c, &e2);

	holder_conn_close(&c);
	return rc == 1;
}

/* see uffd-holder.h */
int glue_uffd_holder_fetch(pid_t target, int *uffd, uint64_t *token, bool *found,
			   struct ck_err **err)
{
	char cmsgbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct holder_reply rep = { 0 };
	struct iovec iov = { &rep, sizeof(rep) };
	struct msghdr mh = { 0 };
	struct holder_conn c;
	struct cmsghdr *cm;
	ssize_t n = -1;
	int rc, en = 0;

	*found = false;
	rc = holder_connect(target, &c, err);
	if (rc <= 0) {
		holder_conn_close(&c);
		return rc;
	}
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsgbuf;
	mh.msg_controllen = sizeof(cmsgbuf);
	if (c.stopped) {
		pr_warn("uffd holder %d of pid %d is stopped: ignored", (int)c.cr.pid, (int)target);
		holder_conn_close(&c);
		return 0;
	}
	if (write(c.s, "G", 1) == 1)
		n = recvmsg(c.s, &mh, MSG_CMSG_CLOEXEC);
	en = errno;
	holder_conn_close(&c);
	if (n < 0 && (en == EAGAIN || en == EWOULDBLOCK)) {
		pr_warn("uffd holder %d of pid %d did not answer within %d ms (stopped or frozen?): ignored",
			(int)c.cr.pid, (int)target, GLUE_UFFD_HOLDER_TIMEOUT_MS);
		return 0;
	}
	/* The holder was exiting (stopped, or its target died): none. */
	if (n < 0 && (en == ECONNRESET || en == EPIPE))
		return 0;
	if (n < 0)
		return ck_err_set(err, en, "ask the uffd holder of pid %d", (int)target);
	cm = CMSG_FIRSTHDR(&mh);
	if (n != sizeof(rep) || rep.magic != HOLDER_MAGIC || !cm || cm->cmsg_type != SCM_RIGHTS)
		return 0; /* it refused us, or is no holder */
	memcpy(uffd, CMSG_DATA(cm), sizeof(int));
	*token = rep.token;
	*found = true;
	return 0;
}

/* see uffd-holder.h */
int glue_uffd_holder_retoken(pid_t target, uint64_t token, struct ck_err **err)
{
	struct holder_reply rep = { 0 };
	char req[1 + sizeof(token)] = { 'T' };
	struct holder_conn c;
	int rc;

	memcpy(req + 1, &token, sizeof(token));
	rc = holder_connect(target, &c, err);
	if (rc < 0) {
		holder_conn_close(&c);
		return -1;
	}
	if (rc == 0 || c.stopped) {
		holder_conn_close(&c);
		return ck_err_set(err, ESRCH, "no uffd holder of pid %d answers", (int)target);
	}
	if (write(c.s, req, sizeof(req)) != (ssize_t)sizeof(req) ||
	    read(c.s, &rep, sizeof(rep)) != sizeof(rep)) {
		rc = errno;
		holder_conn_close(&c);
		return ck_err_set(err, rc ? rc : EPROTO, "new token for the uffd holder of pid %d",
				  (int)target);
	}
	holder_conn_close(&c);
	if (rep.magic != HOLDER_MAGIC || rep.token != token)
		return ck_err_set(err, EPROTO,
				  "the uffd holder of pid %d did not take the new token",
				  (int)target);
	return 0;
}

/* A pidfd for the peer of @c: the kernel's (6.5+), else by pid while it is connected. */
static int peer_pidfd(const struct holder_conn *c)
{
	socklen_t l = sizeof(int);
	int fd = -1;

	if (!getsockopt(c->s, SOL_SOCKET, SO_PEERPIDFD, &fd, &l) && fd >= 0)
		return fd;
	return (int)syscall(__NR_pidfd_open, c->cr.pid, 0);
}

/* see uffd-holder.h */
int glue_uffd_holder_stop(pid_t target, bool *stopped, pid_t *holder_pid, struct ck_err **err)
{
	_cleanup_close_ int pidfd = -1;
	struct holder_reply rep = { 0 };
	struct holder_conn c;
	struct pollfd pfd;
	bool answered;
	int rc;

	if (stopped)
		*stopped = false;
	rc = holder_connect(target, &c, err);
	if (rc <= 0) {
		holder_conn_close(&c);
		return rc;
	}
	pidfd = peer_pidfd(&c);
	answered = !c.stopped && write(c.s, "Q", 1) == 1 &&
		   read(c.s, &rep, sizeof(rep)) == sizeof(rep) && rep.magic == HOLDER_MAGIC;
	if (!answered) {
		pr_warn("uffd holder %d of pid %d %s: killed", (int)c.cr.pid, (int)target,
			c.stopped ? "is stopped" : "did not answer in time");
		if (pidfd >= 0)
			syscall(__NR_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		unlinkat(c.dfd, c.name, 0);
	}
	holder_conn_close(&c);
	if (stopped)
		*stopped = true;
	if (holder_pid)
		*holder_pid = c.cr.pid;
	if (pidfd < 0)
		return 0;
	/* Its exit drops its uffd reference (and with the last one, the ranges). */
	pfd = (struct pollfd){ pidfd, POLLIN, 0 };
	while ((rc = poll(&pfd, 1, GLUE_UFFD_HOLDER_TIMEOUT_MS)) < 0 && errno == EINTR)
		;
	if (rc == 0)
		return ck_err_set(err, ETIMEDOUT,
				  "the uffd holder %d of pid %d did not exit within %d ms",
				  (int)c.cr.pid, (int)target, GLUE_UFFD_HOLDER_TIMEOUT_MS);
	return 0;
}
