// SPDX-License-Identifier: MIT
#include "hook/verbs.h"

int hook_cmd_check(int argc, char **argv, struct ck_err **err)
{
	ck_err_set(err, 0, "not implemented yet");
	return HOOK_EXIT_ERR;
}
