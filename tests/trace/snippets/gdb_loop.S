/* SPDX-License-Identifier: MIT */
/* gdb_loop.S - labels for the GDB stub test: break at `target`, step, look at
 * memory at 0x2000, interrupt the loop at `spin`, resume at `done`. */
	.text
	.globl _start
_start:
	mov $0x1234, %rax
	mov $0x10, %rbx
	mov $0x2000, %rdi
	xor %ecx, %ecx
target:
	add %rbx, %rax
	mov %rax, (%rdi)
	mov %rbx, 8(%rdi)
	inc %rcx
spin:
	inc %rdx
	jmp spin
done:
	hlt
