// SPDX-License-Identifier: MIT
/*
 * A seized thread's rseq registration (glibc >= 2.35 registers one per
 * thread), read when the thread is saved, before any code runs in it:
 *
 *   PTRACE_GET_RSEQ_CONFIGURATION(tid)   the area, its size, the signature
 *   struct rseq at the area (read)       +8 rseq_cs: the critical section
 *                                        the thread is in, or 0; +16 flags
 *   struct rseq_cs at rseq_cs            version, flags, start_ip,
 *                                        post_commit_offset, abort_ip
 *
 * Why before: the first return to user mode (our first remote call) makes
 * the kernel look at rseq_cs against the IP of our code, which is outside
 * the section, and clear it.  A thread seized inside a section would then
 * go on inside it after release as if it had never been preempted, which is
 * what rseq exists to prevent.  So a thread stopped inside a section is moved
 * to its abort handler now, as the kernel itself would do on the way back to
 * user mode (CRIU does the same), unless the section asks not to be
 * restarted (RSEQ_CS_FLAG_NO_RESTART_ON_SIGNAL): then rseq_cs is kept for the
 * image.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ptrace.h>

#include "common/err.h"
#include "common/log.h"
#include "parasite/parasite.h"
#include "parasite/host/parasite-priv.h"

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif

/* <linux/ptrace.h>'s struct ptrace_rseq_configuration (that header clashes with <sys/ptrace.h>) */
struct rseq_conf {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};

enum {
	RSEQ_AREA_CS = 8,     /* offsetof(struct rseq, rseq_cs) */
	RSEQ_AREA_FLAGS = 16, /* offsetof(struct rseq, flags) */
	RSEQ_NO_RESTART_ON_SIGNAL = 1u << 1,
};

struct rseq_cs_desc {
	uint32_t version, flags;
	uint64_t start_ip, post_commit_offset, abort_ip;
};

/* see parasite-priv.h */
int seize_rseq(struct parasite_ctl *ctl, struct parasite_thread *t, struct ck_err **err)
{
	struct rseq_conf c = { 0 };
	struct rseq_cs_desc cs;
	uint64_t cs_ptr = 0, area_flags = 0;
	long n;

	memset(&t->rseq, 0, sizeof(t->rseq));
	n = ptrace(PTRACE_GET_RSEQ_CONFIGURATION, t->tid, (void *)sizeof(c), &c);
	if (n < 0 && errno == EIO)
		return 0; /* before Linux 5.13: no way to see a registration */
	if (n < 0)
		return ck_err_set(err, errno, "PTRACE_GET_RSEQ_CONFIGURATION of thread %d", t->tid);
	if (!c.rseq_abi_pointer)
		return 0;
	t->rseq.ptr = c.rseq_abi_pointer;
	t->rseq.size = c.rseq_abi_size;
	t->rseq.sig = c.signature;
	if (parasite_read(ctl, c.rseq_abi_pointer + RSEQ_AREA_CS, &cs_ptr, sizeof(cs_ptr), err) <
		    0 ||
	    parasite_read(ctl, c.rseq_abi_pointer + RSEQ_AREA_FLAGS, &area_flags, 4, err) < 0)
		return ck_err_wrap(err, "rseq area of thread %d", t->tid);
	if (!cs_ptr)
		return 0;
	if (parasite_read(ctl, cs_ptr, &cs, sizeof(cs), err) < 0)
		return ck_err_wrap(err, "rseq critical section of thread %d", t->tid);
	if (cs.version != 0)
		return ck_err_set(err, EINVAL,
				  "thread %d: rseq critical section at %#llx of version %u", t->tid,
				  (unsigned long long)cs_ptr, cs.version);
	if ((cs.flags | (uint32_t)area_flags) & RSEQ_NO_RESTART_ON_SIGNAL) {
		t->rseq.cs_ptr = cs_ptr;
		return 0;
	}
	if (t->regs.rip >= cs.start_ip && t->regs.rip - cs.start_ip < cs.post_commit_offset) {
		pr_info("parasite: thread %d is inside an rseq critical section (ip %#llx): moved to its abort handler %#llx",
			t->tid, t->regs.rip, (unsigned long long)cs.abort_ip);
		t->regs.rip = cs.abort_ip;
		return ptr_setregs(t->tid, &t->regs, err);
	}
	return 0;
}

/* see parasite.h */
void parasite_thread_rseq(const struct parasite_ctl *ctl, size_t idx, struct parasite_rseq *out)
{
	memset(out, 0, sizeof(*out));
	if (idx < ctl->nr_threads)
		*out = ctl->threads[idx].rseq;
}
