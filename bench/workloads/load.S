/* Load loop over a 64 KiB buffer at 1 MiB: 8 instructions per iteration. */
.intel_syntax noprefix
.globl _start
_start:
	mov rcx, qword ptr [0x8000]
	mov esi, 0x100000
	xor edi, edi
	xor eax, eax
1:	add rax, qword ptr [rsi + rdi]
	add rax, qword ptr [rsi + rdi + 8]
	add rax, qword ptr [rsi + rdi + 16]
	add rax, qword ptr [rsi + rdi + 24]
	add edi, 32
	and edi, 0xFFFF
	dec rcx
	jnz 1b
	hlt
