// SPDX-License-Identifier: MIT
/*
 * cgroup.img of a container dump (--manage-cgroups), as CRIU 4.2 writes it
 * for a runc container (container-dump.md section 7):
 *
 *   sets         one cg_set per distinct /proc/PID/cgroup of the tasks; ckpt's
 *                own set is id 1 (the inventory's root_cg_set) and is not
 *                written; the tasks' sets follow from 2 (thread_core.cg_set)
 *   controllers  one per hierarchy of the sets: its names ("" for cgroup2,
 *                "name=systemd"), and one dir per set path with the
 *                controller's properties (value, mode, uid, gid) and the dir's
 *                perms
 *
 * Values are read from ckpt's mounts of the hierarchies.  freezer.state is
 * written with its real perms (CRIU 4.2 writes garbage there) and the value
 * the container had: the dump stops it with ptrace, never with its freezer;
 * a paused one (FROZEN) is thawed under the ptrace stops meanwhile
 * (proc/freezer.h) and recorded FROZEN, as CRIU does.
 *
 * Reading the ~25 files per dir is most of cgroup.img's cost, so the files of
 * the root task's set are read once before the freeze (glue_cg_pre_read())
 * and used in the freeze only when the tree cannot have changed them since:
 * every cgroup mount it sees is read-only and no task has CAP_SYS_ADMIN in its
 * bounding set (no remount, no new cgroupfs mount).  Dirs of other sets, and
 * freezer.state (a pause from outside moves it), are read in the freeze.  A
 * change from the host (runc update) during the dump is a race CRIU has too.
 *
 * A container in a cgroup namespace of its own (Podman's default on cgroup
 * v2, runc's "cgroup" namespace): each member also says where the
 * namespace's root is, as the length of that prefix of its path
 * (cgns_prefix), so that CRIU's restore unshares the namespace there.  The
 * roots (cgset.c) never move, so they are read before the freeze.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "proto/img.h"
#include "proto/cgroup.pb-c.h"
#include "proto/mnt.pb-c.h"
#include "runtime-glue/dump/cgset.h"
#include "runtime-glue/dump/dump-mnt.h"
#include "runtime-glue/dump/dump-priv.h"
#include "runtime-glue/proc/freezer.h"
#include "runtime-glue/proc/pstree.h"

struct glue_cg {
	size_t nr;
	struct cg_set *sets; /* sets[0] is ckpt's own (id 1) */
};

/* see dump-priv.h */
int glue_cg_task_set(struct glue_dump_state *st, pid_t pid, uint32_t *id, struct ck_err **err)
{
	struct glue_cg *cg = st->cg;
	struct cg_set s;

	if (!cg) {
		cg = st->cg = xzalloc(sizeof(*cg));
		cg->sets = xzalloc(sizeof(*cg->sets));
		if (glue_cgset_read(0, &cg->sets[0], err) < 0)
			return -1;
		cg->sets[0].id = 1;
		cg->nr = 1;
		st->root_cg_set = 1;
	}
	if (glue_cgset_read(pid, &s, err) < 0)
		return -1;
	for (size_t i = 0; i < cg->nr; i++)
		if (glue_cgset_same(&cg->sets[i], &s)) {
			glue_cgset_free(&s);
			*id = cg->sets[i].id;
			return 0;
		}
	s.id = (uint32_t)cg->nr + 1;
	cg->sets = xreallocarray(cg->sets, cg->nr + 1, sizeof(*cg->sets));
	cg->sets[cg->nr++] = s;
	*id = s.id;
	return 0;
}

/* see dump-priv.h */
void glue_cg_free(struct glue_dump_state *st)
{
	struct glue_cg *cg = st->cg;

	if (!cg)
		return;
	for (size_t i = 0; i < cg->nr; i++)
		glue_cgset_free(&cg->sets[i]);
	free(cg->sets);
	free(cg);
	st->cg = NULL;
}

/* One property file read before the freeze (val NULL: absent). */
struct cg_pre_prop {
	char *path, *val;
	struct stat sb;
};

/* ckpt's mount of a hierarchy, as found before the freeze (mnt NULL: not mounted). */
struct cg_pre_mnt {
	char *name, *mnt;
};

