/*
 * A VMPL1 store before and after VMPL0 changes the RMP (reference 2, 2.7):
 * VMPL0 registers and shares the GHCB, creates a VMPL1 VMSA for its own vCPU
 * (VMSA bit, AP creation CREATE_ON_INIT; RES+0x18/0x20) and runs VMPL1, which
 * stores P_VAL to P_ADDR (at `first`) and returns to VMPL0. If P_RDX is not 0,
 * VMPL0 then runs RMPADJUST(P_ADDR page, 4K, P_RDX) (EAX to RES+0x38) and
 * writes 0 to PCPU_ID of the VMPL1 VMSA so its next VMRUN flushes the TLB.
 * VMPL0 runs VMPL1 again, which stores P_VAL + 1 to P_ADDR (at `second`) and
 * halts at `vmpl1_done`.
 */
#include "snp.inc"
.globl _start, done, vmpl1_entry, first, second, vmpl1_done

_start:
	call ghcb_setup
	mov rdi, qword ptr [PARAM + P_VMSA]
	mov rsi, offset vmpl1_entry
	mov rdx, qword ptr [PARAM + P_STACK1]
	mov ecx, 1
	call build_vmsa
	mov rbx, qword ptr [rdi + VMSA_SEV_FEATURES]
	mov rax, rdi
	xor ecx, ecx
	mov edx, RMPADJUST_VMSA | 1                /* VMSA bit; no access for VMPL1 */
	RMPADJUST
	mov qword ptr [RES + 0x18], rax
	call ghcb_clear
	GHCB_AP_CREATE (1<<SVM_VMGEXIT_AP_VMPL_SHIFT), "qword ptr [PARAM + P_VMSA]" /* CREATE_ON_INIT, VMPL1, APIC 0 */
	mov rax, qword ptr [r14 + GHCB_EXITINFO1]
	mov qword ptr [RES + 0x20], rax

	mov rax, (1 << 32) | GHCB_MSR_RUN_VMPL_REQ     /* run VMPL1 */
	GHCB_MSR_CALL
	mov qword ptr [RES + 0x30], rax

	mov rdx, qword ptr [PARAM + P_RDX]
	test rdx, rdx
	jz 1f
	mov rax, qword ptr [PARAM + P_ADDR]
	and rax, -4096
	xor ecx, ecx
	RMPADJUST
	mov qword ptr [RES + 0x38], rax
	mov rdi, qword ptr [PARAM + P_VMSA]
	mov qword ptr [rdi + VMSA_PCPU_ID], 0
1:	mov rax, (1 << 32) | GHCB_MSR_RUN_VMPL_REQ     /* run VMPL1 again */
	GHCB_MSR_CALL
	mov qword ptr [RES + 0x40], rax
done:
	hlt

vmpl1_entry:
	mov rbx, qword ptr [PARAM + P_ADDR]
	mov rax, qword ptr [PARAM + P_VAL]
first:
	mov qword ptr [rbx], rax
	mov eax, GHCB_MSR_RUN_VMPL_REQ                  /* run VMPL0 */
	xor edx, edx
	mov ecx, MSR_GHCB
	wrmsr
	VMGEXIT
	mov rbx, qword ptr [PARAM + P_ADDR]
	mov rax, qword ptr [PARAM + P_VAL]
	inc rax
second:
	mov qword ptr [rbx], rax
vmpl1_done:
	hlt

#include "lib.inc"
