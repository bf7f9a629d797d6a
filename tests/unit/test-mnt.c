// SPDX-License-Identifier: MIT
/*
 * runtime-glue/dump/dump-mnt.c on mountinfo fixtures: classification as CRIU
 * 4.2 does it (fstype, flags vs sb_flags, options, ext keys, tmpfs to tar),
 * refusals as one list, and mountpoints-<id>.img read back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "proto/img.h"
#include "proto/mnt.pb-c.h"
#include "runtime-glue/dump/dump-mnt.h"
#include "tests/unit/tap.h"

/* A runc 1.1.5 busybox container (default spec, cgroup v1), as its init sees it. */
static const char runc_fixture[] =
	"92 52 254:0 /srv/bundle/rootfs / rw,relatime - ext4 /dev/vda rw,discard,resuid=65534\n"
	"93 92 0:49 / /proc rw,relatime - proc proc rw\n"
	"94 92 0:50 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755\n"
	"95 94 0:51 / /dev/pts rw,nosuid,noexec,relatime - devpts devpts "
	"rw,gid=5,mode=620,ptmxmode=666\n"
	"96 94 0:52 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k\n"
	"97 94 0:48 / /dev/mqueue rw,nosuid,nodev,noexec,relatime - mqueue mqueue rw\n"
	"98 92 0:53 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro\n"
	"99 98 0:54 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755\n"
	"100 99 0:29 /c1 /sys/fs/cgroup/cpu ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu\n"
	"103 99 0:32 /nested/c1 /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime - cgroup "
	"cgroup rw,memory\n"
	"53 93 0:49 /bus /proc/bus ro,relatime - proc proc rw\n"
	"57 93 0:55 / /proc/acpi ro,relatime - tmpfs tmpfs ro\n"
	"58 93 0:50 /null /proc/keys rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755\n"
	"59 93 0:50 /null /proc/timer_list rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755\n"
	"60 98 0:56 / /sys/firmware ro,relatime - tmpfs tmpfs ro\n";

static const struct glue_mnt_ext runc_ext[] = {
	{ "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu" },
	{ "/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory" },
	{ "/proc/keys", "/dev/null" },
	{ "/proc/timer_list", "/dev/null" },
	{ "/dev/null", "/dev/null" }, /* a device node runc mknods: matches no mount */
};

/* host /dev/pts is some other devpts: the container's is a new instance */
static const struct glue_mnt_opts runc_opts = {
	.root = "/srv/bundle/rootfs",
	.ext = runc_ext,
	.nr_ext = sizeof(runc_ext) / sizeof(runc_ext[0]),
	.host_devpts_dev = 26, /* 0:26 */
};

static const struct glue_mnt *by_mp(const struct glue_mnt_set *s, const char *mp)
{
	for (size_t i = 0; i < s->nr; i++)
		if (!strcmp(s->m[i].mountpoint, mp))
			return &s->m[i];
	return NULL;
}

static bool err_has(struct ck_err *err, const char *a, const char *b)
{
	_cleanup_free_ char *s = err ? ck_err_str(err) : NULL;
	bool found = s && strstr(s, a) && (!b || strstr(s, b));

	if (!found)
		tap_diag("error was: %s", s ? s : "(none)");
	return found;
}

