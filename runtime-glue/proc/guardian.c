// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/xalloc.h"
#include "runtime-glue/proc/guardian.h"

struct glue_guardian {
	pid_t pid;
	int fd; /* write end */
};

static int write_state(const char *dir, bool v2, bool freeze)
{
	char path[PATH_MAX];
	const char *val = freeze ? (v2 ? "1" : "FROZEN") : (v2 ? "0" : "THAWED");
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, v2 ? "cgroup.freeze" : "freezer.state");
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, val, strlen(val)) < 0)
		rc = -1;
	close(fd);
	return rc;
}

/* see guardian.h */
int glue_cgroup_write_thaw(const char *dir, bool v2)
{
	return write_state(dir, v2, false);
}

/* see guardian.h */
int glue_cgroup_write_freeze(const char *dir, bool v2)
{
	return write_state(dir, v2, true);
}

static void guard(int rfd)
{
	char buf[PATH_MAX + 16], dir[PATH_MAX] = "";
	size_t len = 0;
	bool armed = false, v2 = false, refreeze = false;

	for (;;) {
		ssize_t n = read(rfd, buf + len, sizeof(buf) - 1 - len);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* ckpt is gone (or closed the pipe) */
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			if (buf[0] == 'F' || buf[0] == 'R') {
				size_t dl = strnlen(buf + 5, sizeof(dir) - 1);

				v2 = !strncmp(buf + 1, " v2 ", 4);
				refreeze = buf[0] == 'R';
				memcpy(dir, buf + 5, dl);
				dir[dl] = '\0';
				armed = true;
			} else if (buf[0] == 'T') {
				armed = false;
			} else if (buf[0] == 'X') {
				_exit(0);
			}
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
		if (len == sizeof(buf) - 1)
			len = 0; /* garbage: drop */
	}
	if (armed && refreeze) {
		/* a paused cgroup ckpt had thawed under its ptrace stops: paused again */
		int rc = glue_cgroup_write_freeze(dir, v2);

		dprintf(STDERR_FILENO, "ckpt guardian: ckpt died with paused %s thawed; %s\n", dir,
			rc == 0 ? "froze it again" : "freezing it FAILED");
		_exit(rc == 0 ? 0 : 1);
	}
	if (armed) {
		int rc = glue_cgroup_write_thaw(dir, v2);

		dprintf(STDERR_FILENO, "ckpt guardian: ckpt died with %s frozen; %s\n", dir,
			rc == 0 ? "thawed it" : "thawing it FAILED");
		_exit(rc == 0 ? 0 : 1);
	}
	_exit(0);
}

/* see guardian.h */
struct glue_guardian *glue_guardian_start(struct ck_err **err)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		ck_err_set(err, errno, "guardian pipe");
		return NULL;
	}
	pid = fork();
	if (pid < 0) {
		ck_err_set(err, errno, "fork guardian");
		close(p[0]);
		close(p[1]);
		return NULL;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		prctl(PR_SET_NAME, "ckpt-guardian");
		close(p[1]);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		if (p[0] != 3) {
			dup2(p[0], 3);
			close(p[0]);
		}
		/* keep only stdio and the pipe: no image fds, no log file */
		syscall(SYS_close_range, 4U, ~0U, 0U);
		guard(3);
	}
	close(p[0]);
	struct glue_guardian *g = xzalloc(sizeof(*g));

	g->pid = pid;
	g->fd = p[1];
	return g;
}

static int send_line(struct glue_guardian *g, const char *line, struct ck_err **err)
{
	size_t len = strlen(line), off = 0;

	while (off < len) {
		ssize_t n = write(g->fd, line + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ck_err_set(err, errno, "guardian %d", (int)g->pid);
		off += (size_t)n;
	}
	return 0;
}

/* see guardian.h */
int glue_guardian_arm(struct glue_guardian *g, const char *cgroup_dir, bool v2, struct ck_err **err)
{
	_cleanup_free_ char *line = xasprintf("F %s %s\n", v2 ? "v2" : "v1", cgroup_dir);

	return send_line(g, line, err);
}

/* see guardian.h */
int glue_guardian_arm_refreeze(struct glue_guardian *g, const char *cgroup_dir, bool v2,
			       struct ck_err **err)
{
	_cleanup_free_ char *line = xasprintf("R %s %s\n", v2 ? "v2" : "v1", cgroup_dir);

	return send_line(g, line, err);
}

/* see guardian.h */
int glue_guardian_disarm(struct glue_guardian *g, struct ck_err **err)
{
	return send_line(g, "T\n", err);
}

/* see guardian.h */
void glue_guardian_stop(struct glue_guardian *g)
{
	if (!g)
		return;
	if (g->fd >= 0) {
		if (write(g->fd, "X\n", 2) < 0) {
			/* it is gone already; waitpid below reaps it */
		}
		close(g->fd);
	}
	while (waitpid(g->pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(g);
}

/* see guardian.h */
pid_t glue_guardian_pid(const struct glue_guardian *g)
{
	return g->pid;
}

/* see guardian.h */
struct glue_guardian *glue_guardian_hold(const char *dir, bool v2, struct ck_err **err)
{
	char path[PATH_MAX], buf[16] = "";
	struct glue_guardian *g;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, v2 ? "cgroup.freeze" : "freezer.state");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ck_err_set(err, errno, "open %s", path);
		return NULL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		ck_err_set(err, errno, "read %s", path);
		return NULL;
	}
	g = glue_guardian_start(err);
	if (!g)
		return NULL;
	if ((v2 ? buf[0] == '0' : !strncmp(buf, "THAWED", 6)) &&
	    glue_guardian_arm(g, dir, v2, err) < 0) {
		glue_guardian_stop(g);
		return NULL;
	}
	return g;
}
