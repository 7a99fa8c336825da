/* SPDX-License-Identifier: MIT */
/*
 * smp.c - starting application processors (reference 5.2, "At VMPL>0").
 *
 * For each AP the BSP fills a VMSA in an OS page (private, validated, zeroed,
 * not 2 MiB-aligned), has the monitor take it with SVSM_CORE_CREATE_VCPU
 * (which revokes the OS's access and sets the RMP VMSA bit), then asks the
 * hypervisor to run it with the AP-creation event.
 */
#include "kernel.h"

/* SVM segment attributes (reference 5): type | S<<4 | DPL<<5 | P<<7 | L<<9 | DB<<10 | G<<11. */
#define ATTR_CODE64 0xA9B
#define ATTR_DATA 0xC93
#define ATTR_LDT 0x082
#define ATTR_TSS16_BUSY 0x083

#define AP_STACK_PAGES 4
#define AP_WAIT_SPINS 2000000

static uint32_t aps_up;

uint64_t sev_features(void)
{
	return rdmsr(MSR_SEV_STATUS) >> SEV_STATUS_FEATURES_SHIFT;
}

/* The OS's VMPL, from the secrets page the monitor prepared (reference 8). */
unsigned guest_vmpl(void)
{
	return *(volatile uint8_t *)(boot.secrets_gpa + SNP_SECRETS_SVSM_GUEST_VMPL);
}

uint64_t caa_gpa_of(unsigned apic)
{
	return apic == 0 ? boot.caa_gpa : VEIL_BOOT_CAA + apic * PAGE_SIZE;
}

static void put16(uint8_t *v, unsigned off, uint16_t x)
{
	memcpy(v + off, &x, 2);
}

static void put32(uint8_t *v, unsigned off, uint32_t x)
{
	memcpy(v + off, &x, 4);
}

static void put64(uint8_t *v, unsigned off, uint64_t x)
{
	memcpy(v + off, &x, 8);
}

static void vmsa_seg(uint8_t *v, unsigned off, uint16_t sel, uint16_t attr, uint32_t limit,
		     uint64_t base)
{
	put16(v, off, sel);
	put16(v, off + 2, attr);
	put32(v, off + 4, limit);
	put64(v, off + 8, base);
}

/* Long mode as at boot (veil/boot.h); the AP loads its own TSS in ap_main. */
static void vmsa_segments(uint8_t *v, struct percpu *c)
{
	vmsa_seg(v, VMSA_CS, SEL_KCODE, ATTR_CODE64, 0xFFFFFFFF, 0);
	vmsa_seg(v, VMSA_SS, SEL_KDATA, ATTR_DATA, 0xFFFFFFFF, 0);
	vmsa_seg(v, VMSA_DS, SEL_KDATA, ATTR_DATA, 0xFFFFFFFF, 0);
	vmsa_seg(v, VMSA_ES, SEL_KDATA, ATTR_DATA, 0xFFFFFFFF, 0);
	vmsa_seg(v, VMSA_FS, 0, 0, 0, 0);
	vmsa_seg(v, VMSA_GS, 0, 0, 0, (uint64_t)c);
	vmsa_seg(v, VMSA_GDTR, 0, 0, gdt_limit(), gdt_base());
	vmsa_seg(v, VMSA_IDTR, 0, 0, idt_limit(), idt_base());
	vmsa_seg(v, VMSA_LDTR, 0, ATTR_LDT, 0xFFFF, 0);
	vmsa_seg(v, VMSA_TR, 0, ATTR_TSS16_BUSY, 0xFFFF, 0);
}

