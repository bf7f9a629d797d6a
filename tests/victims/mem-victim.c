// SPDX-License-Identifier: MIT
/*
 * mem-victim FIFO: a zdtm-style memory workload driven by commands.
 *
 * Reads one command per line from FIFO, acts, then prints "ACK <n>" (n counts
 * commands from 1) on stdout.  Regions are named; "REGION name addr pages" is
 * printed whenever one is created or moves.  Page contents are a function of
 * (seed, page index), so tests can tell which pages a round wrote.
 *
 *   alloc NAME PAGES            private anonymous mapping (untouched)
 *   fill NAME FIRST COUNT SEED  write pages [FIRST, FIRST+COUNT)
 *   verify NAME FIRST COUNT SEED  ERROR unless pages [FIRST, FIRST+COUNT) hold
 *                               what fill wrote with SEED (the victim's own check)
 *   zero NAME FIRST COUNT       MADV_DONTNEED
 *   unmap NAME FIRST COUNT      munmap part of it
 *   remap NAME NEW PAGES        mremap(MAYMOVE) to a fresh address, new size
 *   replace NAME                a new mapping at the same address (MAP_FIXED, same
 *                               size and protection: /proc/PID/maps shows no change)
 *   file NAME PATH PAGES        private writable mapping of PATH
 *   shared NAME PAGES           shared anonymous mapping
 *   protect NAME FIRST COUNT P  mprotect with P = none|r|rw
 *   fork NAME SEED              child rewrites all of NAME with SEED and waits;
 *                               on SIGUSR1 it execs /bin/cat (a new address space)
 *   threads N PAGES             N threads, each rewriting its own PAGES region forever
 *   stop-threads                stop them (joins)
 *   thp NAME PAGES              2 MiB-aligned private anonymous mapping with
 *                               MADV_HUGEPAGE, every page written (seed 1)
 *   scatter NAME COUNT SEED     write COUNT distinct pseudo-random pages of NAME;
 *                               prints "SCATTER NAME i1 i2 ..." (page indexes)
 *   readin NAME FIRST COUNT PATH  read(2) COUNT pages of PATH into NAME at FIRST
 *                               (the kernel writes the pages, not the task)
 *   uffd-open                   create a userfaultfd of its own (kept open)
 *   uffd-register NAME          register NAME with it (write-protect mode, nothing
 *                               protected: writes go on); fails with EBUSY when
 *                               another userfaultfd (ckpt's tracker) has the range
 *   uffd-close                  close it (its registrations go with it)
 *   exit                        exit 0
 *
 * Prints READY first.  Dies with its parent's death signal (no orphan).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096UL

struct region {
	char name[32];
	char *addr;
	size_t pages;
};

static struct region regions[512];
static int nregions;
static atomic_int stop_threads;
static pthread_t threads[16];
static int nthreads;
static int uffd = -1;

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void fill_page(char *p, uint64_t seed, uint64_t idx)
{
	uint64_t *w = (uint64_t *)p;

	for (size_t i = 0; i < PG / 8; i++)
		w[i] = mix(seed * 1000003 + idx * 4099 + i);
}

static struct region *find(const char *name)
{
	for (int i = 0; i < nregions; i++)
		if (!strcmp(regions[i].name, name))
			return &regions[i];
	return NULL;
}

static struct region *add(const char *name, void *addr, size_t pages)
{
	struct region *r = find(name);

	if (!r && nregions == (int)(sizeof(regions) / sizeof(regions[0]))) {
		fprintf(stderr, "mem-victim: more than %d regions\n", nregions);
		exit(1);
	}
	if (!r)
		r = &regions[nregions++];
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->addr = addr;
	r->pages = pages;
	printf("REGION %s %#lx %zu\n", name, (unsigned long)addr, pages);
	return r;
}

struct writer {
	char *addr;
	size_t pages;
	uint64_t seed;
};

/*
 * A forked child's SIGUSR1: a new program, so the address space ckpt froze is
 * gone.  cat on a pipe nobody writes blocks in read(), which a freeze restarts
 * without writing to its memory (sleep's nanosleep would store the time left).
 */
