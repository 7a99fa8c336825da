/* A minimal OS for bench/svsm-call: `count` SVSM QUERY_PROTOCOL calls from
 * VMPL3 (the count is patched in by the harness), then terminate with 0. */
#include <snp/arch.h>

.intel_syntax noprefix
.code64
.globl _start
_start:
	jmp	main
	.balign 8
count:	.quad	0
main:
	mov	r12, [rip + count]
1:	test	r12, r12
	jz	2f
	mov	ecx, MSR_GHCB		/* GHCB MSR: run VMPL 0 */
	mov	eax, GHCB_MSR_RUN_VMPL_REQ
	xor	edx, edx
	wrmsr
	mov	rax, 6			/* core protocol, QUERY_PROTOCOL */
	mov	rcx, 1
	mov	byte ptr [0x30000], 1	/* CAA call_pending */
	.byte	0xF3, 0x0F, 0x01, 0xD9	/* VMGEXIT */
	test	rax, rax
	jnz	3f
	dec	r12
	jmp	1b
2:	mov	eax, (2 << GHCB_MSR_TERM_SET_SHIFT) | GHCB_MSR_TERM_REQ /* set 2, code 0 */
	jmp	4f
3:	mov	eax, (1 << GHCB_MSR_TERM_CODE_SHIFT) | (2 << GHCB_MSR_TERM_SET_SHIFT) | GHCB_MSR_TERM_REQ /* set 2, code 1 */
4:	mov	ecx, MSR_GHCB
	xor	edx, edx
	wrmsr
	.byte	0xF3, 0x0F, 0x01, 0xD9
	hlt
