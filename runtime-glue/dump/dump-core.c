// SPDX-License-Identifier: MIT
/*
 * core-<tid>.img: one CoreEntry per thread (criu-image-format.md 3.2).
 *
 *   CoreEntry{mtype X86_64,
 *     thread_info{gpregs (27 regs, after the interrupted-syscall fix-up),
 *                 fpregs (legacy area: 32 st_space + 64 xmm_space words,
 *                         xsave with the CPU's extended features), clear_tid_addr},
 *     tc{...}            leader only: state, comm, personality, PF_* flags,
 *                        blocked mask, itimers, 16 rlimits, 62 sigactions, ...
 *     thread_core{...}}  robust futex list, creds + caps, sched, sigaltstack, ...
 *
 * Most values come from /proc and from syscalls that accept a pid (prlimit,
 * get_robust_list, sched_*); what only the task can tell (itimers, brk,
 * sigaltstack, prctl values, sigactions) is read inside it through the
 * parasite's one GET_TASK_STATE command, once per process, in the leader.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/user.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "parasite/parasite.h"
#include "proto/img.h"
#include "proto/core.pb-c.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/dump/dump-priv.h"
#include "runtime-glue/proc/proc.h"
#include "runtime-glue/proc/pstree.h"

/* Kernel-internal restart codes, seen in ax of a task stopped inside a syscall. */
#define K_ERESTARTSYS           512
#define K_ERESTARTNOINTR        513
#define K_ERESTARTNOHAND        514
#define K_ERESTART_RESTARTBLOCK 516

/* see dump-state.h */
void glue_regs_fixup_syscall(struct user_regs_struct *r)
{
	if ((long)r->orig_rax < 0)
		return; /* not in a syscall */
	switch ((long)r->rax) {
	case -K_ERESTARTSYS:
	case -K_ERESTARTNOINTR:
	case -K_ERESTARTNOHAND:
		/* re-run the syscall: the instruction is `syscall` (2 bytes) */
		r->rax = r->orig_rax;
		r->rip -= 2;
		break;
	case -K_ERESTART_RESTARTBLOCK:
		/* the kernel's restart block does not survive; the task sees EINTR */
		r->rax = (unsigned long long)-EINTR;
		break;
	default:
		break;
	}
}

/* ---- remote values ---- */

/* A value the blob read, whose raw result @r (0, a value, or -errno) must not be an error. */
static int task_val(long r, const char *what, struct ck_err **err)
{
	if (r < 0 && r >= -4095)
		return ck_err_set(err, (int)-r, "%s in the task", what);
	return 0;
}

/* The blob's answer in @ts checked value by value and moved into @out. */
static int take_task_state(const struct parasite_task_state_args *ts, struct glue_task_remote *out,
			   struct ck_err **err)
{
	for (int i = 0; i < 3; i++) {
		const struct parasite_kitimerval *k = &ts->itimer[i];

		if (task_val(ts->itimer_err[i], "getitimer", err) < 0)
			return -1;
		out->itimer[i].it_interval.tv_sec = k->interval_sec;
		out->itimer[i].it_interval.tv_usec = k->interval_usec;
		out->itimer[i].it_value.tv_sec = k->value_sec;
		out->itimer[i].it_value.tv_usec = k->value_usec;
	}
	if (task_val(ts->sas_err, "sigaltstack", err) < 0 || task_val(ts->brk, "brk", err) < 0 ||
	    task_val(ts->pdeath_sig_err, "PR_GET_PDEATHSIG", err) < 0 ||
	    task_val(ts->child_subreaper_err, "PR_GET_CHILD_SUBREAPER", err) < 0 ||
	    task_val(ts->secbits, "PR_GET_SECUREBITS", err) < 0 ||
	    task_val(ts->dumpable, "PR_GET_DUMPABLE", err) < 0 ||
	    task_val(ts->thp_disabled, "PR_GET_THP_DISABLE", err) < 0)
		return -1;
	out->sas.ss_sp = (void *)(uintptr_t)ts->sas.ss_sp;
	out->sas.ss_flags = ts->sas.ss_flags;
	out->sas.ss_size = ts->sas.ss_size;
	out->brk = (uint64_t)ts->brk;
	out->pdeath_sig = ts->pdeath_sig;
	out->child_subreaper = ts->child_subreaper;
	out->secbits = (int)ts->secbits;
	out->dumpable = (int)ts->dumpable;
	out->thp_disabled = (int)ts->thp_disabled;
	out->sa = ts->sa;
	for (int s = 1; s <= PARASITE_NSIG; s++) {
		if (s == SIGKILL || s == SIGSTOP || !ts->sa.sigaction_err[s - 1])
			continue;
		return ck_err_set(err, (int)-ts->sa.sigaction_err[s - 1],
				  "sigaction of signal %d in the task", s);
	}
	return 0;
}

