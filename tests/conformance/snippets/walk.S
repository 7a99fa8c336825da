/* Switch to the guest-built page tables at P_CR3, then read the qword at P_ADDR. */
#include "snp.inc"
.globl _start, insn, done
_start:
	mov rbx, qword ptr [PARAM + P_ADDR]
	mov rax, qword ptr [PARAM + P_CR3]
	mov cr3, rax
insn:
	mov rax, qword ptr [rbx]
done:
	hlt
