/* PVALIDATE with RAX/RCX/RDX from the parameter page; EAX and CF at done. */
#include "snp.inc"
.globl _start, insn, done
_start:
	mov rax, qword ptr [PARAM + P_RAX]
	mov rcx, qword ptr [PARAM + P_RCX]
	mov rdx, qword ptr [PARAM + P_RDX]
insn:
	PVALIDATE
done:
	hlt
