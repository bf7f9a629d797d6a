// SPDX-License-Identifier: MIT
/*
 * sock-squat NAME...: a hostile local user's stand-in.  Binds and listens on
 * every NAME (a path, or @name for an abstract socket), accepts connections
 * and never answers.  Prints "BOUND NAME" or "FAILED NAME errno" per name,
 * then READY, and sleeps until killed.  Dies with its parent.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (int i = 1; i < argc; i++) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		size_t n = strlen(argv[i]);
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		socklen_t len;

		if (n >= sizeof(sa.sun_path))
			return 2;
		memcpy(sa.sun_path, argv[i], n);
		if (argv[i][0] == '@')
			sa.sun_path[0] = '\0';
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (argv[i][0] != '@'));
		if (s < 0 || bind(s, (struct sockaddr *)&sa, len) || listen(s, 8))
			printf("FAILED %s %s\n", argv[i], strerror(errno));
		else
			printf("BOUND %s\n", argv[i]);
	}
	printf("READY\n");
	for (;;)
		pause();
}
