/* SPDX-License-Identifier: MIT */
/*
 * Blob entry, at offset 0 of the blob.  The host sets %rip here, %rsp to the
 * 16-byte aligned top of the blob stack, %rdi to the args area, and for the
 * way out: %r12 = the safety signal frame on the task's own stack, %r13/%r14 =
 * the blob's address and length, %r15 = the vDSO's `syscall; ...; ret`.
 * parasite_main() stores its result in the args area (callee-saved registers
 * survive it).  The way out is munmap(blob) from the vDSO's `syscall`, whose
 * `ret` pops the frame's restorer: rt_sigreturn to the task's own context.
 * Traced (always, unless ckpt died), the host stops at the entry of that
 * munmap (PTRACE_SYSCALL), skips it and restores the task itself, so the blob
 * stays mapped for more commands.  Untraced, the task unmaps the blob and
 * returns to its own code: nothing of ckpt is left in it.
 */
	.section .head.text, "ax"
	.globl	parasite_entry
	.type	parasite_entry, @function
parasite_entry:
	call	parasite_main
	.globl	parasite_trap
parasite_trap:
	movq	%r12, %rsp
	movl	$11, %eax	/* __NR_munmap */
	movq	%r13, %rdi
	movq	%r14, %rsi
	jmp	*%r15
	.size	parasite_entry, . - parasite_entry

	.section .note.GNU-stack, "", @progbits
