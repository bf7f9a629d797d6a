// SPDX-License-Identifier: MIT
/*
 * uffd-wp tracking of another process and the uffd holder, on a real child:
 * the child creates a userfaultfd (as an injected syscall would), the test
 * pulls it out with pidfd_getfd, arms it from outside and checks that scans
 * report exactly the pages the child wrote, then that the holder keeps the
 * tracker alive between "runs" and goes away when told or when the child exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/linux-compat.h"
#include "runtime-glue/proc/proc.h"
#include "runtime-glue/track/uffd-holder.h"
#include "runtime-glue/track/uffd-track.h"
#include "tests/unit/tap.h"

#define NPAGES 16
#define PSZ    4096UL

struct child {
	pid_t pid;
	int cmd, ack; /* our ends of the two pipes */
	int uffd_nr;  /* the uffd's number inside the child */
	char *area;   /* same address in the child (fork keeps the layout) */
};

/* Child: create the uffd, then write page N for each byte N received. */
static void child_loop(int ack, int *uffd_nr)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	*uffd_nr = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (write(ack, uffd_nr, sizeof(*uffd_nr)) != sizeof(*uffd_nr))
		_exit(1);
}

static int start_child(struct child *c)
{
	int p1[2], p2[2];

	c->area = mmap(NULL, NPAGES * PSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);
	if (c->area == MAP_FAILED || pipe(p1) || pipe(p2))
		return -1;
	memset(c->area, 1, NPAGES * PSZ);
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (c->pid == 0) {
		unsigned char n;
		int nr;

		close(p1[1]);
		close(p2[0]);
		child_loop(p2[1], &nr);
		while (read(p1[0], &n, 1) == 1) {
			if (n == 0xff)
				_exit(0);
			if (n == 0xfe) {
				/* As after injection: the target closes its copy. */
				close(nr);
				if (write(p2[1], "k", 1) != 1)
					_exit(1);
				continue;
			}
			c->area[n * PSZ] = 2;
			if (write(p2[1], "k", 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(p1[0]);
	close(p2[1]);
	c->cmd = p1[1];
	c->ack = p2[0];
	if (read(c->ack, &c->uffd_nr, sizeof(int)) != sizeof(int))
		return -1;
	return 0;
}

static void child_write(struct child *c, unsigned char page)
{
	char k;

	if (write(c->cmd, &page, 1) != 1 || read(c->ack, &k, 1) != 1)
		tap_diag("child did not answer");
}

static bool ranges_are(const struct glue_ranges *rs, const char *area, const int *pages, int n)
{
	struct glue_ranges want = { 0 };
	bool same;

	for (int i = 0; i < n; i++)
		glue_ranges_add(&want, (uintptr_t)area + pages[i] * PSZ,
				(uintptr_t)area + (pages[i] + 1) * PSZ);
	same = want.nr == rs->nr && !memcmp(want.r, rs->r, want.nr * sizeof(*want.r));
	if (!same)
		for (size_t i = 0; i < rs->nr; i++)
			tap_diag("got page %lu-%lu",
				 (unsigned long)((rs->r[i].start - (uintptr_t)area) / PSZ),
				 (unsigned long)((rs->r[i].end - (uintptr_t)area) / PSZ));
	glue_ranges_free(&want);
	return same;
}

static bool holder_gone(pid_t target)
{
	struct ck_err *err = NULL;
	_cleanup_close_ int fd = -1;
	uint64_t token;
	bool found = true;

	for (int i = 0; i < 200; i++) {
		if (glue_uffd_holder_fetch(target, &fd, &token, &found, &err)) {
			ck_err_free(&err);
			return false;
		}
		if (!found)
			return true;
		closep(&fd);
		usleep(10000);
	}
	return false;
}

#define NOBODY 65534

/* item 12: the socket is a file in a directory only root can create in. */
static void holder_socket_is_private(pid_t target)
{
	struct ck_err *err = NULL;
	char dir[4096], sock[4200], line[512];
	struct stat st = { 0 };
	FILE *f = fopen("/proc/net/unix", "re");
	bool abstract = false;
	int fd;

	if (geteuid()) {
		tap_skip("not root", "item 12: the holder socket is in /run/ckpt/uffd");
		return;
	}
	fd = glue_uffd_holder_dir(false, dir, sizeof(dir), &err);
	ck_err_free(&err);
	tap_ok(fd >= 0 && !strcmp(dir, "/run/ckpt/uffd") && !fstat(fd, &st) && st.st_uid == 0 &&
		       (st.st_mode & 0777) == 0700,
	       "item 12: root's holder directory is /run/ckpt/uffd, root's, mode 0700");
	if (fd >= 0)
		close(fd);
	snprintf(sock, sizeof(sock), "%s/%d-", dir, (int)target);
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, " @ckpt-uffd-"))
			abstract = true;
	if (f)
		fclose(f);
	tap_ok(!abstract, "item 12: no abstract ckpt-uffd socket is bound");
}

/* Run @fn as uid nobody in a child; its exit status. */
static int as_nobody(int (*fn)(void *), void *arg)
{
	int status;
	pid_t p = fork();

	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
			_exit(99);
		_exit(fn(arg));
	}
	if (p < 0 || waitpid(p, &status, 0) != p || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Connect to @arg as we are, ask for the uffd: 0 when none is given. */
static int ask_for_uffd(void *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char cmsgbuf[CMSG_SPACE(sizeof(int))], buf[64];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int s = socket(AF_UNIX, SOCK_STREAM, 0), fd, rc;

	mh.msg_control = cmsgbuf;
	mh.msg_controllen = sizeof(cmsgbuf);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", (const char *)arg);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)))
		return 2;
	/* the holder may have hung up already: that is a refusal too */
	signal(SIGPIPE, SIG_IGN);
	if (write(s, "G", 1) != 1) {
		close(s);
		return 0;
	}
	rc = recvmsg(s, &mh, 0) > 0 && CMSG_FIRSTHDR(&mh) ? 1 : 0;
	if (rc) {
		/* a uffd reference of ours would keep the ranges registered */
		memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(fd));
		close(fd);
	}
	close(s);
	return rc;
}

static int holder_path(pid_t target, char *path, size_t len)
{
	struct ck_err *err = NULL;
	char dir[4096];
	uint64_t st;
	int fd = glue_uffd_holder_dir(false, dir, sizeof(dir), &err);

	ck_err_free(&err);
	if (fd < 0 || glue_proc_starttime(target, &st, &err)) {
		ck_err_free(&err);
		return -1;
	}
	close(fd);
	snprintf(path, len, "%s/%d-%llu.sock", dir, (int)target, (unsigned long long)st);
	return 0;
}

/* item 12: the holder checks its client: another uid gets nothing. */
static void holder_refuses_other_uid(pid_t target)
{
	char sock[4200], tmp[] = "/tmp/test-uffd-holder-XXXXXX", link_path[64];

	if (geteuid() || holder_path(target, sock, sizeof(sock)) || !mkdtemp(tmp)) {
		tap_skip("not root", "item 12: the holder serves no other uid");
		return;
	}
	/* A second name for the socket that nobody may reach (the directory stops it). */
	snprintf(link_path, sizeof(link_path), "%s/s", tmp);
	if (link(sock, link_path) || chmod(link_path, 0777) || chmod(tmp, 0755)) {
		tap_skip("cannot link the socket", "item 12: the holder serves no other uid");
	} else {
		tap_ok(as_nobody(ask_for_uffd, sock) == 2,
		       "item 12: uid nobody cannot reach root's holder socket");
		tap_ok(as_nobody(ask_for_uffd, link_path) == 0,
		       "item 12: the holder gives no uffd to uid nobody (SO_PEERCRED)");
		tap_ok(ask_for_uffd(link_path) == 1, "... and does to its own uid");
	}
	unlink(link_path);
	rmdir(tmp);
}

/* item 12: the client checks the holder: a listener of another uid is not used. */
static void client_ignores_other_uid(pid_t target)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ck_err *err = NULL;
	uint64_t token = 0;
	bool found = true;
	int s, p2c[2], fd = -1, rc;
	pid_t p;
	char k;

	if (geteuid() || holder_path(target, sa.sun_path, sizeof(sa.sun_path)) || pipe(p2c)) {
		tap_skip("not root", "item 12: a listener of another uid is ignored");
		return;
	}
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa))) {
		tap_skip("cannot bind", "item 12: a listener of another uid is ignored");
		return;
	}
	p = fork();
	if (p == 0) {
		/* SO_PEERCRED is taken at listen(): that of uid nobody */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setresuid(NOBODY, NOBODY, NOBODY) || listen(s, 8) || write(p2c[1], "k", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(s);
	rc = read(p2c[0], &k, 1) == 1 ? glue_uffd_holder_fetch(target, &fd, &token, &found, &err)
				      : -1;
	tap_ok(rc == 0 && !found && fd < 0,
	       "item 12: a socket of another uid at the holder's name is not used");
	ck_err_free(&err);
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
	unlink(sa.sun_path);
	close(p2c[0]);
	close(p2c[1]);
}

static int open_user_dir(void *arg)
{
	struct ck_err *err = NULL;
	char dir[4096];
	int fd;

	(void)arg;
	unsetenv("XDG_RUNTIME_DIR");
	fd = glue_uffd_holder_dir(true, dir, sizeof(dir), &err);
	if (fd >= 0)
		return 0;
	return err && err->errnum == EPERM ? 1 : 2;
}

/* item 12: a user's directory that someone else created (or a symlink) is refused. */
static void user_dir_checked(void)
{
	char path[64], run_user[64];

	snprintf(path, sizeof(path), "/tmp/ckpt-uffd-%d", NOBODY);
	snprintf(run_user, sizeof(run_user), "/run/user/%d", NOBODY);
	/* 0755: an attacker's directory lets its victim in */
	if (geteuid() || !access(path, F_OK) || !access(run_user, F_OK) || mkdir(path, 0755)) {
		tap_skip("not root, or nobody has a directory", "item 12: per-user directory");
		tap_skip("not root, or nobody has a directory", "item 12: per-user symlink");
		return;
	}
	tap_ok(as_nobody(open_user_dir, NULL) == 1, "item 12: nobody refuses a %s created by root",
	       path);
	rmdir(path);
	if (symlink("/tmp", path))
		tap_skip("symlink", "item 12: per-user symlink");
	else
		tap_ok(as_nobody(open_user_dir, NULL) == 1, "item 12: nobody refuses a symlink %s",
		       path);
	unlink(path);
}

int main(void)
{
	struct ck_err *err = NULL;
	struct child c = { 0 };
	struct glue_ranges rs = { 0 };
	_cleanup_close_ int pidfd = -1, uffd = -1, pm = -1, fetched = -1;
	char path[64];
	uint64_t start, end, token = 0;
	bool tracked, found, stopped = false;
	pid_t holder = 0;

	if (start_child(&c) || c.uffd_nr < 0) {
		tap_skip("userfaultfd unavailable", "create a uffd in a child");
		return tap_done();
	}
	start = (uintptr_t)c.area;
	end = start + NPAGES * PSZ;
	pidfd = (int)syscall(__NR_pidfd_open, c.pid, 0);
	uffd = (int)syscall(__NR_pidfd_getfd, pidfd, c.uffd_nr, 0);
	tap_ok(uffd >= 0, "pidfd_getfd pulls the child's uffd out");
	child_write(&c, 0xfe);
	tap_ok(!glue_uffd_api(uffd, &err), "UFFDIO_API from outside the creating process");
	ck_err_free(&err);
	tap_ok(!glue_uffd_register(uffd, start, end, &err), "register the child's range (WP)");
	ck_err_free(&err);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)c.pid);
	pm = open(path, O_RDONLY | O_CLOEXEC);

	tap_ok(!glue_uffd_scan_written(pm, start, end, &rs, &tracked, &err) && tracked,
	       "first scan succeeds");
	tap_ok(rs.pages == NPAGES, "first scan reports every populated page (%llu)",
	       (unsigned long long)rs.pages);
	glue_ranges_free(&rs);

	tap_ok(!glue_uffd_scan_written(pm, start, end, &rs, &tracked, &err) && rs.nr == 0,
	       "no writes: nothing reported");
	glue_ranges_free(&rs);

	child_write(&c, 3);
	child_write(&c, 7);
	child_write(&c, 8);
	tap_ok(!glue_uffd_scan_written(pm, start, end, &rs, &tracked, &err),
	       "scan after three writes");
	tap_ok(ranges_are(&rs, c.area, (int[]){ 3, 7, 8 }, 3), "exactly pages 3, 7, 8 reported");
	glue_ranges_free(&rs);

	/* An unregistered range (our own scan past the registered end) is refused. */
	tap_ok(!glue_uffd_scan_written(pm, start, end + PSZ, &rs, &tracked, &err) || !tracked,
	       "scan of a range with an unregistered part");
	tap_ok(!tracked, "... reports it as untracked (EPERM)");
	ck_err_free(&err);
	glue_ranges_free(&rs);
	tap_ok(!glue_uffd_scan_written(pm, start, end, &rs, &tracked, &err), "re-arm");
	glue_ranges_free(&rs);

	/* The holder keeps the uffd while no ckpt holds it. */
	tap_ok(!glue_uffd_holder_spawn(c.pid, uffd, 0x1234abcd, &holder, &err) && holder > 0,
	       "spawn the holder");
	ck_err_free(&err);
	tap_ok(glue_uffd_holder_spawn(c.pid, uffd, 1, NULL, &err) && err && err->errnum == EEXIST,
	       "a second holder for the same target is refused");
	ck_err_free(&err);
	closep(&uffd);
	child_write(&c, 5);
	tap_ok(!glue_uffd_holder_fetch(c.pid, &fetched, &token, &found, &err) && found,
	       "fetch the uffd from the holder");
	tap_ok(token == 0x1234abcd, "token round-trips");
	tap_ok(!glue_uffd_scan_written(pm, start, end, &rs, &tracked, &err) && tracked &&
		       ranges_are(&rs, c.area, (int[]){ 5 }, 1),
	       "tracking survived our close: page 5 reported");
	glue_ranges_free(&rs);
	closep(&fetched);

	holder_socket_is_private(c.pid);
	holder_refuses_other_uid(c.pid);

	tap_ok(!glue_uffd_holder_stop(c.pid, &stopped, NULL, &err) && stopped, "stop the holder");
	tap_ok(holder_gone(c.pid), "the holder is gone after stop");
	child_write(&c, 6);
	/* stop waits for the holder's exit, which drops the last uffd reference */
	tap_ok(!glue_uffd_scan_written(pm, start, end, &rs, &tracked, &err) && !tracked,
	       "once stop returns, the range is untracked");
	glue_ranges_free(&rs);
	client_ignores_other_uid(c.pid);
	user_dir_checked();

	/* A holder exits by itself when its target exits. */
	uffd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	tap_ok(uffd >= 0 && !glue_uffd_holder_spawn(c.pid, uffd, 2, &holder, &err),
	       "spawn a second holder");
	if (err)
		tap_diag("%s", err->msg);
	ck_err_free(&err);
	{
		unsigned char q = 0xff;

		if (write(c.cmd, &q, 1) != 1)
			tap_diag("child gone early");
		waitpid(c.pid, NULL, 0);
	}
	for (int i = 0; i < 200 && !kill(holder, 0); i++)
		usleep(10000);
	tap_ok(kill(holder, 0) && errno == ESRCH, "the holder exits when the target exits");
	return tap_done();
}
