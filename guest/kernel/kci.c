/* SPDX-License-Identifier: MIT */
/*
 * kci.c - kernel code integrity in the test OS (VEIL_PROTOCOL_KCI).
 *
 * At boot, once OS memory is validated, the kernel declares its text and
 * read-only data (the page-aligned PT_LOAD segments of linker.ld, found
 * through linker symbols) and the symbols modules may link against, and
 * locks. The monitor checks the declaration against the segments it measured
 * at launch; from then on VMPL3 sees its text R+Xs, its rodata R, and no
 * other page executable at CPL0. Scenarios that need the unlocked kernel (a
 * lock the monitor must refuse, a LOAD before the lock, the bench's in-OS
 * loader) run just before the lock.
 */
#include "kci.h"

#define PTE_P (1ULL << 0)
#define PTE_W (1ULL << 1)
#define PTE_C (1ULL << 51)
#define PTE_NX (1ULL << 63)
#define PTE_ADDR 0x0007FFFFFFFFF000ULL
#define SPARE_PML4_SLOT 2 /* VA 1 TiB: outside the identity map (audit.c uses slot 1) */

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];

/* What modules may use. In rodata: locked along with the code it names. */
static const struct veil_kci_export exports[] = {
	{ "console_puts", (uint64_t)console_puts, 0 },
	{ "kprintf", (uint64_t)kprintf, 0 },
	{ "memcpy", (uint64_t)memcpy, 0 },
	{ "memset", (uint64_t)memset, 0 },
	{ "strlen", (uint64_t)strlen, 0 },
	{ "module_counter", (uint64_t)&module_counter, 0 },
};

/* Declarations travel by GPA (8-byte aligned, OS memory): one static buffer. */
static struct veil_kci_decl decl ALIGNED(8);
static struct veil_kci_export bad_exports[ARRAY_SIZE(exports) + 1] ALIGNED(8);

const struct veil_kci_export *kci_exports(unsigned *n)
{
	*n = ARRAY_SIZE(exports);
	return exports;
}

static void decl_build(struct veil_kci_decl *d)
{
	memset(d, 0, sizeof(*d));
	d->nr_ranges = 2;
	d->ranges[0] = (struct veil_kci_range){ (uint64_t)__text_start,
						(uint64_t)(__text_end - __text_start),
						VEIL_KCI_TEXT, 0 };
	d->ranges[1] = (struct veil_kci_range){ (uint64_t)__rodata_start,
						(uint64_t)(__rodata_end - __rodata_start),
						VEIL_KCI_RODATA, 0 };
	d->nr_exports = ARRAY_SIZE(exports);
	d->exports_gpa = (uint64_t)exports;
}

static uint64_t kci_lock(const struct veil_kci_decl *d)
{
	return svsm_call(this_cpu()->caa, VEIL_PROTOCOL_KCI, VEIL_KCI_LOCK, (uint64_t)d, 0, 0, 0,
			 NULL);
}

uint64_t kci_status(struct svsm_call_out *o)
{
	return svsm_call(this_cpu()->caa, VEIL_PROTOCOL_KCI, VEIL_KCI_STATUS, 0, 0, 0, 0, o);
}

/* A refused LOCK must change nothing: still unlocked afterwards. */
static uint64_t lock_refused(const struct veil_kci_decl *d)
{
	struct svsm_call_out o = { 0 };
	uint64_t rc = kci_lock(d);

	if (rc == SVSM_SUCCESS || kci_status(&o) != SVSM_SUCCESS || o.rcx != 0)
		return rc == SVSM_SUCCESS ? rc : ~rc; /* locked: never the expected code */
	return rc;
}

/* ---- command line ----------------------------------------------------------- */

/* The value of "key=" in the boot command line, or NULL. */
static const char *cmdline_find(const char *key)
{
	const char *p = boot.cmdline;
	size_t n = strlen(key);

	while (*p) {
		if (!strncmp(p, key, n) && p[n] == '=')
			return p + n + 1;
		while (*p && *p != ' ')
			p++;
		while (*p == ' ')
			p++;
	}
	return NULL;
}

