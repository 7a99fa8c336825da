/*
 * Code run through the shared (C=0) alias: instruction fetches are always
 * private (the C-bit is ignored for them), so it runs; the model must decode
 * the real bytes of its intercepted instructions (WRMSR/RDMSR of the GHCB MSR),
 * not ciphertext. RAX at `done` = the value written (0x1234000).
 */
#include "snp.inc"
.globl _start, aliased, done
_start:
	mov rax, qword ptr [PARAM + P_ALIAS]
	lea rbx, [rip + aliased]
	add rax, rbx
	jmp rax
aliased:
	mov eax, 0x1234000
	xor edx, edx
	mov ecx, MSR_GHCB
	wrmsr
	xor eax, eax
	rdmsr
done:
	hlt
