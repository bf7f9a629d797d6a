// SPDX-License-Identifier: MIT
/*
 * Infect and cure: map the blob into the target and run its commands.
 *
 * Remote map (one anonymous private mapping made with a remote mmap):
 *
 *   blob_addr ─► +------------------------------+  PROT_READ | PROT_EXEC
 *                | .head.text: parasite_entry   |  call parasite_main; munmap(blob)
 *                | .text, .rodata               |
 *                +------------------------------+  PARASITE_BLOB_DATA_OFF (page aligned)
 *                | .data, .bss                  |  PROT_READ | PROT_WRITE
 *                +------------------------------+  page aligned
 *   blob_args ─► | struct parasite_args         |  PARASITE_ARGS_SIZE
 *                | command payload              |
 *                +------------------------------+
 *                | stack (grows down)           |  PARASITE_STACK_SIZE
 *   stack_top ─► +------------------------------+  16-byte aligned
 *
 * A command: write the args (state RUNNING), set %rip = parasite_entry,
 * %rsp = stack_top, %rdi = blob_args, orig_rax = -1, PTRACE_CONT, poll state
 * until the blob waits (WAITING), PTRACE_INTERRUPT it in that wait, move it to
 * the return of the vDSO `syscall` (rsp = the safety frame), park it, read the
 * args back, restore registers and FPU.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/stop.h"
#include "common/xalloc.h"
#include "parasite/parasite.h"
#include "parasite/host/parasite-priv.h"
#include "parasite/parasite-blob.h"

#define PAGE_ALIGN(x) (((x) + 4095UL) & ~4095UL)

_Static_assert(PARASITE_BLOB_ENTRY < PARASITE_BLOB_DATA_OFF, "blob entry outside its code");
_Static_assert(PARASITE_BLOB_TRAP < PARASITE_BLOB_DATA_OFF, "blob trap outside its code");
_Static_assert(PARASITE_BLOB_DATA_OFF % 4096 == 0, "blob data must start on a page");

/* see parasite.h */
bool parasite_infected(const struct parasite_ctl *ctl)
{
	return ctl->blob_addr != 0;
}

/* see parasite.h */
int parasite_infect(struct parasite_ctl *ctl, struct ck_err **err)
{
	size_t data_end = PAGE_ALIGN(PARASITE_BLOB_END);
	size_t len = data_end + PARASITE_ARGS_SIZE + PARASITE_STACK_SIZE;
	unsigned long addr, args[6] = { 0 };
	long ret;

	if (ctl->blob_addr)
		return 0;
	if (ctl->sigign & (1ULL << (SIGTRAP - 1)))
		return ck_err_set(
			err, ENOTSUP,
			"process %d ignores SIGTRAP: running the blob would reset that disposition",
			ctl->pid);
	if (parasite_blob_len > PARASITE_BLOB_END)
		return ck_err_set(err, EINVAL, "parasite blob is inconsistent (size %u)",
				  parasite_blob_len);
	if (parasite_mmap(ctl, len, PROT_READ | PROT_WRITE, &addr, err) < 0)
		return ck_err_wrap(err, "infect process %d", ctl->pid);
	if (parasite_write(ctl, addr, parasite_blob, parasite_blob_len, err) < 0)
		goto fail;
	/* W^X: the code part becomes read+exec once written. */
	args[0] = addr;
	args[1] = PARASITE_BLOB_DATA_OFF;
	args[2] = PROT_READ | PROT_EXEC;
	if (parasite_syscall(ctl, SYS_mprotect, args, &ret, err) < 0)
		goto fail;
	if (ret < 0) {
		ck_err_set(err, (int)-ret, "remote mprotect of the blob code");
		goto fail;
	}
	ctl->blob_addr = addr;
	ctl->blob_len = len;
	ctl->blob_args = addr + data_end;
	ctl->blob_stack_top = addr + len;
	if (ctl->blob_stack_top & 15) {
		ck_err_set(err, EINVAL, "BUG: blob stack 0x%lx is not 16-byte aligned",
			   ctl->blob_stack_top);
		goto fail;
	}
	/* No PING here: every command proves the blob ran (ret overwritten, see
	 * parasite_cmd) and the blob refuses another ABI version itself. */
	pr_debug("parasite: process %d infected: blob at 0x%lx (%zu bytes), args 0x%lx", ctl->pid,
		 addr, len, ctl->blob_args);
	return 0;
fail:
	ctl->blob_addr = 0;
	if (!ctl->dead)
		(void)!parasite_munmap(ctl, addr, NULL);
	return ck_err_wrap(err, "infect process %d", ctl->pid);
}

