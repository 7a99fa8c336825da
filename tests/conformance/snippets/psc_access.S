/*
 * GHCB MSR request P_RAX (response to RES+0), then one access to P_ADDR:
 * P_FLAGS bit 0 clear: read it into RCX; set: store P_VAL to it.
 */
#include "snp.inc"
.globl _start, insn_read, insn_write, done
_start:
	mov rax, qword ptr [PARAM + P_RAX]
	GHCB_MSR_CALL
	mov qword ptr [RES + 0], rax
	mov rbx, qword ptr [PARAM + P_ADDR]
	mov rax, qword ptr [PARAM + P_VAL]
	test qword ptr [PARAM + P_FLAGS], 1
	jnz insn_write
insn_read:
	mov rcx, qword ptr [rbx]
	jmp done
insn_write:
	mov qword ptr [rbx], rax
done:
	hlt
