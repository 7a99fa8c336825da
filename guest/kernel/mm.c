/* SPDX-License-Identifier: MIT */
/*
 * mm.c - page tables, GHCB pages, validation of OS memory, a page allocator.
 *
 * Identity map of guest memory with 2 MiB pages, C-bit set. The 2 MiB
 * regions holding the GHCB pages are split into 4 KiB pages so that exactly
 * the GHCB pages can be mapped C=0 (shared). OS memory that the loader left
 * unvalidated is validated with SVSM_CORE_PVALIDATE, then handed out by a
 * bump allocator.
 */
#include "kernel.h"

#define PTE_P (1ULL << 0)
#define PTE_W (1ULL << 1)
#define PTE_PS (1ULL << 7)
#define PTE_C (1ULL << 51) /* C-bit position: SEV info, reference 6.2 */
#define PTE_ADDR 0x0007FFFFFFFFF000ULL
#define NR_PD 16 /* GiB of guest memory mapped at most */
#define NR_PT 4

static uint64_t pml4[512] ALIGNED(4096);
static uint64_t pdpt[512] ALIGNED(4096);
static uint64_t pd[NR_PD][512] ALIGNED(4096);
static uint64_t pt[NR_PT][512] ALIGNED(4096);
static unsigned pt_used;
static uint64_t pval_page[512] ALIGNED(4096); /* PVALIDATE request page */

/* One GHCB page per vCPU, in .bss: private until ghcb_share() converts it. */
uint8_t ghcb_pages[VEIL_BOOT_MAX_VCPUS][PAGE_SIZE] ALIGNED(4096);

static struct svsm_pvalidate_hdr *pvalidate_req(void)
{
	return (struct svsm_pvalidate_hdr *)pval_page;
}

static uint64_t pvalidate_req_gpa(void)
{
	return (uint64_t)pval_page;
}

static uint64_t *pde_of(uint64_t va)
{
	return &pd[va >> 30][(va >> 21) & 511];
}

/* Replace the 2 MiB mapping at `va` by 512 4 KiB ones (same attributes). */
static void split_2m(uint64_t va)
{
	uint64_t *pde = pde_of(va), base = va & ~(HUGE_SIZE - 1);
	unsigned i;

	if (!(*pde & PTE_PS))
		return;
	if (pt_used == NR_PT)
		terminate(VEIL_TERM_TEST_FAILED);
	for (i = 0; i < 512; i++)
		pt[pt_used][i] = (base + i * PAGE_SIZE) | PTE_P | PTE_W | PTE_C;
	*pde = (uint64_t)pt[pt_used++] | PTE_P | PTE_W | PTE_C;
}

static uint64_t *pte_of(uint64_t va)
{
	uint64_t *table = (uint64_t *)(*pde_of(va) & PTE_ADDR);

	return &table[(va >> 12) & 511];
}

/* Build and load the kernel's own page tables (CR3 without the C-bit:
 * page-table walks of an SEV guest are always private). */
void mm_init(void)
{
	uint64_t top = boot.mem_size, va;
	unsigned i;

	if (top > ((uint64_t)NR_PD << 30))
		top = (uint64_t)NR_PD << 30;
	pml4[0] = (uint64_t)pdpt | PTE_P | PTE_W | PTE_C;
	for (i = 0; i < NR_PD; i++)
		pdpt[i] = (uint64_t)pd[i] | PTE_P | PTE_W | PTE_C;
	for (va = 0; va < top; va += HUGE_SIZE)
		*pde_of(va) = va | PTE_P | PTE_W | PTE_PS | PTE_C;
	split_2m((uint64_t)ghcb_pages);
	split_2m((uint64_t)ghcb_pages + sizeof(ghcb_pages) - 1);
	__asm__ volatile("mov %0, %%cr3" : : "r"((uint64_t)pml4) : "memory");
}

static uint64_t pvalidate_one(uint64_t gpa, bool validate)
{
	struct svsm_pvalidate_hdr *req = pvalidate_req();

	req->num_entries = 1;
	req->next = 0;
	req->reserved = 0;
	pval_page[1] = SVSM_PVAL_ENTRY(gpa >> 12, SVSM_PVAL_SIZE_4K, validate, 0);
	return svsm_pvalidate(this_cpu()->caa, req, pvalidate_req_gpa(), 0);
}

/*
 * Turn cpus[cpu]'s GHCB page shared: rescind its validation through the
 * monitor (as Linux does before a private->shared change), PSC it, and map
 * it C=0. Registration is up to the vCPU that will use it.
 */
int ghcb_share(unsigned cpu)
{
	uint64_t gpa = (uint64_t)ghcb_pages[cpu], *pte = pte_of(gpa), rc;

	rc = pvalidate_one(gpa, false);
	if (rc != SVSM_SUCCESS)
		return -1;
	if (ghcb_msr_psc(gpa, GHCB_MSR_PSC_SHARED))
		return -2;
	*pte &= ~PTE_C;
	__asm__ volatile("invlpg (%0)" : : "r"(gpa) : "memory");
	cpus[cpu].ghcb = ghcb_pages[cpu];
	return 0;
}

/* Turn one validated OS page shared for talking to the hypervisor (the
 * attestation request and response pages): split its 2 MiB mapping, rescind,
 * PSC, map it C=0. 0 = done. */
int page_share(uint64_t gpa)
{
	uint64_t *pte;

	split_2m(gpa);
	__asm__ volatile("mov %0, %%cr3" : : "r"((uint64_t)pml4) : "memory");
	if (pvalidate_one(gpa, false) != SVSM_SUCCESS)
		return -1;
	if (ghcb_msr_psc(gpa, GHCB_MSR_PSC_SHARED))
		return -2;
	pte = pte_of(gpa);
	*pte &= ~PTE_C;
	__asm__ volatile("invlpg (%0)" : : "r"(gpa) : "memory");
	return 0;
}