/* see parasite.h */
int parasite_cure(struct parasite_ctl *ctl, struct ck_err **err)
{
	unsigned long addr = ctl->blob_addr;

	if (!addr)
		return 0;
	ctl->blob_addr = 0;
	if (parasite_munmap(ctl, addr, err) < 0)
		return ck_err_wrap(err, "cure process %d", ctl->pid);
	pr_debug("parasite: process %d cured", ctl->pid);
	return 0;
}

/* How long the host waits for a blob command, and the blob for the host. */
static unsigned int host_wait_ms(const struct parasite_ctl *ctl)
{
	return ctl->timeout_ms ? ctl->timeout_ms : PARASITE_DEFAULT_TIMEOUT_MS;
}

/* Longer than the host's own wait by far: never gone home under a live host. */
#define BLOB_WAIT_MARGIN_MS 5000u

/* Polled while the blob runs: its state left RUNNING (or cannot be read). */
static bool blob_answered(struct parasite_ctl *ctl)
{
	uint32_t state = PARASITE_BLOB_RUNNING;

	if (parasite_read(ctl, ctl->blob_args + offsetof(struct parasite_args, state), &state,
			  sizeof(state), NULL) < 0)
		return true; /* the leader's fate decides, see blob_until_done */
	return state != PARASITE_BLOB_RUNNING;
}

/* Forget the blob without a munmap: the leader unmapped it itself. */
static void blob_forget(struct parasite_ctl *ctl)
{
	for (size_t i = 0; i < ctl->nr_maps; i++) {
		if (ctl->maps[i].addr != ctl->blob_addr)
			continue;
		memmove(&ctl->maps[i], &ctl->maps[i + 1],
			(ctl->nr_maps - i - 1) * sizeof(ctl->maps[0]));
		ctl->nr_maps--;
		break;
	}
	guard_forget(ctl->pid, true, ctl->blob_addr);
	ctl->blob_addr = 0;
}

/*
 * The leader is not in the blob: it went home on its own (ckpt was stopped or
 * starved past the blob's wait).  It is somewhere on the way out (the vDSO
 * gadget, the restorer) or already back in its own code: take its current
 * registers, mask and FPU state as its own, so that nothing rewinds it, and
 * fail the command.
 */
static int blob_went_home(struct parasite_ctl *ctl, const struct user_regs_struct *r,
			  struct ck_err **err)
{
	struct parasite_thread *leader = &ctl->threads[0];
	uint64_t mask;

	if (ptr_getsigmask(ctl->pid, &mask, err) < 0 || ptr_get_xsave(leader, err) < 0)
		return -1;
	leader->regs = *r;
	leader->sigmask = mask;
	/* the safety frame holds the old context: a new one for the next call */
	ctl->frame_stale = true;
	/* munmap(blob) still to come at the gadget's `syscall`: cure does it first */
	if (!(r->rip == ctl->syscall_ip && r->orig_rax == (unsigned long long)-1 &&
	      r->rax == SYS_munmap && r->rdi == ctl->blob_addr))
		blob_forget(ctl);
	return ck_err_set(
		err, ETIMEDOUT,
		"the blob gave up waiting for ckpt and left (ip 0x%llx); the task went on", r->rip);
}

