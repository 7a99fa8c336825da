/* IN is always intercepted for an SNP guest: #VC 0x7B (reference 7). */
#include "snp.inc"
.globl _start, insn, done
_start:
	mov dx, 0x3FD
insn:
	in al, dx
done:
	hlt
