// SPDX-License-Identifier: MIT
/*
 * Image I/O, writing: magics, u32-length framing and packing, raw page and
 * pipe data, the pagemap helpers.  See img.h for the file layout; img-read.c
 * holds the table of image types and the reader.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "proto/img.h"
#include "proto/img-priv.h"
#include "proto/pagemap.pb-c.h"
#include "proto/pipe-data.pb-c.h"

#define IMG_PAGE_SIZE 4096u

static void put_u32(char *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v)); /* host order, as CRIU */
}

/* ---- writing ----------------------------------------------------------- */

/* Write @len bytes of @buf to @fd of image @name, whose end @end is after them. */
static int write_all(int fd, const char *name, const char *buf, size_t len, uint64_t end,
		     struct ck_err **err)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ck_err_set(err, errno, "%s: write at offset %" PRIu64, name,
					  end - (len - done));
		}
		done += (size_t)n;
	}
	return 0;
}

static int flush(struct img *img, struct ck_err **err)
{
	if (write_all(img->fd, img->name, img->buf, img->buf_len, img->off, err))
		return -1;
	img->buf_len = 0;
	return 0;
}

/* Create image file @name in @dirfd for writing: an fd, or -1 with *err set. */
static int create_file(int dirfd, const char *name, struct ck_err **err)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		ck_err_set(err, errno, "create %s", name);
	return fd;
}

static bool valid_type(const char *name, enum img_type type, struct ck_err **err)
{
	if (img_type_valid(type))
		return true;
	ck_err_set(err, EINVAL, "%s: invalid image type %d", name, (int)type);
	return false;
}

/* Make room for len more bytes in the write buffer. */
static void reserve(struct img *img, size_t len)
{
	size_t want = img->buf_len + len;
	char *nbuf;

	if (want <= img->buf_cap)
		return;
	if (want < IMG_BUF_SIZE)
		want = IMG_BUF_SIZE;
	/* page-aligned: pages images are written from here (see xmalloc_pages()) */
	nbuf = xmalloc_pages(want);
	if (img->buf_len)
		memcpy(nbuf, img->buf, img->buf_len);
	free(img->buf);
	img->buf = nbuf;
	img->buf_cap = want;
}

static int maybe_flush(struct img *img, struct ck_err **err)
{
	if (img->later || img->buf_len < IMG_BUF_SIZE)
		return 0;
	if (flush(img, err))
		return -1;
	/* A huge entry grew the buffer: give the memory back. */
	if (img->buf_cap > IMG_BUF_SIZE) {
		free(img->buf);
		img->buf = NULL;
		img->buf_cap = 0;
	}
	return 0;
}

/* A new image writing to @fd (-1: to memory only), its magics written. */
static struct img *start_image(int fd, const char *name, enum img_type type)
{
	const struct img_desc *d = &img_descs[type];
	struct img *img = img_alloc(fd, name, type, true);

	reserve(img, 8);
	if (d->head_magic) {
		put_u32(img->buf + img->buf_len, d->head_magic);
		img->buf_len += 4;
	}
	if (d->magic) {
		put_u32(img->buf + img->buf_len, d->magic);
		img->buf_len += 4;
	}
	img->off = img->buf_len;
	return img;
}

/* see img.h */
struct img *img_create_fd(int fd, const char *name, enum img_type type, struct ck_err **err)
{
	if (!valid_type(name, type, err)) {
		close(fd);
		return NULL;
	}
	return start_image(fd, name, type);
}

/* see img.h */
struct img *img_create(int dirfd, const char *name, enum img_type type, struct ck_err **err)
{
	int fd;

	if (!valid_type(name, type, err) || (fd = create_file(dirfd, name, err)) < 0)
		return NULL;
	return start_image(fd, name, type);
}

static int check_writable(struct img *img, struct ck_err **err)
{
	if (!img->writing)
		return ck_err_set(err, EBADF, "%s: image is open for reading", img->name);
	return 0;
}

