/* SPDX-License-Identifier: MIT */
/*
 * veil/launch.h - the launch contract of the VMPL0 image `veil-monitor`: how a
 * loader starts it, whether QEMU's IGVM loader on an SEV-SNP host (the file
 * veil-igvm build makes) or veil-emu (`run --monitor`, `run --igvm`).
 *
 * Guest memory is [0, mem_size); the monitor region is its top
 * VEIL_MONITOR_SIZE (veil/boot.h). The loader makes every page of the
 * monitor region assigned and validated with no VMPL1-3 access
 * (SNP_LAUNCH_UPDATE; an IGVM file lists each page) and places, from its base:
 *
 *   mon_base                  the image's PT_LOAD segments at
 *                             mon_base + (p_vaddr - VEIL_IMAGE_VA), the rest of
 *                             their p_memsz zero (backends/snp/image.h)
 *   area = mon_base + span    (span: the image's extent, page-rounded)
 *   area + 0x0000             struct veil_launch_info (measured: the monitor
 *                             trusts it)
 *   area + 0x1000             the parameter page: the loader writes the vCPU
 *                             count (uint32_t at offset 0) there (unmeasured:
 *                             the monitor checks it)
 *   area + 0x2000             the memory map page: the loader writes struct
 *                             veil_param_mem entries from its start, ended by
 *                             an entry of 0 pages (unmeasured: checked)
 *   area + 0x3000             the CPUID page (SNP_PAGE_CPUID)
 *   area + 0x4000             the secrets page (SNP_PAGE_SECRETS)
 *   area + 0x5000             the launch page tables (measured): PML4, PDPT,
 *                             the PDPT, PD and PT that map the image at
 *                             VEIL_IMAGE_VA, then one PD per GiB of memory
 *   mon_base + mon_used       the first byte the monitor allocates from
 *
 * The launch information names the GPA of each of these pages and the monitor
 * goes by those (veil-emu's `run --monitor` keeps the secrets page its model
 * AMD-SP writes at the top of memory and has no CPUID page, cpuid_gpa = 0).
 *
 * The boot vCPU starts at the image's e_entry from one launch VMSA (VMPL0,
 * the last page measured; an IGVM file has it at GPA 0xFFFFFFFFF000, the only
 * place QEMU's loader takes it): 64-bit mode, CPL0, CS = 0x08 (64-bit code),
 * SS = DS = ES = 0x10 (flat data), EFER = LME|LMA|NXE|SVME,
 * CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE|OSFXSR|OSXMMEXCPT (and MCE),
 * CR3 = the PML4 above (GVA = GPA for [0, mem_size) with 2 MiB pages and the
 * image at VEIL_IMAGE_VA with 4 KiB pages, all with the C-bit of `cbit`),
 * GDTR and IDTR limits 0 (the image loads its own before anything faults),
 * RFLAGS = 2, RSP = 0, RDI = GPA of struct veil_launch_info, every other GPR 0,
 * SEV_FEATURES = SNPActive. Every non-zero field is one QEMU's IGVM loader
 * accepts (target/i386/sev.c, check_vmsa_supported: segment registers,
 * GDTR/IDTR/LDTR/TR, EFER, CR0/3/4, XCR0, DR6/7, the GPRs, RIP, RFLAGS,
 * G_PAT, X87 FCW, MXCSR, SEV_FEATURES), so KVM rebuilds the same VMSA the
 * launch digest covers.
 *
 * Only <stdint.h>: the freestanding monitor includes this header too.
 */
#ifndef VEIL_LAUNCH_H
#define VEIL_LAUNCH_H

#include <stdint.h>

/* Where the image is linked (the top 2 GiB, -mcmodel=kernel) and the most it
 * may span (one page table maps it). */
#define VEIL_IMAGE_VA 0xFFFFFFFF80000000ULL
#define VEIL_IMAGE_MAX (2ULL << 20)

#define VEIL_LAUNCH_MAGIC 0x48434E4C4C494556ULL /* "VEILLNCH" */
#define VEIL_LAUNCH_VERSION 2

#define VEIL_LAUNCH_INFO_OFF 0x0000ULL /* offsets from the launch area's base */
#define VEIL_LAUNCH_PARAMS_OFF 0x1000ULL
#define VEIL_LAUNCH_MEMMAP_OFF 0x2000ULL
#define VEIL_LAUNCH_CPUID_OFF 0x3000ULL
#define VEIL_LAUNCH_SECRETS_OFF 0x4000ULL
#define VEIL_LAUNCH_PT_OFF 0x5000ULL
#define VEIL_LAUNCH_MAX_PT_PAGES 20 /* PML4, PDPT, 3 for the image, up to 15 PDs */
/* The launch area's size for mem_size bytes of guest memory. */
#define VEIL_LAUNCH_AREA_SIZE(mem) \
	(VEIL_LAUNCH_PT_OFF + (5 + (((mem) + (1ULL << 30) - 1) >> 30)) * 0x1000ULL)

