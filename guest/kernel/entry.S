/* SPDX-License-Identifier: MIT */
/*
 * entry.S - boot and AP entry points, exception stubs.
 *
 * The BSP arrives per veil/boot.h (RDI = boot info); an AP arrives from the
 * VMSA the BSP built (RSP = its stack, RDI = its struct percpu, GS base set).
 */
	.section .text.entry, "ax"
	.globl _start
_start:
	/* Own stack and GS base first: everything after relies on them. */
	leaq	bsp_stack_top(%rip), %rsp
	movq	%rdi, %rbx
	leaq	cpus(%rip), %rax
	movq	%rax, %rdx
	shrq	$32, %rdx
	movl	$0xC0000101, %ecx	/* MSR_GS_BASE */
	wrmsr
	movq	%rbx, %rdi
	call	kmain
1:	hlt
	jmp	1b

	.globl ap_entry
ap_entry:
	call	ap_main
1:	hlt
	jmp	1b

	.text
/* Every exception gets a frame of struct trap_frame (kernel.h). */
	.macro ISR_NOERR n
isr\n:
	pushq	$0
	pushq	$\n
	jmp	isr_common
	.endm

	.macro ISR_ERR n
isr\n:
	pushq	$\n
	jmp	isr_common
	.endm

	ISR_NOERR 0
	ISR_NOERR 1
	ISR_NOERR 2
	ISR_NOERR 3
	ISR_NOERR 4
	ISR_NOERR 5
	ISR_NOERR 6
	ISR_NOERR 7
	ISR_ERR 8
	ISR_NOERR 9
	ISR_ERR 10
	ISR_ERR 11
	ISR_ERR 12
	ISR_ERR 13
	ISR_ERR 14
	ISR_NOERR 15
	ISR_NOERR 16
	ISR_ERR 17
	ISR_NOERR 18
	ISR_NOERR 19
	ISR_NOERR 20
	ISR_ERR 21
	ISR_NOERR 22
	ISR_NOERR 23
	ISR_NOERR 24
	ISR_NOERR 25
	ISR_NOERR 26
	ISR_NOERR 27
	ISR_NOERR 28
	ISR_ERR 29
	ISR_ERR 30
	ISR_NOERR 31

/* The one external interrupt the test OS takes (IRQ_VECTOR, kernel.h). */
	.globl isr_irq
isr_irq:
	pushq	$0
	pushq	$32
	jmp	isr_common

isr_common:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, %rdi		/* 16-byte aligned here: 22 qwords below an aligned frame */
	cld
	call	trap_handler
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp		/* vector, error code */
	iretq

	.section .rodata
	.balign 8
	.globl isr_table
isr_table:
	.quad isr0
	.quad isr1
	.quad isr2
	.quad isr3
	.quad isr4
	.quad isr5
	.quad isr6
	.quad isr7
	.quad isr8
	.quad isr9
	.quad isr10
	.quad isr11
	.quad isr12
	.quad isr13
	.quad isr14
	.quad isr15
	.quad isr16
	.quad isr17
	.quad isr18
	.quad isr19
	.quad isr20
	.quad isr21
	.quad isr22
	.quad isr23
	.quad isr24
	.quad isr25
	.quad isr26
	.quad isr27
	.quad isr28
	.quad isr29
	.quad isr30
	.quad isr31

	.section .bss
	.balign 4096
	.globl bsp_stack_top
bsp_stack:
	.skip	16384
bsp_stack_top:

	.section .note.GNU-stack, "", @progbits
