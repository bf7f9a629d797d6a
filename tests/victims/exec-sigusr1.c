// SPDX-License-Identifier: MIT
/*
 * Victim for `ckpt exec`: SIGUSR1 has a handler and is normally blocked; the
 * main thread waits for it in sigsuspend() (default) or ppoll() with a mask
 * that unblocks it ("ppoll"), i.e. with a temporary signal mask.  After each
 * delivery it prints "USR1 count=N mask=ok" if SIGUSR1 is blocked again (the
 * real mask came back), "mask=bad" otherwise.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t count;

static void on_usr1(int sig)
{
	(void)sig;
	count++;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t block, waitmask, cur;
	int use_ppoll = argc > 1 && !strcmp(argv[1], "ppoll");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigemptyset(&waitmask);
	printf("READY mode=%s\n", use_ppoll ? "ppoll" : "sigsuspend");
	fflush(stdout);
	for (;;) {
		int seen = count, r;

		if (use_ppoll)
			r = ppoll(NULL, 0, NULL, &waitmask);
		else
			r = sigsuspend(&waitmask);
		if (r < 0 && errno != EINTR) {
			printf("ERR %s\n", strerrorname_np(errno));
			return 1;
		}
		sigprocmask(SIG_BLOCK, NULL, &cur);
		if (count == seen) {
			printf("SPURIOUS wakeup\n");
			fflush(stdout);
			continue;
		}
		printf("USR1 count=%d mask=%s\n", (int)count,
		       sigismember(&cur, SIGUSR1) ? "ok" : "bad");
		fflush(stdout);
	}
}
