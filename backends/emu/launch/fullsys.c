/* SPDX-License-Identifier: MIT */
/*
 * fullsys.c - image mode (`veil-emu run --monitor FILE`): the model runs the
 * VMPL0 image `veil-monitor` (backends/snp) as its own guest code, launched
 * the way SNP launches an SVSM, by the launch contract of
 * guest/include/veil/launch.h (the one an IGVM file made by veil-igvm follows
 * too): the monitor region assigned and validated with no VMPL1-3 access, the
 * image's segments, the launch information, the loader's parameter pages and
 * launch page tables in it, and the boot vCPU started at VMPL0 from a launch
 * VMSA with RDI = the launch information. From then on the monitor reaches the model only
 * through the instructions (RMPADJUST, PVALIDATE, VMGEXIT, the GHCB MSR), as
 * on hardware; everything above VMPL0 is unchanged.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <veil/boot.h>
#include <veil/launch.h>
#include <veil/monitor.h>

#include "../snp/cpu.h"
#include "../snp/image.h"
#include "emu_run.h"
#include "machine.h"

/* A shared page for the image's first console lines: below the OS's boot
 * area, never offered to the OS and never assigned at launch. */
#define CONSOLE_GHCB (VEIL_BOOT_INFO - 0x1000)

struct emu_image_file {
	uint8_t *buf;
	size_t len;
	uint64_t entry, span; /* span: bytes from VEIL_IMAGE_VA, page-rounded */
};

static int bad(struct emu_exit *out, const char *path, const char *why)
{
	snprintf(out->message, sizeof(out->message), "monitor image %.60s: %.70s", path, why);
	return -1;
}

static int read_file(const char *path, struct emu_image_file *f)
{
	FILE *fp = fopen(path, "rb");
	long n;

	if (!fp)
		return -1;
	if (fseek(fp, 0, SEEK_END) || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) ||
	    !(f->buf = malloc(n ? (size_t)n : 1)) || fread(f->buf, 1, (size_t)n, fp) != (size_t)n) {
		fclose(fp);
		return -1;
	}
	f->len = (size_t)n;
	fclose(fp);
	return 0;
}

/* The PT_LOAD headers of an ELF64 x86-64 executable linked at VEIL_IMAGE_VA. */
static const char *check_elf(struct emu_image_file *f, const Elf64_Phdr **ph, unsigned *nph)
{
	const Elf64_Ehdr *e = (const Elf64_Ehdr *)f->buf;
	unsigned i;

	if (f->len < sizeof(*e) || memcmp(e->e_ident, ELFMAG, SELFMAG) ||
	    e->e_ident[EI_CLASS] != ELFCLASS64 || e->e_ident[EI_DATA] != ELFDATA2LSB ||
	    e->e_machine != EM_X86_64 || e->e_type != ET_EXEC)
		return "not an ELF64 x86-64 executable";
	if (e->e_phentsize != sizeof(Elf64_Phdr) || !e->e_phnum || e->e_phoff > f->len ||
	    (uint64_t)e->e_phnum * sizeof(Elf64_Phdr) > f->len - e->e_phoff)
		return "bad program headers";
	*ph = (const Elf64_Phdr *)(f->buf + e->e_phoff);
	*nph = e->e_phnum;
	f->span = 0;
	for (i = 0; i < *nph; i++) {
		const Elf64_Phdr *p = &(*ph)[i];

		if (p->p_type != PT_LOAD)
			continue;
		if (p->p_vaddr < VEIL_IMAGE_VA || p->p_memsz > VEIL_IMAGE_MAX ||
		    p->p_vaddr - VEIL_IMAGE_VA > VEIL_IMAGE_MAX - p->p_memsz)
			return "a segment lies outside the image range (not linked at VEIL_IMAGE_VA?)";
		if (p->p_filesz > p->p_memsz || p->p_offset > f->len ||
		    p->p_filesz > f->len - p->p_offset)
			return "a segment lies outside the file";
		if (p->p_vaddr + p->p_memsz - VEIL_IMAGE_VA > f->span)
			f->span = p->p_vaddr + p->p_memsz - VEIL_IMAGE_VA;
	}
	f->span = (f->span + 0xFFF) & ~0xFFFULL;
	f->entry = e->e_entry;
	if (!f->span || e->e_entry < VEIL_IMAGE_VA || e->e_entry - VEIL_IMAGE_VA >= f->span)
		return "no loadable segment holds the entry point";
	return NULL;
}