static void test_runc_tree(int tdir)
{
	_cleanup_(glue_mnt_set_freep) struct glue_mnt_set *s = NULL;
	_cleanup_err_ struct ck_err *err = NULL;
	const struct glue_mnt *m;
	size_t ntar = 0;

	tap_ok(!glue_mnt_parse(runc_fixture, 0, &runc_opts, &s, &err), "runc tree parses");
	if (!s)
		return;
	tap_ok(s->nr == 15 && s->nr_refused == 0, "15 mounts, no refusal (%zu, %zu)", s->nr,
	       s->nr_refused);
	m = by_mp(s, "/");
	tap_ok(m && m->is_root && m->fstype == FSTYPE__UNSUPPORTED && m->root_dev == (254u << 20) &&
		       !strcmp(m->root, "/srv/bundle/rootfs") && m->flags == MS_RELATIME &&
		       !strcmp(m->options, "discard,resuid=65534") && !m->ext_key,
	       "root: ext4 is UNSUPPORTED, root_dev 254<<20, rw dropped from the options");
	m = by_mp(s, "/dev");
	tap_ok(m && m->fstype == FSTYPE__TMPFS && m->root_dev == 50 &&
		       m->flags == (MS_NOSUID | MS_STRICTATIME) && m->sb_flags == 0 &&
		       !strcmp(m->options, "size=65536k,mode=755") && m->dump_tmpfs,
	       "/dev: tmpfs, nosuid + strictatime (no atime word), tarred");
	m = by_mp(s, "/sys");
	tap_ok(m && m->fstype == FSTYPE__SYSFS && m->flags == 0x20000f &&
		       m->sb_flags == MS_RDONLY && !strcmp(m->options, ""),
	       "/sys: flags 0x20000f, read-only superblock, empty options");
	m = by_mp(s, "/proc/acpi");
	tap_ok(m && m->flags == (MS_RDONLY | MS_RELATIME) && m->sb_flags == MS_RDONLY &&
		       m->dump_tmpfs,
	       "/proc/acpi: masked tmpfs, ro mount and superblock, tarred");
	m = by_mp(s, "/dev/pts");
	tap_ok(m && m->fstype == FSTYPE__DEVPTS &&
		       !strcmp(m->options, "gid=5,mode=620,ptmxmode=666,newinstance"),
	       "/dev/pts: a devpts other than ckpt's gets newinstance");
	m = by_mp(s, "/dev/mqueue");
	tap_ok(m && m->fstype == FSTYPE__MQUEUE && m->flags == 0x20000e, "/dev/mqueue: MQUEUE");
	m = by_mp(s, "/sys/fs/cgroup/memory");
	tap_ok(m && m->fstype == FSTYPE__CGROUP && !strcmp(m->root, "/nested/c1") && m->ext_key &&
		       !strcmp(m->ext_key, "/sys/fs/cgroup/memory") &&
		       !strcmp(m->options, "memory"),
	       "cgroup bind: CGROUP, its root, ext_key = the ext_mnt val");
	m = by_mp(s, "/proc/keys");
	tap_ok(m && m->fstype == FSTYPE__TMPFS && !strcmp(m->root, "/null") && m->ext_key &&
		       !strcmp(m->ext_key, "/dev/null") && !m->dump_tmpfs,
	       "/proc/keys: external bind of /dev's /null, ext_key /dev/null, not tarred");
	m = by_mp(s, "/proc/bus");
	tap_ok(m && m->fstype == FSTYPE__PROC && !strcmp(m->root, "/bus") &&
		       m->flags == (MS_RDONLY | MS_RELATIME) && !m->ext_key,
	       "/proc/bus: read-only bind of proc");
	for (size_t i = 0; i < s->nr; i++)
		ntar += s->m[i].dump_tmpfs;
	tap_ok(ntar == 5, "5 tmpfs to tar (/dev /dev/shm /sys/fs/cgroup /proc/acpi /sys/firmware)");
	tap_ok(glue_mnt_id_of(s, 94) == 94 && glue_mnt_id_of(s, 4242) == -1,
	       "id_of: a mount of the tree keeps its id; others are -1");
	tap_ok(s->root_path && !strcmp(s->root_path, "/srv/bundle/rootfs"), "root path kept");

	/* written as CRIU does: mountinfo reversed, every optional CRIU sets */
	tap_ok(!glue_mnt_write(s, tdir, 13, &err), "mountpoints-13.img written");
	{
		_cleanup_(img_releasep) struct img *img = NULL;
		MntEntry *e = NULL;
		size_t n = 0;
		bool order = true, fields = true;

		img = img_open(tdir, "mountpoints-13.img", IMG_MNTS, &err);
		while (img && !img_read_entry(img, (void **)&e, &err) && e) {
			const struct glue_mnt *w = &s->m[s->nr - 1 - n];

			order &= e->mnt_id == (uint32_t)w->mnt_id;
			fields &= e->has_sb_flags && e->has_shared_id && e->has_master_id &&
				  !e->has_deleted && e->root_dev == w->root_dev &&
				  e->flags == w->flags && !strcmp(e->mountpoint, w->mountpoint) &&
				  !strcmp(e->options, w->options) &&
				  !strcmp(e->source, w->source) && (!w->ext_key) == (!e->ext_key);
			img_free_msg(e);
			n++;
		}
		tap_ok(img && n == s->nr && order, "entries in reverse mountinfo order (%zu)", n);
		tap_ok(fields, "entry fields as collected");
	}
}