uint64_t cmdline_u64(const char *key, uint64_t dflt)
{
	const char *p = cmdline_find(key);
	uint64_t v = 0;

	if (!p || *p < '0' || *p > '9')
		return dflt;
	for (; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	return v;
}

bool cmdline_is(const char *key, const char *val)
{
	const char *p = cmdline_find(key);
	size_t n = strlen(val);

	return p && !strncmp(p, val, n) && (p[n] == ' ' || !p[n]);
}

/* ---- refusals ----------------------------------------------------------------- */

/* Text declared one page short of the measured segment. */
static uint64_t lock_mismatch(void)
{
	decl_build(&decl);
	decl.ranges[0].len -= PAGE_SIZE;
	return lock_refused(&decl);
}

/* Rodata only: the executable segment left undeclared. */
static uint64_t lock_no_text(void)
{
	decl_build(&decl);
	decl.ranges[0] = decl.ranges[1];
	decl.nr_ranges = 1;
	return lock_refused(&decl);
}

/* One export pointing just past the loaded image. */
static uint64_t export_outside(void)
{
	decl_build(&decl);
	memcpy(bad_exports, exports, sizeof(exports));
	memcpy(bad_exports[ARRAY_SIZE(exports)].name, "past_the_image", 15);
	bad_exports[ARRAY_SIZE(exports)].addr = boot.kernel_end;
	decl.exports_gpa = (uint64_t)bad_exports;
	decl.nr_exports = ARRAY_SIZE(bad_exports);
	return lock_refused(&decl);
}

/* The export table "in" monitor memory: the monitor must not read it for us. */
static uint64_t exports_monitor(void)
{
	uint64_t gpa = 0, len;

	if (!mem_range_of(VEIL_MEM_MONITOR, &gpa, &len))
		return ~0ULL;
	decl_build(&decl);
	decl.exports_gpa = gpa + PAGE_SIZE;
	return lock_refused(&decl);
}

/* After the boot lock: the same, correct declaration again. */
static uint64_t lock_twice(void)
{
	decl_build(&decl);
	return kci_lock(&decl);
}

/* ---- violations --------------------------------------------------------------- */

static void attempt(const char *name, const char *what, uint64_t gpa)
{
	kprintf("%s: %s, target gpa 0x%lx; the monitor must stop the CVM\n", name, what, gpa);
}

static uint64_t write_text(void)
{
	volatile uint8_t *p = (volatile uint8_t *)(uint64_t)kci_boot;

	attempt("attack-kci-write-text", "writing kernel text", (uint64_t)p);
	*p = 0xCC;
	return ~0ULL;
}

static uint64_t write_rodata(void)
{
	volatile uint64_t *p = (volatile uint64_t *)&exports[0].addr;

	attempt("attack-kci-write-rodata", "redirecting an export in rodata", (uint64_t)p);
	*p = 0;
	return ~0ULL;
}

/* A `ret` copied into a data page, then called at CPL0. */
static uint8_t inject_page[PAGE_SIZE] ALIGNED(4096);

static uint64_t exec_data(void)
{
	void (*fn)(void) = (void (*)(void))(uint64_t)inject_page;

	*(volatile uint8_t *)inject_page = 0xC3; /* ret */
	attempt("attack-kci-exec-data", "calling injected code in a data page",
		(uint64_t)inject_page);
	fn();
	return ~0ULL;
}

/* Map `page` at `va` through fresh tables in a spare PML4 slot, NX set. */
static volatile uint64_t *map_nx(uint64_t va, uint64_t page)
{
	uint64_t *pml4 = (uint64_t *)(READ_CR(3) & PTE_ADDR);
	uint64_t *pdpt = (uint64_t *)pages_alloc(1), *pd = (uint64_t *)pages_alloc(1);
	uint64_t *pt = (uint64_t *)pages_alloc(1);

	if (!pdpt || !pd || !pt || pml4[SPARE_PML4_SLOT])
		return NULL;
	pt[(va >> 12) & 511] = page | PTE_P | PTE_W | PTE_C | PTE_NX;
	pd[(va >> 21) & 511] = (uint64_t)pt | PTE_P | PTE_W | PTE_C;
	pdpt[(va >> 30) & 511] = (uint64_t)pd | PTE_P | PTE_W | PTE_C;
	pml4[SPARE_PML4_SLOT] = (uint64_t)pdpt | PTE_P | PTE_W | PTE_C;
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" : : : "rax", "memory");
	return &pt[(va >> 12) & 511];
}

/* The OS's own page tables say "executable" (NX cleared); the RMP must not. */
static uint64_t exec_nx_cleared(void)
{
	uint64_t va = (uint64_t)SPARE_PML4_SLOT << 39, page = pages_alloc(1);
	volatile uint64_t *pte = page ? map_nx(va, page) : NULL;

	if (!pte) {
		kprintf("attack-kci-exec-nx-cleared: no page or no spare PML4 slot\n");
		return ~1ULL;
	}
	*(volatile uint8_t *)page = 0xC3; /* ret */
	*pte &= ~PTE_NX;
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
	attempt("attack-kci-exec-nx-cleared", "NX cleared in the OS's PTE, calling the page", page);
	((void (*)(void))va)();
	return ~0ULL;
}

/* A page of text of its own: it can be unvalidated while the kernel runs on. */
__asm__(".pushsection .text.victim, \"ax\"\n"
	".balign 4096\n"
	".globl kci_victim\n"
	"kci_victim:\n\t"
	"movl $1, %eax\n\t"
	"ret\n"
	".balign 4096\n"
	".popsection");
int kci_victim(void);

static uint64_t pval_one(uint64_t req, uint64_t gpa, bool validate)
{
	struct svsm_pvalidate_hdr *h = (struct svsm_pvalidate_hdr *)req;

	h->num_entries = 1;
	h->next = 0;
	h->reserved = 0;
	((uint64_t *)(h + 1))[0] = SVSM_PVAL_ENTRY(gpa >> 12, SVSM_PVAL_SIZE_4K, validate, 0);
	return core_call(SVSM_CORE_PVALIDATE, req, 0, 0, 0);
}

/* Through a C=0 mapping of the (now shared) page: mov $0x1337, %eax; ret. */
static void write_shared(volatile uint64_t *pte, uint64_t va, uint64_t page)
{
	static const uint8_t code[] = { 0xB8, 0x37, 0x13, 0, 0, 0xC3 };

	*pte = page | PTE_P | PTE_W;
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
	memcpy((void *)va, code, sizeof(code));
	*pte = 0;
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/*
 * Locked text swapped behind the lock: rescind a text page (PVALIDATE 0),
 * make it shared, write other code into it, make it private and validate it
 * again. A monitor that allows the rescind gives the page back its text
 * rights (R+Xs) with contents it never checked (on hardware: whatever the
 * hypervisor puts back, e.g. replayed ciphertext), so the rescind must be
 * refused. Not in attack-kci-refusals: if it is not, kernel text is changed.
 */
static uint64_t revalidate_text(void)
{
	uint64_t victim = (uint64_t)kci_victim, req = pages_alloc(1), rc;
	uint64_t va = ((uint64_t)SPARE_PML4_SLOT << 39) + PAGE_SIZE;
	volatile uint64_t *pte = req ? map_nx(va, victim) : NULL;

	if (!pte)
		return ~1ULL;
	rc = pval_one(req, victim, false);
	if (rc != SVSM_SUCCESS)
		return rc;
	kprintf("attack-kci-revalidate-text: text page 0x%lx rescinded; swapping its code\n",
		victim);
	if (ghcb_msr_psc(victim, GHCB_MSR_PSC_SHARED))
		return ~2ULL;
	write_shared(pte, va, victim);
	if (ghcb_msr_psc(victim, GHCB_MSR_PSC_PRIVATE))
		return ~3ULL;
	rc = pval_one(req, victim, true);
	if (rc != SVSM_SUCCESS)
		return rc;
	rc = (uint64_t)kci_victim();
	kprintf("attack-kci-revalidate-text: the swapped text ran at CPL0 and returned 0x%lx\n",
		rc);
	return SVSM_SUCCESS;
}

/* ---- state and contents changed behind the monitor, monitor writes ---------- */

/* A read-only data page of its own (locked R), and a plain data page. */
__asm__(".pushsection .rodata.victim, \"a\"\n"
	".balign 4096\n"
	".globl kci_rodata_victim\n"
	"kci_rodata_victim:\n\t"
	/* A PVALIDATE request someone left in rodata: one entry, validate the
	 * data page kci_data_victim (4 KiB, ignore CF). */
	".short 1, 0\n\t"
	".long 0\n\t"
	".quad kci_data_victim + 0xC\n"
	".balign 4096\n"
	".popsection");
extern const uint8_t kci_rodata_victim[PAGE_SIZE];
uint8_t kci_data_victim[PAGE_SIZE] ALIGNED(4096);

/* One 4 KiB entry through the GHCB Page State Change event (GHCB spec 56421,
 * NAE 0x8000_0010: SW_SCRATCH = the descriptor in the shared buffer). */
static int ghcb_psc(uint64_t gpa, unsigned op)
{
	volatile uint8_t *g = this_cpu()->ghcb;
	uint64_t desc = (uint64_t)g + GHCB_BUFFER;

	if (!this_cpu()->ghcb_ready)
		return -1;
	ghcb_clear(g);
	*(volatile uint64_t *)desc = 0; /* cur_entry 0, end_entry 0 */
	*(volatile uint64_t *)(desc + 8) = (gpa & ~0xFFFULL) | ((uint64_t)op << 52);
	ghcb_set(g, GHCB_SCRATCH, desc);
	if ((uint32_t)ghcb_hv_call(g, (uint64_t)g, SVM_VMGEXIT_PSC, 0, 0) != GHCB_RESULT_OK)
		return -2;
	return ghcb_get(g, GHCB_EXITINFO2) ? -3 : 0;
}

static int psc(uint64_t gpa, unsigned op, bool via_ghcb)
{
	return via_ghcb ? ghcb_psc(gpa, op) : ghcb_msr_psc(gpa, op);
}

/*
 * Make `victim` shared through the hypervisor, behind the monitor's back
 * (no rescind through it), write `code` through a C=0 mapping, make it
 * private again and ask the monitor to validate it. A locked page must be
 * refused (INVALID_ADDRESS) before anything changes: validating it would give
 * the new bytes the lock's rights.
 */
static uint64_t swap_behind(const char *name, uint64_t victim, bool via_ghcb)
{
	uint64_t req = pages_alloc(1), va = ((uint64_t)SPARE_PML4_SLOT << 39) + 2 * PAGE_SIZE;
	volatile uint64_t *pte = req ? map_nx(va, victim) : NULL;

	if (!pte)
		return ~1ULL;
	if (psc(victim, GHCB_MSR_PSC_SHARED, via_ghcb))
		return ~2ULL;
	kprintf("%s: page 0x%lx made shared behind the monitor; swapping its bytes\n", name,
		victim);
	write_shared(pte, va, victim);
	if (psc(victim, GHCB_MSR_PSC_PRIVATE, via_ghcb))
		return ~3ULL;
	return pval_one(req, victim, true);
}

static uint64_t psc_swap_text_msr(void)
{
	return swap_behind("attack-kci-psc-swap-text", (uint64_t)kci_victim, false);
}

static uint64_t psc_swap_rodata_ghcb(void)
{
	return swap_behind("attack-kci-psc-swap-rodata", (uint64_t)kci_rodata_victim, true);
}

/* Plain data made shared and private again behind the monitor, then handed to
 * it to validate (or, via the GHCB, to rescind): its record says validated,
 * PVALIDATE says the page changed; the monitor must stop the CVM. */
static uint64_t psc_tamper(const char *name, bool via_ghcb, bool validate)
{
	uint64_t victim = (uint64_t)kci_data_victim, req = pages_alloc(1);

	if (!req)
		return ~1ULL;
	kci_data_victim[0] = 1; /* validated and in use */
	if (psc(victim, GHCB_MSR_PSC_SHARED, via_ghcb) ||
	    psc(victim, GHCB_MSR_PSC_PRIVATE, via_ghcb))
		return ~2ULL;
	attempt(name,
		validate ? "validating a page whose state changed behind the monitor" :
			   "rescinding a page whose state changed behind the monitor",
		victim);
	pval_one(req, victim, validate);
	return ~0ULL;
}

static uint64_t psc_tamper_validate(void)
{
	return psc_tamper("attack-psc-tamper-validate", false, true);
}

static uint64_t psc_tamper_rescind(void)
{
	return psc_tamper("attack-psc-tamper-rescind", true, false);
}

/* ADD_TEXT (or DROP_TEXT) of n pages from `first`, the list in page `list`. */
static uint64_t kci_text(uint64_t list, bool add, uint64_t first, unsigned n)
{
	struct veil_kci_text *t = (struct veil_kci_text *)list;
	unsigned i;

	memset(t, 0, sizeof(*t));
	memcpy(t->name, "psc-victim", 11);
	t->nr_pages = n;
	for (i = 0; i < n; i++)
		t->pages[i] = first + i * PAGE_SIZE;
	return svsm_call(this_cpu()->caa, VEIL_PROTOCOL_KCI,
			 add ? VEIL_KCI_ADD_TEXT : VEIL_KCI_DROP_TEXT, list, 0, 0, 0, NULL);
}

/*
 * Four data pages handed to ADD_TEXT, the third made shared and private
 * again through the hypervisor (GHCB Page State Change event) behind the
 * monitor (no PVALIDATE through it): the monitor's record says validated,
 * the hardware does not. The call must be refused with no page of the list
 * changed: nothing counted as added, none of them droppable (none was
 * added), and every page the OS still may use still writable (a page left
 * R+Xs would stop the CVM on the write).
 */
static uint64_t add_text_psc(void)
{
	uint64_t list = pages_alloc(1), first = pages_alloc(4), victim = first + 2 * PAGE_SIZE;
	struct svsm_call_out o = { 0 };
	uint64_t rc;
	unsigned i;

	if (!list || !first)
		return ~1ULL;
	for (i = 0; i < 4; i++)
		*(volatile uint8_t *)(first + i * PAGE_SIZE) = 0xC3; /* validated and in use */
	if (psc(victim, GHCB_MSR_PSC_SHARED, true) || psc(victim, GHCB_MSR_PSC_PRIVATE, true))
		return ~2ULL;
	kprintf("attack-kci-add-text-psc: page 0x%lx of the list made shared and private "
		"behind the monitor\n",
		victim);
	rc = kci_text(list, true, first, 4);
	kprintf("attack-kci-add-text-psc: ADD_TEXT said 0x%lx\n", rc);
	/* whatever it said: no trace of it */
	if (kci_status(&o) != SVSM_SUCCESS || o.r9 != 0)
		return ~3ULL;
	if (kci_text(list, false, first, 2) != VEIL_KCI_ERR_PAGE)
		return ~4ULL;
	for (i = 0; i < 4; i++)
		if (i != 2)
			*(volatile uint8_t *)(first + i * PAGE_SIZE) = 0x90;
	return rc;
}

/* A record whose payload is code, READ by the monitor over kernel text. */
static uint64_t log_read_into_text(void)
{
	static const uint8_t code[] ALIGNED(8) = { 0xB8, 0x37, 0x13, 0, 0, 0xC3 };
	uint64_t rc = svsm_call(this_cpu()->caa, VEIL_PROTOCOL_LOG, VEIL_LOG_APPEND, (uint64_t)code,
				sizeof(code), 0, 0, NULL);

	if (rc != SVSM_SUCCESS)
		return ~rc;
	rc = svsm_call(this_cpu()->caa, VEIL_PROTOCOL_LOG, VEIL_LOG_READ, 0, (uint64_t)kci_victim,
		       PAGE_SIZE, 0, NULL);
	/* The text must be unchanged: mov $1, %eax; ret. */
	return !strncmp((const char *)kci_victim, "\xB8\x01", 3) ? rc : ~0ULL;
}

/* The log head written over locked read-only data. */
static uint64_t log_head_into_rodata(void)
{
	uint64_t before = *(const volatile uint64_t *)kci_rodata_victim;
	uint64_t rc = svsm_call(this_cpu()->caa, VEIL_PROTOCOL_LOG, VEIL_LOG_HEAD,
				(uint64_t)kci_rodata_victim, 0, 0, 0, NULL);

	return *(const volatile uint64_t *)kci_rodata_victim == before ? rc : ~0ULL;
}

/* A PVALIDATE request found in rodata: the monitor would write `next` there. */
static uint64_t pval_req_in_rodata(void)
{
	const volatile struct svsm_pvalidate_hdr *h = (const void *)kci_rodata_victim;
	uint64_t rc = core_call(SVSM_CORE_PVALIDATE, (uint64_t)kci_rodata_victim, 0, 0, 0);

	return h->next == 0 ? rc : ~0ULL;
}

/* The calling area moved onto locked rodata: the monitor writes call_pending. */
static uint64_t remap_ca_rodata(void)
{
	return core_call(SVSM_CORE_REMAP_CA, (uint64_t)kci_rodata_victim, 0, 0, 0);
}

/* A locked rodata page named as a new VMSA: taken, found invalid and handed
 * back writable by a monitor that does not check what it takes. */
static uint64_t vcpu_vmsa_rodata(void)
{
	if (boot.nr_vcpus < 2)
		return ~1ULL;
	return create_vcpu((uint64_t)kci_rodata_victim, caa_gpa_of(1), 1);
}

/* The VMSA of a vCPU that runs its OS right now: in use, not deletable. */
static uint64_t vcpu_delete_running(void)
{
	unsigned spins;

	if (boot.nr_vcpus < 2)
		return ~1ULL;
	ap_busy = 1;
	if (smp_start_ap(1, ap_entry))
		return ~2ULL;
	for (spins = 0; smp_aps_up() < 1 && spins < 1000000; spins++)
		cpu_pause();
	if (smp_aps_up() < 1)
		return ~3ULL;
	return core_call(SVSM_CORE_DELETE_VCPU, cpus[1].vmsa_gpa, 0, 0, 0);
}

const struct scenario kci_scenarios[] = {
	{ "attack-kci-lock-mismatch", lock_mismatch, VEIL_KCI_ERR_MISMATCH, PRE_LOCK },
	{ "attack-kci-lock-no-text", lock_no_text, VEIL_KCI_ERR_MISMATCH, PRE_LOCK },
	{ "attack-kci-export-outside", export_outside, VEIL_KCI_ERR_EXPORT, PRE_LOCK },
	{ "attack-kci-exports-monitor", exports_monitor, SVSM_ERR_INVALID_ADDRESS, PRE_LOCK },
	{ "attack-kci-lock-twice", lock_twice, VEIL_KCI_ERR_LOCKED, 0 },
	{ "attack-kci-write-text", write_text, 0, VIOLATION },
	{ "attack-kci-write-rodata", write_rodata, 0, VIOLATION },
	{ "attack-kci-exec-data", exec_data, 0, VIOLATION },
	{ "attack-kci-exec-nx-cleared", exec_nx_cleared, 0, VIOLATION },
	{ "attack-kci-revalidate-text", revalidate_text, SVSM_ERR_INVALID_ADDRESS, STANDALONE },
	{ "attack-kci-psc-swap-text", psc_swap_text_msr, SVSM_ERR_INVALID_ADDRESS, STANDALONE },
	{ "attack-kci-psc-swap-rodata", psc_swap_rodata_ghcb, SVSM_ERR_INVALID_ADDRESS,
	  STANDALONE },
	{ "attack-psc-tamper-validate", psc_tamper_validate, 0, VIOLATION },
	{ "attack-psc-tamper-rescind", psc_tamper_rescind, 0, VIOLATION },
	{ "attack-kci-add-text-psc", add_text_psc, VEIL_KCI_ERR_PAGE, STANDALONE },
	{ "attack-log-read-into-text", log_read_into_text, SVSM_ERR_INVALID_ADDRESS, 0 },
	{ "attack-log-head-into-rodata", log_head_into_rodata, SVSM_ERR_INVALID_ADDRESS, 0 },
	{ "attack-pval-req-in-rodata", pval_req_in_rodata, SVSM_ERR_INVALID_ADDRESS, 0 },
	{ "attack-remap-ca-rodata", remap_ca_rodata, SVSM_ERR_INVALID_ADDRESS, STANDALONE },
	{ "attack-vcpu-vmsa-rodata", vcpu_vmsa_rodata, SVSM_ERR_INVALID_ADDRESS, STANDALONE },
	{ "attack-vcpu-delete-running", vcpu_delete_running, SVSM_ERR_BUSY, STANDALONE },
};
const unsigned kci_nr_scenarios = ARRAY_SIZE(kci_scenarios);

/* ---- boot lock and scenario selection ------------------------------------------ */

static const struct scenario *scenario_find(const char *name)
{
	unsigned i;

	for (i = 0; i < kci_nr_scenarios; i++)
		if (!strncmp(kci_scenarios[i].name, name, 64))
			return &kci_scenarios[i];
	for (i = 0; i < mod_nr_scenarios; i++)
		if (!strncmp(mod_scenarios[i].name, name, 64))
			return &mod_scenarios[i];
	return NULL;
}

static int scenario_run(const struct scenario *s)
{
	uint64_t got = s->run();

	if (s->flags & VIOLATION) {
		kprintf("FAIL %s: the access went through\n", s->name);
		nr_fail++;
		return -1;
	}
	check(s->name, got == s->expect, got);
	return 0;
}

/* Every refusal of both tables in order, those of this phase only. */
static void refusals_run(bool pre_lock)
{
	const struct scenario *tables[] = { kci_scenarios, mod_scenarios };
	const unsigned counts[] = { kci_nr_scenarios, mod_nr_scenarios };
	unsigned t, i;

	for (t = 0; t < 2; t++)
		for (i = 0; i < counts[t]; i++)
			if (!(tables[t][i].flags & (VIOLATION | STANDALONE)) &&
			    !!(tables[t][i].flags & PRE_LOCK) == pre_lock)
				scenario_run(&tables[t][i]);
}

static void lock_at_boot(void)
{
	struct svsm_call_out o = { 0 };
	uint64_t rc, text_pages = (uint64_t)(__text_end - __text_start) / PAGE_SIZE;

	decl_build(&decl);
	rc = kci_lock(&decl);
	check("kci-lock", rc == SVSM_SUCCESS, rc);
	rc = kci_status(&o);
	check("kci-status",
	      rc == SVSM_SUCCESS && o.rcx == 1 && o.rdx == text_pages &&
		      o.r8 == ARRAY_SIZE(exports),
	      rc ? rc : o.rcx | o.rdx << 8 | o.r8 << 32);
}

/*
 * After the console is up: validate OS memory (the pattern check only for
 * all-ok), run what the selected test needs before the lock, and lock.
 */
void kci_boot(const char *test)
{
	const struct scenario *s = scenario_find(test);

	mm_validate_os_memory(!strncmp(test, "all-ok", 64));
	if (!strncmp(test, "attack-kci-refusals", 64))
		refusals_run(true);
	else if (s && (s->flags & PRE_LOCK))
		scenario_run(s);
	else if (!strncmp(test, "bench-modules", 64))
		bench_modules(false);
	lock_at_boot();
}

/* A test of kci.c/modules.c, or TEST_UNKNOWN. */
int kci_run_test(const char *test)
{
	const struct scenario *s = scenario_find(test);

	if (!strncmp(test, "attack-kci-refusals", 64)) {
		refusals_run(false);
		return 0;
	}
	if (!strncmp(test, "modules", 64))
		return modules_selftest();
	if (!strncmp(test, "bench-modules", 64))
		return bench_modules(true);
	if (!s)
		return TEST_UNKNOWN;
	if (s->flags & PRE_LOCK)
		return 0; /* ran in kci_boot() */
	if (s->flags & IN_SEQUENCE) {
		kprintf("%s runs only inside attack-kci-refusals (it needs the step before)\n",
			test);
		nr_fail++;
		return -1;
	}
	return scenario_run(s);
}

void kci_list_tests(void)
{
	unsigned i;

	kprintf("test attack-kci-refusals\ntest modules\ntest bench-modules\n");
	for (i = 0; i < kci_nr_scenarios; i++)
		kprintf("test %s\n", kci_scenarios[i].name);
	for (i = 0; i < mod_nr_scenarios; i++)
		kprintf("test %s\n", mod_scenarios[i].name);
}
