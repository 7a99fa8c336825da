/* OUT is always intercepted for an SNP guest: #VC 0x7B (reference 7). */
#include "snp.inc"
.globl _start, insn, done
_start:
	mov al, 0x41
insn:
	out 0x80, al
done:
	hlt
