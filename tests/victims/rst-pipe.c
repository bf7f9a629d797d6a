// SPDX-License-Identifier: MIT
/*
 * rst-pipe: a parent and a child joined by two pipes.  The child writes a
 * 3000-byte block into the up pipe at start; the parent leaves it unread, so
 * the dump must carry the pipe's content.  On SIGTERM (to the parent) the
 * parent reads and checks the block, sends "ping" down, expects "pong" back,
 * tells the child to quit and checks its exit status.
 */
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "rst-common.h"

#define BLOCK 3000

static int full_read(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static void child(int up, int down)
{
	char block[BLOCK], cmd[5];

	for (int i = 0; i < BLOCK; i++)
		block[i] = (char)('a' + i % 26);
	if (write(up, block, BLOCK) != BLOCK)
		_exit(2);
	for (;;) {
		if (full_read(down, cmd, 4) < 0)
			_exit(3);
		cmd[4] = '\0';
		if (!strcmp(cmd, "ping")) {
			if (write(up, "pong", 4) != 4)
				_exit(4);
		} else if (!strcmp(cmd, "quit")) {
			_exit(42);
		}
	}
}

int main(void)
{
	int up[2], down[2], status, avail;
	char block[BLOCK], reply[5] = "";
	pid_t pid;

	rst_setup();
	if (pipe(up) || pipe(down))
		rst_fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		rst_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		close(up[0]);
		close(down[1]);
		child(up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	/* wait until the child's block sits in the pipe */
	for (;;) {
		if (ioctl(up[0], FIONREAD, &avail) == 0 && avail >= BLOCK)
			break;
		usleep(1000);
	}
	rst_say("READY child %d", (int)pid);
	while (!rst_term) {
		pause();
		if (rst_usr1 && !rst_term)
			rst_say("CHANGED %d", (int)rst_usr1);
	}
	if (full_read(up[0], block, BLOCK) < 0)
		rst_fail("reading the pipe's content: %s", strerror(errno));
	for (int i = 0; i < BLOCK; i++)
		if (block[i] != (char)('a' + i % 26))
			rst_fail("pipe byte %d is %#x", i, block[i]);
	if (write(down[1], "ping", 4) != 4)
		rst_fail("write ping: %s", strerror(errno));
	if (full_read(up[0], reply, 4) < 0 || strcmp(reply, "pong"))
		rst_fail("child answered '%s'", reply);
	if (write(down[1], "quit", 4) != 4)
		rst_fail("write quit: %s", strerror(errno));
	if (waitpid(pid, &status, 0) != pid)
		rst_fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 42)
		rst_fail("child status %#x", status);
	rst_pass();
}