/* The address of symbol `name` in the image's symbol table, or 0. */
static uint64_t find_symbol(const struct emu_image_file *f, const char *name)
{
	const Elf64_Ehdr *e = (const Elf64_Ehdr *)f->buf;
	const Elf64_Shdr *sh;
	unsigned i;

	if (e->e_shentsize != sizeof(*sh) || e->e_shoff > f->len ||
	    (uint64_t)e->e_shnum * sizeof(*sh) > f->len - e->e_shoff)
		return 0;
	sh = (const Elf64_Shdr *)(f->buf + e->e_shoff);
	for (i = 0; i < e->e_shnum; i++) {
		const Elf64_Shdr *st = &sh[i], *str;

		if (st->sh_type != SHT_SYMTAB || st->sh_link >= e->e_shnum ||
		    st->sh_offset > f->len || st->sh_size > f->len - st->sh_offset)
			continue;
		str = &sh[st->sh_link];
		if (str->sh_offset > f->len || str->sh_size > f->len - str->sh_offset)
			continue;
		for (uint64_t k = 0; k < st->sh_size / sizeof(Elf64_Sym); k++) {
			const Elf64_Sym *y = (const Elf64_Sym *)(f->buf + st->sh_offset) + k;

			if (y->st_name < str->sh_size &&
			    !strncmp((const char *)f->buf + str->sh_offset + y->st_name, name,
				     str->sh_size - y->st_name))
				return y->st_value;
		}
	}
	return 0;
}

/* Copy the segments to base + (p_vaddr - VEIL_IMAGE_VA); the rest is zero. */
static void place(struct emu_machine *m, const struct emu_image_file *f, const Elf64_Phdr *ph,
		  unsigned nph, uint64_t base)
{
	unsigned i;

	memset(emu_gpa_ptr(m, base, f->span), 0, f->span);
	for (i = 0; i < nph; i++)
		if (ph[i].p_type == PT_LOAD)
			memcpy(emu_gpa_ptr(m, base + ph[i].p_vaddr - VEIL_IMAGE_VA, ph[i].p_filesz),
			       f->buf + ph[i].p_offset, ph[i].p_filesz);
}

/*
 * Launch page tables at `at`: guest memory 1:1 with 2 MiB pages and the
 * image at VEIL_IMAGE_VA with 4 KiB pages, all C=1. Returns the PML4's GPA;
 * *end is the first byte after the tables.
 */
static uint64_t launch_tables(struct emu_machine *m, uint64_t at, uint64_t image, uint64_t span,
			      uint64_t *end)
{
	uint64_t pml4 = at, pdpt = at + 0x1000, hi_pdpt = at + 0x2000, hi_pd = at + 0x3000;
	uint64_t hi_pt = at + 0x4000, pd = at + 0x5000, f = PTE_P | PTE_W | PTE_A, gib, i;
	uint64_t nr_gib = (m->mem_size + (1ULL << 30) - 1) >> 30;

	memset(emu_gpa_ptr(m, at, 0x5000 + nr_gib * 0x1000), 0, 0x5000 + nr_gib * 0x1000);
	m_wr64(m, pml4, pdpt | f | PTE_C);
	for (gib = 0; gib < nr_gib; gib++) {
		uint64_t d = pd + gib * 0x1000;

		m_wr64(m, pdpt + gib * 8, d | f | PTE_C);
		for (i = 0; i < 512 && (gib << 30) + (i << 21) < m->mem_size; i++)
			m_wr64(m, d + i * 8,
			       ((gib << 30) + (i << 21)) | f | PTE_D | PTE_PS | PTE_C);
	}
	m_wr64(m, pml4 + ((VEIL_IMAGE_VA >> 39) & 511) * 8, hi_pdpt | f | PTE_C);
	m_wr64(m, hi_pdpt + ((VEIL_IMAGE_VA >> 30) & 511) * 8, hi_pd | f | PTE_C);
	m_wr64(m, hi_pd + ((VEIL_IMAGE_VA >> 21) & 511) * 8, hi_pt | f | PTE_C);
	for (i = 0; i < span / 0x1000; i++)
		m_wr64(m, hi_pt + i * 8, (image + i * 0x1000) | f | PTE_D | PTE_C);
	*end = pd + nr_gib * 0x1000;
	return pml4;
}

static void seg(uint8_t *vmsa, unsigned off, uint16_t sel, uint16_t attr, uint32_t limit)
{
	memcpy(vmsa + off, &sel, 2);
	memcpy(vmsa + off + 2, &attr, 2);
	memcpy(vmsa + off + 4, &limit, 4);
	st64(vmsa + off + 8, 0);
}

