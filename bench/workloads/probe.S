/* Probe: record the control registers the guest runs with (0x9000: CR0, 0x9008: CR3, 0x9010: CR4). */
.intel_syntax noprefix
.globl _start
_start:
	mov rax, cr0
	mov qword ptr [0x9000], rax
	mov rax, cr3
	mov qword ptr [0x9008], rax
	mov rax, cr4
	mov qword ptr [0x9010], rax
	hlt
