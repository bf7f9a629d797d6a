// SPDX-License-Identifier: MIT
/*
 * sweep-victim: a target that checks its own state all the time, for the
 * kill sweeps (tests/bats/kill-sweep.bats).  Alternates ~200 us of computing
 * (stopped in user mode) with ~200 us of nanosleep (stopped in a syscall that
 * must restart) and checks, every round: its 16-page pattern, its signal mask
 * (SIGUSR2 blocked, nothing else), its SSE rounding mode (upward, in MXCSR) and a value carried in a callee-saved register.  Any difference:
 * "BAD ..." on stderr and exit 3.  A fatal signal prints the faulting
 * address and instruction pointer ("FATAL sig=7 addr=... ip=...") first.
 * Prints "READY pid=N" when set up.  Dies with its parent.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define PAGES 16
#define PG    4096

static void fatal(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	char buf[160];
	int n = snprintf(buf, sizeof(buf), "FATAL sig=%d code=%d addr=%p ip=0x%llx sp=0x%llx\n",
			 sig, si->si_code, si->si_addr,
			 (unsigned long long)uc->uc_mcontext.gregs[REG_RIP],
			 (unsigned long long)uc->uc_mcontext.gregs[REG_RSP]);

	if (write(2, buf, (size_t)n) < 0) {
		/* nothing to do */
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static unsigned int get_mxcsr(void)
{
	unsigned int v;

	asm volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static void bad(const char *what, unsigned long a, unsigned long b)
{
	fprintf(stderr, "BAD %s: 0x%lx != 0x%lx\n", what, a, b);
	exit(3);
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = fatal, .sa_flags = SA_SIGINFO };
	int fatal_sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS };
	sigset_t want, now;
	uint64_t *mem;
	uint64_t round = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (size_t i = 0; i < sizeof(fatal_sigs) / sizeof(fatal_sigs[0]); i++)
		sigaction(fatal_sigs[i], &sa, NULL);
	sigemptyset(&want);
	sigaddset(&want, SIGUSR2);
	sigprocmask(SIG_SETMASK, &want, NULL);
	{
		unsigned int m = (get_mxcsr() & ~0x6000u) | 0x4000u; /* round up */

		asm volatile("ldmxcsr %0" : : "m"(m));
	}
	mem = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	for (size_t i = 0; i < PAGES * PG / 8; i++)
		mem[i] = i * 0x9e3779b97f4a7c15ULL;
	printf("READY pid=%d\n", getpid());
	fflush(stdout);
	for (;;) {
		struct timespec ts = { 0, 200 * 1000 }, t0, t1;
		register uint64_t carried asm("rbx") = round * 7 + 1;
		volatile double x = 1.0;

		asm volatile("" : "+r"(carried));
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do {
			for (int k = 0; k < 1000; k++)
				x = x * 1.0000001 + 1e-9;
			clock_gettime(CLOCK_MONOTONIC, &t1);
		} while ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) <
			 200000);
		nanosleep(&ts, NULL);
		asm volatile("" : "+r"(carried));
		if (carried != round * 7 + 1)
			bad("callee-saved register", carried, round * 7 + 1);
		if ((get_mxcsr() & 0x6000u) != 0x4000u)
			bad("MXCSR rounding mode", get_mxcsr(), 0x4000u);
		sigprocmask(SIG_SETMASK, NULL, &now);
		for (int s = 1; s < 65; s++)
			if (sigismember(&now, s) != sigismember(&want, s))
				bad("signal mask bit", (unsigned long)s, 0);
		for (size_t i = round % PAGES * PG / 8, e = i + PG / 8; i < e; i++)
			if (mem[i] != i * 0x9e3779b97f4a7c15ULL)
				bad("memory word", mem[i], i * 0x9e3779b97f4a7c15ULL);
		round++;
	}
}
