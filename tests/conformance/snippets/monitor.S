/* MONITOR (P_FLAGS = 0) or MWAIT (P_FLAGS = 1) at CPL0: #VC 0x8A / 0x8B (GHCB spec
 * 56421, NAE events); at CPL3 both #UD before any intercept (APM vol 3, MONITOR). */
#include "snp.inc"
.globl _start, insn, insn2, done
_start:
	mov rax, PARAM
	xor ecx, ecx
	xor edx, edx
	cmp qword ptr [PARAM + P_FLAGS], 1
	je insn2
insn:
	monitor
	jmp done
insn2:
	mwait
done:
	hlt
