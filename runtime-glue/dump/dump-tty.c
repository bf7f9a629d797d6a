// SPDX-License-Identifier: MIT
/*
 * Terminals whose master is outside the tree, dumped as CRIU does:
 *  - a container's console (runc's terminal: true), the master held by the
 *    receiver of the --console-socket: with orphan_pts_master;
 *  - a shell job's terminal (a plain tree started from a shell, the tty on
 *    ckpt's own devpts, the session leader outside): with shell_job.
 * The images are the same; the restore decides where the slave comes from.
 *
 *   files.img     REG{id R, "/dev/pts/N", flags, mnt_id of the container's devpts}
 *                 TTY{id T, tty_info_id 2N, flags, regf_id R}   (after R: CRIU
 *                                                                 looks R up as it reads)
 *   fdinfo-F.img  {fd 0, type TTY, id T} ...
 *   tty-info.img  TtyInfo{id 2N, PTY, index N, sid, pgrp, rdev, dev, uid, gid,
 *                         termios, locked termios, winsize, packet mode,
 *                         exclusive, locked}
 *
 * No tty-data.img: with the master outside, CRIU writes none either; bytes
 * queued in the tty at dump time are not carried.  On restore CRIU opens a
 * new master at index N in the new devpts and hands it to the runtime
 * (NOTIFY orphan-pts-master), which forwards it to --console-socket.  A
 * shell job's slave is "inherited" by CRIU's --shell-job restore: its fds
 * become CRIU's own stdin terminal, given the dumped termios and window size;
 * the session (outside the tree) was zeroed here, as CRIU's dump zaps a
 * session whose leader it does not dump.
 *
 * The values come from ioctls on a pidfd_getfd() copy of the task's fd (the
 * same open file: nothing about the tty changes), except the session and the
 * foreground group: TIOCGSID and TIOCGPGRP answer only a caller whose
 * controlling tty it is, so they are read from the task's /proc/PID/stat
 * (tty_nr, session, tpgid) and turned into namespace pids with the tree.
 * A task whose controlling tty is another one gets sid and pgrp 0, which is
 * what CRIU's in-task TIOCGSID (ENOTTY) gives.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/xalloc.h"
#include "proto/img.h"
#include "proto/tty.pb-c.h"
#include "runtime-glue/dump/dump-priv.h"

/* Unix98 pty slaves: majors 136-143, 256 minors each. */
#define PTS_MAJOR_FIRST 136
#define PTS_MAJOR_LAST  143
/* CRIU keeps 19 control characters (the kernel's NCCS) in 19 words of 32 bits. */
#define TTY_NCC 19

/* What TCGETS / TIOCGLCKTRMIOS fill: the kernel's struct termios (36 bytes). */
struct ktermios_raw {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line;
	uint8_t c_cc[TTY_NCC];
};

/* One terminal of the tree, read when its first fd is dumped. */
struct glue_dtty {
	uint32_t index;
	uint32_t rdev, dev, uid, gid, sid, pgrp;
	int locked, excl, pkt;
	struct ktermios_raw t, tl;
	struct winsize ws;
};

struct glue_ttys {
	size_t nr;
	struct glue_dtty *t;
};

/* see dump-priv.h */
bool glue_tty_is_pts(dev_t rdev)
{
	return major(rdev) >= PTS_MAJOR_FIRST && major(rdev) <= PTS_MAJOR_LAST;
}

static uint32_t pts_index(dev_t rdev)
{
	return (major(rdev) - PTS_MAJOR_FIRST) * 256 + minor(rdev);
}

/* A copy of @pid's @fd (the same open file description), or -1 with errno. */
static int fd_copy(pid_t pid, int fd)
{
	_cleanup_close_ int pidfd = (int)syscall(__NR_pidfd_open, pid, 0);

	if (pidfd < 0)
		return -1;
	return (int)syscall(__NR_pidfd_getfd, pidfd, fd, 0);
}

/*
 * An int-valued "get" ioctl as CRIU's parasite does it: ENOTTY means 0.  EIO
 * (a hung-up tty, its master closed) and other errors are returned as -1.
 */
static int get_flag(int fd, unsigned long req, int *v)
{
	*v = 0;
	if (ioctl(fd, req, v) == 0)
		return 0;
	if (errno == ENOTTY) {
		*v = 0;
		return 0;
	}
	return -1;
}

static struct glue_dtty *find_tty(const struct glue_ttys *ts, uint32_t index)
{
	for (size_t i = 0; ts && i < ts->nr; i++)
		if (ts->t[i].index == index)
			return &ts->t[i];
	return NULL;
}

static struct glue_dtty *add_tty(struct glue_files *fs)
{
	struct glue_ttys *ts;

	if (!fs->ttys)
		fs->ttys = xcalloc(1, sizeof(*fs->ttys));
	ts = fs->ttys;
	ts->t = xreallocarray(ts->t, ts->nr + 1, sizeof(*ts->t));
	memset(&ts->t[ts->nr], 0, sizeof(ts->t[0]));
	return &ts->t[ts->nr++];
}

