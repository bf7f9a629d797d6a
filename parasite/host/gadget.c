// SPDX-License-Identifier: MIT
/*
 * The two pieces of the target's own code an injection runs through, and what
 * ckpt remembers of them from one task to the next:
 *
 *   vDSO gadget   a `syscall` of the vDSO, best one followed only by `xor`s
 *                 and `ret`: every remote syscall executes there (syscall.c)
 *   restorer      a `mov $15,%eax|%rax; syscall`: the safety frame's return
 *                 address (sigframe.c)
 *
 * Searching costs milliseconds per task (ckpt's own code, then the target's
 * through /proc/PID/mem); the tasks of one dump mostly run the same binary.
 * The cache (per ckpt thread, like the handles) keeps only where to look;
 * every value is checked in the task it is used for before it is used:
 *
 *   what                 found                    checked per task (one read)
 *   -------------------  -----------------------  ------------------------------
 *   vDSO gadget offset   once, in ckpt's own      the task's [vdso] has the same
 *   and its bytes        vDSO (same kernel image) size and the same gadget bytes
 *                                                 at that offset
 *   restorer (dev, ino,  in ckpt's own code, per  an executable mapping of that
 *   file offset)         file the task maps too;  file covers the offset, and the
 *                        else where a scan of a   restorer's bytes are there
 *                        task's code found one
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "parasite/host/parasite-priv.h"

#define SCAN_LIMIT     (64UL << 20)
#define RESTORER_CACHE 16
#define GADGET_MAX     16 /* bytes of the vDSO gadget compared in the target */

/* `mov $15,%eax; syscall` (musl) and `mov $15,%rax; syscall` (glibc, Go) */
static const unsigned char restorer_a[] = { 0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };
static const unsigned char restorer_b[] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };

/* see parasite-priv.h */
int read_maps(pid_t pid, struct map_ent **out, size_t *nr, struct ck_err **err)
{
	_cleanup_fclose_ FILE *f = NULL;
	char path[64], line[PATH_MAX + 128];
	struct map_ent *v = NULL;
	size_t n = 0, cap = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return ck_err_set(err, errno, "open %s", path);
	while (fgets(line, sizeof(line), f)) {
		struct map_ent m = { 0 };
		int pos = 0;

		if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu %n", &m.start, &m.end, m.perms, &m.off,
			   &m.dev_major, &m.dev_minor, &m.ino, &pos) < 7)
			continue;
		if (pos > 0) {
			snprintf(m.name, sizeof(m.name), "%s", line + pos);
			m.name[strcspn(m.name, "\n")] = '\0';
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n++] = m;
	}
	*out = v;
	*nr = n;
	return 0;
}

/* @len bytes of the target at @addr (process_vm_readv, else PEEKTEXT words). */
static bool target_read(pid_t pid, unsigned long addr, void *buf, size_t len)
{
	struct iovec l = { buf, len }, r = { (void *)addr, len };

	if (process_vm_readv(pid, &l, 1, &r, 1, 0) == (ssize_t)len)
		return true;
	for (size_t o = 0; o < len; o += sizeof(long)) {
		long w;

		errno = 0;
		w = ptrace(PTRACE_PEEKTEXT, pid, (void *)(addr + o), NULL);
		if (errno)
			return false;
		memcpy((char *)buf + o, &w, len - o < sizeof(w) ? len - o : sizeof(w));
	}
	return true;
}

/* ---- the vDSO gadget ---- */

static __thread struct {
	bool done, found, safe;
	size_t len, off, glen;
	unsigned char bytes[GADGET_MAX];
} vdso_local;

