// SPDX-License-Identifier: MIT
/*
 * The blob: freestanding code run inside the target (no libc, no TLS, no stack
 * protector).  One command per call; see parasite/parasite-abi.h.
 */
#include <stddef.h>
#include <stdint.h>

#include "parasite/parasite-abi.h"
#include "parasite/blob/sys-x86_64.h"

#define EINVAL_ 22
#define EINTR_  4

long parasite_main(struct parasite_args *a);

/* The compiler may emit calls to these even in freestanding code. */
void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);

void *memset(void *s, int c, size_t n)
{
	unsigned char *p = s;

	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

static long get_sigactions(struct parasite_sigactions_args *out)
{
	for (int sig = 1; sig <= PARASITE_NSIG; sig++) {
		struct parasite_ksigaction *act = &out->act[sig - 1];

		memset(act, 0, sizeof(*act));
		out->sigaction_err[sig - 1] = sys_rt_sigaction(sig, NULL, act, 8);
	}
	out->clear_child_tid = 0;
	out->tid_address_err = sys_prctl2(PR_GET_TID_ADDRESS, (long)&out->clear_child_tid);
	return 0;
}

/* Same calls as the host's remote syscalls would make, from the task itself. */
static long get_task_state(struct parasite_task_state_args *out)
{
	memset(out, 0, sizeof(*out));
	get_sigactions(&out->sa);
	for (int i = 0; i < 3; i++) /* ITIMER_REAL 0, ITIMER_VIRTUAL 1, ITIMER_PROF 2 */
		out->itimer_err[i] = sys_getitimer(i, &out->itimer[i]);
	out->sas_err = sys_sigaltstack(NULL, &out->sas);
	out->brk = sys_brk(0);
	out->pdeath_sig_err = sys_prctl2(PR_GET_PDEATHSIG, (long)&out->pdeath_sig);
	out->child_subreaper_err = sys_prctl2(PR_GET_CHILD_SUBREAPER, (long)&out->child_subreaper);
	out->secbits = sys_prctl2(PR_GET_SECUREBITS, 0);
	out->dumpable = sys_prctl2(PR_GET_DUMPABLE, 0);
	out->thp_disabled = sys_prctl2(PR_GET_THP_DISABLE, 0);
	return 0;
}

/*
 * The answer is stored: tell the host (state WAITING) and sleep until it stops
 * us, which it does with a PTRACE_INTERRUPT inside the futex call; it never
 * wakes the futex.  A wake-up without that stop (a spurious one, a stop and
 * SIGCONT of an untraced task) sleeps again until the deadline.  Past it, or
 * on any other futex error (a seccomp filter that no longer sleeps for a
 * tracer that is gone), nobody is coming: LEFT, and the entry code unmaps the
 * blob and returns to the task's own context (head-x86_64.S).
 */
static void wait_for_host(struct parasite_args *a)
{
	volatile uint32_t *state = &a->state;
	unsigned int ms = a->wait_ms ? a->wait_ms : 10000;
	struct blob_timespec end;

	if (sys_clock_gettime(CLOCK_MONOTONIC_, &end) == 0) {
		end.tv_sec += ms / 1000;
		end.tv_nsec += (long)(ms % 1000) * 1000000L;
		if (end.tv_nsec >= 1000000000L) {
			end.tv_sec++;
			end.tv_nsec -= 1000000000L;
		}
		*state = PARASITE_BLOB_WAITING;
		for (;;) {
			long r = sys_futex_wait_until(state, PARASITE_BLOB_WAITING, &end);

			if (r != 0 && r != -EINTR_)
				break; /* -ETIMEDOUT or an error */
		}
	}
	*state = PARASITE_BLOB_LEFT;
}

static long run_cmd(struct parasite_args *a)
{
	long ret;

	if (a->magic != PARASITE_ARGS_MAGIC || a->version != PARASITE_ABI_VERSION)
		return -EINVAL_;
	switch (a->cmd) {
	case PARASITE_CMD_PING:
		ret = PARASITE_ABI_VERSION;
		break;
	case PARASITE_CMD_GET_SIGACTIONS:
		if (a->payload_size < sizeof(struct parasite_sigactions_args))
			ret = -EINVAL_;
		else
			ret = get_sigactions(parasite_args_payload(a));
		break;
	case PARASITE_CMD_GET_TASK_STATE:
		if (a->payload_size < sizeof(struct parasite_task_state_args))
			ret = -EINVAL_;
		else
			ret = get_task_state(parasite_args_payload(a));
		break;
	default:
		ret = -EINVAL_;
		break;
	}
	a->ret = ret;
	return ret;
}

long parasite_main(struct parasite_args *a)
{
	long ret = run_cmd(a);

	/* Whatever the command did (another ABI version too), the host is
	 * waiting for WAITING. */
	wait_for_host(a);
	return ret;
}