static void test_refusals(int tdir)
{
	static const char text[] =
		"1 0 8:1 /rootfs / rw - ext4 /dev/sda1 rw\n"
		"2 1 8:1 /rootfs/data /data rw - ext4 /dev/sda1 rw\n" /* bind inside the root: fine */
		"3 1 8:2 /home /home rw - xfs /dev/sda2 rw\n"
		"4 1 0:70 / /mnt/fuse rw - fuse.sshfs host:/x rw,user_id=0\n"
		"5 1 0:71 /sub /mnt/t rw - tmpfs tmpfs rw\n"
		"6 1 8:3 /etc /etc/ext rw - xfs /dev/sda3 rw\n"; /* external: fine */
	static const struct glue_mnt_ext ext[] = { { "/etc/ext", "/etc/ext" } };
	const struct glue_mnt_opts o = { .ext = ext, .nr_ext = 1, .host_devpts_dev = 1 };
	_cleanup_(glue_mnt_set_freep) struct glue_mnt_set *s = NULL;
	_cleanup_err_ struct ck_err *err = NULL;

	tap_ok(!glue_mnt_parse(text, 0, &o, &s, &err), "a tree with refusals still parses");
	if (!s)
		return;
	tap_ok(s->nr_refused == 3, "three refusals (%zu)", s->nr_refused);
	tap_ok(by_mp(s, "/mnt/fuse")->fstype == FSTYPE__FUSE,
	       "fuse.sshfs is FUSE (subtype ignored)");
	tap_ok(glue_mnt_check(s, &err) == -1 && err && err->errnum == ENOTSUP &&
		       err_has(err, "3 mounts cannot be dumped", "/home: file system type xfs") &&
		       err_has(err, "/mnt/fuse: file system type fuse.sshfs", "/mnt/t: tmpfs") &&
		       !strstr(err->msg, "/data") && !strstr(err->msg, "/etc/ext"),
	       "check: one error naming every refused mount and its reason");
	ck_err_free(&err);
	tap_ok(glue_mnt_write(s, tdir, 7, &err) == -1 &&
		       faccessat(tdir, "mountpoints-7.img", F_OK, 0),
	       "write refuses the set and creates nothing");
}

static void test_details(void)
{
	static const char text[] =
		"1 0 8:1 / / rw shared:1 - ext4 /dev/sda1 rw\n"
		"2 1 0:40 / /my\\040dir rw,noatime shared:5 master:3 - tmpfs  rw,sync,dirsync\n"
		"3 1 8:1 /gone\\134x\\040(deleted) /d rw unbindable - ext4 /dev/sda1 ro\n"
		"4 1 0:12 / /sys/kernel/debug rw - debugfs debugfs rw\n"
		"5 4 0:13 / /sys/kernel/debug/tracing rw - tracefs tracefs rw\n";
	_cleanup_(glue_mnt_set_freep) struct glue_mnt_set *s = NULL;
	_cleanup_err_ struct ck_err *err = NULL;
	const struct glue_mnt_opts o = { .host_devpts_dev = 1 };
	const struct glue_mnt *m;

	tap_ok(!glue_mnt_parse(text, 0, &o, &s, &err) && s, "details parse");
	if (!s)
		return;
	m = by_mp(s, "/my dir");
	tap_ok(m && !strcmp(m->source, "") && m->shared_id == 5 && m->master_id == 3 &&
		       m->flags == (MS_NOATIME | MS_SHARED | MS_SLAVE) &&
		       m->sb_flags == (MS_SYNCHRONOUS | MS_DIRSYNC) && !strcmp(m->options, ""),
	       "escaped space, empty source, shared and master ids, sync/dirsync sb flags");
	m = by_mp(s, "/d");
	tap_ok(m && m->deleted && !strcmp(m->root, "/gone\\x") && (m->flags & MS_UNBINDABLE) &&
		       m->sb_flags == MS_RDONLY,
	       "deleted root stripped and flagged; unbindable");
	tap_ok(by_mp(s, "/")->flags == (MS_STRICTATIME | MS_SHARED) &&
		       by_mp(s, "/")->shared_id == 1,
	       "shared root");
	m = by_mp(s, "/sys/kernel/debug");
	tap_ok(m && (m->flags & MS_REC) && !by_mp(s, "/sys/kernel/debug/tracing"),
	       "debugfs gets MS_REC, tracefs is left out (as CRIU does)");
	tap_ok(s->nr == 4 && s->nr_refused == 0, "nothing refused (%zu)", s->nr_refused);
}

