// SPDX-License-Identifier: MIT
/*
 * The mount tree of a container: classify every mount of the init's
 * mountinfo as CRIU 4.2 does, write mountpoints-<id>.img, and save each
 * tmpfs's files with tar.  See dump-mnt.h and docs/mounts.md.
 *
 * A mountinfo line:
 *   36 25 0:62 / /dev rw,nosuid shared:3 - tmpfs tmpfs rw,size=65536k,mode=755
 *   id par dev root mp mntopts [optional...] - type source superopts
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/xalloc.h"
#include "proto/img.h"
#include "proto/mnt.pb-c.h"
#include "runtime-glue/dump/dump-mnt.h"

#define MNT_MAX_INFO (16u << 20) /* largest mountinfo read */

/* CRIU's kernel dev form (what its images carry). */
static uint32_t kdev(unsigned int maj, unsigned int min)
{
	return (maj << 20) | min;
}

/* ---- parsing ----------------------------------------------------------- */

/* Undo mountinfo's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash). */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0'));
			r += 3;
			continue;
		}
		*w++ = *r;
	}
	*w = '\0';
}

/* Per-mount flags from the mount options (the 6th field); unknown words are ignored. */
static uint32_t mount_flags(const char *opts)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} tab[] = {
		{ "ro", MS_RDONLY },         { "nosuid", MS_NOSUID },
		{ "nodev", MS_NODEV },       { "noexec", MS_NOEXEC },
		{ "noatime", MS_NOATIME },   { "nodiratime", MS_NODIRATIME },
		{ "relatime", MS_RELATIME },
	};
	_cleanup_free_ char *dup = xstrdup(opts);
	uint32_t flags = 0;
	char *save = NULL;

	for (char *w = strtok_r(dup, ",", &save); w; w = strtok_r(NULL, ",", &save))
		for (size_t i = 0; i < ARRAY_SIZE(tab); i++)
			if (!strcmp(w, tab[i].name))
				flags |= tab[i].flag;
	/* the kernel's default atime mode when neither is given */
	if (!(flags & (MS_RELATIME | MS_NOATIME)))
		flags |= MS_STRICTATIME;
	return flags;
}

/*
 * Superblock flags from the super options; the other words stay, in order,
 * in the returned options string.  "mad" (not "mand") is the word CRIU maps
 * to MS_MANDLOCK, so "mand" stays in the options as it does there.
 */
static char *sb_flags(const char *opts, uint32_t *flags)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} tab[] = {
		{ "rw", 0 },
		{ "ro", MS_RDONLY },
		{ "sync", MS_SYNCHRONOUS },
		{ "dirsync", MS_DIRSYNC },
		{ "mad", MS_MANDLOCK },
	};
	_cleanup_free_ char *dup = xstrdup(opts);
	char *out = xzalloc(strlen(opts) + 1);
	char *save = NULL;
	size_t len = 0;

	*flags = 0;
	for (char *w = strtok_r(dup, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(tab); i++)
			if (!strcmp(w, tab[i].name))
				break;
		if (i < ARRAY_SIZE(tab)) {
			*flags |= tab[i].flag;
			continue;
		}
		len += (size_t)sprintf(out + len, "%s%s", len ? "," : "", w);
	}
	return out;
}

/* CRIU's fstype code of a mountinfo type name (subtype after '.' ignored). */
static uint32_t fstype_code(const char *name)
{
	static const struct {
		const char *name;
		uint32_t code;
	} tab[] = {
		{ "proc", FSTYPE__PROC },         { "sysfs", FSTYPE__SYSFS },
		{ "devtmpfs", FSTYPE__DEVTMPFS }, { "binfmt_misc", FSTYPE__BINFMT_MISC },
		{ "tmpfs", FSTYPE__TMPFS },       { "devpts", FSTYPE__DEVPTS },
		{ "simfs", FSTYPE__SIMFS },       { "pstore", FSTYPE__PSTORE },
		{ "mqueue", FSTYPE__MQUEUE },     { "securityfs", FSTYPE__SECURITYFS },
		{ "fusectl", FSTYPE__FUSECTL },   { "debugfs", FSTYPE__DEBUGFS },
		{ "tracefs", FSTYPE__TRACEFS },   { "cgroup", FSTYPE__CGROUP },
		{ "cgroup2", FSTYPE__CGROUP2 },   { "aufs", FSTYPE__AUFS },
		{ "fuse", FSTYPE__FUSE },         { "overlay", FSTYPE__OVERLAYFS },
		{ "autofs", FSTYPE__AUTOFS },
	};
	size_t n = strcspn(name, ".");

	for (size_t i = 0; i < ARRAY_SIZE(tab); i++)
		if (strlen(tab[i].name) == n && !strncmp(name, tab[i].name, n))
			return tab[i].code;
	return FSTYPE__UNSUPPORTED; /* ext4, btrfs, xfs, ... */
}

