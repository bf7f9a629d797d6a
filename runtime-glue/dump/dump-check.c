// SPDX-License-Identifier: MIT
/*
 * Up-front refusal of what the final dump cannot write: every problem of the
 * whole tree is collected (not just the first), so the user sees the complete
 * list in one run.  Only /proc is read (plus kcmp and, for a socket's
 * protocol, a pidfd_getfd copy); the tree keeps running.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <netinet/in.h>
#include <linux/kcmp.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/linux-compat.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/dump/dump-mnt.h"
#include "runtime-glue/dump/dump-priv.h"
#include "runtime-glue/dump/dump-state.h"
#include "runtime-glue/proc/freezer.h"
#include "runtime-glue/proc/pstree.h"
#include "runtime-glue/mem/vma.h"

/* Cap on listed problems; the rest are counted. */
#define MAX_PROBLEMS 32

struct problems {
	size_t nr;
	char *text; /* "; "-separated */
};

static void add_problem(struct problems *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void add_problem(struct problems *p, const char *fmt, ...)
{
	_cleanup_free_ char *one = NULL;
	char *joined;
	va_list ap;

	p->nr++;
	if (p->nr > MAX_PROBLEMS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&one, fmt, ap) < 0)
		xoom();
	va_end(ap);
	joined = p->text ? xasprintf("%s; %s", p->text, one) : xstrdup(one);
	free(p->text);
	p->text = joined;
}