static void test_cgroup_ns(void)
{
	const struct glue_mnt_opts o = { .cgroup_ns = true, .host_devpts_dev = 1 };
	_cleanup_(glue_mnt_set_freep) struct glue_mnt_set *s = NULL;
	_cleanup_err_ struct ck_err *err = NULL;

	tap_ok(!glue_mnt_parse(runc_fixture, 0, &o, &s, &err) && s &&
		       !strcmp(by_mp(s, "/sys/fs/cgroup/memory")->root, "/") &&
		       !strcmp(by_mp(s, "/proc/bus")->root, "/bus"),
	       "with a cgroup namespace, cgroup mounts get root / (others keep theirs)");
}

static void test_bad_input(void)
{
	static const char *bad[] = {
		"1 0 8:1 / / rw - ext4\n",                     /* no options */
		"1 0 8:1 / / rw shared:1 ext4 /dev/sda1 rw\n", /* no separator */
		"x 0 8:1 / / rw - ext4 /dev/sda1 rw\n",
		"1 0 8-1 / / rw - ext4 /dev/sda1 rw\n",
		"1 0 8:1 / / rw weird:1 - ext4 /dev/sda1 rw\n",
		"1 0 8:1 / /x rw - ext4 /dev/sda1 rw\n", /* no root mount */
		"",
	};
	const struct glue_mnt_opts o = { .host_devpts_dev = 1 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct glue_mnt_set *s = NULL;
		_cleanup_err_ struct ck_err *err = NULL;

		tap_ok(glue_mnt_parse(bad[i], 0, &o, &s, &err) == -1 && !s && err &&
			       err_has(err, i < 5 ? "mountinfo line 1" : "no root mount", NULL),
		       "bad mountinfo %zu refused with a message", i);
	}
}

static void test_collect_self(void)
{
	_cleanup_(glue_mnt_set_freep) struct glue_mnt_set *s = NULL;
	_cleanup_err_ struct ck_err *err = NULL;

	tap_ok(!glue_mnt_collect(getpid(), NULL, &s, &err) && s && by_mp(s, "/") &&
		       by_mp(s, "/")->is_root,
	       "collect of our own pid reads /proc/self/mountinfo");
	glue_mnt_set_free(steal_ptr(&s));
	ck_err_free(&err);
	tap_ok(glue_mnt_collect(0x7ffffff0, NULL, &s, &err) == -1 &&
		       err_has(err, "mountinfo", NULL),
	       "collect of a missing pid fails naming the file");
}

/* A set read before the freeze is kept when mountinfo reads the same, else parsed again. */
static void test_recheck(void)
{
	_cleanup_(glue_mnt_set_freep) struct glue_mnt_set *s = NULL;
	_cleanup_err_ struct ck_err *err = NULL;
	struct glue_mnt_set *first;
	bool same = false;

	if (glue_mnt_collect(getpid(), NULL, &s, &err)) {
		tap_ok(0, "collect for the recheck: %s", err->msg);
		return;
	}
	first = s;
	tap_ok(!glue_mnt_recheck(&s, getpid(), NULL, &same, &err) && same && s == first,
	       "recheck keeps the set when mountinfo reads the same");
	/* as if a mount had come or gone since: the text differs */
	s->text[0] = s->text[0] == '9' ? '8' : '9';
	tap_ok(!glue_mnt_recheck(&s, getpid(), NULL, &same, &err) && !same && s && by_mp(s, "/") &&
		       by_mp(s, "/")->is_root,
	       "recheck parses mountinfo again when it changed");
	tap_ok(glue_mnt_recheck(&s, 0x7ffffff0, NULL, &same, &err) == -1 && !same &&
		       err_has(err, "mountinfo", NULL),
	       "recheck of a missing pid fails naming the file");
}

int main(void)
{
	char tmpl[] = "/tmp/test-mnt.XXXXXX";
	int tdir;

	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 1;
	}
	tdir = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tdir < 0) {
		perror(tmpl);
		return 1;
	}
	test_runc_tree(tdir);
	test_refusals(tdir);
	test_details();
	test_cgroup_ns();
	test_recheck();
	test_bad_input();
	test_collect_self();
	unlinkat(tdir, "mountpoints-13.img", 0);
	close(tdir);
	rmdir(tmpl);
	return tap_done();
}
