// SPDX-License-Identifier: MIT
/*
 * The file registry of a final dump: every file CRIU must reopen gets one
 * FileEntry in files.img, and everything that refers to a file (an fd in
 * fdinfo-<files_id>.img, mm's exe_file_id, a file VMA's shmid, fs's cwd_id and
 * root_id) refers to it by id.
 *
 *   files.img      FileEntry{REG, id 1, reg{name "/usr/bin/x", flags, pos}}
 *                  FileEntry{PIPE, id 7, pipe{pipe_id = inode, flags}}
 *   fdinfo-2.img   FdinfoEntry{fd 0, type REG, id 5, flags FD_CLOEXEC?} ...
 *   pipes-data.img PipeDataEntry{pipe_id, bytes} + the bytes still in the pipe
 *   files.img      FileEntry{TTY, id 9, tty{tty_info_id, regf_id -> a REG}} (dump-tty.c)
 *
 * One open file description is one entry: fds that share it (dup, fork) get
 * the same id, found with kcmp(KCMP_FILE), so a shared offset stays shared.
 * Files named by path (exe, mappings, cwd, root) share an entry per path and
 * open flags.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/kcmp.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/linux-compat.h"
#include "common/xalloc.h"
#include "proto/img.h"
#include "proto/fdinfo.pb-c.h"
#include "proto/fown.pb-c.h"
#include "proto/pipe-data.pb-c.h"
#include "proto/pipe.pb-c.h"
#include "proto/regfile.pb-c.h"
#include "proto/tty.pb-c.h"
#include "runtime-glue/dump/dump-mnt.h"
#include "runtime-glue/dump/dump-priv.h"

static struct glue_dfile *add_file(struct glue_files *fs, uint32_t type)
{
	struct glue_dfile *f;

	fs->f = xreallocarray(fs->f, fs->nr + 1, sizeof(*fs->f));
	f = &fs->f[fs->nr++];
	*f = (struct glue_dfile){
		.id = ++fs->next_id, .type = type, .owner_pid = -1, .owner_fd = -1, .mnt_id = -1
	};
	return f;
}

/* see dump-priv.h */
uint32_t glue_files_path_id(struct glue_files *fs, const char *path, uint32_t flags)
{
	struct glue_dfile *f;

	for (size_t i = 0; i < fs->nr; i++) {
		f = &fs->f[i];
		if (f->type == FD_TYPES__REG && f->owner_fd < 0 && f->flags == flags &&
		    !strcmp(f->path, path))
			return f->id;
	}
	f = add_file(fs, FD_TYPES__REG);
	f->path = xstrdup(path);
	f->flags = flags;
	return f->id;
}

/* The entry of the open file description behind @pid's @fd, new or shared. */
static uint32_t fd_file_id(struct glue_files *fs, pid_t pid, int fd, uint32_t type,
			   const char *path, uint32_t flags, uint64_t pos, uint32_t pipe_ino,
			   const struct stat *st)
{
	struct glue_dfile *f;

	for (size_t i = 0; i < fs->nr; i++) {
		f = &fs->f[i];
		if (f->owner_fd < 0 || f->type != type || f->dev != (uint64_t)st->st_dev ||
		    f->ino != (uint64_t)st->st_ino)
			continue;
		if (syscall(SYS_kcmp, f->owner_pid, pid, KCMP_FILE, f->owner_fd, fd) == 0)
			return f->id;
	}
	f = add_file(fs, type);
	f->path = path ? xstrdup(path) : NULL;
	f->flags = flags;
	f->pos = pos;
	f->pipe_id = pipe_ino;
	f->owner_pid = pid;
	f->owner_fd = fd;
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	return f->id;
}

static int pipe_peek(const struct glue_dpipe *dp, void **data, size_t *len, uint32_t *size,
		     struct ck_err **err);

/* Record a pipe end; the first read end seen is used to copy the pipe's content. */
static int note_pipe(struct glue_files *fs, uint32_t ino, uint32_t flags, pid_t pid, int fd,
		     struct ck_err **err)
{
	struct glue_dpipe *dp = NULL;

