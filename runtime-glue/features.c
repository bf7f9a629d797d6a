// SPDX-License-Identifier: MIT
/*
 * Feature probes.  Each one exercises the feature the way ckpt will use it,
 * on a scratch page of ckpt's own or on a scratch child, and reports the
 * first step the kernel refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/linux-compat.h"
#include "common/xalloc.h"
#include "common/names.h"
#include "parasite/probe.h"
#include "runtime-glue/features.h"
#include "runtime-glue/proc/cgroup-probe.h"

static const char *const feature_names[GLUE_FEAT_NR] = {
	[GLUE_FEAT_SOFT_DIRTY] = "soft-dirty",
	[GLUE_FEAT_UFFD_WP_ASYNC] = "uffd-wp-async",
	[GLUE_FEAT_PAGEMAP_SCAN] = "pagemap-scan",
	[GLUE_FEAT_PTRACE] = "ptrace",
	[GLUE_FEAT_PROCESS_VM_READV] = "process-vm-readv",
	[GLUE_FEAT_PIDFD_GETFD] = "pidfd-getfd",
	[GLUE_FEAT_CGROUP_FREEZER] = "cgroup-freezer",
	[GLUE_FEAT_SECCOMP_SUSPEND] = "seccomp-suspend",
};

static const char *const tracker_names[GLUE_TRACKER_NR] = {
	[GLUE_TRACKER_UFFD_WP] = "uffd-wp",
	[GLUE_TRACKER_SOFT_DIRTY] = "soft-dirty",
	[GLUE_TRACKER_HASH] = "hash",
	[GLUE_TRACKER_NONE] = "none",
};

/* see features.h */
const char *glue_feature_name(enum glue_feature f)
{
	return ck_name_of(feature_names, ARRAY_SIZE(feature_names), (int)f);
}

/* see features.h */
int glue_feature_lookup(const char *name)
{
	return ck_name_index(feature_names, ARRAY_SIZE(feature_names), name);
}

/* see features.h */
const char *glue_tracker_name(enum glue_tracker t)
{
	return ck_name_of(tracker_names, ARRAY_SIZE(tracker_names), (int)t);
}

/* see features.h */
int glue_tracker_lookup(const char *name)
{
	return ck_name_index(tracker_names, ARRAY_SIZE(tracker_names), name);
}