/* Our own vDSO, searched once: the kernel maps the same image into every task. */
static void vdso_local_scan(void)
{
	const unsigned char *local = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
	_cleanup_free_ struct map_ent *self = NULL;
	size_t sn = 0, len = 0, off;

	vdso_local.done = true;
	if (!local || read_maps(getpid(), &self, &sn, NULL) < 0)
		return;
	for (size_t i = 0; i < sn; i++)
		if (!strcmp(self[i].name, "[vdso]") && self[i].start == (unsigned long)local)
			len = self[i].end - self[i].start;
	/* Best: a `syscall` followed only by `xor r32,r32` and `ret`, which
	 * returns into the safety frame (sigframe.c); else the first one. */
	for (off = 0; off + 1 < len; off++) {
		size_t k = off + 2;

		if (local[off] != 0x0f || local[off + 1] != 0x05)
			continue;
		while (k + 2 < len &&
		       (local[k] == 0x31 || (local[k] == 0x45 && local[k + 1] == 0x31)))
			k += local[k] == 0x31 ? 2 : 3;
		if (k < len && local[k] == 0xc3) {
			vdso_local.safe = true;
			vdso_local.glen = k + 1 - off;
			break;
		}
	}
	if (!vdso_local.safe) {
		for (off = 0; off + 1 < len; off++)
			if (local[off] == 0x0f && local[off + 1] == 0x05)
				break;
		vdso_local.glen = 2;
	}
	if (off + 1 >= len)
		return;
	if (vdso_local.glen > GADGET_MAX)
		vdso_local.glen = GADGET_MAX;
	memcpy(vdso_local.bytes, local + off, vdso_local.glen);
	vdso_local.len = len;
	vdso_local.off = off;
	vdso_local.found = true;
}

/* see parasite-priv.h */
bool find_vdso_syscall(struct parasite_ctl *ctl, const struct map_ent *tm, size_t tn)
{
	unsigned char got[GADGET_MAX];

	if (!vdso_local.done)
		vdso_local_scan();
	if (!vdso_local.found)
		return false;
	for (size_t i = 0; i < tn; i++) {
		unsigned long ip = tm[i].start + vdso_local.off;

		if (strcmp(tm[i].name, "[vdso]") || tm[i].end - tm[i].start != vdso_local.len)
			continue;
		if (!target_read(ctl->pid, ip, got, vdso_local.glen) ||
		    memcmp(got, vdso_local.bytes, vdso_local.glen))
			return false;
		ctl->syscall_ip = ip;
		ctl->syscall_safe = vdso_local.safe;
		pr_debug("parasite: process %d: using the vDSO's syscall at 0x%lx", ctl->pid, ip);
		return true;
	}
	return false;
}

/* ---- the restorer ---- */

struct restorer_key {
	unsigned int dev_major, dev_minor;
	unsigned long ino, foff;
};

static __thread struct {
	size_t nr;
	struct restorer_key k[RESTORER_CACHE];
} rcache;

/*
 * The files of ckpt's own executable mappings, listed once; each is searched
 * once, when a task maps it too, at the addresses /proc/self/maps gives then
 * (never a remembered address of our own: a library could have moved).
 */
static __thread struct {
	bool listed;
	size_t nr;
	struct map_ent *m; /* one entry per file */
	bool *scanned;
} own;

static long find_restorer_in(const unsigned char *buf, size_t len)
{
	void *p = memmem(buf, len, restorer_b, sizeof(restorer_b));

	if (p)
		return (const unsigned char *)p - buf;
	p = memmem(buf, len, restorer_a, sizeof(restorer_a));
	return p ? (const unsigned char *)p - buf : -1;
}

static bool target_has(struct parasite_ctl *ctl, unsigned long addr)
{
	unsigned char got[sizeof(restorer_b)];

	if (!target_read(ctl->pid, addr, got, sizeof(got)))
		return false;
	return !memcmp(got, restorer_a, sizeof(restorer_a)) ||
	       !memcmp(got, restorer_b, sizeof(restorer_b));
}

static void rcache_add(const struct map_ent *m, unsigned long foff)
{
	struct restorer_key k = { m->dev_major, m->dev_minor, m->ino, foff };

	if (!m->ino || rcache.nr == RESTORER_CACHE)
		return;
	for (size_t i = 0; i < rcache.nr; i++)
		if (!memcmp(&rcache.k[i], &k, sizeof(k)))
			return;
	rcache.k[rcache.nr++] = k;
}

static bool same_file(const struct map_ent *a, const struct map_ent *b)
{
	return a->ino == b->ino && a->dev_major == b->dev_major && a->dev_minor == b->dev_minor;
}

/* Search ckpt's own executable mappings of the file of @f, as mapped now. */
static void rcache_scan_own(const struct map_ent *f)
{
	_cleanup_free_ struct map_ent *self = NULL;
	size_t sn = 0;

	if (read_maps(getpid(), &self, &sn, NULL) < 0)
		return;
	for (size_t i = 0; i < sn; i++) {
		long o;

		if (self[i].perms[2] != 'x' || !same_file(&self[i], f))
			continue;
		o = find_restorer_in((const unsigned char *)self[i].start,
				     self[i].end - self[i].start);
		if (o >= 0)
			rcache_add(&self[i], self[i].off + (unsigned long)o);
	}
}

