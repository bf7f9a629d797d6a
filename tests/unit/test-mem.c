// SPDX-License-Identifier: MIT
/*
 * Unit tests of the memory layer's pure parts: smaps classification, page
 * ranges, the page hash, a pagemap write/read round trip through a layer, and
 * the auxv rule of mm images (CRIU's AT_VECTOR_SIZE).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/err.h"
#include "proto/img.h"
#include "proto/mm.pb-c.h"
#include "runtime-glue/mem/chain.h"
#include "runtime-glue/mem/layer.h"
#include "runtime-glue/mem/pagemap.h"
#include "runtime-glue/mem/pages.h"
#include "runtime-glue/track/tracker.h"
#include "runtime-glue/mem/vma.h"
#include "runtime-glue/proc/proc.h"
#include "tests/unit/tap.h"

static const char smaps[] =
	"55d0c7a5b000-55d0c7a5d000 r--p 00000000 fe:00 1234                       /usr/bin/cat\n"
	"Size:                  8 kB\n"
	"Rss:                   8 kB\n"
	"VmFlags: rd mr mw me dw sd\n"
	"55d0c8000000-55d0c8021000 rw-p 00000000 00:00 0                          [heap]\n"
	"Rss:                   4 kB\n"
	"Swap:                  0 kB\n"
	"VmFlags: rd wr mr mw me ac sd\n"
	"7f0000000000-7f0000010000 rw-s 00000000 00:01 4242                       /dev/zero (deleted)\n"
	"Rss:                   0 kB\n"
	"VmFlags: rd wr sh mr mw me ms sd\n"
	"7f0000010000-7f0000020000 rw-p 00000000 00:01 77                         /memfd:x (deleted)\n"
	"Rss:                   0 kB\n"
	"VmFlags: rd wr mr mw me sd\n"
	"7f0000020000-7f0000030000 rw-p 00000000 00:00 0 \n"
	"Rss:                   0 kB\n"
	"VmFlags: rd wr mr mw me nr hg dd sd\n"
	"7ffd00000000-7ffd00004000 r--p 00000000 00:00 0                          [vvar]\n"
	"VmFlags: rd mr pf io de dd sd\n"
	"7ffd00004000-7ffd00006000 r--p 00000000 00:00 0                          [vvar_vclock]\n"
	"VmFlags: rd mr pf io de dd sd\n"
	"7ffd00006000-7ffd00008000 r-xp 00000000 00:00 0                          [vdso]\n"
	"VmFlags: rd ex mr mw me de sd\n"
	"7ffe00000000-7ffe00021000 rw-p 00000000 00:00 0                          [stack]\n"
	"VmFlags: rd wr mr mw me gd ac\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

static void test_smaps(void)
{
	struct ck_err *err = NULL;
	struct glue_vmas v = { 0 };
	FILE *f = fmemopen((void *)smaps, sizeof(smaps) - 1, "r");

	tap_ok(glue_vmas_parse(f, &v, &err) == 0, "smaps parses");
	fclose(f);
	tap_ok(v.nr == 9, "vvar and vvar_vclock merge: 9 VMAs (got %zu)", v.nr);
	if (v.nr != 9)
		return;
	tap_ok(v.v[0].status == 0x41 && v.v[0].dump == GLUE_DUMP_PRIVATE,
	       "ELF segment: FILE_PRIVATE");
	tap_ok(v.v[1].status == 0x221 && v.v[1].flags == (MAP_PRIVATE | MAP_ANONYMOUS),
	       "heap: REGULAR|HEAP|ANON_PRIVATE");
	tap_ok(v.v[2].status == 0x101 && v.v[2].dump == GLUE_DUMP_SHMEM && v.v[2].ino == 4242,
	       "shared anon: ANON_SHARED, dumped as a segment");
	tap_ok(v.v[3].status == (0x41 | GLUE_VMA_MEMFD), "private memfd: FILE_PRIVATE|MEMFD");
	tap_ok(v.v[4].madv == ((1ULL << MADV_HUGEPAGE) | (1ULL << MADV_DONTDUMP)) &&
		       (v.v[4].flags & MAP_NORESERVE),
	       "VmFlags nr/hg/dd become MAP_NORESERVE and madv bits");
	tap_ok(v.v[5].status == 0x1201 && v.v[5].end == 0x7ffd00006000 &&
		       v.v[5].dump == GLUE_DUMP_SKIP,
	       "vvar: 0x1201, merged, skipped");
	tap_ok(v.v[6].status == 0x209 && v.v[6].dump == GLUE_DUMP_WHOLE,
	       "vdso: 0x209, dumped whole");
	tap_ok(v.v[7].status == 0x201 && (v.v[7].flags & MAP_GROWSDOWN),
	       "stack: 0x201 + GROWSDOWN");
	tap_ok(glue_vma_find(&v, 0x7f0000010000)->status & GLUE_VMA_MEMFD, "glue_vma_find");
	tap_ok(!glue_vma_find(&v, 0x1000), "glue_vma_find outside");
	/* the last line, without VmFlags */
	tap_ok(v.v[8].status == 0x204 && v.v[8].dump == GLUE_DUMP_SKIP,
	       "vsyscall: 0x204 (no REGULAR)");
	glue_vmas_free(&v);

	static const char bad[] = "zzz\n10-5 rw-p 0 00:00 0\nnot a header\n";

	f = fmemopen((void *)bad, sizeof(bad) - 1, "r");
	tap_ok(glue_vmas_parse(f, &v, &err) == 0 || err, "garbage lines do not crash");
	fclose(f);
	ck_err_free(&err);
	glue_vmas_free(&v);
}

