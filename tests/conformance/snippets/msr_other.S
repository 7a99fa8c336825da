/* RDMSR of an intercepted MSR (APIC_BASE): #VC 0x7C (reference 7). */
#include "snp.inc"
.globl _start, insn, done
_start:
	mov ecx, 0x1B
insn:
	rdmsr
done:
	hlt
