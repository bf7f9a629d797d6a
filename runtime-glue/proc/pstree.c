// SPDX-License-Identifier: MIT
/*
 * Process tree collection from /proc and cgroupfs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/xalloc.h"
#include "runtime-glue/proc/proc.h"
#include "runtime-glue/proc/pstree.h"

struct pidvec {
	size_t nr, cap;
	pid_t *p;
};

static void pv_push(struct pidvec *v, pid_t p)
{
	if (v->nr == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 16;
		v->p = xreallocarray(v->p, v->cap, sizeof(*v->p));
	}
	v->p[v->nr++] = p;
}

static bool pv_has(const struct pidvec *v, pid_t p)
{
	for (size_t i = 0; i < v->nr; i++)
		if (v->p[i] == p)
			return true;
	return false;
}

/* see pstree.h */
int glue_proc_status_field(pid_t pid, const char *key, char *buf, size_t len)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t n = 0, klen = strlen(key);
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (getline(&line, &n, f) > 0) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		char *v = line + klen + 1;

		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = '\0';
		snprintf(buf, len, "%s", v);
		return 0;
	}
	errno = ENOENT;
	return -1;
}

/* Last number of a whitespace-separated list ("NSpid: 41 1" -> 1). */
static pid_t last_num(const char *s)
{
	const char *p = s + strlen(s);

	while (p > s && (p[-1] == ' ' || p[-1] == '\t'))
		p--;
	while (p > s && p[-1] >= '0' && p[-1] <= '9')
		p--;
	return (pid_t)atoi(p);
}

/* Fill the stat-derived fields of @t from /proc/PID/stat. */
static int read_stat(struct glue_task *t, struct ck_err **err)
{
	uint64_t f[GLUE_STAT_FIELDS];

	if (glue_proc_stat_need(t->pid, f, 22, err) < 0)
		return -1;
	t->ppid = (pid_t)f[4];
	t->pgid = (pid_t)f[5];
	t->sid = (pid_t)f[6];
	t->start_time = f[22];
	t->dead = f[3] == 'Z' || f[3] == 'X';
	t->kthread = f[9] & 0x00200000; /* PF_KTHREAD */
	return 0;
}

/* see pstree.h */
bool glue_task_refresh_dead(struct glue_task *t)
{
	uint64_t f[GLUE_STAT_FIELDS];
	_cleanup_err_ struct ck_err *e = NULL;

	int last = glue_proc_stat_need(t->pid, f, 22, &e);

	if (last < 0)
		t->dead = e->errnum == ENOENT || e->errnum == ESRCH;
	else if (f[22] == t->start_time)
		/* exiting: its memory released (vsize 0), a zombie soon (proc.h) */
		t->dead = f[3] == 'Z' || f[3] == 'X' || (!t->kthread && last >= 23 && f[23] == 0);
	else
		t->dead = true; /* the pid was reused: ours is gone */
	return t->dead;
}

static int read_threads(struct glue_task *t, struct ck_err **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	char path[64], buf[256];
	size_t cap = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)t->pid);
	d = opendir(path);
	if (!d)
		return ck_err_set(err, errno, "open %s", path);
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);

		if (tid <= 0)
			continue;
		if (t->nr_threads == cap) {
			cap = cap ? cap * 2 : 8;
			t->threads = xreallocarray(t->threads, cap, sizeof(pid_t));
			t->vthreads = xreallocarray(t->vthreads, cap, sizeof(pid_t));
		}
		t->threads[t->nr_threads] = tid;
		t->vthreads[t->nr_threads] = tid;
		if (glue_proc_status_field(tid, "NSpid", buf, sizeof(buf)) == 0)
			t->vthreads[t->nr_threads] = last_num(buf);
		/* the leader goes first */
		if (tid == t->pid && t->nr_threads) {
			pid_t a = t->threads[0], b = t->vthreads[0];

			t->threads[0] = tid;
			t->vthreads[0] = t->vthreads[t->nr_threads];
			t->threads[t->nr_threads] = a;
			t->vthreads[t->nr_threads] = b;
		}
		t->nr_threads++;
	}
	if (!t->nr_threads)
		return ck_err_set(err, ESRCH, "task %d has no threads", (int)t->pid);
	return 0;
}

