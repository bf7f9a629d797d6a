// SPDX-License-Identifier: MIT
/*
 * The "none" tracker: every present page is written in every layer.  It keeps
 * no state; the engine still links the parent, but never writes PE_PARENT.
 */
#include <string.h>

#include "runtime-glue/track/tracker.h"

static int none_classify(struct glue_tracker_ctx *t, struct glue_mobj *obj, struct glue_chunk *c,
			 struct ck_err **err)
{
	memset(c->dirty, 1, c->npages);
	return 0;
}

const struct glue_tracker_ops glue_tracker_none_ops = {
	.id = GLUE_TRACKER_NONE,
	.classify = none_classify,
};
