// SPDX-License-Identifier: MIT
/*
 * Bridge to the injector's saved thread state.  parasite.h does not (yet)
 * export the registers, FPU state and signal mask it saves at seize time, so
 * this file reads them from the injector's private header.  It is the only
 * runtime-glue file that does; replace it with a public accessor
 * (e.g. parasite_thread_state()) once parasite/ offers one.
 */
#include <errno.h>
#include <string.h>

#include "common/err.h"
#include "parasite/parasite.h"
#include "parasite/host/parasite-priv.h"
#include "runtime-glue/dump/dump-state.h"

/* see dump-state.h */
int glue_thread_regs_get(struct parasite_ctl *ctl, size_t idx, struct glue_thread_regs *out,
			 struct ck_err **err)
{
	struct parasite_thread *t;

	if (idx >= ctl->nr_threads)
		return ck_err_set(err, EINVAL, "pid %d has no thread #%zu", (int)ctl->pid, idx);
	t = &ctl->threads[idx];
	if (!t->xsave && ptr_get_xsave(t, err) < 0)
		return ck_err_wrap(err, "FPU state of thread %d", (int)t->tid);
	memset(out, 0, sizeof(*out));
	out->regs = t->regs;
	out->sigmask = t->sigmask;
	out->xsave = t->xsave;
	out->xsave_len = t->xsave_len;
	return 0;
}
