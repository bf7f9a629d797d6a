// SPDX-License-Identifier: MIT
/*
 * rst-thrkill: two worker threads under a seccomp filter (installed with
 * TSYNC, so every thread has it) that kills the whole process on
 * sigaltstack() and on prctl(PR_GET_PDEATHSIG): the calls a dump runs inside
 * each thread.  Run as root, ckpt suspends the filter for them; a call let
 * through it would kill the process.  On SIGTERM it checks that its workers
 * still run and prints PASS.
 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>

#include "rst-common.h"

#define NTHR 2

static volatile unsigned long loops[NTHR];

static void *worker(void *arg)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	for (;;) {
		loops[(intptr_t)arg]++;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static int install(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sigaltstack, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_prctl, 0, 2),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PR_GET_PDEATHSIG, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
}

int main(void)
{
	pthread_t th[NTHR];
	unsigned long before[NTHR];
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	rst_setup();
	for (int i = 0; i < NTHR; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i))
			rst_fail("pthread_create");
	if (install())
		rst_fail("seccomp: %s", strerror(errno));
	rst_say("READY");
	while (!rst_term)
		pause();
	for (int i = 0; i < NTHR; i++)
		before[i] = loops[i];
	nanosleep(&ts, NULL);
	for (int i = 0; i < NTHR; i++)
		if (loops[i] == before[i])
			rst_fail("worker %d does not run any more", i);
	rst_pass();
}