static void mnt_free(struct glue_mnt *m)
{
	free(m->fsname);
	free(m->root);
	free(m->mountpoint);
	free(m->source);
	free(m->options);
	free(m->ext_key);
}

/* Split the next space-separated field off *s (NULL when none is left). */
static char *field(char **s)
{
	char *f;

	while (**s == ' ')
		(*s)++;
	if (!**s)
		return NULL;
	f = *s;
	*s += strcspn(*s, " ");
	if (**s)
		*(*s)++ = '\0';
	return f;
}

/* Parse one line (modified in place) into *m. */
static int parse_line(char *line, struct glue_mnt *m, struct ck_err **err)
{
	char *s = line, *f[6], *type, *src, *sbopts, *opt;
	unsigned int maj, min;
	size_t len;

	for (int i = 0; i < 6; i++)
		if (!(f[i] = field(&s)))
			return ck_err_set(err, EINVAL, "too few fields");
	if (sscanf(f[0], "%d", &m->mnt_id) != 1 || sscanf(f[1], "%d", &m->parent_mnt_id) != 1 ||
	    sscanf(f[2], "%u:%u", &maj, &min) != 2)
		return ck_err_set(err, EINVAL, "bad id or device field");
	m->root_dev = kdev(maj, min);
	unescape(f[3]);
	unescape(f[4]);
	len = strlen(f[3]);
	if (len > 10 && !strcmp(f[3] + len - 10, " (deleted)")) {
		f[3][len - 10] = '\0';
		m->deleted = true;
	}
	m->root = xstrdup(f[3]);
	m->mountpoint = xstrdup(f[4]);
	m->flags = mount_flags(f[5]);
	while ((opt = field(&s)) && strcmp(opt, "-")) {
		if (!strncmp(opt, "shared:", 7)) {
			m->flags |= MS_SHARED;
			m->shared_id = (uint32_t)strtoul(opt + 7, NULL, 10);
		} else if (!strncmp(opt, "master:", 7)) {
			m->flags |= MS_SLAVE;
			m->master_id = (uint32_t)strtoul(opt + 7, NULL, 10);
		} else if (!strcmp(opt, "unbindable")) {
			m->flags |= MS_UNBINDABLE;
		} else if (strncmp(opt, "propagate_from:", 15)) {
			return ck_err_set(err, EINVAL, "unknown optional field '%s'", opt);
		}
	}
	if (!opt)
		return ck_err_set(err, EINVAL, "no '-' separator");
	type = field(&s);
	src = field(&s);
	sbopts = field(&s);
	if (!type || !src)
		return ck_err_set(err, EINVAL, "no file system type or options");
	if (!sbopts) { /* an empty source */
		sbopts = src;
		src = NULL;
	} else {
		unescape(src);
	}
	m->fsname = xstrdup(type);
	m->fstype = fstype_code(type);
	m->source = xstrdup(src ? src : "");
	m->options = sb_flags(sbopts, &m->sb_flags);
	return 0;
}

static void refuse(struct glue_mnt_set *s, const char *mp, const char *fmt, const char *arg)
{
	struct glue_mnt_refusal *r;

	s->refused = xreallocarray(s->refused, s->nr_refused + 1, sizeof(*s->refused));
	r = &s->refused[s->nr_refused++];
	r->content = false;
	r->mountpoint = xstrdup(mp);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	r->reason = xasprintf(fmt, arg);
#pragma GCC diagnostic pop
}

static const char *ext_lookup(const struct glue_mnt_opts *o, const char *mp)
{
	for (size_t i = 0; o && i < o->nr_ext; i++)
		if (o->ext[i].key && !strcmp(o->ext[i].key, mp))
			return o->ext[i].val ? o->ext[i].val : o->ext[i].key;
	return NULL;
}

/* Is @m a bind of a directory of the root mount's file system (CRIU restores it from there)? */
static bool root_bind(const struct glue_mnt_set *s, const struct glue_mnt *m)
{
	for (size_t i = 0; i < s->nr; i++) {
		const struct glue_mnt *r = &s->m[i];
		size_t n = strlen(r->root);

		if (!r->is_root || r->root_dev != m->root_dev)
			continue;
		if (!strcmp(r->root, "/") ||
		    (!strncmp(m->root, r->root, n) && (m->root[n] == '/' || !m->root[n])))
			return true;
	}
	return false;
}

