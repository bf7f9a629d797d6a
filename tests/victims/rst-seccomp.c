// SPDX-License-Identifier: MIT
/*
 * rst-seccomp [split]: a process under two seccomp filters, getppid() -> EPERM
 * (installed with prctl) then uname() -> ENOSYS (seccomp(2) with
 * SECCOMP_FILTER_FLAG_LOG), with a worker thread and a forked child that
 * inherit both.  With "split" the worker installs a third filter of its own,
 * getsid() -> EPERM, so the threads' chains differ.
 *
 * Every few milliseconds the worker and the child check that their filters
 * still answer as installed.  On SIGTERM (after restore) the leader checks its
 * own calls (getsid allowed for it even with "split"), Seccomp: 2 and
 * Seccomp_filters: N of itself, the worker (2, or 3 with "split") and the
 * child (2), asks the child for its verdict over a pipe, and prints PASS.
 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

#include "rst-common.h"

static volatile int worker_bad, worker_loops;
static volatile pid_t worker_tid;
static int split;

/* A filter that makes syscall @nr return @ret (SECCOMP_RET_ERRNO | errno), all else allowed. */
static int install(long nr, int err, unsigned int flags)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned int)err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };

	if (!flags)
		return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

/* Does syscall @nr fail with @err (filtered) -- or succeed (@err 0)? */
static int answers(long nr, int err)
{
	struct utsname u;
	long r;

	errno = 0;
	if (nr == SYS_uname)
		r = syscall(nr, &u);
	else
		r = syscall(nr, 0);
	return err ? r == -1 && errno == err : r >= 0;
}

/* The common filters hold: getppid EPERM, uname ENOSYS. */
static int filtered(void)
{
	return answers(SYS_getppid, EPERM) && answers(SYS_uname, ENOSYS);
}

/* Seccomp_filters: of /proc/self/task/TID/status, -1 when not Seccomp: 2. */
static int nr_filters(pid_t pid, pid_t tid)
{
	char path[96], line[256];
	int mode = -1, n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Seccomp:", 8))
			mode = atoi(line + 8);
		else if (!strncmp(line, "Seccomp_filters:", 16))
			n = atoi(line + 16);
	}
	fclose(f);
	return mode == 2 ? n : -1;
}

static void *worker(void *arg)
{
	struct timespec ts = { 0, 3 * 1000 * 1000 };

	(void)arg;
	if (split && install(SYS_getsid, EPERM, 0) < 0)
		worker_bad = 1;
	worker_tid = (pid_t)syscall(SYS_gettid);
	for (;;) {
		if (!filtered() || (split && !answers(SYS_getsid, EPERM)))
			worker_bad = 2;
		worker_loops++;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* The child: the same checks until SIGTERM, then one byte, G(ood) or B(ad), to @fd. */
static void __attribute__((noreturn)) child(int fd)
{
	struct timespec ts = { 0, 3 * 1000 * 1000 };
	int bad = 0;

	while (!rst_term) {
		if (!filtered() || !answers(SYS_getsid, 0))
			bad = 1;
		nanosleep(&ts, NULL);
	}
	if (write(fd, bad ? "B" : "G", 1) != 1)
		_exit(2);
	_exit(0);
}

int main(int argc, char **argv)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	int want = 2, pfd[2], loops, status;
	pthread_t th;
	pid_t kid;
	char v = 0;

	split = argc > 1 && !strcmp(argv[1], "split");
	rst_setup();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || install(SYS_getppid, EPERM, 0) < 0 ||
	    install(SYS_uname, ENOSYS, SECCOMP_FILTER_FLAG_LOG) < 0)
		rst_fail("seccomp: %s", strerror(errno));
	if (!filtered())
		rst_fail("the filters do not answer as installed");
	if (pipe(pfd) < 0)
		rst_fail("pipe: %s", strerror(errno));
	kid = fork();
	if (kid < 0)
		rst_fail("fork: %s", strerror(errno));
	if (!kid) {
		close(pfd[0]);
		child(pfd[1]);
	}
	close(pfd[1]);
	if (pthread_create(&th, NULL, worker, NULL))
		rst_fail("pthread_create");
	while (!worker_loops)
		usleep(1000);
	rst_say("READY child %d worker %d", (int)kid, (int)worker_tid);
	while (!rst_term) {
		pause();
		if (rst_usr1 && !rst_term)
			rst_say("CHANGED %d", (int)rst_usr1);
	}
	loops = worker_loops;
	nanosleep(&ts, NULL);
	if (worker_loops == loops)
		rst_fail("the worker thread does not run any more");
	if (worker_bad)
		rst_fail("the worker's filters changed (%d)", worker_bad);
	if (!filtered())
		rst_fail("the leader's filters are gone (getppid/uname allowed)");
	if (!answers(SYS_getsid, 0))
		rst_fail("getsid is filtered in the leader");
	if (nr_filters(getpid(), getpid()) != 2)
		rst_fail("leader: Seccomp_filters %d, want 2", nr_filters(getpid(), getpid()));
	want += split;
	if (nr_filters(getpid(), worker_tid) != want)
		rst_fail("worker: Seccomp_filters %d, want %d", nr_filters(getpid(), worker_tid),
			 want);
	if (nr_filters(kid, kid) != 2)
		rst_fail("child: Seccomp_filters %d, want 2", nr_filters(kid, kid));
	kill(kid, SIGTERM);
	if (read(pfd[0], &v, 1) != 1 || v != 'G')
		rst_fail("the child's filters changed (%c)", v ? v : '?');
	if (waitpid(kid, &status, 0) != kid || !WIFEXITED(status) || WEXITSTATUS(status))
		rst_fail("the child did not exit cleanly");
	rst_pass();
}
