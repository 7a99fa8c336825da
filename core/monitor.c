/* SPDX-License-Identifier: MIT */
/*
 * monitor.c - boot of the VMPL0 monitor and the per-vCPU run loop
 * (README, "Image mode: the monitor as a VMPL0 image").
 */
#include <stdarg.h>
#include <veil/abi.h>
#include <veil/boot.h>
#include <veil/lib.h>
#include <veil/monitor.h>
#include <veil/service.h>
#include <veil/svsm.h>

void veil_printf(struct veil_backend *be, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	usize n;

	va_start(ap, fmt);
	n = veil_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	veil_console_write(be, buf, n < sizeof(buf) ? n : sizeof(buf) - 1);
}

void veil_monitor_terminate(struct veil_vcpu *vc, unsigned set, unsigned code)
{
	for (;;) {
		veil_ghcb_msr_write(vc->be, GHCB_MSR_TERM(set, code));
		veil_vmgexit(vc->be);
	}
}

u64 veil_monitor_alloc(struct veil_monitor *mon, u64 pages, u64 align)
{
	u64 gpa = (mon->alloc_next + align - 1) & ~(align - 1), len, end;

	if (!veil_mul_ok(pages, VEIL_PAGE_SIZE, &len) || !veil_add_ok(gpa, len, &end) ||
	    end > mon->alloc_end)
		return 0;
	mon->alloc_next = end;
	return gpa;
}

u8 *veil_monitor_scratch(struct veil_monitor *mon, struct veil_backend *be)
{
	if (!mon->scratch)
		mon->scratch =
			veil_monitor_alloc(mon, VEIL_SCRATCH_SIZE / VEIL_PAGE_SIZE, VEIL_PAGE_SIZE);
	return mon->scratch ? veil_map(be, mon->scratch, VEIL_SCRATCH_SIZE) : NULL;
}

/* A monitor page whose RMP entry may carry the VMSA bit: not 2 MiB aligned. */
static u64 alloc_vmsa_page(struct veil_monitor *mon)
{
	u64 gpa = veil_monitor_alloc(mon, 1, VEIL_PAGE_SIZE);

	if (gpa && veil_aligned(gpa, VEIL_HUGE_SIZE))
		gpa = veil_monitor_alloc(mon, 1, VEIL_PAGE_SIZE);
	return gpa;
}

/* ---- GHCB use by the monitor ----------------------------------------------- */

static u64 msr_request(struct veil_vcpu *vc, u64 req)
{
	u64 resp;

	veil_ghcb_msr_write(vc->be, req);
	veil_vmgexit(vc->be);
	resp = veil_ghcb_msr_read(vc->be);
	veil_ghcb_msr_write(vc->be, vc->ghcb);
	return resp;
}

int veil_monitor_share_page(struct veil_monitor *mon, struct veil_vcpu *vc, u64 gpa)
{
	struct veil_page *p = &mon->mem.pages[gpa / VEIL_PAGE_SIZE];
	u64 resp;

	if (veil_pvalidate(vc->be, gpa, false, false, NULL))
		return VEIL_EHW;
	p->validated = 0;
	p->owner = VEIL_OWNER_SHARED;
	resp = msr_request(vc, GHCB_MSR_PSC(gpa >> 12, GHCB_MSR_PSC_SHARED));
	if (GHCB_MSR_INFO(resp) != GHCB_MSR_PSC_RESP || resp >> 32) {
		/* Still private: validate it again and keep it the monitor's. */
		if (!veil_pvalidate(vc->be, gpa, false, true, NULL)) {
			p->validated = 1;
			p->owner = VEIL_OWNER_MONITOR;
			veil_mem_apply(&mon->mem, vc->be, gpa);
		}
		return VEIL_EHW;
	}
	return VEIL_OK;
}

/* Give the monitor a shared GHCB page on this vCPU. */
static int setup_ghcb(struct veil_monitor *mon, struct veil_vcpu *vc)
{
	u64 gpa = veil_monitor_alloc(mon, 1, VEIL_PAGE_SIZE), resp;

	if (!gpa)
		return VEIL_ENOMEM;
	if (veil_monitor_share_page(mon, vc, gpa))
		return VEIL_EHW;
	resp = msr_request(vc, GHCB_MSR_REGISTER(gpa >> 12));
	if (resp != (GHCB_MSR_REGISTER_RESP | gpa))
		return VEIL_EHW;
	vc->ghcb = gpa;
	veil_ghcb_msr_write(vc->be, gpa);
	return VEIL_OK;
}

