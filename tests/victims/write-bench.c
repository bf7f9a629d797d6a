// SPDX-License-Identifier: MIT
/*
 * write-bench FILE MIB [mem]: the benchmark's write ceiling.  Fills a 2 MiB
 * buffer, then creates FILE (O_CREAT|O_EXCL) and write()s MIB MiB of it in
 * 2 MiB steps (ckpt's pages-*.img are written in steps of 2 MiB, too), closes
 * it and prints the milliseconds from the open to the close.  No fsync (ckpt
 * does not sync page data either).  The caller removes FILE.
 *
 * With "mem" the bytes come from MIB MiB of memory filled (and the page
 * cache warmed, as lib.sh does) before the clock starts, each written once,
 * as ckpt's come from the target's pages: the
 * 2 MiB buffer stays in the CPU's caches, so without "mem" the source side
 * of the copy costs almost nothing and the figure is a ceiling no dump of a
 * large process can reach.
 */
#include <fcntl.h>
#include <stdbool.h>
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

/*
 * The page-cache warm-up of tests/bench/lib.sh, after the fill: the buffer's
 * own allocation took the memory freed last, and this VM hands memory freed
 * a while ago back to the host (see docs/memory.md), so the timed writes
 * would otherwise land in memory that costs several times more to take.
 */
static int warm(const char *file, const char *buf, unsigned long steps)
{
	char name[4096];
	int fd;

	snprintf(name, sizeof(name), "%s.warm", file);
	fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(name);
		return -1;
	}
	for (unsigned long i = 0; i < steps; i++)
		if (write(fd, buf + i * STEP, STEP) != (ssize_t)STEP) {
			perror("write");
			return -1;
		}
	close(fd);
	unlink(name);
	sync();
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long steps;
	double t0, t1;
	char *buf;
	bool mem;
	int fd;

	if (argc != 3 && !(argc == 4 && !strcmp(argv[3], "mem"))) {
		fprintf(stderr, "usage: write-bench FILE MIB [mem]\n");
		return 2;
	}
	steps = strtoul(argv[2], NULL, 10) / 2;
	mem = argc == 4;
	/* page-aligned, as ckpt's buffers: see xmalloc_pages() in common/xalloc.h */
	if (posix_memalign((void **)&buf, 4096, mem ? steps * STEP : STEP))
		return 1;
	for (size_t off = 0; off < (mem ? steps * STEP : STEP); off += 4096)
		memset(buf + off, (int)(off >> 12), 4096);
	if (mem && warm(argv[1], buf, steps) < 0)
		return 1;
	t0 = now_ms();
	fd = open(argv[1], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	for (unsigned long i = 0; i < steps; i++) {
		size_t off = 0;

		while (off < STEP) {
			ssize_t n = write(fd, buf + (mem ? i * STEP : 0) + off, STEP - off);

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
