/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Private state of the injector, shared by seize.c (stop / detach),
 * syscall.c (remote syscalls, memory) and infect.c (the blob).
 *
 * Invariant between API calls: the leader sits in a stop taken inside the
 * kernel's get_signal() (the seize's interrupt or group-stop trap, a trap we
 * re-armed after a remote syscall, or the SIGTRAP stop that ends the blob), with
 * its saved registers in place.  Detaching from such a stop lets the kernel
 * finish an interrupted syscall exactly as it would after any signal-less
 * wake-up, so the task never sees a raw -ERESTART* value.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "common/err.h"
#include "parasite/parasite.h"

#if !defined(__x86_64__)
#error "parasite: only x86_64 is implemented"
#endif

struct parasite_thread {
	pid_t tid;
	bool waited;        /* its seize stop has been collected */
	bool group_stopped; /* seized in group-stop */
	struct user_regs_struct regs;
	uint64_t sigmask;
	void *xsave; /* NT_X86_XSTATE, NULL until read */
	size_t xsave_len;
	struct parasite_rseq rseq; /* its rseq registration, read when saved (rseq.c) */
};

struct parasite_map {
	unsigned long addr;
	size_t len;
};

struct parasite_ctl {
	pid_t pid;
	unsigned int flags;
	unsigned int timeout_ms;
	bool seized;
	bool dead; /* the leader exited or was killed while seized */
	bool was_stopped;
	int seccomp_mode;
	bool seccomp_suspended;
	uint64_t sigign;    /* SigIgn of the process at seize time */
	uint64_t resend;    /* signals sent to the leader while we ran code: re-sent on release */
	siginfo_t held[64]; /* their siginfo, by signal number - 1 (parasite_held_signals()) */

	struct parasite_thread *threads; /* threads[0] is the leader */
	size_t nr_threads;

	/* Leader prepared for injection: sigmask blocked, syscall_ip known. */
	bool prepared;
	bool fpu_dirty; /* blob ran: restore xsave on release */
	unsigned long syscall_ip;
	bool syscall_poked;     /* syscall_ip is in the first exec mapping, poked per call */
	bool syscall_safe;      /* syscall_ip is followed by nothing but `xor`s and `ret` */
	unsigned long frame_sp; /* the safety signal frame on the leader's stack (0: none) */
	bool frame_stale;       /* the leader's saved context changed: rebuild the frame */
	uint64_t poke_saved;    /* original word at syscall_ip while poked */

	struct parasite_map *maps; /* parasite_mmap() areas still mapped */
	size_t nr_maps;

	/* blob map, see infect.c for the layout */
	unsigned long blob_addr;
	size_t blob_len;
	unsigned long blob_args;
	unsigned long blob_stack_top;

	int mem_fd; /* /proc/PID/mem, opened on first fallback use */
};

/* guard.c: the leftover guardian's records (written before the remote call) */
int guard_note_map(pid_t pid, unsigned long addr, unsigned long len, struct ck_err **err);
int guard_note_fd(pid_t pid, int fd, struct ck_err **err);
void guard_forget(pid_t pid, bool map, unsigned long addr_or_fd);
/*
 * The registers about to start the call that creates the recorded mapping
 * (@map, at @addr_or_fd) or fd: syscall @nr at @ip with rsp @sp (the safety
 * frame).  A guardian that finds the leader stopped at exactly these never
 * lets the call run (guard.c).
 */
void guard_note_call(pid_t pid, bool map, unsigned long addr_or_fd, long nr, unsigned long ip,
		     unsigned long sp);

/*
 * The blob at @addr (a recorded mapping) is about to run: if ckpt dies, the
 * leader's way home from inside it is rip @exit_ip (the vDSO gadget after its
 * `syscall`), rsp @exit_sp (the safety frame).  A guardian that finds the
 * leader in the blob sends it there (guard.c).
 */
void guard_note_blob(pid_t pid, unsigned long addr, unsigned long exit_ip, unsigned long exit_sp);

