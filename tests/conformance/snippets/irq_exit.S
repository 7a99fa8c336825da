/*
 * An interrupt for the OS while VMPL1 runs (backends/emu/hv/irq_exit.c, the
 * Veil hypervisor contract in FIDELITY.md): a physical interrupt makes the
 * running guest exit with VMEXIT_INTR (exit code 0x60, APM vol 2 §15.21 and
 * appendix C); the hypervisor may inject it only into the OS's (VMPL3) VMSA and
 * runs VMPL0, if the OS could take it (RFLAGS.IF = 1 in its VMSA).
 *
 * VMPL0 creates the OS's VMSA (VMPL3, never run, RFLAGS = P_FLAGS) at P_ADDR and
 * a VMPL1 VMSA at P_VMSA, enables its APIC (x2APIC SVR through the GHCB), leaves
 * a WRMSR of the x2APIC ICR (a fixed self-IPI, vector 0x40) in the GHCB and
 * runs VMPL1. VMPL1 registers the same GHCB, sends the IPI (VMGEXIT at
 * vmpl1_ipi), stores 1 at RES+0x40 and asks for VMPL0 (vmpl1_back).
 * VMPL0 then records: RES+0x38 its GHCB MSR (the Run VMPL response), RES+0x48
 * the VMPL1 VMSA's GUEST_EXIT_CODE, RES+0x50 its RIP, RES+0x58 the x2APIC
 * IRR bits 95:64 (RDMSR 0x822 through the GHCB: vector 0x40 is bit 0).
 * Creation results: RES+0x18/0x20 RMPADJUST EAX and AP creation EXITINFO1 of
 * the OS VMSA, RES+0x28/0x30 of the VMPL1 VMSA; RES+0x10 = SVR write EXITINFO1.
 */
#include "snp.inc"
.globl _start, done, vmpl1_entry, vmpl1_ipi, vmpl1_back

.set IPI_VECTOR, 0x40
.set X2APIC_SVR, 0x80F
.set X2APIC_ICR, 0x830
.set X2APIC_IRR2, 0x822

_start:
	call ghcb_setup
	mov rdi, qword ptr [PARAM + P_ADDR]
	mov rsi, offset done
	mov rdx, qword ptr [PARAM + P_STACK1]
	mov ecx, 3
	mov r15, qword ptr [PARAM + P_FLAGS]
	call create_vmsa
	mov qword ptr [RES + 0x18], rax
	mov qword ptr [RES + 0x20], rbx
	mov rdi, qword ptr [PARAM + P_VMSA]
	mov rsi, offset vmpl1_entry
	mov rdx, qword ptr [PARAM + P_STACK1]
	mov ecx, 1
	mov r15, 2
	call create_vmsa
	mov qword ptr [RES + 0x28], rax
	mov qword ptr [RES + 0x30], rbx

	mov esi, X2APIC_SVR
	mov ebx, 0x1FF /* APIC software-enabled, spurious vector 0xFF */
	mov ecx, 1
	call ghcb_msr
	call ghcb_call
	mov rax, qword ptr [r14 + GHCB_EXITINFO1]
	mov qword ptr [RES + 0x10], rax
	mov esi, X2APIC_ICR
	mov ebx, IPI_VECTOR | (1 << 18) /* fixed, shorthand self */
	mov ecx, 1
	call ghcb_msr /* left for VMPL1 */

	mov rax, (1 << 32) | GHCB_MSR_RUN_VMPL_REQ
	GHCB_MSR_CALL
	mov qword ptr [RES + 0x38], rax
	mov rdi, qword ptr [PARAM + P_VMSA]
	mov rax, qword ptr [rdi + VMSA_EXIT_CODE]
	mov qword ptr [RES + 0x48], rax
	mov rax, qword ptr [rdi + VMSA_RIP]
	mov qword ptr [RES + 0x50], rax
	mov esi, X2APIC_IRR2
	xor ebx, ebx
	xor ecx, ecx
	call ghcb_msr
	call ghcb_call
	mov rax, qword ptr [r14 + GHCB_RAX]
	mov qword ptr [RES + 0x58], rax
done:
	hlt

vmpl1_entry:
	mov rax, qword ptr [PARAM + P_GHCB]
	or rax, GHCB_MSR_REGISTER_REQ
	GHCB_MSR_CALL
	mov rax, qword ptr [PARAM + P_GHCB]
	GHCB_MSR_WRITE
	VMGEXIT
vmpl1_ipi:
	mov qword ptr [RES + 0x40], 1
	mov eax, GHCB_MSR_RUN_VMPL_REQ /* run VMPL 0 */
	xor edx, edx
	mov ecx, MSR_GHCB
	wrmsr
	VMGEXIT
vmpl1_back:
	hlt

/*
 * create_vmsa: VMSA at RDI for VMPL ECX, entry RSI, RSP RDX, RFLAGS R15:
 * VMSA bit (RMPADJUST), then AP creation CREATE_ON_INIT for this vCPU.
 * Out: RAX = RMPADJUST EAX, RBX = AP creation EXITINFO1. Clobbers R8-R12.
 */
create_vmsa:
	mov r12d, ecx
	call build_vmsa
	mov qword ptr [rdi + VMSA_RFLAGS], r15
	mov rbx, qword ptr [rdi + VMSA_SEV_FEATURES]
	mov rax, rdi
	xor ecx, ecx
	mov edx, r12d
	or edx, RMPADJUST_VMSA
	RMPADJUST
	push rax
	push rdi
	call ghcb_clear
	pop rdi
	mov rdx, r12
	shl rdx, SVM_VMGEXIT_AP_VMPL_SHIFT
	GHCB_AP_CREATE rdx, rdi
	mov rbx, qword ptr [r14 + GHCB_EXITINFO1]
	pop rax
	ret

/* ghcb_msr: the GHCB at R14 for RDMSR (ECX = 0) or WRMSR (ECX = 1) of MSR ESI,
 * value RBX. Clobbers RAX, RCX, RDI. */
ghcb_msr:
	push rcx
	call ghcb_clear
	pop rcx
	mov qword ptr [r14 + GHCB_EXITCODE], SVM_EXIT_MSR
	mov qword ptr [r14 + GHCB_EXITINFO1], rcx
	mov qword ptr [r14 + GHCB_EXITINFO2], 0
	mov qword ptr [r14 + GHCB_RCX], rsi
	mov eax, ebx
	mov qword ptr [r14 + GHCB_RAX], rax
	mov rax, rbx
	shr rax, 32
	mov qword ptr [r14 + GHCB_RDX], rax
	GHCB_VALID r14, GHCB_EXITCODE
	GHCB_VALID r14, GHCB_EXITINFO1
	GHCB_VALID r14, GHCB_EXITINFO2
	GHCB_VALID r14, GHCB_RCX
	GHCB_VALID r14, GHCB_RAX
	GHCB_VALID r14, GHCB_RDX
	ret

#include "lib.inc"
