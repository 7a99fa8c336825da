/* SPDX-License-Identifier: MIT */
/*
 * image.h - the VMPL0 image `veil-monitor`: how a loader launches it.
 *
 * The image is an ELF64 x86-64 executable linked at VEIL_IMAGE_VA. A loader
 * (veil-emu's image mode, or IGVM on hardware) launches it as an SVSM is
 * launched:
 * - the monitor region [launch.mon_base, +mon_size) is assigned to the guest
 *   and validated (SNP_LAUNCH_UPDATE), VMPL1-3 have no access; the PT_LOAD
 *   segments lie at mon_base + (p_vaddr - VEIL_IMAGE_VA), the rest of their
 *   p_memsz zero;
 * - one page in that region holds struct veil_image_params (below);
 * - page tables, also in the region, map guest memory 1:1 (C=1) and the
 *   image at VEIL_IMAGE_VA;
 * - the boot vCPU starts at VMPL0 from a launch VMSA: 64-bit mode, CPL0,
 *   paging on with those tables, RIP = e_entry, RSI = GPA of the parameter
 *   page, other GPRs 0, interrupts off. The image builds its own GDT, IDT and
 *   page tables before it touches anything else.
 * launch.mon_used covers the image, the parameter page and the launch page
 * tables: the monitor allocates after them.
 */
#ifndef VEIL_SNP_IMAGE_H
#define VEIL_SNP_IMAGE_H

#include <veil/monitor.h>

#define VEIL_IMAGE_VA 0xFFFFFFFF80000000ULL /* the top 2 GiB, -mcmodel=kernel */
#define VEIL_IMAGE_MAX (2ULL << 20)	    /* image span (one page table) */

#define VEIL_IMAGE_PARAMS_MAGIC 0x4D52415050494556ULL /* "VEIPPARM" */
#define VEIL_IMAGE_PARAMS_VERSION 1

/* The parameter page. */
struct veil_image_params {
	u64 magic;	  /* VEIL_IMAGE_PARAMS_MAGIC */
	u32 version;	  /* VEIL_IMAGE_PARAMS_VERSION */
	u32 size;	  /* sizeof(struct veil_image_params) */
	u64 console_ghcb; /* a shared page for console output before the monitor
			     has its own GHCB, 0 = none; never OS memory */
	struct veil_launch launch;
};

/* Why the image stops the CVM (GHCB termination, reason set VEIL_TERM_SET):
 * codes 0x20 + vector for an unexpected exception at VMPL0. */
#define VEIL_TERM_IMAGE_PARAMS 0x10 /* bad parameter page */
#define VEIL_TERM_IMAGE_EXCEPTION(vec) (0x20 + ((vec)&0x1F))

#endif
