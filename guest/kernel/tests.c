/* SPDX-License-Identifier: MIT */
/*
 * tests.c - what the test OS does after boot, chosen by "test=NAME"
 * (names and expectations: README.md).
 *
 * Refusal scenarios make one call with exactly one thing wrong and check the
 * monitor's code. Termination scenarios try a forbidden access: the monitor
 * must stop the CVM, so returning from the access is itself the failure.
 */
#include "kernel.h"

#define BENCH_CALLS 10000
#define UNKNOWN_PROTOCOL 0x7E57AB1EU
#define SKIPPED (~0ULL)

static uint64_t query(uint32_t proto, uint32_t ver, uint64_t *rcx)
{
	struct svsm_call_out o = { 0 };
	uint64_t rc = core_call(SVSM_CORE_QUERY_PROTOCOL, ((uint64_t)proto << 32) | ver, 0, 0, &o);

	*rcx = o.rcx;
	return rc;
}

/* ---- all-ok: the normal path ---------------------------------------------- */

static void test_discovery(void)
{
	uint64_t caa = rdmsr(MSR_SVSM_CAA); /* through #VC */
	uint64_t secrets_caa = *(volatile uint64_t *)(boot.secrets_gpa + SNP_SECRETS_SVSM_CAA);

	check("caa-msr", caa == boot.caa_gpa, caa);
	check("secrets-caa", secrets_caa == boot.caa_gpa, secrets_caa);
	check("secrets-guest-vmpl", guest_vmpl() == 3, guest_vmpl());
}

static void test_protocols(void)
{
	uint64_t rc, rcx;

	rc = query(SVSM_CORE_PROTOCOL, 1, &rcx);
	check("query-core", rc == SVSM_SUCCESS && rcx == ((1ULL << 32) | 1), rc ? rc : rcx);
	rc = query(UNKNOWN_PROTOCOL, 1, &rcx);
	check("query-unknown", rc == SVSM_SUCCESS && rcx == 0, rc ? rc : rcx);
	rc = core_call(0x7FFF, 0, 0, 0, 0);
	check("unsupported-call", rc == SVSM_ERR_UNSUPPORTED_CALL, rc);
	rc = svsm_call(this_cpu()->caa, UNKNOWN_PROTOCOL, 0, 0, 0, 0, 0, 0);
	check("unsupported-protocol", rc == SVSM_ERR_UNSUPPORTED_PROTOCOL, rc);
}

/* VEIL_PROTOCOL_TEST exists only in test builds of the monitor. */
static bool have_test_protocol(void)
{
	uint64_t rcx;

	return query(VEIL_PROTOCOL_TEST, 1, &rcx) == SVSM_SUCCESS && rcx != 0;
}

static uint64_t echo(uint64_t v, uint64_t *out)
{
	struct svsm_call_out o = { 0 };
	uint64_t rc = svsm_call(this_cpu()->caa, VEIL_PROTOCOL_TEST, 0, v, 0, 0, 0, &o);

	*out = o.rcx;
	return rc;
}

static void test_echo(void)
{
	uint64_t rc, v;

	if (!have_test_protocol()) {
		skip("test-echo", "VEIL_PROTOCOL_TEST not offered");
		return;
	}
	rc = echo(41, &v);
	check("test-echo", rc == SVSM_SUCCESS && v == 42, rc ? rc : v);
}

/* The IDT path: #UD and a not-present #PF reach their handlers and return. */
static void test_exceptions(void)
{
	struct percpu *c = this_cpu();
	uint64_t rip, addr = 0x7F0000000000ULL, v = addr;

	c->trap_expect = 6 + 1;
	c->trap_skip = 2;
	__asm__ volatile("lea 1f(%%rip), %0\n\t1: ud2" : "=r"(rip) : : "memory");
	check("exception-ud", !c->trap_expect && c->trap_rip == rip, c->trap_rip);
	c->trap_expect = 14 + 1;
	c->trap_skip = 3; /* mov (%rax), %rax = 48 8b 00 */
	__asm__ volatile("lea 1f(%%rip), %1\n\t1: movq (%%rax), %%rax"
			 : "+a"(v), "=r"(rip)
			 :
			 : "memory");
	check("exception-pf",
	      !c->trap_expect && c->trap_rip == rip && c->trap_cr2 == addr && c->trap_error == 0,
	      c->trap_expect ? 0 : c->trap_error);
}

