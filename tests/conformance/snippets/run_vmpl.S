/*
 * Run VMPL (reference 5.2, 6.2, 6.3): VMPL0 creates a VMPL1 VMSA for its own
 * vCPU (VMSA bit via RMPADJUST, AP creation NAE with request CREATE_ON_INIT,
 * as COCONUT registers the guest VMSA of its own vCPU), fills every
 * GPR of it with PAT1(k) and RFLAGS with 0xCD7, loads its own preserved GPRs
 * with PAT0(k), and runs VMPL1:
 *   P_FLAGS bit 0 clear: GHCB MSR request 0x016 (VMPL 1 in [39:32]);
 *   P_FLAGS bit 0 set:   NAE 0x8000_0018, EXITINFO1 = 1.
 * VMPL1 records what it got (RES+0x200 + 8k, so RSP at +0x220; RFLAGS at
 * +0x288), loads PAT2(k) and returns to VMPL0 with MSR request 0x016 (VMPL 0).
 * VMPL0 records its registers (RES+0x100 + 8k), the GHCB MSR
 * at RES+0x30 (MSR form) or GHCB EXITINFO1/2 at RES+0x30/0x38 (NAE form),
 * copies the VMPL1 VMSA to 0x23000, and runs VMPL1 again (MSR form). VMPL1
 * resumes at vmpl1_resume, records its registers at RES+0x400 + 8k and the
 * GHCB MSR at RES+0x480, and halts at vmpl1_done; VMPL0's own VMSA then holds
 * its state at vmpl0_last_exit.
 * k is the register number: rax 0, rcx 1, rdx 2, rbx 3, rsp 4, rbp 5, rsi 6,
 * rdi 7, r8..r15 8..15. PATn(k) = 0x5A00000000000000 | n << 48 | k << 8 | k.
 * Creation results: RES+0x18 = RMPADJUST EAX, RES+0x20 = AP creation EXITINFO1.
 */
#include "snp.inc"
.globl _start, back_in_vmpl0, vmpl0_last_exit, not_reached, vmpl1_entry, vmpl1_resume, vmpl1_done

.set VMSA_COPY, 0x23000
.set PAT, 0x5A00000000000000

/* Store all GPRs but RSP as qwords at base + 8k (the RSP slot is base + 0x20). */
.macro STORE_GPRS base
	mov qword ptr [\base + 0x00], rax
	mov qword ptr [\base + 0x08], rcx
	mov qword ptr [\base + 0x10], rdx
	mov qword ptr [\base + 0x18], rbx
	mov qword ptr [\base + 0x28], rbp
	mov qword ptr [\base + 0x30], rsi
	mov qword ptr [\base + 0x38], rdi
	mov qword ptr [\base + 0x40], r8
	mov qword ptr [\base + 0x48], r9
	mov qword ptr [\base + 0x50], r10
	mov qword ptr [\base + 0x58], r11
	mov qword ptr [\base + 0x60], r12
	mov qword ptr [\base + 0x68], r13
	mov qword ptr [\base + 0x70], r14
	mov qword ptr [\base + 0x78], r15
.endm

/* Load PATn(k) into the GPRs that survive a GHCB MSR call (all but rax/rcx/rdx/rsp). */
.macro LOAD_PAT n
	mov rbx, PAT | (\n << 48) | 0x0303
	mov rbp, PAT | (\n << 48) | 0x0505
	mov rsi, PAT | (\n << 48) | 0x0606
	mov rdi, PAT | (\n << 48) | 0x0707
	mov r8,  PAT | (\n << 48) | 0x0808
	mov r9,  PAT | (\n << 48) | 0x0909
	mov r10, PAT | (\n << 48) | 0x0A0A
	mov r11, PAT | (\n << 48) | 0x0B0B
	mov r12, PAT | (\n << 48) | 0x0C0C
	mov r13, PAT | (\n << 48) | 0x0D0D
	mov r14, PAT | (\n << 48) | 0x0E0E
	mov r15, PAT | (\n << 48) | 0x0F0F
.endm

/* VMSA field `off` at RDI = PAT1(k). */
.macro SET_VMSA_PAT k, off
	mov rax, PAT | (1 << 48) | (\k << 8) | \k
	mov qword ptr [rdi + \off], rax
.endm

