/*
 * Switch to the guest-built page tables at P_CR3, then access P_ADDR:
 * P_FLAGS 0 = read into RAX (at insn_read), 1 = store P_VAL (at insn_write),
 * 2 = jump there (the fault or the code there is at P_ADDR).
 */
#include "snp.inc"
.globl _start, insn_read, insn_write, insn_jump, done
_start:
	mov rbx, qword ptr [PARAM + P_ADDR]
	mov rcx, qword ptr [PARAM + P_VAL]
	mov rdx, qword ptr [PARAM + P_FLAGS]
	mov rax, qword ptr [PARAM + P_CR3]
	mov cr3, rax
	cmp rdx, 1
	je insn_write
	ja insn_jump
insn_read:
	mov rax, qword ptr [rbx]
	jmp done
insn_write:
	mov qword ptr [rbx], rcx
	jmp done
insn_jump:
	jmp rbx
done:
	hlt
