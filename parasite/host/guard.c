// SPDX-License-Identifier: MIT
/*
 * The leftover guardian (issue 12, item 1): a child forked once per ckpt run,
 * before the first remote mmap or userfaultfd().  ckpt writes into a shared
 * page what may exist in a target BEFORE it creates it (a mapping at a fixed
 * address of a known size, a userfaultfd at a predicted fd number) and erases
 * the record after the undo.  The guardian waits for ckpt to exit (pidfd); if
 * records are left, it seizes the target, skips a call ckpt had set up but
 * the target had not run yet, checks each record in /proc/PID/maps or
 * /proc/PID/fd, removes what is there and detaches.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "parasite/host/parasite-priv.h"
#include "parasite/parasite.h"

enum { REC_FREE, REC_MAP, REC_FD, REC_CLAIMED };

struct guard_rec {
	int kind;
	pid_t pid;
	unsigned long addr; /* REC_MAP */
	unsigned long len;
	int fd; /* REC_FD */
	/* the call that creates it, once its registers are set (guard_note_call) */
	long call_nr;
	unsigned long call_ip, call_sp, call_arg0;
	/* REC_MAP of the blob, once it runs (guard_note_blob): its way home */
	unsigned long blob_exit_ip, blob_exit_sp;
};

#define GUARD_RECS (4096 / sizeof(struct guard_rec))

/* A non-leader thread running a call of thread.c, its stack in [lo, hi) */
struct guard_away {
	pid_t pid; /* 0: none */
	pid_t tid;
	unsigned long lo, hi;
	struct user_regs_struct regs; /* its own, and its own signal mask */
	uint64_t mask;
};

/*
 * Shared with the guardian, two pages:
 *
 *   +--------------------------+ 0
 *   | recs[GUARD_RECS]         |  mappings and fds that may exist in a target
 *   +--------------------------+ 4096
 *   | away                     |  the one thread away from home, if any
 *   +--------------------------+ 8192
 */
#define GUARD_SHARED 8192
static struct guard_rec *recs;
static struct guard_away *away;
_Static_assert(sizeof(struct guard_away) <= GUARD_SHARED - 4096, "guardian page layout");
static pid_t guardian_pid;
static bool in_guardian;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/*
 * ckpt's mapping: anonymous VMAs covering exactly the recorded range, one after
 * the other (the blob is two: its code made read+exec, its data).
 */
static bool map_present(const struct guard_rec *r)
{
	unsigned long next = r->addr, end = r->addr + r->len;
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)r->pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long s, e, ino;
		char name[8] = "";

		if (sscanf(line, "%lx-%lx %*s %*s %*s %lu %7s", &s, &e, &ino, name) < 3)
			continue;
		if (e <= next || s > next)
			continue; /* before the range, or a hole in it (never found) */
		if (s != next || e > end || ino != 0 || name[0] != '\0')
			break;
		next = e;
		found = next == end;
	}
	fclose(f);
	return found;
}

static bool fd_present(const struct guard_rec *r)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)r->pid, r->fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return !strcmp(link, "anon_inode:[userfaultfd]");
}

static bool rec_present(const struct guard_rec *r)
{
	return r->kind == REC_MAP ? map_present(r) : r->kind == REC_FD && fd_present(r);
}

static bool traced(pid_t pid)
{
	char path[64], line[128];
	bool t = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "TracerPid:", 10))
			t = atoi(line + 10) != 0;
	fclose(f);
	return t;
}

/*
 * ckpt died after it had set the leader's registers for a recorded call but
 * before the leader ran it (stopped in its interrupt trap: SETREGS done,
 * PTRACE_SYSCALL not yet).  The kernel's detach wakes the leader inside
 * get_signal(), and our PTRACE_INTERRUPT stops it again before it returns to
 * user mode: the call has not run at our look, and would run right after our
 * detach (docs/parasite.md, "the late leftover").  Seized, we see exactly the
 * recorded registers; move the leader past the `syscall` of the gadget, so
 * that it goes on with `xor`s, `ret` and rt_sigreturn(frame) to its own
 * context and the call never runs.
 */