/*
 * Thread @tid of @pid is about to run a call whose stack (the safety frame)
 * is inside [@lo, @hi) (the blob); its own registers and mask are @regs and
 * @mask.  A guardian that finds it with rsp still in that range puts them
 * back before it unmaps the blob.  guard_thread_back() once it is parked.
 */
void guard_note_thread(pid_t pid, pid_t tid, unsigned long lo, unsigned long hi,
		       const struct user_regs_struct *regs, uint64_t mask);
void guard_thread_back(void);

#define PARASITE_DEFAULT_TIMEOUT_MS 10000u

#define SIGBIT(s) (1ULL << ((s)-1))
/* Synchronous signals stay unblocked while we run code: a fault our code causes
 * must reach us as a signal stop, not make the kernel reset the handler. */
#define SYNC_SIGNALS                                                                           \
	(SIGBIT(SIGSEGV) | SIGBIT(SIGBUS) | SIGBIT(SIGILL) | SIGBIT(SIGFPE) | SIGBIT(SIGSYS) | \
	 SIGBIT(SIGTRAP))
/* The leader's signal mask while it runs our call or the blob. */
#define INJECT_SIGMASK (~0ULL & ~SYNC_SIGNALS)

/*
 * Read @t's rseq registration into t->rseq and, when it is stopped inside a
 * critical section that may be restarted, move its saved and live IP to the
 * section's abort handler (rseq.c).  Called before any code runs in @t.
 */
int seize_rseq(struct parasite_ctl *ctl, struct parasite_thread *t, struct ck_err **err);

/* ptrace(2) wrappers that set *err with context (seize.c). */
int ptr_getregs(pid_t tid, struct user_regs_struct *regs, struct ck_err **err);
int ptr_setregs(pid_t tid, const struct user_regs_struct *regs, struct ck_err **err);
int ptr_getsigmask(pid_t tid, uint64_t *mask, struct ck_err **err);
int ptr_setsigmask(pid_t tid, uint64_t mask, struct ck_err **err);
int ptr_get_xsave(struct parasite_thread *t, struct ck_err **err);
int ptr_set_xsave(const struct parasite_thread *t, struct ck_err **err);

/*
 * Outcome of running the leader until it stops for us (syscall.c).
 */
enum leader_stop {
	LEADER_STOP_SYSCALL, /* syscall-entry or -exit stop */
	LEADER_STOP_TRAP,    /* PTRACE_EVENT_STOP (interrupt or group-stop trap) */
	LEADER_STOP_SIGTRAP, /* signal-delivery-stop of SIGTRAP (a fault of our code) */
};

/*
 * Resume the leader with @request (PTRACE_SYSCALL or PTRACE_CONT) and wait
 * until it reaches one of the stops above.  Stop signals arriving meanwhile are
 * let through (the task enters group-stop and stays stopped after detach); any
 * other signal stop is a failure ("unexpected signal").  With @timeout set,
 * the leader is interrupted after ctl->timeout_ms and *timed_out is set.
 * The leader's death sets ctl->dead and fails with ESRCH.
 */
int leader_run(struct parasite_ctl *ctl, int request, bool timeout, bool *timed_out,
	       enum leader_stop *stop, struct ck_err **err);

/*
 * leader_run(PTRACE_CONT) for the blob (infect.c): @done is polled (short
 * sleeps) while the leader runs; once it returns true the leader is
 * interrupted and the call ends at that trap (LEADER_STOP_TRAP).  After
 * @timeout_ms (> 0) it is interrupted the same way with *timed_out set.
 */
int leader_run_until(struct parasite_ctl *ctl, bool (*done)(struct parasite_ctl *),
		     unsigned int timeout_ms, bool *timed_out, enum leader_stop *stop,
		     struct ck_err **err);

/* Put the saved registers back and re-enter a get_signal() stop (syscall.c). */
int leader_park(struct parasite_ctl *ctl, struct ck_err **err);

/* leader_run() and leader_park() for any seized thread @t (thread.c's calls). */
int thread_run(struct parasite_ctl *ctl, const struct parasite_thread *t, int request, bool timeout,
	       bool *timed_out, enum leader_stop *stop, struct ck_err **err);
