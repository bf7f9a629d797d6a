// SPDX-License-Identifier: MIT
/*
 * rst-tty: a shell job on a terminal.  Run with RST_NO_SETSID=1 under a shell
 * on a pty: stdout and stderr are the shell's terminal, the session leader is
 * the shell (outside the tree).  It turns ECHO off on the terminal (a mode a
 * restore must carry) and prints "TICK n" every 100 ms.  On SIGTERM it
 * checks that its stdout is still a terminal, that the window size is the one
 * it saw at its start and that ECHO is still off, then prints PASS.
 */
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>

#include "rst-common.h"

int main(void)
{
	struct timespec step = { 0, 100 * 1000 * 1000 };
	struct winsize ws0, ws;
	struct termios t;
	long n = 0;

	rst_setup();
	if (!isatty(1) || ioctl(1, TIOCGWINSZ, &ws0) < 0 || tcgetattr(1, &t) < 0)
		rst_fail("stdout is not a terminal");
	t.c_lflag &= ~(tcflag_t)ECHO;
	if (tcsetattr(1, TCSANOW, &t) < 0)
		rst_fail("tcsetattr: %s", strerror(errno));
	rst_say("READY %ux%u", ws0.ws_row, ws0.ws_col);
	while (!rst_term) {
		rst_say("TICK %ld", ++n);
		nanosleep(&step, NULL);
	}
	if (!isatty(1) || ioctl(1, TIOCGWINSZ, &ws) < 0 || tcgetattr(1, &t) < 0)
		rst_fail("stdout is no terminal after the restore");
	if (ws.ws_row != ws0.ws_row || ws.ws_col != ws0.ws_col)
		rst_fail("window %ux%u, was %ux%u", ws.ws_row, ws.ws_col, ws0.ws_row, ws0.ws_col);
	if (t.c_lflag & ECHO)
		rst_fail("ECHO is on again");
	rst_say("TTY %s", ttyname(1));
	rst_pass();
}
