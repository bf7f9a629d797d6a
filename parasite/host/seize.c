// SPDX-License-Identifier: MIT
/*
 * Seize and release: PTRACE_SEIZE + PTRACE_INTERRUPT every thread of a process,
 * save its state, and later restore it and detach.
 */
#include <cpuid.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/stop.h"
#include "common/xalloc.h"
#include "parasite/parasite.h"
#include "parasite/host/parasite-priv.h"

#ifndef PTRACE_GETSIGMASK
#define PTRACE_GETSIGMASK 0x420a
#define PTRACE_SETSIGMASK 0x420b
#endif
#ifndef PTRACE_O_SUSPEND_SECCOMP
#define PTRACE_O_SUSPEND_SECCOMP (1 << 21)
#endif

/* x86_64 syscall numbers of calls that return -EINTR when merely woken by a stop. */
#define NR_SEMOP           65
#define NR_RT_SIGTIMEDWAIT 128
#define NR_IO_GETEVENTS    208
#define NR_SEMTIMEDOP      220
#define NR_EPOLL_WAIT      232
#define NR_EPOLL_PWAIT     281
#define NR_IO_PGETEVENTS   333
#define NR_EPOLL_PWAIT2    441
#define ERESTARTNOHAND     514

/* How long a seized thread may take to stop (a vfork() parent never does). */
#define PARASITE_SEIZE_TIMEOUT_MS 3000

/* see parasite-priv.h */
int ptr_getregs(pid_t tid, struct user_regs_struct *regs, struct ck_err **err)
{
	struct iovec iov = { regs, sizeof(*regs) };

	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0)
		return ck_err_set(err, errno, "PTRACE_GETREGSET of thread %d", tid);
	if (iov.iov_len != sizeof(*regs) || regs->cs != 0x33)
		return ck_err_set(
			err, ENOTSUP,
			"thread %d is not a 64-bit x86_64 task (32-bit tasks are not supported)",
			tid);
	return 0;
}

/* see parasite-priv.h */
int ptr_setregs(pid_t tid, const struct user_regs_struct *regs, struct ck_err **err)
{
	struct iovec iov = { (void *)regs, sizeof(*regs) };

	if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0)
		return ck_err_set(err, errno, "PTRACE_SETREGSET of thread %d", tid);
	return 0;
}

/* see parasite-priv.h */
int ptr_getsigmask(pid_t tid, uint64_t *mask, struct ck_err **err)
{
	if (ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof(*mask), mask) < 0)
		return ck_err_set(err, errno, "PTRACE_GETSIGMASK of thread %d", tid);
	return 0;
}

/* see parasite-priv.h */
int ptr_setsigmask(pid_t tid, uint64_t mask, struct ck_err **err)
{
	if (ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(mask), &mask) < 0)
		return ck_err_set(err, errno, "PTRACE_SETSIGMASK of thread %d", tid);
	return 0;
}

static size_t xsave_size(void)
{
	unsigned int eax, ebx, ecx, edx;

	/* CPUID 0xd.0: ecx = size of the XSAVE area for every supported feature. */
	if (!__get_cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx) || ecx < 512)
		return 4096;
	return ecx;
}

/* see parasite-priv.h */
int ptr_get_xsave(struct parasite_thread *t, struct ck_err **err)
{
	size_t size = xsave_size();
	_cleanup_free_ void *buf = xzalloc(size);
	struct iovec iov = { buf, size };

	if (ptrace(PTRACE_GETREGSET, t->tid, (void *)NT_X86_XSTATE, &iov) < 0)
		return ck_err_set(err, errno, "PTRACE_GETREGSET(NT_X86_XSTATE) of thread %d",
				  t->tid);
	free(t->xsave);
	t->xsave = steal_ptr(&buf);
	t->xsave_len = iov.iov_len;
	return 0;
}

/* see parasite-priv.h */
int ptr_set_xsave(const struct parasite_thread *t, struct ck_err **err)
{
	struct iovec iov = { t->xsave, t->xsave_len };

	if (!t->xsave)
		return 0;
	if (ptrace(PTRACE_SETREGSET, t->tid, (void *)NT_X86_XSTATE, &iov) < 0)
		return ck_err_set(err, errno, "PTRACE_SETREGSET(NT_X86_XSTATE) of thread %d",
				  t->tid);
	return 0;
}

