/* RMPUPDATE is a hypervisor instruction: #UD in the guest. */
#include "snp.inc"
.globl _start, insn, done
_start:
	mov rax, 0x100000
	mov rcx, PARAM
insn:
	RMPUPDATE
done:
	hlt
