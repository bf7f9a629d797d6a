// SPDX-License-Identifier: MIT
/*
 * Remote system calls and remote memory.
 *
 * A remote syscall borrows the leader: its registers are pointed at a `syscall`
 * instruction (one of the vDSO's, so no code is written; or, failing that, one
 * poked over the first executable mapping and removed again right after), it
 * is stepped with PTRACE_SYSCALL to the syscall-exit stop, the result is read,
 * and the saved registers are put back.  The leader is then sent back into a
 * get_signal() stop (PTRACE_INTERRUPT + PTRACE_CONT) so that detaching later
 * runs the kernel's own restart logic for whatever syscall the task was in.
 *
 *   seized (get_signal stop, regs R)
 *     | SETREGS(rip=syscall insn, rax=nr, args, orig_rax=-1); PTRACE_SYSCALL
 *     v
 *   syscall-entry stop ---PTRACE_SYSCALL---> syscall-exit stop: read rax
 *     | SETREGS(R); PTRACE_INTERRUPT; PTRACE_CONT
 *     v
 *   interrupt trap (get_signal stop, regs R)  == same state as after the seize
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/stop.h"
#include "common/xalloc.h"
#include "parasite/parasite.h"
#include "parasite/host/parasite-priv.h"

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * waitpid() for thread @tid (the leader, or a thread running a call of
 * thread.c), with an optional deadline (ms since boot, 0 = none)
 * and an optional @done poll (the blob's state, infect.c).  Returns 0 with
 * *status, 1 when the deadline passed (or SIGTERM & co. arrived), 2 when @done
 * said so while the leader was still running.
 */
static int wait_task(struct parasite_ctl *ctl, pid_t tid, long deadline,
		     bool (*done)(struct parasite_ctl *), int *status, struct ck_err **err)
{
	bool poll = deadline || done;
	/* the blob answers in tens of microseconds: poll it finely */
	long delay = done ? 10 : 20, cap = done ? 100 : 2000;

	for (;;) {
		pid_t r = waitpid(tid, status, __WALL | (poll ? WNOHANG : 0));

		if (r == tid)
			return 0;
		if (r < 0 && errno == EINTR && ck_stop_sig)
			return 1; /* SIGTERM & co.: interrupt the call, undo, exit */
		if (r < 0 && errno != EINTR)
			return ck_err_set(err, errno, "waitpid of thread %d of process %d", tid,
					  ctl->pid);
		if (r == 0) {
			/* SIGTERM & co.: a blob command is cut short (it has no result
			 * to lose); a remote call finishes, so its result (an fd, a
			 * mapping) reaches the caller's undo */
			if (done && ck_stop_sig)
				return 1;
			if (done && done(ctl))
				return 2;
			if (deadline && now_ms() >= deadline)
				return 1;
			sleep_us(delay);
			if (delay < cap)
				delay = delay * 2 < cap ? delay * 2 : cap;
		}
	}
}

/*
 * A thread held by us dies only with its process (a fatal signal): the
 * process is gone either way.
 */
static int task_gone(struct parasite_ctl *ctl, pid_t tid, int status, struct ck_err **err)
{
	char how[96];

	describe_exit(status, how, sizeof(how));
	ctl->dead = true;
	if (tid != ctl->pid)
		return ck_err_set(err, ESRCH, "thread %d of process %d %s", tid, ctl->pid, how);
	return ck_err_set(err, ESRCH, "process %d %s", ctl->pid, how);
}

/* leader_run() of thread @tid with a deadline (0: none) and an optional @done poll. */
static int run_until(struct parasite_ctl *ctl, pid_t tid, int request, bool timeout, long deadline,
		     bool (*done)(struct parasite_ctl *), bool *timed_out, enum leader_stop *stop,
		     struct ck_err **err)
{
	bool interrupted = false;
	int sig = 0;