/* see parasite-priv.h */
void describe_exit(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "ended (wait status 0x%x)", status);
}

struct proc_status {
	char state;
	pid_t tgid;
	pid_t tracer;
	int seccomp;
	uint64_t sigign;
	bool kthread;
};

/* PF_KTHREAD in the flags of /proc/PID/stat (field 9): kernels without "Kthread:". */
static bool stat_kthread(pid_t pid)
{
	_cleanup_fclose_ FILE *f = NULL;
	char path[64], line[1024], *p;
	unsigned long flags;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f || !fgets(line, sizeof(line), f))
		return false;
	p = strrchr(line, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return false;
	return flags & 0x00200000; /* PF_KTHREAD */
}

static int read_status(pid_t pid, struct proc_status *st, struct ck_err **err)
{
	_cleanup_fclose_ FILE *f = NULL;
	char path[64], line[256];
	bool has_kthread = false;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return ck_err_set(err, ESRCH, "no such process: %d", pid);
		return ck_err_set(err, errno, "open %s", path);
	}
	memset(st, 0, sizeof(*st));
	st->tgid = -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "State:", 6))
			sscanf(line + 6, " %c", &st->state);
		else if (!strncmp(line, "Tgid:", 5))
			st->tgid = (pid_t)strtol(line + 5, NULL, 10);
		else if (!strncmp(line, "TracerPid:", 10))
			st->tracer = (pid_t)strtol(line + 10, NULL, 10);
		else if (!strncmp(line, "Seccomp:", 8))
			st->seccomp = (int)strtol(line + 8, NULL, 10);
		else if (!strncmp(line, "SigIgn:", 7))
			st->sigign = strtoull(line + 7, NULL, 16);
		else if (!strncmp(line, "Kthread:", 8)) {
			has_kthread = true;
			st->kthread = strtol(line + 8, NULL, 10) == 1;
		}
	}
	if (!has_kthread)
		st->kthread = stat_kthread(pid);
	if (st->tgid < 0)
		return ck_err_set(err, EIO, "cannot parse %s", path);
	return 0;
}

static struct parasite_thread *find_thread(struct parasite_ctl *ctl, pid_t tid)
{
	for (size_t i = 0; i < ctl->nr_threads; i++)
		if (ctl->threads[i].tid == tid)
			return &ctl->threads[i];
	return NULL;
}

static void drop_thread(struct parasite_ctl *ctl, size_t idx)
{
	free(ctl->threads[idx].xsave);
	memmove(&ctl->threads[idx], &ctl->threads[idx + 1],
		(ctl->nr_threads - idx - 1) * sizeof(ctl->threads[0]));
	ctl->nr_threads--;
}

static int seize_error(pid_t pid, pid_t tid, int errnum, struct ck_err **err)
{
	struct proc_status st;
	_cleanup_err_ struct ck_err *ignored = NULL;

	if (errnum == EPERM && read_status(tid, &st, &ignored) == 0) {
		if (st.state == 'Z' || st.state == 'X')
			return ck_err_set(err, ESRCH, "process %d is a zombie (it has exited)",
					  pid);
		if (st.tracer)
			return ck_err_set(
				err, EBUSY,
				"cannot attach to process %d: already traced by process %d", pid,
				st.tracer);
		if (st.kthread)
			return ck_err_set(
				err, 0,
				"process %d is a kernel thread: it cannot be traced or dumped",
				pid);
		if (geteuid() == 0)
			return ck_err_set(
				err, EPERM,
				"cannot attach to process %d (ptrace refused although ckpt runs as root: a security module such as Yama, or a missing CAP_SYS_PTRACE)",
				pid);
		return ck_err_set(
			err, EPERM,
			"cannot attach to process %d (ptrace refused: only processes of the same user can be traced, unless running as root)",
			pid);
	}
	if (errnum == ESRCH)
		return ck_err_set(err, ESRCH, "no such process: %d", pid);
	return ck_err_set(err, errnum, "PTRACE_SEIZE of thread %d of process %d", tid, pid);
}