/* see dump-priv.h */
int glue_read_small(const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = TEMP_FAILURE_RETRY_INT(read(fd, buf, len - 1));
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* see dump-priv.h */
int glue_fdinfo_read(pid_t pid, int fd, uint32_t *flags, uint64_t *pos)
{
	char path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	if (glue_read_small(path, buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "pos:");
	if (!p) {
		errno = EINVAL;
		return -1;
	}
	*pos = strtoull(p + 4, NULL, 10);
	p = strstr(buf, "flags:");
	if (!p) {
		errno = EINVAL;
		return -1;
	}
	*flags = (uint32_t)strtoul(p + 6, NULL, 8);
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* "TCP", "UDP", "unix stream", ... for a socket fd of another process, or "". */
static void describe_socket(pid_t pid, int fd, char *buf, size_t len)
{
	_cleanup_close_ int pidfd = -1, sk = -1;
	int domain = -1, type = -1, proto = -1;
	socklen_t sl = sizeof(int);

	buf[0] = '\0';
	pidfd = (int)syscall(__NR_pidfd_open, pid, 0);
	if (pidfd < 0)
		return;
	sk = (int)syscall(__NR_pidfd_getfd, pidfd, fd, 0);
	if (sk < 0)
		return;
	if (getsockopt(sk, SOL_SOCKET, SO_DOMAIN, &domain, &sl) < 0)
		return;
	sl = sizeof(int);
	getsockopt(sk, SOL_SOCKET, SO_TYPE, &type, &sl);
	sl = sizeof(int);
	getsockopt(sk, SOL_SOCKET, SO_PROTOCOL, &proto, &sl);
	if (domain == AF_INET || domain == AF_INET6) {
		const char *v = domain == AF_INET ? "" : "v6";

		if (proto == IPPROTO_TCP)
			snprintf(buf, len, "TCP%s", v);
		else if (proto == IPPROTO_UDP)
			snprintf(buf, len, "UDP%s", v);
		else
			snprintf(buf, len, "inet%s proto %d", v, proto);
	} else if (domain == AF_UNIX) {
		snprintf(buf, len, "unix %s",
			 type == SOCK_STREAM  ? "stream"
			 : type == SOCK_DGRAM ? "dgram"
					      : "seqpacket");
	} else if (domain == AF_NETLINK) {
		snprintf(buf, len, "netlink");
	} else {
		snprintf(buf, len, "family %d", domain);
	}
}

/* see dump-priv.h */
const char *glue_task_path(pid_t pid, const char *path, char *buf, size_t len)
{
	uint64_t ino = glue_ns_ino(pid, GLUE_NS_MNT);

	if (!ino || ino == glue_ns_ino(0, GLUE_NS_MNT))
		return path;
	snprintf(buf, len, "/proc/%d/root%s", (int)pid, path);
	return buf;
}

/* see dump-priv.h */
enum glue_fd_kind glue_fd_classify(pid_t pid, int fd, char *path, size_t path_len,
				   uint32_t *pipe_ino, char *why, size_t why_len)
{
	char proc[64];
	struct stat st, st2;
	ssize_t n;

	why[0] = '\0';
	snprintf(proc, sizeof(proc), "/proc/%d/fd/%d", (int)pid, fd);
	n = readlink(proc, path, path_len - 1);
	if (n < 0) {
		snprintf(why, why_len, "unreadable (%s)", strerror(errno));
		return GLUE_FD_UNSUPP;
	}
	path[n] = '\0';
	if (!strncmp(path, "pipe:[", 6)) {
		*pipe_ino = (uint32_t)strtoul(path + 6, NULL, 10);
		return GLUE_FD_PIPE;
	}
	if (!strncmp(path, "socket:[", 8)) {
		char d[64];

		describe_socket(pid, fd, d, sizeof(d));
		snprintf(why, why_len, "%s%s%s%s", path, d[0] ? " (" : "", d,
			 d[0] ? " socket)" : "");
		return GLUE_FD_UNSUPP;
	}
	if (path[0] != '/') {
		/* anon_inode:[eventfd], anon_inode:[io_uring], [userfaultfd], ... */
		snprintf(why, why_len, "%s", path);
		return GLUE_FD_UNSUPP;
	}
	if (!strncmp(path, "/memfd:", 7)) {
		snprintf(why, why_len, "memfd %s", path + 7);
		return GLUE_FD_UNSUPP;
	}
	if (ends_with(path, " (deleted)")) {
		/* a pty slave whose master was closed: devpts removed its node */
		if (stat(proc, &st) == 0 && S_ISCHR(st.st_mode) && glue_tty_is_pts(st.st_rdev))
			snprintf(why, why_len, "terminal %.*s: hung up (its master was closed)",
				 (int)(strlen(path) - strlen(" (deleted)")), path);
		else
			snprintf(why, why_len, "deleted file %s", path);
		return GLUE_FD_UNSUPP;
	}
	if (stat(proc, &st) < 0) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return GLUE_FD_UNSUPP;
	}
	if (S_ISCHR(st.st_mode)) {
		unsigned int maj = major(st.st_rdev);

		/* /dev/null, zero, full, random, urandom: reopened by path */
		if (maj == 1)
			goto by_path;
		if (glue_tty_is_pts(st.st_rdev))
			return GLUE_FD_TTY;
		if (maj == 5 && minor(st.st_rdev) == 2)
			snprintf(why, why_len, "pty master %s (a master inside the tree)", path);
		else if (maj == 4 || maj == 5)
			snprintf(why, why_len, "terminal %s", path);
		else
			snprintf(why, why_len, "character device %s (%u:%u)", path, maj,
				 minor(st.st_rdev));
		return GLUE_FD_UNSUPP;
	}
	if (S_ISFIFO(st.st_mode)) {
		snprintf(why, why_len, "named fifo %s", path);
		return GLUE_FD_UNSUPP;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		snprintf(why, why_len, "%s (file type 0%o)", path, (unsigned)(st.st_mode & S_IFMT));
		return GLUE_FD_UNSUPP;
	}
by_path:
	/* CRIU reopens it by name: the name must lead to the same inode. */
	{
		char in[PATH_MAX + 32];
		const char *p = glue_task_path(pid, path, in, sizeof(in));

		if (stat(p, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino) {
			snprintf(
				why, why_len,
				p == path
					? "%s is not reachable under that name from ckpt's mount namespace"
					: "%s is not reachable under that name in the task's mount namespace (a file of the host?)",
				path);
			return GLUE_FD_UNSUPP;
		}
	}
	return GLUE_FD_REG;
}

/* The fds of one process: unsupported kinds, and pipe ends for the tree-wide check. */
static void check_fds(const struct glue_task *t, const struct glue_dump_opts *opts,
		      struct glue_files *pipes_seen, struct problems *p)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	char dir[64];

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)t->pid);
	d = opendir(dir);
	if (!d) {
		add_problem(p, "pid %d: cannot list its fds (%s)", (int)t->pid, strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		char path[PATH_MAX], why[PATH_MAX + 64];
		uint32_t ino = 0, flags = 0;
		uint64_t pos;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		switch (glue_fd_classify(t->pid, fd, path, sizeof(path), &ino, why, sizeof(why))) {
		case GLUE_FD_REG:
			break;
		case GLUE_FD_UNSUPP:
			add_problem(p, "pid %d fd %d: %s", (int)t->pid, fd, why);
			break;
		case GLUE_FD_TTY:
			if (glue_tty_check(pipes_seen, t->pid, fd, path, opts, why, sizeof(why)) <
			    0)
				add_problem(p, "pid %d fd %d: %s", (int)t->pid, fd, why);
			break;
		case GLUE_FD_PIPE: {
			struct glue_dpipe *dp = NULL;

			if (glue_fdinfo_read(t->pid, fd, &flags, &pos) < 0)
				flags = 0;
			for (size_t i = 0; i < pipes_seen->nr_pipes; i++)
				if (pipes_seen->pipes[i].ino == ino)
					dp = &pipes_seen->pipes[i];
			if (!dp) {
				pipes_seen->pipes =
					xreallocarray(pipes_seen->pipes, pipes_seen->nr_pipes + 1,
						      sizeof(*pipes_seen->pipes));
				dp = &pipes_seen->pipes[pipes_seen->nr_pipes++];
				*dp = (struct glue_dpipe){ .ino = ino, .rpid = t->pid, .rfd = fd };
			}
			if ((flags & O_ACCMODE) == O_WRONLY)
				dp->has_write = true;
			else
				dp->has_read = true;
			break;
		}
		}
	}
}

static void check_vmas(const struct glue_task *t, struct problems *p)
{
	_cleanup_err_ struct ck_err *e = NULL;
	struct glue_vmas vmas = { 0 };

	if (glue_vmas_read(t->pid, &vmas, &e) < 0) {
		_cleanup_free_ char *s = ck_err_str(e);

		add_problem(p, "pid %d: %s", (int)t->pid, s);
		return;
	}
	for (size_t i = 0; i < vmas.nr; i++) {
		const struct glue_vma *v = &vmas.v[i];
		const char *what = NULL;
		struct stat st;

		if (v->status & GLUE_VMA_SOCKET)
			what = "a socket mapping";
		else if (v->status & GLUE_VMA_SYSVIPC)
			what = "SysV shared memory";
		else if (v->status & GLUE_VMA_MEMFD)
			what = "a memfd mapping";
		else if (v->status & GLUE_VMA_AIORING)
			what = "an AIO ring";
		else if (v->status & GLUE_VMA_SHSTK)
			what = "a shadow stack";
		else if (v->status & (1U << 17))
			what = "uprobes";
		else if (v->status & (GLUE_VMA_FILE_PRIVATE | GLUE_VMA_FILE_SHARED)) {
			if (!v->name || v->name[0] != '/' || ends_with(v->name, " (deleted)"))
				what = "a mapping of a deleted or unnamed file";
			else {
				char in[PATH_MAX + 32];

				if (stat(glue_task_path(t->pid, v->name, in, sizeof(in)), &st) <
					    0 ||
				    st.st_ino != v->ino)
					what = "a mapped file not reachable under its name";
			}
		}
		if (what)
			add_problem(p, "pid %d: %s at %#" PRIx64 "-%#" PRIx64 " (%s)", (int)t->pid,
				    what, v->start, v->end, v->name ? v->name : "anonymous");
	}
	glue_vmas_free(&vmas);
}

/* Whether @pid's children are born in its own time namespace (no unshare(CLONE_NEWTIME) pending). */
static bool same_time_for_children(pid_t pid)
{
	char a[64], b[64];
	struct stat sa, sb;

	snprintf(a, sizeof(a), "/proc/%d/ns/time", (int)pid);
	snprintf(b, sizeof(b), "/proc/%d/ns/time_for_children", (int)pid);
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino == sb.st_ino;
}

/*
 * The tree's network namespace: external (joined again at restore: nothing in
 * it is written, as CRIU does) or, with --empty-ns net, made anew and empty.
 * ckpt writes no socket (check_fds refuses them), so no connection of the tree
 * can change while it is dumped: CRIU's network lock (iptables rules in the
 * netns for the dump) guards TCP state ckpt never writes, and is not taken.
 */
static void check_net(const struct glue_task *t, const struct glue_dump_opts *opts,
		      struct problems *p)
{
	uint64_t ino = glue_ns_ino(t->pid, GLUE_NS_NET);

	if (opts->ctr.ext_net_key && ino == opts->ctr.ext_net_ino)
		return;
	if (opts->ctr.empty_net)
		return;
	if (opts->ctr.ext_net_key)
		add_problem(
			p,
			"pid %d: net namespace %" PRIu64
			" of its own, not the external net[%" PRIu64
			"]: ckpt does not dump a network namespace; give --empty-ns net (restored empty, as runc asks)",
			(int)t->pid, ino, opts->ctr.ext_net_ino);
	else
		add_problem(
			p,
			"pid %d: net namespace of its own: ckpt does not dump a network namespace; give --empty-ns net (restored empty, as runc asks) or --external net[INODE]:KEY",
			(int)t->pid);
}

/*
 * Namespaces: a plain tree shares all of ckpt's.  A container (the root task
 * has namespaces of its own) may have its own pid, mnt, ipc and uts
 * namespaces, and its own net namespace when it is recreated empty (--empty-ns
 * net, as runc always asks), and its own time namespace (a container CRIU
 * restored) unless it is nested, and its own cgroup namespace with
 * --manage-cgroups; every task shares the root task's.  A user namespace of
 * its own is not supported.
 */
static void check_ns(const struct glue_pstree *tree, const struct glue_task *t,
		     const struct glue_dump_opts *opts, struct problems *p)
{
	const struct glue_task *root = &tree->t[0];
	bool container = false;

	for (int i = 0; i < GLUE_NS_NR; i++) {
		uint64_t own = glue_ns_ino(0, (enum glue_ns_type)i);
		uint64_t r = glue_ns_ino(root->pid, (enum glue_ns_type)i);

		if (own && r && own != r)
			container = true;
	}
	for (int i = 0; i < GLUE_NS_NR; i++) {
		enum glue_ns_type ty = (enum glue_ns_type)i;
		const char *n = glue_ns_name(ty);
		uint64_t own = glue_ns_ino(0, ty), mine = glue_ns_ino(t->pid, ty);
		uint64_t r = glue_ns_ino(root->pid, ty);

		if (!own || !mine || mine == own) {
			if (mine && r && mine != r)
				add_problem(
					p,
					"pid %d: %s namespace differs from the container's (pid %d): nested namespaces are not supported",
					(int)t->pid, n, (int)root->pid);
			continue;
		}
		if (!container) {
			add_problem(p, "pid %d: %s namespace differs from ckpt's", (int)t->pid, n);
			continue;
		}
		if (mine != r) {
			add_problem(
				p,
				"pid %d: %s namespace differs from the container's (pid %d): nested namespaces are not supported",
				(int)t->pid, n, (int)root->pid);
			continue;
		}
		if (t != root)
			continue; /* the same as the root's: said once */
		switch (ty) {
		case GLUE_NS_MNT: {
			/* the mount tree: whatever dump-mnt.c refuses, in the same list */
			_cleanup_free_ struct glue_mnt_ext *ext =
				xcalloc(opts->ctr.nr_ext_mnt + 1, sizeof(*ext));
			_cleanup_(glue_mnt_set_freep) struct glue_mnt_set *set = NULL;
			_cleanup_err_ struct ck_err *e = NULL;
			struct glue_mnt_opts mo;

			glue_ctr_mnt_opts(&opts->ctr, t->pid, &mo, ext);
			if (glue_mnt_collect(t->pid, &mo, &set, &e) < 0 ||
			    glue_mnt_check(set, &e) < 0)
				add_problem(p, "pid %d: %s", (int)t->pid, e->msg);
			break;
		}
		case GLUE_NS_PID: /* paused too: proc/freezer.c seizes it and leaves it paused */
		case GLUE_NS_UTS:
			break;
		case GLUE_NS_IPC: {
			char why[256];

			if (glue_ns_check_ipc(t->pid, why, sizeof(why)) < 0)
				add_problem(p, "pid %d: %s", (int)t->pid, why);
			break;
		}
		case GLUE_NS_NET:
			check_net(t, opts, p);
			break;
		case GLUE_NS_TIME:
			/* CRIU restores every container into a time namespace of its own */
			if (!same_time_for_children(t->pid))
				add_problem(
					p,
					"pid %d: its children's time namespace differs from its own (nested time namespaces are not supported)",
					(int)t->pid);
			break;
		case GLUE_NS_CGROUP:
			/* cgroup.img says where its root is (cgns_prefix): CRIU unshares it there */
			if (!opts->ctr.manage_cgroups)
				add_problem(
					p,
					"pid %d: cgroup namespace of its own: ckpt writes one only with --manage-cgroups (cgroup.img holds its root)",
					(int)t->pid);
			break;
		case GLUE_NS_USER:
		case GLUE_NS_NR:
			add_problem(p, "pid %d: %s namespace of its own (not supported)",
				    (int)t->pid, n);
			break;
		}
	}
}

static void check_task(const struct glue_pstree *tree, const struct glue_task *t,
		       const struct glue_dump_opts *opts, struct glue_files *pipes_seen,
		       struct problems *p)
{
	char path[96], buf[4096];

	if (glue_proc_status_field(t->pid, "State", buf, sizeof(buf)) == 0 && buf[0] == 'Z' &&
	    t != tree->t && glue_pstree_find(tree, t->ppid)) {
		/* a child just exited, its parent in the tree will reap it: the dump stops the tree again */
		pr_info("pid %d is a zombie of pid %d: left to the freeze", (int)t->pid,
			(int)t->ppid);
		return;
	}
	if (glue_proc_status_field(t->pid, "State", buf, sizeof(buf)) == 0 && buf[0] == 'Z') {
		add_problem(
			p,
			"pid %d is a zombie (exited, not reaped): ckpt does not write zombies into a restorable dump yet (pre-dump and --memory-only do)",
			(int)t->pid);
		return;
	}
	check_ns(tree, t, opts, p);
	/* seccomp filters are dumped (dump-seccomp.c); without CAP_SYS_ADMIN, which reading
	 * them needs, glue_mem_dump()'s glue_seccomp_check_tree() refuses the tree first */
	/* pending signals are written (dump-sig.c) */
	for (size_t i = 0; i < t->nr_threads; i++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)t->pid,
			 (int)t->threads[i]);
		_cleanup_fclose_ FILE *f = fopen(path, "re");
		_cleanup_free_ char *line = NULL;
		size_t n = 0;

		while (f && getline(&line, &n, f) > 0) {
			if (!strncmp(line, "TracerPid:", 10) && atoi(line + 10) != 0)
				add_problem(p, "thread %d is traced by pid %d", (int)t->threads[i],
					    atoi(line + 10));
		}
	}
	snprintf(path, sizeof(path), "/proc/%d/timers", (int)t->pid);
	if (glue_read_small(path, buf, sizeof(buf)) == 0 && buf[0])
		add_problem(p, "pid %d: POSIX timers (timer_create)", (int)t->pid);

	/* Session and process group leaders must be in the tree, or --shell-job. */
	if (!opts->shell_job) {
		if (!glue_pstree_find(tree, t->sid))
			add_problem(
				p,
				"pid %d: its session leader %d is outside the tree (use --shell-job, or start it with setsid)",
				(int)t->pid, (int)t->sid);
		else if (!glue_pstree_find(tree, t->pgid))
			add_problem(
				p,
				"pid %d: its process group leader %d is outside the tree (use --shell-job)",
				(int)t->pid, (int)t->pgid);
	}
	/* CLONE_FILES / CLONE_FS / CLONE_VM / CLONE_SIGHAND between processes. */
	for (const struct glue_task *o = tree->t; o < t; o++) {
		static const struct {
			int type;
			const char *what;
		} k[] = { { KCMP_VM, "memory" },
			  { KCMP_FILES, "fd table" },
			  { KCMP_FS, "fs info" },
			  { KCMP_SIGHAND, "signal handlers" } };

		for (size_t i = 0; i < ARRAY_SIZE(k); i++)
			if (syscall(SYS_kcmp, o->pid, t->pid, k[i].type, 0, 0) == 0)
				add_problem(p, "pids %d and %d share their %s", (int)o->pid,
					    (int)t->pid, k[i].what);
	}
	check_fds(t, opts, pipes_seen, p);
	check_vmas(t, p);
}