	for (;;) {
		int status, event, r;

		if (ptrace(request, tid, NULL, (void *)(long)sig) < 0) {
			int e = errno, st;

			if (e == ESRCH && waitpid(tid, &st, __WALL | WNOHANG) == tid &&
			    (WIFEXITED(st) || WIFSIGNALED(st)))
				return task_gone(ctl, tid, st, err);
			return ck_err_set(err, e, "resume thread %d of process %d", tid, ctl->pid);
		}
		sig = 0;
again:
		r = wait_task(ctl, tid, deadline, done, &status, err);
		if (r < 0)
			return -1;
		if (r == 2) {
			/* Done: stop it where it waits; the next trap is ours. */
			if (parasite_fault_hook)
				parasite_fault_hook("blob-waiting");
			if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0)
				return ck_err_set(err, errno, "PTRACE_INTERRUPT of process %d",
						  ctl->pid);
			done = NULL;
			deadline = 0;
			interrupted = true;
			goto again;
		}
		if (r == 1) {
			/* Too slow: interrupt it; the call ends at its exit stop. */
			pr_debug("parasite: process %d: timeout after %u ms, interrupting",
				 ctl->pid, ctl->timeout_ms);
			if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0)
				return ck_err_set(err, errno, "PTRACE_INTERRUPT of process %d",
						  ctl->pid);
			if (timed_out)
				*timed_out = true;
			done = NULL;
			deadline = 0;
			interrupted = true;
			goto again;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return task_gone(ctl, tid, status, err);
		if (!WIFSTOPPED(status))
			goto again;
		sig = WSTOPSIG(status);
		event = status >> 16;
		if (sig == (SIGTRAP | 0x80)) {
			*stop = LEADER_STOP_SYSCALL;
			return 0;
		}
		if (event == PTRACE_EVENT_STOP) {
			if (is_stop_signal(sig))
				ctl->was_stopped = true;
			if ((request == PTRACE_CONT && !timeout) || interrupted) {
				*stop = LEADER_STOP_TRAP;
				return 0;
			}
			sig = 0; /* group-stop or a stale interrupt: go on */
			continue;
		}
		if (event)
			return ck_err_set(err, EIO, "process %d: unexpected ptrace event %d",
					  ctl->pid, event);
		if (is_stop_signal(sig)) {
			/* SIGSTOP & co. during our call: let it stop the task (it is still
			 * ours to run) so that it stays stopped after the detach. */
			continue;
		}
		{
			siginfo_t si = { 0 };
			struct user_regs_struct regs;

			if (ptrace(PTRACE_GETSIGINFO, tid, NULL, &si) < 0)
				return ck_err_set(err, errno, "PTRACE_GETSIGINFO of process %d",
						  ctl->pid);
			if (si.si_code <= 0) {
				/* Sent by someone (kill, tgkill, sigqueue) in the window
				 * where only synchronous signals are unblocked: hold it
				 * back, release sends it again. */
				pr_debug(
					"parasite: process %d: holding back signal %d sent during injection",
					ctl->pid, sig);
				ctl->resend |= 1ULL << (sig - 1);
				ctl->held[sig - 1] = si;
				sig = 0;
				continue;
			}
			if (sig == SIGTRAP) {
				*stop = LEADER_STOP_SIGTRAP;
				return 0;
			}
			if (ptrace(PTRACE_GETREGS, tid, NULL, &regs) < 0)
				regs.rip = 0;
			return ck_err_set(
				err, EFAULT,
				"process %d: unexpected signal %d (%s, code %d) at ip 0x%llx while running injected code",
				ctl->pid, sig, strsignal(sig), si.si_code, regs.rip);
		}
	}
}

/* see parasite-priv.h */
int leader_run(struct parasite_ctl *ctl, int request, bool timeout, bool *timed_out,
	       enum leader_stop *stop, struct ck_err **err)
{
	long deadline = timeout && ctl->timeout_ms ? now_ms() + ctl->timeout_ms : 0;

	return run_until(ctl, ctl->pid, request, timeout, deadline, NULL, timed_out, stop, err);
}

/* see parasite-priv.h */
int thread_run(struct parasite_ctl *ctl, const struct parasite_thread *t, int request, bool timeout,
	       bool *timed_out, enum leader_stop *stop, struct ck_err **err)
{
	long deadline = timeout && ctl->timeout_ms ? now_ms() + ctl->timeout_ms : 0;

	return run_until(ctl, t->tid, request, timeout, deadline, NULL, timed_out, stop, err);
}

/* see parasite-priv.h */
int leader_run_until(struct parasite_ctl *ctl, bool (*done)(struct parasite_ctl *),
		     unsigned int timeout_ms, bool *timed_out, enum leader_stop *stop,
		     struct ck_err **err)
{
	return run_until(ctl, ctl->pid, PTRACE_CONT, true, now_ms() + timeout_ms, done, timed_out,
			 stop, err);
}