/*
 * Attach one thread without waiting for it.  Returns 1 when the thread vanished
 * before we could attach (not an error for non-leaders).
 */
static int seize_one(struct parasite_ctl *ctl, pid_t tid, struct ck_err **err)
{
	struct parasite_thread *t;

	if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)(long)PTRACE_O_TRACESYSGOOD) < 0) {
		if (errno == ESRCH && tid != ctl->pid)
			return 1;
		return seize_error(ctl->pid, tid, errno, err);
	}
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0) {
		int e = errno;

		ptrace(PTRACE_DETACH, tid, NULL, NULL);
		if (e == ESRCH && tid != ctl->pid)
			return 1;
		return ck_err_set(err, e, "PTRACE_INTERRUPT of thread %d", tid);
	}
	ctl->threads = xreallocarray(ctl->threads, ctl->nr_threads + 1, sizeof(*ctl->threads));
	t = &ctl->threads[ctl->nr_threads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	return 0;
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/*
 * Wait until a freshly seized thread sits in our trap.  A signal that won the
 * race against PTRACE_INTERRUPT is delivered (the trap stays pending and is
 * taken right after).  Returns 1 when the thread died meanwhile.
 */
static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Why thread @tid does not stop: a vfork() parent, or uninterruptible sleep. */
static int not_stopping(struct parasite_ctl *ctl, pid_t tid, struct ck_err **err)
{
	char path[64], wchan[128] = "";
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/wchan", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && (n = read(fd, wchan, sizeof(wchan) - 1)) > 0)
		wchan[n] = '\0';
	/* wait_for_vfork_done() shows as itself or, inlined, as kernel_clone */
	if (strstr(wchan, "vfork") || !strcmp(wchan, "kernel_clone"))
		return ck_err_set(
			err, ETIMEDOUT,
			"process %d (thread %d) did not stop within %d ms: it is in vfork(), waiting for its child to exec or exit",
			ctl->pid, tid, PARASITE_SEIZE_TIMEOUT_MS);
	return ck_err_set(
		err, ETIMEDOUT,
		"process %d (thread %d) did not stop within %d ms (uninterruptible sleep%s%s)",
		ctl->pid, tid, PARASITE_SEIZE_TIMEOUT_MS, wchan[0] ? " in " : "", wchan);
}

static int wait_seized(struct parasite_ctl *ctl, struct parasite_thread *t, struct ck_err **err)
{
	long deadline = mono_ms() + PARASITE_SEIZE_TIMEOUT_MS;
	long delay = 20;

	for (;;) {
		int status, sig, event;
		pid_t r = waitpid(t->tid, &status, __WALL | WNOHANG);

		if (r == 0) {
			/* A task in vfork() or D state takes no trap until it wakes. */
			struct timespec ts = { 0, delay * 1000 };

			if (mono_ms() > deadline)
				return not_stopping(ctl, t->tid, err);
			nanosleep(&ts, NULL);
			if (delay < 5000)
				delay *= 2;
			continue;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD)
				return 1;
			return ck_err_set(err, errno, "waitpid of thread %d", t->tid);
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			char how[96];

			if (t->tid != ctl->pid)
				return 1;
			describe_exit(status, how, sizeof(how));
			ctl->dead = true;
			return ck_err_set(err, ESRCH, "process %d %s while being seized", ctl->pid,
					  how);
		}
		if (!WIFSTOPPED(status))
			continue;
		sig = WSTOPSIG(status);
		event = status >> 16;
		if (event == PTRACE_EVENT_STOP) {
			if (is_stop_signal(sig)) {
				t->group_stopped = true;
				ctl->was_stopped = true;
			}
			return 0;
		}
		/* A signal-delivery-stop: let the signal through, the trap follows. */
		pr_debug("parasite: thread %d: delivering signal %d that raced the seize", t->tid,
			 sig);
		if (ptrace(PTRACE_CONT, t->tid, NULL, (void *)(long)sig) < 0)
			return ck_err_set(err, errno, "PTRACE_CONT of thread %d", t->tid);
	}
}

