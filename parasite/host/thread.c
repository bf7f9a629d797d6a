// SPDX-License-Identifier: MIT
/*
 * State only a thread can tell about itself: its alternate signal stack and
 * its parent-death signal are per thread in the kernel, and no /proc file or
 * ptrace request reports them.  The blob answers for the leader; for every
 * other thread, two system calls run in that thread, one after the other.
 *
 * Where a call's stack is: the top of the blob's stack area, which is free
 * while the leader is parked between blob commands:
 *
 *   blob_stack_top ─► +--------------------------+
 *                     | results (OUT_SIZE)       |  stack_t of sigaltstack(NULL, .),
 *                     +--------------------------+  the int of PR_GET_PDEATHSIG
 *                     | fpstate (xsave), 64-al.  |  the thread's safety frame
 *                     | ucontext, siginfo        |  (sigframe.c): its own
 *         frame_sp ─► | [restorer]               |  registers and mask
 *                     +--------------------------+
 *                     | (unused)                 |
 *
 * not the thread's own stack: a Go goroutine's may have a few hundred bytes
 * below its stack pointer, a frame is kilobytes.  If ckpt dies during a call
 * the thread, detached, finishes the call and returns through the frame; a
 * thread caught on the way by the guardian gets its registers and mask back
 * from the guardian's record before the blob is unmapped (guard.c).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/stop.h"
#include "parasite/parasite.h"
#include "parasite/host/parasite-priv.h"

#define OUT_SIZE  64
#define OUT_PDSIG 32 /* after the 24-byte stack_t */

/* One read-only call in @t with its frame at @frame_sp (0: none); *rax. */
static int thread_call(struct parasite_ctl *ctl, struct parasite_thread *t, unsigned long frame_sp,
		       long nr, const unsigned long args[6], long *rax, struct ck_err **err)
{
	struct user_regs_struct regs;
	bool timed_out = false;

	call_regs(ctl, t, frame_sp, nr, args, &regs);
	if (frame_sp)
		guard_note_thread(ctl->pid, t->tid, ctl->blob_addr, ctl->blob_addr + ctl->blob_len,
				  &t->regs, t->sigmask);
	if (call_arm(ctl, t, &regs, err) < 0) {
		guard_thread_back();
		return -1;
	}
	if (parasite_fault_hook)
		parasite_fault_hook("thread-call-armed");
	if (call_finish(ctl, t, nr, rax, &timed_out, err) < 0)
		return -1; /* the record stays: the guardian checks where the thread is */
	guard_thread_back();
	if (parasite_fault_hook)
		parasite_fault_hook("thread-call-parked");
	if (timed_out && ck_stop_sig)
		return ck_stop_check(err);
	if (timed_out)
		return ck_err_set(err, ETIMEDOUT,
				  "system call %ld in thread %d did not finish within %u ms", nr,
				  t->tid, ctl->timeout_ms);
	return 0;
}

/* see parasite.h */
int parasite_thread_state(struct parasite_ctl *ctl, size_t idx, struct parasite_thread_state *out,
			  struct ck_err **err)
{
	_cleanup_free_ struct map_ent *tm = NULL;
	struct parasite_thread *t;
	unsigned long out_addr, sp, args[6] = { 0 };
	uint8_t buf[OUT_SIZE];
	size_t tn = 0;
	long rax;

	memset(out, 0, sizeof(*out));
	if (!ctl->seized || ctl->dead)
		return ck_err_set(err, ESRCH, "process %d is not seized", ctl->pid);
	if (idx == 0 || idx >= ctl->nr_threads)
		return ck_err_set(err, EINVAL, "process %d: no thread %zu to read (of %zu)",
				  ctl->pid, idx, ctl->nr_threads);
	if (!ctl->blob_addr)
		return ck_err_set(
			err, EINVAL,
			"process %d is not infected: a thread's call needs the blob's stack",
			ctl->pid);
	t = &ctl->threads[idx];
	out_addr = ctl->blob_stack_top - OUT_SIZE;
	if (leader_prepare(ctl, err) < 0 || read_maps(ctl->pid, &tm, &tn, err) < 0 ||
	    thread_frame(ctl, t, out_addr, tm, tn, &sp, err) < 0)
		goto fail;
	args[1] = out_addr; /* sigaltstack(NULL, &old) */
	if (thread_call(ctl, t, sp, SYS_sigaltstack, args, &rax, err) < 0)
		goto fail;
	if (rax < 0) {
		ck_err_set(err, (int)-rax, "sigaltstack");
		goto fail;
	}
	args[0] = PR_GET_PDEATHSIG;
	args[1] = out_addr + OUT_PDSIG;
	if (thread_call(ctl, t, sp, SYS_prctl, args, &rax, err) < 0)
		goto fail;
	if (rax < 0) {
		ck_err_set(err, (int)-rax, "PR_GET_PDEATHSIG");
		goto fail;
	}
	if (parasite_read(ctl, out_addr, buf, sizeof(buf), err) < 0)
		goto fail;
	memcpy(&out->sas_sp, buf, 8);
	memcpy(&out->sas_flags, buf + 8, 4);
	memcpy(&out->sas_size, buf + 16, 8);
	memcpy(&out->pdeath_sig, buf + OUT_PDSIG, 4);
	return 0;
fail:
	return ck_err_wrap(err, "the state of thread %d of process %d", t ? t->tid : 0, ctl->pid);
}