/* see parasite-priv.h */
int leader_park(struct parasite_ctl *ctl, struct ck_err **err)
{
	return thread_park(ctl, &ctl->threads[0], err);
}

/* see parasite-priv.h */
int thread_park(struct parasite_ctl *ctl, const struct parasite_thread *leader, struct ck_err **err)
{
	enum leader_stop stop;

	/*
	 * Order matters if ckpt dies in between: the original mask first, then
	 * the interrupt (it sets TIF_SIGPENDING, so a detached leader passes
	 * through get_signal() and the kernel's restart logic), then the
	 * original registers.
	 */
	if (ptr_setsigmask(leader->tid, leader->sigmask, err) < 0)
		return -1;
	if (ptrace(PTRACE_INTERRUPT, leader->tid, NULL, NULL) < 0)
		return ck_err_set(err, errno, "PTRACE_INTERRUPT of thread %d", leader->tid);
	if (ptr_setregs(leader->tid, &leader->regs, err) < 0)
		return -1;
	if (thread_run(ctl, leader, PTRACE_CONT, false, NULL, &stop, err) < 0)
		return -1;
	if (stop != LEADER_STOP_TRAP)
		return ck_err_set(err, EIO,
				  "process %d: expected an interrupt trap, got stop kind %d",
				  ctl->pid, (int)stop);
	return 0;
}

static int find_syscall_ip(struct parasite_ctl *ctl, const struct map_ent *tm, size_t tn,
			   struct ck_err **err)
{
	if (!(ctl->flags & PARASITE_SEIZE_POKE_SYSCALL) && find_vdso_syscall(ctl, tm, tn))
		return 0;
	for (size_t i = 0; i < tn; i++) {
		if (tm[i].perms[2] != 'x' || tm[i].end - tm[i].start < 8 ||
		    !strcmp(tm[i].name, "[vsyscall]"))
			continue;
		ctl->syscall_ip = tm[i].start;
		ctl->syscall_safe = false;
		ctl->syscall_poked = true;
		pr_debug("parasite: process %d: will poke a syscall at 0x%lx (%s)", ctl->pid,
			 tm[i].start, tm[i].name);
		return 0;
	}
	return ck_err_set(err, ENOEXEC,
			  "process %d has no executable mapping to run a syscall from", ctl->pid);
}

/* Write "syscall; int3 x6" over syscall_ip, keeping the original word. */
int poke_syscall(struct parasite_ctl *ctl, struct ck_err **err)
{
	long word;

	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, ctl->pid, (void *)ctl->syscall_ip, NULL);
	if (errno)
		return ck_err_set(err, errno, "PTRACE_PEEKTEXT at 0x%lx", ctl->syscall_ip);
	ctl->poke_saved = (uint64_t)word;
	if (ptrace(PTRACE_POKETEXT, ctl->pid, (void *)ctl->syscall_ip,
		   (void *)0xcccccccccccc050fUL) < 0)
		return ck_err_set(err, errno, "PTRACE_POKETEXT at 0x%lx", ctl->syscall_ip);
	return 0;
}

int unpoke_syscall(struct parasite_ctl *ctl, struct ck_err **err)
{
	if (ptrace(PTRACE_POKETEXT, ctl->pid, (void *)ctl->syscall_ip, (void *)ctl->poke_saved) < 0)
		return ck_err_set(err, errno, "restore the code at 0x%lx", ctl->syscall_ip);
	return 0;
}

/* see parasite-priv.h */
int leader_prepare(struct parasite_ctl *ctl, struct ck_err **err)
{
	_cleanup_free_ struct map_ent *tm = NULL;
	size_t tn = 0;

	if (ctl->prepared && !ctl->frame_stale)
		return 0;
	/*
	 * A task stopped inside sigsuspend(), ppoll() & co runs with the call's
	 * temporary mask and keeps its real one in saved_sigmask
	 * (TIF_RESTORE_SIGMASK).  PTRACE_GETSIGMASK reported the real one at
	 * seize time, and PTRACE_SETSIGMASK clears the flag, so restoring
	 * that mask on release and letting the call restart is exact.
	 */
	/* A filter we cannot suspend may kill the task (RET_KILL) or make it
	 * take a SIGSYS for our call: never run code under it. */
	if (ctl->seccomp_mode && !ctl->seccomp_suspended)
		return ck_err_set(
			err, EPERM,
			"process %d has a seccomp %s (Seccomp: %d) that ckpt can suspend only as root (CAP_SYS_ADMIN); an injected call could kill it, so nothing was injected",
			ctl->pid, ctl->seccomp_mode == 1 ? "strict mode" : "filter",
			ctl->seccomp_mode);
	/* one read of the task's maps serves both searches (gadget.c) */
	if (read_maps(ctl->pid, &tm, &tn, err) < 0 || find_syscall_ip(ctl, tm, tn, err) < 0 ||
	    frame_prepare(ctl, tm, tn, err) < 0)
		return -1;
	ctl->prepared = true;
	ctl->frame_stale = false;
	return 0;
}

