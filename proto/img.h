/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <protobuf-c/protobuf-c.h>

#include "common/err.h"

/*
 * Image files in CRIU's on-disk format: the one place that frames, packs and
 * unpacks them.
 *
 *   protobuf image := HEAD_MAGIC TYPE_MAGIC { u32 LEN, LEN bytes of message }
 *   inventory.img  :=            TYPE_MAGIC { ... }           (no head magic)
 *   stats-*        := IMG_SERVICE_MAGIC TYPE_MAGIC { ... }
 *   pages-N.img    := raw page data, no magic at all
 *
 * All u32 are host order (little endian).  Messages are the protobuf-c structs
 * generated from proto/ (e.g. "proto/pagemap.pb-c.h": PagemapEntry).
 *
 * Readers are strict: every problem (bad magic, truncated length or message, a
 * length larger than what is left in the file or than IMG_MAX_ENTRY, a message
 * protobuf-c cannot unpack, e.g. a missing required field) is an error whose
 * text names the file and the byte offset where the bad entry starts.  A
 * hostile length never allocates more than the file holds.
 */

#define IMG_COMMON_MAGIC  0x54564319u /* head magic of ordinary images */
#define IMG_SERVICE_MAGIC 0x55105940u /* head magic of stats-* */
/* inventory.img_version for images that carry the head magic (CRIU's V1_1). */
#define IMG_VERSION 2
/* Largest entry accepted or written (a 64k-VMA MmEntry is ~4 MiB). */
#define IMG_MAX_ENTRY (64u << 20)

/* PagemapEntry.flags */
#define IMG_PE_PARENT  (1u << 0) /* data is in the parent image */
#define IMG_PE_LAZY    (1u << 1) /* data may be served lazily */
#define IMG_PE_PRESENT (1u << 2) /* data is in this dir's pages-<pages_id>.img */

enum img_type {
	IMG_INVENTORY,   /* inventory.img      InventoryEntry (single, no head magic) */
	IMG_PSTREE,      /* pstree.img         PstreeEntry... */
	IMG_CORE,        /* core-<tid>.img     CoreEntry (single) */
	IMG_MM,          /* mm-<pid>.img       MmEntry (single) */
	IMG_PAGEMAP,     /* pagemap-<id>.img   PagemapHead, then PagemapEntry... */
	IMG_STATS,       /* stats-dump         StatsEntry (single, service head magic) */
	IMG_IDS,         /* ids-<pid>.img      TaskKobjIdsEntry (single) */
	IMG_FS,          /* fs-<pid>.img       FsEntry (single) */
	IMG_FILES,       /* files.img          FileEntry... */
	IMG_FDINFO,      /* fdinfo-<id>.img    FdinfoEntry... */
	IMG_CREDS,       /* creds-<pid>.img    CredsEntry (single, legacy location) */
	IMG_REG_FILES,   /* reg-files.img      RegFileEntry... (legacy) */
	IMG_SECCOMP,     /* seccomp.img        SeccompEntry (single) */
	IMG_TIMENS,      /* timens-<id>.img    TimensEntry (single) */
	IMG_PIPES,       /* pipes.img          PipeEntry... (legacy) */
	IMG_PIPES_DATA,  /* pipes-data.img     PipeDataEntry + `bytes` raw bytes, ... */
	IMG_MEMFD_INODE, /* memfd.img          MemfdInodeEntry... */
	IMG_MNTS,        /* mountpoints-<ns>.img MntEntry... */
	IMG_UTSNS,       /* utsns-<ns>.img     UtsnsEntry (single) */
	IMG_IPC_VAR,     /* ipcns-var-<ns>.img IpcVarEntry (single) */
	IMG_CGROUP,      /* cgroup.img         CgroupEntry (single) */
	IMG_TTY_INFO,    /* tty-info.img       TtyInfoEntry... */
	IMG_NETNS,       /* netns-<ns>.img     NetnsEntry (single) */
	IMG_PAGES,       /* pages-<id>.img     raw page data: img_write_raw() only */
	IMG_NR
};

struct img; /* an open image file */

/* ---- writing ----------------------------------------------------------- */

