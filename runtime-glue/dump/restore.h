/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/*
 * `ckpt restore`: bring a dumped tree back through CRIU (the one trusted
 * restorer).  ckpt checks the image directory and the environment first,
 * runs `criu restore`, and turns CRIU's failures into ckpt messages.
 */
struct glue_restore_opts {
	const char *dir;      /* -D: the final dump's directory */
	const char *criu;     /* --criu PATH; NULL: "criu" from PATH */
	bool detach;          /* -d: criu exits once the tree runs */
	bool shell_job;       /* --shell-job (added anyway when the image needs it) */
	const char *log_file; /* -o: CRIU's log; NULL: a temporary file kept on failure */
	const char *pidfile;  /* --pidfile */
	char *const *extra;   /* passed to criu as given (after --) */
	size_t nr_extra;
};

/*
 * Restore the tree dumped in opts->dir.  Before CRIU runs: the directory must
 * hold inventory.img and pstree.img, every pid of the image must be free
 * (CRIU restores original pids), and the criu binary must exist and be
 * executable.  CRIU's exit status and log decide the outcome; a failure is
 * reported as one message naming the cause (CRIU that cannot run on this
 * kernel, a pid in use, a missing file, ...) and the log file to read.
 * On success *root_pid (may be NULL) gets the restored root's pid.
 * Returns 0 or -1 with *err set.
 */
int glue_restore(const struct glue_restore_opts *opts, int *root_pid, struct ck_err **err);