/*
 * A thread woken from epoll_wait() & co by our trap gets -EINTR it would not see
 * without us.  Turn it into -ERESTARTNOHAND: the kernel then restarts the call
 * on detach, or reports EINTR if a signal handler really runs first (as it
 * would natively).
 */
static int fix_spurious_eintr(struct parasite_thread *t, struct ck_err **err)
{
	long nr = (long)t->regs.orig_rax;

	if ((long)t->regs.rax != -EINTR)
		return 0;
	switch (nr) {
	case NR_SEMOP:
	case NR_RT_SIGTIMEDWAIT:
	case NR_IO_GETEVENTS:
	case NR_SEMTIMEDOP:
	case NR_EPOLL_WAIT:
	case NR_EPOLL_PWAIT:
	case NR_IO_PGETEVENTS:
	case NR_EPOLL_PWAIT2:
		break;
	default:
		return 0;
	}
	pr_debug("parasite: thread %d: syscall %ld woken with EINTR by the seize, will restart",
		 t->tid, nr);
	t->regs.rax = (unsigned long)-ERESTARTNOHAND;
	return ptr_setregs(t->tid, &t->regs, err);
}

static int save_thread(struct parasite_ctl *ctl, struct parasite_thread *t, struct ck_err **err)
{
	if (ptr_getregs(t->tid, &t->regs, err) < 0)
		return -1;
	if (ptr_getsigmask(t->tid, &t->sigmask, err) < 0)
		return -1;
	if (!(ctl->flags & PARASITE_SEIZE_NO_FPU) && ptr_get_xsave(t, err) < 0)
		return -1;
	if (!t->group_stopped && fix_spurious_eintr(t, err) < 0)
		return -1;
	return seize_rseq(ctl, t, err);
}

/* One pass over /proc/PID/task: seize threads not seen yet.  Sets *added. */
static int scan_threads(struct parasite_ctl *ctl, bool *added, struct ck_err **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	char path[64];
	struct dirent *de;

	*added = false;
	snprintf(path, sizeof(path), "/proc/%d/task", ctl->pid);
	d = opendir(path);
	if (!d) {
		if (errno == ENOENT) {
			ctl->dead = true;
			return ck_err_set(err, ESRCH, "process %d exited while being seized",
					  ctl->pid);
		}
		return ck_err_set(err, errno, "opendir %s", path);
	}
	while ((de = readdir(d))) {
		pid_t tid;
		int r;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		tid = (pid_t)strtol(de->d_name, NULL, 10);
		if (find_thread(ctl, tid))
			continue;
		r = seize_one(ctl, tid, err);
		if (r < 0)
			return -1;
		if (r == 0)
			*added = true;
	}
	return 0;
}

static int wait_new_threads(struct parasite_ctl *ctl, size_t from, struct ck_err **err)
{
	for (size_t i = from; i < ctl->nr_threads;) {
		struct parasite_thread *t = &ctl->threads[i];
		int r = wait_seized(ctl, t, err);

		if (r < 0)
			return -1;
		if (r == 1) {
			drop_thread(ctl, i);
			continue;
		}
		t->waited = true;
		if (save_thread(ctl, t, err) < 0)
			return -1;
		i++;
	}
	return 0;
}

static void suspend_seccomp(struct parasite_ctl *ctl)
{
	long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_SUSPEND_SECCOMP;

	if (!ctl->seccomp_mode)
		return;
	/* the kernel decides: CAP_SYS_ADMIN in the initial user namespace */
	if (ptrace(PTRACE_SETOPTIONS, ctl->pid, NULL, (void *)opts) < 0) {
		pr_debug(
			"parasite: PTRACE_O_SUSPEND_SECCOMP on %d failed (%s): injected syscalls go through its filter",
			ctl->pid, strerror(errno));
		return;
	}
	ctl->seccomp_suspended = true;
}

/* see parasite.h */
int parasite_seize_start(pid_t pid, unsigned int flags, struct parasite_ctl **out,
			 struct ck_err **err)
{
	struct parasite_ctl *ctl;
	struct proc_status st;
	bool added;