static int test_all_ok(void)
{
	mm_validate_os_memory(true);
	test_exceptions();
	test_discovery();
	test_protocols();
	test_echo();
	modules_selftest();
	if (boot.nr_vcpus > 1)
		smp_start_aps();
	return 0;
}

/* ---- benchmarks ----------------------------------------------------------- */

static int bench_call(void)
{
	uint64_t t0, t1, rc = 0, rcx;
	unsigned i;

	t0 = rdtsc();
	for (i = 0; i < BENCH_CALLS; i++)
		rc |= query(SVSM_CORE_PROTOCOL, 1, &rcx);
	t1 = rdtsc();
	kprintf("bench-call: %u QUERY_PROTOCOL calls, %lu TSC ticks, %lu per call\n", BENCH_CALLS,
		t1 - t0, (t1 - t0) / BENCH_CALLS);
	check("bench-call", rc == SVSM_SUCCESS, rc);
	return 0;
}

static int bench_echo(void)
{
	uint64_t t0, t1, v = 0, rc = 0;
	unsigned i;

	if (!have_test_protocol()) {
		check("bench-echo", false, SVSM_ERR_UNSUPPORTED_PROTOCOL);
		return -1;
	}
	t0 = rdtsc();
	for (i = 0; i < BENCH_CALLS && rc == SVSM_SUCCESS; i++)
		rc = echo(v, &v);
	t1 = rdtsc();
	kprintf("bench-echo: %u echo calls, %lu TSC ticks, %lu per call\n", BENCH_CALLS, t1 - t0,
		(t1 - t0) / BENCH_CALLS);
	check("bench-echo", rc == SVSM_SUCCESS && v == BENCH_CALLS, rc ? rc : v);
	return 0;
}

/* ---- refusal scenarios ---------------------------------------------------- */

static uint64_t req_page, spare_page, vmsa_page, mon_page;

static uint64_t pval_at(uint64_t rcx, uint16_t num, uint64_t entry)
{
	struct svsm_pvalidate_hdr *h = (struct svsm_pvalidate_hdr *)rcx;
	uint64_t *e = (uint64_t *)(h + 1);
	unsigned i;

	h->num_entries = num;
	h->next = 0;
	h->reserved = 0;
	/* Entries inside the page only; harmless ones if wrongly processed. */
	for (i = 0; i < num && (uint64_t)&e[i] < (rcx | (PAGE_SIZE - 1)); i++)
		e[i] = i ? SVSM_PVAL_ENTRY(spare_page >> 12, SVSM_PVAL_SIZE_4K, 1, 1) : entry;
	return core_call(SVSM_CORE_PVALIDATE, rcx, 0, 0, 0);
}

static uint64_t pval_entry(uint64_t entry)
{
	return pval_at(req_page, 1, entry);
}

static uint64_t pv_monitor(void)
{
	return pval_entry(SVSM_PVAL_ENTRY(mon_page >> 12, SVSM_PVAL_SIZE_4K, 1, 0));
}

static uint64_t pv_monitor_rescind(void)
{
	return pval_entry(SVSM_PVAL_ENTRY(mon_page >> 12, SVSM_PVAL_SIZE_4K, 0, 0));
}

static uint64_t pv_beyond(void)
{
	return pval_entry(SVSM_PVAL_ENTRY(boot.mem_size >> 12, SVSM_PVAL_SIZE_4K, 1, 0));
}

