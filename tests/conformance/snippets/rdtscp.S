/*
 * RDTSCP is advertised (CPUID 0x8000_0001 EDX[27]) and runs: EDX:EAX = the TSC,
 * ECX = TSC_AUX (written first through WRMSR 0xC000_0103, which passes through).
 * RES+0x00: TSC of an RDTSC before; +0x08: RDTSCP's EDX:EAX; +0x10: its RCX.
 */
#include "snp.inc"
.globl _start, insn, done
_start:
	mov ecx, 0xC0000103
	mov eax, 0x5A5A1234
	xor edx, edx
	wrmsr
	rdtsc
	shl rdx, 32
	or rax, rdx
	mov qword ptr [RES + 0x00], rax
	mov rcx, -1
insn:
	rdtscp
	shl rdx, 32
	or rax, rdx
	mov qword ptr [RES + 0x08], rax
	mov qword ptr [RES + 0x10], rcx
done:
	hlt
