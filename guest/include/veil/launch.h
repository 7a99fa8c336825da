/* SPDX-License-Identifier: MIT */
/*
 * veil/launch.h - the launch contract between an IGVM file made by veil-igvm
 * and the VMPL0 monitor it starts.
 *
 * The IGVM file places, in the monitor region (the top VEIL_MONITOR_SIZE of
 * guest memory), the monitor's PT_LOAD segments and a launch area at the top:
 *
 *   mem - 128 KiB          struct veil_launch_info (measured: the monitor trusts it)
 *   mem - 128 KiB + 4 KiB  the parameter page (unmeasured: the loader writes the
 *                          vCPU count and the memory map there; validate it)
 *   mem - 128 KiB + 8 KiB  the CPUID page (SNP_PAGE_CPUID)
 *   mem - 128 KiB + 12 KiB page tables: PML4, PDPT, one PD per GiB (measured)
 *   mem - 4 KiB            the secrets page (SNP_PAGE_SECRETS)
 *
 * The OS image(s) are placed at their physical addresses as measured pages.
 * The boot vCPU starts at the monitor's e_entry in 64-bit mode at VMPL0:
 * CR3 = the PML4 above (GVA = GPA for [0, mem) with 2 MiB pages, C-bit set),
 * CS = 0x08 (64-bit code), SS = DS = ES = 0x10, no GDT/IDT loaded (GDTR and
 * IDTR limits 0: the monitor loads its own), RFLAGS = 2, RSP = 0,
 * RDI = GPA of struct veil_launch_info. The VMSA carries only registers that
 * QEMU's IGVM loader accepts (see tools/veil-igvm.c).
 *
 * Only <stdint.h>: the freestanding monitor includes this header too.
 */
#ifndef VEIL_LAUNCH_H
#define VEIL_LAUNCH_H

#include <stdint.h>

#define VEIL_LAUNCH_MAGIC 0x48434E4C4C494556ULL /* "VEILLNCH" */
#define VEIL_LAUNCH_VERSION 1

#define VEIL_LAUNCH_AREA_SIZE (128ULL << 10) /* at the top of guest memory */
#define VEIL_LAUNCH_INFO_OFF 0x0000ULL	     /* offsets from the area's base */
#define VEIL_LAUNCH_PARAMS_OFF 0x1000ULL
#define VEIL_LAUNCH_CPUID_OFF 0x2000ULL
#define VEIL_LAUNCH_PT_OFF 0x3000ULL
#define VEIL_LAUNCH_SECRETS_OFF (VEIL_LAUNCH_AREA_SIZE - 0x1000ULL)
#define VEIL_LAUNCH_MAX_PT_PAGES 24 /* PML4 + PDPT + 22 PDs: up to 22 GiB */

#define VEIL_LAUNCH_MAX_IMAGES 4
#define VEIL_LAUNCH_MAX_SEGS 8
#define VEIL_LAUNCH_CMDLINE_MAX 256

/* Where the loader writes its parameters in the parameter page (IGVM
 * VP_COUNT_PARAMETER and MEMORY_MAP headers name these offsets). */
#define VEIL_PARAM_VP_COUNT_OFF 0x0 /* uint32_t */
#define VEIL_PARAM_MEMMAP_OFF 0x40  /* struct veil_param_mem[], ends with 0 pages */
#define VEIL_PARAM_MEMMAP_MAX ((4096 - VEIL_PARAM_MEMMAP_OFF) / 24)

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
	uint64_t mon_entry;
	uint64_t params_gpa, cpuid_gpa, secrets_gpa;
	uint64_t pt_gpa; /* PML4; the tables follow it */
	uint32_t pt_pages;
	uint32_t nr_images;
	struct veil_launch_image images[VEIL_LAUNCH_MAX_IMAGES];
	char cmdline[VEIL_LAUNCH_CMDLINE_MAX];
};

#endif