static void skip_pending_call(struct parasite_ctl *ctl)
{
	struct parasite_thread *l = &ctl->threads[0];
	struct ck_err *err = NULL;

	for (size_t i = 0; i < GUARD_RECS; i++) {
		struct guard_rec *r = &recs[i];

		bool undo;

		if ((r->kind != REC_MAP && r->kind != REC_FD) || r->pid != ctl->pid || !r->call_ip)
			continue;
		if (l->regs.rip != r->call_ip || l->regs.rsp != r->call_sp ||
		    l->regs.rax != (unsigned long long)r->call_nr ||
		    l->regs.orig_rax != (unsigned long long)-1 ||
		    (r->call_arg0 && l->regs.rdi != r->call_arg0))
			continue;
		/* a pending munmap/close: skipped too, the guardian undoes it itself
		 * below (run after our detach, it could hit a range or fd number the
		 * task's other threads reuse by then) */
		undo = r->call_nr == SYS_munmap || r->call_nr == SYS_close;
		if (!undo && rec_present(r))
			continue; /* an old record: its creating call has run */
		l->regs.rip += 2; /* the 2-byte `syscall` */
		l->regs.rax = (unsigned long long)-EINTR;
		if (ptr_setregs(l->tid, &l->regs, &err) < 0) {
			dprintf(STDERR_FILENO, "ckpt guardian: process %d: skip call %ld: %s\n",
				(int)ctl->pid, r->call_nr, err ? err->msg : "?");
			ck_err_free(&err);
			return;
		}
		dprintf(STDERR_FILENO,
			"ckpt guardian: process %d: ckpt died before its call %ld ran; skipped it\n",
			(int)ctl->pid, r->call_nr);
		if (!undo)
			r->kind = REC_FREE;
		return; /* one call at a time */
	}
}

/*
 * ckpt died during a blob command: the leader is in the blob (most likely in
 * its wait for the host, which lasts seconds) or at the gadget's `syscall`
 * of its closing munmap.  Send it home as ckpt would have: rip = the gadget's
 * return, rsp = the safety frame, no syscall to restart; the munmap below
 * removes the blob, and on our detach the leader runs the `xor`s, `ret` and
 * rt_sigreturn(frame) into its own context.  (Unmapped under a leader still
 * in it, the blob would kill the task.)
 */
static void blob_send_home(struct parasite_ctl *ctl)
{
	struct parasite_thread *l = &ctl->threads[0];
	struct ck_err *err = NULL;

	for (size_t i = 0; i < GUARD_RECS; i++) {
		struct guard_rec *r = &recs[i];
		bool in_blob, at_munmap;

		if (r->kind != REC_MAP || r->pid != ctl->pid || !r->blob_exit_ip)
			continue;
		in_blob = l->regs.rip >= r->addr && l->regs.rip < r->addr + r->len;
		at_munmap = l->regs.rip == r->blob_exit_ip - 2 && l->regs.rsp == r->blob_exit_sp &&
			    l->regs.orig_rax == (unsigned long long)-1 &&
			    l->regs.rax == SYS_munmap && l->regs.rdi == r->addr;
		if (!in_blob && !at_munmap)
			continue;
		l->regs.rip = r->blob_exit_ip;
		l->regs.rsp = r->blob_exit_sp;
		l->regs.rax = 0;
		l->regs.orig_rax = (unsigned long long)-1;
		if (ptr_setregs(l->tid, &l->regs, &err) < 0) {
			dprintf(STDERR_FILENO, "ckpt guardian: process %d: leave the blob: %s\n",
				(int)ctl->pid, err ? err->msg : "?");
			ck_err_free(&err);
			return;
		}
		dprintf(STDERR_FILENO,
			"ckpt guardian: process %d: ckpt died during a blob command; sent the task home\n",
			(int)ctl->pid);
		return;
	}
}

/*
 * ckpt died during a call in a non-leader thread (thread.c), whose frame is
 * in the blob: a thread still on that stack (before its `ret`, or at the
 * restorer) would crash once the blob is gone.  Give it its own registers
 * and mask back, as its rt_sigreturn would have; our detach then lets the
 * kernel restart what it was in.
 */