	if (pid <= 0)
		return ck_err_set(err, EINVAL, "invalid process id %d", pid);
	if (ck_stop_check(err) < 0)
		return -1;
	if (pid == getpid())
		return ck_err_set(err, EINVAL, "process %d is ckpt itself", pid);
	if (read_status(pid, &st, err) < 0)
		return -1;
	if (st.tgid != pid)
		return ck_err_set(err, EINVAL,
				  "%d is a thread of process %d, not a process (use -t %d)", pid,
				  st.tgid, st.tgid);
	if (st.state == 'Z' || st.state == 'X')
		return ck_err_set(err, ESRCH, "process %d is a zombie (it has exited)", pid);
	if (st.kthread)
		return ck_err_set(err, 0,
				  "process %d is a kernel thread: it cannot be traced or dumped",
				  pid);
	if (st.tracer)
		return ck_err_set(err, EBUSY,
				  "cannot attach to process %d: already traced by process %d", pid,
				  st.tracer);

	ctl = xzalloc(sizeof(*ctl));
	ctl->pid = pid;
	ctl->flags = flags;
	ctl->timeout_ms = PARASITE_DEFAULT_TIMEOUT_MS;
	ctl->seccomp_mode = st.seccomp;
	ctl->sigign = st.sigign;
	ctl->mem_fd = -1;
	ctl->seized = true;

	/* The leader first, so that threads[0] is always the leader. */
	if (seize_one(ctl, pid, err) < 0) {
		ctl->seized = false;
		parasite_ctl_free(ctl);
		return -1;
	}
	/* every thread listed now is attached and interrupted; none is waited for yet */
	if (scan_threads(ctl, &added, err) < 0) {
		ck_err_wrap(err, "seize process %d", pid);
		parasite_ctl_free(ctl);
		return -1;
	}
	*out = ctl;
	return 0;
}

/* see parasite.h */
int parasite_seize_finish(struct parasite_ctl *ctl, struct ck_err **err)
{
	size_t waited = 0;
	bool added;

	/*
	 * Threads can be created until every existing one is stopped: keep
	 * scanning until a pass after all waits finds nothing new.
	 */
	do {
		if (wait_new_threads(ctl, waited, err) < 0)
			goto fail;
		waited = ctl->nr_threads;
		if (scan_threads(ctl, &added, err) < 0)
			goto fail;
	} while (added);
	if (ctl->nr_threads == 0 || ctl->threads[0].tid != ctl->pid) {
		ck_err_set(err, ESRCH, "process %d exited while being seized", ctl->pid);
		goto fail;
	}
	suspend_seccomp(ctl);
	pr_debug("parasite: seized process %d: %zu thread(s)%s, seccomp %d%s", ctl->pid,
		 ctl->nr_threads, ctl->was_stopped ? ", stopped" : "", ctl->seccomp_mode,
		 ctl->seccomp_suspended ? " (suspended)" : "");
	return 0;
fail:
	return ck_err_wrap(err, "seize process %d", ctl->pid);
}

/* see parasite.h */
int parasite_seize(pid_t pid, unsigned int flags, struct parasite_ctl **out, struct ck_err **err)
{
	struct parasite_ctl *ctl;

	if (parasite_seize_start(pid, flags, &ctl, err) < 0)
		return -1;
	if (parasite_seize_finish(ctl, err) < 0) {
		parasite_ctl_free(ctl);
		return -1;
	}
	*out = ctl;
	return 0;
}

static void keep_first(struct ck_err **first, struct ck_err **e)
{
	if (!*first)
		*first = steal_ptr(e);
	else
		ck_err_free(e);
}

