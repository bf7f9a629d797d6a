// SPDX-License-Identifier: MIT
/*
 * The agent's configuration (org.ckpt.* annotations), its directory inside
 * the bundle, and starting it fully detached from the hook.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/stop.h"
#include "common/xalloc.h"
#include "runtime-glue/agent/agent.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/features.h"
#include "runtime-glue/proc/proc.h"

/* see agent.h */
void glue_agent_conf_clear(struct glue_agent_conf *c)
{
	free(c->id);
	free(c->bundle);
	free(c->ckpt_dir);
	memset(c, 0, sizeof(*c));
}

/* see agent.h */
bool glue_agent_enabled(const struct oci_kv *a, size_t n)
{
	const char *v = oci_annotation(a, n, GLUE_AGENT_ANN_ENABLE);

	return v && !strcmp(v, "true");
}

/* see agent.h */
int glue_agent_parse_duration(const char *s, uint64_t *ms)
{
	char *end;
	unsigned long long v;
	uint64_t mul;

	if (!s || !*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (!*end || !strcmp(end, "s"))
		mul = 1000;
	else if (!strcmp(end, "ms"))
		mul = 1;
	else if (!strcmp(end, "m"))
		mul = 60000;
	else if (!strcmp(end, "h"))
		mul = 3600000;
	else
		return -1;
	/* between 100 ms and a day */
	if (v > 86400000ULL / mul || v * mul < 100)
		return -1;
	*ms = v * mul;
	return 0;
}

static int parse_uint(const char *name, const char *s, unsigned long long lo, unsigned long long hi,
		      unsigned long long *out, struct ck_err **err)
{
	char *end;

	errno = 0;
	if (!*s || *s < '0' || *s > '9')
		goto bad;
	*out = strtoull(s, &end, 10);
	if (errno || *end || *out < lo || *out > hi)
		goto bad;
	return 0;
bad:
	return ck_err_set(err, EINVAL, "annotation %s: \"%s\" is not a number in %llu..%llu", name,
			  s, lo, hi);
}

static long sys_openat2(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)flags,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};

	return syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/*
 * Create (0700) and open <bundle>/<rel>, every component resolved beneath the
 * bundle: a symlink may point elsewhere inside it, never out.
 */
static int make_dir(const char *bundle, const char *rel, char **abs, struct ck_err **err)
{
	_cleanup_close_ int bfd = -1, fd = -1;
	_cleanup_free_ char *copy = xstrdup(rel), *prefix = xstrdup("");
	char link[64], real[PATH_MAX];
	char *save = NULL, *comp;
	ssize_t n;

	if (!*rel)
		return ck_err_set(err, EINVAL, "annotation " GLUE_AGENT_ANN_DIR ": empty");
	if (rel[0] == '/')
		return ck_err_set(err, EINVAL,
				  "annotation " GLUE_AGENT_ANN_DIR
				  ": \"%s\" is absolute (give a path relative to the bundle)",
				  rel);
	bfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0)
		return ck_err_set(err, errno, "bundle %s", bundle);
	for (comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		_cleanup_free_ char *next = NULL;
		_cleanup_close_ int pfd = -1;

		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, ".."))
			return ck_err_set(err, EINVAL,
					  "annotation " GLUE_AGENT_ANN_DIR
					  ": \"%s\" has a '..' component",
					  rel);
		next = *prefix ? xasprintf("%s/%s", prefix, comp) : xstrdup(comp);
		pfd = *prefix ? (int)sys_openat2(bfd, prefix, O_PATH | O_DIRECTORY | O_CLOEXEC)
			      : dup(bfd);
		if (pfd < 0)
			return ck_err_set(err, errno, "annotation " GLUE_AGENT_ANN_DIR ": %s/%s",
					  bundle, prefix);
		if (mkdirat(pfd, comp, 0700) < 0 && errno != EEXIST)
			return ck_err_set(err, errno,
					  "annotation " GLUE_AGENT_ANN_DIR ": mkdir %s/%s", bundle,
					  next);
		free(prefix);
		prefix = steal_ptr(&next);
	}
	if (!*prefix)
		return ck_err_set(
			err, EINVAL,
			"annotation " GLUE_AGENT_ANN_DIR ": \"%s\" names the bundle itself", rel);
	fd = (int)sys_openat2(bfd, prefix, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == EXDEV || errno == ELOOP)
			return ck_err_set(err, errno,
					  "annotation " GLUE_AGENT_ANN_DIR
					  ": \"%s\" leads out of the bundle %s",
					  rel, bundle);
		return ck_err_set(err, errno, "annotation " GLUE_AGENT_ANN_DIR ": %s/%s", bundle,
				  prefix);
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, real, sizeof(real) - 1);
	if (n < 0)
		return ck_err_set(err, errno, "readlink %s", link);
	real[n] = '\0';
	*abs = xstrdup(real);
	return 0;
}