/* see dump-state.h */
int glue_dump_check(const struct glue_pstree *tree, const struct glue_dump_opts *opts,
		    struct ck_err **err)
{
	struct glue_files pipes_seen = { 0 };
	struct problems p = { 0 };
	int rc = 0;

	if (tree->nr && tree->t[0].kthread)
		return ck_err_set(err, 0, "cannot dump: process %d is a kernel thread",
				  (int)tree->t[0].pid);
	for (size_t i = 0; i < tree->nr; i++) {
		struct problems tp = { 0 };
		char dir[32];

		check_task(tree, &tree->t[i], opts, &pipes_seen, &tp);
		/* a child that exited meanwhile (a short-lived `sleep`) is no problem of the tree */
		snprintf(dir, sizeof(dir), "/proc/%d", (int)tree->t[i].pid);
		if (tp.nr && (i == 0 || access(dir, F_OK) == 0)) {
			p.nr += tp.nr - 1;
			add_problem(&p, "%s", tp.text);
		}
		free(tp.text);
	}
	for (size_t i = 0; i < pipes_seen.nr_pipes; i++) {
		const struct glue_dpipe *dp = &pipes_seen.pipes[i];

		/*
		 * Dumped as CRIU does: the end the tree holds is an ordinary pipe
		 * file (pipe_id = inode); a restore must be handed a replacement,
		 * which CRIU matches on the name "pipe:[INODE]".
		 */
		if (!dp->has_read || !dp->has_write)
			pr_warn("pid %d fd %d: pipe:[%u] leads outside the tree (its %s end is not held by the tree); restore with --inherit-fd fd[N]:pipe:[%u]",
				(int)dp->rpid, dp->rfd, dp->ino, dp->has_read ? "write" : "read",
				dp->ino);
	}
	if (p.nr) {
		if (p.nr > MAX_PROBLEMS)
			rc = ck_err_set(err, 0, "cannot dump: %s; and %zu more", p.text,
					p.nr - MAX_PROBLEMS);
		else
			rc = ck_err_set(err, 0, "cannot dump: %s", p.text);
	}
	free(p.text);
	glue_files_free(&pipes_seen);
	return rc;
}

