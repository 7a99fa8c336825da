/*
 * examples/hello.S - a tiny 64-bit guest snippet for `scripts/veil demo`.
 *
 * Position-independent, no data, no stack: a few ALU operations, then HLT.
 * The demo assembles it with `as` and `objcopy -O binary`, loads it at
 * GPA 0x1000 and runs it with `veil-emu exec`. Expected registers at the
 * HLT exit: rax = 0x12440, rbx = 0x10, rcx = 0x1264, rdx = 0xff.
 */
	.code64
	.text
	.globl	_start
_start:
	mov	$0x1234, %eax		/* rax = 0x1234 */
	mov	$0x10, %ebx		/* rbx = 0x10 */
	add	%rbx, %rax		/* rax = 0x1244 */
	lea	(%rax,%rbx,2), %rcx	/* rcx = 0x1264 */
	xor	%edx, %edx
	sub	$1, %rdx		/* rdx = 0xffffffffffffffff */
	and	$0xff, %rdx		/* rdx = 0xff */
	shl	$4, %rax		/* rax = 0x12440 */
	hlt
