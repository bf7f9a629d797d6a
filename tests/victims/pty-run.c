// SPDX-License-Identifier: MIT
/*
 * A terminal for a test, as a shell's terminal emulator would hold it:
 *
 *   pty-run OUT ROWS COLS CMD [ARG...]
 *
 * Opens a new pty of ROWS x COLS, runs CMD as the leader of a new session
 * whose controlling terminal is the slave (stdin, stdout and stderr), and
 * appends everything the master reads to the file OUT.  It holds the master
 * until no slave is open any more (EIO), also after CMD has exited, so a tree
 * restored onto the terminal (`criu restore --shell-job` run inside it) keeps
 * writing to OUT.  Prints "PTY /dev/pts/N" first.
 *
 *   pty-run ── master ──► OUT
 *      │
 *      └─ fork: setsid, slave as ctty on 0/1/2, exec CMD
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "pty-run: %s: %s\n", what, strerror(errno));
	exit(2);
}

int main(int argc, char **argv)
{
	struct winsize ws = { 0 };
	char buf[4096], *name;
	int m, out;
	pid_t pid;

	if (argc < 5) {
		fprintf(stderr, "usage: pty-run OUT ROWS COLS CMD [ARG...]\n");
		return 2;
	}
	out = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (out < 0 || m < 0 || grantpt(m) || unlockpt(m) || !(name = ptsname(m)))
		die("open the pty");
	ws.ws_row = (unsigned short)atoi(argv[2]);
	ws.ws_col = (unsigned short)atoi(argv[3]);
	if (ioctl(m, TIOCSWINSZ, &ws) < 0)
		die("TIOCSWINSZ");
	printf("PTY %s\n", name);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int s;

		if (setsid() < 0)
			die("setsid");
		s = open(name, O_RDWR); /* the session leader's first tty: its ctty */
		if (s < 0 || ioctl(s, TIOCSCTTY, 0) < 0)
			die(name);
		dup2(s, 0);
		dup2(s, 1);
		dup2(s, 2);
		if (s > 2)
			close(s);
		execvp(argv[4], argv + 4);
		die(argv[4]);
	}
	for (;;) {
		ssize_t n = read(m, buf, sizeof(buf));

		if (n > 0) {
			if (write(out, buf, (size_t)n) != n)
				die("write OUT");
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		break; /* EIO: no slave open any more */
	}
	waitpid(pid, NULL, 0);
	return 0;
}
