// SPDX-License-Identifier: MIT
/*
 * The safety net of an injection: a signal frame on the leader's own stack
 * whose rt_sigreturn puts back the leader's original registers, signal mask
 * and FPU state.  Every injected system call is set up so that, if ckpt dies
 * while the leader is away from its own code (the kernel then detaches and
 * lets it run), its natural continuation is that rt_sigreturn:
 *
 *   rip = a `syscall` of the vDSO followed only by `xor`s and `ret`
 *   rsp = F (below the red zone of the original rsp)
 *
 *   F:  [restorer]      the target's own `mov $15,%eax|%rax; syscall` (libc's
 *                       __restore_rt, Go's sigreturn)
 *       [ucontext]      original registers (an interrupted call pre-wound for
 *                       its restart), original signal mask, uc_stack with an
 *                       invalid mode (the kernel then keeps the sigaltstack)
 *       [siginfo]       unused, zero
 *       [fpstate]       the NT_X86_XSTATE image plus FP_XSTATE_MAGIC2, 64-aligned
 *
 * The call runs, `ret` pops the restorer, rt_sigreturn reads F: the leader is
 * back where it was, with nothing of ckpt left in its registers.  Traced (the
 * normal case) ckpt never lets it get that far.  See docs/parasite.md.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "parasite/host/parasite-priv.h"

#define RED_ZONE 128
/* also in <bits/sigcontext.h> (through <signal.h>), without the u */
#undef FP_XSTATE_MAGIC1
#undef FP_XSTATE_MAGIC2
#define FP_XSTATE_MAGIC1 0x46505853u
#define FP_XSTATE_MAGIC2 0x46505845u
#define SW_RESERVED_OFF  464
#define UC_FLAGS         0x7 /* UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS */

/* The kernel's x86_64 struct sigcontext / ucontext / rt_sigframe layout. */
struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate;
	uint64_t reserved1[8];
};

struct k_ucontext {
	uint64_t uc_flags, uc_link;
	uint64_t ss_sp;
	int32_t ss_flags, ss_pad;
	uint64_t ss_size;
	struct k_sigcontext mc;
	uint64_t sigmask;
};

struct k_rt_sigframe {
	uint64_t pretcode;
	struct k_ucontext uc;
	uint8_t info[128];
};

_Static_assert(sizeof(struct k_sigcontext) == 256, "sigcontext layout");
_Static_assert(sizeof(struct k_ucontext) == 304, "ucontext layout");

static bool shadow_stack_on(pid_t pid)
{
	_cleanup_fclose_ FILE *f = NULL;
	char path[64], line[256];

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "x86_Thread_features:", 20) && strstr(line, "shstk"))
			return true;
	return false;
}

/* The registers the task resumes with after its interrupted call restarts. */
static void rewind_restart(struct k_sigcontext *mc, const struct user_regs_struct *r)
{
	long rax = (long)r->rax;

	if ((long)r->orig_rax < 0)
		return;
	/* -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK:
	 * the kernel would rewind to the syscall instruction.  rt_sigreturn
	 * forgets restart_block, so a RESTARTBLOCK call restarts in full. */
	if (rax == -512 || rax == -513 || rax == -514 || rax == -516) {
		mc->rax = r->orig_rax;
		mc->rip = r->rip - 2;
	}
}

/* The software bytes of a signal frame's fpstate (the kernel's _fpx_sw_bytes). */
struct fx_sw {
	uint32_t magic1, extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size, padding[7];
};

#define XSAVE_MIN           576 /* legacy area + xsave header */
#define XFEATURE_XTILE_DATA 18  /* dynamic: only in the frame when in use */

/*
 * PTRACE_GETREGSET(NT_X86_XSTATE) leaves the task's xfeature mask in
 * sw_reserved; a signal frame needs magic1, the size and the mask there.
 * The size covers the highest feature the task has (AMX tile data only when
 * in use: without it the task's own buffer, and so rt_sigreturn's limit, is
 * smaller).
 */
