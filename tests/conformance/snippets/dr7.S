/* DR7 is intercepted for an SNP guest without DebugSwap: a write is #VC 0x37 at
 * `insn` (P_FLAGS = 0), a read #VC 0x27 at `insn2` (P_FLAGS = 1). DR0 is not. */
#include "snp.inc"
.globl _start, insn, insn2, done
_start:
	mov rax, 0x1000
	mov dr0, rax
	mov rbx, dr0
	mov rax, 0x400
	cmp qword ptr [PARAM + P_FLAGS], 1
	je insn2
insn:
	mov dr7, rax
	jmp done
insn2:
	mov rax, dr7
done:
	hlt
