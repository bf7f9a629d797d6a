/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * parasite: seize a process, run system calls or blob commands inside it, and
 * leave it exactly as found.  The only module that uses ptrace(2).
 *
 * Life cycle:
 *
 *	parasite_seize()            every thread stopped, state saved, no memory touched
 *	  parasite_syscall() ...    one syscall in the leader's context (any number of times)
 *	  parasite_mmap() / parasite_write() / parasite_read() / parasite_munmap()
 *	  parasite_infect()         map the blob (optional)
 *	    parasite_get_task_state() / parasite_get_sigactions() / parasite_cmd()
 *	  parasite_cure()           unmap the blob (parasite_release() does it too)
 *	parasite_release()          restore registers, FPU, sigmask; unmap leftovers; detach
 *	parasite_ctl_free()         free the handle (releases quietly if still seized)
 *
 * Errors: every function that can fail takes `struct ck_err **err` last and
 * returns -1 with *err set (common/err.h).  A failed call never leaves the target
 * modified: the registers and sigmask are restored before returning, and
 * parasite_release() is still required (and safe) afterwards.
 *
 * The handle is not thread-safe and must be used by the thread that seized
 * (ptrace ties the tracee to that thread).  x86_64 targets only for now.
 */
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "parasite/parasite-abi.h"

struct parasite_ctl;

enum parasite_seize_flags {
	/* Do not read the threads' FPU (xsave) state at seize time (it is read
	 * lazily before the blob first runs).  For freezing many tasks cheaply. */
	PARASITE_SEIZE_NO_FPU = 1u << 0,
	/* Never use a syscall instruction of the vDSO; write one into the first
	 * executable mapping instead (original bytes are restored).  For tests. */
	PARASITE_SEIZE_POKE_SYSCALL = 1u << 1,
};

/*
 * Stop every thread of process @pid with PTRACE_SEIZE + PTRACE_INTERRUPT.
 * /proc/PID/task is re-scanned until no new thread shows up.  Saves each thread's
 * registers, signal mask and (unless PARASITE_SEIZE_NO_FPU) xsave state.  Signals
 * that were already being delivered are let through; a task in group-stop
 * (SIGSTOP) is noted and stays stopped after release; blocked and pending
 * signals stay pending.  Touches no memory of the target.
 *
 * Fails with a clear message (and the target untouched) when @pid does not
 * exist (ESRCH), is a zombie, is a thread id rather than a process id
 * (EINVAL, "is a thread of process N"), or cannot be traced (EPERM: other
 * user, already traced, not dumpable).  On success *out owns the handle.
 */
int parasite_seize(pid_t pid, unsigned int flags, struct parasite_ctl **out, struct ck_err **err)
	__attribute__((warn_unused_result));

/*
 * parasite_seize() in two steps, for a process whose threads cannot take the
 * trap yet (frozen by a cgroup v1 freezer: a frozen thread enters the ptrace
 * stop only once thawed, and must not run before it is in it):
 *
 *	parasite_seize_start()   PTRACE_SEIZE + PTRACE_INTERRUPT every thread, no wait
 *	(the caller thaws)       the pending trap is taken before any user code runs
 *	parasite_seize_finish()  wait for every trap, save the state, catch new threads
 *
 * After a failed finish the handle is still to be freed (parasite_ctl_free()
 * detaches).  parasite_seize() is start + finish.
 */
int parasite_seize_start(pid_t pid, unsigned int flags, struct parasite_ctl **out,
			 struct ck_err **err) __attribute__((warn_unused_result));
int parasite_seize_finish(struct parasite_ctl *ctl, struct ck_err **err)
	__attribute__((warn_unused_result));

/*
 * Undo everything and detach: unmap the blob and any scratch mapping still
 * mapped, restore the leader's registers, FPU state and signal mask, and detach
 * every thread.  A syscall that was interrupted by the seize restarts
 * transparently (the kernel's own restart logic runs on detach).  The handle
 * stays valid for parasite_ctl_free() only.  Detaching continues past errors;
 * the first error is returned.
 */
int parasite_release(struct parasite_ctl *ctl, struct ck_err **err)
	__attribute__((warn_unused_result));

/* parasite_release() for error paths: best effort, errors only logged (debug). */
void parasite_release_quiet(struct parasite_ctl *ctl);

/* Free the handle; releases quietly first if still seized.  NULL is fine. */
void parasite_ctl_free(struct parasite_ctl *ctl);

static inline void parasite_ctl_freep(struct parasite_ctl **ctl)
{
	parasite_ctl_free(*ctl);
	*ctl = NULL;
}
#define _cleanup_parasite_ctl_ __attribute__((cleanup(parasite_ctl_freep)))

/* The seized process id, its number of seized threads and their tids. */
pid_t parasite_pid(const struct parasite_ctl *ctl);
size_t parasite_nr_threads(const struct parasite_ctl *ctl);
pid_t parasite_thread_tid(const struct parasite_ctl *ctl, size_t idx);

