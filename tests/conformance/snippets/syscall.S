/*
 * SYSCALL from CPL3 (AMD64, APM vol 3 "SYSCALL"): CPL0 sets STAR (SYSCALL CS
 * 0x08, SYSRET base 0x10), LSTAR and SFMASK (IF | DF), drops to CPL3 with
 * SYSRETQ (RFLAGS = 0x602), and the user SYSCALLs. The handler records
 * RES+0x00 RCX, +0x08 R11, +0x10 RFLAGS, +0x18 CS, +0x20 SS, +0x28 RSP and
 * +0x30 the user's RSP, then jumps to [PARAM + P_ADDR] (the model's private
 * stub page, which the guest's tables do not map): a fetch there must fault.
 */
#include "snp.inc"
.globl _start, user, after, handler, done
_start:
	mov ecx, 0xC0000081
	xor eax, eax
	mov edx, 0x00100008
	wrmsr
	mov ecx, 0xC0000082
	lea rax, [rip + handler]
	xor edx, edx
	wrmsr
	mov ecx, 0xC0000084
	mov eax, 0x600
	xor edx, edx
	wrmsr
	lea rcx, [rip + user]
	mov r11d, 0x602
	sysretq
user:
	mov r12, rsp
	syscall
after:
	hlt
handler:
	mov qword ptr [RES + 0x00], rcx
	mov qword ptr [RES + 0x08], r11
	mov qword ptr [RES + 0x28], rsp
	mov qword ptr [RES + 0x30], r12
	pushfq
	pop rax
	mov qword ptr [RES + 0x10], rax
	mov ax, cs
	movzx eax, ax
	mov qword ptr [RES + 0x18], rax
	mov ax, ss
	movzx eax, ax
	mov qword ptr [RES + 0x20], rax
	jmp qword ptr [PARAM + P_ADDR]
done:
	hlt