/*
 * Run the blob with PTRACE_CONT (no stop per system call) until it answers
 * (state WAITING), stop it inside its wait and move it to where its closing
 * munmap would return: the vDSO gadget's `xor`s, `ret`, rt_sigreturn(frame).
 * From there the leader is parked as after a remote syscall; if ckpt dies
 * first, the leader goes home and the guardian removes the blob.
 */
static int blob_until_done(struct parasite_ctl *ctl, unsigned long exit_sp, struct ck_err **err)
{
	struct user_regs_struct regs;
	enum leader_stop stop;
	bool timed_out = false;

	if (leader_run_until(ctl, blob_answered, host_wait_ms(ctl), &timed_out, &stop, err) < 0)
		return -1;
	if (stop != LEADER_STOP_TRAP)
		return ck_err_set(err, EIO, "parasite command: unexpected stop kind %d", (int)stop);
	if (parasite_fault_hook)
		parasite_fault_hook("blob-stopped");
	if (ptrace(PTRACE_GETREGS, ctl->pid, NULL, &regs) < 0)
		return ck_err_set(err, errno, "PTRACE_GETREGS of process %d", ctl->pid);
	if (regs.rip < ctl->blob_addr || regs.rip >= ctl->blob_addr + ctl->blob_len)
		return blob_went_home(ctl, &regs, err);
	/* orig_rax -1: the interrupted futex (or other call) is not restarted */
	regs.rip = ctl->syscall_ip + 2;
	regs.rsp = exit_sp;
	regs.rax = 0;
	regs.orig_rax = (unsigned long long)-1;
	if (ptr_setregs(ctl->pid, &regs, err) < 0)
		return -1;
	if (timed_out && ck_stop_sig)
		return ck_stop_check(err);
	if (timed_out)
		return ck_err_set(err, ETIMEDOUT, "parasite command did not finish within %u ms",
				  host_wait_ms(ctl));
	return 0;
}

static int run_blob(struct parasite_ctl *ctl, struct ck_err **err)
{
	struct parasite_thread *leader = &ctl->threads[0];
	struct user_regs_struct regs;
	int rc;

	regs = leader->regs;
	regs.rip = ctl->blob_addr + PARASITE_BLOB_ENTRY;
	regs.rsp = ctl->blob_stack_top;
	regs.rdi = ctl->blob_args;
	regs.rax = 0;
	regs.orig_rax = (unsigned long long)-1;
	regs.eflags &= ~(0x100ULL | 0x400ULL); /* TF, DF */
	regs.r12 = ctl->frame_sp ? ctl->frame_sp : leader->regs.rsp;
	regs.r13 = ctl->blob_addr;
	regs.r14 = ctl->blob_len;
	regs.r15 = ctl->syscall_ip;
	/* Only the safe gadget with a frame takes the leader home untraced. */
	if (ctl->frame_sp && ctl->syscall_safe && !ctl->syscall_poked)
		guard_note_blob(ctl->pid, ctl->blob_addr, ctl->syscall_ip + 2, ctl->frame_sp);
	if (ptr_setregs(ctl->pid, &regs, err) < 0)
		return -1;
	if (ptr_setsigmask(ctl->pid, INJECT_SIGMASK, err) < 0) {
		ptr_setregs(ctl->pid, &leader->regs, NULL);
		return -1;
	}
	ctl->fpu_dirty = true;
	if (ctl->syscall_poked && poke_syscall(ctl, err) < 0)
		rc = -1;
	else
		rc = blob_until_done(ctl, regs.r12, err);
	if (ctl->dead)
		return -1;
	if (ctl->syscall_poked && unpoke_syscall(ctl, err) < 0)
		rc = -1;
	/* Original mask, a get_signal() stop, original registers and FPU state. */
	if (leader_park(ctl, err) < 0)
		rc = -1;
	if (ptr_set_xsave(leader, err) < 0)
		rc = -1;
	return rc;
}

