/*
 * PVALIDATE (parameters as in pvalidate.S), record EAX and RFLAGS in
 * RES+0/RES+8, then store P_VAL to P_ADDR and read it back into RBX.
 */
#include "snp.inc"
.globl _start, insn, access, done
_start:
	mov rax, qword ptr [PARAM + P_RAX]
	mov rcx, qword ptr [PARAM + P_RCX]
	mov rdx, qword ptr [PARAM + P_RDX]
insn:
	PVALIDATE
	pushfq
	pop rcx
	mov qword ptr [RES + 0], rax
	mov qword ptr [RES + 8], rcx
	mov rsi, qword ptr [PARAM + P_ADDR]
	mov rax, qword ptr [PARAM + P_VAL]
access:
	mov qword ptr [rsi], rax
	mov rbx, qword ptr [rsi]
done:
	hlt
