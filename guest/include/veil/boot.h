/* SPDX-License-Identifier: MIT */
/*
 * veil/boot.h - the boot contract between the Veil monitor and an OS image.
 *
 * An OS image is an ELF64 x86-64 executable (ET_EXEC). Its PT_LOAD segments
 * are placed at their physical addresses (p_paddr), which must lie in
 * [VEIL_BOOT_OS_MIN, memory size - VEIL_MONITOR_SIZE) and not overlap the boot
 * area below. The loader measures and validates those pages; the monitor
 * gives them to the OS (VMPL3: R, W, Xu, Xs).
 *
 * The boot vCPU starts at e_entry at VMPL3, CPL0, in 64-bit mode:
 *   CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE|OSFXSR|OSXMMEXCPT, EFER = SCE|LME|LMA|NXE;
 *   CR3 = VEIL_BOOT_PML4: GVA = GPA for all guest memory with 2 MiB pages
 *         (present, writable, executable, supervisor, C-bit 51 set);
 *   GDT at VEIL_BOOT_GDT: 0x08 kernel code64, 0x10 kernel data, 0x18 user
 *         data, 0x20 user code64, 0x28 TSS (RSP0 = top of the boot stack);
 *   CS = 0x08, SS = DS = ES = 0x10, FS = GS = 0; no IDT (IDTR limit 0);
 *   RSP = VEIL_BOOT_STACK_TOP; RFLAGS = 0x2 (interrupts off);
 *   RDI = VEIL_BOOT_INFO (GPA of struct veil_boot_info); other GPRs 0;
 *   the GHCB MSR is 0 (no GHCB registered).
 * Every page of the boot area is OS-owned and validated. Other OS memory is
 * assigned but not validated: validate it with SVSM_CORE_PVALIDATE first.
 * Application processors are started by the OS with SVSM_CORE_CREATE_VCPU and
 * the GHCB AP-creation event, with a VMSA the OS fills itself.
 */
#ifndef VEIL_BOOT_H
#define VEIL_BOOT_H

#include <stdint.h>

#define VEIL_BOOT_INFO 0x10000ULL /* struct veil_boot_info */
#define VEIL_BOOT_GDT 0x11000ULL  /* GDT (0x00-0x37) and TSS (0x100) */
#define VEIL_BOOT_PML4 0x12000ULL /* boot page tables: PML4, PDPT, PDs */
#define VEIL_BOOT_PT_END 0x20000ULL
#define VEIL_BOOT_SECRETS 0x20000ULL /* the OS's copy of the secrets page */
#define VEIL_BOOT_CPUID 0x21000ULL   /* CPUID page */
#define VEIL_BOOT_CAA 0x30000ULL     /* CAA of vCPU n at VEIL_BOOT_CAA + n * 4 KiB */
#define VEIL_BOOT_STACK 0x70000ULL   /* boot stack, 64 KiB */
#define VEIL_BOOT_STACK_TOP 0x80000ULL
#define VEIL_BOOT_AREA_END 0x80000ULL
#define VEIL_BOOT_OS_MIN 0x100000ULL /* lowest address for OS segments */
#define VEIL_BOOT_MAX_VCPUS 64
#define VEIL_MONITOR_SIZE (8ULL << 20) /* the monitor owns the top 8 MiB */

#define VEIL_BOOT_MAGIC 0x544F4F424C494556ULL /* "VEILBOOT" */
#define VEIL_BOOT_VERSION 1

/* A range of guest memory and what the OS may do with it. */
enum veil_mem_type {
	VEIL_MEM_OS_VALIDATED = 1,   /* OS-owned, validated: the image and the boot area */
	VEIL_MEM_OS_UNVALIDATED = 2, /* OS-owned RAM: validate before use */
	VEIL_MEM_MONITOR = 3,	     /* the monitor's: never accessible to the OS */
};

struct veil_mem_range {
	uint64_t gpa;
	uint64_t len;
	uint32_t type; /* enum veil_mem_type */
	uint32_t reserved;
};

#define VEIL_BOOT_MAX_RANGES 16

struct veil_boot_info {
	uint64_t magic;			   /* VEIL_BOOT_MAGIC */
	uint32_t version;		   /* VEIL_BOOT_VERSION */
	uint32_t nr_vcpus;		   /* vCPUs the OS may start (APIC IDs 0..nr_vcpus-1) */
	uint64_t mem_size;		   /* bytes of guest memory */
	uint64_t secrets_gpa;		   /* VEIL_BOOT_SECRETS */
	uint64_t cpuid_gpa;		   /* VEIL_BOOT_CPUID */
	uint64_t caa_gpa;		   /* CAA of the boot vCPU (also in the secrets page) */
	uint64_t kernel_start, kernel_end; /* the loaded image, page-aligned */
	uint32_t nr_ranges;
	uint32_t reserved;
	struct veil_mem_range ranges[VEIL_BOOT_MAX_RANGES];
	char cmdline[256]; /* options given to the emulator's run --cmdline */
};

#endif