static uint64_t pv_gfn_overflow(void)
{
	return pval_entry(SVSM_PVAL_ENTRY(~0ULL >> 12, SVSM_PVAL_SIZE_4K, 1, 0));
}

static uint64_t pv_req_monitor(void)
{
	return core_call(SVSM_CORE_PVALIDATE, mon_page, 0, 0, 0);
}

static uint64_t pv_req_beyond(void)
{
	return core_call(SVSM_CORE_PVALIDATE, boot.mem_size + PAGE_SIZE, 0, 0, 0);
}

static uint64_t pv_overrun(void)
{
	return pval_at(req_page, SVSM_PVAL_MAX_ENTRIES + 1,
		       SVSM_PVAL_ENTRY(spare_page >> 12, SVSM_PVAL_SIZE_4K, 1, 1));
}

static uint64_t pv_cross_page(void)
{
	return pval_at(req_page + PAGE_SIZE - 16, 2,
		       SVSM_PVAL_ENTRY(spare_page >> 12, SVSM_PVAL_SIZE_4K, 1, 1));
}

static uint64_t pv_misaligned(void)
{
	return pval_at(req_page + 4, 1, SVSM_PVAL_ENTRY(spare_page >> 12, SVSM_PVAL_SIZE_4K, 1, 1));
}

static uint64_t pv_2m_unaligned(void)
{
	return pval_entry(SVSM_PVAL_ENTRY(spare_page >> 12, SVSM_PVAL_SIZE_2M, 1, 1));
}

static uint64_t pv_reserved(void)
{
	return pval_entry(SVSM_PVAL_ENTRY(spare_page >> 12, SVSM_PVAL_SIZE_4K, 1, 1) | 0x10);
}

/* The vCPU the CREATE_VCPU scenarios aim at: the last one, never started here. */
static unsigned target_apic(void)
{
	return boot.nr_vcpus - 1;
}

/* A valid VMSA for the target in vmsa_page, then one field spoiled by the caller. */
static uint8_t *vmsa_fresh(void)
{
	vmsa_build(vmsa_page, target_apic());
	return (uint8_t *)vmsa_page;
}

/* Write `page` and pass `rc` on: a page the monitor wrongly kept stops the run here. */
static uint64_t cv_touch(uint64_t page, uint64_t rc)
{
	*(volatile uint8_t *)page = 0;
	return rc;
}

/* A refused call must leave the page to the OS. */
static uint64_t cv(uint64_t vmsa, uint64_t caa, uint64_t apic)
{
	return cv_touch(vmsa_page, create_vcpu(vmsa, caa, apic));
}

static uint64_t cv_default(void)
{
	return cv(vmsa_page, caa_gpa_of(target_apic()), target_apic());
}

static uint64_t cv_vmsa_monitor(void)
{
	return cv(mon_page, caa_gpa_of(target_apic()), target_apic());
}

static uint64_t cv_vmsa_beyond(void)
{
	return cv(boot.mem_size + PAGE_SIZE, caa_gpa_of(target_apic()), target_apic());
}

static uint64_t cv_caa_monitor(void)
{
	vmsa_fresh();
	return cv(vmsa_page, mon_page, target_apic());
}

static uint64_t cv_bad_vmpl(void)
{
	vmsa_fresh()[VMSA_VMPL] = 0;
	return cv_default();
}

static uint64_t cv_no_svme(void)
{
	uint64_t *efer = (uint64_t *)(vmsa_fresh() + VMSA_EFER);

	*efer &= ~EFER_SVME;
	return cv_default();
}

static uint64_t cv_bad_features(void)
{
	uint64_t *f = (uint64_t *)(vmsa_fresh() + VMSA_SEV_FEATURES);

	*f ^= 1ULL << 2; /* ReflectVC */
	return cv_default();
}

