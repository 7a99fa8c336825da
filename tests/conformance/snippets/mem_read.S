/* Read the qword at P_ADDR into RAX. */
#include "snp.inc"
.globl _start, insn, done
_start:
	mov rbx, qword ptr [PARAM + P_ADDR]
insn:
	mov rax, qword ptr [rbx]
done:
	hlt
