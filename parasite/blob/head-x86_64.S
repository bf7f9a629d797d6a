/* SPDX-License-Identifier: MIT */
/*
 * Blob entry, at offset 0 of the blob.  The host sets %rip here, %rsp to the
 * 16-byte aligned top of the blob stack, %rdi to the args area, and for the
 * way out: %r12 = the safety signal frame on the task's own stack, %r13/%r14 =
 * the blob's address and length, %r15 = the vDSO's `syscall; ...; ret`.
 * parasite_main() stores its result in the args area, then waits there for the
 * host (callee-saved registers survive it).  The host stops the leader in that
 * wait (PTRACE_INTERRUPT; it runs the blob with PTRACE_CONT), moves it to the
 * return of the vDSO `syscall` below (the blob stays mapped for more commands)
 * and restores the task itself.  Only when nobody stopped it (ckpt died) does
 * parasite_main() return here: munmap(blob) from the vDSO's `syscall`, whose
 * `ret` pops the frame's restorer: rt_sigreturn to the task's own context,
 * nothing of ckpt is left in it.
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