struct glue_cg_pre {
	size_t nr, nr_mnt;
	struct cg_pre_prop *p;
	struct cg_pre_mnt *m;
	bool cgns_read; /* the init is in a cgroup namespace of its own: its roots */
	struct cg_set cgns;
};

/* ckpt's mount of the hierarchy @name ("" = cgroup2; "cpu,cpuacct"; "name=systemd"). */
static char *scan_hierarchy_mount(const char *name)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t n = 0;

	while (f && getline(&line, &n, f) > 0) {
		char root[4096], mnt[4096], fstype[64], opts[1024];
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
		    sscanf(sep + 3, "%63s %*s %1023s", fstype, opts) != 2 || strcmp(root, "/"))
			continue;
		if (!name[0]) {
			if (!strcmp(fstype, "cgroup2"))
				return xstrdup(mnt);
			continue;
		}
		if (strcmp(fstype, "cgroup"))
			continue;
		/* every controller of @name among the mount's options */
		{
			_cleanup_free_ char *names = xstrdup(name);
			bool all = true;

			for (char *sv, *c = strtok_r(names, ",", &sv); c;
			     c = strtok_r(NULL, ",", &sv)) {
				char want[128];
				const char *o = opts;
				bool found = false;

				snprintf(want, sizeof(want), "%s", c);
				while (o && *o) {
					size_t l = strcspn(o, ",");

					if (l == strlen(want) && !strncmp(o, want, l))
						found = true;
					o += l + (o[l] == ',');
				}
				all = all && found;
			}
			if (all)
				return xstrdup(mnt);
		}
	}
	return NULL;
}

/* As scan_hierarchy_mount(), the answer found before the freeze when there is one. */
static char *hierarchy_mount(const struct glue_cg_pre *pre, const char *name)
{
	for (size_t i = 0; pre && i < pre->nr_mnt; i++)
		if (!strcmp(pre->m[i].name, name))
			return pre->m[i].mnt ? xstrdup(pre->m[i].mnt) : NULL;
	return scan_hierarchy_mount(name);
}

/* The properties CRIU 4.2 saves per controller, then those of every v1 hierarchy. */
static const char *const props_cpu[] = { "cpu.shares",        "cpu.cfs_period_us",
					 "cpu.cfs_quota_us",  "cpu.rt_period_us",
					 "cpu.rt_runtime_us", NULL };
static const char *const props_memory[] = { "memory.limit_in_bytes",
					    "memory.memsw.limit_in_bytes",
					    "memory.swappiness",
					    "memory.soft_limit_in_bytes",
					    "memory.move_charge_at_immigrate",
					    "memory.oom_control",
					    "memory.use_hierarchy",
					    "memory.kmem.limit_in_bytes",
					    "memory.kmem.tcp.limit_in_bytes",
					    NULL };
static const char *const props_cpuset[] = { "cpuset.cpus",
					    "cpuset.mems",
					    "cpuset.memory_migrate",
					    "cpuset.cpu_exclusive",
					    "cpuset.mem_exclusive",
					    "cpuset.mem_hardwall",
					    "cpuset.memory_spread_page",
					    "cpuset.memory_spread_slab",
					    "cpuset.sched_load_balance",
					    "cpuset.sched_relax_domain_level",
					    NULL };
static const char *const props_devices[] = { "devices.list", NULL };
static const char *const props_pids[] = { "pids.max", NULL };
static const char *const props_freezer[] = { "freezer.state", NULL };
static const char *const props_v2[] = { "cgroup.subtree_control",
					"cgroup.max.descendants",
					"cgroup.max.depth",
					"cgroup.freeze",
					"cgroup.type",
					NULL };
static const char *const props_v1[] = { "cgroup.clone_children", "notify_on_release",
					"cgroup.procs", "tasks", NULL };

