/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "common/err.h"
#include "runtime-glue/dump/predump.h"

/*
 * Command line shared by pre-dump, dump and verify (CRIU's spelling):
 *   -t, --tree PID          the task, its threads and descendants
 *   --cgroup PATH|auto      every task of a cgroup (auto: the cgroup of -t PID)
 *   -D, --images-dir DIR    the layer to write (or to verify)
 *   --prev-images-dir REL   parent layer, relative to DIR (pre-dump, dump)
 *   --track-mem             keep tracking for a later layer (implied by pre-dump)
 *   --tracker NAME          auto|uffd-wp|soft-dirty|hash|none
 *   --leave-running / --leave-stopped (dump; default: killed, or stopped with --memory-only)
 *   --shell-job             (dump) session/group leader may be outside the tree
 *   --memory-only           (dump) the frozen memory layer only, no restorability check
 *   --json-progress         JSON lines on stdout
 *   -o, --log-file FILE     log to FILE (relative to the current directory)
 *   -v[N]                   more log (repeatable, or a level 0-4)
 *   --max-report N          (verify) problems printed per task
 */
enum hook_mem_verb { HOOK_MEM_PRE_DUMP, HOOK_MEM_DUMP, HOOK_MEM_VERIFY };

struct hook_mem_args {
	struct glue_mem_opts mem;
	unsigned max_report;
};

/* Parse; returns HOOK_EXIT_OK, or HOOK_EXIT_USAGE after printing the problem. */
int hook_mem_parse(enum hook_mem_verb verb, int argc, char **argv, struct hook_mem_args *a);

/* Parse and run pre-dump or dump; returns the exit code. */
int hook_mem_run_dump(enum hook_mem_verb verb, int argc, char **argv, struct ck_err **err);
