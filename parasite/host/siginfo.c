// SPDX-License-Identifier: MIT
/*
 * A seized thread's queued signals, as the kernel hands them to a tracer:
 *
 *   PTRACE_PEEKSIGINFO(tid, {off, flags, nr}, buf)
 *       flags 0                           the thread's private queue
 *       flags PTRACE_PEEKSIGINFO_SHARED   the process's shared queue
 *       returns how many siginfo_t it copied from entry @off on, 0 past the end
 *
 * The signals stay queued: reading them harms nothing.  Signals ckpt held
 * back while it ran code in the leader (sent by someone in that window, see
 * leader_run()) are no longer queued; parasite_held_signals() gives their
 * siginfo, and release sends them again.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>

#include "common/err.h"
#include "common/xalloc.h"
#include "parasite/parasite.h"
#include "parasite/host/parasite-priv.h"

#ifndef PTRACE_PEEKSIGINFO
#define PTRACE_PEEKSIGINFO 0x4209
#endif
#ifndef PTRACE_PEEKSIGINFO_SHARED
#define PTRACE_PEEKSIGINFO_SHARED 1
#endif

/* <linux/ptrace.h>'s struct ptrace_peeksiginfo_args (that header clashes with <sys/ptrace.h>) */
struct peek_args {
	uint64_t off;
	uint32_t flags;
	int32_t nr;
};

enum { PEEK_CHUNK = 32 };

/* see parasite.h */
int parasite_peek_signals(struct parasite_ctl *ctl, size_t idx, bool shared, siginfo_t **out,
			  size_t *nr, struct ck_err **err)
{
	siginfo_t *si = NULL;
	size_t n = 0;

	*out = NULL;
	*nr = 0;
	if (idx >= ctl->nr_threads)
		return ck_err_set(err, EINVAL, "thread index %zu of process %d out of range", idx,
				  ctl->pid);
	for (;;) {
		struct peek_args a = { .off = n,
				       .flags = shared ? PTRACE_PEEKSIGINFO_SHARED : 0,
				       .nr = PEEK_CHUNK };
		long got;

		si = xreallocarray(si, n + PEEK_CHUNK, sizeof(*si));
		got = ptrace(PTRACE_PEEKSIGINFO, ctl->threads[idx].tid, &a, si + n);
		if (got < 0) {
			int e = errno;

			free(si);
			return ck_err_set(err, e, "PTRACE_PEEKSIGINFO (%s queue) of thread %d",
					  shared ? "shared" : "private", ctl->threads[idx].tid);
		}
		n += (size_t)got;
		if (got < PEEK_CHUNK)
			break;
	}
	if (!n) {
		free(si);
		return 0;
	}
	*out = si;
	*nr = n;
	return 0;
}

/* see parasite.h */
size_t parasite_held_signals(const struct parasite_ctl *ctl, siginfo_t *out, size_t max)
{
	size_t n = 0;

	for (int sig = 1; sig <= 64 && n < max; sig++)
		if (ctl->resend & (1ULL << (sig - 1)))
			out[n++] = ctl->held[sig - 1];
	return n;
}
