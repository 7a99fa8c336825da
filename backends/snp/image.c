/* SPDX-License-Identifier: MIT */
/*
 * image.c - the VMPL0 image: boot as an SVSM is entered at launch (image.h),
 * own GDT, IDT and page tables with the C-bit from CPUID 0x8000001F, the
 * monitor (core/ and services/) on the snp backend, APs started through AP
 * creation with VMSAs the image builds, and exception handling at VMPL0.
 */
#include <veil/abi.h>
#include <veil/lib.h>
#include <veil/mem.h>
#include <veil/monitor.h>
#include <veil/svsm.h>

#include "cpu.h"
#include "ghcb.h"
#include "image.h"
#include "snp.h"

/* Per vCPU, at the base of its slot (cpu.h). */
struct image_cpu {
	struct snp_vcpu snp;
	struct veil_monitor *mon;
	u64 image_gpa;				  /* where the image lies in guest memory */
	u64 info_gpa;				  /* struct veil_launch_info */
	u32 cbit;				  /* the C-bit position */
	u8 tss[104] __attribute__((aligned(16))); /* 64-bit TSS: IST1 (APM vol. 2, 12.2.5) */
};

_Static_assert(sizeof(struct image_cpu) <= VEIL_PAGE_SIZE, "image_cpu fits its page");

/* What entry.S pushes below the CPU's exception frame. */
struct image_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss;
};

#define PTE_P (1ULL << 0)
#define PTE_W (1ULL << 1)
#define PTE_PS (1ULL << 7)
#define PTE_NX (1ULL << 63)
#define PT_ENTRIES 512
#define MAX_GIB 12 /* the monitor supports up to 12 GiB of guest memory */

/*
 * The image's hardware tables, shared by all vCPUs: written by the boot
 * vCPU before any other vCPU runs (the APs' slots and TSS descriptors are
 * added while it prepares them), read-only afterwards.
 */
struct image_tables {
	u64 pml4[PT_ENTRIES];
	u64 direct_pdpt[PT_ENTRIES], shared_pdpt[PT_ENTRIES], high_pdpt[PT_ENTRIES];
	u64 high_pd[PT_ENTRIES], high_pt[PT_ENTRIES];
	u64 low_pdpt[PT_ENTRIES], low_pd[PT_ENTRIES], low_pt[PT_ENTRIES];
	u64 slots_pdpt[PT_ENTRIES], slots_pd[PT_ENTRIES];
	u64 slots_pt[VEIL_MAX_VCPUS * (IMAGE_SLOT_SIZE / VEIL_PAGE_SIZE) / PT_ENTRIES][PT_ENTRIES];
	u64 direct_pd[MAX_GIB][PT_ENTRIES], shared_pd[MAX_GIB][PT_ENTRIES];
};

static struct image_tables tables __attribute__((aligned(4096)));
static u64 gdt[IMAGE_TSS0 / 8 + 2 * VEIL_MAX_VCPUS] __attribute__((aligned(16)));
static u8 canary_page[4096] __attribute__((aligned(4096)));
static u8 idt[IMAGE_NR_VECTORS][16] __attribute__((aligned(16)));
/* The boot vCPU's slot pages (the others come from monitor memory). */
u8 image_bsp_slot[IMAGE_SLOT_PAGES][VEIL_PAGE_SIZE] __attribute__((aligned(4096)));
_Static_assert(IMAGE_BSP_STACK_TOP <= (IMAGE_SLOT_IST_TOP - IMAGE_SLOT_GUARD) &&
		       IMAGE_BSP_STACK_TOP <= IMAGE_SLOT_PAGES * VEIL_PAGE_SIZE,
	       "the boot stack must end inside image_bsp_slot");

extern const u8 __image_start[], __text_end[], __image_end[];
extern const u8 image_vectors[];
void image_ap_start(void);
u64 image_boot_bsp(u64 info_gpa);
void image_main_bsp(void) __attribute__((noreturn));
void image_boot_ap(struct image_cpu *cpu) __attribute__((noreturn));
void image_exception(struct image_frame *f);

static void __attribute__((noreturn)) terminate(unsigned code)
{
	for (;;) {
		snp_wrmsr(MSR_GHCB, GHCB_MSR_TERM(VEIL_TERM_SET, code));
		snp_vmgexit();
	}
}

