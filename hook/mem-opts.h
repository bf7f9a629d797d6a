/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "common/err.h"
#include "runtime-glue/dump/predump.h"

/*
 * The command line of pre-dump, dump and verify (CRIU's spelling): one option
 * table, hook_opts_mem in pre-dump.c, whose rows name the verbs that take them.
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
