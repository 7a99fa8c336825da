/* CPUID is always intercepted for an SNP guest: #VC 0x72 (reference 7). */
#include "snp.inc"
.globl _start, insn, done
_start:
	mov eax, 0x8000001F
	xor ecx, ecx
insn:
	cpuid
done:
	hlt