static int fill_task(struct glue_task *t, pid_t pid, struct ck_err **err)
{
	char buf[256];

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	if (read_stat(t, err) < 0 || read_threads(t, err) < 0)
		return ck_err_wrap(err, "task %d", (int)pid);
	if (glue_proc_status_field(pid, "Tgid", buf, sizeof(buf)) == 0 && atoi(buf) != pid)
		return ck_err_set(err, 0, "%d is a thread, not a process (its process is %s)",
				  (int)pid, buf);
	t->vpid = pid;
	t->vpgid = t->pgid;
	t->vsid = t->sid;
	if (glue_proc_status_field(pid, "NSpid", buf, sizeof(buf)) == 0)
		t->vpid = last_num(buf);
	if (glue_proc_status_field(pid, "NSpgid", buf, sizeof(buf)) == 0)
		t->vpgid = last_num(buf);
	if (glue_proc_status_field(pid, "NSsid", buf, sizeof(buf)) == 0)
		t->vsid = last_num(buf);
	return 0;
}

/* Children of every thread of @pid. */
static int read_children(pid_t pid, struct pidvec *out, struct ck_err **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	char path[320];

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return ck_err_set(err, errno, "open %s", path);
	while ((de = readdir(d))) {
		_cleanup_fclose_ FILE *f = NULL;
		int child;

		if (atoi(de->d_name) <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children", (int)pid, de->d_name);
		f = fopen(path, "re");
		if (!f) {
			if (errno == ENOENT || errno == ESRCH)
				continue; /* thread exited meanwhile */
			return ck_err_set(err, errno,
					  "open %s (kernel without CONFIG_PROC_CHILDREN?)", path);
		}
		while (fscanf(f, "%d", &child) == 1)
			if (!pv_has(out, child))
				pv_push(out, child);
	}
	return 0;
}

static void fix_parents(struct glue_pstree *tree)
{
	for (size_t i = 0; i < tree->nr; i++) {
		struct glue_task *t = &tree->t[i];
		struct glue_task *p = glue_pstree_find(tree, t->ppid);

		if (p) {
			t->vppid = p->vpid;
		} else {
			t->ppid = 0;
			t->vppid = 0;
		}
	}
}

static int build(const pid_t *pids, size_t nr, struct glue_pstree *out, struct ck_err **err)
{
	struct glue_pstree tree = { 0 };

	tree.t = xcalloc(nr ? nr : 1, sizeof(*tree.t));
	for (size_t i = 0; i < nr; i++) {
		if (fill_task(&tree.t[tree.nr], pids[i], err) < 0) {
			struct glue_task *t = &tree.t[tree.nr];
			int e = (*err)->errnum;

			free(t->threads);
			free(t->vthreads);
			if (i > 0 && (e == ENOENT || e == ESRCH)) {
				/* exited and reaped since it was listed: not in the tree */
				ck_err_free(err);
				continue;
			}
			glue_pstree_free(&tree);
			return -1;
		}
		tree.nr++;
	}
	fix_parents(&tree);
	*out = tree;
	return 0;
}

/* see pstree.h */
int glue_pstree_from_pid(pid_t root, struct glue_pstree *out, struct ck_err **err)
{
	struct pidvec v = { 0 };
	int rc;

	if (root <= 0)
		return ck_err_set(err, 0, "invalid pid %d", (int)root);
	if (kill(root, 0) < 0 && errno == ESRCH)
		return ck_err_set(err, ESRCH, "no process %d", (int)root);
	pv_push(&v, root);
	/* breadth first: parents before children */
	for (size_t i = 0; i < v.nr; i++) {
		if (read_children(v.p[i], &v, err) < 0) {
			/* ESRCH: /proc/N/task of a task being torn down as we look */
			if (i > 0 && ((*err)->errnum == ENOENT || (*err)->errnum == ESRCH)) {
				ck_err_free(err); /* a child exited meanwhile */
				continue;
			}
			free(v.p);
			return -1;
		}
	}
	rc = build(v.p, v.nr, out, err);
	free(v.p);
	return rc;
}

static int read_procs(const char *dir, struct pidvec *v, int depth, struct ck_err **err)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ char *path = xasprintf("%s/cgroup.procs", dir);
	struct dirent *de;
	int pid;

	if (depth > 64)
		return ck_err_set(err, ELOOP, "cgroup %s nested too deep", dir);
	f = fopen(path, "re");
	if (!f)
		return ck_err_set(err, errno, "open %s", path);
	while (fscanf(f, "%d", &pid) == 1)
		if (!pv_has(v, pid))
			pv_push(v, pid);
	d = opendir(dir);
	if (!d)
		return ck_err_set(err, errno, "open %s", dir);
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);

		if (read_procs(sub, v, depth + 1, err) < 0)
			return -1;
	}
	return 0;
}

