/* ALU loop: 8 instructions per iteration; iterations at [0x8000]. */
.intel_syntax noprefix
.globl _start
_start:
	mov rcx, qword ptr [0x8000]
	mov eax, 1
	mov ebx, 3
1:	add rax, rbx
	xor rdx, rax
	lea rbx, [rax + rdx * 2]
	imul rsi, rbx
	shl rdi, 1
	or rdi, rsi
	dec rcx
	jnz 1b
	hlt