static uint64_t cv_2m_aligned(void)
{
	uint64_t p = page_alloc_2m_aligned();

	if (!p)
		return SKIPPED;
	vmsa_build(p, target_apic());
	return cv_touch(p, create_vcpu(p, caa_gpa_of(target_apic()), target_apic()));
}

static uint64_t cv_misaligned(void)
{
	vmsa_fresh();
	return cv(vmsa_page + 8, caa_gpa_of(target_apic()), target_apic());
}

static uint64_t cv_bad_apic(void)
{
	vmsa_fresh();
	return cv(vmsa_page, caa_gpa_of(target_apic()), boot.nr_vcpus);
}

/* The control: the same VMSA, unspoiled, is accepted (then not OS-writable). */
static uint64_t cv_valid(void)
{
	vmsa_fresh();
	return create_vcpu(vmsa_page, caa_gpa_of(target_apic()), target_apic());
}

/* The page is the monitor's now: it no longer names OS memory. */
static uint64_t cv_twice(void)
{
	return create_vcpu(vmsa_page, caa_gpa_of(target_apic()), target_apic());
}

static uint64_t replacement_page;

/* A second, valid VMSA for a vCPU that has one replaces it (SVSM spec 58019,
 * CREATE_VCPU; Linux's CPU hotplug): the old one stays a VMSA until deleted. */
static uint64_t cv_replace(void)
{
	uint64_t p = vmsa_page_alloc(), rc;

	if (!p)
		return SKIPPED;
	vmsa_build(p, target_apic());
	rc = create_vcpu(p, caa_gpa_of(target_apic()), target_apic());
	if (rc == SVSM_SUCCESS)
		replacement_page = p;
	return rc;
}

/* Deleting gives the page back: the OS writes it again. */
static uint64_t cv_delete_page(uint64_t page)
{
	uint64_t rc;

	if (!page)
		return SKIPPED;
	rc = core_call(SVSM_CORE_DELETE_VCPU, page, 0, 0, 0);
	return rc == SVSM_SUCCESS ? cv_touch(page, rc) : rc;
}

static uint64_t cv_delete(void)
{
	return cv_delete_page(vmsa_page);
}

static uint64_t cv_delete_replacement(void)
{
	return cv_delete_page(replacement_page);
}

struct refusal {
	const char *name;
	uint64_t (*run)(void);
	uint64_t expect;
	unsigned flags;
};

#define NEEDS_AP 1    /* CREATE_VCPU: aims at a vCPU other than the caller */
#define IN_SEQUENCE 2 /* depends on the scenario before it */

