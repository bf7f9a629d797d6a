// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include "common/stop.h"

volatile sig_atomic_t ck_stop_sig;

static void on_stop(int sig)
{
	if (!ck_stop_sig)
		ck_stop_sig = sig;
}

/* see stop.h */
void ck_stop_install(void)
{
	struct sigaction sa = { .sa_handler = on_stop };
	int sigs[] = { SIGTERM, SIGINT, SIGHUP };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* see stop.h */
int ck_stop_check(struct ck_err **err)
{
	int sig = ck_stop_sig;

	if (!sig)
		return 0;
	return ck_err_set(err, ECANCELED, "interrupted by SIG%s", sigabbrev_np(sig));
}
