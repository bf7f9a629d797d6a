// SPDX-License-Identifier: MIT
/*
 * Victim for `ckpt exec madvise`: maps 16 anonymous pages filled with 0xab and
 * prints "READY addr=0x... len=N".  Every 20 ms it checks them; once every page
 * reads as zero (MADV_DONTNEED) it prints "ZEROED" once.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	struct timespec t = { 0, 20 * 1000 * 1000 };
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len = 16 * page;
	volatile unsigned char *p;
	int zeroed = 0;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	memset((void *)p, 0xab, len);
	printf("READY addr=%p len=%zu\n", (void *)p, len);
	fflush(stdout);
	for (;;) {
		size_t nz = 0;

		for (size_t off = 0; off < len; off += page)
			nz += p[off] == 0;
		if (nz == len / page && !zeroed) {
			printf("ZEROED\n");
			fflush(stdout);
			zeroed = 1;
		}
		nanosleep(&t, NULL);
	}
}
