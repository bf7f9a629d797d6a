// SPDX-License-Identifier: MIT
/*
 * Image I/O, reading: the table of image types, opening and checking magics,
 * u32-length framing and unpacking, probing a file's type.  See img.h for the
 * file layout and docs/images.md for the validation rules; img-write.c writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/file.h"
#include "common/xalloc.h"
#include "proto/img.h"
#include "proto/img-priv.h"
#include "proto/core.pb-c.h"
#include "proto/creds.pb-c.h"
#include "proto/fdinfo.pb-c.h"
#include "proto/fs.pb-c.h"
#include "proto/inventory.pb-c.h"
#include "proto/memfd.pb-c.h"
#include "proto/mm.pb-c.h"
#include "proto/mnt.pb-c.h"
#include "proto/utsns.pb-c.h"
#include "proto/netdev.pb-c.h"
#include "proto/ipc-var.pb-c.h"
#include "proto/cgroup.pb-c.h"
#include "proto/pagemap.pb-c.h"
#include "proto/pipe-data.pb-c.h"
#include "proto/tty.pb-c.h"
#include "proto/pipe.pb-c.h"
#include "proto/pstree.pb-c.h"
#include "proto/regfile.pb-c.h"
#include "proto/seccomp.pb-c.h"
#include "proto/stats.pb-c.h"
#include "proto/timens.pb-c.h"

/* clang-format off */
const struct img_desc img_descs[IMG_NR] = {
	[IMG_INVENTORY]   = { "INVENTORY", "inventory.img", 0, 0x58313116,
			      &inventory_entry__descriptor, &inventory_entry__descriptor, true },
	[IMG_PSTREE]      = { "PSTREE", "pstree.img", IMG_COMMON_MAGIC, 0x50273030,
			      &pstree_entry__descriptor, &pstree_entry__descriptor, false },
	[IMG_CORE]        = { "CORE", "core-%lu.img", IMG_COMMON_MAGIC, 0x55053847,
			      &core_entry__descriptor, &core_entry__descriptor, true },
	[IMG_MM]          = { "MM", "mm-%lu.img", IMG_COMMON_MAGIC, 0x57492820,
			      &mm_entry__descriptor, &mm_entry__descriptor, true },
	[IMG_PAGEMAP]     = { "PAGEMAP", "pagemap-%lu.img", IMG_COMMON_MAGIC, 0x56084025,
			      &pagemap_head__descriptor, &pagemap_entry__descriptor, false },
	[IMG_STATS]       = { "STATS", "stats-dump", IMG_SERVICE_MAGIC, 0x57093306,
			      &stats_entry__descriptor, &stats_entry__descriptor, true },
	[IMG_IDS]         = { "IDS", "ids-%lu.img", IMG_COMMON_MAGIC, 0x54432030,
			      &task_kobj_ids_entry__descriptor, &task_kobj_ids_entry__descriptor, true },
	[IMG_FS]          = { "FS", "fs-%lu.img", IMG_COMMON_MAGIC, 0x51403912,
			      &fs_entry__descriptor, &fs_entry__descriptor, true },
	[IMG_FILES]       = { "FILES", "files.img", IMG_COMMON_MAGIC, 0x56303138,
			      &file_entry__descriptor, &file_entry__descriptor, false },
	[IMG_FDINFO]      = { "FDINFO", "fdinfo-%lu.img", IMG_COMMON_MAGIC, 0x56213732,
			      &fdinfo_entry__descriptor, &fdinfo_entry__descriptor, false },
	[IMG_CREDS]       = { "CREDS", "creds-%lu.img", IMG_COMMON_MAGIC, 0x54023547,
			      &creds_entry__descriptor, &creds_entry__descriptor, true },
	[IMG_REG_FILES]   = { "REG_FILES", "reg-files.img", IMG_COMMON_MAGIC, 0x50363636,
			      &reg_file_entry__descriptor, &reg_file_entry__descriptor, false },
	[IMG_SECCOMP]     = { "SECCOMP", "seccomp.img", IMG_COMMON_MAGIC, 0x64413049,
			      &seccomp_entry__descriptor, &seccomp_entry__descriptor, true },
	[IMG_TIMENS]      = { "TIMENS", "timens-%lu.img", IMG_COMMON_MAGIC, 0x43114433,
			      &timens_entry__descriptor, &timens_entry__descriptor, true },
	[IMG_PIPES]       = { "PIPES", "pipes.img", IMG_COMMON_MAGIC, 0x56513555,
			      &pipe_entry__descriptor, &pipe_entry__descriptor, false },
	[IMG_PIPES_DATA]  = { "PIPES_DATA", "pipes-data.img", IMG_COMMON_MAGIC, 0x56453709,
			      &pipe_data_entry__descriptor, &pipe_data_entry__descriptor, false },
	[IMG_MEMFD_INODE] = { "MEMFD_INODE", "memfd.img", IMG_COMMON_MAGIC, 0x48453499,
			      &memfd_inode_entry__descriptor, &memfd_inode_entry__descriptor, false },
	[IMG_MNTS]        = { "MNTS", "mountpoints-%lu.img", IMG_COMMON_MAGIC, 0x55563928,
			      &mnt_entry__descriptor, &mnt_entry__descriptor, false },
	[IMG_UTSNS]       = { "UTSNS", "utsns-%lu.img", IMG_COMMON_MAGIC, 0x54473203,
			      &utsns_entry__descriptor, &utsns_entry__descriptor, true },
	[IMG_IPC_VAR]     = { "IPC_VAR", "ipcns-var-%lu.img", IMG_COMMON_MAGIC, 0x53115007,
			      &ipc_var_entry__descriptor, &ipc_var_entry__descriptor, true },
	[IMG_CGROUP]      = { "CGROUP", "cgroup.img", IMG_COMMON_MAGIC, 0x59383330,
			      &cgroup_entry__descriptor, &cgroup_entry__descriptor, true },
	[IMG_TTY_INFO]    = { "TTY_INFO", "tty-info.img", IMG_COMMON_MAGIC, 0x59453036,
			      &tty_info_entry__descriptor, &tty_info_entry__descriptor, false },
	[IMG_NETNS]       = { "NETNS", "netns-%lu.img", IMG_COMMON_MAGIC, 0x55933752,
			      &netns_entry__descriptor, &netns_entry__descriptor, true },
	[IMG_PAGES]       = { "PAGES", "pages-%lu.img", 0, 0, NULL, NULL, false },
};

