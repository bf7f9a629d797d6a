// SPDX-License-Identifier: MIT
/*
 * rst-threads: four threads, each with a thread-local pattern (fs_base based
 * TLS) and a counter it keeps incrementing between short sleeps.  On SIGTERM
 * the main thread checks that every thread still runs (its counter moves),
 * that each thread found its TLS and stack intact every time it looked, and
 * that the threads still have their names.  Each thread also has its own
 * alternate signal stack and parent-death signal (per thread in the kernel;
 * the main thread has neither), which it checks every time it looks.
 */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <time.h>

#include "rst-common.h"

#define NTHR 4

static _Thread_local uint64_t tls_pattern[64];
static volatile uint64_t counter[NTHR];
static volatile int bad[NTHR];
static volatile int quit = -1; /* the worker that returns */
static char altstack[NTHR][65536];
/* harmless if they ever come: ignored by default (0: none) */
static const int pdeath[NTHR] = { SIGWINCH, SIGURG, 0, SIGURG };

/* 0, or what differs from what thread @id set up */
static int own_state_bad(int id)
{
	stack_t ss;
	int sig = -1;

	if (sigaltstack(NULL, &ss) || ss.ss_sp != altstack[id] ||
	    ss.ss_size != sizeof(altstack[id]) || ss.ss_flags != 0)
		return 3;
	if (prctl(PR_GET_PDEATHSIG, &sig) || sig != pdeath[id])
		return 4;
	return 0;
}

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	uint64_t stack_pattern[128];
	char name[16];
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	stack_t ss = { .ss_sp = altstack[id], .ss_size = sizeof(altstack[id]) };

	snprintf(name, sizeof(name), "rst-worker-%d", id);
	prctl(PR_SET_NAME, name);
	if (sigaltstack(&ss, NULL) || prctl(PR_SET_PDEATHSIG, pdeath[id]))
		bad[id] = 5;
	for (int i = 0; i < 64; i++)
		tls_pattern[i] = (uint64_t)id * 1000 + (uint64_t)i;
	for (int i = 0; i < 128; i++)
		stack_pattern[i] = (uint64_t)id << 40 | (uint64_t)i;
	for (;;) {
		for (int i = 0; i < 64; i++)
			if (tls_pattern[i] != (uint64_t)id * 1000 + (uint64_t)i)
				bad[id] = 1;
		for (int i = 0; i < 128; i++)
			if (stack_pattern[i] != ((uint64_t)id << 40 | (uint64_t)i))
				bad[id] = 2;
		if (!bad[id])
			bad[id] = own_state_bad(id);
		counter[id]++;
		if (quit == id)
			return NULL;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* the main thread has neither: they are per thread, not per process */
static int main_state_ok(void)
{
	stack_t ss;
	int sig = -1;

	return !sigaltstack(NULL, &ss) && (ss.ss_flags & SS_DISABLE) &&
	       !prctl(PR_GET_PDEATHSIG, &sig) && sig == 0;
}

int main(void)
{
	pthread_t th[NTHR];
	uint64_t before[NTHR];
	struct timespec ts = { 0, 300 * 1000 * 1000 };

	rst_setup();
	if (!main_state_ok())
		rst_fail("the main thread starts with an alternate stack or a death signal");
	for (int i = 0; i < NTHR; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i))
			rst_fail("pthread_create");
	for (int i = 0; i < NTHR; i++)
		while (!counter[i])
			usleep(1000);
	rst_say("READY");
	while (!rst_term) {
		pause();
		if (rst_usr1 && !rst_term)
			rst_say("CHANGED %d", (int)rst_usr1);
	}
	for (int i = 0; i < NTHR; i++)
		before[i] = counter[i];
	nanosleep(&ts, NULL);
	for (int i = 0; i < NTHR; i++) {
		if (counter[i] == before[i])
			rst_fail("thread %d does not run any more", i);
		if (bad[i])
			rst_fail("thread %d saw its %s change", i,
				 (const char *[]){ "?", "TLS", "stack", "alternate signal stack",
						   "parent-death signal", "setup fail" }[bad[i]]);
	}
	if (!main_state_ok())
		rst_fail("the main thread has another thread's alternate stack or death signal");
	/* the thread names (thread_core.comm) came back too */
	int named = 0;
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char path[300], comm[32] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "rst-worker-", 11))
			named++;
		fclose(f);
	}
	if (d)
		closedir(d);
	if (named != NTHR)
		rst_fail("%d threads named rst-worker-*, want %d", named, NTHR);
	/* a join is woken through the thread's clear_child_tid (thread_info.clear_tid_addr) */
	{
		struct timespec until;

		quit = NTHR - 1;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 5;
		if (pthread_timedjoin_np(th[NTHR - 1], NULL, &until))
			rst_fail("thread %d returned, its join was never woken", NTHR - 1);
	}
	rst_pass();
}
