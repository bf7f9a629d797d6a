// SPDX-License-Identifier: MIT
/*
 * ckpt verify -t PID|--cgroup PATH -D DIR [--max-report N]
 *
 * Rebuilds every page from the layer chain of DIR and compares it with the
 * frozen tree's memory.  Prints one line per problem and a summary:
 *
 *   verify: DIR: 2 tasks, 1 segments, 4242 pages compared: OK
 *   MISMATCH pid 1 page 0x7f3a1c000000 (anon-private)
 *
 * Exit status 0 when memory equals the reconstruction, 1 otherwise.
 */
#include <stdio.h>

#include "hook/mem-opts.h"
#include "hook/verbs.h"
#include "runtime-glue/dump/verify.h"

int hook_cmd_verify(int argc, char **argv, struct ck_err **err)
{
	struct hook_mem_args a;
	struct glue_verify_opts vo;
	struct glue_verify_result r;
	int rc = hook_mem_parse(HOOK_MEM_VERIFY, argc, argv, &a);
	bool ok;

	if (rc != HOOK_EXIT_OK)
		return rc;
	vo.target = a.mem.target;
	vo.images_dir = a.mem.images_dir;
	vo.max_report = a.max_report;
	if (glue_verify(&vo, &r, stdout, err) < 0)
		return HOOK_EXIT_ERR;
	ok = !r.mismatch && !r.missing && !r.outside;
	printf("verify: %s: %llu tasks, %llu segments, %llu pages compared: %s", a.mem.images_dir,
	       (unsigned long long)r.tasks, (unsigned long long)r.segments,
	       (unsigned long long)r.pages_checked, ok ? "OK\n" : "");
	if (!ok)
		printf("%llu differ, %llu missing, %llu outside VMAs\n",
		       (unsigned long long)r.mismatch, (unsigned long long)r.missing,
		       (unsigned long long)r.outside);
	return ok ? HOOK_EXIT_OK : HOOK_EXIT_ERR;
}
