/*
 * 2 MiB RMP entries: register and share the GHCB, send the Page State Change
 * in the template at TMPL (filled by the test; GHCB EXITINFO2 to RES+0x10),
 * then PVALIDATE with P_RAX/P_RCX/P_RDX at `insn` (EAX to RES+0x18, CF to
 * RES+0x20). P_FLAGS bit 0: then RMPADJUST 4K at P_ADDR with RDX = P_VAL
 * (EAX to RES+0x28).
 */
#include "snp.inc"
.globl _start, insn, insn2, done
_start:
	call ghcb_setup
	mov rsi, TMPL
	mov rdi, r14
	mov ecx, 512
	rep movsq
	call ghcb_call
	mov rax, qword ptr [r14 + GHCB_EXITINFO2]
	mov qword ptr [RES + 0x10], rax
	mov rax, qword ptr [PARAM + P_RAX]
	mov rcx, qword ptr [PARAM + P_RCX]
	mov rdx, qword ptr [PARAM + P_RDX]
insn:
	PVALIDATE
	setc cl
	movzx ecx, cl
	mov qword ptr [RES + 0x18], rax
	mov qword ptr [RES + 0x20], rcx
	test qword ptr [PARAM + P_FLAGS], 1
	jz done
	mov rax, qword ptr [PARAM + P_ADDR]
	xor ecx, ecx
	mov rdx, qword ptr [PARAM + P_VAL]
insn2:
	RMPADJUST
	mov qword ptr [RES + 0x28], rax
done:
	hlt

#include "lib.inc"
