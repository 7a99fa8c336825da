/* SPDX-License-Identifier: MIT */
/*
 * snp.h - the real-hardware backend: veil/backend.h implemented with the SNP
 * instructions themselves (RMPADJUST, PVALIDATE, RDMSR/WRMSR of the GHCB
 * MSR, VMGEXIT, RDTSC, INVLPGB/TLBSYNC). Freestanding. It runs wherever the
 * monitor runs at VMPL0 of an SNP guest: on EPYC, and in veil-emu's image
 * mode, where the machine model executes the same instructions; nothing here
 * knows which.
 *
 * Virtual memory the backend relies on (built by the VMPL0 image, image.c):
 * - the private direct map: guest page gpa at SNP_DIRECT_MAP + gpa, C=1;
 *   map() points into it and RMPADJUST/PVALIDATE are given these addresses
 *   (the instructions translate their operand through the page tables);
 * - the shared map: gpa at SNP_SHARED_MAP + gpa, C=0, for map_shared().
 */
#ifndef VEIL_SNP_H
#define VEIL_SNP_H

#include <snp/arch.h>
#include <veil/backend.h>

#define SNP_SHARED_MAP 0xFFFF800000000000ULL /* PML4 slot 256 */
#define SNP_DIRECT_MAP 0xFFFF888000000000ULL /* PML4 slot 273 */

/* Per-vCPU backend state; be.priv points here. */
struct snp_vcpu {
	struct veil_backend be;
	u32 id;	      /* APIC id */
	u64 mem_size; /* guest memory: the extent of both maps */
	u64 ghcb;     /* GPA of the GHCB last named in the GHCB MSR, 0 = none */
};

/* Set up the backend handle of vCPU `id`. */
void snp_vcpu_init(struct snp_vcpu *v, u32 id, u64 mem_size);

/* The instructions, for the image's own early boot and exception paths. */
static inline u64 snp_rdmsr(u32 msr)
{
	u32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void snp_wrmsr(u32 msr, u64 val)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
}

/* VMGEXIT is VMMCALL with a REP prefix (APM vol. 3, "VMGEXIT"). */
static inline void snp_vmgexit(void)
{
	__asm__ volatile("rep; vmmcall" : : : "memory");
}

/* One GHCB MSR protocol request: write, VMGEXIT, read the response. */
static inline u64 snp_msr_protocol(u64 req)
{
	snp_wrmsr(MSR_GHCB, req);
	snp_vmgexit();
	return snp_rdmsr(MSR_GHCB);
}

#endif
