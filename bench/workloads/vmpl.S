/*
 * VMPL switch round trips. Started at VMPL0, CPL0 by the harness, which has
 * filled a VMPL1 VMSA at 0x201000 (RIP = vmpl1_entry) and a VMPL3 VMSA at
 * 0x202000 (RIP = vmpl3_entry), registered both for vCPU 0 on the hypervisor
 * side, and put the batch count at [0x8000] and the round trips per batch at
 * [0x8008].
 *
 * VMPL0 sets the VMSA bit of both pages with RMPADJUST (results at 0x9010,
 * 0x9018), then per batch passes `marker` (the harness timestamps it with a
 * code hook on that one address) and runs VMPL3 (GHCB MSR protocol 0x016).
 * VMPL3 does [0x8008] round trips "run VMPL1" -> VMPL1 "run VMPL3", then runs
 * VMPL0 again. After the last batch VMPL0 passes `marker` once more and halts.
 * Only the GHCB MSR protocol is used: no GHCB page.
 */
#include <snp/arch.h>

.intel_syntax noprefix
.globl _start, marker, vmpl1_entry, vmpl3_entry

.set RES, 0x9000

.macro VMGEXIT
	.byte 0xF3, 0x0F, 0x01, 0xD9
.endm
.macro RMPADJUST
	.byte 0xF3, 0x0F, 0x01, 0xFE
.endm
/* Run VMPL `n`: GHCB MSR = n << 32 | GHCB_MSR_RUN_VMPL_REQ, VMGEXIT. Clobbers RAX, RCX, RDX. */
.macro RUN_VMPL n
	mov eax, GHCB_MSR_RUN_VMPL_REQ
	mov edx, \n
	mov ecx, MSR_GHCB
	wrmsr
	VMGEXIT
.endm

_start:
	mov eax, 0x201000
	xor ecx, ecx
	mov edx, RMPADJUST_VMSA | 1 /* target VMPL1, no permissions, VMSA */
	RMPADJUST
	mov qword ptr [RES + 0x10], rax
	mov r13, rax
	mov eax, 0x202000
	xor ecx, ecx
	mov edx, RMPADJUST_VMSA | 3 /* target VMPL3, no permissions, VMSA */
	RMPADJUST
	mov qword ptr [RES + 0x18], rax
	or r13, rax
	jnz done

	mov r12, qword ptr [0x8000]
marker:
	nop
	test r12, r12
	jz done
	RUN_VMPL 3
	dec r12
	jmp marker
done:
	hlt

vmpl3_entry:
	mov r12, qword ptr [0x8008]
1:	RUN_VMPL 1
	dec r12
	jnz 1b
	RUN_VMPL 0                  /* end of batch */
	jmp vmpl3_entry

vmpl1_entry:
	RUN_VMPL 3
	jmp vmpl1_entry