static u64 image_pa(const struct image_cpu *cpu, const void *va)
{
	return (u64)(uintptr_t)va - VEIL_IMAGE_VA + cpu->image_gpa;
}

/* One CPUID register through the GHCB MSR protocol (56421, 2.3.1): CPUID
 * itself raises #VC at VMPL0. The GHCB MSR is restored afterwards. */
static bool cpuid_msr(u32 fn, unsigned reg, u32 *out)
{
	u64 saved = snp_rdmsr(MSR_GHCB), resp = snp_msr_protocol(GHCB_MSR_CPUID(fn, reg));

	snp_wrmsr(MSR_GHCB, saved);
	if (GHCB_MSR_INFO(resp) != GHCB_MSR_CPUID_RESP ||
	    ((resp >> GHCB_MSR_CPUID_REG_SHIFT) & 3) != reg)
		return false;
	*out = (u32)(resp >> 32);
	return true;
}

/* The stack-protector canary: from the TSC at boot, so it differs between
 * boots on hardware (the model's clock is deterministic, as all of it is). */
static u64 snp_canary(void)
{
	u32 lo, hi;
	u64 x;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	x = (((u64)hi << 32) | lo) * 0x9E3779B97F4A7C15ULL;
	return (x ^ (x >> 29)) & ~0xFFULL; /* a zero low byte stops string overruns */
}

/* ---- page tables -------------------------------------------------------------- */

/*
 * Guest memory twice with 2 MiB pages: private (C=1) at SNP_DIRECT_MAP and
 * shared (C=0) at SNP_SHARED_MAP, both no-execute; the image at VEIL_IMAGE_VA
 * with 4 KiB pages, text read-only and executable, the rest no-execute.
 */
static void build_tables(const struct image_cpu *cpu, u64 mem_size, unsigned cbit)
{
	struct image_tables *t = &tables;
	u64 c = 1ULL << cbit, gib, i, va;

	veil_memset(t, 0, sizeof(*t));
	for (gib = 0; gib < (mem_size + (1ULL << 30) - 1) >> 30; gib++) {
		t->direct_pdpt[gib] = image_pa(cpu, t->direct_pd[gib]) | PTE_P | PTE_W | c;
		t->shared_pdpt[gib] = image_pa(cpu, t->shared_pd[gib]) | PTE_P | PTE_W | c;
		for (i = 0; i < PT_ENTRIES && (gib << 30) + (i << 21) < mem_size; i++) {
			u64 pa = (gib << 30) + (i << 21), f = PTE_P | PTE_W | PTE_PS | PTE_NX;

			t->direct_pd[gib][i] = pa | f | c;
			t->shared_pd[gib][i] = pa | f;
		}
	}
	for (va = (u64)(uintptr_t)__image_start; va < (u64)(uintptr_t)__image_end; va += 4096) {
		u64 f = va < (u64)(uintptr_t)__text_end ? PTE_P : PTE_P | PTE_W | PTE_NX;

		t->high_pt[(va >> 12) & 511] = image_pa(cpu, (void *)(uintptr_t)va) | f | c;
	}
	t->high_pd[(VEIL_IMAGE_VA >> 21) & 511] = image_pa(cpu, t->high_pt) | PTE_P | PTE_W | c;
	t->high_pdpt[(VEIL_IMAGE_VA >> 30) & 511] = image_pa(cpu, t->high_pd) | PTE_P | PTE_W | c;
	t->low_pt[(IMAGE_CANARY_VA >> 12) & 511] = image_pa(cpu, canary_page) | PTE_P | PTE_NX | c;
	t->low_pd[0] = image_pa(cpu, t->low_pt) | PTE_P | PTE_W | c;
	t->low_pdpt[0] = image_pa(cpu, t->low_pd) | PTE_P | PTE_W | c;
	t->pml4[0] = image_pa(cpu, t->low_pdpt) | PTE_P | PTE_W | c;
	for (i = 0; i < VEIL_ARRAY_SIZE(t->slots_pt); i++)
		t->slots_pd[i] = image_pa(cpu, t->slots_pt[i]) | PTE_P | PTE_W | c;
	t->slots_pdpt[0] = image_pa(cpu, t->slots_pd) | PTE_P | PTE_W | c;
	t->pml4[(IMAGE_SLOTS_VA >> 39) & 511] = image_pa(cpu, t->slots_pdpt) | PTE_P | PTE_W | c;
	t->pml4[(SNP_SHARED_MAP >> 39) & 511] = image_pa(cpu, t->shared_pdpt) | PTE_P | PTE_W | c;
	t->pml4[(SNP_DIRECT_MAP >> 39) & 511] = image_pa(cpu, t->direct_pdpt) | PTE_P | PTE_W | c;
	t->pml4[(VEIL_IMAGE_VA >> 39) & 511] = image_pa(cpu, t->high_pdpt) | PTE_P | PTE_W | c;
}

