// SPDX-License-Identifier: MIT
/*
 * `ckpt restore` through the criu binary.
 *
 *   ckpt restore -D DIR
 *     check DIR (inventory.img, pstree.img), every pid of the image free
 *     find criu (--criu PATH, else PATH)
 *     criu restore -D DIR -o LOG -v4 [--shell-job] [-d] [--pidfile F] [EXTRA...]
 *     exit 0          -> done (the root keeps its dumped pid)
 *     otherwise       -> the log's first errors, translated where the cause is known
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "proto/img.h"
#include "proto/inventory.pb-c.h"
#include "proto/pstree.pb-c.h"
#include "runtime-glue/dump/restore.h"

struct image_summary {
	int root_pid, root_sid, root_pgid;
	size_t nr_pids;
	int *pids; /* every pid and tid of the image */
};

static void summary_free(struct image_summary *s)
{
	free(s->pids);
}

static int read_image(int dirfd, const char *dir, struct image_summary *s, struct ck_err **err)
{
	_cleanup_(img_releasep) struct img *inv = NULL, *pst = NULL;
	InventoryEntry *ie = NULL;
	void *msg = NULL;

	inv = img_open(dirfd, "inventory.img", IMG_INVENTORY, err);
	if (!inv)
		return ck_err_wrap(err, "%s is not a dump directory", dir);
	if (img_read(inv, img_entry_desc(IMG_INVENTORY, 0), &msg, err) < 0)
		return -1;
	ie = msg;
	if (!ie)
		return ck_err_set(err, EINVAL, "%s/inventory.img is empty", dir);
	if (!ie->root_ids || !ie->has_fdinfo_per_id) {
		img_free_msg(ie);
		return ck_err_set(
			err, EINVAL,
			"%s holds a memory layer only (a pre-dump or a dump --memory-only), not a restorable dump: restore the final 'ckpt dump' directory",
			dir);
	}
	img_free_msg(ie);

	pst = img_open(dirfd, "pstree.img", IMG_PSTREE, err);
	if (!pst)
		return -1;
	for (size_t i = 0;; i++) {
		PstreeEntry *pe;

		if (img_read_entry(pst, &msg, err) < 0)
			return -1;
		if (!msg)
			break;
		pe = msg;
		if (i == 0) {
			s->root_pid = (int)pe->pid;
			s->root_sid = (int)pe->sid;
			s->root_pgid = (int)pe->pgid;
		}
		s->pids = xreallocarray(s->pids, s->nr_pids + 1 + pe->n_threads, sizeof(int));
		s->pids[s->nr_pids++] = (int)pe->pid;
		for (size_t t = 0; t < pe->n_threads; t++)
			if (pe->threads[t] != pe->pid)
				s->pids[s->nr_pids++] = (int)pe->threads[t];
		img_free_msg(pe);
	}
	if (!s->nr_pids)
		return ck_err_set(err, EINVAL, "%s/pstree.img lists no process", dir);
	return 0;
}

static bool image_has_pid(const struct image_summary *s, int pid)
{
	for (size_t i = 0; i < s->nr_pids; i++)
		if (s->pids[i] == pid)
			return true;
	return false;
}

static int check_pids_free(const struct image_summary *s, struct ck_err **err)
{
	for (size_t i = 0; i < s->nr_pids; i++) {
		char path[64], comm[64] = "?";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d", s->pids[i]);
		if (access(path, F_OK) < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", s->pids[i]);
		f = fopen(path, "re");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
		return ck_err_set(
			err, EEXIST,
			"pid %d is in use (by '%s'): the dumped processes are restored with their original pids, so stop that process (or restore in a new pid namespace)",
			s->pids[i], comm);
	}
	return 0;
}

/* The criu binary: @given, or "criu" searched in PATH.  Caller frees. */
static char *find_criu(const char *given, struct ck_err **err)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = NULL;
	char *dir, *save = NULL;

	if (given) {
		if (access(given, X_OK) < 0) {
			ck_err_set(err, errno, "--criu %s", given);
			return NULL;
		}
		return xstrdup(given);
	}
	copy = xstrdup(path ? path
			    : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *cand = xasprintf("%s/criu", *dir ? dir : ".");
		struct stat st;

		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
			return cand;
		free(cand);
	}
	ck_err_set(
		err, ENOENT,
		"CRIU is not installed: no 'criu' in PATH (ckpt restores through CRIU; install it, e.g. the Debian package criu, or pass --criu PATH)");
	return NULL;
}

