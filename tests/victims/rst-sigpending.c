// SPDX-License-Identifier: MIT
/*
 * rst-sigpending: blocked signals that stay queued across the dump.
 *   shared queue:        SIGRTMIN+1 twice (sigqueue, values 11 then 12),
 *                        SIGWINCH (kill: SI_USER from our own pid)
 *   main's own queue:    SIGUSR2 (rt_tgsigqueueinfo, value 31)
 *   the worker's queue:  SIGRTMIN+2 (pthread_sigqueue, value 21)
 * On SIGTERM each is taken with sigtimedwait, in order and with its value and
 * code, and nothing else is queued.
 */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "rst-common.h"

static volatile int go, worker_result = -1;
static char worker_why[160];

/* Take @sig now (it must be pending), its siginfo into *si. */
static int take(int sig, siginfo_t *si)
{
	sigset_t one;
	struct timespec zero = { 0, 0 };

	sigemptyset(&one);
	sigaddset(&one, sig);
	return sigtimedwait(&one, si, &zero) == sig ? 0 : -1;
}

static void *worker(void *arg)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	siginfo_t si;

	(void)arg;
	while (!go)
		nanosleep(&ts, NULL);
	if (take(SIGRTMIN + 2, &si))
		snprintf(worker_why, sizeof(worker_why), "worker: SIGRTMIN+2 not pending (%s)",
			 strerror(errno));
	else if (si.si_code != SI_QUEUE || si.si_value.sival_int != 21)
		snprintf(worker_why, sizeof(worker_why),
			 "worker: SIGRTMIN+2 with code %d value %d, not SI_QUEUE 21", si.si_code,
			 si.si_value.sival_int);
	else
		worker_result = 0;
	return NULL;
}

static void expect_queued(int sig, int value, const char *what)
{
	siginfo_t si;

	if (take(sig, &si))
		rst_fail("%s: not pending after restore (%s)", what, strerror(errno));
	if (si.si_code != SI_QUEUE || si.si_value.sival_int != value || si.si_pid != getpid())
		rst_fail("%s: code %d value %d pid %d, not SI_QUEUE %d from %d", what, si.si_code,
			 si.si_value.sival_int, (int)si.si_pid, value, (int)getpid());
}

int main(void)
{
	sigset_t blk, all, old, pend;
	pthread_t th;
	siginfo_t si;

	rst_setup();
	sigemptyset(&blk);
	sigaddset(&blk, SIGRTMIN + 1);
	sigaddset(&blk, SIGRTMIN + 2);
	sigaddset(&blk, SIGWINCH);
	sigaddset(&blk, SIGUSR2);
	sigprocmask(SIG_BLOCK, &blk, NULL);
	/* the worker blocks everything, so SIGTERM and SIGUSR1 come to main */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&th, NULL, worker, NULL))
		rst_fail("pthread_create");
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (sigqueue(getpid(), SIGRTMIN + 1, (union sigval){ .sival_int = 11 }) ||
	    sigqueue(getpid(), SIGRTMIN + 1, (union sigval){ .sival_int = 12 }) ||
	    kill(getpid(), SIGWINCH) ||
	    pthread_sigqueue(th, SIGRTMIN + 2, (union sigval){ .sival_int = 21 }))
		rst_fail("setup: %s", strerror(errno));
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR2;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = 31;
	if (syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid), SIGUSR2, &si))
		rst_fail("rt_tgsigqueueinfo: %s", strerror(errno));
	rst_say("READY");
	while (!rst_term) {
		pause();
		if (rst_usr1 && !rst_term)
			rst_say("CHANGED %d", (int)rst_usr1);
	}

	expect_queued(SIGRTMIN + 1, 11, "SIGRTMIN+1 (first)");
	expect_queued(SIGRTMIN + 1, 12, "SIGRTMIN+1 (second)");
	if (take(SIGWINCH, &si))
		rst_fail("SIGWINCH: not pending after restore");
	if (si.si_code != SI_USER || si.si_pid != getpid())
		rst_fail("SIGWINCH: code %d pid %d, not SI_USER from %d", si.si_code,
			 (int)si.si_pid, (int)getpid());
	expect_queued(SIGUSR2, 31, "SIGUSR2 (main thread's own queue)");
	go = 1;
	pthread_join(th, NULL);
	if (worker_result)
		rst_fail("%s", worker_why);
	sigpending(&pend);
	for (int s = 1; s < 65; s++)
		if (sigismember(&pend, s))
			rst_fail("signal %d still pending", s);
	rst_pass();
}