static void set_detail(struct glue_feature_result *out, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_detail(struct glue_feature_result *out, bool ok, const char *fmt, ...)
{
	va_list ap;

	out->available = ok;
	va_start(ap, fmt);
	vsnprintf(out->detail, sizeof(out->detail), fmt, ap);
	va_end(ap);
}

static void set_from_err(struct glue_feature_result *out, struct ck_err **err)
{
	_cleanup_free_ char *msg = ck_err_str(*err);

	set_detail(out, false, "%s", msg);
	ck_err_free(err);
}

static int read_pagemap_entry(int fd, const void *addr, uint64_t *pme, struct ck_err **err)
{
	off_t off = (off_t)((uintptr_t)addr / (uintptr_t)getpagesize()) * 8;

	if (pread(fd, pme, sizeof(*pme), off) != sizeof(*pme))
		return ck_err_set(err, errno, "read /proc/self/pagemap");
	return 0;
}

static int write_clear_refs(const char *val, struct ck_err **err)
{
	_cleanup_close_ int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return ck_err_set(err, errno, "open /proc/self/clear_refs");
	if (write(fd, val, strlen(val)) < 0)
		return ck_err_set(err, errno, "write '%s' to /proc/self/clear_refs", val);
	return 0;
}

/*
 * soft-dirty: after clear_refs 4 a written page must show bit 55 in pagemap.
 * Kernels without CONFIG_MEM_SOFT_DIRTY accept the write but never set it.
 */
static void probe_soft_dirty(struct glue_feature_result *out)
{
	_cleanup_err_ struct ck_err *err = NULL;
	_cleanup_close_ int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	long psz = getpagesize();
	volatile char *p;
	uint64_t before = 0, after = 0;

	if (pm < 0)
		return set_detail(out, false, "open /proc/self/pagemap: %s", strerror(errno));
	p = mmap(NULL, (size_t)psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return set_detail(out, false, "mmap: %s", strerror(errno));
	p[0] = 1;
	if (write_clear_refs("4", &err) || read_pagemap_entry(pm, (void *)p, &before, &err)) {
		munmap((void *)p, (size_t)psz);
		return set_from_err(out, &err);
	}
	p[0] = 2;
	if (read_pagemap_entry(pm, (void *)p, &after, &err)) {
		munmap((void *)p, (size_t)psz);
		return set_from_err(out, &err);
	}
	munmap((void *)p, (size_t)psz);
	if (before & PME_SOFT_DIRTY)
		return set_detail(out, false, "clear_refs 4 did not clear bit 55 of pagemap");
	if (!(after & PME_SOFT_DIRTY))
		return set_detail(
			out, false,
			"a page written after clear_refs 4 has no soft-dirty bit (pagemap bit 55): kernel without CONFIG_MEM_SOFT_DIRTY");
	set_detail(out, true, "clear_refs 4 + pagemap bit 55");
}

static long pagemap_scan(int pm, void *start, void *end, uint64_t flags, uint64_t mask,
			 struct page_region *vec, size_t vec_len)
{
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.flags = flags,
		.start = (uintptr_t)start,
		.end = (uintptr_t)end,
		.vec = (uintptr_t)vec,
		.vec_len = vec_len,
		.category_mask = mask,
		.return_mask = mask,
	};

	memset(vec, 0, vec_len * sizeof(*vec));
	return ioctl(pm, PAGEMAP_SCAN, &arg);
}

/* pagemap-scan: the ioctl answers for one present page. */
static void probe_pagemap_scan(struct glue_feature_result *out)
{
	_cleanup_close_ int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	long psz = getpagesize();
	struct page_region vec[2];
	volatile char *p;
	long n;

	if (pm < 0)
		return set_detail(out, false, "open /proc/self/pagemap: %s", strerror(errno));
	p = mmap(NULL, (size_t)psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return set_detail(out, false, "mmap: %s", strerror(errno));
	p[0] = 1;
	n = pagemap_scan(pm, (void *)p, (char *)p + psz, 0, PAGE_IS_PRESENT, vec, 2);
	munmap((void *)p, (size_t)psz);
	if (n < 0)
		return set_detail(out, false, "PAGEMAP_SCAN ioctl: %s%s", strerror(errno),
				  errno == ENOTTY ? " (kernel older than 6.7)" : "");
	if (n != 1 || vec[0].start != (uintptr_t)p)
		return set_detail(out, false, "PAGEMAP_SCAN did not report a present page");
	set_detail(out, true, "PAGEMAP_SCAN ioctl on /proc/PID/pagemap");
}

/*
 * uffd-wp-async: the tracker's whole cycle on a scratch range: a user-mode-only
 * userfaultfd with WP_ASYNC|WP_UNPOPULATED, WP registration, a first scan that
 * arms the range, one write, and a second scan that must return exactly that
 * page.
 */
static void probe_uffd_wp_async(struct glue_feature_result *out)
{
	const uint64_t want = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;
	_cleanup_close_ int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int uffd = -1;
	long psz = getpagesize();
	struct uffdio_api api = { .api = UFFD_API, .features = want };
	struct uffdio_register reg = { 0 };
	struct page_region vec[4];
	char *p;
	long n;

	if (pm < 0)
		return set_detail(out, false, "open /proc/self/pagemap: %s", strerror(errno));
	uffd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (uffd < 0)
		return set_detail(out, false, "userfaultfd(UFFD_USER_MODE_ONLY): %s",
				  strerror(errno));
	if (ioctl(uffd, UFFDIO_API, &api))
		return set_detail(out, false, "UFFDIO_API with WP_ASYNC|WP_UNPOPULATED: %s",
				  strerror(errno));
	if ((api.features & want) != want)
		return set_detail(out, false, "UFFDIO_API: kernel lacks WP_ASYNC/WP_UNPOPULATED");
	p = mmap(NULL, (size_t)psz * 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return set_detail(out, false, "mmap: %s", strerror(errno));
	memset(p, 1, (size_t)psz * 4);
	reg.range.start = (uintptr_t)p;
	reg.range.len = (uint64_t)psz * 4;
	reg.mode = UFFDIO_REGISTER_MODE_WP;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		set_detail(out, false, "UFFDIO_REGISTER (MODE_WP): %s", strerror(errno));
		goto out_unmap;
	}
	/* First scan: everything reads as written, and is write-protected. */
	n = pagemap_scan(pm, p, p + psz * 4, PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
			 PAGE_IS_WRITTEN, vec, 4);
	if (n < 0) {
		set_detail(out, false, "PAGEMAP_SCAN (WP_MATCHING|CHECK_WPASYNC): %s",
			   strerror(errno));
		goto out_unmap;
	}
	p[psz * 2] = 2;
	n = pagemap_scan(pm, p, p + psz * 4, PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
			 PAGE_IS_WRITTEN, vec, 4);
	if (n != 1 || vec[0].start != (uintptr_t)(p + psz * 2) ||
	    vec[0].end != (uintptr_t)(p + psz * 3)) {
		set_detail(
			out, false,
			"PAGEMAP_SCAN after one write reported %ld regions, not the written page",
			n);
		goto out_unmap;
	}
	set_detail(out, true, "userfaultfd WP_ASYNC|WP_UNPOPULATED + PAGEMAP_SCAN");
out_unmap:
	munmap(p, (size_t)psz * 4);
}

/*
 * A scratch child for the probes that act on another process.  It holds a
 * known value at a known address (fork keeps the layout) and the read end of
 * a pipe, and waits to be killed.
 */
struct probe_child {
	pid_t pid;
	int pipefd[2];
};

static volatile unsigned long probe_marker = 0x636b7074UL; /* "ckpt" */

static int probe_child_start(struct probe_child *c, struct ck_err **err)
{
	if (pipe2(c->pipefd, O_CLOEXEC))
		return ck_err_set(err, errno, "pipe");
	c->pid = fork();
	if (c->pid < 0) {
		close(c->pipefd[0]);
		close(c->pipefd[1]);
		return ck_err_set(err, errno, "fork");
	}
	if (c->pid == 0) {
		char b;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(c->pipefd[1]);
		/* Blocks until the parent closes its end or kills us. */
		while (read(c->pipefd[0], &b, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	/* We keep the write end: the child's read() blocks until we close it. */
	return 0;
}

static void probe_child_stop(struct probe_child *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, __WALL) < 0 && errno == EINTR)
			;
	}
	for (int i = 0; i < 2; i++) {
		if (c->pipefd[i] >= 0)
			close(c->pipefd[i]);
		c->pipefd[i] = -1;
	}
	c->pid = -1;
}

static void probe_ptrace(struct glue_feature_result *out, bool suspend_seccomp)
{
	_cleanup_err_ struct ck_err *err = NULL;
	struct probe_child c = { -1, { -1, -1 } };

	if (probe_child_start(&c, &err))
		return set_from_err(out, &err);
	if (parasite_probe_seize(c.pid, suspend_seccomp, &err)) {
		probe_child_stop(&c);
		return set_from_err(out, &err);
	}
	probe_child_stop(&c);
	set_detail(out, true,
		   suspend_seccomp ? "PTRACE_O_SUSPEND_SECCOMP accepted"
				   : "PTRACE_SEIZE + PTRACE_INTERRUPT");
}

static void probe_process_vm_readv(struct glue_feature_result *out)
{
	_cleanup_err_ struct ck_err *err = NULL;
	struct probe_child c = { -1, { -1, -1 } };
	unsigned long val = 0;
	struct iovec local = { &val, sizeof(val) };
	struct iovec remote = { (void *)&probe_marker, sizeof(val) };
	ssize_t n;

	if (probe_child_start(&c, &err))
		return set_from_err(out, &err);
	n = process_vm_readv(c.pid, &local, 1, &remote, 1, 0);
	probe_child_stop(&c);
	if (n < 0)
		return set_detail(out, false, "process_vm_readv: %s", strerror(errno));
	if (n != sizeof(val) || val != probe_marker)
		return set_detail(out, false, "process_vm_readv read wrong data");
	set_detail(out, true, "read a child's memory");
}

static void probe_pidfd_getfd(struct glue_feature_result *out)
{
	_cleanup_err_ struct ck_err *err = NULL;
	struct probe_child c = { -1, { -1, -1 } };
	_cleanup_close_ int pidfd = -1, fd = -1;
	struct stat a, b;

	if (probe_child_start(&c, &err))
		return set_from_err(out, &err);
	pidfd = (int)syscall(__NR_pidfd_open, c.pid, 0);
	if (pidfd < 0) {
		probe_child_stop(&c);
		return set_detail(out, false, "pidfd_open: %s", strerror(errno));
	}
	/* The child inherited our pipe's read end at the same number. */
	fd = (int)syscall(__NR_pidfd_getfd, pidfd, c.pipefd[0], 0);
	if (fd < 0) {
		probe_child_stop(&c);
		return set_detail(out, false, "pidfd_getfd: %s", strerror(errno));
	}
	if (fstat(fd, &a) || fstat(c.pipefd[0], &b) || a.st_ino != b.st_ino) {
		probe_child_stop(&c);
		return set_detail(out, false, "pidfd_getfd returned a different file");
	}
	probe_child_stop(&c);
	set_detail(out, true, "pidfd_open + pidfd_getfd");
}

static void probe_cgroup_freezer(struct glue_feature_result *out)
{
	_cleanup_err_ struct ck_err *err1 = NULL, *err2 = NULL;
	_cleanup_free_ char *m1 = NULL, *m2 = NULL;
	struct probe_child c = { -1, { -1, -1 } };
	bool v1, v2;

	if (probe_child_start(&c, &err1))
		return set_from_err(out, &err1);
	v1 = !glue_cgroup_probe_freeze(1, c.pid, &err1);
	v2 = !glue_cgroup_probe_freeze(2, c.pid, &err2);
	probe_child_stop(&c);
	glue_cgroup_probe_cleanup();
	if (v1 && v2)
		return set_detail(out, true, "v1 and v2");
	m1 = err1 ? ck_err_str(err1) : NULL;
	m2 = err2 ? ck_err_str(err2) : NULL;
	if (v1)
		return set_detail(out, true, "v1 (v2: %s)", m2);
	if (v2)
		return set_detail(out, true, "v2 (v1: %s)", m1);
	set_detail(out, false, "v1: %s; v2: %s", m1, m2);
}

/* see features.h */
void glue_probe_feature(enum glue_feature f, struct glue_feature_result *out)
{
	memset(out, 0, sizeof(*out));
	switch (f) {
	case GLUE_FEAT_SOFT_DIRTY:
		return probe_soft_dirty(out);
	case GLUE_FEAT_UFFD_WP_ASYNC:
		return probe_uffd_wp_async(out);
	case GLUE_FEAT_PAGEMAP_SCAN:
		return probe_pagemap_scan(out);
	case GLUE_FEAT_PTRACE:
		return probe_ptrace(out, false);
	case GLUE_FEAT_PROCESS_VM_READV:
		return probe_process_vm_readv(out);
	case GLUE_FEAT_PIDFD_GETFD:
		return probe_pidfd_getfd(out);
	case GLUE_FEAT_CGROUP_FREEZER:
		return probe_cgroup_freezer(out);
	case GLUE_FEAT_SECCOMP_SUSPEND:
		return probe_ptrace(out, true);
	case GLUE_FEAT_NR:
		break;
	}
	set_detail(out, false, "unknown feature");
}

static void append(char *buf, unsigned long len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void append(char *buf, unsigned long len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/*
 * What each tracker needs from the kernel, and whether this build has it.
 * Order = preference.  A tracker becomes "built" when its implementation lands.
 */
/* clang-format off */
static const struct {
	enum glue_feature needs[4];
	size_t nr_needs;
	bool built;
	const char *how;
} tracker_info[GLUE_TRACKER_NR] = {
	[GLUE_TRACKER_UFFD_WP] = {
		{ GLUE_FEAT_UFFD_WP_ASYNC, GLUE_FEAT_PAGEMAP_SCAN, GLUE_FEAT_PTRACE,
		  GLUE_FEAT_PIDFD_GETFD }, 4, true,
		"userfaultfd async write-protect + PAGEMAP_SCAN find written pages; the freeze covers only the scan" },
	[GLUE_TRACKER_SOFT_DIRTY] = {
		{ GLUE_FEAT_SOFT_DIRTY }, 1, true,
		"clear_refs 4 + pagemap bit 55 find written pages" },
	[GLUE_TRACKER_HASH] = {
		{ 0 }, 0, true,
		"per-page content hashes find changed pages without kernel help; memory is read while frozen" },
	[GLUE_TRACKER_NONE] = {
		{ 0 }, 0, true,
		"every layer is full" },
};
/* clang-format on */

/* see features.h */
bool glue_tracker_built(enum glue_tracker t)
{
	return (unsigned)t < GLUE_TRACKER_NR && tracker_info[t].built;
}

static enum glue_tracker choose(const struct glue_feature_result res[GLUE_FEAT_NR], int skip,
				const char *skip_why, char *why, unsigned long why_len)
{
	why[0] = '\0';
	for (int t = 0; t < GLUE_TRACKER_NR; t++) {
		bool ok = true;

		if (t == skip) {
			append(why, why_len, "%s not used: %s; ", tracker_names[t], skip_why);
			continue;
		}

		for (size_t i = 0; i < tracker_info[t].nr_needs; i++) {
			enum glue_feature f = tracker_info[t].needs[i];

			if (res[f].available)
				continue;
			if (ok)
				append(why, why_len, "%s not used: ", tracker_names[t]);
			else
				append(why, why_len, ", ");
			append(why, why_len, "%s unavailable", feature_names[f]);
			ok = false;
		}
		if (ok && !tracker_info[t].built) {
			append(why, why_len, "%s not used: not implemented in this build",
			       tracker_names[t]);
			ok = false;
		}
		if (!ok) {
			append(why, why_len, "; ");
			continue;
		}
		append(why, why_len, "%s: %s", tracker_names[t], tracker_info[t].how);
		return (enum glue_tracker)t;
	}
	return GLUE_TRACKER_NONE; /* not reached: none needs nothing */
}

/* see features.h */
enum glue_tracker glue_choose_tracker(const struct glue_feature_result res[GLUE_FEAT_NR], char *why,
				      unsigned long why_len)
{
	return choose(res, -1, NULL, why, why_len);
}

/* see features.h */
enum glue_tracker glue_auto_tracker(char *why, unsigned long why_len)
{
	return glue_auto_tracker_except(GLUE_TRACKER_NR, NULL, why, why_len);
}

/* see features.h */
enum glue_tracker glue_auto_tracker_except(enum glue_tracker skip, const char *skip_why, char *why,
					   unsigned long why_len)
{
	static const enum glue_feature needed[] = {
		GLUE_FEAT_UFFD_WP_ASYNC, GLUE_FEAT_PAGEMAP_SCAN,     GLUE_FEAT_PTRACE,
		GLUE_FEAT_PIDFD_GETFD,   GLUE_FEAT_PROCESS_VM_READV, GLUE_FEAT_SOFT_DIRTY
	};
	struct glue_feature_result res[GLUE_FEAT_NR] = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(needed); i++)
		glue_probe_feature(needed[i], &res[needed[i]]);
	return choose(res, skip == GLUE_TRACKER_NONE ? -1 : (int)skip, skip_why, why, why_len);
}
