/*
 * AP creation (reference 5.2): register and share the GHCB, build a VMSA at
 * P_VMSA (VMPL field P_TVMPL ^ P_VFIELD, RIP ap_entry, RSP P_STACK1), mark the page with
 * RMPADJUST(RDX = P_RMPADJ; skipped when 0; EAX to RES+0x18), then send NAE
 * 0x8000_0013 with EXITINFO1 = P_REQ | P_TVMPL << 16 | P_APIC << 32,
 * EXITINFO2 = P_VMSA + P_EI2ADJ, RAX = SEV_FEATURES ^ P_SEVF.
 * GHCB EXITINFO1/2 after the event go to RES+0x20/0x28.
 * P_FLAGS bit 0: then wait (bounded) for the new vCPU to write its marker.
 * P_FLAGS bit 1: then send a DESTROY (request 2) for the same VMSA; GHCB
 * EXITINFO1/2 after it go to RES+0x30/0x38.
 * P_FLAGS bit 2: the AP spins instead of halting; once it ran, clear the VMSA
 * bit with RMPADJUST (EAX to RES+0x40) and make the VMSA page shared with an
 * MSR page state change (response to RES+0x48).
 * P_FLAGS bit 3: the AP spins; once it ran, CREATE the same VMSA for vCPU
 * P_APIC + 1 (GHCB EXITINFO1/2 to RES+0x50/0x58).
 * P_FLAGS bit 4: the AP enters AP Reset Hold (MSR 0x006; the response, should
 * it ever return, to RES+0x810); the BSP snapshots RES+0x810 to RES+0x60,
 * CREATEs the AP again (EXITINFO1 to RES+0x50) and stores the AP's start
 * count (RES+0x818) to RES+0x68.
 * ap_entry stores the marker 0xA9A9A9A9 at RES+0x800 and its RSP at
 * RES+0x808, then halts.
 */
#include "snp.inc"
.globl _start, done, ap_entry, ap_done
_start:
	call ghcb_setup
	mov rdi, qword ptr [PARAM + P_VMSA]
	mov rsi, offset ap_entry
	mov rdx, qword ptr [PARAM + P_STACK1]
	mov rcx, qword ptr [PARAM + P_TVMPL]
	call build_vmsa
	mov al, byte ptr [PARAM + P_VFIELD]
	xor byte ptr [rdi + VMSA_VMPL], al
	mov rbx, qword ptr [rdi + VMSA_SEV_FEATURES]
	mov rdx, qword ptr [PARAM + P_RMPADJ]
	test rdx, rdx
	jz 1f
	mov rax, qword ptr [PARAM + P_VMSA]
	xor ecx, ecx
	RMPADJUST
	mov qword ptr [RES + 0x18], rax
1:	mov r12, qword ptr [PARAM + P_REQ]
	call ap_event
	mov rax, qword ptr [r14 + GHCB_EXITINFO1]
	mov qword ptr [RES + 0x20], rax
	mov rax, qword ptr [r14 + GHCB_EXITINFO2]
	mov qword ptr [RES + 0x28], rax

	test qword ptr [PARAM + P_FLAGS], 1
	jz 3f
	mov ecx, 2000000
2:	cmp qword ptr [RES + 0x800], 0
	jne 3f
	pause                       /* spin-wait hint: lets the other vCPU run */
	dec ecx
	jnz 2b
3:	test qword ptr [PARAM + P_FLAGS], 4
	jz 4f
	/* the AP keeps running: clear its VMSA bit (RES+0x40), make its VMSA
	 * page shared with an MSR page state change (RES+0x48) */
	mov rax, qword ptr [PARAM + P_VMSA]
	xor ecx, ecx
	mov edx, 1
	RMPADJUST
	mov qword ptr [RES + 0x40], rax
	mov rax, (GHCB_MSR_PSC_SHARED << GHCB_MSR_PSC_OP_SHIFT) | GHCB_MSR_PSC_REQ
	or rax, qword ptr [PARAM + P_VMSA]
	GHCB_MSR_CALL
	mov qword ptr [RES + 0x48], rax