/*
 * see dump-priv.h.  One blob command reads everything (docs/parasite.md):
 * a task costs the infection's remote mmap and mprotect, one command and the
 * cure's munmap.
 */
int glue_task_remote_read(struct parasite_ctl *ctl, struct glue_task_remote *out,
			  struct ck_err **err)
{
	_cleanup_free_ struct parasite_task_state_args *ts = xzalloc(sizeof(*ts));
	bool infected_here = false;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!parasite_infected(ctl)) {
		if (parasite_infect(ctl, err) < 0)
			goto out;
		infected_here = true;
		if (glue_fault("infect", err) < 0)
			goto out;
	}
	/* the fault point keeps its name: the command that returns the sigactions answered */
	if (parasite_get_task_state(ctl, ts, err) < 0 ||
	    glue_fault("parasite-sigactions", err) < 0 || take_task_state(ts, out, err) < 0)
		goto out;
	/* per thread in the kernel: each other thread tells its own (a Go program has one each) */
	out->nr_thr = parasite_nr_threads(ctl);
	out->thr = xcalloc(out->nr_thr, sizeof(*out->thr));
	if (parasite_threads_state(ctl, out->thr, err) < 0)
		goto out;
	rc = 0;
out:
	if (infected_here) {
		_cleanup_err_ struct ck_err *e2 = NULL;

		if (parasite_cure(ctl, rc < 0 ? &e2 : err) < 0 && rc == 0)
			rc = -1;
		if (rc == 0 && glue_fault("cure", err) < 0)
			rc = -1;
	}
	if (rc < 0)
		return ck_err_wrap(err, "reading the state of pid %d", (int)parasite_pid(ctl));
	return 0;
}

/* see dump-priv.h */
void glue_task_remote_free(struct glue_task_remote *r)
{
	free(r->thr);
	r->thr = NULL;
	r->nr_thr = 0;
}

/* ---- registers ---- */

static void fill_gpregs(UserX86RegsEntry *g, const struct user_regs_struct *r)
{
	g->r15 = r->r15;
	g->r14 = r->r14;
	g->r13 = r->r13;
	g->r12 = r->r12;
	g->bp = r->rbp;
	g->bx = r->rbx;
	g->r11 = r->r11;
	g->r10 = r->r10;
	g->r9 = r->r9;
	g->r8 = r->r8;
	g->ax = r->rax;
	g->cx = r->rcx;
	g->dx = r->rdx;
	g->si = r->rsi;
	g->di = r->rdi;
	g->orig_ax = r->orig_rax;
	g->ip = r->rip;
	g->cs = r->cs;
	g->flags = r->eflags;
	g->sp = r->rsp;
	g->ss = r->ss;
	g->fs_base = r->fs_base;
	g->gs_base = r->gs_base;
	g->ds = r->ds;
	g->es = r->es;
	g->fs = r->fs;
	g->gs = r->gs;
	g->has_mode = true;
	g->mode = USER_X86_REGS_MODE__NATIVE;
}

/* Storage for the repeated fields of one thread's FPU entry. */
struct fpu_buf {
	uint32_t st[32], xmm[64], ymmh[64], pkru[2];
	uint64_t bndreg[8], bndcsr[8], opmask[8], zmm_upper[64], hi16[128];
};

#define XSAVE_HDR_OFF 512

/* XCR0: the xsave components the kernel enabled, 0 without OSXSAVE. */
static uint64_t xcr0(void)
{
	unsigned int a, b, c, d, lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)))
		return 0;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

