/*
 * A sequence of P_N RMPADJUST/PVALIDATE steps. Step i is four qwords at
 * PARAM + P_MSRS + 32*i: op (0 = RMPADJUST, 1 = PVALIDATE), RAX, RCX, RDX.
 * After step i, RAX goes to RES + 16*i and RFLAGS to RES + 16*i + 8.
 */
#include "snp.inc"
.globl _start, done
_start:
	xor r12, r12
1:	cmp r12, qword ptr [PARAM + P_N]
	jae done
	mov rbx, r12
	shl rbx, 5
	mov rax, qword ptr [PARAM + P_MSRS + rbx + 8]
	mov rcx, qword ptr [PARAM + P_MSRS + rbx + 16]
	mov rdx, qword ptr [PARAM + P_MSRS + rbx + 24]
	cmp qword ptr [PARAM + P_MSRS + rbx], 0
	jne 2f
	RMPADJUST
	jmp 3f
2:	PVALIDATE
3:	pushfq
	pop rcx
	shr rbx, 1
	mov qword ptr [RES + rbx], rax
	mov qword ptr [RES + rbx + 8], rcx
	inc r12
	jmp 1b
done:
	hlt
