/*
 * GHCB MSR request P_VAL (response to RES+0), then RMPADJUST (P_FLAGS bit 0
 * clear, at insn) or PVALIDATE (set, at insn_pv) with RAX/RCX/RDX from the
 * parameter page.
 */
#include "snp.inc"
.globl _start, insn, insn_pv, done
_start:
	mov rax, qword ptr [PARAM + P_VAL]
	GHCB_MSR_CALL
	mov qword ptr [RES + 0], rax
	mov rax, qword ptr [PARAM + P_RAX]
	mov rcx, qword ptr [PARAM + P_RCX]
	mov rdx, qword ptr [PARAM + P_RDX]
	test qword ptr [PARAM + P_FLAGS], 1
	jnz insn_pv
insn:
	RMPADJUST
	jmp done
insn_pv:
	PVALIDATE
done:
	hlt
