// SPDX-License-Identifier: MIT
/*
 * State only a thread can tell about itself: its alternate signal stack, its
 * parent-death signal and its clear_child_tid address are per thread in the
 * kernel, and no /proc file or ptrace request reports them.  The blob answers
 * for the leader; for every other thread, three system calls run in that
 * thread, one after the other.
 *
 * Where a call's stack is: the top of the blob's stack area, which is free
 * while the leader is parked between blob commands:
 *
 *   blob_stack_top ─► +--------------------------+
 *                     | results (OUT_SIZE)       |  stack_t of sigaltstack(NULL, .),
 *                     +--------------------------+  the int of PR_GET_PDEATHSIG, the
 *                     |                          |  pointer of PR_GET_TID_ADDRESS
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
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/stop.h"
#include "parasite/parasite.h"
#include "parasite/host/parasite-priv.h"

#define OUT_SIZE  64
#define OUT_PDSIG 32 /* after the 24-byte stack_t */
#define OUT_TIDA  40

/* The three calls, run back to back: each next one set up at the last's exit stop. */
enum { CALL_SAS, CALL_PDSIG, CALL_TIDA, NR_CALLS };

static void call_args(int i, unsigned long out_addr, long *nr, unsigned long args[6])
{
	memset(args, 0, 6 * sizeof(args[0]));
	switch (i) {
	case CALL_SAS:
		*nr = SYS_sigaltstack; /* sigaltstack(NULL, &old) */
		args[1] = out_addr;
		break;
	case CALL_PDSIG:
		*nr = SYS_prctl;
		args[0] = PR_GET_PDEATHSIG;
		args[1] = out_addr + OUT_PDSIG;
		break;
	default:
		*nr = SYS_prctl;
		args[0] = PR_GET_TID_ADDRESS;
		args[1] = out_addr + OUT_TIDA;
		break;
	}
}

/*
 * The calls in @t with its frame at @frame_sp (0: none), parked once at the
 * end; rax[i] each result.  Each call only reads and none blocks: no
 * timeout, a plain wait (SIGTERM & co. still interrupt it).
 */
static int thread_calls(struct parasite_ctl *ctl, struct parasite_thread *t, unsigned long frame_sp,
			unsigned long out_addr, long rax[NR_CALLS], struct ck_err **err)
{
	struct user_regs_struct regs;
	unsigned long args[6];
	bool timed_out = false;
	long nr;
	int rc = 0;

	call_args(0, out_addr, &nr, args);
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
	for (int i = 0; i < NR_CALLS && rc == 0 && !timed_out; i++) {
		if (i) {
			call_args(i, out_addr, &nr, args);
			call_regs(ctl, t, frame_sp, nr, args, &regs);
			rc = ptr_setregs(t->tid, &regs, err);
		}
		if (rc == 0)
			rc = call_step(ctl, t, nr, false, &rax[i], &timed_out, err);
		if (ctl->dead)
			return -1;
	}
	if (call_end(ctl, t, err) < 0)
		return -1; /* the record stays: the guardian checks where the thread is */
	guard_thread_back();
	if (parasite_fault_hook)
		parasite_fault_hook("thread-call-parked");
	if (rc == 0 && timed_out)
		return ck_stop_check(err); /* only SIGTERM & co. cut a call short */
	return rc;
}

#ifndef PTRACE_O_SUSPEND_SECCOMP
#define PTRACE_O_SUSPEND_SECCOMP (1 << 21)
#endif

/* "Seccomp:" of thread @tid of @pid (0 none, 1 strict, 2 filter); -1 unknown. */
static int thread_seccomp(pid_t pid, pid_t tid)
{
	_cleanup_fclose_ FILE *f = NULL;
	char path[96], line[256];
	int mode = -1;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	return mode;
}

/*
 * A thread under seccomp runs our calls with its filter suspended, as the
 * leader does (the option is per tracee; the detach clears it): a filter
 * that kills on prctl() would kill the whole process.  Without
 * CAP_SYS_ADMIN nothing runs in it.
 */
static int suspend_seccomp(struct parasite_ctl *ctl, const struct parasite_thread *t,
			   struct ck_err **err)
{
	int mode = thread_seccomp(ctl->pid, t->tid);

	if (mode == 0)
		return 0;
	if (ptrace(PTRACE_SETOPTIONS, t->tid, NULL,
		   (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_SUSPEND_SECCOMP)) == 0)
		return 0;
	return ck_err_set(
		err, errno,
		"thread %d has a seccomp %s (Seccomp: %d) that ckpt cannot suspend (it needs CAP_SYS_ADMIN); a call could kill the process, so none was run in it",
		t->tid, mode == 1 ? "strict mode" : "filter", mode);
}

/* One thread's calls and their results read back. */
static int thread_state(struct parasite_ctl *ctl, struct parasite_thread *t,
			const struct map_ent *tm, size_t tn, struct parasite_thread_state *out,
			struct ck_err **err)
{
	static const char *const what[NR_CALLS] = { "sigaltstack", "PR_GET_PDEATHSIG",
						    "PR_GET_TID_ADDRESS" };
	unsigned long out_addr = ctl->blob_stack_top - OUT_SIZE, sp;
	long rax[NR_CALLS] = { 0 };
	uint8_t buf[OUT_SIZE];

	if (suspend_seccomp(ctl, t, err) < 0 ||
	    thread_frame(ctl, t, out_addr, tm, tn, &sp, err) < 0 ||
	    thread_calls(ctl, t, sp, out_addr, rax, err) < 0)
		return -1;
	/* PR_GET_TID_ADDRESS needs CONFIG_CHECKPOINT_RESTORE: its error is a value */
	for (int i = 0; i < CALL_TIDA; i++)
		if (rax[i] < 0)
			return ck_err_set(err, (int)-rax[i], "%s", what[i]);
	if (parasite_read(ctl, out_addr, buf, sizeof(buf), err) < 0)
		return -1;
	memcpy(&out->sas_sp, buf, 8);
	memcpy(&out->sas_flags, buf + 8, 4);
	memcpy(&out->sas_size, buf + 16, 8);
	memcpy(&out->pdeath_sig, buf + OUT_PDSIG, 4);
	out->tid_address_err = rax[CALL_TIDA] < 0 ? (int32_t)-rax[CALL_TIDA] : 0;
	if (!out->tid_address_err)
		memcpy(&out->clear_child_tid, buf + OUT_TIDA, 8);
	return 0;
}

/* see parasite.h */
int parasite_threads_state(struct parasite_ctl *ctl, struct parasite_thread_state *out,
			   struct ck_err **err)
{
	_cleanup_free_ struct map_ent *tm = NULL;
	size_t tn = 0;

	memset(out, 0, ctl->nr_threads * sizeof(*out));
	if (!ctl->seized || ctl->dead)
		return ck_err_set(err, ESRCH, "process %d is not seized", ctl->pid);
	if (ctl->nr_threads < 2)
		return 0;
	if (!ctl->blob_addr)
		return ck_err_set(
			err, EINVAL,
			"process %d is not infected: a thread's call needs the blob's stack",
			ctl->pid);
	/* one read of the maps: the gadget's, the restorer's and the blob's mapping */
	if (leader_prepare(ctl, err) < 0 || read_maps(ctl->pid, &tm, &tn, err) < 0)
		return -1;
	for (size_t i = 1; i < ctl->nr_threads; i++)
		if (thread_state(ctl, &ctl->threads[i], tm, tn, &out[i], err) < 0)
			return ck_err_wrap(err, "the state of thread %d of process %d",
					   ctl->threads[i].tid, ctl->pid);
	return 0;
}