/* see dump-state.h */
int glue_dump_check_target(const struct glue_target *tgt, const struct glue_dump_opts *opts,
			   struct ck_err **err)
{
	/*
	 * The tree runs: a busy shell is caught now and then with an fd half
	 * redirected (a name just renamed, a descriptor being moved), which is
	 * gone a moment later.  A refusal counts when it is there three times,
	 * 20 ms apart; a real one costs 40 ms more.  A tree that cannot be
	 * listed is an error at once.
	 */
	for (int i = 0;; i++) {
		struct glue_pstree tree = { 0 };
		int rc;

		if (glue_target_tree(tgt, &tree, err) < 0)
			return -1;
		rc = glue_dump_check(&tree, opts, err);
		glue_pstree_free(&tree);
		if (rc == 0 || i == 2)
			return rc;
		pr_debug("dump check: %s; checking again", (*err)->msg);
		ck_err_free(err);
		usleep(20000);
	}
}

/* see dump-state.h */
int glue_dump_container_target(const struct glue_target *in, struct glue_target *out,
			       struct ck_err **err)
{
	struct glue_pstree tree = { 0 };
	struct glue_cgroup cg = { 0 };
	bool container = false;
	int rc;

	*out = *in;
	if (!in->cgroup)
		return 0;
	if (!strcmp(in->cgroup, "auto"))
		rc = glue_cgroup_of_pid(in->pid, &cg, err);
	else
		rc = glue_cgroup_resolve(in->cgroup, &cg, err);
	if (rc == 0)
		rc = glue_pstree_from_cgroup(cg.dir, &tree, err);
	glue_cgroup_free(&cg);
	if (rc < 0)
		return -1;
	for (int i = 0; i < GLUE_NS_NR; i++) {
		uint64_t own = glue_ns_ino(0, (enum glue_ns_type)i);
		uint64_t r = glue_ns_ino(tree.t[0].pid, (enum glue_ns_type)i);

		if (own && r && own != r)
			container = true;
	}
	if (container) {
		pr_info("container: cgroup %s names the tree of pid %d; it is stopped with ptrace",
			in->cgroup, (int)tree.t[0].pid);
		out->pid = tree.t[0].pid;
		out->cgroup = NULL;
	}
	glue_pstree_free(&tree);
	return 0;
}
