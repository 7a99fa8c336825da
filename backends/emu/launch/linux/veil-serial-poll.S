/* SPDX-License-Identifier: MIT */
/*
 * veil-serial-poll - give ttyS0 IRQ 0, so that Linux's 8250 driver polls the
 * port from a timer instead of waiting for an interrupt the model cannot
 * deliver (it has no I/O APIC for the UART's line; the legacy port's IRQ 4
 * cannot be requested, and the port's tty then refuses writes with EIO).
 * What setserial(8) does with "irq 0": TIOCGSERIAL, irq = 0, TIOCSSERIAL
 * (Linux include/uapi/linux/serial.h, struct serial_struct; the serial core
 * restarts the port with the new IRQ when no one else has it open). BusyBox
 * has no setserial, so this static program without libc does it.
 * Exit status: 0 done, 1 refused.
 */
	.equ SYS_OPEN, 2
	.equ SYS_IOCTL, 16
	.equ SYS_EXIT, 60
	.equ O_RDWR_NOCTTY_NONBLOCK, 0x902
	.equ TIOCGSERIAL, 0x541E
	.equ TIOCSSERIAL, 0x541F
	.equ SERIAL_IRQ, 12		/* offset of irq in struct serial_struct */

	.text
	.globl _start
_start:
	sub $256, %rsp			/* struct serial_struct (72 bytes) and room */
	mov $SYS_OPEN, %eax
	lea tty(%rip), %rdi
	mov $O_RDWR_NOCTTY_NONBLOCK, %esi
	xor %edx, %edx
	syscall
	test %rax, %rax
	js refused
	mov %rax, %rbx			/* fd */
	mov $SYS_IOCTL, %eax
	mov %rbx, %rdi
	mov $TIOCGSERIAL, %esi
	mov %rsp, %rdx
	syscall
	test %rax, %rax
	jnz refused
	movl $0, SERIAL_IRQ(%rsp)
	mov $SYS_IOCTL, %eax
	mov %rbx, %rdi
	mov $TIOCSSERIAL, %esi
	mov %rsp, %rdx
	syscall
	test %rax, %rax
	jnz refused
	xor %edi, %edi
	jmp out
refused:
	mov $1, %edi
out:	mov $SYS_EXIT, %eax
	syscall

	.section .rodata
tty:	.asciz "/dev/ttyS0"
