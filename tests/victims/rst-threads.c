// SPDX-License-Identifier: MIT
/*
 * rst-threads: four threads, each with a thread-local pattern (fs_base based
 * TLS) and a counter it keeps incrementing between short sleeps.  On SIGTERM
 * the main thread checks that every thread still runs (its counter moves),
 * that each thread found its TLS and stack intact every time it looked, and
 * that the threads still have their names.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <time.h>

#include "rst-common.h"

#define NTHR 4

static _Thread_local uint64_t tls_pattern[64];
static volatile uint64_t counter[NTHR];
static volatile int bad[NTHR];

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	uint64_t stack_pattern[128];
	char name[16];
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	snprintf(name, sizeof(name), "rst-worker-%d", id);
	prctl(PR_SET_NAME, name);
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
		counter[id]++;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int main(void)
{
	pthread_t th[NTHR];
	uint64_t before[NTHR];
	struct timespec ts = { 0, 300 * 1000 * 1000 };

	rst_setup();
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
			rst_fail("thread %d saw its %s change", i, bad[i] == 1 ? "TLS" : "stack");
	}
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
	rst_pass();
}
