// SPDX-License-Identifier: MIT
/*
 * Pending signals of a seized task, as CRIU's core image carries them:
 *
 *   core-<tid>.img  thread_core.signals_p   that thread's private queue
 *   core-<pid>.img  tc.signals_s            the process's shared queue
 *
 * each a list of raw 128-byte siginfo_t, oldest first; CRIU's restorer queues
 * them again with rt_sigqueueinfo / rt_tgsigqueueinfo to itself, which takes
 * any si_code, before the task runs.  A signal sent while ckpt ran code in the
 * leader was held back (off the queue, sent again on release): it is written
 * too, into the private queue when it was sent to the thread (SI_TKILL), else
 * into the shared one.
 *
 * The queue must account for every pending bit: the kernel keeps a signal
 * pending without a queue entry only when it could not allocate one (or for
 * SIGKILL), and such a signal could not be written, so the dump refuses it.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/err.h"
#include "common/xalloc.h"
#include "parasite/parasite.h"
#include "runtime-glue/dump/dump-priv.h"

static uint64_t sig_bit(int sig)
{
	return sig >= 1 && sig <= 64 ? 1ULL << (sig - 1) : 0;
}

/* see dump-priv.h */
int glue_sigqueue_read(struct parasite_ctl *ctl, size_t idx, bool shared, uint64_t pending,
		       struct glue_sigqueue *q, struct ck_err **err)
{
	siginfo_t held[64];
	size_t nheld = 0;
	uint64_t seen = 0;
	pid_t tid = parasite_thread_tid(ctl, idx);

	*q = (struct glue_sigqueue){ .entry = SIGNAL_QUEUE_ENTRY__INIT };
	if (parasite_peek_signals(ctl, idx, shared, &q->si, &q->nr, err) < 0)
		return -1;
	for (size_t i = 0; i < q->nr; i++)
		seen |= sig_bit(q->si[i].si_signo);
	if (pending & ~seen) {
		uint64_t lost = pending & ~seen;

		glue_sigqueue_free(q);
		return ck_err_set(err, 0,
				  "thread %d: signal %d pending in its %s queue without a siginfo "
				  "(mask %#" PRIx64 "): it cannot be written",
				  (int)tid, __builtin_ctzll(lost) + 1,
				  shared ? "shared" : "private", lost);
	}
	if (idx == 0)
		nheld = parasite_held_signals(ctl, held, 64);
	for (size_t i = 0; i < nheld; i++) {
		if ((held[i].si_code == SI_TKILL) == shared)
			continue;
		q->si = xreallocarray(q->si, q->nr + 1, sizeof(*q->si));
		q->si[q->nr++] = held[i];
	}
	if (!q->nr)
		return 0;
	q->e = xcalloc(q->nr, sizeof(*q->e));
	q->ep = xcalloc(q->nr, sizeof(*q->ep));
	for (size_t i = 0; i < q->nr; i++) {
		siginfo_entry__init(&q->e[i]);
		q->e[i].siginfo.data = (uint8_t *)&q->si[i];
		q->e[i].siginfo.len = sizeof(q->si[i]);
		q->ep[i] = &q->e[i];
	}
	q->entry.n_signals = q->nr;
	q->entry.signals = q->ep;
	return 0;
}

/* see dump-priv.h */
void glue_sigqueue_free(struct glue_sigqueue *q)
{
	free(q->si);
	free(q->e);
	free(q->ep);
	*q = (struct glue_sigqueue){ .entry = SIGNAL_QUEUE_ENTRY__INIT };
}
