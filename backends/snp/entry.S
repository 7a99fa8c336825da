/* SPDX-License-Identifier: MIT */
/*
 * entry.S - the VMPL0 image's entry points: the boot vCPU from the launch
 * VMSA, the other vCPUs from the VMSAs the image builds for them, and the
 * exception vectors (one 16-byte stub each, then a common path to C).
 */
#include "cpu.h"

	.section .text.entry, "ax"
	.code64

/* Boot vCPU: RDI = GPA of the launch information (veil/launch.h). The first part
 * runs on the boot vCPU's stack pages through the image's own mapping and
 * returns the top of the same stack in its slot (cpu.h), where the rest
 * runs. */
	.globl image_start
image_start:
	cli
	/* Top of its stack pages: image_bsp_slot holds the slot's backed pages
	 * in order (the image_cpu page, then the stack's), cpu.h. */
	leaq	image_bsp_slot + IMAGE_BSP_STACK_TOP(%rip), %rsp
	xorl	%ebp, %ebp
	call	image_boot_bsp
	movq	%rax, %rsp
	call	image_main_bsp
	ud2

/* Other vCPUs: RSP = top of the vCPU's stack, RDI = its struct image_cpu. */
	.globl image_ap_start
image_ap_start:
	cli
	xorl	%ebp, %ebp
	call	image_boot_ap
	ud2

/* Vectors: push a 0 where the CPU pushes no error code, then the vector. */
	.macro vector n
	.balign 16
	.if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
	.else
	pushq	$0
	.endif
	pushq	$\n
	jmp	exception_common
	.endm

	.balign 16
	.globl image_vectors
image_vectors:
	.irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	vector \n
	.endr

/* struct image_frame (image.c): GPRs, vector, error code, the CPU's frame. */
exception_common:
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
	cld
	movq	%rsp, %rdi
	call	image_exception
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
	addq	$16, %rsp
	iretq

	.section .note.GNU-stack, "", @progbits