/* see parasite.h */
int parasite_cmd(struct parasite_ctl *ctl, enum parasite_cmd cmd, void *payload, size_t size,
		 long *blob_ret, struct ck_err **err)
{
	struct parasite_thread *leader;
	struct parasite_args hdr = { 0 };

	if (!ctl->seized || ctl->dead)
		return ck_err_set(err, ESRCH, "process %d is not seized", ctl->pid);
	if (ck_stop_check(err) < 0)
		return -1;
	if (!ctl->blob_addr)
		return ck_err_set(err, EINVAL, "process %d is not infected", ctl->pid);
	if (cmd <= 0 || cmd >= PARASITE_CMD_MAX)
		return ck_err_set(err, EINVAL, "invalid parasite command %d", (int)cmd);
	if (size > PARASITE_ARGS_SIZE - sizeof(hdr))
		return ck_err_set(err, E2BIG,
				  "parasite command %d: payload of %zu bytes does not fit",
				  (int)cmd, size);
	leader = &ctl->threads[0];
	if (!leader->xsave && ptr_get_xsave(leader, err) < 0)
		return -1;
	hdr.magic = PARASITE_ARGS_MAGIC;
	hdr.version = PARASITE_ABI_VERSION;
	hdr.cmd = (uint32_t)cmd;
	hdr.payload_size = (uint32_t)size;
	hdr.ret = PARASITE_RET_UNANSWERED;
	hdr.state = PARASITE_BLOB_RUNNING;
	hdr.wait_ms = host_wait_ms(ctl) + BLOB_WAIT_MARGIN_MS;
	if (parasite_write(ctl, ctl->blob_args, &hdr, sizeof(hdr), err) < 0)
		goto fail;
	if (size && parasite_write(ctl, ctl->blob_args + sizeof(hdr), payload, size, err) < 0)
		goto fail;
	if (leader_prepare(ctl, err) < 0)
		goto fail;
	if (run_blob(ctl, err) < 0)
		goto fail;
	if (parasite_read(ctl, ctl->blob_args, &hdr, sizeof(hdr), err) < 0)
		goto fail;
	if (size && parasite_read(ctl, ctl->blob_args + sizeof(hdr), payload, size, err) < 0)
		goto fail;
	if (hdr.magic != PARASITE_ARGS_MAGIC) {
		ck_err_set(err, EPROTO, "parasite command %d: the args area was overwritten",
			   (int)cmd);
		goto fail;
	}
	if (hdr.ret == PARASITE_RET_UNANSWERED) {
		ck_err_set(err, EPROTO, "parasite command %d: the blob did not answer", (int)cmd);
		goto fail;
	}
	*blob_ret = (long)hdr.ret;
	return 0;
fail:
	return ck_err_wrap(err, "parasite command %d in process %d", (int)cmd, ctl->pid);
}

/* A command whose payload is only output: zeroed, run, its result checked. */
static int query(struct parasite_ctl *ctl, enum parasite_cmd cmd, void *out, size_t size,
		 const char *what, struct ck_err **err)
{
	long ret;

	memset(out, 0, size);
	if (parasite_cmd(ctl, cmd, out, size, &ret, err) < 0)
		return -1;
	if (ret < 0)
		return ck_err_set(err, (int)-ret, "get %s of process %d", what, ctl->pid);
	return 0;
}

/* see parasite.h */
int parasite_get_sigactions(struct parasite_ctl *ctl, struct parasite_sigactions_args *out,
			    struct ck_err **err)
{
	return query(ctl, PARASITE_CMD_GET_SIGACTIONS, out, sizeof(*out), "signal actions", err);
}

/* see parasite.h */
int parasite_get_task_state(struct parasite_ctl *ctl, struct parasite_task_state_args *out,
			    struct ck_err **err)
{
	return query(ctl, PARASITE_CMD_GET_TASK_STATE, out, sizeof(*out), "the task state", err);
}