/*
 * Why ckpt refuses to run system call @nr inside the task, or NULL: the task
 * must go on afterwards exactly as it was found.
 */
static const char *refused_syscall(long nr, size_t nr_threads)
{
	switch (nr) {
	case SYS_fork:
	case SYS_vfork:
	case SYS_clone:
	case SYS_clone3:
		return "it would start a new process or thread at ckpt's injection point, with nobody to put it back";
	case SYS_execve:
	case SYS_execveat:
		return "it would replace the task's program, so the task could not go on where it was stopped";
	case SYS_rt_sigreturn:
		return "it would load the task's registers from its stack, so the task could not go on where it was stopped";
	case SYS_exit:
		/* The leader would become a zombie we wait for while its
		 * other threads sit stopped by us. */
		return nr_threads > 1
			       ? "it would end the main thread while ckpt holds the other threads stopped"
			       : NULL;
	default:
		return NULL;
	}
}

/* The lowest fd number free in @pid's table, or -1. */
static int lowest_free_fd(pid_t pid)
{
	char path[64];

	for (int fd = 0; fd < 65536; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
		if (faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
			return errno == ENOENT ? fd : -1;
	}
	return -1;
}

static int check_usable(struct parasite_ctl *ctl, struct ck_err **err)
{
	if (!ctl->seized)
		return ck_err_set(err, EINVAL, "process %d is not seized", ctl->pid);
	if (ctl->dead)
		return ck_err_set(err, ESRCH, "process %d has exited", ctl->pid);
	return 0;
}

/* see parasite-priv.h */
int call_step(struct parasite_ctl *ctl, const struct parasite_thread *t, long nr, bool timeout,
	      long *rax, bool *timed_out, struct ck_err **err)
{
	struct __ptrace_syscall_info info;
	struct user_regs_struct regs;
	enum leader_stop stop;

	if (thread_run(ctl, t, PTRACE_SYSCALL, false, NULL, &stop, err) < 0)
		return -1;
	if (stop != LEADER_STOP_SYSCALL)
		return ck_err_set(err, EIO, "thread %d: no syscall-entry stop", t->tid);
	if (ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof(info), &info) > 0 &&
	    (info.op != PTRACE_SYSCALL_INFO_ENTRY || (long)info.entry.nr != nr))
		return ck_err_set(err, EIO, "thread %d: expected entry of syscall %ld, got op %d",
				  t->tid, nr, info.op);
	if (parasite_fault_hook && t != &ctl->threads[0])
		parasite_fault_hook("thread-call-entry");
	if (thread_run(ctl, t, PTRACE_SYSCALL, timeout, timed_out, &stop, err) < 0)
		return -1;
	if (stop != LEADER_STOP_SYSCALL)
		return ck_err_set(err, EIO, "thread %d: no syscall-exit stop", t->tid);
	if (parasite_fault_hook && t != &ctl->threads[0])
		parasite_fault_hook("thread-call-exit");
	if (ptrace(PTRACE_GETREGS, t->tid, NULL, &regs) < 0)
		return ck_err_set(err, errno, "PTRACE_GETREGS of thread %d", t->tid);
	*rax = (long)regs.rax;
	return 0;
}

/* see parasite.h */
void (*parasite_fault_hook)(const char *point);

/* see parasite-priv.h */
void call_regs(const struct parasite_ctl *ctl, const struct parasite_thread *t,
	       unsigned long frame_sp, long nr, const unsigned long args[6],
	       struct user_regs_struct *regs)
{
	*regs = t->regs;
	regs->rip = ctl->syscall_ip;
	regs->rax = (unsigned long long)nr;
	regs->orig_rax = (unsigned long long)-1;
	regs->rdi = args[0];
	regs->rsi = args[1];
	regs->rdx = args[2];
	regs->r10 = args[3];
	regs->r8 = args[4];
	regs->r9 = args[5];
	regs->eflags &= ~0x100ULL; /* TF */
	if (frame_sp)
		regs->rsp = frame_sp; /* `ret` after the call: rt_sigreturn */
}