static void test_ranges(void)
{
	struct glue_ranges r = { 0 };

	glue_ranges_add(&r, 0x1000, 0x3000);
	glue_ranges_add(&r, 0x3000, 0x4000);
	glue_ranges_add(&r, 0x8000, 0x9000);
	glue_ranges_add(&r, 0x9000, 0x9000);
	tap_ok(r.nr == 2 && r.pages == 4, "adjacent ranges merge, empty ones vanish");
	tap_ok(glue_ranges_contains(&r, 0x3fff) && !glue_ranges_contains(&r, 0x4000) &&
		       glue_ranges_contains(&r, 0x8000),
	       "contains");
	glue_ranges_free(&r);
}

static void test_hash(void)
{
	static uint8_t a[4096], b[4096];
	uint64_t k1[2] = { 1, 2 }, k2[2] = { 3, 4 };
	struct glue_hash128 h, g;
	int same = 0;

	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)(i * 31);
	memcpy(b, a, sizeof(a));
	h = glue_page_hash(a, k1);
	g = glue_page_hash(b, k1);
	tap_ok(h.lo == g.lo && h.hi == g.hi, "equal pages, equal hashes");
	g = glue_page_hash(a, k2);
	tap_ok(h.lo != g.lo || h.hi != g.hi, "the key changes the hash");
	/* every single-bit flip anywhere changes the hash */
	for (size_t bit = 0; bit < 4096 * 8; bit += 7) {
		b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		g = glue_page_hash(b, k1);
		same += g.lo == h.lo && g.hi == h.hi;
		b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	tap_ok(same == 0, "single-bit flips always change the hash (%d collisions)", same);
	/* swapping two 32-byte blocks changes it too */
	memcpy(b, a + 32, 32);
	memcpy(b + 32, a, 32);
	g = glue_page_hash(b, k1);
	tap_ok(g.lo != h.lo || g.hi != h.hi, "block order matters");
}