int thread_park(struct parasite_ctl *ctl, const struct parasite_thread *t, struct ck_err **err);

/*
 * Remote system calls in thread @t (syscall.c), in steps:
 *   call_regs()    @t's saved registers pointed at the gadget for @nr(@args),
 *                  rsp = @frame_sp when non-zero (the `ret` after the call
 *                  pops the safety frame's restorer)
 *   call_arm()     those registers and the injection mask set (the order a
 *                  detached thread survives), the syscall poked if need be
 *   call_step()    stepped to the syscall-exit stop, *rax read; with
 *                  @timeout interrupted after ctl->timeout_ms (*timed_out).
 *                  Another call may follow: its registers set at this stop
 *   call_end()     the code unpoked and @t parked with its own registers
 * A death of the process during a step sets ctl->dead (no call_end then).
 */
void call_regs(const struct parasite_ctl *ctl, const struct parasite_thread *t,
	       unsigned long frame_sp, long nr, const unsigned long args[6],
	       struct user_regs_struct *regs);
int call_arm(struct parasite_ctl *ctl, const struct parasite_thread *t,
	     const struct user_regs_struct *regs, struct ck_err **err);
int call_step(struct parasite_ctl *ctl, const struct parasite_thread *t, long nr, bool timeout,
	      long *rax, bool *timed_out, struct ck_err **err);
int call_end(struct parasite_ctl *ctl, const struct parasite_thread *t, struct ck_err **err);

/* First injection: block signals, find syscall_ip. */
int leader_prepare(struct parasite_ctl *ctl, struct ck_err **err);

/* One line of /proc/PID/maps (name: its start only, enough for "[vdso]"). */
struct map_ent {
	unsigned long start, end, off, ino;
	unsigned int dev_major, dev_minor;
	char perms[5];
	char name[24];
};

/* /proc/PID/maps as an array, malloc'ed (gadget.c).  0 or -1. */
int read_maps(pid_t pid, struct map_ent **out, size_t *nr, struct ck_err **err);

/* Set ctl->syscall_ip / syscall_safe to the vDSO gadget of @tm; false: none (gadget.c). */
bool find_vdso_syscall(struct parasite_ctl *ctl, const struct map_ent *tm, size_t tn);

/* A restorer (`mov $15,%eax; syscall`) in the task's code, checked there; 0: none. */
unsigned long find_restorer(struct parasite_ctl *ctl, const struct map_ent *tm, size_t tn);

/*
 * Write the safety signal frame below the leader's red zone (sigframe.c): if
 * ckpt dies during an injected call, the leader's continuation is an
 * rt_sigreturn to its original state.  @tm: the task's maps.  Sets
 * ctl->frame_sp, or leaves it 0 (logged) when the target lacks what it needs;
 * fails only on ptrace errors.
 */
int frame_prepare(struct parasite_ctl *ctl, const struct map_ent *tm, size_t tn,
		  struct ck_err **err);

/*
 * A safety frame for non-leader thread @t in the blob's stack area, below
 * @top (sigframe.c): the thread's own stack may have no room to spare (a Go
 * goroutine's), the blob's is ckpt's.  *sp = the frame, 0 (logged) when the
 * task lacks what a frame needs; fails only on ptrace errors.
 */
int thread_frame(struct parasite_ctl *ctl, struct parasite_thread *t, unsigned long top,
		 const struct map_ent *tm, size_t tn, unsigned long *sp, struct ck_err **err);

/* Poked mode: write "syscall; int3..." at syscall_ip, and put it back (syscall.c). */
int poke_syscall(struct parasite_ctl *ctl, struct ck_err **err);
int unpoke_syscall(struct parasite_ctl *ctl, struct ck_err **err);

/* Unmap every tracked mapping; continues past errors (syscall.c). */
int unmap_all(struct parasite_ctl *ctl, struct ck_err **err);

/* Describe a wait status of the leader's end ("exited with status 3"). */
void describe_exit(int status, char *buf, size_t len);