/* see img.h */
int img_write(struct img *img, const void *msg, struct ck_err **err)
{
	const ProtobufCMessage *m = msg;
	const ProtobufCMessageDescriptor *want;
	size_t len;

	if (check_writable(img, err))
		return -1;
	want = img_entry_desc(img->type, img->nr_entries);
	if (!want)
		return ck_err_set(err, EINVAL, "%s: %s images hold raw data, not messages",
				  img->name, img_type_name(img->type));
	if (!m || m->descriptor != want)
		return ck_err_set(err, EINVAL, "%s: entry %zu must be a %s, not a %s", img->name,
				  img->nr_entries, want->name,
				  m && m->descriptor ? m->descriptor->name : "(null)");
	if (img->extra_due)
		return ck_err_set(err, EINVAL,
				  "%s: the previous entry still lacks its %" PRIu64 " data bytes",
				  img->name, img->extra_due);
	if (img_descs[img->type].single && img->nr_entries > 0)
		return ck_err_set(err, EINVAL, "%s: %s images hold a single entry", img->name,
				  img_type_name(img->type));
	if (!protobuf_c_message_check(m))
		return ck_err_set(err, EINVAL,
				  "%s: %s at offset %" PRIu64 " lacks a required field", img->name,
				  want->name, img->off);
	len = protobuf_c_message_get_packed_size(m);
	if (len > IMG_MAX_ENTRY)
		return ck_err_set(err, EFBIG, "%s: %s of %zu bytes exceeds the %u-byte entry limit",
				  img->name, want->name, len, IMG_MAX_ENTRY);
	reserve(img, 4 + len);
	put_u32(img->buf + img->buf_len, (uint32_t)len);
	if (protobuf_c_message_pack(m, (uint8_t *)img->buf + img->buf_len + 4) != len)
		return ck_err_set(err, EINVAL, "%s: packing %s gave an unexpected size", img->name,
				  want->name);
	img->buf_len += 4 + len;
	img->off += 4 + len;
	img->nr_entries++;
	if (m->descriptor == &pipe_data_entry__descriptor)
		img->extra_due = ((const PipeDataEntry *)m)->bytes;
	return maybe_flush(img, err);
}

static int append(struct img *img, const void *buf, size_t len, struct ck_err **err)
{
	/* Large blocks go straight to the file after what is pending. */
	if (len >= IMG_BUF_SIZE) {
		const char *p = buf;

		if (flush(img, err))
			return -1;
		while (len) {
			ssize_t n = write(img->fd, p, len);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				return ck_err_set(err, errno, "%s: write at offset %" PRIu64,
						  img->name, img->off);
			}
			p += n;
			len -= (size_t)n;
			img->off += (uint64_t)n;
		}
		return 0;
	}
	reserve(img, len);
	memcpy(img->buf + img->buf_len, buf, len);
	img->buf_len += len;
	img->off += len;
	return maybe_flush(img, err);
}

/* see img.h */
int img_write_extra(struct img *img, const void *buf, size_t len, struct ck_err **err)
{
	if (check_writable(img, err))
		return -1;
	if (img->type != IMG_PIPES_DATA || img->nr_entries == 0)
		return ck_err_set(err, EINVAL, "%s: extra data only follows a pipes-data entry",
				  img->name);
	if (len != img->extra_due)
		return ck_err_set(err, EINVAL,
				  "%s: entry announced %" PRIu64 " data bytes, got %zu", img->name,
				  img->extra_due, len);
	img->extra_due = 0;
	return append(img, buf, len, err);
}

/* see img.h */
int img_write_raw(struct img *img, const void *buf, size_t len, struct ck_err **err)
{
	if (check_writable(img, err))
		return -1;
	if (img->type != IMG_PAGES)
		return ck_err_set(err, EINVAL, "%s: raw data only goes to pages images", img->name);
	return append(img, buf, len, err);
}

/* see img.h */
int img_reserve(struct img *img, uint64_t len, bool *reserved, struct ck_err **err)
{
	*reserved = false;
	if (check_writable(img, err))
		return -1;
	if (!len)
		return 0;
	if (fallocate(img->fd, FALLOC_FL_KEEP_SIZE, (off_t)img->off, (off_t)len) == 0) {
		*reserved = true;
		return 0;
	}
	if (errno == EOPNOTSUPP || errno == ENOSYS)
		return 0;
	return ck_err_set(err, errno, "%s: reserve %" PRIu64 " bytes at offset %" PRIu64, img->name,
			  len, img->off);
}

/* see img.h */
int img_write_pagemap_head(struct img *img, uint32_t pages_id, struct ck_err **err)
{
	PagemapHead h = PAGEMAP_HEAD__INIT;

	h.pages_id = pages_id;
	return img_write(img, &h, err);
}

/* see img.h */
int img_write_pagemap_entry(struct img *img, uint64_t vaddr, uint64_t nr_pages, uint32_t flags,
			    struct ck_err **err)
{
	PagemapEntry pe = PAGEMAP_ENTRY__INIT;

