// SPDX-License-Identifier: MIT
/*
 * rst-mem: a single-threaded memory pattern.  16 MiB of anonymous memory, a
 * heap buffer and a static array hold a known pattern; each SIGUSR1 rewrites
 * every 7th page (shifted by the round), so successive layers differ.  On
 * SIGTERM every page is checked against the pattern of the round that last
 * wrote it.
 */
#include <stdint.h>
#include <sys/mman.h>

#include "rst-common.h"

#define NPAGES 4096
#define PAGE   4096

static unsigned char gen[NPAGES]; /* round that last wrote each page */
static uint64_t statics[8192];

static uint64_t word(size_t page, size_t w, unsigned g)
{
	return ((uint64_t)page << 32) ^ ((uint64_t)g << 24) ^ (w * 0x9e3779b97f4a7c15ULL);
}

static void fill(uint64_t *p, size_t page, unsigned g)
{
	for (size_t w = 0; w < PAGE / 8; w++)
		p[w] = word(page, w, g);
}

int main(void)
{
	uint64_t *mem, *heap;
	unsigned round = 0;

	rst_setup();
	mem = mmap(NULL, (size_t)NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	heap = malloc(64 * PAGE);
	if (mem == MAP_FAILED || !heap)
		rst_fail("setup: %s", strerror(errno));
	for (size_t i = 0; i < NPAGES; i++)
		fill(mem + i * (PAGE / 8), i, 0);
	for (size_t i = 0; i < 64; i++)
		fill(heap + i * (PAGE / 8), i + 100000, 0);
	for (size_t i = 0; i < sizeof(statics) / 8; i++)
		statics[i] = i * 31 + 7;
	rst_say("READY %p", (void *)mem);

	for (;;) {
		while (!rst_term && (unsigned)rst_usr1 == round)
			pause();
		if (rst_term)
			break;
		round++;
		for (size_t i = round % 7; i < NPAGES; i += 7) {
			fill(mem + i * (PAGE / 8), i, round);
			gen[i] = (unsigned char)round;
		}
		rst_say("CHANGED %u", round);
	}

	for (size_t i = 0; i < NPAGES; i++)
		for (size_t w = 0; w < PAGE / 8; w++)
			if (mem[i * (PAGE / 8) + w] != word(i, w, gen[i]))
				rst_fail("page %zu word %zu: %#llx, want %#llx (round %u)", i, w,
					 (unsigned long long)mem[i * (PAGE / 8) + w],
					 (unsigned long long)word(i, w, gen[i]), gen[i]);
	for (size_t i = 0; i < 64; i++)
		for (size_t w = 0; w < PAGE / 8; w++)
			if (heap[i * (PAGE / 8) + w] != word(i + 100000, w, 0))
				rst_fail("heap page %zu differs", i);
	for (size_t i = 0; i < sizeof(statics) / 8; i++)
		if (statics[i] != i * 31 + 7)
			rst_fail("static word %zu differs", i);
	free(heap); /* the allocator's own state survived too */
	rst_pass();
}
