// SPDX-License-Identifier: MIT
/*
 * vfork-victim: vfork(); the child prints "READY parent=P child=C" and sleeps
 * (system calls only, as a vfork child must) until killed, so the parent
 * stays blocked in vfork() for good.  For the tests of a tree with a task in
 * vfork (issue 12 item 4).  The child dies with the test's kill.
 *
 * vfork-victim exec: the child instead waits for a byte on fd 3, then makes
 * fd 3 its stdin and execs /bin/cat (which blocks reading it: fd 3 should be
 * a FIFO opened read-write); the parent, let go, pauses.  For a vfork child
 * that execs while a pre-dump copies the tree.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int exec_mode = argc > 1 && !strcmp(argv[1], "exec");
	pid_t parent = getpid();
	pid_t child = vfork();

	if (child == 0) {
		char buf[80];
		struct timespec ts = { 3600, 0 };
		int n = snprintf(buf, sizeof(buf), "READY parent=%d child=%d\n", (int)parent,
				 (int)syscall(SYS_getpid));

		if (syscall(SYS_write, 1, buf, (size_t)n) < 0)
			syscall(SYS_exit, 1);
		if (exec_mode) {
			static char *const args[] = { "cat", NULL };
			char c;

			if (syscall(SYS_read, 3, &c, 1) != 1 || syscall(SYS_dup3, 3, 0, 0) < 0)
				syscall(SYS_exit, 1);
			syscall(SYS_execve, "/bin/cat", args, NULL);
			syscall(SYS_exit, 127);
		}
		for (;;)
			syscall(SYS_nanosleep, &ts, NULL);
	}
	while (exec_mode)
		pause();
	return 0;
}