static void exec_cat(int sig)
{
	int p[2];

	(void)sig;
	if (pipe(p) || dup2(p[0], 0) < 0)
		_exit(127);
	execl("/bin/cat", "cat", (char *)NULL);
	_exit(127);
}

static void *writer(void *arg)
{
	struct writer *w = arg;
	uint64_t round = 0;

	while (!atomic_load(&stop_threads)) {
		for (size_t i = 0; i < w->pages; i++)
			fill_page(w->addr + i * PG, w->seed + round, i);
		round++;
		usleep(1000);
	}
	return NULL;
}

static int run(char *line)
{
	char a[64] = "", b[256] = "", c[32] = "";
	unsigned long x = 0, y = 0, z = 0;
	struct region *r;

	if (sscanf(line, "alloc %63s %lu", a, &x) == 2) {
		void *p = mmap(NULL, x * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		if (p == MAP_FAILED)
			return -1;
		add(a, p, x);
	} else if (sscanf(line, "fill %63s %lu %lu %lu", a, &x, &y, &z) == 4) {
		r = find(a);
		if (!r || x + y > r->pages)
			return -1;
		for (unsigned long i = x; i < x + y; i++)
			fill_page(r->addr + i * PG, z, i);
	} else if (sscanf(line, "verify %63s %lu %lu %lu", a, &x, &y, &z) == 4) {
		static char want[PG];

		r = find(a);
		if (!r || x + y > r->pages)
			return -1;
		for (unsigned long i = x; i < x + y; i++) {
			fill_page(want, z, i);
			if (memcmp(r->addr + i * PG, want, PG))
				return -1;
		}
	} else if (sscanf(line, "zero %63s %lu %lu", a, &x, &y) == 3) {
		r = find(a);
		if (!r || madvise(r->addr + x * PG, y * PG, MADV_DONTNEED))
			return -1;
	} else if (sscanf(line, "unmap %63s %lu %lu", a, &x, &y) == 3) {
		r = find(a);
		if (!r || munmap(r->addr + x * PG, y * PG))
			return -1;
	} else if (sscanf(line, "remap %63s %63s %lu", a, b, &x) == 3) {
		void *p;

		r = find(a);
		if (!r)
			return -1;
		/* reserve a fresh spot so the move is real */
		p = mmap(NULL, x * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -1;
		p = mremap(r->addr, r->pages * PG, x * PG, MREMAP_MAYMOVE | MREMAP_FIXED, p);
		if (p == MAP_FAILED)
			return -1;
		r->name[0] = '\0';
		add(b, p, x);
	} else if (sscanf(line, "replace %63s", a) == 1 && strncmp(line, "replace", 7) == 0) {
		r = find(a);
		if (!r || mmap(r->addr, r->pages * PG, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			return -1;
	} else if (sscanf(line, "file %63s %255s %lu", a, b, &x) == 3) {
		int fd = open(b, O_RDONLY);
		void *p;

		if (fd < 0)
			return -1;
		p = mmap(NULL, x * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		close(fd);
		if (p == MAP_FAILED)
			return -1;
		add(a, p, x);
	} else if (sscanf(line, "shared %63s %lu", a, &x) == 2) {
		void *p = mmap(NULL, x * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
			       0);

		if (p == MAP_FAILED)
			return -1;
		add(a, p, x);
	} else if (sscanf(line, "protect %63s %lu %lu %31s", a, &x, &y, c) == 4) {
		int prot = !strcmp(c, "none") ? PROT_NONE
			   : !strcmp(c, "r")  ? PROT_READ
					      : PROT_READ | PROT_WRITE;

		r = find(a);
		if (!r || mprotect(r->addr + x * PG, y * PG, prot))
			return -1;
	} else if (sscanf(line, "fork %63s %lu", a, &x) == 2) {
		pid_t pid;

		r = find(a);
		if (!r)
			return -1;
		fflush(stdout);
		pid = fork();
		if (pid < 0)
			return -1;
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL); /* kept across the exec */
			signal(SIGUSR1, exec_cat);
			for (size_t i = 0; i < r->pages; i++)
				fill_page(r->addr + i * PG, x, i);
			for (;;)
				pause();
		}
		printf("CHILD %d\n", (int)pid);
	} else if (sscanf(line, "threads %lu %lu", &x, &y) == 2) {
		atomic_store(&stop_threads, 0);
		for (unsigned long i = 0; i < x && nthreads < 16; i++) {
			struct writer *w = calloc(1, sizeof(*w));
			char name[32];

			w->pages = y;
			w->seed = 7777 + (uint64_t)nthreads * 100000;
			w->addr = mmap(NULL, y * PG, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (w->addr == MAP_FAILED)
				return -1;
			snprintf(name, sizeof(name), "thread%d", nthreads);
			add(name, w->addr, y);
			if (pthread_create(&threads[nthreads++], NULL, writer, w))
				return -1;
		}
	} else if (!strncmp(line, "stop-threads", 12)) {
		atomic_store(&stop_threads, 1);
		for (int i = 0; i < nthreads; i++)
			pthread_join(threads[i], NULL);
		nthreads = 0;
	} else if (sscanf(line, "thp %63s %lu", a, &x) == 2) {
		const size_t huge = 2UL << 20;
		char *p = mmap(NULL, x * PG + huge, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *al;

		if (p == MAP_FAILED)
			return -1;
		al = (char *)(((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1));
		if (madvise(al, x * PG, MADV_HUGEPAGE))
			return -1;
		for (unsigned long i = 0; i < x; i++)
			fill_page(al + i * PG, 1, i);
		add(a, al, x);
	} else if (sscanf(line, "scatter %63s %lu %lu", a, &x, &y) == 3) {
		uint64_t state = mix(y);
		unsigned long done = 0;
		unsigned char *seen;

		r = find(a);
		if (!r || x > r->pages)
			return -1;
		seen = calloc(r->pages, 1);
		if (!seen)
			return -1;
		printf("SCATTER %s", a);
		while (done < x) {
			unsigned long i;

			state = mix(state);
			i = (unsigned long)(state % r->pages);
			if (seen[i])
				continue;
			seen[i] = 1;
			fill_page(r->addr + i * PG, y, i);
			printf(" %lu", i);
			done++;
		}
		printf("\n");
		free(seen);
	} else if (sscanf(line, "readin %63s %lu %lu %255s", a, &x, &y, b) == 4) {
		ssize_t n;
		int fd;

		r = find(a);
		if (!r || x + y > r->pages)
			return -1;
		fd = open(b, O_RDONLY);
		if (fd < 0)
			return -1;
		n = read(fd, r->addr + x * PG, y * PG);
		close(fd);
		if (n != (ssize_t)(y * PG))
			return -1;
	} else if (!strncmp(line, "uffd-open", 9)) {
		struct uffdio_api api = { .api = UFFD_API };

		if (uffd < 0)
			uffd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
		if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api))
			return -1;
		printf("UFFD %d\n", uffd);
	} else if (sscanf(line, "uffd-register %63s", a) == 1) {
		struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };

		r = find(a);
		if (!r || uffd < 0) {
			errno = EINVAL;
			return -1;
		}
		reg.range.start = (uintptr_t)r->addr;
		reg.range.len = r->pages * PG;
		if (ioctl(uffd, UFFDIO_REGISTER, &reg))
			return -1;
	} else if (!strncmp(line, "uffd-close", 10)) {
		if (uffd >= 0)
			close(uffd);
		uffd = -1;
	} else if (!strncmp(line, "exit", 4)) {
		exit(0);
	} else {
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char line[512];
	unsigned long n = 0;
	FILE *f;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: mem-victim FIFO\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* O_RDWR: the fifo never reports EOF when a writer goes away */
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	f = fdopen(fd, "r");
	printf("READY %d\n", (int)getpid());
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (run(line) < 0) {
			printf("ERROR %lu %s: %s", n, strerror(errno), line);
			continue;
		}
		printf("ACK %lu\n", n);
	}
	return 0;
}
