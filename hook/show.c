// SPDX-License-Identifier: MIT
/*
 * ckpt show FILE|DIR [--pretty]: decode image files (ckpt's or CRIU's) to JSON
 * on stdout, like `crit decode` (FILE) or one object keyed by file name (DIR).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "hook/verbs.h"
#include "oci-spec/oci-spec.h"
#include "runtime-glue/image-json.h"

int hook_cmd_show(int argc, char **argv, struct ck_err **err)
{
	_cleanup_(oci_json_freep) struct oci_json *j = NULL;
	_cleanup_close_ int dirfd = -1;
	const char *path = NULL, *doc;
	bool pretty = false, dashdash = false;
	struct stat st;
	size_t len;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!dashdash && !strcmp(argv[i], "--pretty")) {
			pretty = true;
		} else if (!dashdash && !strcmp(argv[i], "--")) {
			dashdash = true;
		} else if (!dashdash && argv[i][0] == '-' && argv[i][1]) {
			return hook_usage_error("show", "unknown option '%s'", argv[i]);
		} else if (path) {
			return hook_usage_error("show", "one FILE or DIR only ('%s' and '%s')",
						path, argv[i]);
		} else {
			path = argv[i];
		}
	}
	if (!path)
		return hook_usage_error("show", "missing FILE or DIR");

	if (stat(path, &st)) {
		ck_err_set(err, errno, "%s", path);
		return HOOK_EXIT_ERR;
	}
	j = oci_json_new(pretty);
	if (S_ISDIR(st.st_mode)) {
		dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0) {
			ck_err_set(err, errno, "open %s", path);
			return HOOK_EXIT_ERR;
		}
		rc = glue_image_dir_json(j, dirfd, pretty, err);
		if (rc)
			ck_err_wrap(err, "%s", path);
	} else {
		rc = glue_image_json(j, AT_FDCWD, path, pretty, err);
	}
	if (rc)
		return HOOK_EXIT_ERR;
	doc = oci_json_finish(j, &len, err);
	if (!doc)
		return HOOK_EXIT_ERR;
	if (fwrite(doc, 1, len, stdout) != len || putchar('\n') == EOF || fflush(stdout)) {
		ck_err_set(err, errno, "write to stdout");
		return HOOK_EXIT_ERR;
	}
	return HOOK_EXIT_OK;
}
