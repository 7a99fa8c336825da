/* Record the initial architectural state in RES (layout in test_conformance.c). */
#include "snp.inc"
.globl _start, done
_start:
	mov qword ptr [RES + 0x00], rax
	mov qword ptr [RES + 0x08], rbx
	mov qword ptr [RES + 0x10], rcx
	mov qword ptr [RES + 0x18], rdx
	mov qword ptr [RES + 0x20], rsi
	mov qword ptr [RES + 0x28], rdi
	mov qword ptr [RES + 0x30], rbp
	mov qword ptr [RES + 0x38], r8
	mov qword ptr [RES + 0x40], r9
	mov qword ptr [RES + 0x48], r10
	mov qword ptr [RES + 0x50], r11
	mov qword ptr [RES + 0x58], r12
	mov qword ptr [RES + 0x60], r13
	mov qword ptr [RES + 0x68], r14
	mov qword ptr [RES + 0x70], r15
	mov qword ptr [RES + 0x78], rsp
	pushfq
	pop rax
	mov qword ptr [RES + 0x80], rax
	mov rax, cr0
	mov qword ptr [RES + 0x88], rax
	mov rax, cr4
	mov qword ptr [RES + 0x90], rax
	/* push/pop through the stack must work at any VMPL */
	mov rax, 0x1122334455667788
	push rax
	pop rbx
	mov qword ptr [RES + 0x98], rbx
done:
	hlt
