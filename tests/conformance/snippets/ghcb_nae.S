/*
 * One full-GHCB event. P_FLAGS bit 0: register the GHCB first (MSR 0x012,
 * response at RES+0x00); bit 1: make it shared first (MSR 0x014, response at
 * RES+0x08). Then the 4 KiB template at TMPL (filled by the test) is copied
 * into the GHCB, the GHCB MSR is set to P_VAL and VMGEXIT runs at `insn`.
 * The GHCB MSR value afterwards is stored at RES+0x10.
 */
#include "snp.inc"
.globl _start, insn, done
_start:
	mov r12, qword ptr [PARAM + P_FLAGS]
	mov r13, qword ptr [PARAM + P_GHCB]
	mov r14, qword ptr [PARAM + P_ALIAS]
	add r14, r13
	test r12, 1
	jz 1f
	mov rax, r13
	or rax, GHCB_MSR_REGISTER_REQ
	GHCB_MSR_CALL
	mov qword ptr [RES + 0x00], rax
1:	test r12, 2
	jz 2f
	mov rax, (GHCB_MSR_PSC_SHARED << GHCB_MSR_PSC_OP_SHIFT) | GHCB_MSR_PSC_REQ
	or rax, r13
	GHCB_MSR_CALL
	mov qword ptr [RES + 0x08], rax
2:	mov rsi, TMPL
	mov rdi, r14
	mov ecx, 512
	rep movsq
	mov rax, qword ptr [PARAM + P_VAL]
	GHCB_MSR_WRITE
insn:
	VMGEXIT
	mov ecx, MSR_GHCB
	rdmsr
	shl rdx, 32
	or rax, rdx
	mov qword ptr [RES + 0x10], rax
done:
	hlt