static struct image_cpu *slot_cpu(u32 id)
{
	return (struct image_cpu *)(uintptr_t)(IMAGE_SLOTS_VA + (u64)id * IMAGE_SLOT_SIZE);
}

/* Map vCPU id's slot onto IMAGE_SLOT_PAGES contiguous pages at pa (the
 * image_cpu page, the stack, the exception stack); the guard stays unmapped.
 * Only new mappings: nothing to flush. */
static void map_slot(u32 id, u64 pa, u64 cbit)
{
	u64 *pte = &tables.slots_pt[0][0] + (u64)id * (IMAGE_SLOT_SIZE / VEIL_PAGE_SIZE);
	u64 f = PTE_P | PTE_W | PTE_NX | (1ULL << cbit), i;

	pte[0] = pa | f;
	for (i = 1; i < IMAGE_SLOT_PAGES; i++)
		pte[IMAGE_SLOT_STACK / VEIL_PAGE_SIZE + i - 1] = (pa + i * VEIL_PAGE_SIZE) | f;
}

/* The vCPU's TSS (IST1 = its exception stack) and its GDT descriptor. */
static void setup_tss(struct image_cpu *cpu, u32 id)
{
	u64 base = (u64)(uintptr_t)cpu->tss, ist = (u64)(uintptr_t)cpu + IMAGE_SLOT_IST_TOP;
	u16 iomap = sizeof(cpu->tss);

	veil_memset(cpu->tss, 0, sizeof(cpu->tss));
	veil_st64(cpu->tss + 0x24, ist);
	veil_memcpy(cpu->tss + 0x66, &iomap, 2);
	gdt[IMAGE_TSS0 / 8 + 2 * id] = (sizeof(cpu->tss) - 1) | ((base & 0xFFFFFF) << 16) |
				       (0x89ULL << 40) | (((base >> 24) & 0xFF) << 56);
	gdt[IMAGE_TSS0 / 8 + 2 * id + 1] = base >> 32;
}

/* ---- GDT and IDT ---------------------------------------------------------------- */

static void build_descriptors(void)
{
	unsigned v;

	gdt[0] = 0;
	gdt[IMAGE_CS / 8] = 0x00AF9B000000FFFFULL; /* present, DPL0, 64-bit code */
	gdt[IMAGE_DS / 8] = 0x00CF93000000FFFFULL; /* present, DPL0, writable data */
	gdt[IMAGE_FS / 8] = 0x00CF93000000FFFFULL | ((u64)IMAGE_CANARY_VA << 16);
	for (v = 0; v < IMAGE_NR_VECTORS; v++) {
		u64 h = (u64)(uintptr_t)(image_vectors + 16 * v);
		u8 *g = idt[v];

		/* 64-bit interrupt gate (APM vol. 2, 4.8.4), DPL0, no IST. */
		veil_memset(g, 0, 16);
		g[0] = (u8)h;
		g[1] = (u8)(h >> 8);
		g[2] = IMAGE_CS;
		g[4] = (v == 8 || v == 12 || v == 14) ? 1 : 0; /* IST1: a broken stack */
		g[5] = 0x8E;
		g[6] = (u8)(h >> 16);
		g[7] = (u8)(h >> 24);
		veil_memcpy(g + 8, (const u8 *)&h + 4, 4);
	}
}

struct __attribute__((packed)) dtr {
	u16 limit;
	u64 base;
};

/* Switch to the image's descriptors and page tables. */
static void load_cpu_state(u64 cr3)
{
	struct dtr g = { sizeof(gdt) - 1, (u64)(uintptr_t)gdt };
	struct dtr i = { sizeof(idt) - 1, (u64)(uintptr_t)idt };

	__asm__ volatile("lgdt %0\n\t"
			 "lidt %1\n\t"
			 "pushq %2\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movl %3, %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "movl %%eax, %%ss\n\t"
			 "movq %4, %%cr3\n\t"
			 "movl %5, %%eax\n\t"
			 "movl %%eax, %%fs"
			 :
			 : "m"(g), "m"(i), "i"(IMAGE_CS), "i"(IMAGE_DS), "r"(cr3), "i"(IMAGE_FS)
			 : "rax", "memory");
}

