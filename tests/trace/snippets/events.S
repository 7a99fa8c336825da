/* SPDX-License-Identifier: MIT */
/*
 * events.S - one of each event the trace records in exec mode: PVALIDATE and
 * RMPADJUST (results and RMP changes), a GHCB MSR protocol VMGEXIT (SEV
 * information request) and CPUID, whose #VC ends the run (no IDT).
 */
#include <snp/arch.h>

	.text
	.globl _start
_start:
	mov $0x20000, %rax		/* PVALIDATE 0x20000, 4K, validate */
	xor %ecx, %ecx
	mov $1, %edx
	.byte 0xF2, 0x0F, 0x01, 0xFF
	mov %rax, %r12			/* 0: success */
	mov $0x20000, %rax		/* RMPADJUST 0x20000: VMPL1 gets rw */
	xor %ecx, %ecx
	mov $0x0301, %edx
	.byte 0xF3, 0x0F, 0x01, 0xFE
	mov %rax, %r13
	mov $MSR_GHCB, %ecx		/* GHCB MSR = SEV information request */
	mov $GHCB_MSR_SEV_INFO_REQ, %eax
	xor %edx, %edx
	wrmsr
vmgexit:
	.byte 0xF3, 0x0F, 0x01, 0xD9	/* VMGEXIT */
	rdmsr
	mov %rax, %r14			/* the response */
	xor %eax, %eax
	cpuid				/* #VC (CPUID exit): no IDT, the run ends */
	hlt