/* One full-GHCB event; returns SW_EXITINFO1[31:0] (0 = success). */
static u64 ghcb_event(struct veil_vcpu *vc, u64 code, u64 info1, u64 info2, u64 rax)
{
	u8 *g = veil_map_shared(vc->be, vc->ghcb, VEIL_PAGE_SIZE);
	u16 ver = GHCB_PROTOCOL_VERSION;

	if (!g)
		return ~0ULL;
	veil_memset(g, 0, VEIL_PAGE_SIZE);
	veil_st64(g + GHCB_RAX, rax);
	veil_st64(g + GHCB_EXITCODE, code);
	veil_st64(g + GHCB_EXITINFO1, info1);
	veil_st64(g + GHCB_EXITINFO2, info2);
	g[GHCB_BITMAP_BYTE(GHCB_RAX)] |= GHCB_BITMAP_BIT(GHCB_RAX);
	g[GHCB_BITMAP_BYTE(GHCB_EXITCODE)] |= GHCB_BITMAP_BIT(GHCB_EXITCODE);
	g[GHCB_BITMAP_BYTE(GHCB_EXITINFO1)] |= GHCB_BITMAP_BIT(GHCB_EXITINFO1);
	g[GHCB_BITMAP_BYTE(GHCB_EXITINFO2)] |= GHCB_BITMAP_BIT(GHCB_EXITINFO2);
	veil_memcpy(g + GHCB_VERSION, &ver, 2);
	veil_ghcb_msr_write(vc->be, vc->ghcb);
	veil_vmgexit(vc->be);
	return veil_ld64(g + GHCB_EXITINFO1) & 0xFFFFFFFFULL;
}

u64 veil_monitor_ghcb_call(struct veil_vcpu *vc, u64 code, u64 info1, u64 info2, u64 *info2_out)
{
	u64 rc = ghcb_event(vc, code, info1, info2, 0);
	const u8 *g = veil_map_shared(vc->be, vc->ghcb, VEIL_PAGE_SIZE);

	*info2_out = g ? veil_ld64(g + GHCB_EXITINFO2) : ~0ULL;
	return rc;
}

/* ---- boot ------------------------------------------------------------------- */

static bool launch_ok(const struct veil_launch *l)
{
	return l->nr_vcpus >= 1 && l->nr_vcpus <= VEIL_MAX_VCPUS &&
	       veil_aligned(l->mem_size, VEIL_HUGE_SIZE) && l->mem_size <= (12ULL << 30) &&
	       veil_aligned(l->mon_base, VEIL_PAGE_SIZE) && l->mon_size >= (1ULL << 20) &&
	       veil_aligned(l->mon_used, VEIL_PAGE_SIZE) && l->mon_used < l->mon_size / 2 &&
	       veil_range_within(l->mon_base, l->mon_size, VEIL_BOOT_OS_MIN, l->mem_size) &&
	       veil_aligned(l->kernel_start, VEIL_PAGE_SIZE) &&
	       veil_aligned(l->kernel_end, VEIL_PAGE_SIZE) && l->kernel_start < l->kernel_end &&
	       veil_range_within(l->kernel_start, l->kernel_end - l->kernel_start, VEIL_BOOT_OS_MIN,
				 l->mon_base) &&
	       veil_range_within(l->kernel_entry, 1, l->kernel_start, l->kernel_end) &&
	       veil_range_within(l->secrets_gpa, VEIL_PAGE_SIZE, l->mon_base,
				 l->mon_base + l->mon_size);
}

