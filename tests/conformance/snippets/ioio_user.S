/*
 * Port I/O from CPL3 with RFLAGS.IOPL = P_FLAGS: the snippet starts at CPL0 and
 * IRETs to `user` (exec GDT: 0x23 = 64-bit code DPL3, 0x1B = data DPL3). With
 * CPL <= IOPL the OUT is intercepted (#VC 0x7B); with CPL > IOPL the TSS I/O
 * bitmap (none in the exec TSS) denies it first: #GP(0) (APM vol 2, 13.3).
 * P_RAX = 1 uses OUT DX, AX with port P_RDX instead of OUT imm8, AL.
 */
#include "snp.inc"
.globl _start, user, insn, insn2, done
_start:
	mov rax, qword ptr [PARAM + P_FLAGS]
	shl rax, 12
	or rax, 2
	mov rcx, rsp
	push 0x1B
	push rcx
	push rax
	push 0x23
	lea rax, [rip + user]
	push rax
	iretq
user:
	mov rdx, qword ptr [PARAM + P_RDX]
	cmp qword ptr [PARAM + P_RAX], 1
	je insn2
insn:
	out 0x80, al
	jmp done
insn2:
	out dx, ax
done:
	hlt
