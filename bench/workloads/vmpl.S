/*
 * VMPL switch round trips. Started at VMPL0, CPL0 by the harness, which has
 * filled a VMPL1 VMSA at 0x201000 (RIP = vmpl1_entry) and a VMPL3 VMSA at
 * 0x202000 (RIP = vmpl3_entry), and put the batch count at [0x8000] and the
 * round trips per batch at [0x8008].
 *
 * VMPL0 registers a shared GHCB at 0x20000 (MSR protocol 0x012, 0x014), sets
 * the VMSA bit of both pages with RMPADJUST, registers them with AP creation
 * NAEs (CREATE_ON_INIT), then per batch: writes a marker byte to port 0x3F8
 * (IOIO NAE: the harness timestamps it) and runs VMPL3 (MSR protocol 0x016).
 * VMPL3 does [0x8008] round trips "run VMPL1" -> VMPL1 "run VMPL3", then
 * runs VMPL0 again. After the last batch VMPL0 writes a final marker and halts.
 * Results of the setup steps go to 0x9000 (+0x00 GHCB register response,
 * +0x08 PSC response, +0x10/+0x18 RMPADJUST, +0x20/+0x28 AP creation).
 */
.intel_syntax noprefix
.globl _start, vmpl1_entry, vmpl3_entry

.set GHCB, 0x20000
.set ALIAS, 0xFFFF800000000000
.set RES, 0x9000
.set MSR_GHCB, 0xC0010130

.macro VMGEXIT
	.byte 0xF3, 0x0F, 0x01, 0xD9
.endm
.macro RMPADJUST
	.byte 0xF3, 0x0F, 0x01, 0xFE
.endm
/* GHCB MSR = RAX; VMGEXIT; RAX = GHCB MSR. Clobbers RCX, RDX. */
.macro MSR_CALL
	mov rdx, rax
	shr rdx, 32
	mov ecx, MSR_GHCB
	wrmsr
	VMGEXIT
	mov ecx, MSR_GHCB
	rdmsr
	shl rdx, 32
	or rax, rdx
.endm

_start:
	mov r14, ALIAS + GHCB
	mov rax, GHCB | 0x012
	MSR_CALL
	mov qword ptr [RES + 0x00], rax
	mov rax, 0x0020000000000014 | GHCB
	MSR_CALL
	mov qword ptr [RES + 0x08], rax

	mov eax, 0x201000
	xor ecx, ecx
	mov edx, 0x10001
	RMPADJUST
	mov qword ptr [RES + 0x10], rax
	mov eax, 0x202000
	xor ecx, ecx
	mov edx, 0x10003
	RMPADJUST
	mov qword ptr [RES + 0x18], rax

	mov ebx, 0x201000
	mov esi, 0x10000            /* CREATE_ON_INIT, VMPL1, APIC 0 */
	call ap_create
	mov qword ptr [RES + 0x20], rax
	mov ebx, 0x202000
	mov esi, 0x30000            /* CREATE_ON_INIT, VMPL3, APIC 0 */
	call ap_create
	mov qword ptr [RES + 0x28], rax
	or rax, qword ptr [RES + 0x20]
	jnz fail

	mov r12, qword ptr [0x8000]
batch:
	call marker
	mov rax, 0x0000000300000016 /* run VMPL3 */
	MSR_CALL
	mov qword ptr [RES + 0x30], rax
	dec r12
	jnz batch
	call marker
fail:
	hlt

/* Clear the GHCB at R14: version 2, usage 0. Clobbers RAX, RCX, RDI. */
ghcb_clear:
	mov rdi, r14
	xor eax, eax
	mov ecx, 512
	rep stosq
	mov word ptr [r14 + 0xFFA], 2
	ret

/* GHCB NAE: exit code in RAX (set valid bits first); returns EXITINFO1 in RAX. */
ghcb_call:
	mov qword ptr [r14 + 0x390], rax
	or byte ptr [r14 + 0x3F0 + 14], 0x1C   /* EXITCODE, EXITINFO1, EXITINFO2 */
	mov eax, GHCB
	xor edx, edx
	mov ecx, MSR_GHCB
	wrmsr
	VMGEXIT
	mov rax, qword ptr [r14 + 0x398]
	ret

/* AP creation: RBX = VMSA GPA, RSI = EXITINFO1. */
ap_create:
	call ghcb_clear
	mov qword ptr [r14 + 0x398], rsi
	mov qword ptr [r14 + 0x3A0], rbx
	mov qword ptr [r14 + 0x1F8], 1          /* RAX = SEV features */
	or byte ptr [r14 + 0x3F0 + 7], 0x80     /* RAX valid */
	mov eax, 0x80000013
	jmp ghcb_call

/* Write one byte to port 0x3F8 (IOIO NAE). */
marker:
	call ghcb_clear
	mov qword ptr [r14 + 0x398], 0x3F80010  /* port 0x3F8, 8-bit, OUT */
	mov qword ptr [r14 + 0x3A0], 0
	mov qword ptr [r14 + 0x1F8], 0x2E
	or byte ptr [r14 + 0x3F0 + 7], 0x80
	mov eax, 0x7B
	jmp ghcb_call

vmpl3_entry:
	mov r12, qword ptr [0x8008]
1:	mov eax, 0x016              /* run VMPL1 */
	mov edx, 1
	mov ecx, MSR_GHCB
	wrmsr
	VMGEXIT
	dec r12
	jnz 1b
	mov eax, 0x016              /* back to VMPL0: end of batch */
	xor edx, edx
	mov ecx, MSR_GHCB
	wrmsr
	VMGEXIT
	jmp vmpl3_entry

vmpl1_entry:
	mov eax, 0x016              /* run VMPL3 */
	mov edx, 3
	mov ecx, MSR_GHCB
	wrmsr
	VMGEXIT
	jmp vmpl1_entry
