// SPDX-License-Identifier: MIT
/*
 * A target under a seccomp filter that forbids userfaultfd() with EPERM, as
 * the Docker and Podman default profiles do.  Holds a 64-page region; on
 * SIGUSR1 it rewrites page 5 and prints "WROTE".  Prints "READY <addr>
 * userfaultfd=<errno name>" once the filter is in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t poke;

static void on_usr1(int sig)
{
	(void)sig;
	poke = 1;
}

int main(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_userfaultfd, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };
	char *p = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long fd;

	if (p == MAP_FAILED)
		return 1;
	memset(p, 1, 64 * 4096);
	signal(SIGUSR1, on_usr1);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		printf("FAIL seccomp: %s\n", strerror(errno));
		return 1;
	}
	fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | 1);
	printf("READY %#lx userfaultfd=%s\n", (unsigned long)p,
	       fd < 0 ? strerrorname_np(errno) : "allowed");
	fflush(stdout);
	for (;;) {
		pause();
		if (poke) {
			poke = 0;
			p[5 * 4096] = 2;
			printf("WROTE\n");
			fflush(stdout);
		}
	}
}
