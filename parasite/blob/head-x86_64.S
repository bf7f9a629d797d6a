/* SPDX-License-Identifier: MIT */
/*
 * Blob entry, at offset 0 of the blob.  The host sets %rip here, %rsp to the
 * 16-byte aligned top of the blob stack and %rdi to the args area; the result
 * of parasite_main() is left in %rax and the int3 hands control back to the
 * host (which sees a SIGTRAP stop with %rip == parasite_trap + 1).
 */
	.section .head.text, "ax"
	.globl	parasite_entry
	.type	parasite_entry, @function
parasite_entry:
	call	parasite_main
	.globl	parasite_trap
parasite_trap:
	int3
	/* never resumed past the trap */
1:	hlt
	jmp	1b
	.size	parasite_entry, . - parasite_entry

	.section .note.GNU-stack, "", @progbits