/*
 * Other CRIU image kinds: recognised (so errors and `show` can name them) but
 * not decoded.  Values from CRIU's magic.h.
 */
static const struct { const char *name; uint32_t magic; } foreign[] = {
	{ "VMAS", 0x54123737 }, { "FIFO", 0x58364939 }, { "FIFO_DATA", 0x59333054 },
	{ "SIGACT", 0x55344201 }, { "UNIXSK", 0x54373943 }, { "INETSK", 0x56443851 },
	{ "PACKETSK", 0x60454618 }, { "ITIMERS", 0x57464056 }, { "POSIX_TIMERS", 0x52603957 },
	{ "SK_QUEUES", 0x56264026 },
	{ "IPCNS_SHM", 0x46283044 }, { "IPCNS_MSG", 0x55453737 }, { "IPCNS_SEM", 0x59573019 },
	{ "EXT_FILES", 0x59255641 }, { "REMAP_FPATH", 0x59133954 }, { "GHOST_FILE", 0x52583605 },
	{ "TCP_STREAM", 0x51465506 }, { "EVENTFD_FILE", 0x44523722 }, { "EVENTPOLL_FILE", 0x45023858 },
	{ "EVENTPOLL_TFD", 0x44433746 }, { "SIGNALFD", 0x57323820 }, { "INOTIFY_FILE", 0x48424431 },
	{ "INOTIFY_WD", 0x54562009 }, { "NETDEV", 0x57373951 },
	{ "TTY_FILES", 0x59433025 },
	{ "TTY_DATA", 0x59413026 }, { "FILE_LOCKS", 0x54323616 }, { "RLIMIT", 0x57113925 },
	{ "FANOTIFY_FILE", 0x55096122 }, { "FANOTIFY_MARK", 0x56506035 }, { "SIGNAL", 0x59255647 },
	{ "NETLINK_SK", 0x58005614 }, { "NS_FILES", 0x61394011 }, { "TUNFILE", 0x57143751 },
	{ "TIMERFD", 0x50493712 }, { "CPUINFO", 0x61404013 },
	{ "USERNS", 0x55474906 }, { "BINFMT_MISC", 0x67343323 }, { "AUTOFS", 0x49353943 },
	{ "PIDNS", 0x61157326 }, { "BPFMAP_FILE", 0x57506142 }, { "BPFMAP_DATA", 0x64324033 },
	{ "APPARMOR", 0x59423047 }, { "IRMAP_CACHE", 0x57004059 }, { "PIDFD", 0x54435556 },
};
/* clang-format on */

