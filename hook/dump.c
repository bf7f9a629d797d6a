// SPDX-License-Identifier: MIT
/*
 * ckpt dump -t PID|--cgroup PATH -D DIR [--prev-images-dir REL] [--track-mem]
 *           [--leave-running|--leave-stopped] [--shell-job] [--memory-only] ...
 *
 * The final, restorable layer: the tree stays frozen while every page is
 * copied and the rest of its state (registers, files, ids: dump-state.h) is
 * written; then it is killed (default, as CRIU does), left stopped
 * (--leave-stopped) or left running (--leave-running).  --shell-job allows a
 * session or process group leader outside the tree and a terminal of its
 * shell's.  The implementation
 * shares pre-dump.c's.
 *
 * --memory-only writes the final, frozen, consistent memory layer alone
 * (inventory, pstree, mm, pagemap, pages, stats-dump): no restorability
 * check, and the tree is left stopped by default (--leave-running to resume).
 */
#include "hook/mem-opts.h"
#include "hook/verbs.h"

int hook_cmd_dump(int argc, char **argv, struct ck_err **err)
{
	return hook_mem_run_dump(HOOK_MEM_DUMP, argc, argv, err);
}