	for (size_t i = 0; i < fs->nr_pipes; i++)
		if (fs->pipes[i].ino == ino)
			dp = &fs->pipes[i];
	if (!dp) {
		fs->pipes = xreallocarray(fs->pipes, fs->nr_pipes + 1, sizeof(*fs->pipes));
		dp = &fs->pipes[fs->nr_pipes++];
		*dp = (struct glue_dpipe){ .ino = ino, .rpid = -1, .rfd = -1 };
	}
	if ((flags & O_ACCMODE) == O_WRONLY) {
		dp->has_write = true;
	} else if (!dp->has_read) {
		dp->has_read = true;
		dp->rpid = pid;
		dp->rfd = fd;
		if (pipe_peek(dp, &dp->data, &dp->len, &dp->size, err) < 0)
			return ck_err_wrap(err, "pid %d fd %d", (int)pid, fd);
	}
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The open fds of @pid in increasing order.  Caller frees *fds. */
static int list_fds(pid_t pid, int **fds, size_t *nr, struct ck_err **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	char dir[64];

	*fds = NULL;
	*nr = 0;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return ck_err_set(err, errno, "open %s", dir);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		*fds = xreallocarray(*fds, *nr + 1, sizeof(**fds));
		(*fds)[(*nr)++] = atoi(de->d_name);
	}
	qsort(*fds, *nr, sizeof(**fds), cmp_int);
	return 0;
}

/* The container mount of a REG fd ("mnt_id:" of its fdinfo), for files.img. */
static void set_mnt_id(struct glue_dump_state *st, pid_t pid, int fd, uint32_t id)
{
	char path[64], buf[1024];
	const char *m;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	if (glue_read_small(path, buf, sizeof(buf)) < 0 || !(m = strstr(buf, "mnt_id:")))
		return;
	for (size_t i = 0; i < st->files.nr; i++)
		if (st->files.f[i].id == id)
			st->files.f[i].mnt_id = glue_mnt_id_of(st->mnt, atoi(m + 7));
}

static struct glue_dfile *file_by_id(struct glue_files *fs, uint32_t id)
{
	for (size_t i = 0; i < fs->nr; i++)
		if (fs->f[i].id == id)
			return &fs->f[i];
	return NULL;
}

/*
 * A TTY entry seen for the first time gets its tty read (dump-tty.c) and a REG
 * entry of its own for the slave's path, in the container's devpts mount.
 */
static int tty_entry(struct glue_dump_state *st, pid_t pid, int fd, uint32_t id,
		     const struct stat *sb, struct ck_err **err)
{
	struct glue_dfile *f = file_by_id(&st->files, id), *reg;
	uint32_t info_id;

	if (f->regf_id)
		return 0;
	if (glue_tty_note(&st->files, st->tree, &st->opts, pid, fd, f->path, &info_id, err) < 0)
		return -1;
	reg = add_file(&st->files, FD_TYPES__REG); /* moves the array: f is found again */
	f = file_by_id(&st->files, id);
	reg->path = xstrdup(f->path);
	reg->flags = f->flags;
	reg->mode = sb->st_mode; /* CRIU gives the new slave this mode (mesg y/n) */
	f->tty_info_id = info_id;
	f->regf_id = reg->id;
	if (st->mnt)
		set_mnt_id(st, pid, fd, f->regf_id);
	return 0;
}