_start:
	call ghcb_setup
	mov rdi, qword ptr [PARAM + P_VMSA]
	mov rsi, offset vmpl1_entry
	mov rdx, qword ptr [PARAM + P_STACK1]
	mov ecx, 1
	call build_vmsa
	mov rbx, qword ptr [rdi + VMSA_SEV_FEATURES]

	/* every GPR of the VMPL1 VMSA: PAT1(k) */
	SET_VMSA_PAT 0, VMSA_RAX
	SET_VMSA_PAT 1, VMSA_RCX
	SET_VMSA_PAT 2, VMSA_RDX
	SET_VMSA_PAT 3, VMSA_RBX
	SET_VMSA_PAT 5, VMSA_RBP
	SET_VMSA_PAT 6, VMSA_RSI
	SET_VMSA_PAT 7, VMSA_RDI
	SET_VMSA_PAT 8, VMSA_R8
	SET_VMSA_PAT 9, VMSA_R9
	SET_VMSA_PAT 10, VMSA_R10
	SET_VMSA_PAT 11, VMSA_R11
	SET_VMSA_PAT 12, VMSA_R12
	SET_VMSA_PAT 13, VMSA_R13
	SET_VMSA_PAT 14, VMSA_R14
	SET_VMSA_PAT 15, VMSA_R15
	mov qword ptr [rdi + VMSA_RFLAGS], 0xCD7

	/* VMSA bit: target VMPL1, no permissions for VMPL1, VMSA=1 */
	mov rax, rdi
	xor ecx, ecx
	mov edx, RMPADJUST_VMSA | 1
	RMPADJUST
	mov qword ptr [RES + 0x18], rax

	/* AP creation: CREATE_ON_INIT (0), VMPL1, APIC ID 0 */
	call ghcb_clear
	GHCB_AP_CREATE (1<<SVM_VMGEXIT_AP_VMPL_SHIFT), "qword ptr [PARAM + P_VMSA]" /* CREATE_ON_INIT, VMPL1, APIC 0 */
	mov rax, qword ptr [r14 + GHCB_EXITINFO1]
	mov qword ptr [RES + 0x20], rax

	/* run VMPL1 */
	test qword ptr [PARAM + P_FLAGS], 1
	jnz 1f
	LOAD_PAT 0
	mov rax, (1 << 32) | GHCB_MSR_RUN_VMPL_REQ
	GHCB_MSR_CALL
	jmp back_in_vmpl0
1:	call ghcb_clear
	mov eax, SVM_VMGEXIT_RUN_VMPL
	mov qword ptr [r14 + GHCB_EXITCODE], rax
	mov qword ptr [r14 + GHCB_EXITINFO1], 1
	mov qword ptr [r14 + GHCB_EXITINFO2], 0
	GHCB_VALID r14, GHCB_EXITCODE
	GHCB_VALID r14, GHCB_EXITINFO1
	GHCB_VALID r14, GHCB_EXITINFO2
	mov rax, qword ptr [PARAM + P_GHCB]
	GHCB_MSR_WRITE
	LOAD_PAT 0
	VMGEXIT
back_in_vmpl0:
	STORE_GPRS (RES + 0x100)
	mov qword ptr [RES + 0x120], rsp
	mov qword ptr [RES + 0x30], rax
	test qword ptr [PARAM + P_FLAGS], 1
	jz 2f
	mov r14, qword ptr [PARAM + P_ALIAS]
	add r14, qword ptr [PARAM + P_GHCB]
	mov rax, qword ptr [r14 + GHCB_EXITINFO1]
	mov qword ptr [RES + 0x30], rax
	mov rax, qword ptr [r14 + GHCB_EXITINFO2]
	mov qword ptr [RES + 0x38], rax
2:	mov rsi, qword ptr [PARAM + P_VMSA]
	mov rdi, VMSA_COPY
	mov ecx, 512
	rep movsq

	/* run VMPL1 again: it resumes after its VMGEXIT and halts */
	mov eax, GHCB_MSR_RUN_VMPL_REQ
	mov edx, 1
	mov ecx, MSR_GHCB
	wrmsr
	VMGEXIT
vmpl0_last_exit:
not_reached:
	hlt

vmpl1_entry:
	STORE_GPRS (RES + 0x200)
	mov qword ptr [RES + 0x220], rsp
	pushfq
	pop qword ptr [RES + 0x288]
	cld
	LOAD_PAT 2
	mov eax, GHCB_MSR_RUN_VMPL_REQ              /* run VMPL 0 */
	xor edx, edx
	mov ecx, MSR_GHCB
	wrmsr
	VMGEXIT
vmpl1_resume:
	STORE_GPRS (RES + 0x400)
	mov qword ptr [RES + 0x420], rsp
	mov ecx, MSR_GHCB
	rdmsr
	shl rdx, 32
	or rax, rdx
	mov qword ptr [RES + 0x480], rax
vmpl1_done:
	hlt

#include "lib.inc"