/* The index named by @path ("/dev/pts/N"): -1 when the name is another (/dev/console). */
static long path_index(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *end;
	long n;

	if (!slash || slash - path < 4 || strncmp(slash - 4, "/pts", 4) || !slash[1])
		return -1;
	n = strtol(slash + 1, &end, 10);
	return *end ? -1 : n;
}

/*
 * -1 with @why set when ckpt cannot dump @pid's pty slave @fd named @path:
 * what CRIU refuses or ckpt does not cover; a tty other than one in @ts (when
 * @ts holds one) is a second one.  *index is the slave's.
 */
static int refusal(const struct glue_ttys *ts, pid_t pid, int fd, const char *path,
		   const struct glue_dump_opts *opts, uint32_t *index, char *why, size_t why_len)
{
	_cleanup_close_ int cfd = -1;
	char proc[64], in[PATH_MAX + 32];
	struct stat st;
	bool own;
	int v;

	snprintf(proc, sizeof(proc), "/proc/%d/fd/%d", (int)pid, fd);
	if (stat(proc, &st) < 0) {
		snprintf(why, why_len, "terminal %s: %s", path, strerror(errno));
		return -1;
	}
	*index = pts_index(st.st_rdev);
	/* the task sees ckpt's /dev/pts: a terminal of ckpt's side, a shell's */
	own = glue_task_path(pid, path, in, sizeof(in)) == path;
	if (!own && !opts->ctr.orphan_pts_master)
		snprintf(
			why, why_len,
			"terminal %s: its master is outside the tree; give --orphan-pts-master (a container console, as runc asks)",
			path);
	else if (own && opts->ctr.orphan_pts_master)
		snprintf(
			why, why_len,
			"terminal %s of ckpt's own devpts: with --orphan-pts-master only a container's console (a devpts of its own mount namespace) is dumped",
			path);
	else if (own && !opts->shell_job)
		snprintf(
			why, why_len,
			"terminal %s: its master is outside the tree; give --shell-job (a job of a shell: restored onto the terminal the restore runs in)",
			path);
	else if (path_index(path) != (long)*index)
		snprintf(
			why, why_len,
			"terminal %s (pts %u) opened under a name other than its /dev/pts one: not supported",
			path, *index);
	else if ((cfd = fd_copy(pid, fd)) < 0)
		snprintf(why, why_len, "terminal %s: cannot copy the fd (%s)", path,
			 strerror(errno));
	else if (get_flag(cfd, TIOCGEXCL, &v) < 0)
		snprintf(why, why_len, "terminal %s: %s", path,
			 errno == EIO ? "hung up (its master was closed)" : strerror(errno));
	else if (ts && ts->nr && !find_tty(ts, *index))
		snprintf(
			why, why_len,
			"a second terminal %s: one tty whose master is outside is supported (as CRIU)",
			path);
	else
		return 0;
	return -1;
}

/* see dump-priv.h */
int glue_tty_check(struct glue_files *seen, pid_t pid, int fd, const char *path,
		   const struct glue_dump_opts *opts, char *why, size_t why_len)
{
	uint32_t index;

	if (refusal(seen->ttys, pid, fd, path, opts, &index, why, why_len) < 0)
		return -1;
	if (!find_tty(seen->ttys, index))
		add_tty(seen)->index = index;
	return 0;
}

/* The namespace pids of the tty's session and foreground group, when it is @pid's ctty. */
static int read_ctty(const struct glue_pstree *tree, pid_t pid, dev_t rdev, struct glue_dtty *t,
		     struct ck_err **err)
{
	char path[64], buf[1024], *p;
	long pgrp, sid, tty_nr, tpgid;
	unsigned int kdev;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (glue_read_small(path, buf, sizeof(buf)) < 0)
		return ck_err_set(err, errno, "read %s", path);
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %ld %ld %ld %ld", &pgrp, &sid, &tty_nr, &tpgid) != 4)
		return ck_err_set(err, EINVAL, "%s: unexpected format", path);
	/* tty_nr is the kernel's new_encode_dev() */
	kdev = (minor(rdev) & 0xff) | (major(rdev) << 8) | ((minor(rdev) & ~0xffu) << 12);
	t->sid = t->pgrp = 0;
	if ((unsigned long)tty_nr != kdev)
		return 0;
	for (size_t i = 0; i < tree->nr; i++) {
		if (tree->t[i].pid == (pid_t)sid)
			t->sid = (uint32_t)tree->t[i].vpid;
		if (tree->t[i].pgid == (pid_t)tpgid)
			t->pgrp = (uint32_t)tree->t[i].vpgid;
	}
	return 0;
}

