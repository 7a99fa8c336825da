/* Store loop over a 64 KiB buffer at 1 MiB: 8 instructions per iteration. */
.intel_syntax noprefix
.globl _start
_start:
	mov rcx, qword ptr [0x8000]
	mov esi, 0x100000
	xor edi, edi
	xor eax, eax
1:	mov qword ptr [rsi + rdi], rax
	mov qword ptr [rsi + rdi + 8], rcx
	mov qword ptr [rsi + rdi + 16], rax
	mov qword ptr [rsi + rdi + 24], rcx
	add edi, 32
	and edi, 0xFFFF
	dec rcx
	jnz 1b
	hlt
