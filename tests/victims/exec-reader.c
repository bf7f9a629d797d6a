// SPDX-License-Identifier: MIT
/*
 * Victim for `ckpt exec`: blocks in read() on its own pipe.  Prints
 * "READY wfd=N" (write to /proc/PID/fd/N to feed it), then, once read()
 * returns, "READ n=<count> data=<text>" or "READ err=<errno name>".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char buf[256];
	int p[2];
	ssize_t n;

	if (pipe(p) < 0)
		return 1;
	printf("READY wfd=%d\n", p[1]);
	fflush(stdout);
	n = read(p[0], buf, sizeof(buf) - 1);
	if (n < 0) {
		printf("READ err=%s\n", strerrorname_np(errno));
		return 1;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	printf("READ n=%zd data=%s\n", n, buf);
	return 0;
}
