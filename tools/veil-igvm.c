/* SPDX-License-Identifier: MIT */
/*
 * veil-igvm - build, dump and measure the IGVM file that launches Veil on an
 * SEV-SNP host (QEMU 10.1+ with -object igvm-cfg).
 *
 *   veil-igvm build --monitor ELF --os ELF [--os ELF]... [options] -o FILE
 *   veil-igvm dump FILE
 *   veil-igvm measure FILE [--id-key PEM [--family-id HEX] [--image-id HEX] [--svn N]]
 *
 * The file layout is the launch contract of guest/include/veil/launch.h; the
 * format and the launch walk are in backends/emu/launch/igvm.h; the digest is
 * the SNP_LAUNCH_UPDATE PAGE_INFO chain of backends/emu/launch/measure.h.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <veil/boot.h>
#include <veil/launch.h>
#include <veil/svsm.h>

#include "hostio.h"
#include "igvm.h"
#include "igvm_tool.h"
#include "measure.h"

static const char usage[] =
	"usage: veil-igvm build --monitor ELF --os ELF [--os ELF]... [--mem MiB] [--vcpus N]\n"
	"                       [--policy HEX] [--cbit N] [--cmdline STR] [--log-size BYTES]\n"
	"                       [--id-key PEM [--family-id HEX] [--image-id HEX] [--svn N]]\n"
	"                       -o FILE\n"
	"       veil-igvm dump FILE\n"
	"       veil-igvm measure FILE [--id-key PEM [--family-id HEX] [--image-id HEX]\n"
	"                              [--svn N]]\n"
	"Builds, prints and measures the IGVM file that launches Veil on an SEV-SNP host.\n"
	"build: the monitor (the VMPL0 image build/backends/snp/veil-monitor, linked at\n"
	"  0xFFFFFFFF80000000, placed at the base of the monitor region, the top 8 MiB of\n"
	"  memory, every page of which the file lists), the OS image(s) (ELF64,\n"
	"  guest/include/veil/boot.h; the first one boots), the launch information page,\n"
	"  the parameter pages (vCPU count and memory map, written by the loader), the\n"
	"  CPUID and secrets pages, the launch page tables, and one VMSA at\n"
	"  0xFFFFFFFFF000 (measured last) with RIP at the monitor's entry and RDI at the\n"
	"  launch information (the contract: guest/include/veil/launch.h).\n"
	"  --mem MiB     guest memory the file is built for, 16 to 16384 (default 64)\n"
	"  --vcpus N     vCPUs, 1 to 64 (default 1)\n"
	"  --policy HEX  SNP guest policy (default 0x30000: SMT allowed, bit 17 set)\n"
	"  --cbit N      C-bit position for the launch page tables (default 51, as on\n"
	"                EPYC Milan and Genoa)\n"
	"  --cmdline STR the OS command line, measured (up to 255 characters)\n"
	"  --log-size BYTES  room for secure log records, 1 to 4194304 (default: the\n"
	"                monitor's, 256 KiB)\n"
	"  --id-key PEM  also embed an SNP ID block signed with this ECDSA P-384 key\n"
	"dump: prints every header of FILE, one per line, then (for a file made by build)\n"
	"  what it launches, from its launch information: lines starting with 'veil '.\n"
	"measure: prints the launch digest (96 hex digits) the AMD-SP computes for FILE\n"
	"  (SNP firmware ABI 56860, SNP_LAUNCH_UPDATE). With --id-key it also prints\n"
	"  'id-block: BASE64', 'id-auth: BASE64' (for QEMU's sev-snp-guest id-block= and\n"
	"  id-auth=) and 'id-key-digest: HEX' (SHA-384 of the public key, as in the\n"
	"  attestation report).\n"
	"Exit status: 0 ok, 1 the file or an image is invalid, 2 bad usage.\n";

int igvm_read_file(const char *path, uint8_t **buf, size_t *len)
{
	char err[256];

	/* One reader for every program (hostio.h): FIFOs, directories and empty
	 * files are refused, errno says why to the caller's message. */
	if (hio_read(path, 0, buf, len, err, sizeof(err))) {
		if (!errno)
			errno = EINVAL;
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return igvm_fail(2, "missing command (try veil-igvm --help)");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		hio_print_version("veil-igvm");
		return 0;
	}
	if (argv[1][0] == '-')
		return igvm_fail(2, "unknown option '%s' (see veil-igvm --help)", argv[1]);
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			return 0;
		}
	if (!strcmp(argv[1], "build"))
		return igvm_cmd_build(argc - 2, argv + 2);
	if (!strcmp(argv[1], "dump"))
		return igvm_cmd_dump(argc - 2, argv + 2);
	if (!strcmp(argv[1], "measure"))
		return igvm_cmd_measure(argc - 2, argv + 2);
	return igvm_fail(2, "unknown command '%s' (try veil-igvm --help)", argv[1]);
}

