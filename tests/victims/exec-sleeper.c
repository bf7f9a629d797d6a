// SPDX-License-Identifier: MIT
/*
 * Victim for `ckpt exec`: one nanosleep() of SECONDS (default 2), then prints
 * "SLEPT ms=<elapsed> rc=<rc> err=<errno name or 0>".  With "block", SIGUSR2
 * is blocked first (to test that pending signals stay pending).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec a, b, t = { argc > 1 ? atoi(argv[1]) : 2, 0 };
	int rc, e;

	if (argc > 2 && !strcmp(argv[2], "block")) {
		sigset_t s;

		sigemptyset(&s);
		sigaddset(&s, SIGUSR2);
		sigprocmask(SIG_BLOCK, &s, NULL);
	}
	printf("READY pid=%d\n", getpid());
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &a);
	rc = nanosleep(&t, NULL);
	e = errno;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("SLEPT ms=%ld rc=%d err=%s\n",
	       (long)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000), rc,
	       rc ? strerrorname_np(e) : "0");
	return 0;
}