/* Ownership at launch: the monitor region is the monitor's, the image the OS's. */
static int take_ownership(struct veil_monitor *mon, struct veil_backend *be)
{
	const struct veil_launch *l = &mon->launch;
	u64 pfn, gpa;

	for (pfn = 0; pfn < mon->mem.nr_pages; pfn++) {
		struct veil_page *p = &mon->mem.pages[pfn];

		gpa = pfn * VEIL_PAGE_SIZE;
		p->owner = VEIL_OWNER_OS;
		p->os_perms = RMP_PERM_ALL;
		if (gpa >= l->mon_base && gpa < l->mon_base + l->mon_size) {
			p->owner = VEIL_OWNER_MONITOR;
			p->validated = 1;
		} else if (gpa >= l->kernel_start && gpa < l->kernel_end) {
			p->validated = 1;
		}
		if (p->validated && veil_mem_apply(&mon->mem, be, gpa))
			return VEIL_EHW;
	}
	return VEIL_OK;
}

static int validate_boot_area(struct veil_monitor *mon, struct veil_backend *be)
{
	u64 gpa;

	for (gpa = VEIL_BOOT_INFO; gpa < VEIL_BOOT_AREA_END; gpa += VEIL_PAGE_SIZE) {
		struct veil_page *p = &mon->mem.pages[gpa / VEIL_PAGE_SIZE];
		void *page;

		if (veil_pvalidate(be, gpa, false, true, NULL))
			return VEIL_EHW;
		p->validated = 1;
		page = veil_map(be, gpa, VEIL_PAGE_SIZE);
		if (!page)
			return VEIL_ERANGE;
		veil_memset(page, 0, VEIL_PAGE_SIZE);
		if (veil_mem_apply(&mon->mem, be, gpa))
			return VEIL_EHW;
	}
	return VEIL_OK;
}

/*
 * A Linux OS booted without EFI has no "unaccepted memory": it expects all
 * RAM to be validated, and reads the BIOS data area and the 0xE0000-0xFFFFF
 * ROM area (ACPI RSDP search) below 1 MiB. Validate that low memory for it
 * (the boot area is done above); its contents stay as the loader left them.
 */
static int validate_linux_low(struct veil_monitor *mon, struct veil_backend *be)
{
	u64 gpa;

	for (gpa = 0; gpa < VEIL_BOOT_OS_MIN; gpa += VEIL_PAGE_SIZE) {
		struct veil_page *p = &mon->mem.pages[gpa / VEIL_PAGE_SIZE];

		if (gpa >= VEIL_BOOT_INFO && gpa < VEIL_BOOT_AREA_END)
			continue;
		if (veil_pvalidate(be, gpa, false, true, NULL))
			return VEIL_EHW;
		p->validated = 1;
		if (veil_mem_apply(&mon->mem, be, gpa))
			return VEIL_EHW;
	}
	return VEIL_OK;
}

