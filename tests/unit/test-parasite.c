// SPDX-License-Identifier: MIT
/*
 * parasite/ API on a forked child: seize/release without side effects, remote
 * syscalls (vDSO and poked), remote memory, the blob (sigactions, tid address),
 * and the userfaultfd hand-over (create in the target, pidfd_getfd, close).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "parasite/parasite.h"
#include "tests/unit/tap.h"

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#define UFFD_FEATURE_WP_UNPOPULATED_ (1ULL << 13)
#define UFFD_FEATURE_WP_ASYNC_       (1ULL << 15)

struct child_info {
	unsigned long tid_address;
	unsigned long brk;
	unsigned long altstack; /* its own sigaltstack (ASan may have set one before) */
	size_t altstack_len;
	unsigned long region;
	size_t region_len;
};

static volatile sig_atomic_t usr1_count;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_count++;
}

/* The child: a SIGUSR1 handler with SA_RESTART and a mask, SIGPIPE ignored, a
 * 4-page region, ITIMER_VIRTUAL armed (1000 s of CPU: never fires), parent-death
 * signal SIGWINCH (ignored by default); reports its tid address and region, then reads its pipe
 * (blocking) and echoes each byte back incremented, forever. */
static pid_t start_child(struct child_info *info, int *to_child, int *from_child)
{
	int down[2], up[2];
	pid_t pid;

	if (pipe(down) < 0 || pipe(up) < 0)
		abort();
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		struct sigaction sa;
		struct child_info ci = { 0 };
		unsigned char c;

		close(down[1]);
		close(up[0]);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_usr1;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		sigaddset(&sa.sa_mask, SIGUSR2);
		sigaction(SIGUSR1, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		setitimer(ITIMER_VIRTUAL, &(struct itimerval){ .it_value = { 1000, 0 } }, NULL);
		prctl(PR_SET_PDEATHSIG, SIGWINCH, 0, 0, 0);
		prctl(PR_GET_TID_ADDRESS, &ci.tid_address);
		ci.brk = (unsigned long)sbrk(0);
		ci.altstack_len = 4 * SIGSTKSZ;
		/* mmap, not malloc: the program break stays where ci.brk says */
		ci.altstack = (unsigned long)mmap(NULL, ci.altstack_len, PROT_READ | PROT_WRITE,
						  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (ci.altstack == (unsigned long)MAP_FAILED ||
		    sigaltstack(
			    &(stack_t){ .ss_sp = (void *)ci.altstack, .ss_size = ci.altstack_len },
			    NULL) < 0)
			_exit(5);
		ci.region_len = 4 * 4096;
		ci.region = (unsigned long)mmap(NULL, ci.region_len, PROT_READ | PROT_WRITE,
						MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (write(up[1], &ci, sizeof(ci)) != sizeof(ci))
			_exit(1);
		for (;;) {
			ssize_t n = read(down[0], &c, 1);

			if (n == 1) {
				c = (unsigned char)(c + 1 + usr1_count);
				if (write(up[1], &c, 1) != 1)
					_exit(2);
			} else if (n == 0) {
				_exit(0);
			} else if (errno != EINTR) {
				_exit(3);
			} else {
				c = 0xee; /* EINTR: report it */
				if (write(up[1], &c, 1) != 1)
					_exit(4);
			}
		}
	}
	close(down[0]);
	close(up[1]);
	if (read(up[0], info, sizeof(*info)) != sizeof(*info))
		abort();
	*to_child = down[1];
	*from_child = up[0];
	return pid;
}

static int echo(int to, int from, unsigned char v)
{
	unsigned char c = v;

	if (write(to, &c, 1) != 1 || read(from, &c, 1) != 1)
		return -1;
	return c;
}

static char *slurp(const char *path)
{
	char *buf = calloc(1, 1 << 16);
	int fd = open(path, O_RDONLY);

	if (fd >= 0) {
		if (read(fd, buf, (1 << 16) - 1) < 0)
			buf[0] = '\0';
		close(fd);
	}
	return buf;
}

static char *proc_file(pid_t pid, const char *name)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	return slurp(path);
}

/* Wait (up to 2 s) until the child sits in read(). */
static void wait_in_read(pid_t pid)
{
	for (int i = 0; i < 400; i++) {
		_cleanup_free_ char *s = proc_file(pid, "syscall");

		if (!strncmp(s, "0 ", 2))
			return;
		usleep(5000);
	}
}

static bool tracer_is_zero(pid_t pid)
{
	_cleanup_free_ char *s = proc_file(pid, "status");

	return strstr(s, "\nTracerPid:\t0\n") != NULL;
}

static void diag_err(struct ck_err **err)
{
	if (*err) {
		_cleanup_free_ char *m = ck_err_str(*err);

		tap_diag("error: %s", m);
		ck_err_free(err);
	}
}

static void test_seize_only(pid_t pid)
{
	_cleanup_free_ char *maps0 = NULL, *sys0 = NULL, *maps1 = NULL, *sys1 = NULL;
	struct parasite_ctl *ctl = NULL;
	struct ck_err *err = NULL;

	wait_in_read(pid);
	maps0 = proc_file(pid, "maps");
	sys0 = proc_file(pid, "syscall");
	tap_ok(parasite_seize(pid, 0, &ctl, &err) == 0, "seize");
	diag_err(&err);
	if (!ctl)
		return;
	tap_ok(parasite_pid(ctl) == pid && parasite_nr_threads(ctl) == 1 &&
		       parasite_thread_tid(ctl, 0) == pid,
	       "one thread, the leader");
	tap_ok(!parasite_was_stopped(ctl), "not stopped");
	tap_ok(!tracer_is_zero(pid), "traced while seized");
	tap_ok(parasite_release(ctl, &err) == 0, "release");
	diag_err(&err);
	parasite_ctl_free(ctl);
	wait_in_read(pid);
	maps1 = proc_file(pid, "maps");
	sys1 = proc_file(pid, "syscall");
	tap_ok(tracer_is_zero(pid), "untraced after release");
	tap_ok(!strcmp(maps0, maps1), "seize/release leaves the mappings alone");
	tap_ok(!strcmp(sys0, sys1), "back in the same syscall with the same registers (%s)", sys1);
}

static void test_syscalls(pid_t pid, unsigned int flags, const char *how)
{
	_cleanup_free_ char *maps0 = proc_file(pid, "maps");
	_cleanup_free_ char *maps1 = NULL;
	struct parasite_ctl *ctl = NULL;
	struct ck_err *err = NULL;
	unsigned long args[6] = { 0 }, addr = 0;
	char buf[64] = "", back[64] = "";
	long ret = 0;
	bool ok;

	if (parasite_seize(pid, flags, &ctl, &err) < 0) {
		diag_err(&err);
		tap_ok(false, "%s: seize", how);
		return;
	}
	ok = parasite_syscall(ctl, SYS_getpid, args, &ret, &err) == 0;
	tap_ok(ok && ret == pid, "%s: remote getpid = %ld", how, ret);
	diag_err(&err);
	args[0] = 999;
	tap_ok(parasite_syscall(ctl, SYS_close, args, &ret, &err) == 0 && ret == -EBADF,
	       "%s: remote close(999) = -EBADF", how);
	diag_err(&err);
	tap_ok(parasite_mmap(ctl, 100, PROT_READ | PROT_WRITE, &addr, &err) == 0 && addr,
	       "%s: remote mmap", how);
	diag_err(&err);
	snprintf(buf, sizeof(buf), "hello from %s", how);
	tap_ok(parasite_write(ctl, addr, buf, sizeof(buf), &err) == 0 &&
		       parasite_read(ctl, addr, back, sizeof(back), &err) == 0 &&
		       !strcmp(buf, back),
	       "%s: write and read back remote memory", how);
	diag_err(&err);
	tap_ok(parasite_munmap(ctl, addr, &err) == 0, "%s: remote munmap", how);
	diag_err(&err);
	tap_ok(parasite_munmap(ctl, addr, &err) < 0 && err && err->errnum == EINVAL,
	       "%s: munmap of an unknown address fails", how);
	ck_err_free(&err);
	/* leftover mapping: release must unmap it */
	tap_ok(parasite_mmap(ctl, 8192, PROT_READ, &addr, &err) == 0, "%s: second mmap", how);
	diag_err(&err);
	tap_ok(parasite_release(ctl, &err) == 0, "%s: release", how);
	diag_err(&err);
	parasite_ctl_free(ctl);
	maps1 = proc_file(pid, "maps");
	tap_ok(!strcmp(maps0, maps1), "%s: no mapping left behind, text restored", how);
	tap_ok(tracer_is_zero(pid), "%s: untraced", how);
}

/* GET_TASK_STATE: the same sigactions as GET_SIGACTIONS, and the child's own values. */
static void test_task_state(struct parasite_ctl *ctl, const struct child_info *info,
			    const struct parasite_sigactions_args *sa)
{
	_cleanup_free_ struct parasite_task_state_args *ts = calloc(1, sizeof(*ts));
	struct ck_err *err = NULL;
	bool ok;

	ok = ts && parasite_get_task_state(ctl, ts, &err) == 0;
	tap_ok(ok, "blob: get task state");
	diag_err(&err);
	if (!ok)
		return;
	tap_ok(!memcmp(ts->sa.act, sa->act, sizeof(sa->act)) &&
		       !memcmp(ts->sa.sigaction_err, sa->sigaction_err, sizeof(sa->sigaction_err)),
	       "blob: task state's sigactions equal GET_SIGACTIONS'");
	tap_ok(!ts->itimer_err[0] && !ts->itimer_err[1] && !ts->itimer_err[2] &&
		       ts->itimer[0].value_sec == 0 && ts->itimer[0].value_usec == 0 &&
		       ts->itimer[1].value_sec > 0 && ts->itimer[1].value_sec <= 1000 &&
		       ts->itimer[1].interval_sec == 0,
	       "blob: ITIMER_REAL idle, ITIMER_VIRTUAL armed (%lld s left)",
	       (long long)ts->itimer[1].value_sec);
	tap_ok(ts->pdeath_sig_err == 0 && ts->pdeath_sig == SIGWINCH,
	       "blob: parent-death signal %d is SIGWINCH", ts->pdeath_sig);
	tap_ok(ts->brk == (int64_t)info->brk, "blob: brk 0x%llx is the child's 0x%lx",
	       (unsigned long long)ts->brk, info->brk);
	tap_ok(ts->sas_err == 0 && ts->sas.ss_flags == 0 && ts->sas.ss_sp == info->altstack &&
		       ts->sas.ss_size == info->altstack_len,
	       "blob: the child's alternate signal stack (0x%lx, %zu bytes)", info->altstack,
	       info->altstack_len);
	tap_ok(ts->child_subreaper_err == 0 && ts->child_subreaper == 0 && ts->dumpable == 1 &&
		       ts->thp_disabled == 0 && ts->secbits >= 0,
	       "blob: not a subreaper, dumpable, THP allowed, secbits %lld",
	       (long long)ts->secbits);
}

static void test_blob(pid_t pid, const struct child_info *info)
{
	_cleanup_free_ char *maps0 = proc_file(pid, "maps");
	_cleanup_free_ char *maps1 = NULL;
	struct parasite_sigactions_args sa;
	struct parasite_ctl *ctl = NULL;
	struct ck_err *err = NULL;
	long v = 0;
	bool ok;

	if (parasite_seize(pid, PARASITE_SEIZE_NO_FPU, &ctl, &err) < 0) {
		diag_err(&err);
		tap_ok(false, "blob: seize");
		return;
	}
	tap_ok(parasite_cmd(ctl, PARASITE_CMD_PING, NULL, 0, &v, &err) < 0 && err,
	       "blob: command before infect fails");
	ck_err_free(&err);
	tap_ok(parasite_infect(ctl, &err) == 0 && parasite_infected(ctl), "blob: infect");
	diag_err(&err);
	ok = parasite_cmd(ctl, PARASITE_CMD_PING, NULL, 0, &v, &err) == 0;
	tap_ok(ok && v == PARASITE_ABI_VERSION, "blob: ping answers ABI version %ld", v);
	diag_err(&err);
	tap_ok(parasite_get_sigactions(ctl, &sa, &err) == 0, "blob: get sigactions");
	diag_err(&err);
	tap_ok(sa.act[SIGUSR1 - 1].handler == (uint64_t)(unsigned long)on_usr1,
	       "blob: SIGUSR1 handler is the child's on_usr1");
	tap_ok((sa.act[SIGUSR1 - 1].flags & SA_RESTART) &&
		       (sa.act[SIGUSR1 - 1].mask & (1ULL << (SIGUSR2 - 1))),
	       "blob: SIGUSR1 flags have SA_RESTART, mask has SIGUSR2");
	tap_ok(sa.act[SIGPIPE - 1].handler == 1, "blob: SIGPIPE is SIG_IGN");
	tap_ok(sa.act[SIGTERM - 1].handler == 0 && sa.act[SIGKILL - 1].handler == 0,
	       "blob: SIGTERM and SIGKILL are SIG_DFL");
	tap_ok(sa.sigaction_err[SIGKILL - 1] == 0 && sa.sigaction_err[63] == 0,
	       "blob: every rt_sigaction read succeeded");
	if (sa.tid_address_err == -EINVAL)
		tap_skip("kernel without CONFIG_CHECKPOINT_RESTORE", "blob: tid address");
	else
		tap_ok(sa.tid_address_err == 0 && sa.clear_child_tid == info->tid_address,
		       "blob: clear_child_tid 0x%lx matches the child's own 0x%lx",
		       (unsigned long)sa.clear_child_tid, info->tid_address);
	test_task_state(ctl, info, &sa);
	tap_ok(parasite_cure(ctl, &err) == 0 && !parasite_infected(ctl), "blob: cure");
	diag_err(&err);
	tap_ok(parasite_infect(ctl, &err) == 0, "blob: infect again (release must cure)");
	diag_err(&err);
	tap_ok(parasite_release(ctl, &err) == 0, "blob: release");
	diag_err(&err);
	parasite_ctl_free(ctl);
	maps1 = proc_file(pid, "maps");
	tap_ok(!strcmp(maps0, maps1), "blob: no mapping left behind");
}

static void test_uffd(pid_t pid, const struct child_info *info)
{
	struct parasite_ctl *ctl = NULL;
	struct ck_err *err = NULL;
	unsigned long args[6] = { O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY };
	_cleanup_close_ int lfd = -1;
	struct uffdio_api api = { .api = UFFD_API,
				  .features =
					  UFFD_FEATURE_WP_ASYNC_ | UFFD_FEATURE_WP_UNPOPULATED_ };
	struct uffdio_register reg = { .range = { info->region, info->region_len },
				       .mode = UFFDIO_REGISTER_MODE_WP };
	char link[64], target[128];
	long rfd = -1, ret = -1;
	ssize_t n;

	if (parasite_seize(pid, PARASITE_SEIZE_NO_FPU, &ctl, &err) < 0) {
		diag_err(&err);
		tap_ok(false, "uffd: seize");
		return;
	}
	tap_ok(parasite_syscall(ctl, SYS_userfaultfd, args, &rfd, &err) == 0,
	       "uffd: remote userfaultfd ran");
	diag_err(&err);
	if (rfd < 0) {
		tap_skip("userfaultfd refused in the target", "uffd: rfd = %ld", rfd);
		parasite_ctl_free(ctl);
		return;
	}
	tap_ok(parasite_steal_fd(ctl, (int)rfd, &lfd, &err) == 0 && lfd >= 0, "uffd: pidfd_getfd");
	diag_err(&err);
	args[0] = (unsigned long)rfd;
	tap_ok(parasite_syscall(ctl, SYS_close, args, &ret, &err) == 0 && ret == 0,
	       "uffd: close the target's copy");
	diag_err(&err);
	tap_ok(parasite_release(ctl, &err) == 0, "uffd: release");
	diag_err(&err);
	parasite_ctl_free(ctl);
	snprintf(link, sizeof(link), "/proc/%d/fd/%ld", pid, rfd);
	n = readlink(link, target, sizeof(target) - 1);
	tap_ok(n < 0 || strstr(target, "userfaultfd") == NULL, "uffd: gone from the target");
	tap_ok(ioctl(lfd, UFFDIO_API, &api) == 0, "uffd: UFFDIO_API with WP_ASYNC from outside");
	tap_ok(ioctl(lfd, UFFDIO_REGISTER, &reg) == 0,
	       "uffd: UFFDIO_REGISTER (WP) of the target's region from outside");
}

static void test_errors(pid_t pid)
{
	struct parasite_ctl *ctl = NULL;
	struct ck_err *err = NULL;
	unsigned long args[6] = { 0 };
	long ret;

	tap_ok(parasite_seize(999999999, 0, &ctl, &err) < 0 && err && err->errnum == ESRCH,
	       "seize of a missing pid: ESRCH");
	ck_err_free(&err);
	if (parasite_seize(pid, 0, &ctl, &err) < 0) {
		diag_err(&err);
		return;
	}
	/* a refusal, not a system error: no strerror() after the reason */
	tap_ok(parasite_syscall(ctl, SYS_fork, args, &ret, &err) < 0 && err && err->errnum == 0 &&
		       strstr(err->msg, "cannot be run remotely: it would start a new process"),
	       "fork is refused, saying why");
	ck_err_free(&err);
	tap_ok(parasite_syscall(ctl, 5000, args, &ret, &err) < 0 && err, "bad number refused");
	ck_err_free(&err);
	/* a second seize of a seized process fails (already traced) */
	{
		struct parasite_ctl *ctl2 = NULL;

		tap_ok(parasite_seize(pid, 0, &ctl2, &err) < 0 && err && err->errnum == EBUSY,
		       "second seize: already traced");
		ck_err_free(&err);
		parasite_ctl_free(ctl2);
	}
	/* free without release: releases quietly */
	parasite_ctl_free(ctl);
	tap_ok(tracer_is_zero(pid), "ctl_free releases");
}

static void test_stopped(pid_t pid)
{
	struct parasite_ctl *ctl = NULL;
	struct ck_err *err = NULL;
	unsigned long args[6] = { 0 };
	siginfo_t si;
	long ret = 0;

	kill(pid, SIGSTOP);
	tap_ok(waitid(P_PID, (id_t)pid, &si, WSTOPPED) == 0, "child stopped");
	if (parasite_seize(pid, 0, &ctl, &err) < 0) {
		diag_err(&err);
		return;
	}
	tap_ok(parasite_was_stopped(ctl), "seize notes the group-stop");
	tap_ok(parasite_syscall(ctl, SYS_getppid, args, &ret, &err) == 0 && ret == getpid(),
	       "syscall in a stopped task");
	diag_err(&err);
	tap_ok(parasite_release(ctl, &err) == 0, "release stopped task");
	diag_err(&err);
	parasite_ctl_free(ctl);
	usleep(50000);
	{
		_cleanup_free_ char *s = proc_file(pid, "status");

		tap_ok(strstr(s, "State:\tT (stopped)") != NULL, "still stopped after release");
	}
	kill(pid, SIGCONT);
	tap_ok(waitid(P_PID, (id_t)pid, &si, WCONTINUED) == 0, "continued");
}

int main(void)
{
	struct child_info info;
	int to, from;
	pid_t pid = start_child(&info, &to, &from);
	int status;

	usleep(20000); /* let it block in read() */
	tap_ok(echo(to, from, 1) == 2, "child echoes before");
	test_seize_only(pid);
	tap_ok(echo(to, from, 2) == 3, "child echoes after seize/release");
	test_syscalls(pid, 0, "vdso");
	test_syscalls(pid, PARASITE_SEIZE_POKE_SYSCALL, "poked");
	tap_ok(echo(to, from, 3) == 4, "child echoes after remote syscalls (no EINTR)");
	test_blob(pid, &info);
	tap_ok(echo(to, from, 4) == 5, "child echoes after the blob");
	kill(pid, SIGUSR1);
	usleep(20000);
	tap_ok(echo(to, from, 5) == 7, "SIGUSR1 handler still installed and run");
	test_uffd(pid, &info);
	test_errors(pid);
	test_stopped(pid);
	tap_ok(echo(to, from, 6) == 8, "child echoes at the end");
	close(to);
	status = -1;
	if (waitpid(pid, &status, 0) != pid)
		status = -1;
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child exits normally (status 0x%x)",
	       status);
	return tap_done();
}
