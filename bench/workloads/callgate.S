/*
 * Call-gate loop for bare Unicorn (bench/syscall-rt.c): the cheapest
 * CPL3 -> CPL0 -> CPL3 round trip QEMU performs itself, in the shape of
 * syscall.S (6 instructions per round trip). The CPL0 part builds a GDT with
 * a 64-bit call gate (DPL3) and a TSS, then drops to CPL3 with IRETQ; the
 * user loop does [0x8000] far calls through the gate, the handler returns
 * with a 64-bit far return. The last call, with R13 = 1, halts at CPL0.
 */
.intel_syntax noprefix
.set GDT, 0xB000
.set TSS, 0xA000
.globl _start
_start:
	mov rax, 0x00AF9B000000FFFF   /* 0x08: 64-bit code, DPL0 */
	mov qword ptr [GDT + 0x08], rax
	mov rax, 0x00CF93000000FFFF   /* 0x10: data, DPL0 */
	mov qword ptr [GDT + 0x10], rax
	mov rax, 0x00CFF3000000FFFF   /* 0x18: data, DPL3 */
	mov qword ptr [GDT + 0x18], rax
	mov rax, 0x00AFFB000000FFFF   /* 0x20: 64-bit code, DPL3 */
	mov qword ptr [GDT + 0x20], rax
	mov rax, 0x00008900A0000067   /* 0x28: 64-bit TSS at 0xA000 */
	mov qword ptr [GDT + 0x28], rax
	mov qword ptr [GDT + 0x30], 0
	lea rax, [rip + handler]      /* 0x38: call gate, DPL3, to 0x08:handler */
	mov word ptr [GDT + 0x38], ax
	mov word ptr [GDT + 0x3A], 0x08
	mov word ptr [GDT + 0x3C], 0xEC00
	shr rax, 16
	mov word ptr [GDT + 0x3E], ax
	shr rax, 16
	mov qword ptr [GDT + 0x40], rax
	mov qword ptr [TSS + 4], 0xE0000 /* RSP0 */
	mov word ptr [GDT - 0x10], 0x47 /* the GDTR operand, below the table */
	mov qword ptr [GDT - 0x0E], GDT
	lgdt [GDT - 0x10]
	mov ax, 0x28
	ltr ax
	xor r13d, r13d
	mov r12, qword ptr [0x8000]
	push 0x1B                     /* IRETQ to CPL3 user */
	push 0xD0000
	push 2
	push 0x23
	lea rax, [rip + user]
	push rax
	iretq
user:
	.byte 0x48, 0xFF, 0x1D        /* lcall *farptr(%rip), 64-bit far pointer */
	.long farptr - . - 4
	dec r12
	jnz user
	mov r13d, 1
	.byte 0x48, 0xFF, 0x1D
	.long farptr - . - 4
handler:
	test r13, r13
	jnz 1f
	.byte 0x48, 0xCB              /* lretq */
1:	hlt
farptr:
	.quad 0
	.word 0x3B                    /* the gate, RPL3 */