/* see img.h */
const char *img_type_name(enum img_type type)
{
	return img_type_valid(type) ? img_descs[type].name : "UNKNOWN";
}

/* see img.h */
const ProtobufCMessageDescriptor *img_entry_desc(enum img_type type, size_t index)
{
	if (!img_type_valid(type))
		return NULL;
	return index == 0 ? img_descs[type].first : img_descs[type].rest;
}

/* see img.h */
char *img_filename(enum img_type type, unsigned long id)
{
	const char *fmt;

	if (!img_type_valid(type))
		return NULL;
	fmt = img_descs[type].file_fmt;
	if (!strchr(fmt, '%'))
		return xstrdup(fmt);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	return xasprintf(fmt, id);
#pragma GCC diagnostic pop
}

/* see img.h */
enum img_type img_type(const struct img *img)
{
	return img->type;
}

/* see img.h */
const char *img_name(const struct img *img)
{
	return img->name;
}

/* see img.h */
uint64_t img_offset(const struct img *img)
{
	return img->off;
}

/* see img.h */
uint64_t img_size(const struct img *img)
{
	return img->size;
}

/* see img.h */
size_t img_nr_entries(const struct img *img)
{
	return img->nr_entries;
}

/* see img-priv.h */
struct img *img_alloc(int fd, const char *name, enum img_type type, bool writing)
{
	struct img *img = xzalloc(sizeof(*img));

	img->fd = fd;
	img->type = type;
	img->writing = writing;
	img->name = xstrdup(name);
	return img;
}

/* see img-priv.h */
void img_free(struct img *img)
{
	if (img->fd >= 0)
		close(img->fd);
	free(img->extra);
	free(img->buf);
	free(img->name);
	free(img);
}

/* see img.h */
void img_release(struct img *img)
{
	if (img)
		img_free(img);
}

/* ---- reading ----------------------------------------------------------- */

static uint32_t get_u32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v)); /* host order, as CRIU */
	return v;
}

/* Bytes left in the file after the current offset (by the size seen at open). */
static uint64_t remaining(const struct img *img)
{
	return img->off < img->size ? img->size - img->off : 0;
}

/*
 * Copy up to len bytes into dst (read-ahead through buf); returns the number
 * copied (short only at end of file) or -1 with *err set.
 */
static ssize_t read_some(struct img *img, void *dst, size_t len, struct ck_err **err)
{
	char *d = dst;
	size_t got = 0;

	while (got < len) {
		size_t avail = img->buf_len - img->buf_pos;
		ssize_t n;

		if (avail) {
			size_t take = avail < len - got ? avail : len - got;

			memcpy(d + got, img->buf + img->buf_pos, take);
			img->buf_pos += take;
			got += take;
			continue;
		}
		/* Large reads bypass the read-ahead buffer. */
		if (len - got >= IMG_BUF_SIZE) {
			n = read(img->fd, d + got, len - got);
		} else {
			if (!img->buf) {
				img->buf = xmalloc(IMG_BUF_SIZE);
				img->buf_cap = IMG_BUF_SIZE;
			}
			n = read(img->fd, img->buf, IMG_BUF_SIZE);
			if (n > 0) {
				img->buf_len = (size_t)n;
				img->buf_pos = 0;
				continue;
			}
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ck_err_set(err, errno, "%s: read at offset %" PRIu64, img->name,
					  img->off + got);
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	img->off += got;
	return (ssize_t)got;
}

static int read_magics(struct img *img, struct ck_err **err)
{
	const struct img_desc *d = &img_descs[img->type];
	char b[4];
	ssize_t n;

	if (d->head_magic) {
		n = read_some(img, b, 4, err);
		if (n < 0)
			return -1;
		if (n < 4)
			return ck_err_set(err, 0,
					  "%s: offset 0: file too short for a magic (%zd bytes)",
					  img->name, n);
		if (get_u32(b) != d->head_magic)
			return ck_err_set(
				err, 0,
				"%s: offset 0: head magic 0x%08x, expected 0x%08x for a %s image",
				img->name, get_u32(b), d->head_magic, d->name);
	}
	if (d->magic) {
		uint64_t at = img->off;

		n = read_some(img, b, 4, err);
		if (n < 0)
			return -1;
		if (n < 4)
			return ck_err_set(err, 0,
					  "%s: offset %" PRIu64 ": file too short for the %s magic",
					  img->name, at, d->name);
		if (get_u32(b) != d->magic)
			return ck_err_set(err, 0,
					  "%s: offset %" PRIu64
					  ": magic 0x%08x, expected 0x%08x (%s)",
					  img->name, at, get_u32(b), d->magic, d->name);
	}
	return 0;
}

static int open_regular(int dirfd, const char *name, uint64_t *size, struct ck_err **err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	/* never blocks on a FIFO; anything but a regular file is refused, named */
	fd = ck_open_regular(dirfd, name, false, err);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st))
		return ck_err_set(err, errno, "stat %s", name);
	*size = (uint64_t)st.st_size;
	return steal_fd(&fd);
}

