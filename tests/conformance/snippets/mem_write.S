/* Store P_VAL to the qword at P_ADDR. */
#include "snp.inc"
.globl _start, insn, done
_start:
	mov rbx, qword ptr [PARAM + P_ADDR]
	mov rax, qword ptr [PARAM + P_VAL]
insn:
	mov qword ptr [rbx], rax
done:
	hlt
