// SPDX-License-Identifier: MIT
/*
 * A seized thread's seccomp filter chain, as the kernel hands it to a tracer:
 *
 *   PTRACE_SECCOMP_GET_FILTER(tid, n, buf)    n = 0 is the filter installed
 *                                             first; ENOENT past the newest
 *   PTRACE_SECCOMP_GET_METADATA(tid, {n, ?})  the flags it was installed with
 *                                             (SECCOMP_FILTER_FLAG_LOG, ...);
 *                                             EIO on kernels before 4.16
 *
 * Both need CAP_SYS_ADMIN in the initial user namespace and a tracer that is
 * not under seccomp itself (the kernel answers EACCES / EMEDIUMTYPE).
 */
#include <errno.h>
#include <linux/filter.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/xalloc.h"
#include "parasite/parasite.h"
#include "parasite/host/parasite-priv.h"

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif
#ifndef PTRACE_SECCOMP_GET_METADATA
#define PTRACE_SECCOMP_GET_METADATA 0x420d
#endif

/* <linux/ptrace.h>'s struct seccomp_metadata (that header clashes with <sys/ptrace.h>) */
struct seccomp_meta {
	uint64_t filter_off;
	uint64_t flags;
};

/* see parasite.h */
void parasite_seccomp_filters_free(struct parasite_seccomp_filter *f, size_t nr)
{
	for (size_t i = 0; f && i < nr; i++)
		free(f[i].insns);
	free(f);
}

static int get_filter_err(struct ck_err **err, int e, pid_t tid, size_t n)
{
	if (e == EACCES || e == EPERM)
		return ck_err_set(
			err, e,
			"reading seccomp filter %zu of thread %d needs CAP_SYS_ADMIN (run ckpt as root)",
			n, (int)tid);
	if (e == EMEDIUMTYPE)
		return ck_err_set(
			err, e,
			"reading seccomp filter %zu of thread %d: ckpt runs under seccomp itself",
			n, (int)tid);
	return ck_err_set(err, e, "PTRACE_SECCOMP_GET_FILTER %zu of thread %d", n, (int)tid);
}

/* see parasite.h */
int parasite_seccomp_filters(struct parasite_ctl *ctl, size_t idx,
			     struct parasite_seccomp_filter **out, size_t *nr, struct ck_err **err)
{
	_cleanup_free_ struct sock_filter *buf = xcalloc(BPF_MAXINSNS, sizeof(*buf));
	struct parasite_seccomp_filter *f = NULL;
	bool meta_ok = true;
	size_t n = 0;
	pid_t tid;

	*out = NULL;
	*nr = 0;
	if (!ctl->seized || idx >= ctl->nr_threads)
		return ck_err_set(err, EINVAL,
				  "seccomp filters: thread %zu of pid %d is not seized", idx,
				  (int)ctl->pid);
	tid = ctl->threads[idx].tid;
	for (;;) {
		struct seccomp_meta meta = { .filter_off = n };
		long len = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)n, buf);

		if (len < 0 && errno == ENOENT)
			break;
		if (len < 0 || len > BPF_MAXINSNS) {
			get_filter_err(err, len < 0 ? errno : EOVERFLOW, tid, n);
			parasite_seccomp_filters_free(f, n);
			return -1;
		}
		if (meta_ok &&
		    ptrace(PTRACE_SECCOMP_GET_METADATA, tid, (void *)sizeof(meta), &meta) < 0) {
			if (errno != EIO) {
				ck_err_set(err, errno,
					   "PTRACE_SECCOMP_GET_METADATA %zu of thread %d", n,
					   (int)tid);
				parasite_seccomp_filters_free(f, n);
				return -1;
			}
			meta_ok = false; /* a kernel before 4.16: the flags cannot be told */
		}
		f = xreallocarray(f, n + 1, sizeof(*f));
		f[n].len = (size_t)len * sizeof(*buf);
		f[n].insns = xmalloc(f[n].len);
		memcpy(f[n].insns, buf, f[n].len);
		f[n].flags = meta_ok ? (unsigned int)meta.flags : 0;
		n++;
	}
	*out = f;
	*nr = n;
	return 0;
}