/* ---- exceptions ------------------------------------------------------------------ */

static struct image_cpu *cpu_of_stack(const void *sp)
{
	return (struct image_cpu *)((uintptr_t)sp & ~(uintptr_t)(IMAGE_SLOT_SIZE - 1));
}

/* #VC for CPUID (GHCB spec 56421, 2.3.1): the four registers, one MSR
 * request each; the instruction is 2 bytes. The MSR protocol carries no
 * subleaf (ECX), so leaves with subleaves answer for subleaf 0; the monitor
 * itself asks only for leaves without. */
static bool vc_cpuid(struct image_frame *f)
{
	u32 r[4];
	unsigned i;

	for (i = 0; i < 4; i++)
		if (!cpuid_msr((u32)f->rax, i, &r[i]))
			return false;
	f->rax = r[0];
	f->rbx = r[1];
	f->rcx = r[2];
	f->rdx = r[3];
	f->rip += 2;
	return true;
}

/* Every vector: #VC for CPUID is served; anything else at VMPL0 is a bug or
 * an attack, so the CVM stops with the vector in the reason code. */
void image_exception(struct image_frame *f)
{
	struct image_cpu *cpu = cpu_of_stack(f);

	u64 cr2 = 0, guard = (u64)(uintptr_t)cpu + IMAGE_SLOT_GUARD;

	if (f->vector == 29 && f->error == SVM_EXIT_CPUID && vc_cpuid(f))
		return;
	if (f->vector == 14)
		__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	if (f->vector == 14 && cr2 >= guard && cr2 < guard + VEIL_PAGE_SIZE)
		veil_printf(&cpu->snp.be, "veil-monitor: VMPL0 stack overflow on vCPU %u\n",
			    cpu->snp.id);
	veil_printf(&cpu->snp.be,
		    "veil-monitor: exception %lu (error code 0x%lx) at rip 0x%lx on vCPU %u; "
		    "stopping the CVM\n",
		    (unsigned long)f->vector, (unsigned long)f->error, (unsigned long)f->rip,
		    cpu->snp.id);
	terminate(VEIL_TERM_IMAGE_EXCEPTION(f->vector));
}

/* ---- application processors ------------------------------------------------------ */

/* The VMPL0 VMSA of an AP: the state image_ap_start expects. */
static void build_ap_vmsa(u8 *v, const struct image_cpu *ap, u64 sev_features)
{
	u32 mxcsr = 0x1F80;

	veil_memset(v, 0, VEIL_PAGE_SIZE);
	veil_vmsa_seg(v, VMSA_CS, IMAGE_CS, 0x29B, 0xFFFFFFFF, 0);
	veil_vmsa_seg(v, VMSA_SS, IMAGE_DS, 0xC93, 0xFFFFFFFF, 0);
	veil_vmsa_seg(v, VMSA_DS, IMAGE_DS, 0xC93, 0xFFFFFFFF, 0);
	veil_vmsa_seg(v, VMSA_ES, IMAGE_DS, 0xC93, 0xFFFFFFFF, 0);
	veil_vmsa_seg(v, VMSA_FS, IMAGE_FS, 0xC93, 0xFFFFFFFF, IMAGE_CANARY_VA);
	veil_vmsa_seg(v, VMSA_GDTR, 0, 0, sizeof(gdt) - 1, (u64)(uintptr_t)gdt);
	veil_vmsa_seg(v, VMSA_IDTR, 0, 0, sizeof(idt) - 1, (u64)(uintptr_t)idt);
	veil_vmsa_seg(v, VMSA_TR, (u16)(IMAGE_TSS0 + 16 * ap->snp.id), 0x8B, sizeof(ap->tss) - 1,
		      (u64)(uintptr_t)ap->tss);
	v[VMSA_VMPL] = 0;
	veil_st64(v + VMSA_EFER, 0xD01 | VMSA_EFER_SVME); /* SCE, LME, LMA, NXE */
	veil_st64(v + VMSA_CR0, 0x80010033ULL);
	veil_st64(v + VMSA_CR4, 0x620);
	veil_st64(v + VMSA_CR3, image_pa(ap, tables.pml4));
	veil_st64(v + VMSA_RFLAGS, 2);
	veil_st64(v + VMSA_RIP, (u64)(uintptr_t)image_ap_start);
	veil_st64(v + VMSA_RSP, (u64)(uintptr_t)ap + IMAGE_SLOT_STACK_TOP);
	veil_st64(v + VMSA_RDI, (u64)(uintptr_t)ap);
	veil_st64(v + VMSA_PAT, 0x0007040600070406ULL);
	veil_st64(v + VMSA_DR6, 0xFFFF0FF0ULL);
	veil_st64(v + VMSA_DR7, 0x400);
	veil_st64(v + VMSA_XCR0, 1);
	veil_st64(v + VMSA_SEV_FEATURES, sev_features);
	veil_memcpy(v + VMSA_MXCSR, &mxcsr, 4);
}

