// SPDX-License-Identifier: MIT
/*
 * The final dump's small images: one message each, written now, or (per-task
 * images made while the tree is frozen) kept in memory and made files by
 * glue_dump_finish() after the kill or thaw, since creating the files is most
 * of their cost (proto/img.h img_create_later()).
 */
#include "common/cleanup.h"
#include "common/err.h"
#include "proto/img.h"
#include "runtime-glue/dump/dump-priv.h"

/* Write @msg as the one entry of @img and close it; @img NULL: the error is set. */
static int write_one(struct img *img, const void *msg, struct ck_err **err)
{
	if (!img)
		return -1;
	if (img_write(img, msg, err) < 0) {
		img_abort(img);
		return -1;
	}
	return img_close(img, err);
}

/* see dump-priv.h */
int glue_dump_write_single(int dirfd, enum img_type type, unsigned long id, const void *msg,
			   struct ck_err **err)
{
	_cleanup_free_ char *name = img_filename(type, id);

	return write_one(img_create(dirfd, name, type, err), msg, err);
}

/* see dump-priv.h */
struct img *glue_dump_img_create(struct glue_dump_state *st, int dirfd, const char *name,
				 enum img_type type, struct ck_err **err)
{
	if (st->later_done || (st->later && st->later_dirfd != dirfd))
		return img_create(dirfd, name, type, err);
	if (!st->later) {
		st->later = img_later_new(dirfd);
		st->later_dirfd = dirfd;
	}
	return img_create_later(st->later, name, type, err);
}

/* see dump-priv.h */
int glue_dump_write_later(struct glue_dump_state *st, int dirfd, enum img_type type,
			  unsigned long id, const void *msg, struct ck_err **err)
{
	_cleanup_free_ char *name = img_filename(type, id);

	return write_one(glue_dump_img_create(st, dirfd, name, type, err), msg, err);
}
