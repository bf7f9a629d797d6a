// SPDX-License-Identifier: MIT
/*
 * uffd-modes MIB ROUNDS: the benchmark's measure of the tracker ckpt does not
 * use.  For each mode, a fresh child fills MIB MiB of 4 KiB pages and
 * registers them write-protect with a userfaultfd it hands to this process;
 * then, ROUNDS times, the child rewrites 8192 random pages (32 MiB) and this
 * process takes a layer's written set the way each mode allows:
 *
 *   async (what ckpt's uffd-wp tracker does): the kernel resolves the write
 *     fault itself and leaves the PTE's uffd-wp bit clear; a layer finds the
 *     written pages by PAGEMAP_SCAN with PM_SCAN_WP_MATCHING over the whole
 *     range, once before the freeze and once frozen (the frozen walk visits
 *     every PTE, so it grows with the mapping, not with the dirty set).
 *   sync: every first write to a protected page stops the writer and queues
 *     a fault message; a handler thread here records the page and clears its
 *     protection (UFFDIO_WRITEPROTECT, which wakes the writer).  A layer takes
 *     the recorded list and write-protects those pages again, before the
 *     freeze and, frozen, only what was recorded since.  No walk while frozen,
 *     but each first write waits for the handler.
 *
 * The child is frozen by SIGSTOP (it is idle between its rewrites, as the
 * bench's mem-bench is during a layer).  One JSON line per mode on stdout:
 * the child's rewrite time per page untracked and tracked, the arm, the
 * early step and the frozen step (medians of the rounds).
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../common/linux-compat.h" /* PAGEMAP_SCAN, WP_ASYNC: newer than Debian 12's headers */

#define PAGE       4096UL
#define NPAGES     8192
#define MAX_ROUNDS 15

struct probe {
	bool sync;
	unsigned long base, len;
	int uffd, pagemap;
	pthread_mutex_t lock;
	unsigned long *rec; /* pages the handler saw written, since the last take */
	size_t nrec;
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void send_fd(int sock, int fd)
{
	char byte = 0, ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	if (sendmsg(sock, &msg, 0) != 1)
		die("sendmsg");
}

static int recv_fd(int sock)
{
	char byte, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1 || !(c = CMSG_FIRSTHDR(&msg)) || c->cmsg_type != SCM_RIGHTS)
		die("recvmsg");
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

/* The child: fill, register, hand over the uffd, then rewrite on each byte. */
static void child(bool sync, unsigned long len, int sock, int times)
{
	char *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_UNPOPULATED };
	unsigned long x = 12345, base = (unsigned long)map;
	int uffd;
	char go;

	if (map == MAP_FAILED)
		die("mmap");
	madvise(map, len, MADV_NOHUGEPAGE); /* 4 KiB pages, as the bench's workload */
	for (unsigned long off = 0; off < len; off += PAGE)
		map[off] = 1;
	if (!sync)
		api.features |= UFFD_FEATURE_WP_ASYNC;
	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api))
		die("userfaultfd");
	struct uffdio_register reg = { .range = { base, len }, .mode = UFFDIO_REGISTER_MODE_WP };
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		die("UFFDIO_REGISTER");
	if (write(sock, &base, sizeof(base)) != sizeof(base))
		die("write");
	send_fd(sock, uffd);
	close(uffd);
	while (read(sock, &go, 1) == 1) {
		double t0 = now_us(), us;

		for (int i = 0; i < NPAGES; i++) {
			x = x * 6364136223846793005UL + 1442695040888963407UL;
			map[((x >> 20) % (len / PAGE)) * PAGE] = (char)i;
		}
		us = now_us() - t0;
		if (write(times, &us, sizeof(us)) != sizeof(us))
			die("write");
	}
	_exit(0);
}

static void protect(struct probe *p, unsigned long addr, unsigned long len, bool on)
{
	struct uffdio_writeprotect wp = { .range = { addr, len },
					  .mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0 };

	if (ioctl(p->uffd, UFFDIO_WRITEPROTECT, &wp))
		die("UFFDIO_WRITEPROTECT");
}

/* sync mode: record each write fault's page, unprotect it (wakes the writer) */
static void *handler(void *arg)
{
	struct probe *p = arg;
	struct uffd_msg msg[64];
	ssize_t n;

	while ((n = read(p->uffd, msg, sizeof(msg))) > 0) {
		for (size_t i = 0; i < (size_t)n / sizeof(msg[0]); i++) {
			unsigned long page = msg[i].arg.pagefault.address & ~(PAGE - 1);

			if (msg[i].event != UFFD_EVENT_PAGEFAULT)
				continue;
			pthread_mutex_lock(&p->lock);
			p->rec[p->nrec++] = page;
			pthread_mutex_unlock(&p->lock);
			protect(p, page, PAGE, false);
		}
	}
	return NULL;
}

