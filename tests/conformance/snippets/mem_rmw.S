/* Read-modify-write: add 1 to the qword at P_ADDR. */
#include "snp.inc"
.globl _start, insn, done
_start:
	mov rbx, qword ptr [PARAM + P_ADDR]
insn:
	add qword ptr [rbx], 1
done:
	hlt