/* see agent.h */
int glue_agent_conf_check_root(const struct glue_agent_conf *c, const char *root,
			       struct ck_err **err)
{
	_cleanup_free_ char *joined = NULL;
	char rr[PATH_MAX];
	size_t n;

	if (!root)
		return 0;
	joined = root[0] == '/' ? xstrdup(root) : xasprintf("%s/%s", c->bundle, root);
	if (!realpath(joined, rr))
		return 0; /* no root yet: nothing of the container can be there */
	n = strlen(rr);
	if (!strncmp(c->ckpt_dir, rr, n) && (c->ckpt_dir[n] == '/' || !c->ckpt_dir[n] || n == 1)) {
		rmdir(c->ckpt_dir); /* just made by glue_agent_conf_from; only if empty */
		return ck_err_set(err, EXDEV,
				  "annotation " GLUE_AGENT_ANN_DIR
				  ": %s is inside the container's root %s (the container could "
				  "swap its components for symlinks while the agent writes there)",
				  c->ckpt_dir, rr);
	}
	return 0;
}

/* see agent.h */
int glue_agent_conf_from(const struct oci_kv *a, size_t n, const char *bundle, const char *id,
			 pid_t init_pid, struct glue_agent_conf *c, struct ck_err **err)
{
	const char *v;
	unsigned long long u;

	memset(c, 0, sizeof(*c));
	c->interval_ms = GLUE_AGENT_DEF_INTERVAL_MS;
	c->max_layers = GLUE_AGENT_DEF_MAX_LAYERS;
	c->converge_pages = GLUE_AGENT_DEF_CONVERGE;
	c->tracker = -1;
	c->init_pid = init_pid;
	v = oci_annotation(a, n, GLUE_AGENT_ANN_INTERVAL);
	if (v && glue_agent_parse_duration(v, &c->interval_ms) < 0)
		return ck_err_set(
			err, EINVAL,
			"annotation " GLUE_AGENT_ANN_INTERVAL
			": \"%s\" is not a duration between 100ms and 24h (e.g. 30s, 500ms, 2m, 1h)",
			v);
	v = oci_annotation(a, n, GLUE_AGENT_ANN_MAX);
	if (v) {
		if (parse_uint(GLUE_AGENT_ANN_MAX, v, 1, 1000, &u, err) < 0)
			return -1;
		c->max_layers = (unsigned)u;
	}
	v = oci_annotation(a, n, GLUE_AGENT_ANN_CONVERGE);
	if (v) {
		if (parse_uint(GLUE_AGENT_ANN_CONVERGE, v, 0, 1ULL << 40, &u, err) < 0)
			return -1;
		c->converge_pages = u;
	}
	v = oci_annotation(a, n, GLUE_AGENT_ANN_TRACKER);
	if (v && strcmp(v, "auto")) {
		c->tracker = glue_tracker_lookup(v);
		if (c->tracker < 0)
			return ck_err_set(
				err, EINVAL,
				"annotation " GLUE_AGENT_ANN_TRACKER
				": unknown tracker \"%s\" (auto, uffd-wp, soft-dirty, hash, none)",
				v);
	}
	v = oci_annotation(a, n, GLUE_AGENT_ANN_DIR);
	if (make_dir(bundle, v ? v : GLUE_AGENT_DEF_DIR, &c->ckpt_dir, err) < 0) {
		glue_agent_conf_clear(c);
		return -1;
	}
	if (glue_proc_starttime(init_pid, &c->start_time, err) < 0) {
		glue_agent_conf_clear(c);
		return ck_err_wrap(err, "container init %d", (int)init_pid);
	}
	c->id = xstrdup(id);
	c->bundle = xstrdup(bundle);
	return 0;
}

