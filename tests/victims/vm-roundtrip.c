// SPDX-License-Identifier: MIT
/*
 * vm-roundtrip [PAGES]: a victim whose memory can be checked after a
 * checkpoint/restore.
 *
 * Maps PAGES (default 256) private anonymous pages filled with a pattern
 * derived from each page's index, prints "READY <pid>", then keeps bumping a
 * counter in the first page every 10 ms.  On SIGUSR1 it checks every page
 * against the pattern, that the counter went on increasing, and that its pid
 * is the one it printed; then prints "PASS <counter>" or "FAIL <why>" and exits
 * 0 or 1.  SIGUSR2 rewrites the pattern of every 7th page (with a new
 * generation number), so tests can dirty a known set of pages between dumps.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t check_now, redirty_now;
static long psz;
static size_t npages;
static uint64_t *mem;
static uint64_t gen[1 << 16];

static void on_usr1(int sig)
{
	(void)sig;
	check_now = 1;
}

static void on_usr2(int sig)
{
	(void)sig;
	redirty_now = 1;
}

static uint64_t word(size_t page, size_t i)
{
	return (page * 0x9e3779b97f4a7c15ULL) ^ (i * 0xbf58476d1ce4e5b9ULL) ^ (gen[page] << 56);
}

static void fill(size_t page)
{
	uint64_t *p = mem + page * (psz / 8);

	for (size_t i = 0; i < (size_t)psz / 8; i++)
		p[i] = word(page, i);
}

static long bad_page(void)
{
	for (size_t page = 1; page < npages; page++) {
		uint64_t *p = mem + page * (psz / 8);

		for (size_t i = 0; i < (size_t)psz / 8; i++)
			if (p[i] != word(page, i))
				return (long)page;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	struct sigaction sa = { 0 };
	pid_t pid = getpid();
	long bad;

	psz = sysconf(_SC_PAGESIZE);
	npages = argc > 1 ? strtoul(argv[1], NULL, 0) : 256;
	if (npages < 2 || npages > sizeof(gen) / sizeof(gen[0])) {
		fprintf(stderr, "vm-roundtrip: PAGES must be 2..%zu\n",
			sizeof(gen) / sizeof(gen[0]));
		return 2;
	}
	mem = mmap(NULL, npages * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("vm-roundtrip: mmap");
		return 2;
	}
	for (size_t page = 1; page < npages; page++)
		fill(page);
	mem[0] = 0;

	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("READY %d\n", (int)pid);

	for (;;) {
		nanosleep(&ts, NULL);
		mem[0]++;
		if (redirty_now) {
			redirty_now = 0;
			for (size_t page = 7; page < npages; page += 7) {
				gen[page]++;
				fill(page);
			}
			printf("REDIRTIED\n");
		}
		if (!check_now)
			continue;
		if (getpid() != pid) {
			printf("FAIL pid %d is not %d\n", (int)getpid(), (int)pid);
			return 1;
		}
		bad = bad_page();
		if (bad >= 0) {
			printf("FAIL page %ld differs from its pattern\n", bad);
			return 1;
		}
		if (mem[0] == 0) {
			printf("FAIL counter %llu did not advance\n", (unsigned long long)mem[0]);
			return 1;
		}
		printf("PASS %llu\n", (unsigned long long)mem[0]);
		return 0;
	}
}