/*
 * Create (O_CREAT|O_TRUNC|O_CLOEXEC, mode 0600) image `name` relative to dirfd
 * (AT_FDCWD or a directory fd) and write its magics.  Output is buffered; only
 * img_close() guarantees it reached the file.  Returns NULL with *err set.
 */
struct img *img_create(int dirfd, const char *name, enum img_type type, struct ck_err **err);
/* The same on a file the caller made (empty, open for writing); the image owns @fd. */
struct img *img_create_fd(int fd, const char *name, enum img_type type, struct ck_err **err);

/*
 * Images made in memory now and written as files later, in one go: a final
 * dump builds its per-task images while the tree is frozen and creates the
 * files after the kill (file creation is most of their cost).
 *
 *   img_later_new(dirfd)            a set for that directory (dirfd stays the caller's)
 *   img_create_later(set, name, t)  like img_create(), no file; img_close() keeps the bytes
 *   img_later_bytes(set)            what the kept images hold (room to check for)
 *   img_later_write(set)            create and write every kept image, in order
 *   img_later_free(set)             drop what was not written
 */
struct img_later;
struct img_later *img_later_new(int dirfd);
struct img *img_create_later(struct img_later *l, const char *name, enum img_type type,
			     struct ck_err **err);
uint64_t img_later_bytes(const struct img_later *l);
int img_later_write(struct img_later *l, struct ck_err **err);
void img_later_free(struct img_later *l);

/*
 * Append one entry: u32 length + the packed message.  `msg` must be a
 * ProtobufCMessage of the type's descriptor (for IMG_PAGEMAP: a PagemapHead
 * first, PagemapEntry after), with every required field set (checked with
 * protobuf_c_message_check()); single-entry types accept one entry.
 * Returns 0, or -1 with *err set (the image is then unusable: img_abort() it).
 */
int img_write(struct img *img, const void *msg, struct ck_err **err);

/*
 * Pagemap helpers: the head (pages_id selects pages-<pages_id>.img), then one
 * entry per range.  The entry helper writes `flags` and `nr_pages`, and also
 * `compat_nr_pages` (= nr_pages when it fits in 32 bits, else 0) so that older
 * readers (crit 3.x) see the count.  Entries whose flags have neither
 * IMG_PE_PRESENT nor IMG_PE_PARENT, or with nr_pages 0, or not strictly after
 * the previous entry's range, or vaddr not page aligned (4096), are refused.
 */
int img_write_pagemap_head(struct img *img, uint32_t pages_id, struct ck_err **err);
int img_write_pagemap_entry(struct img *img, uint64_t vaddr, uint64_t nr_pages, uint32_t flags,
			    struct ck_err **err);

/* Append raw bytes to an IMG_PAGES image (buffered like img_write). */
int img_write_raw(struct img *img, const void *buf, size_t len, struct ck_err **err);
/*
 * Reserve disk space for @len more bytes after what was written so far
 * (fallocate, the file size is kept), so that appending them later cannot
 * fail for want of space.  0 also when the filesystem cannot reserve
 * (*reserved false then); -1 with *err (ENOSPC, ...).
 */
int img_reserve(struct img *img, uint64_t len, bool *reserved, struct ck_err **err);

/*
 * IMG_PIPES_DATA: every PipeDataEntry is followed by its `bytes` raw bytes of
 * pipe content; write them with this right after the entry (len must equal
 * `bytes`).  An entry whose data is missing makes the next img_write() and
 * img_close() fail.
 */
int img_write_extra(struct img *img, const void *buf, size_t len, struct ck_err **err);

/*
 * Fault injection (runtime-glue/fault.c sets it): called by img_close() of a
 * written image with its type name; a non-zero return fails the close.
 */
extern int (*img_close_fault)(const char *type_name, struct ck_err **err);

/* Flush, close and free.  Reports write and close errors; img is freed either way. */
int img_close(struct img *img, struct ck_err **err);

/* Close and free without reporting anything (cleanup paths).  Safe on NULL.
 * The partially written file is left in place. */
void img_abort(struct img *img);