static void test_pagemap_roundtrip(void)
{
	char tmpl[] = "/tmp/test-mem-XXXXXX";
	char *dir = mkdtemp(tmpl);
	char path[64], cmd[96];
	struct ck_err *err = NULL;
	struct glue_layer l;
	struct glue_pmw *w;
	struct glue_pagemap pm = { 0 };
	struct glue_chain chain = { 0 };
	struct glue_chain_obj *co;
	static uint8_t pg[3 * 4096], out[4096];
	bool missing = true, held = false;
	int fd;

	if (!dir) {
		tap_skip("mkdtemp failed", "pagemap round trip");
		return;
	}
	for (size_t i = 0; i < sizeof(pg); i++)
		pg[i] = (uint8_t)(i / 4096 + 1);
	snprintf(path, sizeof(path), "%s/l1", dir);
	tap_ok(glue_layer_begin(path, NULL, &l, &err) == 0, "layer begins");
	w = glue_pmw_open(&l, "pagemap-1.img", &err);
	tap_ok(w && glue_pmw_add(w, 0x10000, 2, pg, &err) == 0 &&
		       glue_pmw_add(w, 0x12000, 1, pg + 8192, &err) == 0 &&
		       glue_pmw_add(w, 0x20000, 1, NULL, &err) == 0 && glue_pmw_close(w, &err) == 0,
	       "pagemap writes");
	tap_ok(glue_layer_write_inventory(&l, true, &err) == 0, "inventory writes");
	tap_ok(access(path, F_OK) != 0, "nothing at the final name before commit");
	tap_ok(glue_layer_commit(&l, &err) == 0 && access(path, F_OK) == 0, "commit renames");
	glue_layer_abort(&l);
	fd = open(path, O_RDONLY | O_DIRECTORY);
	tap_ok(glue_pagemap_load(fd, "pagemap-1.img", &pm, &missing, &err) == 0 && !missing &&
		       pm.nr == 2 && pm.e[0].nr_pages == 3 && pm.e[0].flags == IMG_PE_PRESENT &&
		       pm.e[1].flags == IMG_PE_PARENT && pm.pages_id == 1,
	       "adjacent present pages merge into one entry; parent entry kept");
	glue_pagemap_free(&pm);
	tap_ok(glue_pagemap_load(fd, "pagemap-9.img", &pm, &missing, &err) == 0 && missing,
	       "a missing pagemap is reported as missing");
	close(fd);
	tap_ok(glue_chain_open(path, &chain, &err) == 0 && chain.nr == 1, "chain of one layer");
	co = glue_chain_obj_open(&chain, "pagemap-1.img", &err);
	tap_ok(co && glue_chain_obj_read(co, 0x12000, out, &held, &err) == 0 && held && out[0] == 3,
	       "chain read returns the third page's data");
	tap_ok(co && glue_chain_obj_read(co, 0x30000, out, &held, &err) == 0 && !held,
	       "an address outside the pagemap is not held");
	tap_ok(co && glue_chain_obj_read(co, 0x20000, out, &held, &err) < 0 && err &&
		       strstr(err->msg, "no parent"),
	       "PE_PARENT without a parent layer is an error");
	ck_err_free(&err);
	glue_chain_obj_close(co);
	glue_chain_close(&chain);
	tap_ok(glue_layer_begin(path, NULL, &l, &err) < 0 && err && err->errnum == ENOTEMPTY,
	       "an existing layer is never overwritten");
	ck_err_free(&err);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
}

/*
 * mm images hold at most CRIU's AT_VECTOR_SIZE auxv words (44 on x86_64): the
 * first words of /proc/PID/auxv as they are, as CRIU's dump keeps them; a
 * longer vector (x86_64 since Linux 6.3: 46 words) loses its tail, AT_NULL
 * pair included, since CRIU's restore refuses more.
 */
static void test_auxv(void)
{
	char tmpl[] = "/tmp/test-mem-auxv-XXXXXX";
	char *dir = mkdtemp(tmpl);
	char path[96], cmd[96];
	uint64_t raw[512], got[GLUE_AUXV_WORDS + 2];
	const uint64_t fence = 0x5a5a5a5a5a5a5a5aull;
	size_t nraw = 0, n = 99, want;
	struct ck_err *err = NULL;
	struct glue_task task = { 0 };
	struct glue_vmas vmas = { 0 };
	struct glue_layer l;
	struct img *img = NULL;
	MmEntry *mm = NULL;
	ssize_t r;
	int fd;
#if defined(__x86_64__)
	const size_t criu_cap = 44; /* CRIU 4.2's AT_VECTOR_SIZE on x86 */
#else
	const size_t criu_cap = GLUE_AUXV_WORDS;
#endif

	tap_ok(GLUE_AUXV_WORDS == criu_cap, "at most %zu auxv words (CRIU 4.2's AT_VECTOR_SIZE)",
	       criu_cap);
	fd = open("/proc/self/auxv", O_RDONLY | O_CLOEXEC);
	r = fd >= 0 ? read(fd, raw, sizeof(raw)) : -1;
	if (fd >= 0)
		close(fd);
	if (r > 0)
		nraw = (size_t)r / sizeof(raw[0]);
	tap_ok(nraw >= 2 && nraw % 2 == 0 && raw[nraw - 2] == 0 && raw[nraw - 1] == 0,
	       "the kernel's auxv: %zu words in pairs, ending with AT_NULL", nraw);
	want = nraw < criu_cap ? nraw : criu_cap;
	got[GLUE_AUXV_WORDS] = got[GLUE_AUXV_WORDS + 1] = fence;
	tap_ok(glue_proc_auxv(getpid(), got, &n, &err) == 0, "own auxv reads");
	tap_ok(n <= GLUE_AUXV_WORDS && got[GLUE_AUXV_WORDS] == fence &&
		       got[GLUE_AUXV_WORDS + 1] == fence,
	       "never more than %d words read (%zu)", GLUE_AUXV_WORDS, n);
	tap_ok(n == want && !memcmp(got, raw, want * sizeof(raw[0])),
	       "the first %zu of the kernel's %zu words, as they are", want, nraw);
	if (nraw > criu_cap)
		tap_ok(n == criu_cap && (got[n - 2] != 0 || got[n - 1] != 0),
		       "a longer auxv (this kernel) is cut at the cap, its AT_NULL pair with it");
	else
		tap_ok(n >= 2 && got[n - 2] == 0 && got[n - 1] == 0,
		       "a short auxv keeps its AT_NULL pair");
	tap_ok(glue_proc_auxv(-1, got, &n, &err) < 0 && err && n == 0, "a bad pid is an error");
	ck_err_free(&err);

	/* The memory layer's mm image carries the same words. */
	if (!dir) {
		tap_skip("mkdtemp failed", "memory layer mm image");
		return;
	}
	task.pid = task.vpid = getpid();
	snprintf(path, sizeof(path), "%s/l1", dir);
	tap_ok(glue_layer_begin(path, NULL, &l, &err) == 0 &&
		       glue_layer_write_mm(&l, &task, &vmas, &err) == 0 &&
		       glue_layer_commit(&l, &err) == 0,
	       "memory layer with an mm image");
	glue_layer_abort(&l);
	snprintf(path, sizeof(path), "%s/l1/mm-%d.img", dir, (int)task.vpid);
	img = img_open(AT_FDCWD, path, IMG_MM, &err);
	tap_ok(img && img_read_entry(img, (void **)&mm, &err) == 0 && mm &&
		       mm->n_mm_saved_auxv == want &&
		       !memcmp(mm->mm_saved_auxv, raw, want * sizeof(raw[0])),
	       "its mm image holds those %zu auxv words", want);
	img_free_msg(mm);
	img_release(img);
	ck_err_free(&err);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
}