/* see pstree.h */
int glue_pstree_from_cgroup(const char *dir, struct glue_pstree *out, struct ck_err **err)
{
	struct pidvec v = { 0 }, ordered = { 0 };
	struct glue_pstree tree = { 0 };
	size_t roots = 0;
	int rc = -1;

	if (read_procs(dir, &v, 0, err) < 0)
		goto out;
	if (!v.nr) {
		ck_err_set(err, 0, "cgroup %s has no tasks", dir);
		goto out;
	}
	if (build(v.p, v.nr, &tree, err) < 0)
		goto out;
	/* order: roots first, then breadth first by parent */
	for (size_t i = 0; i < tree.nr; i++)
		if (!tree.t[i].ppid) {
			pv_push(&ordered, tree.t[i].pid);
			roots++;
		}
	if (roots != 1) {
		ck_err_set(err, 0, "cgroup %s holds %zu process trees; one root is required", dir,
			   roots);
		goto out;
	}
	for (size_t i = 0; i < ordered.nr; i++)
		for (size_t j = 0; j < tree.nr; j++)
			if (tree.t[j].ppid == ordered.p[i])
				pv_push(&ordered, tree.t[j].pid);
	glue_pstree_free(&tree);
	rc = build(ordered.p, ordered.nr, out, err);
out:
	glue_pstree_free(&tree);
	free(v.p);
	free(ordered.p);
	return rc;
}

/* see pstree.h */
void glue_pstree_free(struct glue_pstree *tree)
{
	for (size_t i = 0; i < tree->nr; i++) {
		free(tree->t[i].threads);
		free(tree->t[i].vthreads);
	}
	free(tree->t);
	tree->t = NULL;
	tree->nr = 0;
}

/* see pstree.h */
struct glue_task *glue_pstree_find(const struct glue_pstree *tree, pid_t pid)
{
	if (pid <= 0)
		return NULL;
	for (size_t i = 0; i < tree->nr; i++)
		if (tree->t[i].pid == pid)
			return &tree->t[i];
	return NULL;
}

/* see pstree.h */
size_t glue_pstree_nr_threads(const struct glue_pstree *tree)
{
	size_t n = 0;

	for (size_t i = 0; i < tree->nr; i++)
		n += tree->t[i].nr_threads;
	return n;
}

