/*
 * SMAP (APM vol 2, 5.6.6 "Supervisor-Mode Access Prevention"): set CR4.SMAP
 * (CR4 read back into RBX); with RFLAGS.AC set by STAC a CPL0 load and store
 * to a user page work (the store writes RBX to RES+0); after CLAC the load at
 * `insn` takes #PF (P=1, supervisor read). The exec map has U=1 everywhere.
 * P_FLAGS bit 0: do not set CR4.SMAP (the load at `insn` then works).
 */
#include "snp.inc"
.globl _start, stac_insn, insn, done
_start:
	mov rax, cr4
	test qword ptr [PARAM + P_FLAGS], 1
	jnz 1f
	or rax, 1 << 21
1:	mov cr4, rax
	mov rbx, cr4
stac_insn:
	stac
	mov rcx, qword ptr [PARAM + P_ADDR]
	mov qword ptr [RES], rbx
	clac
insn:
	mov rdx, qword ptr [PARAM + P_ADDR]
done:
	hlt