/* GDT, TSS, identity page tables (2 MiB pages), boot info, secrets copy. */
static int build_boot_area(struct veil_monitor *mon, struct veil_backend *be)
{
	const struct veil_launch *l = &mon->launch;
	static const u64 gdt_init[] = { 0, 0x00AF9B000000FFFFULL, 0x00CF93000000FFFFULL,
					0x00CFF3000000FFFFULL, 0x00AFFB000000FFFFULL };
	u8 *area = veil_map(be, VEIL_BOOT_INFO, VEIL_BOOT_AREA_END - VEIL_BOOT_INFO);
	u8 *gdt, *pml4, *pdpt, *secrets, *launch_secrets;
	struct veil_boot_info *bi;
	u64 tss = VEIL_BOOT_GDT + 0x100, gb, i, nr_gb = l->mem_size >> 30;

	if (!area)
		return VEIL_ERANGE;
	gdt = area + (VEIL_BOOT_GDT - VEIL_BOOT_INFO);
	veil_memcpy(gdt, gdt_init, sizeof(gdt_init));
	veil_st64(gdt + 0x28,
		  0x67 | ((tss & 0xFFFFFF) << 16) | (0x89ULL << 40) | (((tss >> 24) & 0xFF) << 56));
	veil_st64(gdt + 0x100 + 4, VEIL_BOOT_STACK_TOP);

	pml4 = area + (VEIL_BOOT_PML4 - VEIL_BOOT_INFO);
	pdpt = pml4 + VEIL_PAGE_SIZE;
	veil_st64(pml4, (VEIL_BOOT_PML4 + VEIL_PAGE_SIZE) | 0x3);
	if (l->mem_size & ((1ULL << 30) - 1))
		nr_gb++;
	for (gb = 0; gb < nr_gb; gb++) {
		u64 pd = VEIL_BOOT_PML4 + (2 + gb) * VEIL_PAGE_SIZE;
		u8 *pdp = area + (pd - VEIL_BOOT_INFO);

		veil_st64(pdpt + gb * 8, pd | 0x3);
		for (i = 0; i < 512; i++)
			veil_st64(pdp + i * 8, (((gb << 30) + (i << 21)) | 0x83 | (1ULL << 51)));
	}

	bi = (struct veil_boot_info *)area;
	bi->magic = VEIL_BOOT_MAGIC;
	bi->version = VEIL_BOOT_VERSION;
	bi->nr_vcpus = l->nr_vcpus;
	bi->mem_size = l->mem_size;
	bi->secrets_gpa = VEIL_BOOT_SECRETS;
	bi->cpuid_gpa = VEIL_BOOT_CPUID;
	bi->caa_gpa = VEIL_BOOT_CAA;
	bi->kernel_start = l->kernel_start;
	bi->kernel_end = l->kernel_end;
	bi->ranges[0] = (struct veil_mem_range){ VEIL_BOOT_INFO,
						 VEIL_BOOT_AREA_END - VEIL_BOOT_INFO,
						 VEIL_MEM_OS_VALIDATED, 0 };
	bi->ranges[1] = (struct veil_mem_range){ l->kernel_start, l->kernel_end - l->kernel_start,
						 VEIL_MEM_OS_VALIDATED, 0 };
	bi->ranges[2] = (struct veil_mem_range){ VEIL_BOOT_OS_MIN,
						 l->kernel_start - VEIL_BOOT_OS_MIN,
						 VEIL_MEM_OS_UNVALIDATED, 0 };
	bi->ranges[3] = (struct veil_mem_range){ l->kernel_end, l->mon_base - l->kernel_end,
						 VEIL_MEM_OS_UNVALIDATED, 0 };
	bi->ranges[4] = (struct veil_mem_range){ l->mon_base, l->mon_size, VEIL_MEM_MONITOR, 0 };
	bi->nr_ranges = 5;
	veil_memcpy(bi->cmdline, l->cmdline, sizeof(bi->cmdline));
	bi->cmdline[sizeof(bi->cmdline) - 1] = 0;

	/* The OS's secrets page: VMPCK0-2 cleared so it cannot ask the firmware
	 * for reports that claim VMPL0-2 (the prototype cleared only VMPCK0). */
	secrets = area + (VEIL_BOOT_SECRETS - VEIL_BOOT_INFO);
	launch_secrets = veil_map(be, l->secrets_gpa, VEIL_PAGE_SIZE);
	if (!launch_secrets)
		return VEIL_ERANGE;
	veil_memcpy(secrets, launch_secrets, VEIL_PAGE_SIZE);
	veil_memset(secrets + SNP_SECRETS_VMPCK(0), 0, 3 * 0x20);
	veil_st64(secrets + SNP_SECRETS_SVSM_BASE, l->mon_base);
	veil_st64(secrets + SNP_SECRETS_SVSM_SIZE, l->mon_size);
	veil_st64(secrets + SNP_SECRETS_SVSM_CAA, VEIL_BOOT_CAA);
	secrets[SNP_SECRETS_SVSM_MAX_VERSION] = 1;
	secrets[SNP_SECRETS_SVSM_GUEST_VMPL] = VEIL_OS_VMPL;
	return VEIL_OK;
}

/* A Linux OS starts with the state its loader built (struct veil_os_entry):
 * flat 4 GiB segments from its GDT, its page tables, RSI = boot_params. */
static void linux_entry_state(u8 *v, const struct veil_os_entry *e)
{
	veil_vmsa_seg(v, VMSA_CS, e->cs, 0x29B, 0xFFFFFFFF, 0);
	veil_vmsa_seg(v, VMSA_SS, e->ds, 0xC93, 0xFFFFFFFF, 0);
	veil_vmsa_seg(v, VMSA_DS, e->ds, 0xC93, 0xFFFFFFFF, 0);
	veil_vmsa_seg(v, VMSA_ES, e->ds, 0xC93, 0xFFFFFFFF, 0);
	veil_vmsa_seg(v, VMSA_GDTR, 0, 0, e->gdt_limit, e->gdt_base);
	veil_st64(v + VMSA_CR3, e->cr3);
	veil_st64(v + VMSA_RSP, e->rsp);
	veil_st64(v + VMSA_RDI, 0);
	veil_st64(v + VMSA_RSI, e->rsi);
}

