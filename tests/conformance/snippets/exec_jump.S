/* Jump to P_ADDR (the test places the instruction that runs there). */
#include "snp.inc"
.globl _start, insn
_start:
	mov rbx, qword ptr [PARAM + P_ADDR]
insn:
	jmp rbx
