// SPDX-License-Identifier: MIT
/*
 * write-bench FILE MIB: the benchmark's write ceiling.  Fills a 2 MiB buffer,
 * then creates FILE (O_CREAT|O_EXCL) and write()s MIB MiB of it in 2 MiB
 * steps (ckpt's pages-*.img are written in steps of 2 MiB, too), closes it
 * and prints the milliseconds from the open to the close.  No fsync (ckpt
 * does not sync page data either).  The caller removes FILE.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STEP (2UL << 20)

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	unsigned long steps;
	double t0, t1;
	char *buf;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: write-bench FILE MIB\n");
		return 2;
	}
	steps = strtoul(argv[2], NULL, 10) / 2;
	/* page-aligned, as ckpt's buffers: see xmalloc_pages() in common/xalloc.h */
	if (posix_memalign((void **)&buf, 4096, STEP))
		return 1;
	memset(buf, 0x5a, STEP);
	t0 = now_ms();
	fd = open(argv[1], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	for (unsigned long i = 0; i < steps; i++) {
		size_t off = 0;

		while (off < STEP) {
			ssize_t n = write(fd, buf + off, STEP - off);

			if (n < 0) {
				perror("write");
				return 1;
			}
			off += (size_t)n;
		}
	}
	if (close(fd) < 0) {
		perror("close");
		return 1;
	}
	t1 = now_ms();
	printf("%.0f\n", t1 - t0);
	return 0;
}
