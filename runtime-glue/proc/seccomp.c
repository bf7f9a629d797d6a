// SPDX-License-Identifier: MIT
/* System call names <-> numbers with libseccomp. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <seccomp.h>

#include "common/err.h"
#include "common/num.h"
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
