/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/err.h"

/*
 * The VMAs of one task, parsed from /proc/PID/smaps and classified the way
 * CRIU classifies them (criu-image-format.md 2.1): the status and flags fields
 * are exactly what goes into VmaEntry.
 */

/* VmaEntry.status bits (CRIU's VMA_AREA_*) */
#define GLUE_VMA_REGULAR      (1U << 0)
#define GLUE_VMA_STACK        (1U << 1)
#define GLUE_VMA_VSYSCALL     (1U << 2)
#define GLUE_VMA_VDSO         (1U << 3)
#define GLUE_VMA_HEAP         (1U << 5)
#define GLUE_VMA_FILE_PRIVATE (1U << 6)
#define GLUE_VMA_FILE_SHARED  (1U << 7)
#define GLUE_VMA_ANON_SHARED  (1U << 8)
#define GLUE_VMA_ANON_PRIVATE (1U << 9)
#define GLUE_VMA_SYSVIPC      (1U << 10)
#define GLUE_VMA_SOCKET       (1U << 11)
#define GLUE_VMA_VVAR         (1U << 12)
#define GLUE_VMA_AIORING      (1U << 13)
#define GLUE_VMA_MEMFD        (1U << 14)
#define GLUE_VMA_SHSTK        (1U << 15)
#define GLUE_VMA_GUARD        (1U << 16)

/* How the memory dumper treats a VMA's pages. */
enum glue_vma_dump {
	GLUE_DUMP_SKIP,    /* vvar, vsyscall, shared file mappings, droppable, guard */
	GLUE_DUMP_PRIVATE, /* present/swapped pages that are not the zero page nor page cache */
	GLUE_DUMP_WHOLE,   /* vdso, AIO ring: every page */
	GLUE_DUMP_SHMEM,   /* shared anon / memfd / SysV: once per segment, by offset */
};

struct glue_vma {
	uint64_t start, end; /* [start, end) */
	uint64_t pgoff;      /* bytes */
	uint32_t prot;       /* PROT_* */
	uint32_t flags;      /* MAP_* as VmaEntry.flags */
	uint32_t status;     /* GLUE_VMA_* */
	uint64_t madv;       /* 1 << MADV_* */
	uint64_t dev, ino;   /* backing inode (0 for plain anonymous) */
	char *name;          /* path or [pseudo] name column, NULL when empty */
	uint64_t rss_kb;     /* Rss + Swap: 0 means no page can be present; UINT64_MAX unknown */
	enum glue_vma_dump dump;
	bool uffd; /* registered with a userfaultfd (VmFlags um, uw or ui; smaps only) */
};

struct glue_vmas {
	size_t nr;
	struct glue_vma *v; /* sorted by start, non-overlapping */
};

/*
 * Read and classify the VMAs of task @pid from /proc/@pid/smaps.
 * Returns 0 and fills @out (free with glue_vmas_free), or -1 with *err set.
 */
int glue_vmas_read(pid_t pid, struct glue_vmas *out, struct ck_err **err);

/*
 * The same from /proc/@pid/maps: about 300 times cheaper than smaps on a
 * populated 1 GiB mapping (smaps walks the page tables for Rss), but without
 * VmFlags: flags and madv lack GROWSDOWN/LOCKED/... and rss_kb is UINT64_MAX.
 * Used inside the pre-dump freeze; glue_vmas_merge_flags() completes it.
 */
int glue_vmas_read_fast(pid_t pid, struct glue_vmas *out, struct ck_err **err);

/*
 * Copy flags, madv and status from @full into the VMAs of @fast that match
 * exactly (start, end, inode, offset, protection); returns how many VMAs of
 * @fast had no match.
 */
size_t glue_vmas_merge_flags(struct glue_vmas *fast, const struct glue_vmas *full);

/*
 * smaps of some tasks, read once (before a pre-dump's freeze) and kept for
 * the VmFlags merge after its copy: smaps walks the page tables (~18 ms for a
 * populated 1 GiB), so one read serves both.  A task is found by pid and
 * start time (a reused pid is another task).
 */
struct glue_vmas_task {
	pid_t pid;
	uint64_t start_time;
	struct glue_vmas vmas;
};

struct glue_vmas_snap {
	size_t nr;
	struct glue_vmas_task *t;
};

/* Keep @vmas (taken over: @vmas is emptied) as @pid's. */
void glue_vmas_snap_add(struct glue_vmas_snap *s, pid_t pid, uint64_t start_time,
			struct glue_vmas *vmas);
const struct glue_vmas *glue_vmas_snap_find(const struct glue_vmas_snap *s, pid_t pid,
					    uint64_t start_time);
void glue_vmas_snap_free(struct glue_vmas_snap *s);

/* Same, from an already opened smaps (or maps) text (used by unit tests). */
int glue_vmas_parse(FILE *smaps, struct glue_vmas *out, struct ck_err **err);

void glue_vmas_free(struct glue_vmas *vmas);

/* The VMA containing @addr, or NULL. */
const struct glue_vma *glue_vma_find(const struct glue_vmas *vmas, uint64_t addr);

/*
 * An anonymous private VMA: its pages come and go only through faults and
 * zaps, and none of them is page cache (PAGEMAP_SCAN need not look at a
 * page's struct page to tell).
 */
static inline bool glue_vma_anonymous(const struct glue_vma *v)
{
	return v->dump == GLUE_DUMP_PRIVATE && !v->ino &&
	       !(v->status & (GLUE_VMA_FILE_PRIVATE | GLUE_VMA_MEMFD | GLUE_VMA_VDSO)) &&
	       (v->status & GLUE_VMA_ANON_PRIVATE);
}

/* Human-readable kind ("anon", "file-private", "vdso", ...) for logs and verify. */
const char *glue_vma_kind(const struct glue_vma *vma);