static const char *const *controller_props(const char *c)
{
	static const struct {
		const char *name;
		const char *const *props;
	} t[] = {
		{ "cpu", props_cpu },       { "memory", props_memory },
		{ "cpuset", props_cpuset }, { "devices", props_devices },
		{ "pids", props_pids },     { "freezer", props_freezer },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (!strcmp(c, t[i].name))
			return t[i].props;
	return NULL;
}

struct dir_build {
	size_t nr;
	CgroupPropEntry *p;
	CgroupPerms *perms;
	char **vals;
	const char **names;
};

/* The value CRIU saves for property @name of cgroup @dir, and its stat; false when absent. */
static bool read_prop(const char *dir, const char *name, char **val, struct stat *sb)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	_cleanup_fclose_ FILE *f = NULL;
	char buf[4096];
	size_t n = 0;

	if (stat(path, sb) < 0)
		return false; /* not on this kernel */
	/* cgroup.procs and tasks are saved empty (the tasks are restored into the dir) */
	if (strcmp(name, "cgroup.procs") && strcmp(name, "tasks")) {
		f = fopen(path, "re");
		if (!f)
			return false;
		n = fread(buf, 1, sizeof(buf) - 1, f);
	}
	buf[n] = '\0';
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (!strcmp(name, "freezer.state") && glue_freezer_paused(dir))
		snprintf(buf, sizeof(buf), "FROZEN");
	if (!strcmp(name, "memory.oom_control")) {
		/* "oom_kill_disable N\n...": the setting only */
		char *sp = strchr(buf, ' '), *nl = strchr(buf, '\n');

		if (nl)
			*nl = '\0';
		if (sp)
			memmove(buf, sp + 1, strlen(sp + 1) + 1);
	}
	*val = xstrdup(buf);
	return true;
}

/* The entry of @path read before the freeze, or NULL. */
static const struct cg_pre_prop *pre_prop(const struct glue_cg_pre *pre, const char *path)
{
	for (size_t i = 0; pre && i < pre->nr; i++)
		if (!strcmp(pre->p[i].path, path))
			return &pre->p[i];
	return NULL;
}

static void add_prop(struct dir_build *d, const struct glue_cg_pre *pre, const char *dir,
		     const char *name, size_t *cached)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	const struct cg_pre_prop *pp = strcmp(name, "freezer.state") ? pre_prop(pre, path) : NULL;
	char *val = NULL;
	struct stat sb;

	if (pp) {
		(*cached)++;
		if (!pp->val)
			return;
		val = xstrdup(pp->val);
		sb = pp->sb;
	} else if (!read_prop(dir, name, &val, &sb)) {
		return;
	}
	d->p = xreallocarray(d->p, d->nr + 1, sizeof(*d->p));
	d->perms = xreallocarray(d->perms, d->nr + 1, sizeof(*d->perms));
	d->vals = xreallocarray(d->vals, d->nr + 1, sizeof(*d->vals));
	d->names = xreallocarray(d->names, d->nr + 1, sizeof(*d->names));
	d->names[d->nr] = name;
	cgroup_prop_entry__init(&d->p[d->nr]);
	cgroup_perms__init(&d->perms[d->nr]);
	d->vals[d->nr] = val;
	d->perms[d->nr].mode = sb.st_mode;
	d->perms[d->nr].uid = sb.st_uid;
	d->perms[d->nr].gid = sb.st_gid;
	d->nr++;
}

/* Call @fn for every property file CRIU saves in @dir of the hierarchy @hier. */
static void for_each_prop(const char *hier, bool v2, const char *dir,
			  void (*fn)(void *arg, const char *dir, const char *name), void *arg)
{
	_cleanup_free_ char *names = xstrdup(hier);
	char *sv;

	for (char *c = strtok_r(names, ",", &sv); c; c = strtok_r(NULL, ",", &sv))
		for (const char *const *pp = controller_props(c); pp && *pp; pp++)
			fn(arg, dir, *pp);
	for (const char *const *pp = v2 ? props_v2 : props_v1; *pp; pp++)
		fn(arg, dir, *pp);
}

static void pre_add(void *arg, const char *dir, const char *name)
{
	struct glue_cg_pre *pre = arg;
	struct cg_pre_prop *p;

	pre->p = xreallocarray(pre->p, pre->nr + 1, sizeof(*pre->p));
	p = &pre->p[pre->nr++];
	memset(p, 0, sizeof(*p));
	p->path = xasprintf("%s/%s", dir, name);
	if (!read_prop(dir, name, &p->val, &p->sb))
		p->val = NULL;
}