/* ---- build ---------------------------------------------------------------- */

enum {
	PG_NORMAL,
	PG_SECRETS,
	PG_CPUID
};

struct page {
	uint64_t gpa;
	uint8_t *data; /* 4 KiB */
	unsigned kind;
	unsigned owner; /* which image or launch part placed it */
};

struct build {
	uint64_t mem, policy, mon_base, area, span, log_size;
	unsigned vcpus, cbit, owner;
	const char *cmdline;
	struct page *pages;
	size_t nr, cap;
	struct veil_launch_info info;
	uint8_t vmsa[4096];
	struct igvm_id_opts id;
};

static uint8_t *page_at(struct build *b, uint64_t gpa, unsigned kind)
{
	for (size_t i = 0; i < b->nr; i++) {
		if (b->pages[i].gpa != gpa)
			continue;
		if (b->pages[i].owner != b->owner) {
			igvm_fail(-1, "page %#" PRIx64 " is placed by two images", gpa);
			return NULL;
		}
		return b->pages[i].data;
	}
	if (b->nr == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 256;
		if (!(b->pages = realloc(b->pages, b->cap * sizeof(*b->pages))))
			return NULL;
	}
	b->pages[b->nr] = (struct page){
		.gpa = gpa, .data = calloc(1, 4096), .kind = kind, .owner = b->owner
	};
	return b->pages[b->nr++].data;
}

static bool page_exists(const struct build *b, uint64_t gpa)
{
	for (size_t i = 0; i < b->nr; i++)
		if (b->pages[i].gpa == gpa)
			return true;
	return false;
}

struct seg {
	uint64_t paddr, memsz, filesz, off;
	uint32_t flags;
};

/* PT_LOAD segments of an x86-64 ELF64 executable, checked like hostile input. */
static int elf_segs(const char *path, const uint8_t *img, size_t len, struct seg *segs,
		    unsigned *nr, uint64_t *entry)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;

	*nr = 0;
	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64)
		return igvm_fail(-1, "%s: not an x86-64 ELF64 file", path);
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > len ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff)
		return igvm_fail(-1, "%s: program headers out of the file", path);
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff) + i;

		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		if (ph->p_filesz > ph->p_memsz || ph->p_offset > len ||
		    ph->p_filesz > len - ph->p_offset || ph->p_paddr + ph->p_memsz < ph->p_paddr)
			return igvm_fail(-1, "%s: a segment lies outside the file", path);
		if (*nr == VEIL_LAUNCH_MAX_SEGS)
			return igvm_fail(-1, "%s: more than %d loadable segments", path,
					 VEIL_LAUNCH_MAX_SEGS);
		segs[(*nr)++] = (struct seg){ ph->p_paddr, ph->p_memsz, ph->p_filesz, ph->p_offset,
					      ph->p_flags };
	}
	if (!*nr)
		return igvm_fail(-1, "%s: no loadable segment", path);
	*entry = eh->e_entry;
	return 0;
}

