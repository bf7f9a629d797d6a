// SPDX-License-Identifier: MIT
/*
 * ctr-mem: the memory-writing process of the container tests (built static,
 * copied into a busybox rootfs).  MiB of anonymous memory (argv[1], default
 * 256) hold a pattern; every 20 ms a round rewrites the next 64 pages (a
 * stripe moving through the memory, about 12 MiB a second) with the round's
 * pattern, and every 100 rounds every page is checked against the round that
 * last wrote it.  After each check the status
 * file (argv[2], default /tmp/status) gets "ROUND OK" or "ROUND BAD", written
 * to a temporary name and renamed.  The round lives in memory only, so after
 * a restore it continues from the dumped value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096

static uint64_t word(size_t page, size_t w, uint32_t g)
{
	return ((uint64_t)page << 32) ^ ((uint64_t)g << 8) ^ (w * 0x9e3779b97f4a7c15ULL);
}

static void fill(uint64_t *p, size_t page, uint32_t g)
{
	for (size_t w = 0; w < PAGE / 8; w++)
		p[w] = word(page, w, g);
}

static int check(const uint64_t *p, size_t page, uint32_t g)
{
	for (size_t w = 0; w < PAGE / 8; w++)
		if (p[w] != word(page, w, g))
			return -1;
	return 0;
}

static void status(const char *path, unsigned long round, int ok)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%lu %s\n", round, ok ? "OK" : "BAD");
	fclose(f);
	rename(tmp, path);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
	const char *path = argc > 2 ? argv[2] : "/tmp/status";
	size_t npages = mib * 256;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	unsigned long round = 0;
	uint32_t *gen;
	uint64_t *mem;
	int ok = 1;

	mem = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gen = calloc(npages, sizeof(*gen));
	if (mem == MAP_FAILED || !gen)
		return 1;
	for (size_t i = 0; i < npages; i++)
		fill(mem + i * (PAGE / 8), i, 0);
	for (;;) {
		round++;
		for (size_t k = 0; k < 64; k++) {
			size_t i = (round * 64 + k) % npages;

			gen[i] = (uint32_t)round;
			fill(mem + i * (PAGE / 8), i, gen[i]);
		}
		if (round % 100 == 0) {
			for (size_t i = 0; i < npages && ok; i++)
				ok = check(mem + i * (PAGE / 8), i, gen[i]) == 0;
			status(path, round, ok);
		}
		nanosleep(&ts, NULL);
	}
}