/* Offset of xsave component @nr in the standard (ptrace) format, 0 if unknown. */
static uint32_t xfeature_offset(unsigned int nr, uint32_t *size)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid_count(0xd, nr, &a, &b, &c, &d))
		return 0;
	*size = a;
	return b;
}

/*
 * One extended component into its CoreEntry array: only when the task's
 * enabled features include it and the buffer holds it at its natural size.
 */
static bool take_feature(const uint8_t *xs, size_t len, uint64_t enabled, unsigned int nr,
			 void *dst, size_t want)
{
	uint32_t size = 0, off;

	if (!(enabled & (1ULL << nr)))
		return false;
	off = xfeature_offset(nr, &size);
	if (!off || size < want || off + want > len)
		return false;
	memcpy(dst, xs + off, want);
	return true;
}

static int fill_fpregs(UserX86FpregsEntry *fp, UserX86XsaveEntry *x, struct fpu_buf *b,
		       const struct glue_thread_regs *tr, pid_t tid, struct ck_err **err)
{
	const uint8_t *xs = tr->xsave;
	struct user_fpregs_struct f;
	uint64_t enabled;

	if (!xs || tr->xsave_len < XSAVE_HDR_OFF + 64)
		return ck_err_set(err, 0, "thread %d: no FPU/xsave state was saved", (int)tid);
	memcpy(&f, xs, sizeof(f));
	fp->cwd = f.cwd;
	fp->swd = f.swd;
	fp->twd = f.ftw;
	fp->fop = f.fop;
	fp->rip = f.rip;
	fp->rdp = f.rdp;
	fp->mxcsr = f.mxcsr;
	fp->mxcsr_mask = f.mxcr_mask;
	memcpy(b->st, f.st_space, sizeof(b->st));
	memcpy(b->xmm, f.xmm_space, sizeof(b->xmm));
	fp->n_st_space = 32;
	fp->st_space = b->st;
	fp->n_xmm_space = 64;
	fp->xmm_space = b->xmm;

	/*
	 * The components the buffer has room for are those enabled in XCR0 (the
	 * same for every task on this machine); xstate_bv says which of them hold
	 * non-initial state.
	 */
	enabled = xcr0();
	memcpy(&x->xstate_bv, xs + XSAVE_HDR_OFF, sizeof(x->xstate_bv));
	if (take_feature(xs, tr->xsave_len, enabled, 2, b->ymmh, sizeof(b->ymmh))) {
		x->n_ymmh_space = 64;
		x->ymmh_space = b->ymmh;
	}
	if (take_feature(xs, tr->xsave_len, enabled, 3, b->bndreg, sizeof(b->bndreg))) {
		x->n_bndreg_state = 8;
		x->bndreg_state = b->bndreg;
	}
	if (take_feature(xs, tr->xsave_len, enabled, 4, b->bndcsr, sizeof(b->bndcsr))) {
		x->n_bndcsr_state = 8;
		x->bndcsr_state = b->bndcsr;
	}
	if (take_feature(xs, tr->xsave_len, enabled, 5, b->opmask, sizeof(b->opmask))) {
		x->n_opmask_reg = 8;
		x->opmask_reg = b->opmask;
	}
	if (take_feature(xs, tr->xsave_len, enabled, 6, b->zmm_upper, sizeof(b->zmm_upper))) {
		x->n_zmm_upper = 64;
		x->zmm_upper = b->zmm_upper;
	}
	if (take_feature(xs, tr->xsave_len, enabled, 7, b->hi16, sizeof(b->hi16))) {
		x->n_hi16_zmm = 128;
		x->hi16_zmm = b->hi16;
	}
	if (take_feature(xs, tr->xsave_len, enabled, 9, b->pkru, sizeof(b->pkru))) {
		x->n_pkru = 2;
		x->pkru = b->pkru;
	}
	/* Only what the image can carry may be claimed valid. */
	x->xstate_bv &= 0x3ULL | (x->n_ymmh_space ? 1ULL << 2 : 0) |
			(x->n_bndreg_state ? 1ULL << 3 : 0) | (x->n_bndcsr_state ? 1ULL << 4 : 0) |
			(x->n_opmask_reg ? 1ULL << 5 : 0) | (x->n_zmm_upper ? 1ULL << 6 : 0) |
			(x->n_hi16_zmm ? 1ULL << 7 : 0) | (x->n_pkru ? 1ULL << 9 : 0);
	if (enabled)
		fp->xsave = x;
	return 0;
}

