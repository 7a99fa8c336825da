/* Read SEV_STATUS (0xC0010131): not interceptable, returns in EDX:EAX. */
#include "snp.inc"
.globl _start, insn, done
_start:
	mov ecx, MSR_SEV_STATUS
insn:
	rdmsr
done:
	hlt
