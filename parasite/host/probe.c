// SPDX-License-Identifier: MIT
#include <errno.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "parasite/probe.h"

#ifndef PTRACE_O_SUSPEND_SECCOMP
#define PTRACE_O_SUSPEND_SECCOMP (1 << 21)
#endif

/* see probe.h */
int parasite_probe_seize(pid_t pid, bool suspend_seccomp, struct ck_err **err)
{
	unsigned long opts = suspend_seccomp ? PTRACE_O_SUSPEND_SECCOMP : 0;
	int status, r;

	if (ptrace(PTRACE_SEIZE, pid, 0, opts))
		return ck_err_set(err, errno, "PTRACE_SEIZE%s of pid %d",
				  suspend_seccomp ? " with PTRACE_O_SUSPEND_SECCOMP" : "", pid);
	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0)) {
		int saved = errno;

		ptrace(PTRACE_DETACH, pid, 0, 0);
		return ck_err_set(err, saved, "PTRACE_INTERRUPT of pid %d", pid);
	}
	do
		r = waitpid(pid, &status, __WALL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return ck_err_set(err, errno, "waitpid %d", pid);
	if (!WIFSTOPPED(status))
		return ck_err_set(err, 0, "pid %d did not stop (status 0x%x)", pid, status);
	if (ptrace(PTRACE_DETACH, pid, 0, 0))
		return ck_err_set(err, errno, "PTRACE_DETACH of pid %d", pid);
	return 0;
}
