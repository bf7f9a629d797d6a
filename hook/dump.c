// SPDX-License-Identifier: MIT
/*
 * ckpt dump -t PID|--cgroup PATH -D DIR [--prev-images-dir REL] [--track-mem]
 *           [--leave-running|--leave-stopped] ...
 *
 * The final memory layer: the tree stays frozen while every page is copied,
 * then is left stopped (default, or --leave-stopped) or running
 * (--leave-running).  The rest of a restorable dump (registers, files) is not
 * written by this verb yet.  The implementation shares pre-dump.c's.
 */
#include "hook/mem-opts.h"
#include "hook/verbs.h"

int hook_cmd_dump(int argc, char **argv, struct ck_err **err)
{
	return hook_mem_run_dump(HOOK_MEM_DUMP, argc, argv, err);
}