/* Order matters at the end: create, create again, replace, delete both. */
static const struct refusal refusals[] = {
	{ "attack-pval-monitor", pv_monitor, SVSM_ERR_INVALID_ADDRESS, 0 },
	{ "attack-pval-monitor-rescind", pv_monitor_rescind, SVSM_ERR_INVALID_ADDRESS, 0 },
	{ "attack-pval-beyond", pv_beyond, SVSM_ERR_INVALID_ADDRESS, 0 },
	{ "attack-pval-gfn-overflow", pv_gfn_overflow, SVSM_ERR_INVALID_ADDRESS, 0 },
	{ "attack-pval-req-monitor", pv_req_monitor, SVSM_ERR_INVALID_ADDRESS, 0 },
	{ "attack-pval-req-beyond", pv_req_beyond, SVSM_ERR_INVALID_ADDRESS, 0 },
	{ "attack-pval-overrun", pv_overrun, SVSM_ERR_INVALID_PARAMETER, 0 },
	{ "attack-pval-cross-page", pv_cross_page, SVSM_ERR_INVALID_PARAMETER, 0 },
	{ "attack-pval-misaligned", pv_misaligned, SVSM_ERR_INVALID_PARAMETER, 0 },
	{ "attack-pval-2m-unaligned", pv_2m_unaligned, SVSM_ERR_INVALID_PARAMETER, 0 },
	{ "attack-pval-reserved", pv_reserved, SVSM_ERR_INVALID_PARAMETER, 0 },
	{ "attack-vcpu-vmsa-monitor", cv_vmsa_monitor, SVSM_ERR_INVALID_ADDRESS, NEEDS_AP },
	{ "attack-vcpu-vmsa-beyond", cv_vmsa_beyond, SVSM_ERR_INVALID_ADDRESS, NEEDS_AP },
	{ "attack-vcpu-caa-monitor", cv_caa_monitor, SVSM_ERR_INVALID_ADDRESS, NEEDS_AP },
	{ "attack-vcpu-bad-vmpl", cv_bad_vmpl, SVSM_ERR_INVALID_PARAMETER, NEEDS_AP },
	{ "attack-vcpu-no-svme", cv_no_svme, SVSM_ERR_INVALID_PARAMETER, NEEDS_AP },
	{ "attack-vcpu-bad-features", cv_bad_features, SVSM_ERR_INVALID_PARAMETER, NEEDS_AP },
	{ "attack-vcpu-vmsa-2m-aligned", cv_2m_aligned, SVSM_ERR_INVALID_PARAMETER, NEEDS_AP },
	{ "attack-vcpu-vmsa-misaligned", cv_misaligned, SVSM_ERR_INVALID_PARAMETER, NEEDS_AP },
	{ "attack-vcpu-bad-apic", cv_bad_apic, SVSM_ERR_INVALID_PARAMETER, NEEDS_AP },
	{ "vcpu-create", cv_valid, SVSM_SUCCESS, NEEDS_AP },
	{ "attack-vcpu-twice", cv_twice, SVSM_ERR_INVALID_ADDRESS, NEEDS_AP | IN_SEQUENCE },
	{ "vcpu-replace", cv_replace, SVSM_SUCCESS, NEEDS_AP | IN_SEQUENCE },
	{ "vcpu-delete", cv_delete, SVSM_SUCCESS, NEEDS_AP | IN_SEQUENCE },
	{ "vcpu-delete-replacement", cv_delete_replacement, SVSM_SUCCESS, NEEDS_AP | IN_SEQUENCE },
};

/* Pages the scenarios use: validated OS memory, plus the monitor's first page + 4 KiB
 * (not 2 MiB-aligned, so alignment cannot be the reason for a refusal). */
static int refusal_setup(void)
{
	uint64_t gpa, len;

	if (mm_validate_os_memory(false))
		return -1;
	req_page = pages_alloc(1);
	spare_page = vmsa_page_alloc();
	vmsa_page = vmsa_page_alloc();
	if (!req_page || !spare_page || !vmsa_page || !mem_range_of(VEIL_MEM_MONITOR, &gpa, &len)) {
		kprintf("refusal scenarios: no memory or no monitor range in boot info\n");
		nr_fail++;
		return -1;
	}
	mon_page = gpa + PAGE_SIZE;
	return 0;
}

static void refusal_run(const struct refusal *r)
{
	uint64_t got;

	if ((r->flags & NEEDS_AP) && boot.nr_vcpus < 2) {
		skip(r->name, "needs --vcpus 2 or more");
		return;
	}
	got = r->run();
	if (got == SKIPPED)
		skip(r->name, "no suitable page");
	else
		check(r->name, got == r->expect, got);
}

static int attack_refusals(void)
{
	unsigned i;

	if (refusal_setup())
		return -1;
	for (i = 0; i < ARRAY_SIZE(refusals); i++)
		refusal_run(&refusals[i]);
	return 0;
}

static const struct refusal *refusal_find(const char *name)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(refusals); i++)
		if (!strncmp(refusals[i].name, name, 64))
			return &refusals[i];
	return 0;
}

/* ---- termination scenarios ------------------------------------------------ */

static int survived(const char *name)
{
	kprintf("FAIL %s: the access went through\n", name);
	nr_fail++;
	return -1;
}