/* The OS's VMSA for the boot vCPU, in a monitor page with the VMSA bit. */
static int create_os_vmsa(struct veil_monitor *mon, struct veil_vcpu *vc)
{
	const struct veil_launch *l = &mon->launch;
	u64 gpa = alloc_vmsa_page(mon);
	u32 mxcsr = 0x1F80;
	u8 *v;

	if (!gpa || !(v = veil_map(vc->be, gpa, VEIL_PAGE_SIZE)))
		return VEIL_ENOMEM;
	veil_memset(v, 0, VEIL_PAGE_SIZE);
	veil_vmsa_seg(v, VMSA_CS, 0x08, 0x29B, 0xFFFFFFFF, 0);
	veil_vmsa_seg(v, VMSA_SS, 0x10, 0xC93, 0xFFFFFFFF, 0);
	veil_vmsa_seg(v, VMSA_DS, 0x10, 0xC93, 0xFFFFFFFF, 0);
	veil_vmsa_seg(v, VMSA_ES, 0x10, 0xC93, 0xFFFFFFFF, 0);
	veil_vmsa_seg(v, VMSA_TR, 0x28, 0x8B, 0x67, VEIL_BOOT_GDT + 0x100);
	veil_vmsa_seg(v, VMSA_GDTR, 0, 0, 0x37, VEIL_BOOT_GDT);
	v[VMSA_VMPL] = VEIL_OS_VMPL;
	veil_st64(v + VMSA_EFER, 0x1D01); /* SCE, LME, LMA, NXE, SVME */
	veil_st64(v + VMSA_CR0, 0x80010033ULL);
	veil_st64(v + VMSA_CR4, 0x620);
	veil_st64(v + VMSA_CR3, VEIL_BOOT_PML4);
	veil_st64(v + VMSA_RFLAGS, 2);
	veil_st64(v + VMSA_RIP, l->kernel_entry);
	veil_st64(v + VMSA_RSP, VEIL_BOOT_STACK_TOP);
	veil_st64(v + VMSA_RDI, VEIL_BOOT_INFO);
	veil_st64(v + VMSA_PAT, 0x0007040600070406ULL);
	veil_st64(v + VMSA_DR6, 0xFFFF0FF0ULL);
	veil_st64(v + VMSA_DR7, 0x400);
	veil_st64(v + VMSA_SEV_FEATURES, l->sev_features);
	veil_memcpy(v + VMSA_MXCSR, &mxcsr, 4);
	if (l->os_boot == VEIL_OS_BOOT_LINUX)
		linux_entry_state(v, &l->os_entry);
	if (veil_mem_transfer(&mon->mem, vc->be, gpa, VEIL_PAGE_SIZE, VEIL_OWNER_MONITOR,
			      VEIL_OWNER_VMSA, 0))
		return VEIL_EHW;
	/* Register it with the hypervisor as this vCPU's VMPL3 VMSA. */
	if (ghcb_event(vc, SVM_VMGEXIT_AP_CREATION,
		       SVM_VMGEXIT_AP_INFO1(SVM_VMGEXIT_AP_CREATE_ON_INIT, VEIL_OS_VMPL, vc->id),
		       gpa, l->sev_features))
		return VEIL_EHW;
	vc->os_vmsa = gpa;
	return VEIL_OK;
}

static int init_services(struct veil_monitor *mon, struct veil_vcpu *vc)
{
	const struct veil_service *const *s;

	for (s = veil_services; *s; s++) {
		if ((*s)->init && (*s)->init(mon, vc)) {
			veil_printf(vc->be, "veil: service %s failed to start\n", (*s)->name);
			return VEIL_EHW;
		}
	}
	return VEIL_OK;
}