/* ---- /proc ---- */

struct thread_proc {
	char comm[64];
	uint32_t uid[4], gid[4]; /* real, effective, saved, fs */
	uint64_t cap[4];         /* inh, prm, eff, bnd */
	uint32_t *groups;
	size_t nr_groups;
	uint64_t cap_amb;
	int no_new_privs;
	uint64_t sigpnd, shdpnd; /* pending: the thread's own, the process's shared */
};

static int read_thread_proc(pid_t pid, pid_t tid, struct thread_proc *tp, struct ck_err **err)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	char path[96];
	size_t n = 0;
	unsigned int seen = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	if (glue_read_small(path, tp->comm, sizeof(tp->comm)) < 0)
		return ck_err_set(err, errno, "read %s", path);
	tp->comm[strcspn(tp->comm, "\n")] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return ck_err_set(err, errno, "open %s", path);
	while (getline(&line, &n, f) > 0) {
		static const char *const caps[4] = { "CapInh:", "CapPrm:", "CapEff:", "CapBnd:" };

		if (sscanf(line, "Uid: %u %u %u %u", &tp->uid[0], &tp->uid[1], &tp->uid[2],
			   &tp->uid[3]) == 4)
			seen |= 1;
		else if (sscanf(line, "Gid: %u %u %u %u", &tp->gid[0], &tp->gid[1], &tp->gid[2],
				&tp->gid[3]) == 4)
			seen |= 2;
		else if (!strncmp(line, "CapAmb:", 7))
			tp->cap_amb = strtoull(line + 7, NULL, 16);
		else if (!strncmp(line, "NoNewPrivs:", 11))
			tp->no_new_privs = atoi(line + 11);
		else if (!strncmp(line, "SigPnd:", 7))
			tp->sigpnd = strtoull(line + 7, NULL, 16);
		else if (!strncmp(line, "ShdPnd:", 7))
			tp->shdpnd = strtoull(line + 7, NULL, 16);
		else if (!strncmp(line, "Groups:", 7)) {
			char *p = line + 7, *end;

			for (;;) {
				unsigned long g = strtoul(p, &end, 10);

				if (end == p)
					break;
				tp->groups = xreallocarray(tp->groups, tp->nr_groups + 1,
							   sizeof(*tp->groups));
				tp->groups[tp->nr_groups++] = (uint32_t)g;
				p = end;
			}
		}
		for (int i = 0; i < 4; i++)
			if (!strncmp(line, caps[i], 7)) {
				tp->cap[i] = strtoull(line + 7, NULL, 16);
				seen |= 4u << i;
			}
	}
	if (seen != 0x3f)
		return ck_err_set(err, EINVAL, "%s lacks Uid/Gid/Cap lines", path);
	return 0;
}