/* The launch VMSA (outside guest memory, as the launch VMSA of an IGVM
 * launch is): 64-bit, CPL0, VMPL0, the image's entry, RDI = the launch
 * information (veil/launch.h). */
static void launch_vmsa(uint8_t *v, uint64_t cr3, uint64_t rip, uint64_t info)
{
	uint32_t mxcsr = 0x1F80;

	memset(v, 0, 0x1000);
	seg(v, VMSA_CS, 0x08, 0x29B, 0xFFFFFFFF);
	seg(v, VMSA_SS, 0x10, 0xC93, 0xFFFFFFFF);
	seg(v, VMSA_DS, 0x10, 0xC93, 0xFFFFFFFF);
	seg(v, VMSA_ES, 0x10, 0xC93, 0xFFFFFFFF);
	v[VMSA_VMPL] = 0;
	st64(v + VMSA_EFER, EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME);
	st64(v + VMSA_CR0, 0x80010033ULL);
	st64(v + VMSA_CR4, 0x620);
	st64(v + VMSA_CR3, cr3);
	st64(v + VMSA_RFLAGS, 2);
	st64(v + VMSA_RIP, rip);
	st64(v + VMSA_RDI, info);
	st64(v + VMSA_PAT, 0x0007040600070406ULL);
	st64(v + VMSA_DR6, 0xFFFF0FF0ULL);
	st64(v + VMSA_DR7, 0x400);
	st64(v + VMSA_SEV_FEATURES, 1);
	memcpy(v + VMSA_MXCSR, &mxcsr, 4);
}

/* The launch information (veil/launch.h) of the launch emu_launch made. */
static void launch_info(struct veil_launch_info *in, const struct veil_launch *l, uint64_t area,
			uint64_t used, uint64_t entry, uint64_t cr3)
{
	memset(in, 0, sizeof(*in));
	in->magic = VEIL_LAUNCH_MAGIC;
	in->version = VEIL_LAUNCH_VERSION;
	in->size = sizeof(*in);
	in->mem_size = l->mem_size;
	in->nr_vcpus = l->nr_vcpus;
	in->cbit = 51;
	in->mon_base = l->mon_base;
	in->mon_size = l->mon_size;
	in->mon_used = used;
	in->mon_entry = entry;
	in->params_gpa = area + VEIL_LAUNCH_PARAMS_OFF;
	in->memmap_gpa = area + VEIL_LAUNCH_MEMMAP_OFF;
	in->secrets_gpa = l->secrets_gpa; /* where emu_launch's AMD-SP wrote it */
	in->pt_gpa = cr3;
	in->nr_images = 1;
	in->images[0].entry = l->kernel_entry;
	in->images[0].start = l->kernel_start;
	in->images[0].end = l->kernel_end;
	in->images[0].nr_segs = l->nr_ksegs;
	for (unsigned i = 0; i < l->nr_ksegs && i < VEIL_LAUNCH_MAX_SEGS; i++) {
		in->images[0].segs[i].gpa = l->ksegs[i].gpa;
		in->images[0].segs[i].len = l->ksegs[i].len;
		in->images[0].segs[i].flags = l->ksegs[i].flags;
	}
	memcpy(in->cmdline, l->cmdline, sizeof(in->cmdline));
	in->console_ghcb = CONSOLE_GHCB;
	in->log_size = l->log_size;
	in->log_domain = l->log_domain;
	in->sev_features = l->sev_features;
	in->os_boot = l->os_boot == VEIL_OS_BOOT_LINUX ? VEIL_LAUNCH_OS_LINUX : VEIL_LAUNCH_OS_VEIL;
	in->os_entry = l->os_entry;
}

/* What a loader writes into the parameter pages: the vCPU count, and all of
 * guest memory as one RAM range. */
static void loader_params(struct emu_machine *m, uint64_t area)
{
	uint32_t n = m->cfg.nr_vcpus;
	struct veil_param_mem ram = { 0, m->mem_size >> 12, 0, 0, 0 };

	memcpy(emu_gpa_ptr(m, area + VEIL_LAUNCH_PARAMS_OFF + VEIL_PARAM_VP_COUNT_OFF, 4), &n, 4);
	memcpy(emu_gpa_ptr(m, area + VEIL_LAUNCH_MEMMAP_OFF + VEIL_PARAM_MEMMAP_OFF, sizeof(ram)),
	       &ram, sizeof(ram));
}