struct veil_monitor *veil_monitor_boot(const struct veil_launch *launch, struct veil_backend *be)
{
	struct veil_monitor *mon;
	struct veil_vcpu *vc;
	u64 pages_len, pages_gpa, i;

	if (!launch_ok(launch)) {
		veil_printf(be, "veil: bad launch parameters\n");
		return NULL;
	}
	mon = veil_map(be, launch->mon_base + launch->mon_used, sizeof(*mon));
	if (!mon)
		return NULL;
	veil_memset(mon, 0, sizeof(*mon));
	mon->launch = *launch;
	mon->alloc_next =
		(launch->mon_base + launch->mon_used + sizeof(*mon) + VEIL_PAGE_SIZE - 1) &
		VEIL_PAGE_MASK;
	mon->alloc_end = launch->mon_base + launch->mon_size;
	mon->mem.nr_pages = launch->mem_size / VEIL_PAGE_SIZE;
	mon->mem.os_default = RMP_PERM_ALL; /* until kernel code integrity locks */
	pages_len = mon->mem.nr_pages * sizeof(struct veil_page);
	pages_gpa = veil_monitor_alloc(mon, (pages_len + VEIL_PAGE_SIZE - 1) / VEIL_PAGE_SIZE,
				       VEIL_PAGE_SIZE);
	mon->mem.pages = pages_gpa ? veil_map(be, pages_gpa, pages_len) : NULL;
	if (!mon->mem.pages)
		return NULL;
	for (i = 0; i < launch->nr_vcpus; i++)
		mon->vcpus[i].id = (u32)i;
	vc = &mon->vcpus[0];
	vc->be = be;
	vc->caa = VEIL_BOOT_CAA;
	if (take_ownership(mon, be) || validate_boot_area(mon, be) ||
	    (launch->os_boot == VEIL_OS_BOOT_LINUX && validate_linux_low(mon, be)) ||
	    build_boot_area(mon, be) || setup_ghcb(mon, vc) || create_os_vmsa(mon, vc)) {
		veil_printf(be, "veil: boot failed\n");
		return NULL;
	}
	if (init_services(mon, vc))
		return NULL;
	vc->state = VEIL_VCPU_RUNNING;
	veil_printf(be, "veil: monitor up: %u MiB guest, %u vCPU(s), OS entry %lx\n",
		    (unsigned)(launch->mem_size >> 20), launch->nr_vcpus,
		    (unsigned long)launch->kernel_entry);
	return mon;
}

/* ---- OS buffers --------------------------------------------------------------- */

const void *veil_os_read(struct veil_monitor *mon, struct veil_backend *be, u64 gpa, u64 len)
{
	return veil_mem_os_may(&mon->mem, gpa, len, false) ? veil_map(be, gpa, len) : NULL;
}

void *veil_os_write(struct veil_monitor *mon, struct veil_backend *be, u64 gpa, u64 len)
{
	return veil_mem_os_may(&mon->mem, gpa, len, true) ? veil_map(be, gpa, len) : NULL;
}

/* ---- the run loop ------------------------------------------------------------- */

/* Keep msg in the secure log (under the lock that orders APPENDs), say it on
 * the console after `kind` and stop the CVM. */
static void __attribute__((noreturn))
stop_recorded(struct veil_monitor *mon, struct veil_vcpu *vc, const char *kind, const char *msg,
	      usize n, bool locked)
{
	if (!locked)
		veil_monitor_lock(mon);
	veil_service_record(mon, vc, msg, (u32)n);
	if (!locked)
		veil_monitor_unlock(mon);
	veil_printf(vc->be, "veil: %s%s; stopping the CVM\n", kind, msg);
	veil_monitor_terminate(vc, VEIL_TERM_SET, VEIL_TERM_VIOLATION);
}