static int xstate_sw_bytes(const void *xsave, size_t len, struct fx_sw *sw)
{
	uint64_t mask, bv;
	uint32_t size = XSAVE_MIN;

	memcpy(&mask, (const char *)xsave + SW_RESERVED_OFF, 8);
	memcpy(&bv, (const char *)xsave + 512, 8);
	if (!(bv & (1ULL << XFEATURE_XTILE_DATA)))
		mask &= ~(1ULL << XFEATURE_XTILE_DATA);
	for (unsigned int i = 2; i < 64; i++) {
		unsigned int eax, ebx, ecx, edx;

		if (!(mask & (1ULL << i)) || !__get_cpuid_count(0xd, i, &eax, &ebx, &ecx, &edx))
			continue;
		if (ebx + eax > size)
			size = ebx + eax;
	}
	if (size > len)
		return -1;
	memset(sw, 0, sizeof(*sw));
	sw->magic1 = FP_XSTATE_MAGIC1;
	sw->extended_size = size + 4;
	sw->xfeatures = mask;
	sw->xstate_size = size;
	return 0;
}

/*
 * @t's frame below @top (its own stack below the red zone, or ckpt's blob
 * stack), in the mapping that holds @top - 1; *sp = where it starts.
 */
static const char *build_frame(struct parasite_ctl *ctl, struct parasite_thread *t,
			       const struct map_ent *tm, size_t tn, unsigned long restorer,
			       unsigned long top, unsigned long *sp)
{
	const struct user_regs_struct *r = &t->regs;
	unsigned long fp, frame, len;
	_cleanup_free_ unsigned char *buf = NULL;
	struct k_rt_sigframe *f;
	const struct map_ent *stack = NULL;
	uint32_t magic2 = FP_XSTATE_MAGIC2, xsize;
	struct fx_sw sw;
	struct iovec l, rv;

	if (!t->xsave || t->xsave_len < XSAVE_MIN)
		return "no xsave state";
	if (xstate_sw_bytes(t->xsave, t->xsave_len, &sw) < 0)
		return "xsave image larger than its buffer";
	xsize = sw.xstate_size;
	fp = (top - (xsize + 4)) & ~63UL;
	frame = (fp - sizeof(*f)) & ~15UL;
	for (size_t i = 0; i < tn; i++)
		if (tm[i].start < top && top <= tm[i].end)
			stack = &tm[i];
	if (!stack || stack->perms[0] != 'r' || stack->perms[1] != 'w' || frame < stack->start)
		return "no room for a signal frame in the stack mapping";
	len = fp + xsize + 4 - frame;
	buf = xzalloc(len);
	f = (struct k_rt_sigframe *)buf;
	f->pretcode = restorer;
	f->uc.uc_flags = UC_FLAGS;
	f->uc.ss_flags = 3; /* not a valid mode: the kernel keeps the sigaltstack */
	f->uc.sigmask = t->sigmask;
	f->uc.mc = (struct k_sigcontext){
		.r8 = r->r8,
		.r9 = r->r9,
		.r10 = r->r10,
		.r11 = r->r11,
		.r12 = r->r12,
		.r13 = r->r13,
		.r14 = r->r14,
		.r15 = r->r15,
		.rdi = r->rdi,
		.rsi = r->rsi,
		.rbp = r->rbp,
		.rbx = r->rbx,
		.rdx = r->rdx,
		.rax = r->rax,
		.rcx = r->rcx,
		.rsp = r->rsp,
		.rip = r->rip,
		.eflags = r->eflags,
		.cs = (uint16_t)r->cs,
		.ss = (uint16_t)r->ss,
		.fpstate = fp,
	};
	rewind_restart(&f->uc.mc, r);
	memcpy(buf + (fp - frame), t->xsave, xsize);
	memcpy(buf + (fp - frame) + SW_RESERVED_OFF, &sw, sizeof(sw));
	memcpy(buf + (fp - frame) + xsize, &magic2, 4);
	l = (struct iovec){ buf, len };
	rv = (struct iovec){ (void *)frame, len };
	if (process_vm_writev(ctl->pid, &l, 1, &rv, 1, 0) != (ssize_t)len)
		return "cannot write the signal frame on the stack";
	*sp = frame;
	return NULL;
}

