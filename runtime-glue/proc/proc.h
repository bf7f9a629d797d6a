/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"

/*
 * /proc/PID/stat, parsed once for every caller.  f[n] is field n as numbered
 * in proc(5): f[3] holds the state letter, f[4] the ppid, ..., f[22] the start
 * time; fields 1 (pid) and 2 (comm) are not stored.  comm may contain spaces
 * and parentheses, so parsing restarts after its last ')'.
 */
#define GLUE_STAT_FIELDS 53 /* f[0..52] */

/*
 * Fill f (zeroing fields the kernel does not report).  Returns the number of
 * the last field read (>= 3), or -1 with *err set (errno of the open, so a
 * vanished task gives ENOENT).
 */
int glue_proc_stat(pid_t pid, uint64_t f[GLUE_STAT_FIELDS], struct ck_err **err);

/* Like glue_proc_stat(), failing with EINVAL when field @need is missing. */
int glue_proc_stat_need(pid_t pid, uint64_t f[GLUE_STAT_FIELDS], int need, struct ck_err **err);

/*
 * Whether @pid has exited or is exiting: reaped, a zombie, or past the
 * release of its memory (do_exit() drops the mm well before the task turns
 * zombie; in between a read of its memory fails with ESRCH while its state
 * still says running, and /proc/PID/stat reports vsize 0).  Only for tasks
 * that had memory (not kernel threads).
 */
bool glue_proc_exited(pid_t pid);

/*
 * kcmp(KCMP_VM): 1 when @a and @b share one address space (CLONE_VM without
 * CLONE_THREAD: a vfork child and its parent), 0 when not, -1 when kcmp
 * cannot tell (one is gone, or not permitted).
 */
int glue_proc_same_vm(pid_t a, pid_t b);

/* Start time of @pid (clock ticks since boot, field 22): tells a reused pid apart. */
int glue_proc_starttime(pid_t pid, uint64_t *starttime, struct ck_err **err);

/*
 * The most auxv words (64-bit, in (type, value) pairs) an mm image holds:
 * CRIU's AT_VECTOR_SIZE for the architecture.  CRIU's dump keeps the first
 * that many words of /proc/PID/auxv as they are, so a longer vector loses its
 * tail, the terminating AT_NULL pair included; CRIU's restore refuses an
 * MmEntry with more ("Image corrupted").  Linux 6.3 grew x86_64's auxv to 46
 * words (AT_RSEQ_FEATURE_SIZE, AT_RSEQ_ALIGN), past CRIU's 44, so ckpt cuts
 * it where CRIU does.
 */
#if defined(__x86_64__)
#define GLUE_AUXV_WORDS 44
#else
#error "GLUE_AUXV_WORDS: CRIU's AT_VECTOR_SIZE for this architecture is not known"
#endif

/*
 * Read at most the first GLUE_AUXV_WORDS words of /proc/PID/auxv (one read)
 * into @auxv; *n is the number of words.  0, or -1 with *err set (errno of the
 * open or read) and *n 0.
 */
int glue_proc_auxv(pid_t pid, uint64_t auxv[GLUE_AUXV_WORDS], size_t *n, struct ck_err **err);