static void fault_policy(struct veil_monitor *mon, struct veil_vcpu *vc, const u8 *vmsa)
{
	struct veil_fault f = {
		.vcpu = vc->id,
		.exit_code = veil_ld64(vmsa + VMSA_EXIT_CODE),
		.exitinfo1 = veil_ld64(vmsa + VMSA_EXITINFO1),
		.exitinfo2 = veil_ld64(vmsa + VMSA_EXITINFO2),
		.rip = veil_ld64(vmsa + VMSA_RIP),
	};
	char msg[160];
	usize n;

	veil_trace(vc->be, VEIL_TRACE_VIOLATION, f.exitinfo1, f.exitinfo2, f.rip, 0);
	n = veil_snprintf(msg, sizeof(msg),
			  "violation: vcpu %u rip %lx gpa %lx exitinfo1 %lx (%s%s)", vc->id,
			  (unsigned long)f.rip, (unsigned long)f.exitinfo2,
			  (unsigned long)f.exitinfo1,
			  f.exitinfo1 & 0x10 ? "fetch" :
			  f.exitinfo1 & 2    ? "write" :
					       "read",
			  f.exitinfo1 & 4 ? " at CPL3" : "");
	veil_monitor_lock(mon);
	if (mon->nr_faults < VEIL_MAX_FAULTS)
		mon->faults[mon->nr_faults++] = f;
	veil_monitor_unlock(mon);
	stop_recorded(mon, vc, "RMP ", msg, n < sizeof(msg) ? n : sizeof(msg) - 1, false);
}

void veil_monitor_tamper(struct veil_monitor *mon, struct veil_vcpu *vc, u64 gpa, const char *what)
{
	char msg[160];
	usize n = veil_snprintf(msg, sizeof(msg),
				"tampering: vcpu %u gpa %lx: %s changed behind the monitor", vc->id,
				(unsigned long)gpa, what);

	veil_trace(vc->be, 1, 0, gpa, 0, 0);
	stop_recorded(mon, vc, "", msg, n < sizeof(msg) ? n : sizeof(msg) - 1, true);
}

/* The monitor writes the CAA (call_pending): only while the OS may write it. */
static u8 *caa_of(struct veil_monitor *mon, struct veil_vcpu *vc)
{
	return veil_os_write(mon, vc->be, vc->caa, VEIL_PAGE_SIZE);
}

static void handle_call(struct veil_monitor *mon, struct veil_vcpu *vc, u8 *vmsa)
{
	u8 *caa = caa_of(mon, vc);
	u64 efer = veil_ld64(vmsa + VMSA_EFER), caa_gpa = vc->caa;
	struct veil_call c;

	if (!caa || __atomic_load_n(&caa[0], __ATOMIC_ACQUIRE) != 1)
		return; /* a run-VMPL0 request without a call: just resume */
	/* Not runnable while the monitor edits it. */
	veil_st64(vmsa + VMSA_EFER, efer & ~VMSA_EFER_SVME);
	c.rax = veil_ld64(vmsa + VMSA_RAX);
	c.rcx = veil_ld64(vmsa + VMSA_RCX);
	c.rdx = veil_ld64(vmsa + VMSA_RDX);
	c.r8 = veil_ld64(vmsa + VMSA_R8);
	c.r9 = veil_ld64(vmsa + VMSA_R9);
	veil_trace(vc->be, VEIL_TRACE_CALL, c.rax, c.rcx, c.rdx, c.r8);
	veil_svsm_dispatch(mon, vc, &c);
	veil_trace(vc->be, VEIL_TRACE_CALL_RESULT, c.rax, c.rcx, c.rdx, c.r8);
	veil_st64(vmsa + VMSA_RAX, c.rax);
	veil_st64(vmsa + VMSA_RCX, c.rcx);
	veil_st64(vmsa + VMSA_RDX, c.rdx);
	veil_st64(vmsa + VMSA_R8, c.r8);
	veil_st64(vmsa + VMSA_R9, c.r9);
	vc->calls++;
	/* call_pending is cleared in the CAA the call was made with, also when
	 * the call (REMAP_CA) moved this vCPU's CAA: Linux reads it back there
	 * (svsm_issue_call). Checked again: the call may have changed the page. */
	caa = veil_os_write(mon, vc->be, caa_gpa, VEIL_PAGE_SIZE);
	if (caa)
		__atomic_store_n(&caa[0], 0, __ATOMIC_RELEASE);
	veil_st64(vmsa + VMSA_EFER, efer);
}

