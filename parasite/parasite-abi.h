/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The ABI between the host-side injector (parasite/host/) and the blob that
 * runs inside the target (parasite/blob/).  Included by both halves, so it only
 * uses fixed-width types and no host headers.
 *
 * One command runs per blob call (there is no daemon): the host fills a
 * struct parasite_args in the args area of the remote map, points the target's
 * registers at the blob entry with %rdi = the args area, resumes it, and waits
 * until the blob says it is done (state, below).  The blob stores its result in args->ret
 * (0 or -errno) and the command's output in the command's struct, which sits
 * right after the header (reach it with parasite_args_payload()).  The host
 * writes PARASITE_RET_UNANSWERED into ret first: a ret still holding it after
 * the call means the blob never ran to its end.
 */
#include <stdint.h>

/* Bump on any change of the layout below. */
#define PARASITE_ABI_VERSION 3
#define PARASITE_ARGS_MAGIC  0x70617261u /* "para" */

enum parasite_cmd {
	PARASITE_CMD_PING = 1,       /* no payload; sets ret to PARASITE_ABI_VERSION */
	PARASITE_CMD_GET_SIGACTIONS, /* struct parasite_sigactions_args */
	PARASITE_CMD_GET_TASK_STATE, /* struct parasite_task_state_args */
	PARASITE_CMD_MAX,
};

struct parasite_args {
	uint32_t magic;        /* PARASITE_ARGS_MAGIC, checked by the blob */
	uint32_t version;      /* PARASITE_ABI_VERSION */
	uint32_t cmd;          /* enum parasite_cmd */
	uint32_t payload_size; /* bytes after this header, checked against the command */
	int64_t ret;           /* out: 0 or -errno (PING: the blob's ABI version) */
	uint32_t state;        /* enum parasite_blob_state: RUNNING (host), then the blob's */
	uint32_t wait_ms;      /* how long the blob waits in WAITING for the host (> 0) */
};

/*
 * The end of a command (docs/parasite.md, "The blob's ending").  The blob runs
 * untraced by system call (PTRACE_CONT).  With its answer stored it sets state
 * to WAITING and waits in futex(state == WAITING) for at most wait_ms; the
 * host polls state, interrupts the leader and parks it itself.  Only when
 * nobody stopped it in time (ckpt died) does the blob set LEFT, unmap itself
 * and rt_sigreturn to the task's own context.
 */
enum parasite_blob_state {
	PARASITE_BLOB_RUNNING = 0, /* written by the host with the args */
	PARASITE_BLOB_WAITING = 1, /* answer stored: stop me now */
	PARASITE_BLOB_LEFT = 2,    /* nobody came: unmapping and leaving */
};

/* Written into ret by the host; never a value the blob stores. */
#define PARASITE_RET_UNANSWERED INT64_MIN

/* Number of signals whose handlers are reported (1..64). */
#define PARASITE_NSIG 64

/* The kernel's struct sigaction for x86_64 rt_sigaction(2) (not libc's). */
struct parasite_ksigaction {
	uint64_t handler; /* SIG_DFL = 0, SIG_IGN = 1, else the handler address */
	uint64_t flags;   /* SA_* */
	uint64_t restorer;
	uint64_t mask; /* sa_mask, one bit per signal (bit n-1 for signal n) */
};

struct parasite_sigactions_args {
	/* act[n - 1] holds signal n; SIGKILL and SIGSTOP read as SIG_DFL. */
	struct parasite_ksigaction act[PARASITE_NSIG];
	int64_t sigaction_err[PARASITE_NSIG]; /* 0 or -errno per signal */
	uint64_t clear_child_tid;             /* PR_GET_TID_ADDRESS of the calling thread */
	int64_t tid_address_err; /* 0 or -errno (e.g. -EINVAL without CHECKPOINT_RESTORE) */
};

/* The kernel's struct itimerval and stack_t for x86_64 (same as libc's). */
struct parasite_kitimerval {
	int64_t interval_sec, interval_usec;
	int64_t value_sec, value_usec;
};

struct parasite_kstack {
	uint64_t ss_sp;
	int32_t ss_flags, pad;
	uint64_t ss_size;
};

/*
 * PARASITE_CMD_GET_TASK_STATE: everything a final dump reads inside the task,
 * in one call.  Every *_err is the raw syscall result (0 or -errno, for the
 * prctl values the value itself or -errno); the host decides what is fatal.
 */
struct parasite_task_state_args {
	struct parasite_sigactions_args sa;   /* as PARASITE_CMD_GET_SIGACTIONS */
	struct parasite_kitimerval itimer[3]; /* getitimer REAL, VIRTUAL, PROF */
	int64_t itimer_err[3];
	struct parasite_kstack sas; /* sigaltstack(NULL, &sas) */
	int64_t sas_err;
	int64_t brk;                         /* brk(0): the current break */
	int32_t pdeath_sig, child_subreaper; /* PR_GET_PDEATHSIG, PR_GET_CHILD_SUBREAPER */
	int64_t pdeath_sig_err, child_subreaper_err;
	int64_t secbits, dumpable, thp_disabled; /* PR_GET_SECUREBITS, _DUMPABLE, _THP_DISABLE */
};

/* Upper bound of the args area (header + payload), one page. */
#define PARASITE_ARGS_SIZE 4096u
/* Stack the blob runs on, in the same RW area after the args. */
#define PARASITE_STACK_SIZE 0x4000u

static inline void *parasite_args_payload(struct parasite_args *a)
{
	return (char *)a + sizeof(*a);
}

_Static_assert(sizeof(struct parasite_args) == 32, "parasite_args layout changed");
_Static_assert(sizeof(struct parasite_ksigaction) == 32, "ksigaction layout changed");
_Static_assert(sizeof(struct parasite_args) + sizeof(struct parasite_sigactions_args) <=
		       PARASITE_ARGS_SIZE,
	       "sigactions payload does not fit the args area");
_Static_assert(sizeof(struct parasite_kitimerval) == 32 && sizeof(struct parasite_kstack) == 24,
	       "itimerval / stack_t layout changed");
_Static_assert(sizeof(struct parasite_args) + sizeof(struct parasite_task_state_args) <=
		       PARASITE_ARGS_SIZE,
	       "task state payload does not fit the args area");
_Static_assert(PARASITE_ARGS_SIZE % 64 == 0 && PARASITE_STACK_SIZE % 4096 == 0,
	       "args area and stack must keep the stack 16-byte aligned");