/* Place segments at their physical addresses inside [lo, hi). */
static int place_segs(struct build *b, const char *path, const uint8_t *img, const struct seg *s,
		      unsigned nr, uint64_t lo, uint64_t hi)
{
	for (unsigned i = 0; i < nr; i++) {
		if (s[i].paddr < lo || s[i].paddr + s[i].memsz > hi)
			return igvm_fail(-1,
					 "%s: segment at %#" PRIx64 "+%#" PRIx64
					 " is outside [%#" PRIx64 ", %#" PRIx64 ")",
					 path, s[i].paddr, s[i].memsz, lo, hi);
		for (uint64_t a = s[i].paddr & ~0xFFFULL; a < s[i].paddr + s[i].memsz; a += 4096) {
			uint8_t *pg = page_at(b, a, PG_NORMAL);
			uint64_t from = a > s[i].paddr ? a : s[i].paddr;
			uint64_t to = a + 4096 < s[i].paddr + s[i].filesz ?
					      a + 4096 :
					      s[i].paddr + s[i].filesz;

			if (!pg)
				return -1;
			if (to > from)
				memcpy(pg + (from - a), img + s[i].off + (from - s[i].paddr),
				       to - from);
		}
	}
	return 0;
}

/*
 * The VMPL0 image: linked at VEIL_IMAGE_VA, its segments go to
 * mon_base + (p_vaddr - VEIL_IMAGE_VA) (veil/launch.h); elf_segs gave
 * p_paddr, which the image's linker script leaves equal to p_vaddr.
 */
static int place_monitor(struct build *b, const char *path, const uint8_t *img, struct seg *s,
			 unsigned nr, uint64_t entry)
{
	b->span = 0;
	for (unsigned i = 0; i < nr; i++) {
		if (s[i].paddr < VEIL_IMAGE_VA || s[i].memsz > VEIL_IMAGE_MAX ||
		    s[i].paddr - VEIL_IMAGE_VA > VEIL_IMAGE_MAX - s[i].memsz)
			return igvm_fail(-1,
					 "%s: segment at %#" PRIx64
					 " is not in the image range (is it build/backends/snp/"
					 "veil-monitor, linked at %#llx?)",
					 path, s[i].paddr, VEIL_IMAGE_VA);
		s[i].paddr = s[i].paddr - VEIL_IMAGE_VA + b->mon_base;
		if (s[i].paddr + s[i].memsz - b->mon_base > b->span)
			b->span = s[i].paddr + s[i].memsz - b->mon_base;
	}
	b->span = (b->span + 0xFFF) & ~0xFFFULL;
	if (entry < VEIL_IMAGE_VA || entry - VEIL_IMAGE_VA >= b->span)
		return igvm_fail(-1, "%s: the entry point is outside the image", path);
	b->info.mon_entry = entry;
	return place_segs(b, path, img, s, nr, b->mon_base, b->mon_base + VEIL_IMAGE_MAX);
}

static int add_elf(struct build *b, const char *path, bool monitor)
{
	struct seg segs[VEIL_LAUNCH_MAX_SEGS];
	uint8_t *img = NULL;
	size_t len;
	unsigned nr = 0;
	uint64_t entry = 0;
	int rc;

	if (igvm_read_file(path, &img, &len))
		return igvm_fail(-1, "cannot read '%s': %s", path, strerror(errno));
	rc = elf_segs(path, img, len, segs, &nr, &entry);
	if (!rc && monitor) {
		rc = place_monitor(b, path, img, segs, nr, entry);
	} else if (!rc) {
		struct veil_launch_image *im = &b->info.images[b->info.nr_images];

		if (b->info.nr_images == VEIL_LAUNCH_MAX_IMAGES)
			rc = igvm_fail(-1, "more than %d OS images", VEIL_LAUNCH_MAX_IMAGES);
		else
			rc = place_segs(b, path, img, segs, nr, VEIL_BOOT_OS_MIN, b->mon_base);
		if (!rc) {
			im->entry = entry;
			im->start = UINT64_MAX;
			for (unsigned i = 0; i < nr; i++) {
				uint64_t s = segs[i].paddr & ~0xFFFULL;
				uint64_t e = (segs[i].paddr + segs[i].memsz + 0xFFF) & ~0xFFFULL;

				im->segs[i].gpa = s;
				im->segs[i].len = e - s;
				im->segs[i].flags = segs[i].flags;
				im->start = s < im->start ? s : im->start;
				im->end = e > im->end ? e : im->end;
			}
			im->nr_segs = nr;
			b->info.nr_images++;
			if (entry < im->start || entry >= im->end)
				rc = igvm_fail(-1, "%s: entry point outside the image", path);
		}
	}
	free(img);
	return rc;
}