/* see dump-priv.h */
int glue_tty_note(struct glue_files *fs, const struct glue_pstree *tree,
		  const struct glue_dump_opts *opts, pid_t pid, int fd, const char *path,
		  uint32_t *info_id, struct ck_err **err)
{
	_cleanup_close_ int cfd = -1;
	struct glue_dtty *t;
	struct stat st;
	char why[PATH_MAX + 160];
	uint32_t index;

	/* the check ran before the freeze: this is for a tty opened since */
	if (refusal(fs->ttys, pid, fd, path, opts, &index, why, sizeof(why)) < 0)
		return ck_err_set(err, 0, "pid %d fd %d: %s", (int)pid, fd, why);
	cfd = fd_copy(pid, fd);
	if (cfd < 0)
		return ck_err_set(err, errno, "copy fd %d of pid %d", fd, (int)pid);
	if (fstat(cfd, &st) < 0)
		return ck_err_set(err, errno, "stat fd %d of pid %d", fd, (int)pid);
	/* a slave's id is its index doubled (a master's would be odd) */
	*info_id = pts_index(st.st_rdev) << 1;
	if (find_tty(fs->ttys, pts_index(st.st_rdev)))
		return 0;
	t = add_tty(fs);
	t->index = pts_index(st.st_rdev);
	t->rdev = (uint32_t)st.st_rdev;
	t->dev = (uint32_t)st.st_dev;
	t->uid = st.st_uid;
	t->gid = st.st_gid;
	if (get_flag(cfd, TIOCGEXCL, &t->excl) < 0 || get_flag(cfd, TIOCGPKT, &t->pkt) < 0 ||
	    get_flag(cfd, TIOCGPTLCK, &t->locked) < 0)
		return ck_err_set(err, errno, "pid %d fd %d: read the pty's modes", (int)pid, fd);
	if (ioctl(cfd, TCGETS, &t->t) < 0 || ioctl(cfd, TIOCGLCKTRMIOS, &t->tl) < 0 ||
	    ioctl(cfd, TIOCGWINSZ, &t->ws) < 0)
		return ck_err_set(err, errno, "pid %d fd %d: read the termios and window size",
				  (int)pid, fd);
	return read_ctty(tree, pid, st.st_rdev, t, err);
}

/* CRIU's termios_entry: the control characters as bytes packed into words. */
static void fill_termios(TermiosEntry *e, uint32_t *cc, const struct ktermios_raw *k)
{
	/* the 32 bytes of a glibc c_cc, of which the kernel fills the first 19 */
	uint8_t bytes[32] = { 0 };

	memcpy(bytes, k->c_cc, sizeof(k->c_cc));
	memset(cc, 0, TTY_NCC * sizeof(*cc));
	memcpy(cc, bytes, sizeof(bytes));
	e->c_iflag = k->c_iflag;
	e->c_oflag = k->c_oflag;
	e->c_cflag = k->c_cflag;
	e->c_lflag = k->c_lflag;
	e->c_line = k->c_line;
	e->n_c_cc = TTY_NCC;
	e->c_cc = cc;
}

/* see dump-priv.h */
int glue_tty_write(const struct glue_files *fs, int dirfd, struct ck_err **err)
{
	_cleanup_(img_abortp) struct img *img = NULL;

	if (!fs->ttys || !fs->ttys->nr)
		return 0;
	img = img_create(dirfd, "tty-info.img", IMG_TTY_INFO, err);
	if (!img)
		return -1;
	for (size_t i = 0; i < fs->ttys->nr; i++) {
		const struct glue_dtty *t = &fs->ttys->t[i];
		TtyInfoEntry e = TTY_INFO_ENTRY__INIT;
		TermiosEntry te = TERMIOS_ENTRY__INIT, tl = TERMIOS_ENTRY__INIT;
		WinsizeEntry ws = WINSIZE_ENTRY__INIT;
		TtyPtyEntry pty = TTY_PTY_ENTRY__INIT;
		uint32_t cc[TTY_NCC], lcc[TTY_NCC];

		e.id = t->index << 1;
		e.type = TTY_TYPE__PTY;
		e.locked = t->locked != 0;
		e.exclusive = t->excl != 0;
		e.packet_mode = t->pkt != 0;
		e.sid = t->sid;
		e.pgrp = t->pgrp;
		e.rdev = t->rdev;
		e.has_dev = e.has_uid = e.has_gid = true;
		e.dev = t->dev;
		e.uid = t->uid;
		e.gid = t->gid;
		pty.index = t->index;
		e.pty = &pty;
		fill_termios(&te, cc, &t->t);
		fill_termios(&tl, lcc, &t->tl);
		e.termios = &te;
		e.termios_locked = &tl;
		ws.ws_row = t->ws.ws_row;
		ws.ws_col = t->ws.ws_col;
		ws.ws_xpixel = t->ws.ws_xpixel;
		ws.ws_ypixel = t->ws.ws_ypixel;
		e.winsize = &ws;
		if (img_write(img, &e, err) < 0)
			return -1;
	}
	return img_close(steal_ptr(&img), err);
}

/* see dump-priv.h */
void glue_ttys_free(struct glue_ttys *ts)
{
	if (!ts)
		return;
	free(ts->t);
	free(ts);
}
