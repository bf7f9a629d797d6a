// SPDX-License-Identifier: MIT
/*
 * softdirty-probe: does this kernel track soft-dirty pages of another process?
 *
 * Independent of ckpt's own probe (runtime-glue/features.c), so the VM lane can
 * check that `ckpt check` tells the truth.  The parent forks a child that maps
 * NPAGES private anonymous pages and writes all of them; the parent then
 * clears the child's soft-dirty bits (write "4" to /proc/CHILD/clear_refs),
 * lets the child write a known subset of the pages, and reads bit 55 of each
 * page's /proc/CHILD/pagemap entry.  Soft-dirty works when exactly the written
 * pages are marked.
 *
 * Prints "soft-dirty: yes" and exits 0 when the marked pages are exactly the
 * written ones; prints "soft-dirty: no (...)" and exits 1 when no page is
 * marked after the writes (the kernel lacks CONFIG_MEM_SOFT_DIRTY); exits 2
 * with "softdirty-probe: ..." on any other outcome or error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define NPAGES        64
#define PM_SOFT_DIRTY (1ULL << 55)
#define PM_PRESENT    (1ULL << 63)

static int written(int i)
{
	return i % 5 == 0 || i == NPAGES - 1;
}

static void die(const char *what)
{
	fprintf(stderr, "softdirty-probe: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void xwrite_all(int fd, const void *buf, size_t len)
{
	if (write(fd, buf, len) != (ssize_t)len)
		die("write");
}

static void xread_all(int fd, void *buf, size_t len)
{
	if (read(fd, buf, len) != (ssize_t)len)
		die("read");
}

/* The child: map, write everything, report the address, then on command write the subset. */
static void child(int cmd_fd, int ack_fd)
{
	long psz = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, NPAGES * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);
	uintptr_t addr;
	char c;

	if (p == MAP_FAILED)
		die("mmap");
	madvise(p, NPAGES * psz, MADV_NOHUGEPAGE);
	for (int i = 0; i < NPAGES; i++)
		p[i * psz] = 1;
	addr = (uintptr_t)p;
	xwrite_all(ack_fd, &addr, sizeof(addr));
	xread_all(cmd_fd, &c, 1); /* parent cleared our soft-dirty bits */
	for (int i = 0; i < NPAGES; i++)
		if (written(i))
			p[i * psz] = 2;
	xwrite_all(ack_fd, "w", 1);
	xread_all(cmd_fd, &c, 1); /* parent read pagemap: done */
	_exit(0);
}

static int read_bits(pid_t pid, uintptr_t addr, long psz, uint64_t *pm)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (pread(fd, pm, NPAGES * sizeof(*pm), (off_t)(addr / psz * sizeof(*pm))) !=
	    (ssize_t)(NPAGES * sizeof(*pm))) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int main(void)
{
	long psz = sysconf(_SC_PAGESIZE);
	int cmd[2], ack[2], fd, status, marked = 0, wrong = 0, nwritten = 0;
	uint64_t pm[NPAGES];
	uintptr_t addr;
	char path[64], c;
	pid_t pid;

	if (pipe(cmd) || pipe(ack))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(cmd[1]);
		close(ack[0]);
		child(cmd[0], ack[1]);
	}
	close(cmd[0]);
	close(ack[1]);
	xread_all(ack[0], &addr, sizeof(addr));

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die("open clear_refs");
	xwrite_all(fd, "4", 1);
	close(fd);

	if (read_bits(pid, addr, psz, pm))
		die("pagemap after clear_refs");
	for (int i = 0; i < NPAGES; i++) {
		if (!(pm[i] & PM_PRESENT)) {
			fprintf(stderr, "softdirty-probe: page %d not present\n", i);
			return 2;
		}
		if (pm[i] & PM_SOFT_DIRTY) {
			fprintf(stderr,
				"softdirty-probe: page %d still soft-dirty after clear_refs\n", i);
			return 2;
		}
	}

	xwrite_all(cmd[1], "c", 1);
	xread_all(ack[0], &c, 1);
	if (read_bits(pid, addr, psz, pm))
		die("pagemap after writes");
	xwrite_all(cmd[1], "q", 1);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "softdirty-probe: child failed\n");
		return 2;
	}

	for (int i = 0; i < NPAGES; i++) {
		nwritten += written(i);
		marked += !!(pm[i] & PM_SOFT_DIRTY);
	}
	if (marked == 0) {
		printf("soft-dirty: no (no page marked after %d writes)\n", nwritten);
		return 1;
	}
	for (int i = 0; i < NPAGES; i++) {
		int dirty = !!(pm[i] & PM_SOFT_DIRTY);

		if (dirty != written(i)) {
			wrong++;
			fprintf(stderr, "softdirty-probe: page %d: written %d, soft-dirty %d\n", i,
				written(i), dirty);
		}
	}
	if (wrong) {
		fprintf(stderr, "softdirty-probe: %d of %d pages wrong\n", wrong, NPAGES);
		return 2;
	}
	printf("soft-dirty: yes (%d of %d pages written, exactly those marked)\n", nwritten,
	       NPAGES);
	return 0;
}
