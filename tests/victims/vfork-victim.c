// SPDX-License-Identifier: MIT
/*
 * vfork-victim: vfork(); the child prints "READY parent=P child=C" and sleeps
 * (system calls only, as a vfork child must) until killed, so the parent
 * stays blocked in vfork() for good.  For the tests of a tree with a task in
 * vfork (issue 12 item 4).  The child dies with the test's kill.
 */
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	pid_t parent = getpid();
	pid_t child = vfork();

	if (child == 0) {
		char buf[80];
		struct timespec ts = { 3600, 0 };
		int n = snprintf(buf, sizeof(buf), "READY parent=%d child=%d\n", (int)parent,
				 (int)syscall(SYS_getpid));

		if (syscall(SYS_write, 1, buf, (size_t)n) < 0)
			syscall(SYS_exit, 1);
		for (;;)
			syscall(SYS_nanosleep, &ts, NULL);
	}
	return 0;
}