/*
 * Open @mp inside @pid's root, resolved as the container would (symlinks stay
 * inside its root, no magic links, the last component not followed).
 */
static int open_in_root(pid_t pid, const char *mp, int flags)
{
	_cleanup_free_ char *root = xasprintf("/proc/%d/root", pid);
	_cleanup_close_ int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct open_how how = {
		.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	if (rfd < 0)
		return -1;
	while (*mp == '/')
		mp++;
	return (int)syscall(SYS_openat2, rfd, *mp ? mp : ".", &how, sizeof(how));
}

/* The mount's own root is a socket: a host unix socket bind-mounted in. */
static bool is_socket_mount(pid_t pid, const struct glue_mnt *m)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (pid <= 0 || m->is_root)
		return false;
	fd = open_in_root(pid, m->mountpoint, O_PATH);
	return fd >= 0 && !fstat(fd, &st) && S_ISSOCK(st.st_mode);
}

/*
 * mqueue and pstore come back empty: refuse one that holds entries (CRIU
 * does too).  Seen through /proc/PID/root, i.e. unless something is mounted
 * on top of it.  1 = empty or not checkable (pid 0), 0 = has entries.
 */
static int empty_mount(pid_t pid, const struct glue_mnt *m)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd;

	if (pid <= 0)
		return 1;
	fd = open_in_root(pid, m->mountpoint, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return 1;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 1;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			return 0;
	return 1;
}

/* Kernel dev of ckpt's own /dev/pts, in CRIU's form (0 when absent). */
static uint32_t host_devpts(const struct glue_mnt_opts *o)
{
	struct stat st;

	if (o && o->host_devpts_dev)
		return kdev(major(o->host_devpts_dev), minor(o->host_devpts_dev));
	if (stat("/dev/pts", &st))
		return 0;
	return kdev(major(st.st_dev), minor(st.st_dev));
}

/* Classify every mount: ext keys, devpts instances, tmpfs to tar, refusals. */
static void classify(struct glue_mnt_set *s, pid_t pid, const struct glue_mnt_opts *o)
{
	uint32_t devpts = host_devpts(o);

	for (size_t i = 0; i < s->nr; i++) {
		struct glue_mnt *m = &s->m[i];
		const char *ext = m->is_root ? NULL : ext_lookup(o, m->mountpoint);

		if (ext)
			m->ext_key = xstrdup(ext);
		if (m->fstype == FSTYPE__DEVPTS && m->root_dev != devpts) {
			char *opts =
				xasprintf("%s%snewinstance", m->options, *m->options ? "," : "");

			free(m->options);
			m->options = opts;
		}
		if (m->fstype == FSTYPE__DEBUGFS)
			m->flags |= MS_REC;
		if (o && o->cgroup_ns &&
		    (m->fstype == FSTYPE__CGROUP || m->fstype == FSTYPE__CGROUP2)) {
			/* seen from inside a cgroup namespace: its root is the ns root */
			free(m->root);
			m->root = xstrdup("/");
		}
		if (is_socket_mount(pid, m)) {
			refuse(s, m->mountpoint,
			       "a bind mount of the socket %s: ckpt does not dump sockets outside "
			       "the container",
			       m->root);
			continue;
		}
		if (m->is_root || m->ext_key)
			continue;
		switch (m->fstype) {
		case FSTYPE__MQUEUE:
		case FSTYPE__PSTORE:
			break; /* check_content() */
		case FSTYPE__PROC:
		case FSTYPE__SYSFS:
		case FSTYPE__DEVPTS:
		case FSTYPE__CGROUP:
		case FSTYPE__CGROUP2:
		case FSTYPE__SECURITYFS:
		case FSTYPE__DEBUGFS:
			break;
		case FSTYPE__TMPFS:
			break; /* tarred below, once per superblock */
		case FSTYPE__UNSUPPORTED:
			if (!root_bind(s, m))
				refuse(s, m->mountpoint,
				       "file system type %s is not supported and the mount has no "
				       "external key (ext_mnt)",
				       m->fsname);
			break;
		default:
			refuse(s, m->mountpoint,
			       "file system type %s: ckpt cannot dump it without an external key "
			       "(ext_mnt)",
			       m->fsname);
			break;
		}
	}
	/* one tar per tmpfs superblock, from the first mount that shows its root */
	for (size_t i = 0; i < s->nr; i++) {
		struct glue_mnt *m = &s->m[i];
		bool seen = false, done = false;

		if (m->fstype != FSTYPE__TMPFS || m->ext_key || root_bind(s, m))
			continue; /* the root's file system comes back from --root */
		for (size_t j = 0; j < i && !seen; j++)
			seen = s->m[j].fstype == FSTYPE__TMPFS && !s->m[j].ext_key &&
			       s->m[j].root_dev == m->root_dev;
		if (seen)
			continue;
		for (size_t j = i; j < s->nr && !done; j++) {
			struct glue_mnt *n = &s->m[j];

			if (n->fstype == FSTYPE__TMPFS && n->root_dev == m->root_dev &&
			    !n->ext_key && !strcmp(n->root, "/"))
				n->dump_tmpfs = done = true;
		}
		if (!done)
			refuse(s, m->mountpoint,
			       "tmpfs %s is mounted only from a subdirectory: its root is not "
			       "reachable to save its files",
			       m->source);
	}
}