/* First line of `criu --version` ("Version: 3.17.1"), or "criu". */
static char *criu_version(const char *criu)
{
	_cleanup_free_ char *cmd = xasprintf("'%s' --version 2>/dev/null", criu);
	char line[128];
	FILE *p = popen(cmd, "re");
	char *v = NULL;

	if (!p)
		return xstrdup("criu");
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "Version: ", 9)) {
			v = xasprintf("CRIU %s", line + 9);
			break;
		}
	}
	pclose(p);
	return v ? v : xstrdup("criu");
}

/* Read a whole (log) file, at most @max bytes from its start.  NULL on failure. */
static char *slurp(const char *path, size_t max)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return NULL;
	buf = xmalloc(max + 1);
	while (got < max && (n = read(fd, buf + got, max - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	return buf;
}

static char *dup_n(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/*
 * CRIU 4.x logs this on every restore without CAP_SYS_RESOURCE and goes on:
 * it is never the reason a restore failed.
 */
#define HARMLESS_RLIMIT "rlimit: Can't setup RLIMIT_NOFILE for self"

/* The text of the first CRIU "Error (file:line): ..." line, without its prefix. */
static char *first_error(const char *log)
{
	const char *p = log;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *e = memmem(p, len, "Error (", 7);

		if (e && memmem(p, len, HARMLESS_RLIMIT, strlen(HARMLESS_RLIMIT)))
			e = NULL;
		if (e) {
			const char *msg = memmem(e, len - (size_t)(e - p), "): ", 3);

			msg = msg ? msg + 3 : e;
			return dup_n(msg, len - (size_t)(msg - p));
		}
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

/* A line of @log containing @needle, trimmed of CRIU's prefix, or NULL. */
static char *line_with(const char *log, const char *needle)
{
	const char *hit = strstr(log, needle), *start, *end, *msg;

	if (!hit)
		return NULL;
	start = hit;
	while (start > log && start[-1] != '\n')
		start--;
	end = strchr(hit, '\n');
	if (!end)
		end = hit + strlen(hit);
	msg = memmem(start, (size_t)(end - start), "): ", 3);
	msg = msg && msg < hit ? msg + 3 : start;
	return dup_n(msg, (size_t)(end - msg));
}

/*
 * Turn a failed CRIU run into one ckpt error: known causes in ckpt's words,
 * otherwise CRIU's first error line; always with the log's path.
 */
static int explain_failure(const char *criu, int status, const char *log_path,
			   const char *stderr_text, struct ck_err **err)
{
	_cleanup_free_ char *log = slurp(log_path, 8u << 20);
	_cleanup_free_ char *version = criu_version(criu);
	_cleanup_free_ char *why = NULL, *line = NULL;
	const char *text = log && *log ? log : stderr_text;
	struct utsname u;
	char how[64];

	if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "was killed by signal %d", WTERMSIG(status));
	else
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "?");
	if (!text)
		text = "";

	if ((line = line_with(text, "Unexpected rt vDSO area bounds")) ||
	    (line = line_with(text, "Failed to fetch kerndat")) ||
	    (line = line_with(text, "kerndat_init")) ||
	    (line = line_with(text, "Can't init kernel data")))
		return ck_err_set(
			err, 0,
			"%s cannot run on this kernel (Linux %s): its kernel probe fails (\"%s\"); restore these images on a kernel this CRIU supports, or with a newer CRIU (--criu PATH) (CRIU log: %s)",
			version, u.release, line, log_path);
	if ((line = line_with(text, "Can't fork for")))
		return ck_err_set(
			err, EEXIST,
			"CRIU could not recreate a process with its original pid (\"%s\"): that pid is taken (CRIU log: %s)",
			line, log_path);
	if ((line = line_with(text, "has bad size")) ||
	    (line = line_with(text, "Can't open file")) ||
	    (line = line_with(text, "No such file or directory")))
		return ck_err_set(
			err, 0,
			"a file the dumped processes used is missing or changed (\"%s\"); files are reopened by path (CRIU log: %s)",
			line, log_path);
	if ((line = line_with(text, "Core march mismatch")) ||
	    (line = line_with(text, "Corruption in")) ||
	    (line = line_with(text, "Image corrupted")) ||
	    (line = line_with(text, "Too old image")) ||
	    (line = line_with(text, "Failed unpacking")))
		return ck_err_set(
			err, 0,
			"%s rejected the images (\"%s\"): please report this as a ckpt bug (CRIU log: %s)",
			version, line, log_path);
	if ((line = line_with(text, "Permission denied")) || (line = line_with(text, "EPERM")))
		return ck_err_set(err, EPERM, "%s %s: \"%s\" (restoring needs root) (CRIU log: %s)",
				  version, how, line, log_path);
	why = first_error(text);
	if (why)
		return ck_err_set(err, 0, "%s %s: %s (CRIU log: %s)", version, how, why, log_path);
	return ck_err_set(err, 0, "%s %s without an error message (CRIU log: %s)", version, how,
			  log_path);
}

/* Read what the child writes to @fd (its stderr) until EOF, at most 64 KiB kept. */
static char *drain(int fd)
{
	size_t cap = 65536, got = 0;
	char *buf = xmalloc(cap + 1), tmp[4096];
	ssize_t n;

	while ((n = TEMP_FAILURE_RETRY_INT(read(fd, tmp, sizeof(tmp)))) > 0) {
		size_t take = (size_t)n < cap - got ? (size_t)n : cap - got;

		memcpy(buf + got, tmp, take);
		got += take;
	}
	buf[got] = '\0';
	return buf;
}

/* see restore.h */
int glue_restore(const struct glue_restore_opts *o, int *root_pid, struct ck_err **err)
{
	_cleanup_close_ int dirfd = -1;
	_cleanup_free_ char *criu = NULL, *log_tmp = NULL, *errtext = NULL, *absdir = NULL;
	_cleanup_free_ char **argv = NULL;
	struct image_summary s = { 0 };
	const char *log_path;
	bool shell_job = o->shell_job;
	size_t argc = 0;
	int pfd[2], status, rc = -1;
	pid_t child;

	if (!o->dir)
		return ck_err_set(err, EINVAL, "no image directory given (-D DIR)");
	dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return ck_err_set(err, errno, "image directory %s", o->dir);
	absdir = realpath(o->dir, NULL);
	if (!absdir)
		return ck_err_set(err, errno, "image directory %s", o->dir);
	if (read_image(dirfd, o->dir, &s, err) < 0)
		goto out;
	if (check_pids_free(&s, err) < 0)
		goto out;
	if (!shell_job && !image_has_pid(&s, s.root_sid)) {
		pr_info("the dumped session leader %d was outside the tree: restoring with --shell-job",
			s.root_sid);
		shell_job = true;
	}
	criu = find_criu(o->criu, err);
	if (!criu)
		goto out;

	if (o->log_file) {
		log_path = o->log_file;
	} else {
		int fd;

		log_tmp = xstrdup("/tmp/ckpt-restore-XXXXXX.log");
		fd = mkostemps(log_tmp, 4, O_CLOEXEC);
		if (fd < 0) {
			ck_err_set(err, errno, "create a log file in /tmp");
			goto out;
		}
		close(fd);
		log_path = log_tmp;
	}

	argv = xcalloc(16 + o->nr_extra, sizeof(*argv));
	argv[argc++] = criu;
	argv[argc++] = (char *)"restore";
	argv[argc++] = (char *)"-D";
	argv[argc++] = absdir;
	argv[argc++] = (char *)"-o";
	argv[argc++] = (char *)log_path;
	argv[argc++] = (char *)"-v4";
	if (shell_job)
		argv[argc++] = (char *)"--shell-job";
	if (o->detach)
		argv[argc++] = (char *)"-d";
	if (o->pidfile) {
		argv[argc++] = (char *)"--pidfile";
		argv[argc++] = (char *)o->pidfile;
	}
	for (size_t i = 0; i < o->nr_extra; i++)
		argv[argc++] = o->extra[i];
	argv[argc] = NULL;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		ck_err_set(err, errno, "pipe");
		goto out;
	}
	child = fork();
	if (child < 0) {
		ck_err_set(err, errno, "fork");
		close(pfd[0]);
		close(pfd[1]);
		goto out;
	}
	if (child == 0) {
		dup2(pfd[1], STDERR_FILENO);
		execv(criu, argv);
		dprintf(STDERR_FILENO, "Error (ckpt): exec %s: %s\n", criu, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	errtext = drain(pfd[0]);
	close(pfd[0]);
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR) {
			ck_err_set(err, errno, "wait for criu");
			goto out;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		pr_info("%s restored pid %d (log: %s)", criu, s.root_pid, log_path);
		if (log_tmp)
			unlink(log_tmp);
		if (root_pid)
			*root_pid = s.root_pid;
		rc = 0;
		goto out;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 &&
	    !strncmp(errtext, "Error (ckpt): exec ", 19)) {
		errtext[strcspn(errtext, "\n")] = '\0';
		ck_err_set(err, 0, "cannot run %s", errtext + 19);
	} else {
		explain_failure(criu, status, log_path, errtext, err);
	}
out:
	summary_free(&s);
	if (rc < 0)
		return ck_err_wrap(err, "restore of %s", o->dir);
	return 0;
}
