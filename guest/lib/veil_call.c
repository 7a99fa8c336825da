/* SPDX-License-Identifier: MIT */
/*
 * veil_call.c - SVSM calls, the GHCB MSR protocol and full GHCB calls
 * (reference sections 6 and 8; Linux svsm_perform_msr_protocol and
 * sev_es_ghcb_hv_call follow the same steps).
 */
#include "veil_call.h"

static inline uint64_t rdmsr64(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr64(uint32_t msr, uint64_t val)
{
	__asm__ volatile("wrmsr"
			 :
			 : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
			 : "memory");
}

uint64_t ghcb_msr_read(void)
{
	return rdmsr64(MSR_GHCB);
}

void ghcb_msr_write(uint64_t val)
{
	wrmsr64(MSR_GHCB, val);
}

/* VMGEXIT = rep; vmmcall. The hypervisor may read or write any guest-shared memory. */
void vmgexit(void)
{
	__asm__ volatile(".byte 0xf3, 0x0f, 0x01, 0xd9" : : : "memory");
}

uint64_t ghcb_msr_request(uint64_t req)
{
	ghcb_msr_write(req);
	vmgexit();
	return ghcb_msr_read();
}

/* ---- SVSM calls ----------------------------------------------------------- */

/* One attempt: RAX..R9 in, VMGEXIT with "run VMPL 0" in the MSR, results out. */
static uint64_t svsm_issue(struct svsm_caa *caa, uint64_t rax, struct svsm_call_out *io,
			   uint64_t *resp, uint8_t *pending)
{
	uint64_t rcx = io->rcx, rdx = io->rdx, saved = ghcb_msr_read();

	ghcb_msr_write(GHCB_MSR_RUN_VMPL(0));
	/* The monitor only acts on a call it sees pending (reference 8). */
	__atomic_store_n(&caa->call_pending, 1, __ATOMIC_SEQ_CST);
	{
		/* Bound to r8/r9 only at the asm: nothing may run in between. */
		register uint64_t r8 __asm__("r8") = io->r8;
		register uint64_t r9 __asm__("r9") = io->r9;

		__asm__ volatile(".byte 0xf3, 0x0f, 0x01, 0xd9"
				 : "+a"(rax), "+c"(rcx), "+d"(rdx), "+r"(r8), "+r"(r9)
				 :
				 : "memory");
		io->r8 = r8;
		io->r9 = r9;
	}
	*pending = __atomic_exchange_n(&caa->call_pending, 0, __ATOMIC_SEQ_CST);
	*resp = ghcb_msr_read();
	ghcb_msr_write(saved);
	io->rcx = rcx;
	io->rdx = rdx;
	return rax;
}

uint64_t svsm_call(struct svsm_caa *caa, uint32_t proto, uint32_t call, uint64_t rcx, uint64_t rdx,
		   uint64_t r8, uint64_t r9, struct svsm_call_out *out)
{
	struct svsm_call_out io;
	uint64_t rax, resp;
	uint8_t pending;
	unsigned tries = 0;

	do {
		io = (struct svsm_call_out){ rcx, rdx, r8, r9 };
		rax = svsm_issue(caa, SVSM_CALL(proto, call), &io, &resp, &pending);
		if (GHCB_MSR_INFO(resp) != GHCB_MSR_RUN_VMPL_RESP || GHCB_MSR_ERROR(resp))
			return VEIL_CALL_ERR_RUN_VMPL;
		if (pending)
			return VEIL_CALL_ERR_NOT_TAKEN;
	} while ((rax == SVSM_ERR_BUSY || rax == SVSM_ERR_INCOMPLETE) &&
		 ++tries < VEIL_CALL_MAX_RETRIES);
	if (out)
		*out = io;
	return rax;
}

uint64_t svsm_pvalidate(struct svsm_caa *caa, struct svsm_pvalidate_hdr *req, uint64_t req_gpa,
			unsigned *unchanged)
{
	volatile struct svsm_pvalidate_hdr *h = req;
	uint64_t rc;

	while (h->next < h->num_entries) {
		rc = svsm_call(caa, SVSM_CORE_PROTOCOL, SVSM_CORE_PVALIDATE, req_gpa, 0, 0, 0, 0);
		if (rc == SVSM_SUCCESS)
			return rc;
		if (rc != SVSM_ERR_PVALIDATE_FAIL_UNCHANGED)
			return rc;
		/* The monitor stopped at the unchanged entry: skip it. */
		h->next++;
		if (unchanged)
			(*unchanged)++;
	}
	return SVSM_SUCCESS;
}

/* ---- GHCB MSR protocol ---------------------------------------------------- */

int ghcb_msr_psc(uint64_t gpa, unsigned op)
{
	uint64_t saved = ghcb_msr_read(), resp;

	resp = ghcb_msr_request(GHCB_MSR_PSC(gpa >> 12, op));
	ghcb_msr_write(saved);
	return GHCB_MSR_INFO(resp) == GHCB_MSR_PSC_RESP && !GHCB_MSR_ERROR(resp) ? 0 : -1;
}

int ghcb_msr_register(uint64_t gpa)
{
	uint64_t resp = ghcb_msr_request(GHCB_MSR_REGISTER(gpa >> 12));

	return GHCB_MSR_INFO(resp) == GHCB_MSR_REGISTER_RESP && GHCB_MSR_DATA(resp) == gpa >> 12 ?
		       0 :
		       -1;
}

int ghcb_msr_cpuid(uint32_t fn, unsigned reg, uint32_t *val)
{
	uint64_t saved = ghcb_msr_read(), resp;

	resp = ghcb_msr_request(GHCB_MSR_CPUID(fn, reg));
	ghcb_msr_write(saved);
	if (GHCB_MSR_INFO(resp) != GHCB_MSR_CPUID_RESP ||
	    ((resp >> GHCB_MSR_CPUID_REG_SHIFT) & 3) != (reg & 3))
		return -1;
	*val = (uint32_t)(resp >> 32);
	return 0;
}

uint64_t ghcb_msr_hv_features(void)
{
	uint64_t saved = ghcb_msr_read(), resp;

	resp = ghcb_msr_request(GHCB_MSR_HV_FEATURES_REQ);
	ghcb_msr_write(saved);
	return GHCB_MSR_INFO(resp) == GHCB_MSR_HV_FEATURES_RESP ? GHCB_MSR_DATA(resp) : 0;
}

void ghcb_msr_terminate(unsigned set, unsigned code)
{
	ghcb_msr_write(GHCB_MSR_TERM(set, code));
	for (;;) {
		vmgexit();
		__asm__ volatile("hlt");
	}
}

int ghcb_page_register(uint64_t gpa)
{
	if (ghcb_msr_psc(gpa, GHCB_MSR_PSC_SHARED))
		return -1;
	return ghcb_msr_register(gpa);
}

/* ---- full GHCB calls ------------------------------------------------------ */

static volatile uint8_t *gb(volatile void *ghcb)
{
	return (volatile uint8_t *)ghcb;
}

void ghcb_clear(volatile void *ghcb)
{
	volatile uint64_t *bitmap = (volatile uint64_t *)(gb(ghcb) + GHCB_BITMAP);

	bitmap[0] = 0;
	bitmap[1] = 0;
	*(volatile uint64_t *)(gb(ghcb) + GHCB_EXITCODE) = 0;
}

void ghcb_set(volatile void *ghcb, unsigned off, uint64_t val)
{
	unsigned bit = off / 8;

	*(volatile uint64_t *)(gb(ghcb) + off) = val;
	gb(ghcb)[GHCB_BITMAP + bit / 8] |= (uint8_t)(1U << (bit % 8));
}

uint64_t ghcb_get(const volatile void *ghcb, unsigned off)
{
	return *(const volatile uint64_t *)((const volatile uint8_t *)ghcb + off);
}

int ghcb_is_valid(const volatile void *ghcb, unsigned off)
{
	unsigned bit = off / 8;

	return (((const volatile uint8_t *)ghcb)[GHCB_BITMAP + bit / 8] >> (bit % 8)) & 1;
}

uint64_t ghcb_hv_call(volatile void *ghcb, uint64_t gpa, uint64_t code, uint64_t info1,
		      uint64_t info2)
{
	ghcb_set(ghcb, GHCB_EXITCODE, code);
	ghcb_set(ghcb, GHCB_EXITINFO1, info1);
	ghcb_set(ghcb, GHCB_EXITINFO2, info2);
	*(volatile uint16_t *)(gb(ghcb) + GHCB_VERSION) = GHCB_PROTOCOL_VERSION;
	*(volatile uint32_t *)(gb(ghcb) + GHCB_USAGE) = 0;
	ghcb_msr_write(gpa);
	vmgexit();
	return ghcb_get(ghcb, GHCB_EXITINFO1);
}