/* ---- validation of OS memory ---------------------------------------------- */

static unsigned nr_validated, nr_unchanged;

static uint64_t pval_flush(unsigned n)
{
	struct svsm_pvalidate_hdr *req = pvalidate_req();

	req->num_entries = (uint16_t)n;
	req->next = 0;
	req->reserved = 0;
	nr_validated += n;
	return svsm_pvalidate(this_cpu()->caa, req, pvalidate_req_gpa(), &nr_unchanged);
}

/* Validate [gpa, gpa+len) in 4 KiB entries, SVSM_PVAL_MAX_ENTRIES per call. */
static uint64_t validate_range(uint64_t gpa, uint64_t len)
{
	uint64_t *ent = pval_page + 1, p, rc;
	unsigned n = 0;

	for (p = gpa; p < gpa + len; p += PAGE_SIZE) {
		ent[n++] = SVSM_PVAL_ENTRY(p >> 12, SVSM_PVAL_SIZE_4K, 1, 0);
		if (n == SVSM_PVAL_MAX_ENTRIES || p + PAGE_SIZE >= gpa + len) {
			rc = pval_flush(n);
			if (rc != SVSM_SUCCESS) {
				kprintf("PVALIDATE of 0x%lx.. failed: 0x%lx (entry %u)\n",
					p - (n - 1) * PAGE_SIZE, rc, pvalidate_req()->next);
				return rc;
			}
			n = 0;
		}
	}
	return SVSM_SUCCESS;
}

/* One qword per 64 bytes: enough to touch every page and most lines. */
static bool pattern_check(uint64_t gpa, uint64_t len)
{
	volatile uint64_t *p;
	uint64_t end = gpa + len, salt = 0x5EC0DE5EC0DE0000ULL;

	for (p = (volatile uint64_t *)gpa; (uint64_t)p < end; p += 8)
		*p = (uint64_t)p ^ salt;
	for (p = (volatile uint64_t *)gpa; (uint64_t)p < end; p += 8) {
		if (*p != ((uint64_t)p ^ salt)) {
			kprintf("pattern mismatch at 0x%lx: 0x%lx\n", (uint64_t)p, *p);
			return false;
		}
	}
	return true;
}

static bool pool_ready;

/* Validate every VEIL_MEM_OS_UNVALIDATED range (page-aligned inward). */
int mm_validate_os_memory(bool pattern)
{
	uint64_t total = 0, rc = SVSM_SUCCESS, first_rc = SVSM_SUCCESS;
	bool ok = true;
	unsigned i;

	if (pool_ready)
		return 0; /* done at boot, before kernel code integrity locks (kci.c) */
	for (i = 0; i < boot.nr_ranges; i++) {
		const struct veil_mem_range *r = &boot.ranges[i];
		uint64_t s = (r->gpa + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
		uint64_t e = (r->gpa + r->len) & ~(PAGE_SIZE - 1);

		if (r->type != VEIL_MEM_OS_UNVALIDATED || e <= s)
			continue;
		rc = validate_range(s, e - s);
		if (rc != SVSM_SUCCESS && first_rc == SVSM_SUCCESS)
			first_rc = rc;
		if (rc == SVSM_SUCCESS && pattern)
			ok &= pattern_check(s, e - s);
		total += e - s;
	}
	kprintf("validated %lu KiB of OS memory (%u pages, %u already valid)\n", total >> 10,
		nr_validated, nr_unchanged);
	check("pvalidate-os-memory", first_rc == SVSM_SUCCESS, first_rc);
	if (pattern)
		check("memory-pattern", ok, 0);
	pool_ready = first_rc == SVSM_SUCCESS;
	return pool_ready ? 0 : -1;
}

/* ---- page allocator over the validated ranges ----------------------------- */

static unsigned pool_idx;
static uint64_t pool_cur, pool_end;

static bool pool_next_range(void)
{
	while (pool_idx < boot.nr_ranges) {
		const struct veil_mem_range *r = &boot.ranges[pool_idx++];

		if (r->type != VEIL_MEM_OS_UNVALIDATED)
			continue;
		pool_cur = (r->gpa + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
		pool_end = (r->gpa + r->len) & ~(PAGE_SIZE - 1);
		if (pool_cur < pool_end)
			return true;
	}
	return false;
}

/* `n` zeroed contiguous pages; 0 if no range has that many left. */
uint64_t pages_alloc(unsigned n)
{
	uint64_t p, len = n * PAGE_SIZE;

	while (pool_ready) {
		if (pool_end - pool_cur < len && !pool_next_range())
			return 0;
		if (pool_end - pool_cur < len)
			continue;
		p = pool_cur;
		pool_cur += len;
		memset((void *)p, 0, len);
		return p;
	}
	return 0;
}

/* A zeroed page that is not 2 MiB-aligned (the VMSA rule, reference 5.2). */
uint64_t vmsa_page_alloc(void)
{
	uint64_t p = pages_alloc(1);

	return p && !(p & (HUGE_SIZE - 1)) ? pages_alloc(1) : p;
}

/* A zeroed 2 MiB-aligned page (for negative tests); 0 if none. */
uint64_t page_alloc_2m_aligned(void)
{
	uint64_t p;

	while (pool_ready) {
		if (pool_cur >= pool_end && !pool_next_range())
			return 0;
		p = (pool_cur + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1);
		if (p < pool_end) {
			pool_cur = p + PAGE_SIZE;
			memset((void *)p, 0, PAGE_SIZE);
			return p;
		}
		pool_cur = pool_end;
	}
	return 0;
}