/* cgns_prefix of @m (path @path in hierarchy @name) from the namespace's @roots. */
static int set_prefix(CgMemberEntry *m, const struct cg_set *roots, struct ck_err **err)
{
	for (size_t k = 0; k < roots->nr; k++) {
		size_t l = strlen(roots->path[k]);

		if (strcmp(roots->name[k], m->name))
			continue;
		if (!strcmp(roots->path[k], "/"))
			return 0; /* rooted at the hierarchy's root: nothing to cut */
		if (strncmp(m->path, roots->path[k], l) || (m->path[l] && m->path[l] != '/'))
			return ck_err_set(
				err, EINVAL,
				"cgroup %s:%s is outside the cgroup namespace's root %s there",
				m->name, m->path, roots->path[k]);
		m->has_cgns_prefix = true;
		m->cgns_prefix = (uint32_t)l;
		return 0;
	}
	return ck_err_set(err, EINVAL, "cgroup %s: no root of the cgroup namespace there", m->name);
}

/* see dump-priv.h */
struct glue_cg_pre *glue_cg_pre_read(pid_t pid)
{
	struct glue_cg_pre *pre = xzalloc(sizeof(*pre));
	_cleanup_err_ struct ck_err *e = NULL;
	struct cg_set s;

	if (glue_cgns_own(pid) && glue_cgns_roots(pid, &pre->cgns, &e) == 0)
		pre->cgns_read = true;
	ck_err_free(&e); /* read again in the freeze, which reports it */
	if (glue_cgset_read(pid, &s, &e) < 0)
		return pre; /* nothing read: all of it in the freeze */
	pre->m = xcalloc(s.nr ? s.nr : 1, sizeof(*pre->m));
	for (size_t j = 0; j < s.nr; j++) {
		struct cg_pre_mnt *m = &pre->m[pre->nr_mnt++];
		_cleanup_free_ char *dir = NULL;

		m->name = xstrdup(s.name[j]);
		m->mnt = scan_hierarchy_mount(s.name[j]);
		if (!m->mnt || !strcmp(s.path[j], "/"))
			continue;
		dir = xasprintf("%s%s", m->mnt, s.path[j]);
		for_each_prop(s.name[j], !s.name[j][0], dir, pre_add, pre);
	}
	glue_cgset_free(&s);
	return pre;
}

/* see dump-priv.h */
void glue_cg_pre_free(struct glue_cg_pre *pre)
{
	if (!pre)
		return;
	for (size_t i = 0; i < pre->nr; i++) {
		free(pre->p[i].path);
		free(pre->p[i].val);
	}
	for (size_t i = 0; i < pre->nr_mnt; i++) {
		free(pre->m[i].name);
		free(pre->m[i].mnt);
	}
	free(pre->p);
	free(pre->m);
	glue_cgset_free(&pre->cgns);
	free(pre);
}

/*
 * Whether the tree could have written its cgroup files since the read before
 * the freeze: only through a writable cgroup mount of its own, or by making
 * one (CAP_SYS_ADMIN).  @why says which.
 */
static bool tree_may_write_cgroups(const struct glue_dump_state *st, const char **why)
{
	if (!st->mnt) {
		*why = "the tree shares ckpt's mounts";
		return true;
	}
	for (size_t i = 0; i < st->mnt->nr; i++) {
		const struct glue_mnt *m = &st->mnt->m[i];

		if ((m->fstype == FSTYPE__CGROUP || m->fstype == FSTYPE__CGROUP2) &&
		    !((m->flags | m->sb_flags) & MS_RDONLY)) {
			*why = "a cgroup mount of the container is writable";
			return true;
		}
	}
	for (size_t i = 0; i < st->tree->nr; i++) {
		char bnd[64];

		if (glue_proc_status_field(st->tree->t[i].pid, "CapBnd", bnd, sizeof(bnd)) < 0 ||
		    (strtoull(bnd, NULL, 16) >> 21) & 1) {
			*why = "a task may have CAP_SYS_ADMIN";
			return true;
		}
	}
	return false;
}

struct prop_ctx {
	struct dir_build *d;
	const struct glue_cg_pre *pre;
	size_t *cached;
};

static void prop_cb(void *arg, const char *dir, const char *name)
{
	struct prop_ctx *c = arg;

	add_prop(c->d, c->pre, dir, name, c->cached);
}

static void free_dir_build(struct dir_build *d)
{
	for (size_t i = 0; i < d->nr; i++)
		free(d->vals[i]);
	free(d->p);
	free(d->perms);
	free(d->vals);
	free(d->names);
}