/* Identity map of [0, mem) with 2 MiB pages and the image at VEIL_IMAGE_VA
 * with 4 KiB pages, C-bit set (AMD64 APM vol. 2, 5.3 "Long-Mode Page
 * Translation"; 15.34.5 on the C-bit): PML4, PDPT, the image's PDPT, PD and
 * PT, then one PD per GiB (veil/launch.h). */
static int build_page_tables(struct build *b)
{
	uint64_t pt = b->area + VEIL_LAUNCH_PT_OFF, c = 1ULL << b->cbit;
	unsigned gib = (unsigned)((b->mem + (1ULL << 30) - 1) >> 30);
	uint64_t *t[5];

	for (unsigned i = 0; i < 5; i++)
		if (!(t[i] = (uint64_t *)page_at(b, pt + i * 4096ULL, PG_NORMAL)))
			return igvm_fail(-1, "out of memory");
	t[0][0] = (pt + 4096) | c | 0x3; /* present, writable */
	t[0][(VEIL_IMAGE_VA >> 39) & 511] = (pt + 2 * 4096) | c | 0x3;
	t[2][(VEIL_IMAGE_VA >> 30) & 511] = (pt + 3 * 4096) | c | 0x3;
	t[3][(VEIL_IMAGE_VA >> 21) & 511] = (pt + 4 * 4096) | c | 0x3;
	for (uint64_t i = 0; i < b->span / 4096; i++)
		t[4][i] = (b->mon_base + i * 4096) | c | 0x3;
	for (unsigned g = 0; g < gib; g++) {
		uint64_t pd_gpa = pt + (5 + g) * 4096ULL;
		uint64_t *pd = (uint64_t *)page_at(b, pd_gpa, PG_NORMAL);

		if (!pd)
			return igvm_fail(-1, "out of memory");
		t[1][g] = pd_gpa | c | 0x3;
		for (unsigned i = 0; i < 512; i++)
			pd[i] = ((uint64_t)g << 30 | (uint64_t)i << 21) | c | 0x83; /* PS */
	}
	b->info.pt_gpa = pt;
	b->info.pt_pages = 5 + gib;
	return 0;
}

static void put64(uint8_t *p, unsigned off, uint64_t v)
{
	memcpy(p + off, &v, 8);
}

/* A VMSA segment register: selector, attributes (compressed form), limit, base. */
static void put_seg(uint8_t *p, unsigned off, uint16_t sel, uint16_t attr, uint32_t limit)
{
	memcpy(p + off, &sel, 2);
	memcpy(p + off + 2, &attr, 2);
	memcpy(p + off + 4, &limit, 4);
}

/* The boot vCPU's VMSA at VMPL0. Only fields QEMU's IGVM loader accepts as
 * non-zero (target/i386/sev.c, check_vmsa_supported: segments, descriptor
 * tables, EFER, CRx, XCR0, DR6/7, GPRs, RIP, RFLAGS, G_PAT, X87 FCW, MXCSR,
 * SEV_FEATURES), so KVM writes the same VMSA the digest covers. */
static void build_vmsa(struct build *b)
{
	uint8_t *v = b->vmsa;

	memset(v, 0, sizeof(b->vmsa));
	put_seg(v, VMSA_CS, 0x08, 0x029B, 0xFFFFFFFF); /* 64-bit code, P, DPL0 */
	put_seg(v, VMSA_SS, 0x10, 0x0C93, 0xFFFFFFFF);
	put_seg(v, VMSA_DS, 0x10, 0x0C93, 0xFFFFFFFF);
	put_seg(v, VMSA_ES, 0x10, 0x0C93, 0xFFFFFFFF);
	put_seg(v, VMSA_TR, 0, 0x008B, 0xFFFF); /* busy TSS, as at reset */
	put64(v, VMSA_EFER, 0x1D00);		/* SVME | LMA | LME | NXE (APM 15.35.2) */
	put64(v, VMSA_CR0, 0x80010033);		/* PG | WP | NE | ET | MP | PE */
	put64(v, VMSA_CR3, b->info.pt_gpa);
	put64(v, VMSA_CR4, 0x660); /* OSXMMEXCPT | OSFXSR | MCE | PAE */
	put64(v, VMSA_XCR0, 1);
	put64(v, VMSA_DR6, 0xFFFF0FF0);
	put64(v, VMSA_DR7, 0x400);
	put64(v, VMSA_RFLAGS, 2);
	put64(v, VMSA_RIP, b->info.mon_entry);
	put64(v, VMSA_RDI, b->area + VEIL_LAUNCH_INFO_OFF); /* veil/launch.h */
	put64(v, VMSA_PAT, 0x0007040600070406ULL);
	put64(v, VMSA_SEV_FEATURES, 1); /* SNPActive */
	v[VMSA_X87_FCW] = 0x7F, v[VMSA_X87_FCW + 1] = 0x03;
	v[VMSA_MXCSR] = 0x80, v[VMSA_MXCSR + 1] = 0x1F;
}

