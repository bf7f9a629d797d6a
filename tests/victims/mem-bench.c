// SPDX-License-Identifier: MIT
/*
 * mem-bench MIB FIFO: the benchmark workload.  Maps MIB MiB of private
 * anonymous memory, writes every page, prints READY, then runs commands read
 * from FIFO, answering "ACK <n>" (or "RATE <n> <pages/s>" for spin):
 *
 *   rewrite MIB SEED   rewrite MIB MiB of pages chosen at random (distinct pages)
 *   spin MS            rewrite pages round-robin for MS ms, report pages/s
 *   exit
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#define PG 4096UL

static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t pages, cursor = 0;
	unsigned long n = 0;
	char line[256];
	uint8_t *mem, *mark;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: mem-bench MIB FIFO\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pages = strtoul(argv[1], NULL, 10) * 256;
	mem = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mark = calloc(pages, 1);
	if (mem == MAP_FAILED || !mark)
		return 1;
	for (size_t i = 0; i < pages; i++)
		memset(mem + i * PG, (int)(i * 7 + 1), PG);
	f = fopen(argv[2], "r+");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	printf("READY %d\n", (int)getpid());
	while (fgets(line, sizeof(line), f)) {
		unsigned long a = 0, b = 0;

		n++;
		if (sscanf(line, "rewrite %lu %lu", &a, &b) == 2) {
			size_t want = a * 256;

			if (want > pages)
				want = pages;
			rng ^= b * 0x9e3779b97f4a7c15ULL;
			memset(mark, 0, pages);
			for (size_t k = 0; k < want;) {
				size_t p = next() % pages;

				if (mark[p])
					continue;
				mark[p] = 1;
				memset(mem + p * PG, (int)(next() | 1), PG);
				k++;
			}
			printf("ACK %lu\n", n);
		} else if (sscanf(line, "spin %lu", &a) == 1) {
			double t0 = now(), t;
			uint64_t done = 0;

			do {
				for (int k = 0; k < 256; k++) {
					mem[cursor * PG + (done % 512) * 8] ^= 1;
					memset(mem + cursor * PG, (int)done, 256);
					cursor = (cursor + 1) % pages;
					done++;
				}
				t = now();
			} while (t - t0 < (double)a / 1000.0);
			printf("RATE %lu %.0f\n", n, (double)done / (t - t0));
		} else if (!strncmp(line, "exit", 4)) {
			return 0;
		} else {
			printf("ERROR %lu\n", n);
		}
	}
	return 0;
}
