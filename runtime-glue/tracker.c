// SPDX-License-Identifier: MIT
/*
 * Tracker registry: maps the tracker enum of features.h to an implementation.
 * A new tracker adds its ops here and sets `built` in features.c.
 */
#include <errno.h>

#include "runtime-glue/tracker.h"

/* see tracker.h */
const struct glue_tracker_ops *glue_tracker_ops(enum glue_tracker id, struct ck_err **err)
{
	switch (id) {
	case GLUE_TRACKER_UFFD_WP:
		return &glue_tracker_uffd_ops;
	case GLUE_TRACKER_SOFT_DIRTY:
		return &glue_tracker_softdirty_ops;
	case GLUE_TRACKER_HASH:
		return &glue_tracker_hash_ops;
	case GLUE_TRACKER_NONE:
		return &glue_tracker_none_ops;
	case GLUE_TRACKER_NR:
		break;
	}
	ck_err_set(err, ENOTSUP, "tracker '%s' is not implemented in this build",
		   glue_tracker_name(id));
	return NULL;
}
