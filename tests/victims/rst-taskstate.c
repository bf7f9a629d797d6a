// SPDX-License-Identifier: MIT
/*
 * rst-taskstate: the values a final dump reads inside the task (the parasite's
 * GET_TASK_STATE command) besides the signal handlers (rst-signals has those):
 *   ITIMER_REAL: value 2000 s, interval 3000 s (a SIGALRM would fail the check)
 *   ITIMER_PROF: value 1000 s, no interval
 *   PR_SET_PDEATHSIG SIGWINCH (ignored by default: harmless when it fires)
 *   PR_SET_CHILD_SUBREAPER 1, PR_SET_THP_DISABLE 1
 *   the program break moved up 3 pages, a pattern written there ("READY BRK"
 *   gives the final break, in decimal)
 * On SIGTERM: every value is still as set (timers counting down, not re-armed).
 */
#include <sys/prctl.h>
#include <sys/time.h>

#include "rst-common.h"

#define HEAP_GROW (3 * 4096)

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void check_timer(int which, const char *name, long value_max, long interval)
{
	struct itimerval it;

	if (getitimer(which, &it))
		rst_fail("getitimer %s: %s", name, strerror(errno));
	if (it.it_interval.tv_sec != interval || it.it_interval.tv_usec != 0)
		rst_fail("%s interval is %ld.%06ld s, expected %ld s", name,
			 (long)it.it_interval.tv_sec, (long)it.it_interval.tv_usec, interval);
	if ((it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0) || it.it_value.tv_sec > value_max)
		rst_fail("%s value is %ld.%06ld s, expected in (0, %ld] s", name,
			 (long)it.it_value.tv_sec, (long)it.it_value.tv_usec, value_max);
}

int main(void)
{
	struct itimerval real = { { 3000, 0 }, { 2000, 0 } }, prof = { { 0, 0 }, { 1000, 0 } };
	int pdeath = 0, reaper = 0;
	unsigned char *heap;
	void *brk_end;

	rst_setup();
	signal(SIGALRM, on_alarm);
	heap = sbrk(HEAP_GROW);
	if (heap == (void *)-1)
		rst_fail("sbrk: %s", strerror(errno));
	for (int i = 0; i < HEAP_GROW; i++)
		heap[i] = (unsigned char)(i * 7 + 3);
	if (setitimer(ITIMER_REAL, &real, NULL) || setitimer(ITIMER_PROF, &prof, NULL) ||
	    prctl(PR_SET_PDEATHSIG, SIGWINCH, 0, 0, 0) ||
	    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) || prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		rst_fail("setup: %s", strerror(errno));
	/* stdio's buffer is malloc'ed at the first line: the break is final after it */
	rst_say("START");
	brk_end = sbrk(0);
	rst_say("READY %lu", (unsigned long)brk_end);
	while (!rst_term) {
		pause();
		if (rst_usr1 && !rst_term)
			rst_say("CHANGED %d", (int)rst_usr1);
	}
	if (alarms)
		rst_fail("SIGALRM arrived %d times", (int)alarms);
	check_timer(ITIMER_REAL, "ITIMER_REAL", 2000, 3000);
	check_timer(ITIMER_PROF, "ITIMER_PROF", 1000, 0);
	if (prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0) || pdeath != SIGWINCH)
		rst_fail("PR_GET_PDEATHSIG: %d, expected %d", pdeath, SIGWINCH);
	if (prctl(PR_GET_CHILD_SUBREAPER, &reaper, 0, 0, 0) || reaper != 1)
		rst_fail("PR_GET_CHILD_SUBREAPER: %d", reaper);
	if (prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) != 1)
		rst_fail("PR_GET_THP_DISABLE is not 1");
	if (sbrk(0) != brk_end)
		rst_fail("program break %p, expected %p", sbrk(0), brk_end);
	for (int i = 0; i < HEAP_GROW; i++)
		if (heap[i] != (unsigned char)(i * 7 + 3))
			rst_fail("heap byte %d changed", i);
	rst_pass();
}