/* In the grandchild: detach from everything of the hook, then run the agent. */
static __attribute__((noreturn)) void agent_main(const struct glue_agent_conf *c, int ready)
{
	_cleanup_free_ char *log = xasprintf("%s/agent.log", c->ckpt_dir);
	_cleanup_err_ struct ck_err *err = NULL;
	int fd, rc;

	if (dup2(ready, 3) < 0)
		_exit(1);
	ready = 3;
	close_range(4, ~0U, 0);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, 0) < 0)
		_exit(1);
	close(fd);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(1);
	close(fd);
	if (chdir("/") < 0)
		_exit(1);
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	ck_log_set_fd(2);
	ck_log_set_level(CK_LOG_INFO);
	glue_fault_scope("agent");
	rc = glue_agent_run(c, ready, &err);
	if (err) {
		_cleanup_free_ char *m = ck_err_str(err);

		ck_log(CK_LOG_ERROR, "ckpt agent %s: %s", c->id, m);
		if (ready >= 0) {
			dprintf(ready, "ERR %s\n", m);
		}
	}
	/* stopped by SIGTERM/SIGINT: everything was released, exit as a shell reports it */
	_exit(ck_stop_sig ? 128 + ck_stop_sig : rc < 0 ? 1 : 0);
}

/* see agent.h */
int glue_agent_spawn(const struct glue_agent_conf *c, pid_t *agent_pid, struct ck_err **err)
{
	int p[2];
	pid_t child;
	char buf[1024];
	size_t got = 0;
	int status;

	glue_fault_init();
	if (glue_fault("agent-spawn", err) < 0)
		return ck_err_wrap(err, "start the agent of %s", c->id);
	if (pipe2(p, O_CLOEXEC) < 0)
		return ck_err_set(err, errno, "pipe");
	child = fork();
	if (child < 0) {
		close(p[0]);
		close(p[1]);
		return ck_err_set(err, errno, "fork");
	}
	if (child == 0) {
		close(p[0]);
		if (setsid() < 0)
			_exit(1);
		child = fork();
		if (child < 0)
			_exit(1);
		if (child > 0)
			_exit(0);
		agent_main(c, p[1]);
	}
	close(p[1]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	/* The agent answers "OK <pid>" once it listens, or "ERR <message>". */
	for (;;) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		int r = poll(&pf, 1, 10000);
		ssize_t k;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			close(p[0]);
			return ck_err_set(err, r == 0 ? ETIMEDOUT : errno,
					  "the agent did not report within 10 s (see %s/agent.log)",
					  c->ckpt_dir);
		}
		k = read(p[0], buf + got, sizeof(buf) - 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || (got += (size_t)k) == sizeof(buf) - 1 || memchr(buf, '\n', got))
			break;
	}
	close(p[0]);
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!strncmp(buf, "OK ", 3)) {
		*agent_pid = (pid_t)atoi(buf + 3);
		return 0;
	}
	if (!strncmp(buf, "ERR ", 4))
		return ck_err_set(err, 0, "agent: %s", buf + 4);
	return ck_err_set(err, 0, "the agent exited before it was ready (see %s/agent.log)",
			  c->ckpt_dir);
}

/* see agent.h */
int glue_agent_dir_of_bundle(const char *bundle, char **dir, struct ck_err **err)
{
	_cleanup_(oci_config_freep) struct oci_config *cfg = NULL;
	_cleanup_free_ char *path = xasprintf("%s/config.json", bundle), *joined = NULL;
	char rb[PATH_MAX], rd[PATH_MAX];
	const char *rel;
	size_t n;

	if (oci_config_load(path, &cfg, err) < 0)
		return ck_err_wrap(err, "bundle %s", bundle);
	rel = oci_annotation(cfg->annotations, cfg->nr_annotations, GLUE_AGENT_ANN_DIR);
	if (!rel)
		rel = GLUE_AGENT_DEF_DIR;
	if (rel[0] == '/' || strstr(rel, ".."))
		return ck_err_set(err, EINVAL, "annotation " GLUE_AGENT_ANN_DIR ": \"%s\" refused",
				  rel);
	if (!realpath(bundle, rb))
		return ck_err_set(err, errno, "bundle %s", bundle);
	joined = xasprintf("%s/%s", rb, rel);
	if (!realpath(joined, rd))
		return ck_err_set(err, errno, "checkpoint directory %s (no agent ever ran?)",
				  joined);
	n = strlen(rb);
	if (strncmp(rd, rb, n) || rd[n] != '/')
		return ck_err_set(err, EXDEV, "checkpoint directory %s leads out of the bundle",
				  joined);
	*dir = xstrdup(rd);
	return 0;
}
