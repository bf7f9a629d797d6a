/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include <protobuf-c/protobuf-c.h>

#include "common/err.h"
#include "oci-spec/oci-spec.h"

/*
 * Image files to JSON, in the shape of CRIU's `crit decode`:
 *
 *	{"magic": "PAGEMAP", "entries": [{"pages_id": 1}, {"vaddr": ..., ...}]}
 *
 * Messages are walked generically through their protobuf-c descriptors: set
 * fields only (optional fields that are absent and empty repeated fields are
 * left out), in field-number order, enums by name, bytes as base64 (as crit).
 * With `pretty`, values get crit's `show` formatting: "0x..." strings for
 * addresses and masks (mm_entry, vma start/end, pagemap vaddr, registers,
 * sigactions), flag names for vma prot/flags/status, pagemap flags, file flags
 * and memfd seals ("PROT_READ | PROT_WRITE"), and task_state by name.
 * Unlike crit 3.17, task_state 3 is "Stopped" and 6 "Zombie" (CRIU's values).
 *
 * Raw pages-*.img files have no entries; they are described as
 *	{"magic": "PAGES", "size": BYTES, "pages": BYTES / 4096}
 * and a size that is not a whole number of pages is an error.
 *
 * ckpt's own files in a layer are decoded too: ckpt-layer as
 *	{"magic": "CKPT_LAYER", "version": 1, "tracker": NAME,
 *	 "tasks": [{"vpid": V, "pid": P, "start_time": T}, ...]}
 * a tracker's PREFIX-ID.state as {"magic": "CKPT_TRACKER_STATE", "tracker":
 * PREFIX, "id": ID, "token": HEX, "start_time": T}, and the hash tracker's
 * ckpt-hash-*.bin as {"magic": "CKPT_HASHES", "size": BYTES}.
 */

/* Append one message as a JSON object. */
void glue_message_json(struct oci_json *j, const ProtobufCMessage *msg, bool pretty);

/*
 * Append the document of image `name` (relative to dirfd).  Unknown, corrupt or
 * unsupported files fail with an error naming the file and byte offset; j is
 * then unusable.  Returns 0 or -1 with *err set.
 */
int glue_image_json(struct oci_json *j, int dirfd, const char *name, bool pretty,
		    struct ck_err **err);

/*
 * Append an object keyed by file name, holding the document of every regular
 * file in the directory (sorted by name; symlinks such as `parent` and
 * subdirectories are skipped).  CRIU image kinds ckpt has no schema for appear
 * as {"magic": NAME, "unsupported": true}; unknown or corrupt files fail.
 */
int glue_image_dir_json(struct oci_json *j, int dirfd, bool pretty, struct ck_err **err);
