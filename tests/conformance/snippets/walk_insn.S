/*
 * Switch to the guest-built page tables at P_CR3, then run RMPADJUST
 * (P_FLAGS bit 0 clear) or PVALIDATE (set) with RAX/RCX/RDX from the
 * parameter page: RAX is a guest virtual address (ref 2, 3.1).
 */
#include "snp.inc"
.globl _start, insn, done
_start:
	mov rax, qword ptr [PARAM + P_CR3]
	mov cr3, rax
	mov rax, qword ptr [PARAM + P_RAX]
	mov rcx, qword ptr [PARAM + P_RCX]
	mov rdx, qword ptr [PARAM + P_RDX]
	test qword ptr [PARAM + P_FLAGS], 1
	jnz 1f
insn:
	RMPADJUST
	jmp done
1:	PVALIDATE
done:
	hlt