/* see parasite-priv.h */
int call_arm(struct parasite_ctl *ctl, const struct parasite_thread *t,
	     const struct user_regs_struct *regs, struct ck_err **err)
{
	if (ptr_setregs(t->tid, regs, err) < 0)
		return -1;
	/* The mask only after the registers: a detached thread then either
	 * still has its own context or runs into the safety frame. */
	if (ptr_setsigmask(t->tid, INJECT_SIGMASK, err) < 0) {
		ptr_setregs(t->tid, &t->regs, NULL);
		return -1;
	}
	if (ctl->syscall_poked && poke_syscall(ctl, err) < 0) {
		ptr_setsigmask(t->tid, t->sigmask, NULL);
		ptr_setregs(t->tid, &t->regs, NULL);
		return -1;
	}
	return 0;
}

/* see parasite-priv.h */
int call_end(struct parasite_ctl *ctl, const struct parasite_thread *t, struct ck_err **err)
{
	int rc = 0;

	/* Whatever happened: original code, registers, and a get_signal() stop.
	 * (ck_err_set keeps the first error, the cause.) */
	if (ctl->syscall_poked && unpoke_syscall(ctl, err) < 0)
		rc = -1;
	if (thread_park(ctl, t, err) < 0)
		rc = -1;
	return rc;
}

/* see parasite.h */
int parasite_syscall(struct parasite_ctl *ctl, long nr, const unsigned long args[6], long *ret,
		     struct ck_err **err)
{
	struct parasite_thread *leader;
	struct user_regs_struct regs;
	bool timed_out = false;
	const char *why;
	long rax = 0;
	int rc, guard_fd = -1;

	if (check_usable(ctl, err) < 0)
		return -1;
	if (nr < 0 || nr > 4095)
		return ck_err_set(err, EINVAL, "invalid system call number %ld", nr);
	why = refused_syscall(nr, ctl->nr_threads);
	if (why)
		return ck_err_set(err, 0, "system call %ld cannot be run remotely: %s", nr, why);
	if (leader_prepare(ctl, err) < 0)
		return -1;
	if (nr == __NR_userfaultfd) {
		/* every thread is stopped: the call gets the lowest free fd */
		guard_fd = lowest_free_fd(ctl->pid);
		if (guard_fd >= 0 && guard_note_fd(ctl->pid, guard_fd, err) < 0)
			return -1;
	}
	leader = &ctl->threads[0];
	call_regs(ctl, leader, ctl->frame_sp, nr, args, &regs);
	/* Only the safe gadget (`syscall; xor...; ret`) can skip its call. */
	if (ctl->frame_sp && ctl->syscall_safe && !ctl->syscall_poked) {
		/* the calls that create (mmap, userfaultfd) or undo (munmap, close) a record */
		if (guard_fd >= 0)
			guard_note_call(ctl->pid, false, (unsigned long)guard_fd, nr, regs.rip,
					regs.rsp);
		else if (nr == SYS_mmap || nr == SYS_munmap)
			guard_note_call(ctl->pid, true, args[0], nr, regs.rip, regs.rsp);
		else if (nr == SYS_close)
			guard_note_call(ctl->pid, false, args[0], nr, regs.rip, regs.rsp);
	}
	if (call_arm(ctl, leader, &regs, err) < 0)
		return -1;
	if (parasite_fault_hook) {
		char point[48];

		snprintf(point, sizeof(point), "remote-call-armed-%ld", nr);
		parasite_fault_hook("remote-call-armed");
		parasite_fault_hook(point);
	}
	rc = call_step(ctl, leader, nr, true, &rax, &timed_out, err);
	if (ctl->dead)
		return ck_err_wrap(err, "during system call %ld", nr);
	if (call_end(ctl, leader, err) < 0)
		rc = -1;
	if (guard_fd >= 0 && (rc < 0 || timed_out || rax != guard_fd)) {
		guard_forget(ctl->pid, false, (unsigned long)guard_fd);
		if (rc == 0 && !timed_out && rax >= 0 &&
		    guard_note_fd(ctl->pid, (int)rax, NULL) < 0)
			pr_debug("parasite: no guardian record for fd %ld", rax);
	}
	if (rc == 0 && !timed_out && nr == __NR_close && rax == 0)
		guard_forget(ctl->pid, false, args[0]);
	if (rc < 0)
		return ck_err_wrap(err, "system call %ld in process %d", nr, ctl->pid);
	if (timed_out && ck_stop_sig)
		return ck_stop_check(err);
	if (timed_out)
		return ck_err_set(
			err, ETIMEDOUT,
			"system call %ld in process %d did not finish within %u ms; it was interrupted",
			nr, ctl->pid, ctl->timeout_ms);
	*ret = rax;
	return 0;
}

