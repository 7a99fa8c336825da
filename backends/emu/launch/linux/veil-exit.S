/* SPDX-License-Identifier: MIT */
/*
 * veil-exit N - hand the model the status (0-255) the run ends with at the
 * next ACPI power-off: it writes N to the model-only exit-status port
 * (EMU_EXIT_STATUS_PORT in backends/emu/machine/machine.h; keep the two
 * equal). BusyBox has no port I/O and the Debian kernel no /dev/port, so this
 * static program without libc asks for the port with ioperm(2) and writes it
 * with OUTB: Linux's #VC handler checks the I/O bitmap and forwards the write
 * to the hypervisor model as an IOIO exit (GHCB spec 56421, "IOIO").
 * Exit status: 0 written, 1 ioperm refused, 2 usage.
 */
	.equ STATUS_PORT, 0x604
	.equ SYS_IOPERM, 173
	.equ SYS_EXIT, 60

	.text
	.globl _start
_start:
	cmpq $2, (%rsp)		/* argc */
	jne usage
	mov 16(%rsp), %rsi	/* argv[1]: decimal, 0 to 255 */
	cmpb $0, (%rsi)
	je usage
	xor %ebx, %ebx
1:	movzbl (%rsi), %eax
	test %eax, %eax
	jz 2f
	sub $'0', %eax
	cmp $9, %eax
	ja usage
	imul $10, %ebx, %ebx
	add %eax, %ebx
	cmp $255, %ebx
	ja usage
	inc %rsi
	jmp 1b
2:	mov $SYS_IOPERM, %eax
	mov $STATUS_PORT, %edi
	mov $1, %esi
	mov $1, %edx
	syscall
	test %rax, %rax
	jnz refused
	mov $STATUS_PORT, %edx
	mov %ebx, %eax
	outb %al, %dx
	xor %edi, %edi
	jmp out
refused:
	mov $1, %edi
	jmp out
usage:
	mov $2, %edi
out:	mov $SYS_EXIT, %eax
	syscall