/* For _cleanup_(img_abortp): aborts a still-open image. */
static inline void img_abortp(struct img **img)
{
	img_abort(*img);
	*img = NULL;
}

/* ---- reading ----------------------------------------------------------- */

/*
 * Open image `name` relative to dirfd for reading and check its magics against
 * `type` (IMG_PAGES: nothing to check).  Must be a regular file.  Returns NULL
 * with *err set ("NAME: ...").
 */
struct img *img_open(int dirfd, const char *name, enum img_type type, struct ck_err **err);

/*
 * Read the next entry and unpack it with `desc`.  On success returns 0 and sets
 * *out to the message (free with img_free_msg()), or to NULL at a clean end of
 * file (EOF exactly at an entry boundary).  Returns -1 with *err set ("NAME:
 * offset N: ...") on any framing or decoding problem.
 */
int img_read(struct img *img, const ProtobufCMessageDescriptor *desc, void **out,
	     struct ck_err **err);

/* Like img_read() with the descriptor the type uses for its next entry
 * (img_entry_desc(type, number of entries read so far)). */
int img_read_entry(struct img *img, void **out, struct ck_err **err);

/*
 * For IMG_PIPES_DATA: the raw bytes that followed the entry last read (valid
 * until the next read or close); NULL with *len = 0 otherwise.
 */
const void *img_extra(const struct img *img, size_t *len);

/*
 * IMG_PAGES: read up to len bytes of raw data.  Returns the number read (less
 * than len only at end of file, 0 at end of file) or -1 with *err set.
 */
ssize_t img_read_raw(struct img *img, void *buf, size_t len, struct ck_err **err);

/* Free a message returned by img_read(); safe on NULL. */
void img_free_msg(void *msg);

/* Close a read image (or abort a write image) and free it; safe on NULL. */
void img_release(struct img *img);

static inline void img_releasep(struct img **img)
{
	img_release(*img);
	*img = NULL;
}

/* ---- type information -------------------------------------------------- */

/* What img_probe() found at the start of a file. */
struct img_info {
	/*
	 * The decoded type; IMG_PAGES for a raw pages-*.img; IMG_NR when the
	 * magic is a CRIU image kind ckpt has no schema for (magic_name says which).
	 */
	enum img_type type;
	const char *magic_name; /* crit's name, e.g. "PAGEMAP", "CGROUP"; "PAGES" for raw */
	uint32_t head_magic;    /* 0 when none */
	uint32_t magic;         /* type magic; 0 for raw pages */
	uint64_t size;          /* file size in bytes */
};

/*
 * Identify the file `name` (relative to dirfd) by its magics.  A file whose
 * base name is pages-*.img is raw page data whatever its bytes.  Returns 0 and
 * fills *info, or -1 with *err set when the file cannot be read, is too short,
 * or its magic is unknown.
 */
int img_probe(int dirfd, const char *name, struct img_info *info, struct ck_err **err);

/* Probe + img_open() with the detected type (IMG_NR types are an error). */
struct img *img_open_any(int dirfd, const char *name, struct ck_err **err);

/* crit's magic name of a type ("INVENTORY", "PAGEMAP", ..., "PAGES"). */
const char *img_type_name(enum img_type type);

/*
 * The descriptor of the entry number `index` (0-based) of a type: for
 * IMG_PAGEMAP index 0 is PagemapHead and the rest PagemapEntry; NULL for
 * IMG_PAGES and out-of-range types.
 */
const ProtobufCMessageDescriptor *img_entry_desc(enum img_type type, size_t index);

/*
 * The conventional file name of an image (id = pid, tid, files id, pages id,
 * ...; ignored by the fixed names): "core-42.img", "pagemap-42.img",
 * "pages-1.img", "inventory.img", "stats-dump", ...  Caller frees.
 */
char *img_filename(enum img_type type, unsigned long id);

/* Accessors for an open image. */
enum img_type img_type(const struct img *img);
const char *img_name(const struct img *img);
/* Byte offset of the next read/write. */
uint64_t img_offset(const struct img *img);
/* Read images: the file size seen at open. */
uint64_t img_size(const struct img *img);
/* Entries read or written so far. */
size_t img_nr_entries(const struct img *img);
