// SPDX-License-Identifier: MIT
/*
 * ckpt show FILE|DIR [--pretty]: decode image files (ckpt's or CRIU's) to JSON
 * on stdout, like `crit decode` (FILE) or one object keyed by file name (DIR).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "hook/verbs.h"
#include "oci-spec/oci-spec.h"
#include "runtime-glue/image-json.h"

enum { OPT_PRETTY = 1 };

/* clang-format off */
const struct hook_opt hook_opts_show[] = {
	HOOK_OPT(OPT_PRETTY, "pretty", 0, NONE, NULL, NULL, "indent the JSON, addresses in hex, flags by name"),
	HOOK_OPT_END,
};
/* clang-format on */

int hook_cmd_show(int argc, char **argv, struct ck_err **err)
{
	_cleanup_(oci_json_freep) struct oci_json *j = NULL;
	_cleanup_close_ int dirfd = -1;
	const char *path = NULL, *doc;
	bool pretty = false;
	struct hook_getopt g;
	struct stat st;
	size_t len;
	int rc, c;

	hook_getopt_init(&g, "show", hook_opts_show, false, argc, argv);
	while ((c = hook_getopt_next(&g)) > 0)
		if (c == OPT_PRETTY)
			pretty = true;
	if (c < 0)
		return HOOK_EXIT_USAGE;
	for (int i = optind; i < argc; i++) {
		if (path)
			return hook_usage_error("show", "one FILE or DIR only ('%s' and '%s')",
						path, argv[i]);
		path = argv[i];
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