static int cmp_page(const void *a, const void *b)
{
	const struct page *x = a, *y = b;

	return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

/* Platform, policy, parameter area and its parameters, pages in GPA order,
 * the parameter insert, the optional ID block, the VMSA. */
static int write_headers(struct build *b, struct igvm_writer *w, const struct igvm_snp_id_block *id)
{
	struct igvm_supported_platform sp = { .compatibility_mask = 1,
					      .platform_type = IGVM_PLATFORM_SEV_SNP,
					      .platform_version = IGVM_SEV_SNP_PLATFORM_VERSION };
	struct igvm_guest_policy gp = { .policy = b->policy, .compatibility_mask = 1 };
	struct igvm_parameter_area pm = { 4096, VEIL_PARAM_AREA_MEMMAP, 0 },
				   pp = { 4096, VEIL_PARAM_AREA_PARAMS, 0 };
	struct igvm_parameter mm = { VEIL_PARAM_AREA_MEMMAP, VEIL_PARAM_MEMMAP_OFF },
			      vpc = { VEIL_PARAM_AREA_PARAMS, VEIL_PARAM_VP_COUNT_OFF };
	struct igvm_parameter_insert im = { b->info.memmap_gpa, 1, VEIL_PARAM_AREA_MEMMAP },
				     ip = { b->info.params_gpa, 1, VEIL_PARAM_AREA_PARAMS };
	struct igvm_vp_context vp = { .gpa = SNP_VMSA_GPA, .compatibility_mask = 1 };
	int rc = igvm_w_add(w, IGVM_VHT_SUPPORTED_PLATFORM, &sp, sizeof(sp), NULL, 0);

	rc |= igvm_w_add(w, IGVM_VHT_GUEST_POLICY, &gp, sizeof(gp), NULL, 0);
	rc |= igvm_w_add(w, IGVM_VHT_PARAMETER_AREA, &pm, sizeof(pm), NULL, 0);
	rc |= igvm_w_add(w, IGVM_VHT_PARAMETER_AREA, &pp, sizeof(pp), NULL, 0);
	rc |= igvm_w_add(w, IGVM_VHT_MEMORY_MAP, &mm, sizeof(mm), NULL, 0);
	rc |= igvm_w_add(w, IGVM_VHT_VP_COUNT_PARAMETER, &vpc, sizeof(vpc), NULL, 0);
	for (size_t i = 0; i < b->nr && !rc; i++) {
		const struct page *p = &b->pages[i];
		struct igvm_page_data pd = { .gpa = p->gpa, .compatibility_mask = 1 };
		const uint8_t *data = igvm_page_is_zero(p->data) ? NULL : p->data;

		pd.data_type = p->kind == PG_SECRETS ? IGVM_PAGE_SECRETS :
			       p->kind == PG_CPUID   ? IGVM_PAGE_CPUID_DATA :
						       IGVM_PAGE_NORMAL;
		rc |= igvm_w_add(w, IGVM_VHT_PAGE_DATA, &pd, sizeof(pd), data,
				 offsetof(struct igvm_page_data, file_offset));
	}
	rc |= igvm_w_add(w, IGVM_VHT_PARAMETER_INSERT, &ip, sizeof(ip), NULL, 0);
	rc |= igvm_w_add(w, IGVM_VHT_PARAMETER_INSERT, &im, sizeof(im), NULL, 0);
	if (id)
		rc |= igvm_w_add(w, IGVM_VHT_SNP_ID_BLOCK, id, sizeof(*id), NULL, 0);
	rc |= igvm_w_add(w, IGVM_VHT_VP_CONTEXT, &vp, sizeof(vp), b->vmsa,
			 offsetof(struct igvm_vp_context, file_offset));
	return rc ? igvm_fail(-1, "out of memory") : 0;
}

static uint8_t *emit(struct build *b, const struct igvm_snp_id_block *id, size_t *len)
{
	struct igvm_writer w = { 0 };
	uint8_t *buf = NULL;

	if (!write_headers(b, &w, id) && !(buf = igvm_w_serialize(&w, len)))
		igvm_fail(-1, "the file would exceed 4 GiB or memory ran out");
	free(w.h);
	free(w.d);
	return buf;
}

/* ---- the build command ---------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return !*s || *end || errno || *s == '-' ? -1 : 0;
}

/* The launch area after the image: launch info, parameter pages, CPUID and
 * secrets pages, page tables (guest/include/veil/launch.h); then the rest of
 * the monitor region as zero pages, so the launch validates all of it. */
static int add_launch_area(struct build *b)
{
	struct veil_launch_info *in = &b->info;
	uint8_t *p;

	b->owner = 1000;
	in->magic = VEIL_LAUNCH_MAGIC;
	in->version = VEIL_LAUNCH_VERSION;
	in->size = sizeof(*in);
	in->mem_size = b->mem;
	in->nr_vcpus = b->vcpus;
	in->cbit = b->cbit;
	in->policy = b->policy;
	in->mon_base = b->mon_base;
	in->mon_size = VEIL_MONITOR_SIZE;
	in->mon_used = b->area + VEIL_LAUNCH_AREA_SIZE(b->mem) - b->mon_base;
	in->console_ghcb = VEIL_BOOT_INFO - 0x1000; /* below the OS's boot area */
	in->log_size = b->log_size;
	in->sev_features = 1; /* SNPActive, as in the VMSA */
	in->os_boot = VEIL_LAUNCH_OS_VEIL;
	in->params_gpa = b->area + VEIL_LAUNCH_PARAMS_OFF;
	in->cpuid_gpa = b->area + VEIL_LAUNCH_CPUID_OFF;
	in->secrets_gpa = b->area + VEIL_LAUNCH_SECRETS_OFF;
	in->memmap_gpa = b->area + VEIL_LAUNCH_MEMMAP_OFF;
	snprintf(in->cmdline, sizeof(in->cmdline), "%s", b->cmdline);
	if (build_page_tables(b))
		return -1;
	if (!page_at(b, in->cpuid_gpa, PG_CPUID) || !page_at(b, in->secrets_gpa, PG_SECRETS) ||
	    !(p = page_at(b, b->area + VEIL_LAUNCH_INFO_OFF, PG_NORMAL)))
		return igvm_fail(-1, "out of memory");
	memcpy(p, in, sizeof(*in));
	for (uint64_t a = b->mon_base; a < b->mon_base + VEIL_MONITOR_SIZE; a += 4096)
		if (a != in->params_gpa && a != in->memmap_gpa && !page_exists(b, a) &&
		    !page_at(b, a, PG_NORMAL))
			return igvm_fail(-1, "out of memory");
	return 0;
}

static int build_option(struct build *b, const char *o, const char *a, const char **out,
			const char **mon, const char **os, unsigned *nr_os)
{
	uint64_t v;

	if (!strcmp(o, "-o")) {
		*out = a;
	} else if (!strcmp(o, "--monitor")) {
		*mon = a;
	} else if (!strcmp(o, "--os")) {
		if (*nr_os == VEIL_LAUNCH_MAX_IMAGES)
			return igvm_fail(2, "at most %d --os images", VEIL_LAUNCH_MAX_IMAGES);
		os[(*nr_os)++] = a;
	} else if (!strcmp(o, "--mem")) {
		if (parse_u64(a, &v) || v < 16 || v > 16384 || v % 2)
			return igvm_fail(2,
					 "--mem must be an even number of MiB from 16 to 16384, "
					 "got '%s'",
					 a);
		b->mem = v << 20;
	} else if (!strcmp(o, "--vcpus")) {
		if (parse_u64(a, &v) || v < 1 || v > 64)
			return igvm_fail(2, "--vcpus must be 1 to 64, got '%s'", a);
		b->vcpus = (unsigned)v;
	} else if (!strcmp(o, "--policy")) {
		/* bit 17 is reserved, must be one (SNP firmware ABI 56860, guest policy) */
		if (parse_u64(a, &b->policy) || !(b->policy & (1ULL << 17)))
			return igvm_fail(2, "--policy must be a number with bit 17 set, got '%s'",
					 a);
	} else if (!strcmp(o, "--cbit")) {
		if (parse_u64(a, &v) || v < 32 || v > 51)
			return igvm_fail(2, "--cbit must be 32 to 51, got '%s'", a);
		b->cbit = (unsigned)v;
	} else if (!strcmp(o, "--log-size")) {
		if (parse_u64(a, &v) || !v || v > (4u << 20))
			return igvm_fail(2, "--log-size must be 1 to 4194304 bytes, got '%s'", a);
		b->log_size = v;
	} else if (!strcmp(o, "--cmdline")) {
		if (strlen(a) >= VEIL_LAUNCH_CMDLINE_MAX)
			return igvm_fail(2, "--cmdline is limited to 255 characters");
		b->cmdline = a;
	} else {
		int rc = igvm_id_option(&b->id, o, a);

		if (rc)
			return rc;
	}
	return 0;
}

static int build_layout(struct build *b, const char *mon, const char **os, unsigned nr_os)
{
	b->mon_base = b->mem - VEIL_MONITOR_SIZE;
	if (5 + ((b->mem + (1ULL << 30) - 1) >> 30) > VEIL_LAUNCH_MAX_PT_PAGES)
		return igvm_fail(1, "--mem too large for the launch page tables");
	b->owner = 0;
	if (add_elf(b, mon, true))
		return 1;
	b->area = b->mon_base + b->span;
	if (b->area + VEIL_LAUNCH_AREA_SIZE(b->mem) - b->mon_base >= VEIL_MONITOR_SIZE / 2)
		return igvm_fail(1, "%s: too large for the monitor region", mon);
	for (unsigned i = 0; i < nr_os; i++) {
		b->owner = 1 + i;
		if (add_elf(b, os[i], false))
			return 1;
	}
	if (add_launch_area(b))
		return 1;
	qsort(b->pages, b->nr, sizeof(*b->pages), cmp_page);
	build_vmsa(b);
	return 0;
}

int igvm_cmd_build(int argc, char **argv)
{
	struct build b = {
		.mem = 64ULL << 20, .vcpus = 1, .policy = 0x30000, .cbit = 51, .cmdline = ""
	};
	const char *out = NULL, *mon = NULL, *os[VEIL_LAUNCH_MAX_IMAGES];
	struct igvm_snp_id_block id, *idp = NULL;
	unsigned nr_os = 0;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = 1;

	for (int i = 0; i < argc; i++) {
		if (i + 1 >= argc)
			return igvm_fail(2, "option '%s' needs a value (see veil-igvm --help)",
					 argv[i]);
		if ((rc = build_option(&b, argv[i], argv[i + 1], &out, &mon, os, &nr_os)))
			return rc;
		i++;
	}
	if (!out || !mon || !nr_os)
		return igvm_fail(2, "build needs --monitor, at least one --os and -o");
	rc = 1;
	if (build_layout(&b, mon, os, nr_os))
		goto done;
	if (!(buf = emit(&b, NULL, &len)))
		goto done;
	if (b.id.key_path) {
		struct igvm_file f;
		uint8_t ld[48];
		char err[256];

		if (igvm_open(&f, buf, len, err, sizeof(err)) ||
		    igvm_measure_file(&f, ld, err, sizeof(err)) ||
		    igvm_make_id_block(&b.id, ld, b.policy, &id, err, sizeof(err))) {
			igvm_fail(1, "%s", err);
			goto done;
		}
		idp = &id;
		free(buf);
		if (!(buf = emit(&b, idp, &len)))
			goto done;
	}
	rc = igvm_write_out(out, buf, len);
done:
	free(buf);
	for (size_t i = 0; i < b.nr; i++)
		free(b.pages[i].data);
	free(b.pages);
	return rc;
}
