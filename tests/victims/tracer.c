// SPDX-License-Identifier: MIT
/*
 * tracer PID: PTRACE_SEIZE process PID (no stop), print "READY", then sleep
 * until killed (the kernel detaches then).  For tests of ckpt against a target
 * that is already traced (as under strace or gdb).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	pid_t pid = argc > 1 ? (pid_t)atoi(argv[1]) : 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (pid <= 0 || ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0) {
		perror("tracer: PTRACE_SEIZE");
		return 1;
	}
	printf("READY tracing %d\n", pid);
	fflush(stdout);
	for (;;)
		pause();
}