	if (img->type != IMG_PAGEMAP)
		return ck_err_set(err, EINVAL, "%s: not a pagemap image", img->name);
	if (img->nr_entries == 0)
		return ck_err_set(err, EINVAL, "%s: pagemap entry written before the head",
				  img->name);
	if (!(flags & (IMG_PE_PRESENT | IMG_PE_PARENT)))
		return ck_err_set(err, EINVAL,
				  "%s: pagemap entry at 0x%" PRIx64
				  " has neither PE_PRESENT nor PE_PARENT (flags 0x%x)",
				  img->name, vaddr, flags);
	if (nr_pages == 0 || vaddr % IMG_PAGE_SIZE ||
	    nr_pages > (UINT64_MAX - vaddr) / IMG_PAGE_SIZE)
		return ck_err_set(err, EINVAL,
				  "%s: bad pagemap range 0x%" PRIx64 " + %" PRIu64 " pages",
				  img->name, vaddr, nr_pages);
	if (img->nr_entries > 1 && vaddr < img->last_end)
		return ck_err_set(err, EINVAL,
				  "%s: pagemap entry at 0x%" PRIx64
				  " overlaps or precedes the previous one (ends 0x%" PRIx64 ")",
				  img->name, vaddr, img->last_end);
	pe.vaddr = vaddr;
	pe.compat_nr_pages = nr_pages <= UINT32_MAX ? (uint32_t)nr_pages : 0;
	pe.has_flags = true;
	pe.flags = flags;
	pe.has_nr_pages = true;
	pe.nr_pages = nr_pages;
	if (img_write(img, &pe, err))
		return -1;
	img->last_end = vaddr + nr_pages * IMG_PAGE_SIZE;
	return 0;
}

/* ---- images kept in memory, written later ------------------------------ */

struct later_img {
	char *name;
	char *buf;
	size_t len;
};

struct img_later {
	int dirfd;
	struct later_img *v;
	size_t nr;
	uint64_t bytes;
};

/* see img.h */
struct img_later *img_later_new(int dirfd)
{
	struct img_later *l = xzalloc(sizeof(*l));

	l->dirfd = dirfd;
	return l;
}

/* The bytes of a closed deferred image move to @l. */
static void later_keep(struct img_later *l, struct img *img)
{
	l->v = xreallocarray(l->v, l->nr + 1, sizeof(*l->v));
	l->v[l->nr++] = (struct later_img){ xstrdup(img->name), img->buf, img->buf_len };
	l->bytes += img->buf_len;
	img->buf = NULL;
}

/* see img.h */
struct img *img_create_later(struct img_later *l, const char *name, enum img_type type,
			     struct ck_err **err)
{
	struct img *img;

	if (!valid_type(name, type, err))
		return NULL;
	img = start_image(-1, name, type);
	img->later = l;
	return img;
}

/* see img.h */
uint64_t img_later_bytes(const struct img_later *l)
{
	return l ? l->bytes : 0;
}

/* see img.h */
int img_later_write(struct img_later *l, struct ck_err **err)
{
	for (size_t i = 0; i < l->nr; i++) {
		struct later_img *e = &l->v[i];
		_cleanup_close_ int fd = create_file(l->dirfd, e->name, err);

		if (fd < 0 || write_all(fd, e->name, e->buf, e->len, e->len, err))
			return -1;
		if (close(steal_fd(&fd)) < 0 && errno != EINTR)
			return ck_err_set(err, errno, "%s: close", e->name);
		free(e->buf);
		free(e->name);
		e->buf = e->name = NULL;
	}
	l->nr = 0;
	l->bytes = 0;
	return 0;
}

/* see img.h */
void img_later_free(struct img_later *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nr; i++) {
		free(l->v[i].buf);
		free(l->v[i].name);
	}
	free(l->v);
	free(l);
}

/* see img.h */
int (*img_close_fault)(const char *type_name, struct ck_err **err);

int img_close(struct img *img, struct ck_err **err)
{
	int rc = 0, fd;

	if (!img)
		return 0;
	if (img->writing && img_close_fault && img_close_fault(img_type_name(img->type), err))
		rc = -1;
	if (img->writing && img->extra_due)
		rc = ck_err_set(err, EINVAL, "%s: the last entry lacks its %" PRIu64 " data bytes",
				img->name, img->extra_due);
	if (img->later) {
		if (rc == 0)
			later_keep(img->later, img);
		img_free(img);
		return rc;
	}
	if (rc == 0 && img->writing && flush(img, err))
		rc = -1;
	fd = img->fd;
	img->fd = -1;
	if (close(fd) && rc == 0 && errno != EINTR)
		rc = ck_err_set(err, errno, "%s: close", img->name);
	img_free(img);
	return rc;
}

/* see img.h */
void img_abort(struct img *img)
{
	if (img)
		img_free(img);
}