static void thread_send_home(struct parasite_ctl *ctl)
{
	struct ck_err *err = NULL;

	if (__atomic_load_n(&away->pid, __ATOMIC_ACQUIRE) != ctl->pid)
		return;
	for (size_t i = 1; i < ctl->nr_threads; i++) {
		struct parasite_thread *t = &ctl->threads[i];

		if (t->tid != away->tid)
			continue;
		if (t->regs.rsp < away->lo || t->regs.rsp >= away->hi)
			break; /* home already: its rt_sigreturn ran */
		if (ptr_setregs(t->tid, &away->regs, &err) < 0 ||
		    ptr_setsigmask(t->tid, away->mask, &err) < 0) {
			dprintf(STDERR_FILENO, "ckpt guardian: process %d: thread %d: %s\n",
				(int)ctl->pid, (int)t->tid, err ? err->msg : "?");
			ck_err_free(&err);
			return;
		}
		t->regs = away->regs;
		dprintf(STDERR_FILENO,
			"ckpt guardian: process %d: ckpt died during a call in thread %d; sent it home\n",
			(int)ctl->pid, (int)t->tid);
		break;
	}
	away->pid = 0;
}

/* Remove what is left in one target; bounded (seize and call timeouts). */
static void clean_pid(pid_t pid)
{
	struct parasite_ctl *ctl = NULL;
	struct ck_err *err = NULL;
	long deadline = now_ms() + 2000;
	bool any = false;
	size_t i;

	for (i = 0; i < GUARD_RECS; i++)
		if ((recs[i].kind == REC_MAP || recs[i].kind == REC_FD) && recs[i].pid == pid)
			any = true;
	if (!any)
		return;
	/*
	 * The kernel detaches the target when its tracer exits; a call ckpt had
	 * started then still runs in the target (the mapping or fd appears after
	 * ckpt's death).  Seizing stops the target after that call returns, so
	 * the check for what exists is done only once it is seized.
	 */
	while (traced(pid) && now_ms() < deadline)
		usleep(1000);
	if (parasite_seize(pid, PARASITE_SEIZE_NO_FPU, &ctl, &err) < 0) {
		dprintf(STDERR_FILENO, "ckpt guardian: cannot seize %d to clean up: %s\n", (int)pid,
			err ? err->msg : "?");
		ck_err_free(&err);
		return;
	}
	skip_pending_call(ctl);
	blob_send_home(ctl);
	thread_send_home(ctl);
	for (i = 0; i < GUARD_RECS; i++) {
		struct guard_rec *r = &recs[i];
		unsigned long args[6] = { 0 };
		long ret = 0;

		if (r->kind == REC_FREE || r->pid != pid || !rec_present(r))
			continue; /* never made (or skipped above): nothing to undo */
		if (r->kind == REC_MAP) {
			args[0] = r->addr;
			args[1] = r->len;
		} else {
			args[0] = (unsigned long)r->fd;
		}
		if (parasite_syscall(ctl, r->kind == REC_MAP ? SYS_munmap : SYS_close, args, &ret,
				     &err) < 0 ||
		    ret < 0) {
			dprintf(STDERR_FILENO, "ckpt guardian: cleanup in %d failed: %s\n",
				(int)pid, err ? err->msg : strerror((int)-ret));
			ck_err_free(&err);
		}
		r->kind = REC_FREE;
	}
	parasite_release_quiet(ctl);
}

static void guard_main(pid_t parent)
{
	int pidfd = (int)syscall(SYS_pidfd_open, parent, 0);
	struct pollfd p;

	/* Already reparented: ckpt died before we got here, clean up now.  Still
	 * its child after pidfd_open(): the pidfd is ckpt's (no pid reuse). */
	if (pidfd >= 0 && getppid() == parent) {
		p.fd = pidfd;
		p.events = POLLIN;
		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
	}
	for (size_t i = 0; i < GUARD_RECS; i++)
		if (recs[i].kind != REC_FREE)
			clean_pid(recs[i].pid);
	_exit(0);
}

static int guard_start(struct ck_err **err)
{
	pid_t parent = getpid(), pid;
	void *page;

	if (recs && guardian_pid)
		return 0;
	page = mmap(NULL, GUARD_SHARED, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return ck_err_set(err, errno, "guardian page");
	pid = fork();
	if (pid < 0) {
		munmap(page, GUARD_SHARED);
		return ck_err_set(err, errno, "fork leftover guardian");
	}
	recs = page;
	away = (struct guard_away *)((char *)page + 4096);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		in_guardian = true;
		parasite_fault_hook = NULL; /* the guardian's own calls are not tested */
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		prctl(PR_SET_NAME, "ckpt-leftovers");
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		/* no image fds, no pipes: nobody waits for us */
		syscall(SYS_close_range, 3U, ~0U, 0U);
		guard_main(parent);
	}
	guardian_pid = pid;
	return 0;
}

