/* SPDX-License-Identifier: MIT */
/*
 * stub.c - the trusted code of every enclave domain: VMPL2, CPL0, mapped
 * supervisor-only at ENC_STUB_VA, copied into each enclave's stub page.
 * The monitor recognises how the enclave left by the RIP its VMSA holds
 * after the VMGEXIT (ENC_STUB_SYS_BACK or ENC_STUB_TRAP_BACK).
 *
 * SYSCALL path (LSTAR): keep the enclave's RIP (RCX) in ENC_TSAVE (one
 * thread per enclave), ask for "run VMPL0" with the GHCB MSR protocol (GHCB
 * spec 56421, 2.3.1, request 0x016) and VMGEXIT; when the monitor resumes
 * it (an answered call), return to the enclave with SYSRET.
 *
 * Trap path (IDT, IST1): vector and error code on the trap stack, then the
 * same VMGEXIT; never resumed (the monitor ends the enclave).
 */
#include <snp/arch.h>

#include "layout.h"

#define STR2(x) #x
#define STR(x) STR2(x)

/* clang-format off */
__asm__(".section .rodata.veil_enclave_stub, \"a\"\n"
	".balign 4096\n"
	".globl veil_enclave_stub, veil_enclave_stub_end\n"
	"veil_enclave_stub:\n\t"
	"movq %rcx, " STR(ENC_TSAVE) "\n\t"
	"movl $" STR(MSR_GHCB) ", %ecx\n\t"
	"movl $" STR(GHCB_MSR_RUN_VMPL_REQ) ", %eax\n\t"
	"xorl %edx, %edx\n\t"
	"wrmsr\n\t"
	".org veil_enclave_stub + " STR(ENC_STUB_SYS_BACK) " - 4, 0x90\n\t"
	"rep; vmmcall\n\t"
	"movq " STR(ENC_TSAVE) ", %rcx\n\t"
	"sysretq\n\t"
	".irp v,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n\t"
	".org veil_enclave_stub + " STR(ENC_STUB_TRAPS_OFF) " + \\v * 16\n\t"
	/* Vectors with an error code: 8, 10-14, 17, 21, 29, 30 (APM vol 2, 8.2). */
	".if (\\v != 8) && ((\\v < 10) || (\\v > 14)) && (\\v != 17) && (\\v != 21) && (\\v != 29) && (\\v != 30)\n\t"
	"pushq $0\n\t"
	".endif\n\t"
	"pushq $\\v\n\t"
	"jmp 1f\n\t"
	".endr\n\t"
	"1:\tmovl $" STR(MSR_GHCB) ", %ecx\n\t"
	"movl $" STR(GHCB_MSR_RUN_VMPL_REQ) ", %eax\n\t"
	"xorl %edx, %edx\n\t"
	"wrmsr\n\t"
	".org veil_enclave_stub + " STR(ENC_STUB_TRAP_BACK) " - 4, 0x90\n\t"
	"rep; vmmcall\n\t"
	"2:\tud2\n\t"
	"jmp 2b\n"
	"veil_enclave_stub_end:\n\t"
	".previous\n");
/* clang-format on */
