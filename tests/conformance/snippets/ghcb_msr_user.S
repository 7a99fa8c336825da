/*
 * WRMSR of the GHCB MSR at CPL3 (run at CPL3): #GP(0) at `insn`, as for any
 * WRMSR outside CPL0 (APM vol 3, WRMSR); the privilege check comes before
 * the SVM MSR intercept, so the hypervisor never sees the request.
 */
#include "snp.inc"
.globl _start, insn, done
_start:
	mov eax, GHCB_MSR_SEV_INFO_REQ
	xor edx, edx
	mov ecx, MSR_GHCB
insn:	wrmsr
done:	hlt
