// SPDX-License-Identifier: MIT
/* Victim for `ckpt exec`: leaves a zombie child (never reaped), prints "READY child=PID". */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	siginfo_t si;
	pid_t child = fork();

	if (child < 0)
		return 1;
	if (child == 0)
		_exit(0);
	/* Wait until it is a zombie, without reaping it. */
	waitid(P_PID, (id_t)child, &si, WEXITED | WNOWAIT);
	printf("READY child=%d\n", child);
	fflush(stdout);
	for (;;)
		pause();
}
