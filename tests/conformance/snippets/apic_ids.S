/*
 * Get APIC IDs (NAE 0x8000_0017): register and share the GHCB, make the page
 * at P_ADDR shared (MSR page state change; response to RES+0x10), copy the
 * template at TMPL into the GHCB and send it. GHCB EXITINFO1/2 and RAX after
 * the event go to RES+0x18/0x20/0x28.
 */
#include "snp.inc"
.globl _start, done
_start:
	call ghcb_setup
	mov rax, (GHCB_MSR_PSC_SHARED << GHCB_MSR_PSC_OP_SHIFT) | GHCB_MSR_PSC_REQ
	or rax, qword ptr [PARAM + P_ADDR]
	GHCB_MSR_CALL
	mov qword ptr [RES + 0x10], rax
	mov rsi, TMPL
	mov rdi, r14
	mov ecx, 512
	rep movsq
	call ghcb_call
	mov rax, qword ptr [r14 + GHCB_EXITINFO1]
	mov qword ptr [RES + 0x18], rax
	mov rax, qword ptr [r14 + GHCB_EXITINFO2]
	mov qword ptr [RES + 0x20], rax
	mov rax, qword ptr [r14 + GHCB_RAX]
	mov qword ptr [RES + 0x28], rax
done:
	hlt

#include "lib.inc"