/* Register a VMSA with the hypervisor (SNP AP Creation, 56421 4.1.9). */
static bool ap_create(struct image_cpu *cpu, u32 apic, u64 vmsa, u64 sev_features)
{
	u8 *g = cpu->snp.ghcb ? veil_map_shared(&cpu->snp.be, cpu->snp.ghcb, VEIL_PAGE_SIZE) : NULL;

	if (!g)
		return false;
	ghcb_clear(g);
	ghcb_set(g, GHCB_RAX, sev_features);
	ghcb_event_set(g, SVM_VMGEXIT_AP_CREATION,
		       SVM_VMGEXIT_AP_INFO1(SVM_VMGEXIT_AP_CREATE_ON_INIT, 0, apic), vmsa);
	snp_wrmsr(MSR_GHCB, cpu->snp.ghcb);
	snp_vmgexit();
	return (veil_ld64(g + GHCB_EXITINFO1) & 0xFFFFFFFFULL) == 0;
}

/*
 * Give vCPU `id` its VMPL0: a stack (with its struct image_cpu) and a VMSA
 * in monitor memory, handed to VMSA ownership (VMSA bit set once VMPL1-3
 * have no access and the TLBs are flushed), registered for when the OS
 * starts that vCPU and first asks for VMPL0.
 */
static int start_ap(struct image_cpu *cpu, struct veil_monitor *mon, u32 id, u64 sev_features)
{
	struct veil_backend *be = &cpu->snp.be;
	u64 pages = veil_monitor_alloc(mon, IMAGE_SLOT_PAGES, VEIL_PAGE_SIZE);
	u64 vmsa = veil_monitor_alloc(mon, 1, VEIL_PAGE_SIZE);
	struct image_cpu *ap = slot_cpu(id);
	u8 *v;

	if (vmsa && veil_aligned(vmsa, VEIL_HUGE_SIZE)) /* no VMSA on a 2 MiB boundary */
		vmsa = veil_monitor_alloc(mon, 1, VEIL_PAGE_SIZE);
	v = vmsa ? veil_map(be, vmsa, VEIL_PAGE_SIZE) : NULL;
	if (!pages || !v || id >= VEIL_MAX_VCPUS)
		return VEIL_ENOMEM;
	map_slot(id, pages, cpu->cbit);
	veil_memset(ap, 0, VEIL_PAGE_SIZE);
	snp_vcpu_init(&ap->snp, id, cpu->snp.mem_size);
	ap->mon = mon;
	ap->image_gpa = cpu->image_gpa;
	ap->info_gpa = cpu->info_gpa;
	ap->cbit = cpu->cbit;
	setup_tss(ap, id);
	build_ap_vmsa(v, ap, sev_features);
	/* The monitor's records say VMSA too, as for the OS's VMSAs: nothing
	 * re-applies monitor permissions over the VMSA bit. */
	if (veil_mem_transfer(&mon->mem, be, vmsa, VEIL_PAGE_SIZE, VEIL_OWNER_MONITOR,
			      VEIL_OWNER_VMSA, 0) ||
	    !ap_create(cpu, id, vmsa, sev_features))
		return VEIL_EHW;
	return VEIL_OK;
}

/* ---- boot ----------------------------------------------------------------------- */

/* The launch information as far as the boot needs it before the monitor
 * maps anything (veil/launch.h): the image in guest memory at mon_base. */