static struct guard_rec *rec_new(int kind, pid_t pid, struct ck_err **err)
{
	if (in_guardian)
		return NULL;
	if (guard_start(err) < 0)
		return NULL;
	for (size_t i = 0; i < GUARD_RECS; i++)
		if (recs[i].kind == REC_FREE) {
			recs[i].pid = pid;
			recs[i].call_ip = 0;
			recs[i].blob_exit_ip = 0;
			__atomic_store_n(&recs[i].kind, kind, __ATOMIC_RELEASE);
			return &recs[i];
		}
	ck_err_set(err, ENOSPC, "too many remote mappings and fds at once");
	return NULL;
}

/* see parasite-priv.h */
int guard_note_map(pid_t pid, unsigned long addr, unsigned long len, struct ck_err **err)
{
	struct guard_rec *r;

	if (in_guardian)
		return 0;
	r = rec_new(REC_CLAIMED, pid, err);
	if (!r)
		return -1;
	r->addr = addr;
	r->len = len;
	__atomic_store_n(&r->kind, REC_MAP, __ATOMIC_SEQ_CST);
	return 0;
}

/* see parasite-priv.h */
int guard_note_fd(pid_t pid, int fd, struct ck_err **err)
{
	struct guard_rec *r;

	if (in_guardian)
		return 0;
	r = rec_new(REC_CLAIMED, pid, err);
	if (!r)
		return -1;
	r->fd = fd;
	__atomic_store_n(&r->kind, REC_FD, __ATOMIC_SEQ_CST);
	return 0;
}

/* see parasite-priv.h */
void guard_note_call(pid_t pid, bool map, unsigned long addr_or_fd, long nr, unsigned long ip,
		     unsigned long sp)
{
	if (!recs || in_guardian)
		return;
	for (size_t i = 0; i < GUARD_RECS; i++) {
		struct guard_rec *r = &recs[i];

		if (r->pid != pid ||
		    !((map && r->kind == REC_MAP && r->addr == addr_or_fd) ||
		      (!map && r->kind == REC_FD && (unsigned long)r->fd == addr_or_fd)))
			continue;
		r->call_nr = nr;
		r->call_sp = sp;
		r->call_arg0 = map ? addr_or_fd : nr == SYS_close ? addr_or_fd : 0;
		__atomic_store_n(&r->call_ip, ip, __ATOMIC_SEQ_CST);
	}
}

/* see parasite-priv.h */
void guard_note_blob(pid_t pid, unsigned long addr, unsigned long exit_ip, unsigned long exit_sp)
{
	if (!recs || in_guardian)
		return;
	for (size_t i = 0; i < GUARD_RECS; i++) {
		struct guard_rec *r = &recs[i];

		if (r->pid != pid || r->kind != REC_MAP || r->addr != addr)
			continue;
		r->blob_exit_sp = exit_sp;
		__atomic_store_n(&r->blob_exit_ip, exit_ip, __ATOMIC_SEQ_CST);
	}
}

/* see parasite-priv.h */
void guard_note_thread(pid_t pid, pid_t tid, unsigned long lo, unsigned long hi,
		       const struct user_regs_struct *regs, uint64_t mask)
{
	if (!away || in_guardian)
		return;
	away->tid = tid;
	away->lo = lo;
	away->hi = hi;
	away->regs = *regs;
	away->mask = mask;
	__atomic_store_n(&away->pid, pid, __ATOMIC_SEQ_CST);
}

/* see parasite-priv.h */
void guard_thread_back(void)
{
	if (away && !in_guardian)
		__atomic_store_n(&away->pid, 0, __ATOMIC_SEQ_CST);
}

/* see parasite-priv.h */
void guard_forget(pid_t pid, bool map, unsigned long addr_or_fd)
{
	if (!recs || in_guardian)
		return;
	for (size_t i = 0; i < GUARD_RECS; i++) {
		struct guard_rec *r = &recs[i];

		if (r->pid != pid)
			continue;
		if ((map && r->kind == REC_MAP && r->addr == addr_or_fd) ||
		    (!map && r->kind == REC_FD && (unsigned long)r->fd == addr_or_fd))
			__atomic_store_n(&r->kind, REC_FREE, __ATOMIC_SEQ_CST);
	}
}