#define VEIL_LAUNCH_MAX_IMAGES 4
#define VEIL_LAUNCH_MAX_SEGS 8
#define VEIL_LAUNCH_CMDLINE_MAX 256

/* The parameter areas (IGVM PARAMETER_AREA indexes) and where the loader
 * writes in them (the VP_COUNT_PARAMETER and MEMORY_MAP headers name these).
 * QEMU's loader writes the memory map at the start of its area whatever byte
 * offset the MEMORY_MAP header names (backends/igvm.c, QEMU 10.1), hence one
 * area each. */
#define VEIL_PARAM_AREA_MEMMAP 0
#define VEIL_PARAM_AREA_PARAMS 1
#define VEIL_PARAM_VP_COUNT_OFF 0x0 /* uint32_t, in the parameter page */
#define VEIL_PARAM_MEMMAP_OFF 0x0   /* struct veil_param_mem[], ends with 0 pages */
#define VEIL_PARAM_MEMMAP_MAX (4096 / 24)

/* One memory map entry as the IGVM loader writes it (IGVM_VHS_MEMORY_MAP_ENTRY). */
struct veil_param_mem {
	uint64_t first_page; /* GPA >> 12 */
	uint64_t nr_pages;
	uint16_t type; /* 0 memory, 1 platform reserved, 2 persistent */
	uint16_t flags;
	uint32_t reserved;
};

/* One OS image: its PT_LOAD segments (page-aligned extents) and entry. */
struct veil_launch_image {
	uint64_t entry;
	uint64_t start, end; /* page-aligned extent of all segments */
	uint32_t nr_segs;
	uint32_t reserved;
	struct {
		uint64_t gpa, len;
		uint32_t flags; /* ELF p_flags */
		uint32_t reserved;
	} segs[VEIL_LAUNCH_MAX_SEGS];
};

/*
 * How a Linux OS is entered (the x86 64-bit boot protocol, Linux
 * Documentation/arch/x86/boot.rst): its loader built the GDT and identity
 * page tables in OS memory; RSI = boot_params. The monitor uses the same
 * structure (veil/monitor.h).
 */
struct veil_os_entry {
	uint64_t rsi, rsp, cr3;
	uint64_t gdt_base;
	uint16_t gdt_limit, cs, ds; /* ds also for es and ss */
	uint16_t reserved;
};

#define VEIL_LAUNCH_OS_VEIL 0  /* images[0] follows veil/boot.h */
#define VEIL_LAUNCH_OS_LINUX 1 /* images[0] is entered as os_entry says */

/* The measured launch information page. */
struct veil_launch_info {
	uint64_t magic;		     /* VEIL_LAUNCH_MAGIC */
	uint32_t version;	     /* VEIL_LAUNCH_VERSION */
	uint32_t size;		     /* sizeof(struct veil_launch_info) */
	uint64_t mem_size;	     /* guest memory the file was built for */
	uint32_t nr_vcpus;	     /* vCPUs the file was built for (the loader's count is in
			      the parameter page) */
	uint32_t cbit;		     /* C-bit position used in the launch page tables */
	uint64_t policy;	     /* SNP guest policy in the file */
	uint64_t mon_base, mon_size; /* monitor region */
	uint64_t mon_used;	     /* bytes at mon_base the loader placed (image, area) */
	uint64_t mon_entry;
	uint64_t params_gpa, cpuid_gpa, secrets_gpa, memmap_gpa;
	uint64_t pt_gpa; /* PML4; the tables follow it */
	uint32_t pt_pages;
	uint32_t nr_images;
	uint64_t console_ghcb;	       /* a page for console lines before the monitor has
				  its GHCB, outside every range the OS gets; 0 = none */
	uint64_t log_size;	       /* bytes for the secure log, 0 = the monitor's default */
	uint64_t sev_features;	       /* SEV_FEATURES of every VMSA (SNPActive = 1) */
	uint32_t os_boot;	       /* VEIL_LAUNCH_OS_* */
	uint32_t log_domain;	       /* where the secure log runs: 0 its own domain (the
				  default), 1 the monitor, 2 its domain plus the
				  test-only fault call (core's enum veil_log_domain) */
	struct veil_os_entry os_entry; /* VEIL_LAUNCH_OS_LINUX only */
	struct veil_launch_image images[VEIL_LAUNCH_MAX_IMAGES];
	char cmdline[VEIL_LAUNCH_CMDLINE_MAX];
};

#endif
