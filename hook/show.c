// SPDX-License-Identifier: MIT
#include "hook/verbs.h"

/* Placeholder until the image decoder lands (foundation issue, proto/). */
int hook_cmd_show(int argc, char **argv, struct ck_err **err)
{
	ck_err_set(err, 0, "not implemented yet");
	return HOOK_EXIT_ERR;
}