/* Mount point of the v2 hierarchy or of the v1 freezer hierarchy, from mountinfo. */
static char *cgroup_mount(bool v2)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t n = 0;

	if (!f)
		return NULL;
	while (getline(&line, &n, f) > 0) {
		char mnt[PATH_MAX], fstype[64], super[1024];
		char *sep = strstr(line, " - ");

		if (!sep)
			continue;
		if (sscanf(line, "%*d %*d %*s %*s %4095s", mnt) != 1)
			continue;
		if (sscanf(sep + 3, "%63s %*s %1023s", fstype, super) != 2)
			continue;
		if (v2 && !strcmp(fstype, "cgroup2"))
			return xstrdup(mnt);
		if (!v2 && !strcmp(fstype, "cgroup")) {
			char *save = NULL;

			for (char *o = strtok_r(super, ",", &save); o;
			     o = strtok_r(NULL, ",", &save))
				if (!strcmp(o, "freezer"))
					return xstrdup(mnt);
		}
	}
	return NULL;
}

static bool has_file(const char *dir, const char *name)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, name);

	return access(p, F_OK) == 0;
}

static int set_cgroup(struct glue_cgroup *out, const char *dir, struct ck_err **err)
{
	char real[PATH_MAX];

	if (!realpath(dir, real))
		return ck_err_set(err, errno, "cgroup %s", dir);
	if (has_file(real, "cgroup.freeze")) {
		out->v2 = true;
	} else if (has_file(real, "freezer.state")) {
		out->v2 = false;
	} else {
		return ck_err_set(
			err, 0,
			"%s is not a freezable cgroup (no cgroup.freeze nor freezer.state; the root cgroup cannot be frozen)",
			real);
	}
	out->dir = xstrdup(real);
	return 0;
}

/* see pstree.h */
int glue_cgroup_resolve(const char *arg, struct glue_cgroup *out, struct ck_err **err)
{
	struct stat st;

	memset(out, 0, sizeof(*out));
	if (!arg || !*arg)
		return ck_err_set(err, 0, "empty cgroup path");
	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode) && has_file(arg, "cgroup.procs"))
		return set_cgroup(out, arg, err);
	for (int v2 = 1; v2 >= 0; v2--) {
		_cleanup_free_ char *mnt = cgroup_mount(v2);
		_cleanup_free_ char *p = NULL;

		if (!mnt)
			continue;
		p = xasprintf("%s/%s", mnt, arg[0] == '/' ? arg + 1 : arg);
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			return set_cgroup(out, p, err);
	}
	return ck_err_set(err, ENOENT, "cgroup %s not found", arg);
}

/* see pstree.h */
int glue_cgroup_of_pid(pid_t pid, struct glue_cgroup *out, struct ck_err **err)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	_cleanup_free_ char *v2path = NULL, *v1path = NULL;
	char path[64];
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return ck_err_set(err, errno, "open %s", path);
	while (getline(&line, &n, f) > 0) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		c2[strcspn(c2, "\n")] = '\0';
		*c2 = '\0';
		if (!strcmp(c1 + 1, "") && !v2path) {
			v2path = xstrdup(c2 + 1);
		} else {
			char *save = NULL;

			for (char *o = strtok_r(c1 + 1, ",", &save); o;
			     o = strtok_r(NULL, ",", &save))
				if (!strcmp(o, "freezer"))
					v1path = xstrdup(c2 + 1);
		}
	}
	for (int v2 = 1; v2 >= 0; v2--) {
		const char *rel = v2 ? v2path : v1path;
		_cleanup_free_ char *mnt = NULL, *dir = NULL;

		if (!rel || !strcmp(rel, "/"))
			continue;
		mnt = cgroup_mount(v2);
		if (!mnt)
			continue;
		dir = xasprintf("%s%s", mnt, rel);
		if (has_file(dir, v2 ? "cgroup.freeze" : "freezer.state"))
			return set_cgroup(out, dir, err);
	}
	return ck_err_set(err, 0, "process %d is in no freezable cgroup (v2 '%s', v1 freezer '%s')",
			  (int)pid, v2path ? v2path : "-", v1path ? v1path : "-");
}

/* see pstree.h */
void glue_cgroup_free(struct glue_cgroup *cg)
{
	free(cg->dir);
	cg->dir = NULL;
}