/* see dump-priv.h */
int glue_files_dump_fds(struct glue_dump_state *st, int dirfd, const struct glue_task *task,
			uint32_t files_id, struct ck_err **err)
{
	_cleanup_(img_abortp) struct img *img = NULL;
	_cleanup_free_ char *name = img_filename(IMG_FDINFO, files_id);
	_cleanup_free_ int *fds = NULL;
	size_t nr;

	if (list_fds(task->pid, &fds, &nr, err) < 0)
		return -1;
	img = glue_dump_img_create(st, dirfd, name, IMG_FDINFO, err);
	if (!img)
		return -1;
	for (size_t i = 0; i < nr; i++) {
		FdinfoEntry fe = FDINFO_ENTRY__INIT;
		char path[PATH_MAX], why[PATH_MAX + 64], proc[64];
		uint32_t ino = 0, flags;
		uint64_t pos;
		struct stat sb;
		enum glue_fd_kind kind;

		kind = glue_fd_classify(task->pid, fds[i], path, sizeof(path), &ino, why,
					sizeof(why));
		if (kind == GLUE_FD_UNSUPP)
			return ck_err_set(err, 0, "pid %d fd %d: cannot dump %s", (int)task->pid,
					  fds[i], why);
		snprintf(proc, sizeof(proc), "/proc/%d/fd/%d", (int)task->pid, fds[i]);
		if (stat(proc, &sb) < 0)
			return ck_err_set(err, errno, "stat %s", proc);
		if (glue_fdinfo_read(task->pid, fds[i], &flags, &pos) < 0)
			return ck_err_set(err, errno, "read /proc/%d/fdinfo/%d", (int)task->pid,
					  fds[i]);
		fe.fd = (uint32_t)fds[i];
		fe.flags = (flags & O_CLOEXEC) ? FD_CLOEXEC : 0;
		flags &= ~(uint32_t)O_CLOEXEC;
		if (kind == GLUE_FD_PIPE) {
			fe.type = FD_TYPES__PIPE;
			fe.id = fd_file_id(&st->files, task->pid, fds[i], FD_TYPES__PIPE, NULL,
					   flags, 0, ino, &sb);
			if (note_pipe(&st->files, ino, flags, task->pid, fds[i], err) < 0)
				return -1;
		} else if (kind == GLUE_FD_TTY) {
			fe.type = FD_TYPES__TTY;
			fe.id = fd_file_id(&st->files, task->pid, fds[i], FD_TYPES__TTY, path,
					   flags, pos, 0, &sb);
			if (tty_entry(st, task->pid, fds[i], fe.id, &sb, err) < 0)
				return -1;
		} else {
			fe.type = FD_TYPES__REG;
			fe.id = fd_file_id(&st->files, task->pid, fds[i], FD_TYPES__REG, path,
					   flags, pos, 0, &sb);
			if (st->mnt)
				set_mnt_id(st, task->pid, fds[i], fe.id);
		}
		if (img_write(img, &fe, err) < 0)
			return ck_err_wrap(err, "pid %d", (int)task->pid);
	}
	return img_close(steal_ptr(&img), err);
}

/*
 * Copy what a pipe holds without consuming it: tee() from the pipe (a copy of
 * the tree's read end) into a pipe of ours at least as large.
 */
static int pipe_peek(const struct glue_dpipe *dp, void **data, size_t *len, uint32_t *size,
		     struct ck_err **err)
{
	_cleanup_close_ int pidfd = -1, rfd = -1;
	_cleanup_free_ void *buf = NULL;
	int p[2], avail = 0, psz;
	ssize_t n;
	size_t got = 0;

	*data = NULL;
	*len = 0;
	pidfd = (int)syscall(__NR_pidfd_open, dp->rpid, 0);
	if (pidfd < 0)
		return ck_err_set(err, errno, "pidfd_open %d", (int)dp->rpid);
	rfd = (int)syscall(__NR_pidfd_getfd, pidfd, dp->rfd, 0);
	if (rfd < 0)
		return ck_err_set(err, errno, "copy fd %d of pid %d", dp->rfd, (int)dp->rpid);
	psz = fcntl(rfd, F_GETPIPE_SZ);
	*size = psz > 0 ? (uint32_t)psz : 0;
	if (ioctl(rfd, FIONREAD, &avail) < 0)
		return ck_err_set(err, errno, "FIONREAD on pipe:[%u]", dp->ino);
	if (avail <= 0)
		return 0;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return ck_err_set(err, errno, "pipe");
	_cleanup_close_ int pr = p[0], pw = p[1];
	if (psz > 0 && fcntl(pw, F_SETPIPE_SZ, psz) < 0)
		return ck_err_set(err, errno, "F_SETPIPE_SZ %d", psz);
	n = tee(rfd, pw, (size_t)avail, SPLICE_F_NONBLOCK);
	if (n < 0)
		return ck_err_set(err, errno, "tee from pipe:[%u]", dp->ino);
	if (n != avail)
		return ck_err_set(err, EIO, "pipe:[%u]: copied %zd of %d bytes", dp->ino, n, avail);
	buf = xmalloc((size_t)avail);
	while (got < (size_t)avail) {
		n = read(pr, (char *)buf + got, (size_t)avail - got);
		if (n <= 0)
			return ck_err_set(err, n < 0 ? errno : EIO, "read pipe copy");
		got += (size_t)n;
	}
	*data = steal_ptr(&buf);
	*len = got;
	return 0;
}