/* see img.h */
struct img *img_open(int dirfd, const char *name, enum img_type type, struct ck_err **err)
{
	struct img *img;
	uint64_t size;
	int fd;

	if (!img_type_valid(type)) {
		ck_err_set(err, EINVAL, "%s: invalid image type %d", name, (int)type);
		return NULL;
	}
	fd = open_regular(dirfd, name, &size, err);
	if (fd < 0)
		return NULL;
	img = img_alloc(fd, name, type, false);
	img->size = size;
	if (read_magics(img, err)) {
		img_free(img);
		return NULL;
	}
	return img;
}

/* IMG_PIPES_DATA: the entry is followed by `bytes` raw bytes of pipe data. */
static int read_extra(struct img *img, const ProtobufCMessage *m, uint64_t at, struct ck_err **err)
{
	const PipeDataEntry *pd = (const PipeDataEntry *)m;
	ssize_t n;

	if (m->descriptor != &pipe_data_entry__descriptor)
		return 0;
	if (pd->bytes > remaining(img) || pd->bytes > IMG_MAX_ENTRY)
		return ck_err_set(err, 0,
				  "%s: offset %" PRIu64
				  ": pipe data of %u bytes is larger than the %" PRIu64
				  " bytes left",
				  img->name, at, pd->bytes, remaining(img));
	img->extra = xmalloc(pd->bytes ? pd->bytes : 1);
	n = read_some(img, img->extra, pd->bytes, err);
	if (n < 0)
		return -1;
	if ((size_t)n != pd->bytes)
		return ck_err_set(err, 0, "%s: offset %" PRIu64 ": truncated pipe data", img->name,
				  at);
	img->extra_len = pd->bytes;
	return 0;
}

/* see img.h */
int img_read(struct img *img, const ProtobufCMessageDescriptor *desc, void **out,
	     struct ck_err **err)
{
	_cleanup_free_ char *payload = NULL;
	ProtobufCMessage *m;
	uint64_t at = img->off;
	uint32_t len;
	char b[4];
	ssize_t n;

	*out = NULL;
	free(img->extra);
	img->extra = NULL;
	img->extra_len = 0;
	if (img->writing)
		return ck_err_set(err, EBADF, "%s: image is open for writing", img->name);
	if (!desc)
		return ck_err_set(err, EINVAL, "%s: %s images hold raw data, not messages",
				  img->name, img_type_name(img->type));
	n = read_some(img, b, 4, err);
	if (n < 0)
		return -1;
	if (n == 0)
		return 0; /* clean end of file */
	if (n < 4)
		return ck_err_set(err, 0,
				  "%s: offset %" PRIu64 ": truncated entry length (%zd of 4 bytes)",
				  img->name, at, n);
	len = get_u32(b);
	if (len > IMG_MAX_ENTRY)
		return ck_err_set(
			err, 0, "%s: offset %" PRIu64 ": entry length %u exceeds the %u-byte limit",
			img->name, at, len, IMG_MAX_ENTRY);
	if (len > remaining(img))
		return ck_err_set(err, 0,
				  "%s: offset %" PRIu64
				  ": entry length %u is larger than the %" PRIu64
				  " bytes left in the file",
				  img->name, at, len, remaining(img));
	payload = xmalloc(len ? len : 1);
	n = read_some(img, payload, len, err);
	if (n < 0)
		return -1;
	if ((uint32_t)n != len)
		return ck_err_set(err, 0, "%s: offset %" PRIu64 ": truncated %s (%zd of %u bytes)",
				  img->name, at, desc->name, n, len);
	m = protobuf_c_message_unpack(desc, NULL, len, (const uint8_t *)payload);
	if (!m)
		return ck_err_set(
			err, 0,
			"%s: offset %" PRIu64
			": cannot decode %s (%u bytes): malformed data or a required field is missing",
			img->name, at, desc->name, len);
	if (read_extra(img, m, at, err)) {
		protobuf_c_message_free_unpacked(m, NULL);
		return -1;
	}
	img->nr_entries++;
	*out = m;
	return 0;
}

