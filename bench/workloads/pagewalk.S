/*
 * Page-walk-heavy loop with a cold TLB: each pass reloads CR3 (flushing the
 * TLB) and reads one byte from each of [0x8008] consecutive pages starting at
 * 16 MiB. Passes at [0x8000]. 4 instructions per page, 6 per pass.
 */
.intel_syntax noprefix
.globl _start
_start:
	mov r8, qword ptr [0x8000]
	mov r9, qword ptr [0x8008]
2:	mov rax, cr3
	mov cr3, rax
	mov esi, 0x1000000
	mov rcx, r9
1:	mov dl, byte ptr [rsi]
	add rsi, 4096
	dec rcx
	jnz 1b
	dec r8
	jnz 2b
	hlt