static int write_pipes_data(struct glue_files *fs, int dirfd, struct ck_err **err)
{
	_cleanup_(img_abortp) struct img *img = NULL;

	for (size_t i = 0; i < fs->nr_pipes; i++) {
		const struct glue_dpipe *dp = &fs->pipes[i];
		PipeDataEntry pd = PIPE_DATA_ENTRY__INIT;

		if (!dp->has_read || !dp->len)
			continue;
		if (!img) {
			img = img_create(dirfd, "pipes-data.img", IMG_PIPES_DATA, err);
			if (!img)
				return -1;
		}
		pd.pipe_id = dp->ino;
		pd.bytes = (uint32_t)dp->len;
		if (dp->size) {
			pd.has_size = true;
			pd.size = dp->size;
		}
		if (img_write(img, &pd, err) < 0 ||
		    img_write_extra(img, dp->data, dp->len, err) < 0)
			return -1;
	}
	return img ? img_close(steal_ptr(&img), err) : 0;
}

/* see dump-priv.h */
int glue_files_write(struct glue_files *fs, int dirfd, struct ck_err **err)
{
	_cleanup_(img_abortp) struct img *img = NULL;

	img = img_create(dirfd, "files.img", IMG_FILES, err);
	if (!img)
		return -1;
	/* TTY entries last: CRIU finds a TTY's regf_id among the entries read before it */
	for (size_t k = 0; k < 2 * fs->nr; k++) {
		const struct glue_dfile *f = &fs->f[k % fs->nr];
		FileEntry fe = FILE_ENTRY__INIT;
		RegFileEntry reg = REG_FILE_ENTRY__INIT;
		PipeEntry pipe = PIPE_ENTRY__INIT;
		TtyFileEntry tty = TTY_FILE_ENTRY__INIT;
		FownEntry fown = FOWN_ENTRY__INIT;

		if ((f->type == FD_TYPES__TTY) != (k >= fs->nr))
			continue;
		fe.type = f->type;
		fe.id = f->id;
		if (f->type == FD_TYPES__TTY) {
			tty.id = f->id;
			tty.tty_info_id = f->tty_info_id;
			tty.flags = f->flags;
			tty.fown = &fown;
			tty.has_regf_id = true;
			tty.regf_id = f->regf_id;
			fe.tty = &tty;
		} else if (f->type == FD_TYPES__PIPE) {
			pipe.id = f->id;
			pipe.pipe_id = f->pipe_id;
			pipe.flags = f->flags;
			pipe.fown = &fown;
			fe.pipe = &pipe;
		} else {
			reg.id = f->id;
			reg.flags = f->flags;
			reg.pos = f->pos;
			reg.fown = &fown;
			reg.name = f->path;
			if (f->mnt_id >= 0) {
				reg.has_mnt_id = true;
				reg.mnt_id = f->mnt_id;
			}
			reg.has_mode = f->mode != 0;
			reg.mode = f->mode;
			fe.reg = &reg;
		}
		if (img_write(img, &fe, err) < 0)
			return -1;
	}
	if (img_close(steal_ptr(&img), err) < 0 || glue_tty_write(fs, dirfd, err) < 0)
		return -1;
	return write_pipes_data(fs, dirfd, err);
}

/* see dump-priv.h */
void glue_files_free(struct glue_files *fs)
{
	for (size_t i = 0; i < fs->nr; i++)
		free(fs->f[i].path);
	for (size_t i = 0; i < fs->nr_pipes; i++)
		free(fs->pipes[i].data);
	free(fs->f);
	free(fs->pipes);
	glue_ttys_free(fs->ttys);
	*fs = (struct glue_files){ 0 };
}