4:	test qword ptr [PARAM + P_FLAGS], 8
	jz 7f
	/* the AP keeps running: offer its VMSA to vCPU P_APIC + 1 (RES+0x50/0x58) */
	inc qword ptr [PARAM + P_APIC]
	mov r12, 1
	call ap_event
	mov rax, qword ptr [r14 + GHCB_EXITINFO1]
	mov qword ptr [RES + 0x50], rax
	mov rax, qword ptr [r14 + GHCB_EXITINFO2]
	mov qword ptr [RES + 0x58], rax
7:	test qword ptr [PARAM + P_FLAGS], 16
	jz 10f
	/* the AP is in AP Reset Hold: give it time, snapshot RES+0x810 (RES+0x60),
	 * then CREATE it again (RES+0x50) and wait for its second start (count
	 * at RES+0x818 to RES+0x68) */
	mov ecx, 20000
8:	pause
	dec ecx
	jnz 8b
	mov rax, qword ptr [RES + 0x810]
	mov qword ptr [RES + 0x60], rax
	mov r12, 1
	call ap_event
	mov rax, qword ptr [r14 + GHCB_EXITINFO1]
	mov qword ptr [RES + 0x50], rax
	mov ecx, 2000000
9:	cmp qword ptr [RES + 0x818], 2
	je 11f
	pause
	dec ecx
	jnz 9b
11:	mov rax, qword ptr [RES + 0x818]
	mov qword ptr [RES + 0x68], rax
10:	test qword ptr [PARAM + P_FLAGS], 2
	jz done
	mov r12, 2
	call ap_event
	mov rax, qword ptr [r14 + GHCB_EXITINFO1]
	mov qword ptr [RES + 0x30], rax
	mov rax, qword ptr [r14 + GHCB_EXITINFO2]
	mov qword ptr [RES + 0x38], rax
done:
	hlt

/* ap_event: AP creation NAE with request R12, SEV_FEATURES RBX. */
ap_event:
	call ghcb_clear
	mov eax, SVM_VMGEXIT_AP_CREATION
	mov qword ptr [r14 + GHCB_EXITCODE], rax
	mov rax, qword ptr [PARAM + P_TVMPL]
	shl rax, SVM_VMGEXIT_AP_VMPL_SHIFT
	or rax, r12
	mov rcx, qword ptr [PARAM + P_APIC]
	shl rcx, SVM_VMGEXIT_AP_APIC_SHIFT
	or rax, rcx
	mov qword ptr [r14 + GHCB_EXITINFO1], rax
	mov rax, qword ptr [PARAM + P_VMSA]
	add rax, qword ptr [PARAM + P_EI2ADJ]
	mov qword ptr [r14 + GHCB_EXITINFO2], rax
	mov rax, rbx
	xor rax, qword ptr [PARAM + P_SEVF]
	mov qword ptr [r14 + GHCB_RAX], rax
	GHCB_VALID r14, GHCB_RAX
	GHCB_VALID r14, GHCB_EXITCODE
	GHCB_VALID r14, GHCB_EXITINFO1
	GHCB_VALID r14, GHCB_EXITINFO2
	jmp ghcb_call

ap_entry:
	mov rax, 0xA9A9A9A9
	mov qword ptr [RES + 0x800], rax
	mov qword ptr [RES + 0x808], rsp
	inc qword ptr [RES + 0x818]
	test qword ptr [PARAM + P_FLAGS], 16
	jz ap_done
	mov rax, GHCB_MSR_AP_RESET_HOLD_REQ              /* AP Reset Hold (MSR protocol) */
	GHCB_MSR_CALL
	mov qword ptr [RES + 0x810], rax
ap_done:
	test qword ptr [PARAM + P_FLAGS], 12
	jz 5f
6:	pause                       /* P_FLAGS bit 2: keep running (VMSA in use) */
	jmp 6b
5:	hlt

#include "lib.inc"