/* True when the process was in group-stop (SIGSTOP etc.) when seized. */
bool parasite_was_stopped(const struct parasite_ctl *ctl);

/*
 * Seccomp state of the target: `Seccomp:` of /proc/PID/status (0 none,
 * 1 strict, 2 filter), and whether the filter is suspended for our syscalls
 * (PTRACE_O_SUSPEND_SECCOMP, root only).  When a filter is active and not
 * suspended, injected syscalls go through it and may be refused (or worse,
 * for RET_KILL filters).
 */
int parasite_seccomp_mode(const struct parasite_ctl *ctl);
bool parasite_seccomp_suspended(const struct parasite_ctl *ctl);

/* One classic-BPF filter of a thread's seccomp chain. */
struct parasite_seccomp_filter {
	void *insns;        /* struct sock_filter[len / 8], malloc'ed */
	size_t len;         /* bytes */
	unsigned int flags; /* SECCOMP_FILTER_FLAG_* it was installed with (0: unknown) */
};

/*
 * The seccomp filter chain of seized thread @idx (0 = leader), the filter
 * installed first at (*out)[0] (PTRACE_SECCOMP_GET_FILTER / _GET_METADATA).
 * *nr is 0 for a thread without filters.  Fails with EACCES when ckpt lacks
 * CAP_SYS_ADMIN.  Free with parasite_seccomp_filters_free().
 */
int parasite_seccomp_filters(struct parasite_ctl *ctl, size_t idx,
			     struct parasite_seccomp_filter **out, size_t *nr, struct ck_err **err)
	__attribute__((warn_unused_result));
void parasite_seccomp_filters_free(struct parasite_seccomp_filter *f, size_t nr);

/*
 * The signals queued for seized thread @idx (0 = leader): its private queue,
 * or with @shared the process's shared one, oldest first, as the kernel would
 * deliver them (PTRACE_PEEKSIGINFO; they stay queued).  *out is malloc'ed
 * (NULL when *nr is 0).
 */
int parasite_peek_signals(struct parasite_ctl *ctl, size_t idx, bool shared, siginfo_t **out,
			  size_t *nr, struct ck_err **err) __attribute__((warn_unused_result));

/*
 * Signals sent to the leader while ckpt ran code in it and held back (taken
 * off the queue; parasite_release() sends each again): their siginfo, at most
 * @max into @out.  Returns how many.
 */
size_t parasite_held_signals(const struct parasite_ctl *ctl, siginfo_t *out, size_t max);

/*
 * A thread's rseq registration, as read when it was seized (rseq.c): @ptr 0
 * when it has none.  @cs_ptr is the critical section it was in, kept only
 * when that section asks not to be restarted; otherwise a thread seized
 * inside one was moved to its abort handler, as the kernel would do.
 */
struct parasite_rseq {
	uint64_t ptr;
	uint32_t size, sig;
	uint64_t cs_ptr;
};
void parasite_thread_rseq(const struct parasite_ctl *ctl, size_t idx, struct parasite_rseq *out);

/*
 * Look for the code an injection into @pid will run through (the vDSO
 * gadget, a restorer in its binary) while it still runs, so that the frozen
 * injection finds them in the cache and only checks them (gadget.c).  Reads
 * the running task's code, never stops or touches it; failing is harmless
 * (the injection searches again).  Per ckpt thread, like the cache.
 */
void parasite_warm_gadgets(pid_t pid);

/* The target's audit architecture (AUDIT_ARCH_X86_64), for libseccomp. */
unsigned int parasite_audit_arch(const struct parasite_ctl *ctl);

/*
 * Timeout for a single remote syscall or blob command, in milliseconds
 * (default 10000; 0 = wait forever).  A call still running after it is
 * interrupted (PTRACE_INTERRUPT) and fails with ETIMEDOUT; the target keeps
 * running unharmed.
 */
void parasite_set_timeout(struct parasite_ctl *ctl, unsigned int timeout_ms);

/*
 * Tests (CK_FAULT, runtime-glue/fault.h): called with "remote-call-armed", then
 * "remote-call-armed-NR" (NR: the syscall number), once the leader's
 * registers and signal mask are set for a remote call that has not run yet,
 * the window the leftover guardian closes by skipping the call.
 * NULL (default): nothing.  Never called in the guardian.
 */
extern void (*parasite_fault_hook)(const char *point);

/*
 * Run system call @nr with @args (missing args must be 0) in the leader's
 * context and store its raw return value (-4095..-1 is -errno) in *ret.  Uses a
 * `syscall` instruction of the target's vDSO, or a poked one (original bytes
 * restored before returning).  All signals are blocked while it runs, so
 * nothing is delivered; SIGKILL still kills.  Fails (returning -1) only when the
 * syscall could not be run or did not finish: the target exited or was killed
 * (ESRCH, "exited during the system call"), the timeout expired (ETIMEDOUT),
 * or ptrace failed.  A return value of -1..-4095 is not a failure of this call.
 */