/*
 * *why @t cannot have a frame (NULL: it can, with *restorer), its xsave read
 * if need be.  0, or -1 when that read failed.
 */
static int frame_needs(struct parasite_ctl *ctl, struct parasite_thread *t,
		       const struct map_ent *tm, size_t tn, unsigned long *restorer,
		       const char **why, struct ck_err **err)
{
	*why = NULL;
	if (!ctl->syscall_safe)
		*why = "no vDSO `syscall; ret`";
	else if (shadow_stack_on(ctl->pid))
		*why = "the process uses a shadow stack";
	else if (!t->xsave && ptr_get_xsave(t, err) < 0)
		return -1;
	else if (!(*restorer = find_restorer(ctl, tm, tn)))
		*why = "no `mov $15,%eax; syscall` in its code";
	return 0;
}

/*
 * Whether the memory below @sp is certainly free stack: the main thread's
 * [stack], or a mapping right above a PROT_NONE guard (how glibc and musl
 * lay out a thread's stack).  Anything else may be a stack carved out of a
 * larger mapping (a Go goroutine's: a few KiB of the heap, another
 * goroutine's stack right below it; a coroutine's), where a frame below the
 * stack pointer would overwrite someone's memory on every injection.
 */
static bool plain_stack(const struct map_ent *tm, size_t tn, unsigned long sp)
{
	for (size_t i = 0; i < tn; i++) {
		if (!(tm[i].start < sp && sp <= tm[i].end))
			continue;
		if (!strcmp(tm[i].name, "[stack]"))
			return true;
		return i > 0 && tm[i - 1].end == tm[i].start && !strncmp(tm[i - 1].perms, "---", 3);
	}
	return false;
}

/* see parasite-priv.h */
int frame_prepare(struct parasite_ctl *ctl, const struct map_ent *tm, size_t tn,
		  struct ck_err **err)
{
	struct parasite_thread *leader = &ctl->threads[0];
	unsigned long restorer = 0;
	const char *why;

	ctl->frame_sp = 0;
	if (frame_needs(ctl, leader, tm, tn, &restorer, &why, err) < 0)
		return -1;
	if (!why && !plain_stack(tm, tn, leader->regs.rsp))
		why = "its stack pointer is not in a stack known to have room below it (a goroutine's or a coroutine's stack inside a larger mapping): a frame there could overwrite other memory";
	if (!why)
		why = build_frame(ctl, leader, tm, tn, restorer, leader->regs.rsp - RED_ZONE,
				  &ctl->frame_sp);
	if (why)
		pr_debug(
			"parasite: process %d: no safety frame (%s): if ckpt dies during an injected call, the process may crash",
			ctl->pid, why);
	else
		pr_debug("parasite: process %d: safety frame at 0x%lx, restorer 0x%lx", ctl->pid,
			 ctl->frame_sp, restorer);
	return 0;
}

/* see parasite-priv.h */
int thread_frame(struct parasite_ctl *ctl, struct parasite_thread *t, unsigned long top,
		 const struct map_ent *tm, size_t tn, unsigned long *sp, struct ck_err **err)
{
	unsigned long restorer = 0;
	const char *why;

	*sp = 0;
	if (frame_needs(ctl, t, tm, tn, &restorer, &why, err) < 0)
		return -1;
	if (!why)
		why = build_frame(ctl, t, tm, tn, restorer, top, sp);
	if (why)
		pr_debug(
			"parasite: thread %d of process %d: no safety frame (%s): if ckpt dies during its call, the process may crash",
			t->tid, ctl->pid, why);
	return 0;
}
