// SPDX-License-Identifier: MIT
/*
 * /proc/PID/cgroup read as sets, and where a cgroup namespace is rooted.
 *
 * The kernel shows /proc/PID/cgroup relative to the reader's cgroup
 * namespace: ckpt (in the host's) reads the full paths, a child that joined
 * the task's namespace reads what the task sees.  The namespace's root in a
 * hierarchy is the first minus the second: "/ctr" and "/" give "/ctr";
 * "/ctr/sub" and "/sub" give "/ctr".
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "runtime-glue/dump/cgset.h"
#include "runtime-glue/dump/dump-priv.h"

/* see cgset.h */
void glue_cgset_free(struct cg_set *s)
{
	for (size_t i = 0; i < s->nr; i++) {
		free(s->name[i]);
		free(s->path[i]);
	}
}

/* The lines of a /proc/PID/cgroup, sorted by hierarchy name. */
static void parse_set(FILE *f, struct cg_set *s)
{
	_cleanup_free_ char *line = NULL;
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	while (getline(&line, &n, f) > 0) {
		char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;

		if (!b || s->nr == CG_MAX_CTLS)
			continue;
		b[strcspn(b, "\n")] = '\0';
		s->name[s->nr] = xasprintf("%.*s", (int)(b - a - 1), a + 1);
		s->path[s->nr] = xstrdup(b + 1);
		/* sorted by name, as CRIU lists them */
		for (size_t i = s->nr; i > 0 && strcmp(s->name[i - 1], s->name[i]) > 0; i--) {
			char *tn = s->name[i], *tp = s->path[i];

			s->name[i] = s->name[i - 1];
			s->path[i] = s->path[i - 1];
			s->name[i - 1] = tn;
			s->path[i - 1] = tp;
		}
		s->nr++;
	}
}

/* see cgset.h */
int glue_cgset_read(pid_t pid, struct cg_set *s, struct ck_err **err)
{
	char file[64];
	_cleanup_fclose_ FILE *f = NULL;

	if (pid)
		snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	else
		snprintf(file, sizeof(file), "/proc/self/cgroup");
	f = fopen(file, "re");
	if (!f)
		return ck_err_set(err, errno, "open %s", file);
	parse_set(f, s);
	return 0;
}

/*
 * /proc/@pid/cgroup as @pid sees it: the kernel shows the paths relative to
 * the reader's cgroup namespace, so a child joins @pid's and reads it.
 */
static int inner_set(pid_t pid, struct cg_set *in, struct ck_err **err)
{
	char ns[64], file[64], buf[4096];
	_cleanup_close_ int nsfd = -1;
	_cleanup_fclose_ FILE *f = NULL;
	int pfd[2], status;
	pid_t child;

	snprintf(ns, sizeof(ns), "/proc/%d/ns/cgroup", (int)pid);
	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	nsfd = open(ns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return ck_err_set(err, errno, "open %s", ns);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return ck_err_set(err, errno, "pipe");
	child = fork();
	if (child < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return ck_err_set(err, errno, "fork");
	}
	if (child == 0) {
		/* only async-signal-safe calls: ckpt may have other threads */
		int fd;
		ssize_t n;

		if (setns(nsfd, CLONE_NEWCGROUP) < 0)
			_exit(2);
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(3);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (write(pfd[1], buf, (size_t)n) != n)
				_exit(4);
		_exit(n < 0 ? 5 : 0);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "re");
	if (!f) {
		close(pfd[0]);
		waitpid(child, &status, 0);
		return ck_err_set(err, errno, "fdopen");
	}
	parse_set(f, in);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status)) {
		glue_cgset_free(in);
		return ck_err_set(err, EIO,
				  "reading %s from inside its cgroup namespace failed (step %d)",
				  file, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	return 0;
}

/* see cgset.h */
int glue_cgns_roots(pid_t pid, struct cg_set *roots, struct ck_err **err)
{
	struct cg_set host, in;

	memset(roots, 0, sizeof(*roots));
	if (glue_cgset_read(pid, &host, err) < 0)
		return -1;
	if (inner_set(pid, &in, err) < 0) {
		glue_cgset_free(&host);
		return -1;
	}
	for (size_t j = 0; j < host.nr; j++) {
		const char *hp = host.path[j], *ip = NULL;
		size_t hl = strlen(hp), il;

		for (size_t k = 0; k < in.nr; k++)
			if (!strcmp(in.name[k], host.name[j]))
				ip = in.path[k];
		il = ip ? strlen(ip) : 0;
		if (!ip || !strncmp(ip, "/..", 3) ||
		    (strcmp(ip, "/") && (il > hl || strcmp(hp + hl - il, ip)))) {
			ck_err_set(
				err, EINVAL,
				"pid %d: cgroup %s:%s is seen as %s from inside its cgroup namespace: not below the namespace's root",
				(int)pid, host.name[j], hp, ip ? ip : "nothing");
			glue_cgset_free(&host);
			glue_cgset_free(&in);
			glue_cgset_free(roots);
			return -1;
		}
		roots->name[roots->nr] = xstrdup(host.name[j]);
		roots->path[roots->nr++] =
			strcmp(ip, "/") ? xasprintf("%.*s", (int)(hl - il), hp) : xstrdup(hp);
	}
	glue_cgset_free(&host);
	glue_cgset_free(&in);
	return 0;
}

/* see cgset.h */
bool glue_cgset_same(const struct cg_set *a, const struct cg_set *b)
{
	if (a->nr != b->nr)
		return false;
	for (size_t i = 0; i < a->nr; i++)
		if (strcmp(a->name[i], b->name[i]) || strcmp(a->path[i], b->path[i]))
			return false;
	return true;
}

/* see cgset.h */
bool glue_cgns_own(pid_t pid)
{
	uint64_t ino = glue_ns_ino(pid, GLUE_NS_CGROUP);

	return ino && ino != glue_ns_ino(0, GLUE_NS_CGROUP);
}
