// SPDX-License-Identifier: MIT
/*
 * rst-socket: holds a listening TCP socket (which ckpt cannot dump) and an
 * eventfd.  Used to check that the dump is refused up front and the victim
 * keeps running: on SIGTERM it checks the socket still listens and prints PASS.
 */
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "rst-common.h"

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int s, ev, v = 0;

	rst_setup();
	s = socket(AF_INET, SOCK_STREAM, 0);
	ev = eventfd(0, 0);
	if (s < 0 || ev < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 1) ||
	    getsockname(s, (struct sockaddr *)&a, &al))
		rst_fail("setup: %s", strerror(errno));
	rst_say("READY port %d fd %d", ntohs(a.sin_port), s);
	while (!rst_term)
		pause();
	al = sizeof(v);
	if (getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &al) || !v)
		rst_fail("socket no longer listens");
	rst_pass();
}