/* async mode: the written-set walk, re-protecting what it reports */
static size_t walk(struct probe *p)
{
	struct page_region v[512];
	struct pm_scan_arg a = { .size = sizeof(a),
				 .flags = PM_SCAN_WP_MATCHING,
				 .start = p->base,
				 .end = p->base + p->len,
				 .vec = (unsigned long)v,
				 .vec_len = 512,
				 .category_mask = PAGE_IS_WRITTEN,
				 .return_mask = PAGE_IS_WRITTEN };
	size_t pages = 0;

	for (;;) {
		long n = ioctl(p->pagemap, PAGEMAP_SCAN, &a);

		if (n < 0)
			die("PAGEMAP_SCAN");
		for (long i = 0; i < n; i++)
			pages += (v[i].end - v[i].start) / PAGE;
		if (a.walk_end >= a.end)
			return pages;
		a.start = a.walk_end;
	}
}

/* sync mode: take the recorded pages and protect them again */
static size_t take(struct probe *p)
{
	static unsigned long got[NPAGES * 4];
	size_t n;

	pthread_mutex_lock(&p->lock);
	n = p->nrec;
	memcpy(got, p->rec, n * sizeof(got[0]));
	p->nrec = 0;
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < n; i++)
		protect(p, got[i], PAGE, true);
	return n;
}

static size_t written_set(struct probe *p)
{
	return p->sync ? take(p) : walk(p);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return v[(n - 1) / 2];
}

static void run(bool sync, unsigned long mib, int rounds)
{
	struct probe p = { .sync = sync, .len = mib << 20, .lock = PTHREAD_MUTEX_INITIALIZER };
	double write_us[MAX_ROUNDS], early_us[MAX_ROUNDS], frozen_us[MAX_ROUNDS];
	double untracked, arm, t0;
	size_t early_pages = 0, frozen_pages = 0;
	int sv[2], times[2], st;
	char path[64], go = 1;
	pthread_t th;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(times))
		die("socketpair");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(sv[0]);
		child(sync, p.len, sv[1], times[1]);
	}
	close(sv[1]);
	p.rec = malloc(NPAGES * 4 * sizeof(*p.rec));
	if (!p.rec || read(sv[0], &p.base, sizeof(p.base)) != sizeof(p.base))
		die("child setup");
	p.uffd = recv_fd(sv[0]);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	p.pagemap = open(path, O_RDONLY);
	if (p.pagemap < 0)
		die(path);
	if (sync && pthread_create(&th, NULL, handler, &p))
		die("pthread_create");

	if (write(sv[0], &go, 1) != 1 ||
	    read(times[0], &untracked, sizeof(untracked)) != sizeof(double))
		die("untracked round");
	t0 = now_us();
	if (sync)
		protect(&p, p.base, p.len, true);
	else
		walk(&p);
	arm = now_us() - t0;
	for (int r = 0; r < rounds; r++) {
		if (write(sv[0], &go, 1) != 1 ||
		    read(times[0], &write_us[r], sizeof(double)) != sizeof(double))
			die("tracked round");
		t0 = now_us();
		early_pages += written_set(&p);
		early_us[r] = now_us() - t0;
		if (kill(pid, SIGSTOP) || waitpid(pid, &st, WUNTRACED) != pid)
			die("stop");
		t0 = now_us();
		frozen_pages += written_set(&p);
		frozen_us[r] = now_us() - t0;
		kill(pid, SIGCONT);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	printf("{\"mode\":\"%s\",\"mib\":%lu,\"rounds\":%d,\"untracked_us_per_page\":%.3f,"
	       "\"tracked_us_per_page\":%.3f,\"arm_ms\":%.3f,\"early_ms\":%.3f,\"early_pages\":%zu,"
	       "\"frozen_ms\":%.3f,\"frozen_pages\":%zu}\n",
	       sync ? "sync" : "async", mib, rounds, untracked / NPAGES,
	       median(write_us, rounds) / NPAGES, arm / 1e3, median(early_us, rounds) / 1e3,
	       early_pages / rounds, median(frozen_us, rounds) / 1e3, frozen_pages / rounds);
	fflush(stdout);
	/* the handler blocks in read() (a cancellation point) for good: no more faults come */
	if (sync && (pthread_cancel(th) || pthread_join(th, NULL)))
		die("pthread_join");
	close(p.uffd);
	close(p.pagemap);
	close(sv[0]);
	close(times[0]);
	close(times[1]);
	free(p.rec);
}

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
	int rounds = argc > 2 ? atoi(argv[2]) : 0;

	if (mib < 64 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: uffd-modes MIB(>=64) ROUNDS(1-%d)\n", MAX_ROUNDS);
		return 2;
	}
	run(false, mib, rounds);
	run(true, mib, rounds);
	return 0;
}
