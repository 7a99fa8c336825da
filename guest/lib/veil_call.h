/* SPDX-License-Identifier: MIT */
/*
 * veil_call.h - guest-side calls into the Veil monitor and the hypervisor.
 *
 * Freestanding (only <stdint.h> and veil/abi.h), so the test kernel and a
 * Linux module can both use it. Runs at CPL0 in an SNP guest: it uses RDMSR,
 * WRMSR and VMGEXIT. Not reentrant per vCPU: the caller keeps one call in
 * flight per vCPU (interrupts off, or per-CPU use only).
 *
 * Addresses: "gpa" arguments are guest-physical; pointers are the caller's
 * own mapping of the same page (a GHCB must be mapped with the C-bit clear).
 */
#ifndef VEIL_CALL_H
#define VEIL_CALL_H

#include <stdint.h>

#include <veil/abi.h>

/* ---- SVSM calls (run VMPL 0 through the GHCB MSR protocol) -------------- */

/* Transport failures; outside the SVSM result space (bit 63 and 62 set). */
#define VEIL_CALL_ERR_RUN_VMPL 0xC000000000000001ULL  /* no 0x017 response, or error != 0 */
#define VEIL_CALL_ERR_NOT_TAKEN 0xC000000000000002ULL /* call_pending still 1 afterwards */
/* Re-issues of a call answered BUSY or INCOMPLETE before giving up. */
#define VEIL_CALL_MAX_RETRIES 4096

struct svsm_call_out {
	uint64_t rcx, rdx, r8, r9;
};

/*
 * Call `proto`/`call` with RCX, RDX, R8, R9 through the CAA `caa` of this
 * vCPU. Returns RAX (SVSM_SUCCESS, an SVSM error code) or VEIL_CALL_ERR_*;
 * the output registers go to `out` (may be NULL).
 */
uint64_t svsm_call(struct svsm_caa *caa, uint32_t proto, uint32_t call, uint64_t rcx, uint64_t rdx,
		   uint64_t r8, uint64_t r9, struct svsm_call_out *out);

/*
 * Run the PVALIDATE request `req` (mapped at `req`, at GPA `req_gpa`) to the
 * end, from req->next on. An entry the monitor reports as unchanged
 * (SVSM_ERR_PVALIDATE_FAIL_UNCHANGED) is skipped and counted in *unchanged.
 * Returns SVSM_SUCCESS or the first other error (req->next = its entry).
 */
uint64_t svsm_pvalidate(struct svsm_caa *caa, struct svsm_pvalidate_hdr *req, uint64_t req_gpa,
			unsigned *unchanged);

/* ---- GHCB MSR protocol (GHCB spec 56421, 2.3.1; codes in snp/arch.h) -- */

#define MSR_SVSM_CAA 0xC001F000U /* virtual: the guest's #VC handler answers it */

uint64_t ghcb_msr_read(void);
void ghcb_msr_write(uint64_t val);
void vmgexit(void);

/* Write `req`, VMGEXIT, return the response (the MSR is not restored). */
uint64_t ghcb_msr_request(uint64_t req);

/* Page state change of one 4 KiB page (op GHCB_MSR_PSC_*); 0 = done. Restores the MSR. */
int ghcb_msr_psc(uint64_t gpa, unsigned op);

/* Register the GHCB at `gpa` for this vCPU (and VMPL); 0 = done. */
int ghcb_msr_register(uint64_t gpa);

/* CPUID through the MSR protocol: register `reg` (0 EAX .. 3 EDX) of leaf `fn`
 * into *val; 0 = done. Restores the MSR. */
int ghcb_msr_cpuid(uint32_t fn, unsigned reg, uint32_t *val);

/* Hypervisor feature bitmap (GHCB_HV_FEATURE_*), 0 if the request failed. */
uint64_t ghcb_msr_hv_features(void);

/* Ask the hypervisor to terminate the guest; does not return. */
__attribute__((noreturn)) void ghcb_msr_terminate(unsigned set, unsigned code);

/* Make the page at `gpa` shared (PSC) and register it as this vCPU's GHCB.
 * The caller then maps it with the C-bit clear; 0 = done. */
int ghcb_page_register(uint64_t gpa);

/* ---- full GHCB calls (GHCB spec 56421, 2.5; layout in snp/arch.h) ----- */

/* Start a call: clear the valid bitmap (both sides mark what they provide). */
void ghcb_clear(volatile void *ghcb);
/* Store a save-area qword and mark it valid. */
void ghcb_set(volatile void *ghcb, unsigned off, uint64_t val);
uint64_t ghcb_get(const volatile void *ghcb, unsigned off);
int ghcb_is_valid(const volatile void *ghcb, unsigned off);

/*
 * Issue the NAE event `code` with EXITINFO1/2 through the GHCB mapped at
 * `ghcb` (GPA `gpa`, registered): fills the exit fields, version 2 and usage
 * 0, writes the GPA to the GHCB MSR, VMGEXIT. Returns SW_EXITINFO1.
 */
uint64_t ghcb_hv_call(volatile void *ghcb, uint64_t gpa, uint64_t code, uint64_t info1,
		      uint64_t info2);

#endif
