/*
 * An exception from CPL3 to a CPL0 interrupt gate (APM vol 2, 8.9.3
 * "Interrupt Stack Frame"): CPL0 installs an IDT (#UD -> handler, gate DPL0,
 * interrupt gate) and drops to CPL3 with IRETQ (RFLAGS 0x202, RSP USTACK);
 * the user's UD2 at `insn` enters the handler on the TSS's RSP0 stack. The
 * handler records RES+0x00 its RSP, +0x08..+0x28 the frame (RIP, CS, RFLAGS,
 * RSP, SS), +0x30 its RFLAGS, +0x38 CS, +0x40 SS.
 */
#include "snp.inc"
.set IDT, 0x24000
.set USTACK, 0x30000
.globl _start, user, insn, handler, done
_start:
	lea rax, [rip + handler]
	mov word ptr [IDT + 6 * 16 + 0], ax
	mov word ptr [IDT + 6 * 16 + 2], 0x08
	mov word ptr [IDT + 6 * 16 + 4], 0x8E00
	shr rax, 16
	mov word ptr [IDT + 6 * 16 + 6], ax
	shr rax, 16
	mov dword ptr [IDT + 6 * 16 + 8], eax
	mov dword ptr [IDT + 6 * 16 + 12], 0
	mov word ptr [IDT + 0xFF0], 0xFFF
	mov qword ptr [IDT + 0xFF2], IDT
	lidt [IDT + 0xFF0]
	push 0x1B
	push USTACK
	push 0x202
	push 0x23
	lea rax, [rip + user]
	push rax
	iretq
user:
	nop
insn:
	ud2
handler:
	mov qword ptr [RES + 0x00], rsp
	mov rax, qword ptr [rsp]
	mov qword ptr [RES + 0x08], rax
	mov rax, qword ptr [rsp + 8]
	mov qword ptr [RES + 0x10], rax
	mov rax, qword ptr [rsp + 16]
	mov qword ptr [RES + 0x18], rax
	mov rax, qword ptr [rsp + 24]
	mov qword ptr [RES + 0x20], rax
	mov rax, qword ptr [rsp + 32]
	mov qword ptr [RES + 0x28], rax
	pushfq
	pop rax
	mov qword ptr [RES + 0x30], rax
	mov ax, cs
	movzx eax, ax
	mov qword ptr [RES + 0x38], rax
	mov ax, ss
	movzx eax, ax
	mov qword ptr [RES + 0x40], rax
done:
	hlt