static unsigned long proc_ul(pid_t pid, const char *file, int base, unsigned long dflt)
{
	char path[64], buf[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if (glue_read_small(path, buf, sizeof(buf)) < 0)
		return dflt;
	return strtoul(buf, NULL, base);
}

/* ---- the entries ---- */

static int dump_one_core(struct glue_dump_state *st, int dirfd, const struct glue_task *task,
			 struct parasite_ctl *ctl, const struct glue_task_remote *rem, size_t idx,
			 size_t pidx, const struct glue_seccomp_thread *sc, struct ck_err **err)
{
	pid_t tid = task->threads[idx], vtid = task->vthreads[idx];
	bool leader = idx == 0;
	_cleanup_(img_abortp) struct img *img = NULL;
	_cleanup_free_ char *name = NULL;
	_cleanup_free_ struct fpu_buf *fb = xzalloc(sizeof(*fb));
	struct glue_thread_regs tr;
	struct thread_proc tp = { 0 };
	struct glue_sigqueue sq_p = { .entry = SIGNAL_QUEUE_ENTRY__INIT };
	struct glue_sigqueue sq_s = { .entry = SIGNAL_QUEUE_ENTRY__INIT };
	CoreEntry core = CORE_ENTRY__INIT;
	ThreadInfoX86 ti = THREAD_INFO_X86__INIT;
	UserX86RegsEntry gp = USER_X86_REGS_ENTRY__INIT;
	UserX86FpregsEntry fp = USER_X86_FPREGS_ENTRY__INIT;
	UserX86XsaveEntry xs = USER_X86_XSAVE_ENTRY__INIT;
	ThreadCoreEntry tc = THREAD_CORE_ENTRY__INIT;
	CredsEntry cr = CREDS_ENTRY__INIT;
	RseqEntry rs = RSEQ_ENTRY__INIT;
	struct parasite_rseq rq;
	ThreadSasEntry sas = THREAD_SAS_ENTRY__INIT;
	TaskCoreEntry task_core = TASK_CORE_ENTRY__INIT;
	TaskTimersEntry timers = TASK_TIMERS_ENTRY__INIT;
	ItimerEntry it[3] = { ITIMER_ENTRY__INIT, ITIMER_ENTRY__INIT, ITIMER_ENTRY__INIT };
	TaskRlimitsEntry rl = TASK_RLIMITS_ENTRY__INIT;
	RlimitEntry rle[RLIM_NLIMITS], *rlp[RLIM_NLIMITS];
	SaEntry sae[PARASITE_NSIG], *sap[PARASITE_NSIG];
	uint32_t caps[4][2], amb[2];
	struct sched_param sp;
	long robust_len = 0;
	void *robust_head = NULL;
	int policy, rc = -1;

	if (glue_thread_regs_get(ctl, pidx, &tr, err) < 0)
		return -1;
	if (read_thread_proc(task->pid, tid, &tp, err) < 0)
		goto out;

	core.mtype = CORE_ENTRY__MARCH__X86_64;
	core.thread_info = &ti;
	glue_regs_fixup_syscall(&tr.regs);
	fill_gpregs(&gp, &tr.regs);
	ti.gpregs = &gp;
	ti.fpregs = &fp;
	if (fill_fpregs(&fp, &xs, fb, &tr, tid, err) < 0)
		goto out;
	/* PR_GET_TID_ADDRESS inside the thread (0 without CONFIG_CHECKPOINT_RESTORE) */
	if (leader)
		ti.clear_tid_addr = rem->sa.tid_address_err ? 0 : rem->sa.clear_child_tid;
	else if (pidx < rem->nr_thr && !rem->thr[pidx].tid_address_err)
		ti.clear_tid_addr = rem->thr[pidx].clear_child_tid;

	/* thread_core */
	core.thread_core = &tc;
	if (syscall(SYS_get_robust_list, tid, &robust_head, &robust_len) < 0) {
		ck_err_set(err, errno, "get_robust_list of thread %d", (int)tid);
		goto out;
	}
	tc.futex_rla = (uint64_t)(uintptr_t)robust_head;
	tc.futex_rla_len = (uint32_t)robust_len;
	policy = sched_getscheduler(tid);
	if (policy >= 0) {
		tc.has_sched_policy = true;
		tc.sched_policy = (uint32_t)policy;
		errno = 0;
		int nice = getpriority(PRIO_PROCESS, (id_t)tid);
		if (!errno) {
			tc.has_sched_nice = true;
			tc.sched_nice = nice;
		}
		if ((policy & ~SCHED_RESET_ON_FORK) == SCHED_FIFO ||
		    (policy & ~SCHED_RESET_ON_FORK) == SCHED_RR) {
			if (sched_getparam(tid, &sp) == 0) {
				tc.has_sched_prio = true;
				tc.sched_prio = (uint32_t)sp.sched_priority;
			}
		}
	}
	tc.has_blk_sigset = true;
	tc.blk_sigset = tr.sigmask;
	/* CRIU's restorer registers the area again; a kept rseq_cs goes back too */
	parasite_thread_rseq(ctl, pidx, &rq);
	if (rq.ptr) {
		rs.rseq_abi_pointer = rq.ptr;
		rs.rseq_abi_size = rq.size;
		rs.signature = rq.sig;
		rs.has_rseq_cs_pointer = rq.cs_ptr != 0;
		rs.rseq_cs_pointer = rq.cs_ptr;
		tc.rseq_entry = &rs;
	}
	/* the queues after the parasite ran: what reached them meanwhile is in */
	if (glue_sigqueue_read(ctl, pidx, false, tp.sigpnd, &sq_p, err) < 0)
		goto out;
	if (sq_p.nr)
		tc.signals_p = &sq_p.entry;
	tc.has_seccomp_mode = true;
	tc.seccomp_mode = sc->mode == 1   ? SECCOMP_MODE__strict
			  : sc->mode == 2 ? SECCOMP_MODE__filter
					  : SECCOMP_MODE__disabled;
	tc.has_seccomp_filter = sc->has_filter;
	tc.seccomp_filter = sc->filter;
	if (sc->mode == 1)
		st->seccomp_strict = true;
	tc.comm = tp.comm;
	if (st->opts.ctr.manage_cgroups) {
		uint32_t set;

		if (glue_cg_task_set(st, task->pid, &set, err) < 0) {
			ck_err_wrap(err, "cgroups of pid %d", (int)task->pid);
			goto out;
		}
		tc.has_cg_set = true;
		tc.cg_set = set;
	}
	cr.uid = tp.uid[0];
	cr.euid = tp.uid[1];
	cr.suid = tp.uid[2];
	cr.fsuid = tp.uid[3];
	cr.gid = tp.gid[0];
	cr.egid = tp.gid[1];
	cr.sgid = tp.gid[2];
	cr.fsgid = tp.gid[3];
	for (int i = 0; i < 4; i++) {
		caps[i][0] = (uint32_t)tp.cap[i];
		caps[i][1] = (uint32_t)(tp.cap[i] >> 32);
	}
	cr.n_cap_inh = cr.n_cap_prm = cr.n_cap_eff = cr.n_cap_bnd = 2;
	cr.cap_inh = caps[0];
	cr.cap_prm = caps[1];
	cr.cap_eff = caps[2];
	cr.cap_bnd = caps[3];
	cr.secbits = (uint32_t)rem->secbits;
	amb[0] = (uint32_t)tp.cap_amb;
	amb[1] = (uint32_t)(tp.cap_amb >> 32);
	cr.n_cap_amb = 2;
	cr.cap_amb = amb;
	cr.has_no_new_privs = true;
	cr.no_new_privs = (uint32_t)tp.no_new_privs;
	cr.n_groups = tp.nr_groups;
	cr.groups = tp.groups;
	tc.creds = &cr;
	/* per thread in the kernel: the leader's from the blob, the others' from thread calls */
	if (leader) {
		sas.ss_sp = (uint64_t)(uintptr_t)rem->sas.ss_sp;
		sas.ss_size = rem->sas.ss_size;
		sas.ss_flags = (uint32_t)rem->sas.ss_flags;
		tc.pdeath_sig = (uint32_t)rem->pdeath_sig;
	} else if (pidx < rem->nr_thr) {
		sas.ss_sp = rem->thr[pidx].sas_sp;
		sas.ss_size = rem->thr[pidx].sas_size;
		sas.ss_flags = (uint32_t)rem->thr[pidx].sas_flags;
		tc.pdeath_sig = (uint32_t)rem->thr[pidx].pdeath_sig;
	} else {
		ck_err_set(err, EINVAL, "thread %d: no state read inside it", (int)tid);
		goto out;
	}
	tc.sas = &sas;
	tc.has_pdeath_sig = true;

	/* task_core: per process, in the leader's image */
	if (leader) {
		uint64_t f[GLUE_STAT_FIELDS];

		core.tc = &task_core;
		task_core.task_state = parasite_was_stopped(ctl) ? 3 : 1;
		if (parasite_was_stopped(ctl)) {
			task_core.has_stop_signo = true;
			task_core.stop_signo = SIGSTOP;
		}
		task_core.exit_code = 0;
		task_core.personality = (uint32_t)proc_ul(task->pid, "personality", 16, 0);
		if (glue_proc_stat_need(task->pid, f, 9, err) < 0)
			goto out;
		task_core.flags = (uint32_t)f[9];
		task_core.blk_sigset = tr.sigmask;
		task_core.comm = tp.comm;
		if (glue_sigqueue_read(ctl, pidx, true, tp.shdpnd, &sq_s, err) < 0)
			goto out;
		if (sq_s.nr)
			task_core.signals_s = &sq_s.entry;
		for (int i = 0; i < 3; i++) {
			it[i].isec = (uint64_t)rem->itimer[i].it_interval.tv_sec;
			it[i].iusec = (uint64_t)rem->itimer[i].it_interval.tv_usec;
			it[i].vsec = (uint64_t)rem->itimer[i].it_value.tv_sec;
			it[i].vusec = (uint64_t)rem->itimer[i].it_value.tv_usec;
		}
		timers.real = &it[0];
		timers.virt = &it[1];
		timers.prof = &it[2];
		task_core.timers = &timers;
		for (int r = 0; r < RLIM_NLIMITS; r++) {
			struct rlimit lim;

			if (prlimit(task->pid, r, NULL, &lim) < 0) {
				ck_err_set(err, errno, "prlimit %d of pid %d", r, (int)task->pid);
				goto out;
			}
			rlimit_entry__init(&rle[r]);
			rle[r].cur = lim.rlim_cur; /* RLIM_INFINITY is 2^64-1 already */
			rle[r].max = lim.rlim_max;
			rlp[r] = &rle[r];
		}
		rl.n_rlimits = RLIM_NLIMITS;
		rl.rlimits = rlp;
		task_core.rlimits = &rl;
		size_t n = 0;
		for (int s = 1; s <= PARASITE_NSIG; s++) {
			const struct parasite_ksigaction *a = &rem->sa.act[s - 1];

			if (s == SIGKILL || s == SIGSTOP)
				continue;
			sa_entry__init(&sae[n]);
			sae[n].sigaction = a->handler;
			sae[n].flags = a->flags;
			sae[n].restorer = a->restorer;
			sae[n].mask = a->mask;
			sap[n] = &sae[n];
			n++;
		}
		task_core.n_sigactions = n;
		task_core.sigactions = sap;
		task_core.has_loginuid = true;
		task_core.loginuid = (uint32_t)proc_ul(task->pid, "loginuid", 10, 4294967295UL);
		task_core.has_oom_score_adj = true;
		task_core.oom_score_adj = (int32_t)proc_ul(task->pid, "oom_score_adj", 10, 0);
		task_core.has_child_subreaper = true;
		task_core.child_subreaper = rem->child_subreaper != 0;
	}

	name = img_filename(IMG_CORE, (unsigned long)vtid);
	img = glue_dump_img_create(st, dirfd, name, IMG_CORE, err);
	if (!img || img_write(img, &core, err) < 0 || img_close(steal_ptr(&img), err) < 0)
		goto out;
	rc = 0;
out:
	free(tp.groups);
	glue_sigqueue_free(&sq_p);
	glue_sigqueue_free(&sq_s);
	if (rc < 0)
		return ck_err_wrap(err, "core of thread %d", (int)tid);
	return 0;
}

/* see dump-priv.h */
int glue_dump_cores(struct glue_dump_state *st, int dirfd, const struct glue_task *task,
		    struct parasite_ctl *ctl, const struct glue_task_remote *rem,
		    struct ck_err **err)
{
	_cleanup_free_ struct glue_seccomp_thread *sc = NULL;

	if (parasite_nr_threads(ctl) != task->nr_threads)
		return ck_err_set(err, EAGAIN, "pid %d has %zu threads, %zu seized", (int)task->pid,
				  task->nr_threads, parasite_nr_threads(ctl));
	sc = xcalloc(task->nr_threads, sizeof(*sc));
	if (glue_seccomp_collect(st, task, ctl, sc, err) < 0)
		return -1;
	for (size_t i = 0; i < task->nr_threads; i++) {
		size_t j;

		for (j = 0; j < task->nr_threads; j++)
			if (parasite_thread_tid(ctl, j) == task->threads[i])
				break;
		if (j == task->nr_threads)
			return ck_err_set(err, EAGAIN, "pid %d: thread %d was not seized",
					  (int)task->pid, (int)task->threads[i]);
		if (dump_one_core(st, dirfd, task, ctl, rem, i, j, &sc[j], err) < 0)
			return -1;
	}
	return 0;
}