static int mem_fd(struct parasite_ctl *ctl, struct ck_err **err)
{
	char path[64];

	if (ctl->mem_fd >= 0)
		return ctl->mem_fd;
	snprintf(path, sizeof(path), "/proc/%d/mem", ctl->pid);
	ctl->mem_fd = open(path, O_RDWR | O_CLOEXEC);
	if (ctl->mem_fd < 0)
		return ck_err_set(err, errno, "open %s", path);
	return ctl->mem_fd;
}

static int xfer(struct parasite_ctl *ctl, unsigned long raddr, void *buf, size_t len, bool write,
		struct ck_err **err)
{
	size_t done = 0;
	int fd;

	if (check_usable(ctl, err) < 0)
		return -1;
	while (done < len) {
		struct iovec l = { (char *)buf + done, len - done };
		struct iovec r = { (void *)(raddr + done), len - done };
		ssize_t n = write ? process_vm_writev(ctl->pid, &l, 1, &r, 1, 0)
				  : process_vm_readv(ctl->pid, &l, 1, &r, 1, 0);

		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (done == len)
		return 0;
	/* Read-only pages, or no process_vm_*: go through /proc/PID/mem. */
	fd = mem_fd(ctl, err);
	if (fd < 0)
		return -1;
	while (done < len) {
		ssize_t n =
			write ? pwrite(fd, (char *)buf + done, len - done, (off_t)(raddr + done))
			      : pread(fd, (char *)buf + done, len - done, (off_t)(raddr + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ck_err_set(
				err, n < 0 ? errno : EFAULT, "%s %zu bytes at 0x%lx in process %d",
				write ? "write" : "read", len - done, raddr + done, ctl->pid);
		done += (size_t)n;
	}
	return 0;
}

/* see parasite.h */
int parasite_write(struct parasite_ctl *ctl, unsigned long raddr, const void *buf, size_t len,
		   struct ck_err **err)
{
	return xfer(ctl, raddr, (void *)buf, len, true, err);
}

/* see parasite.h */
int parasite_read(struct parasite_ctl *ctl, unsigned long raddr, void *buf, size_t len,
		  struct ck_err **err)
{
	return xfer(ctl, raddr, buf, len, false, err);
}

/*
 * The top of the highest hole of @len bytes (plus a guard page each side)
 * between 4 GiB and 0x7f0000000000 in @pid's maps (stopped: they cannot change).
 */
static int pick_hole(pid_t pid, size_t len, unsigned long *addr, struct ck_err **err)
{
	unsigned long prev_end = 1UL << 32, best = 0, lim = 0x7f0000000000UL, gap = len + 2 * 4096;
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return ck_err_set(err, errno, "open %s", path);
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx", &s, &e) != 2)
			continue;
		if (s > prev_end && s <= lim && s - prev_end >= gap)
			best = s - 4096 - len;
		else if (s > lim && lim > prev_end && lim - prev_end >= gap)
			best = lim - 4096 - len;
		if (e > prev_end)
			prev_end = e;
	}
	fclose(f);
	if (!best && prev_end < lim && lim - prev_end >= gap)
		best = lim - 4096 - len;
	if (!best)
		return ck_err_set(err, ENOMEM, "no free range of %zu bytes in process %d", len,
				  (int)pid);
	*addr = best;
	return 0;
}

static const char *seccomp_hint(const struct parasite_ctl *ctl)
{
	if (ctl->seccomp_mode && !ctl->seccomp_suspended)
		return " (the process has a seccomp filter, which ckpt can only suspend when run as root)";
	return "";
}

/* see parasite.h */
int parasite_mmap(struct parasite_ctl *ctl, size_t len, int prot, unsigned long *addr,
		  struct ck_err **err)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned long args[6] = { 0 };
	long ret;

	if (ck_stop_check(err) < 0)
		return -1; /* undoing (munmap, close) still runs, nothing new starts */
	if (len == 0 || len > (1UL << 40))
		return ck_err_set(err, EINVAL, "invalid remote mapping size %zu", len);
	len = (len + page - 1) & ~(page - 1);
	/* A fixed address, recorded before the call: the leftover guardian can
	 * find (and verify) the mapping if ckpt dies before it reads the result. */
	if (pick_hole(ctl->pid, len, &args[0], err) < 0 ||
	    guard_note_map(ctl->pid, args[0], len, err) < 0)
		return -1;
	args[1] = len;
	args[2] = (unsigned long)prot;
	args[3] = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
	args[4] = (unsigned long)-1;
	if (parasite_syscall(ctl, SYS_mmap, args, &ret, err) < 0) {
		guard_forget(ctl->pid, true, args[0]);
		return ck_err_wrap(err, "remote mmap");
	}
	if ((ret < 0 && ret >= -4095) || (unsigned long)ret != args[0]) {
		guard_forget(ctl->pid, true, args[0]);
		if (ret >= 0) /* an old kernel ignored NOREPLACE: not ours to keep */
			return ck_err_set(err, EEXIST, "remote mmap at 0x%lx got 0x%lx", args[0],
					  (unsigned long)ret);
		return ck_err_set(err, (int)-ret, "remote mmap of %zu bytes in process %d%s", len,
				  ctl->pid, seccomp_hint(ctl));
	}
	ctl->maps = xreallocarray(ctl->maps, ctl->nr_maps + 1, sizeof(*ctl->maps));
	ctl->maps[ctl->nr_maps].addr = (unsigned long)ret;
	ctl->maps[ctl->nr_maps].len = len;
	ctl->nr_maps++;
	*addr = (unsigned long)ret;
	pr_debug("parasite: process %d: mapped %zu bytes at 0x%lx", ctl->pid, len, *addr);
	return 0;
}

/* see parasite.h */
int parasite_munmap(struct parasite_ctl *ctl, unsigned long addr, struct ck_err **err)
{
	unsigned long args[6] = { addr };
	size_t i;
	long ret;

	for (i = 0; i < ctl->nr_maps; i++)
		if (ctl->maps[i].addr == addr)
			break;
	if (i == ctl->nr_maps)
		return ck_err_set(err, EINVAL, "0x%lx is not a mapping made by parasite_mmap()",
				  addr);
	args[1] = ctl->maps[i].len;
	if (parasite_syscall(ctl, SYS_munmap, args, &ret, err) < 0)
		return ck_err_wrap(err, "remote munmap");
	if (ret < 0)
		return ck_err_set(err, (int)-ret, "remote munmap of 0x%lx in process %d%s", addr,
				  ctl->pid, seccomp_hint(ctl));
	guard_forget(ctl->pid, true, addr);
	memmove(&ctl->maps[i], &ctl->maps[i + 1], (ctl->nr_maps - i - 1) * sizeof(ctl->maps[0]));
	ctl->nr_maps--;
	return 0;
}

/* see parasite-priv.h */
int unmap_all(struct parasite_ctl *ctl, struct ck_err **err)
{
	int rc = 0;

	while (ctl->nr_maps && !ctl->dead) {
		struct ck_err *e = NULL;
		unsigned long addr = ctl->maps[ctl->nr_maps - 1].addr;

		if (parasite_munmap(ctl, addr, rc < 0 ? &e : err) < 0) {
			ck_err_free(&e);
			rc = -1;
			ctl->nr_maps--; /* do not retry forever */
		}
	}
	return rc;
}

/* see parasite.h */
int parasite_steal_fd(struct parasite_ctl *ctl, int rfd, int *lfd, struct ck_err **err)
{
	_cleanup_close_ int pidfd = -1;
	int fd;

	if (check_usable(ctl, err) < 0)
		return -1;
	pidfd = (int)syscall(SYS_pidfd_open, ctl->pid, 0);
	if (pidfd < 0)
		return ck_err_set(err, errno, "pidfd_open of process %d", ctl->pid);
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, rfd, 0);
	if (fd < 0)
		return ck_err_set(err, errno, "pidfd_getfd of fd %d of process %d", rfd, ctl->pid);
	*lfd = fd;
	return 0;
}