int parasite_syscall(struct parasite_ctl *ctl, long nr, const unsigned long args[6], long *ret,
		     struct ck_err **err) __attribute__((warn_unused_result));

/*
 * Remote anonymous private mapping of @len bytes (rounded up to pages) with
 * @prot (PROT_*), at an address chosen by the kernel.  Tracked by the handle:
 * parasite_release() unmaps whatever is still mapped.
 */
int parasite_mmap(struct parasite_ctl *ctl, size_t len, int prot, unsigned long *addr,
		  struct ck_err **err) __attribute__((warn_unused_result));
/* Unmap a mapping made by parasite_mmap() (exact address). */
int parasite_munmap(struct parasite_ctl *ctl, unsigned long addr, struct ck_err **err)
	__attribute__((warn_unused_result));

/*
 * Copy to / from the target's memory (process_vm_writev/readv, falling back to
 * /proc/PID/mem, so read-only pages can be written too).  Works unprivileged.
 */
int parasite_write(struct parasite_ctl *ctl, unsigned long raddr, const void *buf, size_t len,
		   struct ck_err **err) __attribute__((warn_unused_result));
int parasite_read(struct parasite_ctl *ctl, unsigned long raddr, void *buf, size_t len,
		  struct ck_err **err) __attribute__((warn_unused_result));

/*
 * Duplicate the target's file descriptor @rfd into the caller (pidfd_open +
 * pidfd_getfd; the new fd is O_CLOEXEC).  Typical use: create an fd in the
 * target with parasite_syscall() (userfaultfd), take it with this, then close
 * the target's copy with parasite_syscall(__NR_close).  The process must stay
 * seized (it is, between seize and release).
 */
int parasite_steal_fd(struct parasite_ctl *ctl, int rfd, int *lfd, struct ck_err **err)
	__attribute__((warn_unused_result));

/*
 * Map the blob into the target: code read+exec, then data, the args area and
 * the blob's stack read+write (no W+X); no command runs yet.  Fails if the target ignores SIGTRAP
 * (the blob ends with int3, and the kernel would reset that disposition).
 */
int parasite_infect(struct parasite_ctl *ctl, struct ck_err **err)
	__attribute__((warn_unused_result));
/* Unmap the blob; the registers, FPU state and sigmask are already restored. */
int parasite_cure(struct parasite_ctl *ctl, struct ck_err **err)
	__attribute__((warn_unused_result));
bool parasite_infected(const struct parasite_ctl *ctl);

/*
 * Run blob command @cmd in the leader: @payload (@size bytes, <= the space left
 * in the args area) is copied in, the command runs, and the same bytes are copied
 * back.  *blob_ret gets the blob's result (0 or -errno; PING: the ABI version).
 */
int parasite_cmd(struct parasite_ctl *ctl, enum parasite_cmd cmd, void *payload, size_t size,
		 long *blob_ret, struct ck_err **err) __attribute__((warn_unused_result));

/* PARASITE_CMD_GET_SIGACTIONS: the 64 signal dispositions and the tid address. */
int parasite_get_sigactions(struct parasite_ctl *ctl, struct parasite_sigactions_args *out,
			    struct ck_err **err) __attribute__((warn_unused_result));

/* What a non-leader thread tells about itself (parasite_thread_state()). */
struct parasite_thread_state {
	uint64_t sas_sp, sas_size; /* sigaltstack(NULL, &old) */
	int32_t sas_flags;
	int32_t pdeath_sig;       /* PR_GET_PDEATHSIG */
	uint64_t clear_child_tid; /* PR_GET_TID_ADDRESS, unless tid_address_err */
	int32_t tid_address_err;  /* its errno (EINVAL: no CONFIG_CHECKPOINT_RESTORE) */
};

/*
 * The alternate signal stack, parent-death signal and clear_child_tid of
 * every seized thread but the leader (whose come with
 * parasite_get_task_state()), into @out[1 .. parasite_nr_threads() - 1]:
 * three system calls run in each thread, on the blob's stack, so the process
 * must be infected (thread.c).  Killed at any moment, ckpt leaves every
 * thread as it was.
 */
int parasite_threads_state(struct parasite_ctl *ctl, struct parasite_thread_state *out,
			   struct ck_err **err) __attribute__((warn_unused_result));

/*
 * PARASITE_CMD_GET_TASK_STATE: the sigactions plus the itimers, sigaltstack,
 * brk and prctl values, read by the leader itself in one blob call.  Fails only
 * when the command could not run; each value's own error is in *out.
 */
int parasite_get_task_state(struct parasite_ctl *ctl, struct parasite_task_state_args *out,
			    struct ck_err **err) __attribute__((warn_unused_result));