static void handle_exit(struct veil_monitor *mon, struct veil_vcpu *vc)
{
	u8 *vmsa;
	u64 code, gpa;

	veil_monitor_lock(mon); /* CREATE_VCPU and DELETE_VCPU change os_vmsa */
	gpa = veil_vcpu_current_vmsa(vc);
	veil_monitor_unlock(mon);
	vmsa = gpa ? veil_map(vc->be, gpa, VEIL_PAGE_SIZE) : NULL;

	if (!vmsa)
		veil_monitor_terminate(vc, VEIL_TERM_SET, VEIL_TERM_MONITOR);
	vc->exits++;
	code = veil_ld64(vmsa + VMSA_EXIT_CODE);
	if (code == SVM_EXIT_VMGEXIT) {
		handle_call(mon, vc, vmsa);
	} else if (code == SVM_EXIT_NPF) {
		fault_policy(mon, vc, vmsa);
	} else {
		veil_printf(vc->be, "veil: unexpected exit %lx on vCPU %u\n", (unsigned long)code,
			    vc->id);
		veil_monitor_terminate(vc, VEIL_TERM_SET, VEIL_TERM_MONITOR);
	}
}

static void run_os(struct veil_vcpu *vc)
{
	u64 resp;

	__atomic_store_n(&vc->in_os, 1, __ATOMIC_RELEASE);
	resp = msr_request(vc, GHCB_MSR_RUN_VMPL(VEIL_OS_VMPL));
	__atomic_store_n(&vc->in_os, 0, __ATOMIC_RELEASE);

	if (GHCB_MSR_INFO(resp) != GHCB_MSR_RUN_VMPL_RESP || resp >> 32) {
		veil_printf(vc->be, "veil: cannot run the OS on vCPU %u (%lx)\n", vc->id,
			    (unsigned long)resp);
		veil_monitor_terminate(vc, VEIL_TERM_SET, VEIL_TERM_MONITOR);
	}
}

/* ---- other domains' VMSAs (core/domain.c) ------------------------------------ */

int veil_monitor_set_vmsa(struct veil_vcpu *vc, unsigned vmpl, u64 gpa, u64 sev_features)
{
	/* GHCB spec 56421, 4.1.8 (SNP AP Creation): request 0, VMPL in bits
	 * 16-19, APIC ID in 32-63; only VMPL0 may do this for its own vCPU. */
	return ghcb_event(vc, SVM_VMGEXIT_AP_CREATION,
			  SVM_VMGEXIT_AP_INFO1(SVM_VMGEXIT_AP_CREATE_ON_INIT, vmpl, vc->id), gpa,
			  sev_features) ?
		       VEIL_EHW :
		       VEIL_OK;
}

int veil_monitor_run_vmpl(struct veil_vcpu *vc, unsigned vmpl)
{
	u64 resp = msr_request(vc, GHCB_MSR_RUN_VMPL(vmpl));

	return GHCB_MSR_INFO(resp) == GHCB_MSR_RUN_VMPL_RESP && !(resp >> 32) ? VEIL_OK : VEIL_EHW;
}

void veil_monitor_run(struct veil_monitor *mon, struct veil_vcpu *vc)
{
	for (;;) {
		run_os(vc);
		handle_exit(mon, vc);
	}
}

void veil_monitor_enter_ap(struct veil_monitor *mon, u32 id, struct veil_backend *be)
{
	struct veil_vcpu *vc;
	int rc;

	if (id >= mon->launch.nr_vcpus || id >= VEIL_MAX_VCPUS)
		return;
	vc = &mon->vcpus[id];
	vc->be = be;
	veil_monitor_lock(mon); /* other vCPUs may allocate and change pages too */
	rc = vc->ghcb ? VEIL_OK : setup_ghcb(mon, vc);
	veil_monitor_unlock(mon);
	if (rc) {
		veil_printf(be, "veil: no GHCB for vCPU %u (monitor memory exhausted?)\n", id);
		veil_monitor_terminate(vc, VEIL_TERM_SET, VEIL_TERM_MONITOR);
	}
	vc->state = VEIL_VCPU_RUNNING;
	handle_exit(mon, vc);
	veil_monitor_run(mon, vc);
}

void veil_monitor_main(struct veil_monitor *mon)
{
	veil_monitor_run(mon, &mon->vcpus[0]);
}