/* um/uw/ui, and the VmFlags of a read before the freeze merged into the frozen maps read */
static void test_vmflags_merge(void)
{
	static const char sm[] = "1000-3000 rw-p 00000000 00:00 0 \n"
				 "VmFlags: rd wr mr mw me hg sd\n"
				 "5000-6000 rw-p 00000000 00:00 0 \n"
				 "VmFlags: rd wr mr mw me uw sd\n";
	static const char mp[] = "1000-3000 rw-p 00000000 00:00 0 \n"
				 "5000-6000 rw-p 00000000 00:00 0 \n";
	struct glue_vmas full = { 0 }, fast = { 0 }, keep;
	struct glue_vmas_snap snap = { 0 };
	struct ck_err *err = NULL;
	FILE *f = fmemopen((void *)sm, sizeof(sm) - 1, "r");

	tap_ok(glue_vmas_parse(f, &full, &err) == 0 && full.nr == 2, "smaps with uw parses");
	fclose(f);
	f = fmemopen((void *)mp, sizeof(mp) - 1, "r");
	tap_ok(glue_vmas_parse(f, &fast, &err) == 0 && fast.nr == 2, "maps parses");
	fclose(f);
	if (full.nr != 2 || fast.nr != 2)
		return;
	tap_ok(!full.v[0].uffd && full.v[1].uffd, "VmFlags uw: registered with a userfaultfd");
	tap_ok(glue_vmas_merge_flags(&fast, &full) == 0 &&
		       fast.v[0].madv == (1ULL << MADV_HUGEPAGE),
	       "every VMA alike: all merged, none missed");
	fast.v[1].end = 0x7000;
	fast.v[0].prot = PROT_READ;
	tap_ok(glue_vmas_merge_flags(&fast, &full) == 2, "another end, another protection: missed");
	keep = full;
	glue_vmas_snap_add(&snap, 42, 7, &full);
	tap_ok(!full.nr && glue_vmas_snap_find(&snap, 42, 7) &&
		       glue_vmas_snap_find(&snap, 42, 7)->v == keep.v &&
		       !glue_vmas_snap_find(&snap, 42, 8) && !glue_vmas_snap_find(&snap, 43, 7),
	       "kept by pid and start time");
	glue_vmas_snap_free(&snap);
	glue_vmas_free(&fast);
}

int main(void)
{
	test_smaps();
	test_vmflags_merge();
	test_ranges();
	test_hash();
	test_pagemap_roundtrip();
	test_auxv();
	return tap_done();
}