/* Fill the page at `vmsa_gpa` as a VMSA at the OS's VMPL entering ap_entry for `apic`. */
void vmsa_build(uint64_t vmsa_gpa, unsigned apic)
{
	uint8_t *v = (uint8_t *)vmsa_gpa;
	struct percpu *c = &cpus[apic];

	memset(v, 0, PAGE_SIZE);
	vmsa_segments(v, c);
	v[VMSA_VMPL] = (uint8_t)guest_vmpl();
	v[VMSA_CPL] = 0;
	put64(v, VMSA_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	put64(v, VMSA_CR0, READ_CR(0));
	put64(v, VMSA_CR3, READ_CR(3));
	put64(v, VMSA_CR4, READ_CR(4));
	put64(v, VMSA_DR7, 0x400);
	put64(v, VMSA_DR6, 0xFFFF0FF0);
	put64(v, VMSA_RFLAGS, 0x2);
	put64(v, VMSA_RIP, (uint64_t)ap_entry);
	put64(v, VMSA_RSP, c->stack_top);
	put64(v, VMSA_RDI, (uint64_t)c);
	put64(v, VMSA_PAT, 0x0007040600070406ULL);
	put64(v, VMSA_XCR0, 1);
	put32(v, VMSA_MXCSR, 0x1F80);
	put16(v, VMSA_X87_FTW, 0x5555);
	put16(v, VMSA_X87_FCW, 0x0040);
	put64(v, VMSA_SEV_FEATURES, sev_features());
}

uint64_t create_vcpu(uint64_t vmsa_gpa, uint64_t caa_gpa, uint64_t apic)
{
	return core_call(SVSM_CORE_CREATE_VCPU, vmsa_gpa, caa_gpa, apic, 0);
}

/* AP creation NAE event (reference 5.2): EXITINFO1 = CREATE | vmpl << 16 | apic << 32. */
static uint64_t ap_create_event(unsigned apic, uint64_t vmsa_gpa)
{
	struct percpu *c = this_cpu();
	uint64_t info1 = SVM_VMGEXIT_AP_INFO1(SVM_VMGEXIT_AP_CREATE, guest_vmpl(), apic);

	ghcb_clear(c->ghcb);
	ghcb_set(c->ghcb, GHCB_RAX, sev_features());
	return ghcb_hv_call(c->ghcb, (uint64_t)c->ghcb, SVM_VMGEXIT_AP_CREATION, info1, vmsa_gpa);
}

static int ap_prepare(unsigned apic)
{
	struct percpu *c = &cpus[apic];

	c->self = c;
	c->id = apic;
	c->caa_gpa = caa_gpa_of(apic);
	c->caa = (struct svsm_caa *)c->caa_gpa;
	memset(c->caa, 0, sizeof(*c->caa));
	c->stack_top = pages_alloc(AP_STACK_PAGES);
	c->df_stack_top = pages_alloc(1);
	if (!c->stack_top || !c->df_stack_top)
		return -1;
	c->stack_top += AP_STACK_PAGES * PAGE_SIZE;
	c->df_stack_top += PAGE_SIZE;
	return ghcb_share(apic);
}

int smp_start_ap(unsigned apic, const void *entry)
{
	uint64_t vmsa = vmsa_page_alloc(), rc;

	if (ap_prepare(apic) || !vmsa) {
		kprintf("ap %u: out of memory or GHCB conversion failed\n", apic);
		return -1;
	}
	vmsa_build(vmsa, apic);
	put64((uint8_t *)vmsa, VMSA_RIP, (uint64_t)entry);
	cpus[apic].vmsa_gpa = vmsa;
	rc = create_vcpu(vmsa, cpus[apic].caa_gpa, apic);
	if (rc != SVSM_SUCCESS) {
		kprintf("ap %u: CREATE_VCPU(vmsa 0x%lx) failed: 0x%lx\n", apic, vmsa, rc);
		return -1;
	}
	rc = ap_create_event(apic, vmsa);
	if ((uint32_t)rc != GHCB_RESULT_OK) {
		kprintf("ap %u: AP creation event failed: %u (0x%lx)\n", apic, (uint32_t)rc,
			ghcb_get(this_cpu()->ghcb, GHCB_EXITINFO2));
		return -1;
	}
	return 0;
}

/* Start APs 1..nr_vcpus-1 and wait (PAUSE yields to them in the emulator). */
uint32_t smp_aps_up(void)
{
	return __atomic_load_n(&aps_up, __ATOMIC_ACQUIRE);
}

int smp_start_aps(void)
{
	unsigned apic, started = 0, spins;

	for (apic = 1; apic < boot.nr_vcpus; apic++)
		if (!smp_start_ap(apic, ap_entry))
			started++;
	for (spins = 0; __atomic_load_n(&aps_up, __ATOMIC_ACQUIRE) < started; spins++) {
		if (spins == AP_WAIT_SPINS)
			break;
		cpu_pause();
	}
	kprintf("%u of %u APs up\n", aps_up, boot.nr_vcpus - 1);
	check("smp-start-aps", aps_up == boot.nr_vcpus - 1, aps_up);
	return aps_up == boot.nr_vcpus - 1 ? 0 : -1;
}

/* Set before starting an AP: it then calls the monitor once and spins instead
 * of halting, so the monitor knows it runs its OS VMSA (attack-vcpu-delete-running). */
uint32_t ap_busy;

/* First C code of an AP: tables, GHCB, say hello, then idle forever. */
NORETURN void ap_main(struct percpu *c);
NORETURN void ap_main(struct percpu *c)
{
	wrmsr(MSR_GS_BASE, (uint64_t)c);
	cpu_tables_load(c->id);
	if (ghcb_msr_register((uint64_t)c->ghcb))
		terminate(VEIL_TERM_TEST_FAILED);
	c->ghcb_ready = true;
	kprintf("ap %u up\n", c->id);
	if (__atomic_load_n(&ap_busy, __ATOMIC_ACQUIRE)) {
		core_call(SVSM_CORE_QUERY_PROTOCOL, SVSM_CALL(0, 1), 0, 0, 0);
		__atomic_add_fetch(&aps_up, 1, __ATOMIC_RELEASE);
		for (;;)
			cpu_pause();
	}
	__atomic_add_fetch(&aps_up, 1, __ATOMIC_RELEASE);
	for (;;)
		cpu_hlt();
}
