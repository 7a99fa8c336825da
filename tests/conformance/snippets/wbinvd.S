/* WBINVD is intercepted for an SNP guest: #VC with exit code 0x89. */
#include "snp.inc"
.globl _start, insn, done
_start:
insn:
	wbinvd
done:
	hlt
