// SPDX-License-Identifier: MIT
/*
 * Multi-threaded victim for `ckpt exec`: two threads spin counting, one waits
 * in pthread_cond_wait() (futex), one in epoll_wait() on a pipe, and the main
 * thread in sigwaitinfo() for SIGUSR2.  On SIGUSR2 the main thread checks that
 * the counters still advance, wakes the waiters and prints one line per check
 * ("PROGRESS ok", "COND rc=0", "EPOLL rc=1", "MAIN sig=SIGUSR2") then "DONE".
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long counters[2];
static volatile int stop;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int woken, cond_rc = -1, epoll_rc = -2, epoll_errno, pipefd[2];

static void *spin(void *arg)
{
	volatile unsigned long *c = arg;

	while (!stop)
		(*c)++;
	return NULL;
}

static void *cond_waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!woken)
		cond_rc = pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void *epoll_waiter(void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int ep = epoll_create1(0);

	(void)arg;
	epoll_ctl(ep, EPOLL_CTL_ADD, pipefd[0], &ev);
	epoll_rc = epoll_wait(ep, &out, 1, -1);
	epoll_errno = errno;
	return NULL;
}

int main(void)
{
	struct timespec t = { 0, 100 * 1000 * 1000 };
	pthread_t th[4];
	unsigned long before[2];
	siginfo_t si;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (pipe(pipefd) < 0)
		return 1;
	pthread_create(&th[0], NULL, spin, (void *)&counters[0]);
	pthread_create(&th[1], NULL, spin, (void *)&counters[1]);
	pthread_create(&th[2], NULL, cond_waiter, NULL);
	pthread_create(&th[3], NULL, epoll_waiter, NULL);
	printf("READY threads=5\n");
	fflush(stdout);
	do
		sig = sigwaitinfo(&set, &si);
	while (sig < 0 && errno == EINTR && printf("MAIN EINTR\n") > 0);
	printf("MAIN sig=%s\n", sig == SIGUSR2 ? "SIGUSR2" : "other");
	before[0] = counters[0];
	before[1] = counters[1];
	nanosleep(&t, NULL);
	printf("PROGRESS %s\n",
	       counters[0] > before[0] && counters[1] > before[1] ? "ok" : "stuck");
	stop = 1;
	pthread_mutex_lock(&lock);
	woken = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	if (write(pipefd[1], "x", 1) != 1)
		return 1;
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	printf("COND rc=%d\n", cond_rc);
	printf("EPOLL rc=%d%s%s\n", epoll_rc, epoll_rc < 0 ? " err=" : "",
	       epoll_rc < 0 ? strerrorname_np(epoll_errno) : "");
	printf("DONE\n");
	return 0;
}
