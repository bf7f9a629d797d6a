/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Shared by the rst-* victims (dump/restore tests, zdtm style): each sets up
 * its state, prints READY, and waits.  SIGUSR1 asks for a change between
 * pre-dumps (the victim prints "CHANGED n" when done); SIGTERM (after
 * restore) makes it check its own state and print PASS or "FAIL: why", then
 * exit 0 or 1.  Output goes to stdout, which the test redirects to a file.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t rst_term, rst_usr1;

static void rst_on_term(int sig)
{
	(void)sig;
	rst_term = 1;
}

static void rst_on_usr1(int sig)
{
	(void)sig;
	rst_usr1++;
}

/* A clean fd table, own session unless RST_NO_SETSID is set (so the tree
 * holds its session leader), line-buffered output,
 * SIGTERM and SIGUSR1 handlers. */
static inline void rst_setup(void)
{
	struct sigaction sa;

	/* a clean fd table: nothing inherited from the test harness but stdio */
	syscall(SYS_close_range, 3U, ~0U, 0U);
	if (!getenv("RST_NO_SETSID"))
		setsid();
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = rst_on_term;
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = rst_on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
}

static inline void rst_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void rst_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static inline __attribute__((noreturn)) void rst_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline __attribute__((noreturn)) void rst_fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(1);
}

static inline __attribute__((noreturn)) void rst_pass(void)
{
	rst_say("PASS");
	exit(0);
}