/* The restorers of ckpt's own code (its libc) in the files the task maps too. */
static void rcache_seed(const struct map_ent *tm, size_t tn)
{
	_cleanup_free_ struct map_ent *self = NULL;
	size_t sn = 0;

	if (!own.listed) {
		own.listed = true;
		if (read_maps(getpid(), &self, &sn, NULL) < 0)
			return;
		for (size_t i = 0; i < sn; i++) {
			bool dup = false;

			if (self[i].perms[2] != 'x' || !self[i].ino)
				continue;
			for (size_t k = 0; k < own.nr && !dup; k++)
				dup = same_file(&own.m[k], &self[i]);
			if (dup)
				continue;
			own.m = xreallocarray(own.m, own.nr + 1, sizeof(*own.m));
			own.scanned = xreallocarray(own.scanned, own.nr + 1, sizeof(*own.scanned));
			own.m[own.nr] = self[i];
			own.scanned[own.nr++] = false;
		}
	}
	for (size_t i = 0; i < own.nr; i++) {
		bool mapped = false;

		for (size_t j = 0; j < tn && !mapped && !own.scanned[i]; j++)
			mapped = tm[j].perms[2] == 'x' && same_file(&tm[j], &own.m[i]);
		if (!mapped)
			continue;
		own.scanned[i] = true;
		rcache_scan_own(&own.m[i]);
	}
}

/* The cached keys, checked in this task: an address or 0. */
static unsigned long rcache_lookup(struct parasite_ctl *ctl, const struct map_ent *tm, size_t tn)
{
	for (size_t c = 0; c < rcache.nr; c++) {
		const struct restorer_key *k = &rcache.k[c];

		for (size_t j = 0; j < tn; j++) {
			unsigned long addr = tm[j].start + k->foff - tm[j].off;

			if (tm[j].perms[2] != 'x' || tm[j].ino != k->ino ||
			    tm[j].dev_major != k->dev_major || tm[j].dev_minor != k->dev_minor ||
			    k->foff < tm[j].off || k->foff >= tm[j].off + (tm[j].end - tm[j].start))
				continue;
			if (target_has(ctl, addr))
				return addr;
		}
	}
	return 0;
}

/* see parasite-priv.h */
unsigned long find_restorer(struct parasite_ctl *ctl, const struct map_ent *tm, size_t tn)
{
	_cleanup_close_ int fd = -1;
	size_t scanned = 0;
	unsigned long addr;
	char path[64];

	rcache_seed(tm, tn);
	addr = rcache_lookup(ctl, tm, tn);
	if (addr)
		return addr;
	/* not in a file seen before: scan the task's executable mappings */
	snprintf(path, sizeof(path), "/proc/%d/mem", ctl->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	for (size_t j = 0; j < tn && scanned < SCAN_LIMIT; j++) {
		size_t len = tm[j].end - tm[j].start;
		_cleanup_free_ unsigned char *buf = NULL;
		long o;

		if (tm[j].perms[2] != 'x' || !strcmp(tm[j].name, "[vsyscall]"))
			continue;
		if (len > SCAN_LIMIT - scanned)
			len = SCAN_LIMIT - scanned;
		buf = xmalloc(len);
		if (pread(fd, buf, len, (off_t)tm[j].start) != (ssize_t)len)
			continue;
		scanned += len;
		o = find_restorer_in(buf, len);
		if (o < 0)
			continue;
		rcache_add(&tm[j], tm[j].off + (unsigned long)o);
		return tm[j].start + (unsigned long)o;
	}
	return 0;
}

/* see parasite.h */
void parasite_warm_gadgets(pid_t pid)
{
	struct parasite_ctl probe = { .pid = pid, .mem_fd = -1 };
	_cleanup_free_ struct map_ent *tm = NULL;
	size_t tn = 0;
	long t0 = 0;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
	if (!vdso_local.done)
		vdso_local_scan();
	if (read_maps(pid, &tm, &tn, NULL) < 0)
		return;
	/* only where to look is kept: the frozen task is checked again (rcache_lookup) */
	(void)find_restorer(&probe, tm, tn);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	pr_debug("parasite: gadgets of process %d looked for before the freeze in %ld us", pid,
		 ts.tv_sec * 1000000L + ts.tv_nsec / 1000 - t0);
}
