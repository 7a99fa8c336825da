/*
 * GHCB MSR sites rewritten after they ran: the model hooks each WRMSR/RDMSR
 * site by address, for the kind it held when translated
 * (backends/emu/machine/hooks.c), and the hook must notice other bytes there.
 * `rd_site` runs RDMSR, becomes WRMSR and runs with EDX:EAX = P_VAL;
 * `wr_site` runs WRMSR (0x6000), becomes RDMSR and runs with EAX = 0x7777.
 * Each rewrite is followed by a stop (a GHCB MSR call): self-modifying code
 * needs no serializing instruction (APM vol 2, 7.6.1) and the model drops the
 * old translation at the store (machine/smc.c); the stop makes the second run
 * start from a fresh translation, the case the hook's byte check is for.
 * RES+0: rd_site's read (0x5000); RES+8: the MSR after rd_site's write;
 * RES+0x10: wr_site's read.
 */
#include "snp.inc"
.globl _start, rd_site, rd_insn, wr_site, wr_insn, done
_start:
	mov eax, 0x5000
	xor edx, edx
	mov ecx, MSR_GHCB
	wrmsr
	call rd_site
	mov qword ptr [RES], rax
	mov byte ptr [rd_insn + 1], 0x30		/* RDMSR -> WRMSR */
	call resync
	mov rax, qword ptr [PARAM + P_VAL]
	mov rdx, rax
	shr rdx, 32
	call rd_site
	mov ecx, MSR_GHCB
	rdmsr
	shl rdx, 32
	or rax, rdx
	mov qword ptr [RES + 8], rax

	mov eax, 0x6000
	xor edx, edx
	call wr_site
	mov byte ptr [wr_insn + 1], 0x32		/* WRMSR -> RDMSR */
	call resync
	mov eax, 0x6000
	xor edx, edx
	mov ecx, MSR_GHCB
	wrmsr
	mov eax, 0x7777
	mov edx, 0x7777
	call wr_site
	mov qword ptr [RES + 0x10], rax
done:
	hlt

/* A stop of another kind (SEV information request). */
resync:
	mov eax, GHCB_MSR_SEV_INFO_REQ
	GHCB_MSR_CALL
	ret

	.balign 64
rd_site:
	mov ecx, MSR_GHCB
rd_insn:
	rdmsr
	ret

	.balign 64
wr_site:
	mov ecx, MSR_GHCB
wr_insn:
	wrmsr
	ret