static int attack_vmsa_write(void)
{
	uint64_t rc;

	if (boot.nr_vcpus < 2) {
		kprintf("FAIL attack-vmsa-write: needs --vcpus 2 or more\n");
		nr_fail++;
		return -1;
	}
	uint64_t features;

	if (refusal_setup())
		return -1;
	features = *(uint64_t *)(vmsa_fresh() + VMSA_SEV_FEATURES);
	rc = create_vcpu(vmsa_page, caa_gpa_of(target_apic()), target_apic());
	if (rc != SVSM_SUCCESS) {
		check("vcpu-create", false, rc);
		return -1;
	}
	/* The handed-over VMSA stays readable (R only): Linux reads its
	 * SEV_FEATURES back for its own AP creation. */
	check("vmsa-read-back", *(volatile uint64_t *)(vmsa_page + VMSA_SEV_FEATURES) == features,
	      features);
	kprintf("attack-vmsa-write: writing VMSA page 0x%lx; the monitor must stop the CVM\n",
		vmsa_page);
	*(volatile uint64_t *)(vmsa_page + VMSA_RIP) = 0;
	return survived("attack-vmsa-write");
}

static uint64_t monitor_page(void)
{
	uint64_t gpa = 0, len;

	if (!mem_range_of(VEIL_MEM_MONITOR, &gpa, &len))
		panic("no VEIL_MEM_MONITOR range in boot info");
	return gpa + PAGE_SIZE;
}

static int attack_monitor_read(void)
{
	uint64_t p = monitor_page();

	kprintf("attack-monitor-read: reading 0x%lx; the monitor must stop the CVM\n", p);
	kprintf("read 0x%lx\n", *(volatile uint64_t *)p);
	return survived("attack-monitor-read");
}

static int attack_monitor_write(void)
{
	uint64_t p = monitor_page();

	kprintf("attack-monitor-write: writing 0x%lx; the monitor must stop the CVM\n", p);
	*(volatile uint64_t *)p = 0x5EC0DE;
	return survived("attack-monitor-write");
}

/* ---- selection ------------------------------------------------------------ */

struct mode {
	const char *name;
	int (*run)(void);
};

static int list_tests(void);

static const struct mode modes[] = {
	{ "all-ok", test_all_ok },
	{ "bench-call", bench_call },
	{ "bench-echo", bench_echo },
	{ "attack-refusals", attack_refusals },
	{ "attack-vmsa-write", attack_vmsa_write },
	{ "attack-monitor-read", attack_monitor_read },
	{ "attack-monitor-write", attack_monitor_write },
	{ "list", list_tests },
};

static int list_tests(void)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		kprintf("test %s\n", modes[i].name);
	for (i = 0; i < ARRAY_SIZE(refusals); i++)
		kprintf("test %s\n", refusals[i].name);
	log_test_list();
	kci_list_tests();
	attest_list_tests();
	enclave_list_tests();
	return 0;
}

int run_test(const char *name)
{
	const struct refusal *r;
	unsigned i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		if (!strncmp(modes[i].name, name, 64))
			return modes[i].run();
	if (log_test_known(name))
		return log_test_run(name);
	rc = kci_run_test(name);
	if (rc != TEST_UNKNOWN)
		return rc;
	rc = attest_run_test(name);
	if (rc != TEST_UNKNOWN)
		return rc;
	rc = enclave_run_test(name);
	if (rc != TEST_UNKNOWN)
		return rc;
	r = refusal_find(name);
	if (r && !(r->flags & IN_SEQUENCE)) {
		if (refusal_setup())
			return -1;
		refusal_run(r);
		return 0;
	}
	if (r)
		kprintf("%s runs only inside attack-refusals (it needs the step before)\n", name);
	else
		kprintf("unknown test \"%s\" (test=list shows them)\n", name);
	nr_fail++;
	return -1;
}
