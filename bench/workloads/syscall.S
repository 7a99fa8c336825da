/*
 * SYSCALL/SYSRET loop: the CPL0 part sets STAR/LSTAR and drops to CPL3 with
 * SYSRETQ; the user loop does [0x8000] SYSCALLs, the handler returns with
 * SYSRETQ (6 instructions per round trip). The last SYSCALL, with R13 = 1,
 * makes the handler halt at CPL0.
 */
.intel_syntax noprefix
.globl _start
_start:
	mov ecx, 0xC0000081          /* STAR: SYSCALL CS 0x08, SYSRET base 0x10 */
	xor eax, eax
	mov edx, 0x00100008
	wrmsr
	mov ecx, 0xC0000082          /* LSTAR */
	lea rax, [rip + handler]
	xor edx, edx
	wrmsr
	xor r13d, r13d
	mov r12, qword ptr [0x8000]
	lea rcx, [rip + user]
	mov r11d, 2
	sysretq
user:
	syscall
	dec r12
	jnz user
	mov r13d, 1
	syscall
handler:
	test r13, r13
	jnz 1f
	sysretq
1:	hlt
