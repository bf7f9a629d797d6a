// SPDX-License-Identifier: MIT
/*
 * mem-bench MIB FIFO [NVMA [NPROC]]: the benchmark workload.  Maps MIB MiB of
 * private anonymous memory, writes every page, prints READY, then runs
 * commands read from FIFO, answering "ACK <n>" (or "RATE <n> <pages/s>" for
 * spin):
 *
 *   rewrite MIB SEED   rewrite MIB MiB of pages chosen at random (distinct pages)
 *   spin MS            rewrite pages round-robin for MS ms, report pages/s
 *   exit
 *
 * NVMA > 1 splits the memory into NVMA VMAs that cannot merge (every other
 * one read-only after the first fill; rewrites and spins touch the writable
 * ones).  NPROC > 1 forks NPROC - 1 children (one tree), each with MIB MiB of
 * its own; a rewrite is shared out between all processes (MIB / NPROC each),
 * a spin runs in the root only.
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

static size_t per_vma, nvma = 1;

/* a page of a read-only VMA (NVMA > 1) */
static int ro(size_t p)
{
	return nvma > 1 && p / per_vma < nvma && (p / per_vma) % 2 == 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t pages, cursor = 0, writable;
	unsigned long n = 0, nproc = 1, me = 0;
	int cmd[2], ack[2], kids[64];
	char line[256];
	uint8_t *mem, *mark;
	FILE *f;

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: mem-bench MIB FIFO [NVMA [NPROC]]\n");
		return 2;
	}
	if (argc > 3)
		nvma = strtoul(argv[3], NULL, 10);
	if (argc > 4)
		nproc = strtoul(argv[4], NULL, 10);
	if (!nvma || !nproc || nproc > 64)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pages = strtoul(argv[1], NULL, 10) * 256;
	mem = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mark = calloc(pages, 1);
	if (mem == MAP_FAILED || !mark)
		return 1;
	for (size_t i = 0; i < pages; i++)
		memset(mem + i * PG, (int)(i * 7 + 1), PG);
	per_vma = pages / nvma ? pages / nvma : 1;
	writable = pages;
	for (size_t v = 1; nvma > 1 && v < nvma; v += 2) {
		if (mprotect(mem + v * per_vma * PG, per_vma * PG, PROT_READ))
			return 1;
		writable -= per_vma;
	}
	/* children: their own copy of everything, commands through a pipe */
	if (pipe(ack))
		return 1;
	for (me = 1; me < nproc; me++) {
		if (pipe(cmd))
			return 1;
		if (fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(cmd[1]);
			f = fdopen(cmd[0], "r");
			rng += me * 0x632be59bd9b4e019ULL;
			goto loop;
		}
		close(cmd[0]);
		kids[me] = cmd[1];
	}
	me = 0;
	f = fopen(argv[2], "r+");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	printf("READY %d\n", (int)getpid());
loop:
	while (fgets(line, sizeof(line), f)) {
		unsigned long a = 0, b = 0;

		n++;
		for (unsigned long k = 1; !me && k < nproc; k++)
			if (write(kids[k], line, strlen(line)) < 0)
				return 1;
		if (sscanf(line, "rewrite %lu %lu", &a, &b) == 2) {
			size_t want = a * 256 / nproc;

			if (want > writable)
				want = writable;
			rng ^= b * 0x9e3779b97f4a7c15ULL;
			memset(mark, 0, pages);
			for (size_t k = 0; k < want;) {
				size_t p = next() % pages;

				if (mark[p] || ro(p))
					continue;
				mark[p] = 1;
				memset(mem + p * PG, (int)(next() | 1), PG);
				k++;
			}
			if (me) {
				if (write(ack[1], "a", 1) != 1)
					return 1;
				continue;
			}
			for (unsigned long k = 1; k < nproc; k++)
				if (read(ack[0], line, 1) != 1)
					return 1;
			printf("ACK %lu\n", n);
		} else if (me) {
			continue; /* spin and exit: the root's */
		} else if (sscanf(line, "spin %lu", &a) == 1) {
			double t0 = now(), t;
			uint64_t done = 0;

			do {
				for (int k = 0; k < 256; k++) {
					mem[cursor * PG + (done % 512) * 8] ^= 1;
					memset(mem + cursor * PG, (int)done, 256);
					do
						cursor = (cursor + 1) % pages;
					while (ro(cursor));
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
