/*
 * P_N GHCB MSR-protocol requests from P_MSRS[i]: each is written to the GHCB
 * MSR, followed by VMGEXIT; the MSR value read back is stored at RES + 8*i.
 * RAX = last response at done.
 */
#include "snp.inc"
.globl _start, done
_start:
	xor r12, r12
1:	cmp r12, qword ptr [PARAM + P_N]
	jae done
	mov rax, qword ptr [PARAM + P_MSRS + r12 * 8]
	GHCB_MSR_CALL
	mov qword ptr [RES + r12 * 8], rax
	inc r12
	jmp 1b
done:
	hlt
