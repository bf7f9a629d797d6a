/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Private to proto/: what the image reader (img-read.c) and writer
 * (img-write.c) share.  Everyone else uses img.h.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "proto/img.h"

#define IMG_BUF_SIZE (64u << 10) /* write flush threshold and read chunk */

struct img_desc {
	const char *name;     /* crit's magic name */
	const char *file_fmt; /* printf format taking one unsigned long, or a fixed name */
	uint32_t head_magic;  /* 0: none */
	uint32_t magic;
	const ProtobufCMessageDescriptor *first; /* descriptor of entry 0 */
	const ProtobufCMessageDescriptor *rest;  /* descriptor of entries 1.. */
	bool single;                             /* one entry only */
};

/* One per enum img_type, in img-read.c. */
extern const struct img_desc img_descs[IMG_NR];

struct img {
	int fd;
	enum img_type type;
	bool writing;
	char *name;         /* as given, for messages */
	uint64_t off;       /* file offset of the next byte read or written */
	uint64_t size;      /* read: file size at open */
	size_t nr_entries;  /* entries read or written */
	char *buf;          /* write: pending bytes; read: read-ahead */
	size_t buf_len;     /* bytes in buf */
	size_t buf_pos;     /* read: next unread byte in buf */
	size_t buf_cap;     /* allocated size of buf */
	uint64_t last_end;  /* pagemap writer: end of the previous entry */
	uint64_t extra_due; /* write: raw bytes owed after the last entry */
	void *extra;        /* IMG_PIPES_DATA: raw bytes after the last entry */
	size_t extra_len;
	struct img_later *later; /* img_create_later(): kept in memory, no fd */
};

static inline bool img_type_valid(enum img_type type)
{
	return (unsigned)type < IMG_NR;
}

/* A new struct img owning @fd; img_free() closes and frees it. */
struct img *img_alloc(int fd, const char *name, enum img_type type, bool writing);
void img_free(struct img *img);
