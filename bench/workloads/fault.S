/*
 * Exception loop (bench/syscall-rt.c): CPL0 installs an IDT whose #UD gate
 * (interrupt gate, DPL0) leads to a handler that steps over the UD2 and
 * returns with IRETQ, then drops to CPL3; the user loop takes [0x8000] #UDs.
 * Then R13 = 1 makes the handler halt at CPL0. The exec TSS gives RSP0.
 */
.intel_syntax noprefix
.set IDT, 0xB000
.globl _start
_start:
	lea rax, [rip + handler]
	mov word ptr [IDT + 6 * 16 + 0], ax
	mov word ptr [IDT + 6 * 16 + 2], 0x08
	mov word ptr [IDT + 6 * 16 + 4], 0x8E00
	shr rax, 16
	mov word ptr [IDT + 6 * 16 + 6], ax
	shr rax, 16
	mov qword ptr [IDT + 6 * 16 + 8], rax
	mov word ptr [IDT - 0x10], 0xFFF
	mov qword ptr [IDT - 0x0E], IDT
	lidt [IDT - 0x10]
	xor r13d, r13d
	mov r12, qword ptr [0x8000]
	push 0x1B
	push 0xD0000
	push 2
	push 0x23
	lea rax, [rip + user]
	push rax
	iretq
user:
	ud2
	dec r12
	jnz user
	mov r13d, 1
	ud2
handler:
	test r13, r13
	jnz 1f
	add qword ptr [rsp], 2
	iretq
1:	hlt
