// SPDX-License-Identifier: MIT
/*
 * rst-signals: signal handlers, a blocked mask and an alternate stack.
 *   SIGUSR2: SA_SIGINFO|SA_RESTART|SA_ONSTACK handler, sa_mask {SIGINT}
 *   SIGHUP: ignored; SIGPIPE: default
 *   blocked: SIGINT, SIGQUIT, SIGRTMIN+3
 *   sigaltstack: a 64 KiB buffer
 * On SIGTERM: every disposition, the mask and the alternate stack are as set,
 * and raising SIGUSR2 runs the handler on the alternate stack.
 */
#include <stdint.h>

#include "rst-common.h"

static char altstack[65536];
static volatile sig_atomic_t usr2_count, usr2_on_alt;

static void on_usr2(int sig, siginfo_t *si, void *uc)
{
	char probe;

	(void)sig;
	(void)si;
	(void)uc;
	usr2_count++;
	usr2_on_alt = (&probe >= altstack && &probe < altstack + sizeof(altstack));
}

int main(void)
{
	struct sigaction sa, got;
	sigset_t blk, cur;
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) }, ss2;

	rst_setup();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_usr2;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	if (sigaction(SIGUSR2, &sa, NULL) || signal(SIGHUP, SIG_IGN) == SIG_ERR ||
	    sigaltstack(&ss, NULL))
		rst_fail("setup: %s", strerror(errno));
	sigemptyset(&blk);
	sigaddset(&blk, SIGINT);
	sigaddset(&blk, SIGQUIT);
	sigaddset(&blk, SIGRTMIN + 3);
	sigprocmask(SIG_BLOCK, &blk, NULL);
	rst_say("READY");
	while (!rst_term) {
		pause();
		if (rst_usr1 && !rst_term)
			rst_say("CHANGED %d", (int)rst_usr1);
	}
	if (sigaction(SIGUSR2, NULL, &got) || got.sa_sigaction != on_usr2 ||
	    (got.sa_flags & (SA_SIGINFO | SA_RESTART | SA_ONSTACK)) !=
		    (SA_SIGINFO | SA_RESTART | SA_ONSTACK) ||
	    !sigismember(&got.sa_mask, SIGINT) || sigismember(&got.sa_mask, SIGQUIT))
		rst_fail("SIGUSR2 disposition changed (flags %#x)", (unsigned)got.sa_flags);
	if (sigaction(SIGHUP, NULL, &got) || got.sa_handler != SIG_IGN)
		rst_fail("SIGHUP is not ignored any more");
	if (sigaction(SIGPIPE, NULL, &got) || got.sa_handler != SIG_DFL)
		rst_fail("SIGPIPE is not default any more");
	sigprocmask(SIG_BLOCK, NULL, &cur);
	if (!sigismember(&cur, SIGINT) || !sigismember(&cur, SIGQUIT) ||
	    !sigismember(&cur, SIGRTMIN + 3) || sigismember(&cur, SIGUSR2))
		rst_fail("blocked mask changed");
	if (sigaltstack(NULL, &ss2) || ss2.ss_sp != altstack || ss2.ss_size != sizeof(altstack))
		rst_fail("alternate stack changed (%p, %zu)", ss2.ss_sp, ss2.ss_size);
	raise(SIGUSR2);
	if (usr2_count != 1 || !usr2_on_alt)
		rst_fail("SIGUSR2 handler: ran %d times, on the alternate stack: %d",
			 (int)usr2_count, (int)usr2_on_alt);
	rst_pass();
}
