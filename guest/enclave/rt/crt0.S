/* SPDX-License-Identifier: MIT */
/*
 * crt0.S - enclave entry. The monitor starts every entry here at CPL3 with
 * RDI = the host's argument, RSI = the heap pages ADD placed after the
 * image, RSP = FS base = VEIL_ENC_TLS and every other register zero; leaving is a SYSCALL to the trusted stub with
 * RDI = VEIL_ENC_SYS_EXIT (0) and RSI = the value.
 */
	.section .text.start, "ax"
	.globl _start, enclave_exit, enclave_syscall
_start:
	movq %rsi, enclave_heap_pages(%rip)	/* pages ADD placed after the image */
	andq $-16, %rsp
	call enclave_main
	movq %rax, %rdi
enclave_exit:
	movq %rdi, %rsi
	xorl %edi, %edi
	syscall
	ud2
enclave_syscall:	/* RDI = nr, RSI = a0 -> RAX (RCX, R11, RDX clobbered) */
	syscall
	ret

	.section .note.GNU-stack, "", @progbits