/* see parasite.h */
int parasite_release(struct parasite_ctl *ctl, struct ck_err **err)
{
	_cleanup_err_ struct ck_err *first = NULL;
	struct parasite_thread *leader;

	if (!ctl || !ctl->seized)
		return 0;
	leader = ctl->nr_threads ? &ctl->threads[0] : NULL;
	if (leader && !ctl->dead && ctl->prepared) {
		struct ck_err *e = NULL;

		if (ctl->blob_addr && parasite_cure(ctl, &e) < 0)
			keep_first(&first, &e);
		if (!ctl->dead && unmap_all(ctl, &e) < 0)
			keep_first(&first, &e);
		if (!ctl->dead && ptr_setregs(leader->tid, &leader->regs, &e) < 0)
			keep_first(&first, &e);
		if (!ctl->dead && ctl->fpu_dirty && ptr_set_xsave(leader, &e) < 0)
			keep_first(&first, &e);
		if (!ctl->dead && ptr_setsigmask(leader->tid, leader->sigmask, &e) < 0)
			keep_first(&first, &e);
		for (int sig = 1; sig <= 64 && !ctl->dead; sig++)
			if ((ctl->resend & (1ULL << (sig - 1))) &&
			    syscall(SYS_tgkill, ctl->pid, leader->tid, sig) < 0) {
				ck_err_set(&e, errno, "re-send signal %d", sig);
				keep_first(&first, &e);
			}
	}
	for (size_t i = 0; i < ctl->nr_threads; i++) {
		pid_t tid = ctl->threads[i].tid;

		if (!ctl->threads[i].waited) {
			/* Seized but not stopped yet (failed seize): detach needs the stop. */
			struct ck_err *e = NULL;

			if (wait_seized(ctl, &ctl->threads[i], &e) != 0) {
				/* Still not stopped (vfork, D state): it cannot be
				 * detached now; ckpt's exit detaches it, and the
				 * pending trap is dropped then. */
				ck_err_free(&e);
				continue;
			}
		}
		if (ptrace(PTRACE_DETACH, tid, NULL, NULL) == 0)
			continue;
		if (errno == ESRCH) {
			int st;

			/* Gone with its process: reap the traced thread's exit. */
			waitpid(tid, &st, __WALL | WNOHANG);
		} else {
			struct ck_err *e = NULL;

			ck_err_set(&e, errno, "PTRACE_DETACH of thread %d", tid);
			keep_first(&first, &e);
		}
	}
	if (ctl->mem_fd >= 0)
		close(ctl->mem_fd);
	ctl->mem_fd = -1;
	ctl->seized = false;
	pr_debug("parasite: released process %d", ctl->pid);
	if (first) {
		*err = steal_ptr(&first);
		return ck_err_wrap(err, "release process %d", ctl->pid);
	}
	return 0;
}

/* see parasite.h */
void parasite_release_quiet(struct parasite_ctl *ctl)
{
	_cleanup_err_ struct ck_err *e = NULL;

	if (parasite_release(ctl, &e) < 0) {
		_cleanup_free_ char *msg = ck_err_str(e);

		pr_debug("parasite: %s", msg);
	}
}

/* see parasite.h */
void parasite_ctl_free(struct parasite_ctl *ctl)
{
	if (!ctl)
		return;
	parasite_release_quiet(ctl);
	for (size_t i = 0; i < ctl->nr_threads; i++)
		free(ctl->threads[i].xsave);
	free(ctl->threads);
	free(ctl->maps);
	free(ctl);
}

/* see parasite.h */
pid_t parasite_pid(const struct parasite_ctl *ctl)
{
	return ctl->pid;
}

/* see parasite.h */
size_t parasite_nr_threads(const struct parasite_ctl *ctl)
{
	return ctl->nr_threads;
}

/* see parasite.h */
pid_t parasite_thread_tid(const struct parasite_ctl *ctl, size_t idx)
{
	return idx < ctl->nr_threads ? ctl->threads[idx].tid : -1;
}

/* see parasite.h */
bool parasite_was_stopped(const struct parasite_ctl *ctl)
{
	return ctl->was_stopped;
}

/* see parasite.h */
int parasite_seccomp_mode(const struct parasite_ctl *ctl)
{
	return ctl->seccomp_mode;
}

/* see parasite.h */
bool parasite_seccomp_suspended(const struct parasite_ctl *ctl)
{
	return ctl->seccomp_suspended;
}

/* see parasite.h */
unsigned int parasite_audit_arch(const struct parasite_ctl *ctl)
{
	return 0xc000003eu; /* AUDIT_ARCH_X86_64 */
}

/* see parasite.h */
void parasite_set_timeout(struct parasite_ctl *ctl, unsigned int timeout_ms)
{
	ctl->timeout_ms = timeout_ms;
}
