// SPDX-License-Identifier: MIT
/*
 * rst-sleep: sleeps in nanosleep(3600 s), resuming with the remaining time
 * whenever it returns EINTR (a restored task sees EINTR once: the kernel's
 * restart block does not survive a dump).  On SIGTERM it checks that it was
 * asleep the whole time: the remaining time is still more than 3000 s and
 * less than 3600 s minus the time that really passed.
 */
#include <time.h>

#include "rst-common.h"

int main(void)
{
	struct timespec req = { 3600, 0 }, rem, t0, t1;
	int eintr = 0;

	rst_setup();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rst_say("READY");
	for (;;) {
		if (nanosleep(&req, &rem) == 0)
			rst_fail("the 3600 s sleep finished");
		if (errno != EINTR)
			rst_fail("nanosleep: %s", strerror(errno));
		eintr++;
		if (rst_term)
			break;
		if (rst_usr1)
			rst_say("CHANGED %d", (int)rst_usr1);
		req = rem;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rem.tv_sec < 3000 || rem.tv_sec > 3600)
		rst_fail("remaining sleep %lld s", (long long)rem.tv_sec);
	/* remaining + elapsed cannot exceed the request (1 s slack for rounding) */
	if (rem.tv_sec + (t1.tv_sec - t0.tv_sec) > 3601)
		rst_fail("remaining %lld s + elapsed %lld s > 3600 s", (long long)rem.tv_sec,
			 (long long)(t1.tv_sec - t0.tv_sec));
	rst_say("EINTR %d", eintr);
	rst_pass();
}