/*
 * What a running tree can change without changing its mountinfo: the entries
 * of mqueue and pstore mounts (they come back empty).  Earlier answers go.
 */
static void check_content(struct glue_mnt_set *s, pid_t pid)
{
	size_t k = 0;

	for (size_t i = 0; i < s->nr_refused; i++) {
		if (!s->refused[i].content) {
			s->refused[k++] = s->refused[i];
			continue;
		}
		free(s->refused[i].mountpoint);
		free(s->refused[i].reason);
	}
	s->nr_refused = k;
	for (size_t i = 0; i < s->nr; i++) {
		const struct glue_mnt *m = &s->m[i];

		if (m->is_root || m->ext_key ||
		    (m->fstype != FSTYPE__MQUEUE && m->fstype != FSTYPE__PSTORE) ||
		    empty_mount(pid, m))
			continue;
		refuse(s, m->mountpoint,
		       "%s is not empty: its entries (e.g. POSIX message queues) are not dumped",
		       m->fsname);
		s->refused[s->nr_refused - 1].content = true;
	}
}

/* see dump-mnt.h */
int glue_mnt_parse(const char *text, pid_t pid, const struct glue_mnt_opts *o,
		   struct glue_mnt_set **out, struct ck_err **err)
{
	_cleanup_(glue_mnt_set_freep) struct glue_mnt_set *s = xzalloc(sizeof(*s));
	_cleanup_free_ char *dup = xstrdup(text);
	char *save = NULL;
	size_t lineno = 0;
	bool have_root = false;

	s->root_path = o && o->root ? xstrdup(o->root) : NULL;
	for (char *l = strtok_r(dup, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct glue_mnt *m;
		_cleanup_free_ char *copy = xstrdup(l);

		lineno++;
		s->m = xreallocarray(s->m, s->nr + 1, sizeof(*s->m));
		m = &s->m[s->nr++];
		*m = (struct glue_mnt){ 0 };
		if (parse_line(l, m, err))
			return ck_err_wrap(err, "mountinfo line %zu '%s'", lineno, copy);
		if (m->fstype == FSTYPE__TRACEFS) { /* CRIU leaves it out: debugfs brings it */
			mnt_free(m);
			s->nr--;
			continue;
		}
		if (!strcmp(m->mountpoint, "/") && !have_root) {
			m->is_root = have_root = true;
		}
	}
	if (!have_root)
		return ck_err_set(err, EINVAL, "mountinfo has no root mount ('/')");
	classify(s, pid, o);
	check_content(s, pid);
	s->text = xstrdup(text);
	*out = steal_ptr(&s);
	return 0;
}

/* /proc/PID/mountinfo into *out (caller frees).  0 or -1. */
static int read_mountinfo(pid_t pid, char **out, struct ck_err **err)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/mountinfo", pid);
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 0;

	if (fd < 0)
		return ck_err_set(err, errno, "open %s", path);
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 16384;
			if (cap > MNT_MAX_INFO)
				return ck_err_set(err, EFBIG, "%s: larger than %u bytes", path,
						  MNT_MAX_INFO);
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ck_err_set(err, errno, "read %s", path);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = steal_ptr(&buf);
	return 0;
}

/* see dump-mnt.h */
int glue_mnt_collect(pid_t pid, const struct glue_mnt_opts *o, struct glue_mnt_set **out,
		     struct ck_err **err)
{
	_cleanup_free_ char *buf = NULL;