static bool info_ok(const struct veil_launch_info *in)
{
	u64 span = (u64)(__image_end - __image_start);

	return in->magic == VEIL_LAUNCH_MAGIC && in->version == VEIL_LAUNCH_VERSION &&
	       in->size == sizeof(*in) && in->mem_size && in->mem_size <= ((u64)MAX_GIB << 30) &&
	       veil_aligned(in->mon_base, VEIL_PAGE_SIZE) && span <= VEIL_IMAGE_MAX &&
	       in->mon_used >= span && in->mon_used <= in->mon_size &&
	       veil_range_within(in->mon_base, in->mon_size, 0, in->mem_size);
}

/* The loader's pages of a launch area, within what the loader placed. */
static const void *loader_page(const struct veil_launch_info *in, u64 gpa)
{
	if (!veil_aligned(gpa, VEIL_PAGE_SIZE) ||
	    !veil_range_within(gpa, VEIL_PAGE_SIZE, in->mon_base, in->mon_base + in->mon_used))
		return NULL;
	return (const void *)(uintptr_t)(SNP_DIRECT_MAP + gpa);
}

/* The loader's memory map (unmeasured: the host wrote it) must give all the
 * memory the file was built for as RAM, or the monitor region is not there. */
static bool memmap_ok(const struct veil_launch_info *in)
{
	const struct veil_param_mem *e = loader_page(in, in->memmap_gpa);
	unsigned i;

	for (i = 0; e && i < VEIL_PARAM_MEMMAP_MAX && e[i].nr_pages; i++)
		if (e[i].type == 0 && e[i].first_page == 0 &&
		    e[i].nr_pages >= in->mem_size / VEIL_PAGE_SIZE)
			return true;
	return false;
}

/*
 * The monitor's launch parameters from the measured launch information and
 * the loader's parameter pages; false (with a console line) if they cannot
 * be used. The vCPU count is the loader's (the host starts that many), the
 * rest is measured.
 */
static bool launch_of(struct image_cpu *cpu, const struct veil_launch_info *in,
		      struct veil_launch *l)
{
	const struct veil_launch_image *im = &in->images[0];
	const u8 *params = loader_page(in, in->params_gpa);
	u32 vcpus = 0, i;

	if (params)
		veil_memcpy(&vcpus, params + VEIL_PARAM_VP_COUNT_OFF, 4);
	if (!vcpus || vcpus > VEIL_MAX_VCPUS || !memmap_ok(in) || !in->nr_images ||
	    in->nr_images > VEIL_LAUNCH_MAX_IMAGES || im->nr_segs > VEIL_MAX_KSEGS) {
		veil_printf(&cpu->snp.be,
			    "veil-monitor: the loader's parameters are unusable (vCPU count %u, "
			    "or a memory map without %lu MiB of RAM from 0)\n",
			    vcpus, (unsigned long)(in->mem_size >> 20));
		return false;
	}
	veil_memset(l, 0, sizeof(*l));
	l->mem_size = in->mem_size;
	l->mon_base = in->mon_base;
	l->mon_size = in->mon_size;
	l->mon_used = in->mon_used;
	l->nr_vcpus = vcpus;
	l->kernel_entry = im->entry;
	l->kernel_start = im->start;
	l->kernel_end = im->end;
	l->secrets_gpa = in->secrets_gpa;
	l->sev_features = in->sev_features;
	l->log_size = in->log_size;
	l->log_domain = in->log_domain;
	l->nr_ksegs = im->nr_segs;
	for (i = 0; i < im->nr_segs; i++)
		l->ksegs[i] = (struct veil_kseg){ .gpa = im->segs[i].gpa,
						  .len = im->segs[i].len,
						  .flags = im->segs[i].flags };
	veil_memcpy(l->cmdline, in->cmdline, sizeof(l->cmdline));
	l->cmdline[sizeof(l->cmdline) - 1] = 0;
	l->os_boot = in->os_boot == VEIL_LAUNCH_OS_LINUX ? VEIL_OS_BOOT_LINUX : VEIL_OS_BOOT_VEIL;
	l->os_entry = in->os_entry;
	return true;
}

/* CPUID leaf 1 with the instruction itself: at VMPL0 it raises #VC, which
 * image_exception() serves through the GHCB MSR protocol. */
static unsigned cpu_family(void)
{
	u32 a = 1, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return ((a >> 8) & 0xF) + ((a >> 20) & 0xFF);
}

