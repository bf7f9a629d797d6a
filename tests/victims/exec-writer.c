// SPDX-License-Identifier: MIT
/*
 * Victim for `ckpt exec`: writes "line N" to fd 1 every 50 ms, ignoring errors
 * (fd 1 may be closed for a while when its stdout is redirected).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	struct timespec t = { 0, 50 * 1000 * 1000 };
	char line[64];

	printf("READY\n");
	fflush(stdout);
	for (unsigned long i = 0;; i++) {
		int n = snprintf(line, sizeof(line), "line %lu\n", i);

		if (write(1, line, (size_t)n) < 0) {
			/* fd 1 closed: keep going */
		}
		nanosleep(&t, NULL);
	}
}