	if (read_mountinfo(pid, &buf, err) < 0)
		return -1;
	if (glue_mnt_parse(buf, pid, o, out, err))
		return ck_err_wrap(err, "mount tree of pid %d", pid);
	return 0;
}

/* see dump-mnt.h */
int glue_mnt_recheck(struct glue_mnt_set **s, pid_t pid, const struct glue_mnt_opts *o, bool *same,
		     struct ck_err **err)
{
	_cleanup_free_ char *buf = NULL;

	*same = false;
	if (read_mountinfo(pid, &buf, err) < 0)
		return -1;
	if (*s && (*s)->text && !strcmp(buf, (*s)->text)) {
		*same = true;
		check_content(*s, pid);
		return 0;
	}
	glue_mnt_set_freep(s);
	if (glue_mnt_parse(buf, pid, o, s, err))
		return ck_err_wrap(err, "mount tree of pid %d", pid);
	return 0;
}

/* see dump-mnt.h */
int glue_mnt_check(const struct glue_mnt_set *s, struct ck_err **err)
{
	_cleanup_free_ char *msg = NULL;

	if (!s->nr_refused)
		return 0;
	for (size_t i = 0; i < s->nr_refused; i++) {
		char *n = xasprintf("%s%s%s: %s", msg ? msg : "", msg ? "; " : "",
				    s->refused[i].mountpoint, s->refused[i].reason);

		free(msg);
		msg = n;
	}
	return ck_err_set(err, ENOTSUP, "%zu mount%s cannot be dumped: %s", s->nr_refused,
			  s->nr_refused > 1 ? "s" : "", msg);
}

/* ---- writing ----------------------------------------------------------- */

/* see dump-mnt.h */
int glue_mnt_write(const struct glue_mnt_set *s, int dirfd, uint32_t mnt_ns_id, struct ck_err **err)
{
	_cleanup_(img_abortp) struct img *img = NULL;
	_cleanup_free_ char *name = img_filename(IMG_MNTS, mnt_ns_id);

	if (glue_mnt_check(s, err))
		return -1;
	img = img_create(dirfd, name, IMG_MNTS, err);
	if (!img)
		return -1;
	/* CRIU writes its list, which it built by prepending: mountinfo reversed */
	for (size_t i = s->nr; i-- > 0;) {
		const struct glue_mnt *m = &s->m[i];
		MntEntry e = MNT_ENTRY__INIT;

		e.fstype = m->fstype;
		e.mnt_id = (uint32_t)m->mnt_id;
		e.root_dev = m->root_dev;
		e.parent_mnt_id = (uint32_t)m->parent_mnt_id;
		e.flags = m->flags;
		e.sb_flags = m->sb_flags;
		e.has_sb_flags = true;
		e.root = m->root;
		e.mountpoint = m->mountpoint;
		e.source = m->source;
		e.options = m->options;
		e.shared_id = m->shared_id;
		e.has_shared_id = true;
		e.master_id = m->master_id;
		e.has_master_id = true;
		if (m->deleted)
			e.has_deleted = e.deleted = true;
		e.ext_key = m->ext_key;
		if (img_write(img, &e, err))
			return ck_err_wrap(err, "mount %s", m->mountpoint);
	}
	return img_close(steal_ptr(&img), err);
}

/* see dump-mnt.h */
int glue_mnt_id_of(const struct glue_mnt_set *s, int kernel_mnt_id)
{
	return glue_mnt_find(s, kernel_mnt_id) ? kernel_mnt_id : -1;
}

/* see dump-mnt.h */
const struct glue_mnt *glue_mnt_find(const struct glue_mnt_set *s, int mnt_id)
{
	for (size_t i = 0; s && i < s->nr; i++)
		if (s->m[i].mnt_id == mnt_id)
			return &s->m[i];
	return NULL;
}

/* see dump-mnt.h */
void glue_mnt_set_free(struct glue_mnt_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nr; i++)
		mnt_free(&s->m[i]);
	for (size_t i = 0; i < s->nr_refused; i++) {
		free(s->refused[i].mountpoint);
		free(s->refused[i].reason);
	}
	glue_mnt_tmpfs_stop(s);
	for (size_t i = 0; s->held && i < s->nr; i++)
		if (s->held[i] >= 0)
			close(s->held[i]);
	free(s->held);
	free(s->m);
	free(s->refused);
	free(s->root_path);
	free(s->text);
	free(s);
}