/* Boot vCPU 0 at VMPL0 from a launch VMSA (kept outside guest memory, as
 * the firmware keeps an IGVM launch VMSA). */
int emu_image_boot(struct emu_machine *m, const uint8_t *vmsa)
{
	uint64_t vmsa_pa = m->priv_base + PRIV_VMSA_BOOT;
	struct emu_vcpu *v = &m->vcpus[0];
	struct emu_inst *in;

	memcpy(m_ptr(m, vmsa_pa, 0x1000), vmsa, 0x1000);
	v->vmsa_gpa[0] = vmsa_pa;
	v->vmpl = 0;
	v->state = VCPU_RUNNABLE;
	m->cur = 0;
	in = inst_get(m, v, 0);
	return !in || inst_load(in, m_ptr(m, vmsa_pa, 0x1000)) ? -1 : 0;
}

static int launch(struct emu_machine *m, const struct emu_run_params *p, struct emu_image_file *f,
		  const char *path, struct emu_exit *out)
{
	struct veil_launch *l;
	struct veil_launch_info *in;
	const Elf64_Phdr *ph;
	const char *why;
	unsigned nph;
	uint64_t base, area, cr3, end;
	uint8_t vmsa[0x1000];

	if ((why = check_elf(f, &ph, &nph)))
		return bad(out, path, why);
	/* The monitor's trace events (SVSM calls, violations) for --trace. */
	m->trace_probe = find_symbol(f, "snp_trace_point");
	l = calloc(1, sizeof(*l));
	in = calloc(1, sizeof(*in));
	if (!l || !in || emu_launch(m, p, l)) {
		if (l && in)
			*out = m->exit;
		free(l);
		free(in);
		return l && in ? -1 : bad(out, path, "out of memory");
	}
	base = l->mon_base;
	area = base + f->span;
	memset(emu_gpa_ptr(m, area, VEIL_LAUNCH_PT_OFF), 0, VEIL_LAUNCH_PT_OFF);
	cr3 = launch_tables(m, area + VEIL_LAUNCH_PT_OFF, base, f->span, &end);
	if (end - base >= VEIL_MONITOR_SIZE / 2) {
		free(l);
		free(in);
		return bad(out, path, "too large for the monitor region");
	}
	place(m, f, ph, nph, base);
	launch_info(in, l, area, end - base, f->entry, cr3);
	memcpy(emu_gpa_ptr(m, area + VEIL_LAUNCH_INFO_OFF, sizeof(*in)), in, sizeof(*in));
	loader_params(m, area);
	free(l);
	free(in);
	launch_vmsa(vmsa, cr3, f->entry, area + VEIL_LAUNCH_INFO_OFF);
	if (emu_image_boot(m, vmsa))
		return bad(out, path, "cannot load the launch VMSA");
	return 0;
}

int emu_run_image(struct emu_machine *m, const struct emu_run_params *p, const char *image,
		  struct emu_exit *out)
{
	struct emu_image_file f = { 0 };
	int rc;

	memset(&m->exit, 0, sizeof(m->exit));
	m->exit.vector = -1;
	if (read_file(image, &f)) {
		free(f.buf);
		snprintf(out->message, sizeof(out->message), "cannot read monitor image %.80s: %s",
			 image, strerror(errno));
		return -1;
	}
	rc = launch(m, p, &f, image, out);
	free(f.buf);
	if (rc)
		return -1;
	m->native0 = false; /* VMPL0 is guest code: the image */
	emu_run_loop(m);
	*out = m->exit;
	return 0;
}

uint64_t emu_image_share(const char *image, uint64_t mem_size, unsigned vcpus)
{
	struct emu_image_file f = { 0 };
	const Elf64_Phdr *ph;
	unsigned nph;
	uint64_t n = 0;

	/* The segments, the launch area (veil/launch.h: its pages and the launch
	 * tables), and per AP its slot (cpu.h) and its VMPL0 VMSA, both taken
	 * from monitor memory by start_ap (backends/snp/image.c); the native
	 * monitor keeps VMPL0 VMSAs outside guest memory. */
	if (!read_file(image, &f) && !check_elf(&f, &ph, &nph))
		n = f.span + VEIL_LAUNCH_AREA_SIZE(mem_size) +
		    (uint64_t)(vcpus - 1) * (IMAGE_SLOT_PAGES + 1) * 0x1000;
	free(f.buf);
	return n;
}