/* see img.h */
int img_read_entry(struct img *img, void **out, struct ck_err **err)
{
	return img_read(img, img_entry_desc(img->type, img->nr_entries), out, err);
}

/* see img.h */
const void *img_extra(const struct img *img, size_t *len)
{
	*len = img->extra_len;
	return img->extra;
}

/* see img.h */
ssize_t img_read_raw(struct img *img, void *buf, size_t len, struct ck_err **err)
{
	if (img->writing)
		return ck_err_set(err, EBADF, "%s: image is open for writing", img->name);
	if (img->type != IMG_PAGES)
		return ck_err_set(err, EINVAL, "%s: raw reads only from pages images", img->name);
	return read_some(img, buf, len, err);
}

/* see img.h */
void img_free_msg(void *msg)
{
	if (msg)
		protobuf_c_message_free_unpacked(msg, NULL);
}

/* ---- probing ----------------------------------------------------------- */

static bool is_pages_name(const char *name)
{
	const char *base = strrchr(name, '/');
	size_t len;

	base = base ? base + 1 : name;
	len = strlen(base);
	return !strncmp(base, "pages-", 6) && len > 10 && !strcmp(base + len - 4, ".img");
}

/* Which type has this (head, type) magic pair; IMG_NR if none. */
static enum img_type type_by_magic(uint32_t head, uint32_t magic)
{
	for (int t = 0; t < IMG_NR; t++)
		if (img_descs[t].magic && img_descs[t].magic == magic &&
		    img_descs[t].head_magic == head)
			return (enum img_type)t;
	return IMG_NR;
}

static const char *foreign_name(uint32_t magic)
{
	for (size_t i = 0; i < ARRAY_SIZE(foreign); i++)
		if (foreign[i].magic == magic)
			return foreign[i].name;
	return NULL;
}

/* see img.h */
int img_probe(int dirfd, const char *name, struct img_info *info, struct ck_err **err)
{
	_cleanup_close_ int fd = -1;
	uint32_t w[2] = { 0, 0 };
	uint64_t size;
	ssize_t n;
	enum img_type t;

	memset(info, 0, sizeof(*info));
	fd = open_regular(dirfd, name, &size, err);
	if (fd < 0)
		return -1;
	info->size = size;
	if (is_pages_name(name)) {
		info->type = IMG_PAGES;
		info->magic_name = img_descs[IMG_PAGES].name;
		return 0;
	}
	n = TEMP_FAILURE_RETRY_INT(pread(fd, w, sizeof(w), 0));
	if (n < 0)
		return ck_err_set(err, errno, "%s: read", name);
	if (n < 4)
		return ck_err_set(err, 0,
				  "%s: offset 0: file too short for an image magic (%zd bytes)",
				  name, n);
	if (w[0] == IMG_COMMON_MAGIC || w[0] == IMG_SERVICE_MAGIC) {
		if (n < 8)
			return ck_err_set(err, 0, "%s: offset 4: file ends before the type magic",
					  name);
		info->head_magic = w[0];
		info->magic = w[1];
	} else {
		info->magic = w[0];
	}
	t = type_by_magic(info->head_magic, info->magic);
	if (t != IMG_NR) {
		info->type = t;
		info->magic_name = img_descs[t].name;
		return 0;
	}
	for (int k = 0; k < IMG_NR; k++)
		if (img_descs[k].magic && img_descs[k].magic == info->magic)
			return ck_err_set(
				err, 0,
				"%s: offset 0: %s magic 0x%08x behind head magic 0x%08x, expected head 0x%08x",
				name, img_descs[k].name, info->magic, info->head_magic,
				img_descs[k].head_magic);
	info->type = IMG_NR;
	info->magic_name = foreign_name(info->magic);
	if (info->magic_name)
		return 0;
	return ck_err_set(
		err, 0,
		"%s: offset %d: unknown image magic 0x%08x (not a CRIU image; raw data such as pages-*.img has no magic)",
		name, info->head_magic ? 4 : 0, info->magic);
}

/* see img.h */
struct img *img_open_any(int dirfd, const char *name, struct ck_err **err)
{
	struct img_info info;

	if (img_probe(dirfd, name, &info, err))
		return NULL;
	if (info.type == IMG_NR) {
		ck_err_set(err, 0, "%s: %s images (magic 0x%08x) are not supported by ckpt", name,
			   info.magic_name, info.magic);
		return NULL;
	}
	return img_open(dirfd, name, info.type, err);
}
