/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Raw x86_64 system calls for the blob (no libc).  Return the kernel's value:
 * >= 0 on success, -errno on failure.
 */
static inline long sys_call2(long nr, long a1, long a2)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long sys_call4(long nr, long a1, long a2, long a3, long a4)
{
	long ret;
	register long r10 __asm__("r10") = a4;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long sys_call5(long nr, long a1, long a2, long a3, long a4, long a5)
{
	long ret;
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long sys_call6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	long ret;
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define NR_BRK                 12
#define NR_RT_SIGACTION        13
#define NR_GETITIMER           36
#define NR_SIGALTSTACK         131
#define NR_PRCTL               157
#define NR_FUTEX               202
#define NR_CLOCK_GETTIME       228
#define CLOCK_MONOTONIC_       1
#define FUTEX_WAIT_BITSET_     9
#define FUTEX_PRIVATE_FLAG_    128
#define FUTEX_BITSET_ANY_      0xffffffffL
#define PR_GET_PDEATHSIG       2
#define PR_GET_DUMPABLE        3
#define PR_GET_SECUREBITS      27
#define PR_GET_CHILD_SUBREAPER 37
#define PR_GET_TID_ADDRESS     40
#define PR_GET_THP_DISABLE     42

static inline long sys_rt_sigaction(long sig, const void *act, void *oact, long sigsetsize)
{
	return sys_call4(NR_RT_SIGACTION, sig, (long)act, (long)oact, sigsetsize);
}

/* The unused arguments are 0: some options (PR_GET_THP_DISABLE) refuse others. */
static inline long sys_prctl2(long option, long arg2)
{
	return sys_call5(NR_PRCTL, option, arg2, 0, 0, 0);
}

static inline long sys_getitimer(long which, void *curr)
{
	return sys_call2(NR_GETITIMER, which, (long)curr);
}

static inline long sys_sigaltstack(const void *ss, void *old)
{
	return sys_call2(NR_SIGALTSTACK, (long)ss, (long)old);
}

static inline long sys_brk(long addr)
{
	return sys_call2(NR_BRK, addr, 0);
}

struct blob_timespec {
	long tv_sec, tv_nsec;
};

static inline long sys_clock_gettime(long clk, struct blob_timespec *ts)
{
	return sys_call2(NR_CLOCK_GETTIME, clk, (long)ts);
}

/* Sleep while *@word == @val, until the CLOCK_MONOTONIC time @deadline at most. */
static inline long sys_futex_wait_until(const volatile uint32_t *word, uint32_t val,
					const struct blob_timespec *deadline)
{
	return sys_call6(NR_FUTEX, (long)word, FUTEX_WAIT_BITSET_ | FUTEX_PRIVATE_FLAG_, (long)val,
			 (long)deadline, 0, FUTEX_BITSET_ANY_);
}
