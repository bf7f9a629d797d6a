// SPDX-License-Identifier: MIT
/* System call names <-> numbers with libseccomp; the seccomp refusal. */
#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/num.h"
#include "common/xalloc.h"
#include "runtime-glue/proc/pstree.h"
#include "runtime-glue/proc/seccomp.h"

static uint32_t arch_token(uint32_t arch)
{
	return arch ? arch : seccomp_arch_native();
}

/* see seccomp.h */
uint32_t glue_native_arch(void)
{
	return seccomp_arch_native();
}

/* see seccomp.h */
const char *glue_arch_name(uint32_t arch)
{
	switch (arch_token(arch)) {
	case SCMP_ARCH_X86_64:
		return "x86_64";
	case SCMP_ARCH_X86:
		return "x86";
	case SCMP_ARCH_X32:
		return "x32";
	case SCMP_ARCH_AARCH64:
		return "aarch64";
	case SCMP_ARCH_ARM:
		return "arm";
	case SCMP_ARCH_RISCV64:
		return "riscv64";
	case SCMP_ARCH_PPC64LE:
		return "ppc64le";
	case SCMP_ARCH_S390X:
		return "s390x";
	default:
		return "this architecture";
	}
}

/* see seccomp.h */
int glue_syscall_nr(const char *name, uint32_t arch, long *nr, struct ck_err **err)
{
	uint32_t token = arch_token(arch);
	int r;

	if (!name || !*name)
		return ck_err_set(err, EINVAL, "empty system call name");
	if (name[0] >= '0' && name[0] <= '9') {
		char *end;
		long v;

		errno = 0;
		v = strtol(name, &end, ck_num_base(name));
		if (errno || *end || v < 0 || v > 4095)
			return ck_err_set(err, EINVAL, "invalid system call number '%s'", name);
		*nr = v;
		return 0;
	}
	r = seccomp_syscall_resolve_name_arch(token, name);
	if (r == __NR_SCMP_ERROR)
		return ck_err_set(err, EINVAL, "unknown system call '%s'", name);
	if (r < 0)
		return ck_err_set(err, EINVAL, "system call '%s' does not exist on %s", name,
				  glue_arch_name(arch));
	*nr = r;
	return 0;
}

/* see seccomp.h */
char *glue_syscall_name(long nr, uint32_t arch)
{
	if (nr < 0 || nr > 4095)
		return NULL;
	return seccomp_syscall_resolve_num_arch(arch_token(arch), (int)nr);
}

/*
 * Whether PTRACE_O_SUSPEND_SECCOMP will be granted: the kernel wants
 * CAP_SYS_ADMIN in the initial user namespace and a tracer that is not itself
 * under seccomp.  NULL when it will, else what is missing.
 */
static const char *cannot_suspend(void)
{
	char buf[128];
	unsigned long long caps;
	unsigned long a = 1, b = 1, c = 0;
	_cleanup_fclose_ FILE *f = NULL;

	if (glue_proc_status_field(getpid(), "Seccomp", buf, sizeof(buf)) == 0 && atoi(buf))
		return "ckpt itself runs under seccomp";
	if (glue_proc_status_field(getpid(), "CapEff", buf, sizeof(buf)) < 0)
		return "ckpt cannot read its own capabilities";
	caps = strtoull(buf, NULL, 16);
	if (!(caps & (1ULL << CAP_SYS_ADMIN)))
		return "ckpt lacks CAP_SYS_ADMIN";
	f = fopen("/proc/self/uid_map", "re");
	if (!f || fscanf(f, "%lu %lu %lu", &a, &b, &c) != 3 || a || b || c != 4294967295UL)
		return "ckpt runs in a user namespace, where CAP_SYS_ADMIN does not count";
	return NULL;
}

/* see seccomp.h */
int glue_seccomp_check_task(pid_t pid, const pid_t *tids, size_t nr, struct ck_err **err)
{
	char buf[32];
	const char *why;

	for (size_t i = 0; i < nr; i++) {
		int mode;

		if (glue_proc_status_field(tids[i], "Seccomp", buf, sizeof(buf)) < 0)
			continue; /* gone: nothing to inject into */
		mode = atoi(buf);
		if (!mode || !(why = cannot_suspend()))
			continue;
		if (tids[i] == pid)
			return ck_err_set(
				err, EPERM,
				"process %d has a seccomp %s (Seccomp: %d) that ckpt can suspend only as root (CAP_SYS_ADMIN in the initial user namespace; here %s): a call injected into it could kill it, so ckpt refused it before stopping anything",
				(int)pid, mode == 1 ? "strict mode" : "filter", mode, why);
		return ck_err_set(
			err, EPERM,
			"thread %d of process %d has a seccomp %s (Seccomp: %d) that ckpt can suspend only as root (CAP_SYS_ADMIN in the initial user namespace; here %s): a call injected into it could kill it, so ckpt refused it before stopping anything",
			(int)tids[i], (int)pid, mode == 1 ? "strict mode" : "filter", mode, why);
	}
	return 0;
}

/* see seccomp.h */
int glue_seccomp_check_pid(pid_t pid, struct ck_err **err)
{
	char path[64];
	_cleanup_free_ pid_t *tids = NULL;
	size_t nr = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return glue_seccomp_check_task(pid, &pid, 1, err);
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (nr == cap) {
			cap = cap ? cap * 2 : 16;
			tids = xreallocarray(tids, cap, sizeof(*tids));
		}
		tids[nr++] = (pid_t)atoi(de->d_name);
	}
	closedir(d);
	return glue_seccomp_check_task(pid, tids, nr, err);
}

/* see seccomp.h */
int glue_seccomp_check_tree(const struct glue_pstree *tree, struct ck_err **err)
{
	for (size_t i = 0; i < tree->nr; i++) {
		const struct glue_task *t = &tree->t[i];

		if (t->dead || t->kthread)
			continue;
		if (glue_seccomp_check_task(t->pid, t->threads, t->nr_threads, err) < 0)
			return -1;
	}
	return 0;
}