/* see dump-priv.h */
int glue_cg_write(struct glue_dump_state *st, int dirfd, struct ck_err **err)
{
	struct glue_cg *cg = st->cg;
	CgroupEntry ce = CGROUP_ENTRY__INIT;
	_cleanup_free_ CgSetEntry *sets = NULL;
	_cleanup_free_ CgSetEntry **setp = NULL;
	_cleanup_free_ CgMemberEntry *mem = NULL;
	_cleanup_free_ CgMemberEntry **memp = NULL;
	_cleanup_free_ CgControllerEntry *ctl = NULL;
	_cleanup_free_ CgControllerEntry **ctlp = NULL;
	_cleanup_free_ CgroupDirEntry *dirs = NULL;
	_cleanup_free_ CgroupDirEntry **dirp = NULL;
	_cleanup_free_ CgroupPerms *dperms = NULL;
	_cleanup_free_ struct dir_build *db = NULL;
	_cleanup_free_ char **cnames = NULL;
	_cleanup_free_ char **cnbuf = NULL;
	_cleanup_(img_abortp) struct img *img = NULL;
	const struct glue_cg_pre *pre = st->opts.pre ? st->opts.pre->cg : NULL;
	struct cg_set own_roots = { 0 };
	const struct cg_set *s, *roots = NULL;
	size_t nsets, nctl = 0, nm = 0, cached = 0;
	const char *why = "nothing was read before the freeze";
	int rc = -1;

	if (!cg || cg->nr < 2) {
		pr_info("cgroup.img: the tasks are in ckpt's own cgroups, nothing to write");
		return 0;
	}
	if (glue_cgns_own(st->tree->t[0].pid)) {
		/* its root never moves: read before the freeze, else now */
		if (pre && pre->cgns_read && st->opts.pre->pid == st->tree->t[0].pid)
			roots = &pre->cgns;
		else if (glue_cgns_roots(st->tree->t[0].pid, &own_roots, err) < 0)
			return ck_err_wrap(err, "cgroup.img");
		else
			roots = &own_roots;
	}
	if (!pre || tree_may_write_cgroups(st, &why))
		pre = NULL;
	nsets = cg->nr - 1;
	sets = xcalloc(nsets, sizeof(*sets));
	setp = xcalloc(nsets, sizeof(*setp));
	mem = xcalloc(nsets * CG_MAX_CTLS, sizeof(*mem));
	memp = xcalloc(nsets * CG_MAX_CTLS, sizeof(*memp));
	for (size_t i = 0; i < nsets; i++) {
		s = &cg->sets[i + 1];
		cg_set_entry__init(&sets[i]);
		sets[i].id = s->id;
		sets[i].ctls = &memp[nm];
		for (size_t j = 0; j < s->nr; j++, nm++) {
			cg_member_entry__init(&mem[nm]);
			mem[nm].name = s->name[j];
			mem[nm].path = s->path[j];
			memp[nm] = &mem[nm];
			if (roots && set_prefix(&mem[nm], roots, err) < 0) {
				glue_cgset_free(&own_roots);
				return ck_err_wrap(err, "cgroup.img: pid set %u", s->id);
			}
		}
		sets[i].n_ctls = s->nr;
		setp[i] = &sets[i];
	}
	ce.n_sets = nsets;
	ce.sets = setp;

	/* one controller per hierarchy of the first dumped set; one dir per set path */
	s = &cg->sets[1];
	ctl = xcalloc(s->nr, sizeof(*ctl));
	ctlp = xcalloc(s->nr, sizeof(*ctlp));
	dirs = xcalloc(s->nr * nsets, sizeof(*dirs));
	dirp = xcalloc(s->nr * nsets, sizeof(*dirp));
	dperms = xcalloc(s->nr * nsets, sizeof(*dperms));
	db = xcalloc(s->nr * nsets, sizeof(*db));
	cnames = xcalloc(s->nr * CG_MAX_CTLS, sizeof(*cnames));
	cnbuf = xcalloc(s->nr, sizeof(*cnbuf));
	for (size_t j = 0; j < s->nr; j++) {
		_cleanup_free_ char *mnt = hierarchy_mount(pre, s->name[j]);
		bool v2 = !s->name[j][0];
		size_t nc = 0, nd = 0;
		char *sv;

		/*
		 * A hierarchy ckpt's mount namespace does not show (runc on a
		 * cgroup2-only view of a host whose tasks are still in v1
		 * hierarchies) is recorded all the same, its dirs without
		 * properties: CRIU's restore wants a controller for every name
		 * of a set.
		 */
		if (!mnt)
			pr_warn("cgroup.img: hierarchy '%s' is not mounted here: written without its properties",
				s->name[j]);
		cg_controller_entry__init(&ctl[nctl]);
		cnbuf[j] = xstrdup(s->name[j]);
		ctl[nctl].cnames = &cnames[j * CG_MAX_CTLS];
		if (v2)
			cnames[j * CG_MAX_CTLS + nc++] = cnbuf[j];
		for (char *c = strtok_r(cnbuf[j], ",", &sv); c && nc < CG_MAX_CTLS;
		     c = strtok_r(NULL, ",", &sv))
			cnames[j * CG_MAX_CTLS + nc++] = c;
		ctl[nctl].n_cnames = nc;
		ctl[nctl].has_is_threaded = true;
		ctl[nctl].is_threaded = !v2; /* as CRIU 4.2 records it */
		for (size_t i = 0; i < nsets; i++) {
			const struct cg_set *si = &cg->sets[i + 1];
			size_t k = j * nsets + nd;
			_cleanup_free_ char *dir = NULL;
			struct dir_build *d = &db[k];
			struct stat sb;
			bool dup = false;

			if (j >= si->nr || strcmp(si->name[j], s->name[j]))
				continue;
			for (size_t q = 0; q < i; q++)
				if (j < cg->sets[q + 1].nr &&
				    !strcmp(cg->sets[q + 1].path[j], si->path[j]))
					dup = true;
			if (dup || !strcmp(si->path[j], "/"))
				continue;
			if (!mnt) {
				cgroup_dir_entry__init(&dirs[k]);
				dirs[k].dir_name = si->path[j] + 1;
				dirp[k] = &dirs[k];
				nd++;
				continue;
			}
			dir = xasprintf("%s%s", mnt, si->path[j]);
			if (stat(dir, &sb) < 0) {
				ck_err_set(err, errno, "cgroup dir %s", dir);
				goto out;
			}
			{
				struct prop_ctx c = { d, pre, &cached };

				for_each_prop(s->name[j], v2, dir, prop_cb, &c);
			}
			cgroup_dir_entry__init(&dirs[k]);
			dirs[k].dir_name = si->path[j] + 1;
			dirs[k].n_properties = d->nr;
			dirs[k].properties =
				xcalloc(d->nr ? d->nr : 1, sizeof(*dirs[k].properties));
			for (size_t q = 0; q < d->nr; q++) {
				d->p[q].name = (char *)d->names[q];
				dirs[k].properties[q] = &d->p[q];
				d->p[q].value = d->vals[q];
				d->p[q].perms = &d->perms[q];
			}
			cgroup_perms__init(&dperms[k]);
			dperms[k].mode = sb.st_mode;
			dperms[k].uid = sb.st_uid;
			dperms[k].gid = sb.st_gid;
			dirs[k].dir_perms = &dperms[k];
			dirp[k] = &dirs[k];
			nd++;
		}
		ctl[nctl].dirs = &dirp[j * nsets];
		ctl[nctl].n_dirs = nd;
		ctlp[nctl] = &ctl[nctl];
		nctl++;
	}
	ce.n_controllers = nctl;
	ce.controllers = ctlp;
	if (pre)
		pr_info("cgroup.img: %zu property files from the read before the freeze", cached);
	else
		pr_info("cgroup.img: every property read while frozen (%s)", why);
	img = glue_dump_img_create(st, dirfd, "cgroup.img", IMG_CGROUP, err);
	if (!img || img_write(img, &ce, err) < 0)
		goto out;
	rc = img_close(steal_ptr(&img), err);
out:
	for (size_t k = 0; k < s->nr * nsets; k++) {
		free(dirs[k].properties);
		free_dir_build(&db[k]);
	}
	for (size_t j = 0; j < s->nr; j++)
		free(cnbuf[j]);
	glue_cgset_free(&own_roots);
	return rc;
}