/* A console before the monitor has a GHCB: the loader's shared page. */
static void early_console(struct image_cpu *cpu, u64 gpa)
{
	u64 resp;

	if (!gpa || (gpa & 0xFFF) || gpa >= cpu->snp.mem_size)
		return;
	/* Never validated, so only the hypervisor's side changes: to shared. */
	resp = snp_msr_protocol(GHCB_MSR_PSC(gpa >> 12, GHCB_MSR_PSC_SHARED));
	if (resp != GHCB_MSR_PSC_RESP)
		return;
	resp = snp_msr_protocol(GHCB_MSR_REGISTER(gpa >> GHCB_MSR_DATA_SHIFT));
	if (resp == (GHCB_MSR_REGISTER_RESP | gpa))
		veil_ghcb_msr_write(&cpu->snp.be, gpa);
}

/*
 * First part on the boot vCPU, on its stack pages through the image mapping:
 * check the parameters, find the C-bit, build and load the page tables,
 * GDT, IDT and TSS. Returns the top of its stack in its slot (entry.S).
 */
u64 image_boot_bsp(u64 info_gpa)
{
	struct image_cpu *boot = (struct image_cpu *)image_bsp_slot[0], *cpu = slot_cpu(0);
	const struct veil_launch_info *in = (const void *)(uintptr_t)info_gpa; /* launch map */
	u64 mem_size;
	u32 ebx = 0;

	if (!veil_aligned(info_gpa, VEIL_PAGE_SIZE) || !info_ok(in))
		terminate(VEIL_TERM_IMAGE_PARAMS);
	mem_size = in->mem_size;
	boot->image_gpa = in->mon_base;
	/* CPUID 0x8000001F EBX[5:0]: the C-bit position (APM vol. 2, 15.34.1). */
	if (!cpuid_msr(0x8000001F, 1, &ebx) || (ebx & 0x3F) < 32 || (ebx & 0x3F) > 51)
		terminate(VEIL_TERM_IMAGE_PARAMS);
	veil_st64(canary_page + 0x28, snp_canary());
	build_tables(boot, mem_size, ebx & 0x3F);
	map_slot(0, image_pa(boot, image_bsp_slot), ebx & 0x3F);
	build_descriptors();
	load_cpu_state(image_pa(boot, tables.pml4));
	/* The launch map is gone, and the slot maps the same pages as `boot`:
	 * from here on, the slot's addresses. */
	snp_vcpu_init(&cpu->snp, 0, mem_size);
	cpu->info_gpa = info_gpa;
	cpu->cbit = ebx & 0x3F;
	setup_tss(cpu, 0);
	__asm__ volatile("ltr %w0" : : "r"((u16)IMAGE_TSS0) : "memory");
	return (u64)(uintptr_t)cpu + IMAGE_SLOT_STACK_TOP;
}

/* The rest, on the slot stack: the monitor, the APs' VMPL0s, the run loop. */
void image_main_bsp(void)
{
	struct image_cpu *cpu = slot_cpu(0);
	const struct veil_launch_info *in =
		(const void *)(uintptr_t)(SNP_DIRECT_MAP + cpu->info_gpa);
	struct veil_launch l;
	struct veil_monitor *mon;
	u32 id;

	early_console(cpu, in->console_ghcb);
	veil_printf(&cpu->snp.be, "veil-monitor: VMPL0 image at 0x%lx, C-bit %u, CPU family %xh\n",
		    (unsigned long)cpu->image_gpa, cpu->cbit, cpu_family());
	if (!launch_of(cpu, in, &l))
		terminate(VEIL_TERM_IMAGE_PARAMS);
	mon = veil_monitor_boot(&l, &cpu->snp.be);
	if (!mon)
		terminate(VEIL_TERM_MONITOR);
	cpu->mon = mon;
	for (id = 1; id < l.nr_vcpus; id++) {
		if (start_ap(cpu, mon, id, l.sev_features)) {
			veil_printf(&cpu->snp.be, "veil-monitor: cannot prepare vCPU %u\n", id);
			terminate(VEIL_TERM_MONITOR);
		}
	}
	veil_monitor_main(mon);
	terminate(VEIL_TERM_MONITOR);
}

void image_boot_ap(struct image_cpu *cpu)
{
	veil_monitor_enter_ap(cpu->mon, cpu->snp.id, &cpu->snp.be);
	terminate(VEIL_TERM_MONITOR);
}
