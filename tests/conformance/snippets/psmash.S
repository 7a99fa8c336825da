/* PSMASH is a hypervisor instruction: #UD in the guest. */
#include "snp.inc"
.globl _start, insn, done
_start:
	mov rax, 0x200000
insn:
	PSMASH
done:
	hlt
