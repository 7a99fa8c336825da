/*
 * Self- and cross-modifying code (APM vol 2 §7.6.1; Intel SDM vol 3 §8.1.3):
 * stores to code reach its next execution whichever context stores and
 * through whichever virtual alias. VMPL0 and VMPL1 of vCPU 0 are separate
 * contexts in the model (each its own translation cache, backends/emu/machine/smc.c).
 *
 * `patched` (its own page) is `mov eax, imm32; ret`. The page tables at P_CR3
 * (built by the test; VMPL1 runs on them) map the first 2 MiB twice, C=1: at
 * GVA = GPA and at ALIAS + GPA.
 *   VMPL0 reads the page, then calls it (RES+0x00 = 1), runs VMPL1, which stores imm 2 through
 *   the same address and runs VMPL0: VMPL0 calls it (RES+0x08 = 2), runs VMPL1
 *   again, which stores 3 through ALIAS: VMPL0 calls it (RES+0x10 = 3), stores
 *   4 through ALIAS itself and calls it (RES+0x18 = 4), then halts at done.
 * Creation results: RES+0x20 = RMPADJUST EAX, RES+0x28 = AP creation EXITINFO1.
 * In: P_VMSA = VMPL1 VMSA page, P_STACK1 = VMPL1 RSP, P_CR3 = VMPL1 CR3.
 */
#include "snp.inc"
.globl _start, patched, done, vmpl1_entry

.set ALIAS, 0x8000000000

.macro RUN_VMPL n
	mov eax, GHCB_MSR_RUN_VMPL_REQ
	mov edx, \n
	mov ecx, MSR_GHCB
	wrmsr
	VMGEXIT
.endm

_start:
	call ghcb_setup

	mov rdi, qword ptr [PARAM + P_VMSA]
	mov rsi, offset vmpl1_entry
	mov rdx, qword ptr [PARAM + P_STACK1]
	mov ecx, 1
	call build_vmsa
	mov rax, qword ptr [PARAM + P_CR3]
	mov qword ptr [rdi + VMSA_CR3], rax
	mov rbx, qword ptr [rdi + VMSA_SEV_FEATURES]
	mov rax, rdi
	xor ecx, ecx
	mov edx, RMPADJUST_VMSA | 1
	RMPADJUST
	mov qword ptr [RES + 0x20], rax
	call ghcb_clear
	GHCB_AP_CREATE (1<<SVM_VMGEXIT_AP_VMPL_SHIFT), "qword ptr [PARAM + P_VMSA]" /* CREATE_ON_INIT, VMPL1, APIC 0 */
	mov rax, qword ptr [r14 + GHCB_EXITINFO1]
	mov qword ptr [RES + 0x28], rax

	mov al, byte ptr [patched] /* a read before the first fetch of the page */
	call patched
	mov qword ptr [RES + 0x00], rax
	RUN_VMPL 1
	call patched
	mov qword ptr [RES + 0x08], rax
	RUN_VMPL 1
	call patched
	mov qword ptr [RES + 0x10], rax
	mov rbx, ALIAS
	lea rax, [rip + patched + 1]
	add rbx, rax
	mov rcx, cr3 /* no stack use until CR3 is back: the exec stack is not in the alias map */
	mov rax, qword ptr [PARAM + P_CR3]
	mov cr3, rax
	mov byte ptr [rbx], 4
	mov cr3, rcx
	call patched
	mov qword ptr [RES + 0x18], rax
done:
	hlt

vmpl1_entry:
	mov byte ptr [patched + 1], 2
	RUN_VMPL 0
	mov rbx, ALIAS
	lea rax, [rip + patched + 1]
	add rbx, rax
	mov byte ptr [rbx], 3
	RUN_VMPL 0
	hlt

#include "lib.inc"

.balign 4096
patched:
	mov eax, 1
	ret
