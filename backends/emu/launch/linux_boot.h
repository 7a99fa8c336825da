/* SPDX-License-Identifier: MIT */
/*
 * linux_boot.h - load a Linux bzImage for `veil-emu run --linux`: the x86
 * 64-bit boot protocol (Linux Documentation/arch/x86/boot.rst) plus what an
 * SNP guest under an SVSM needs to find at its entry (the CC blob with the
 * secrets and CPUID pages).
 */
#ifndef VEIL_EMU_LINUX_BOOT_H
#define VEIL_EMU_LINUX_BOOT_H

#include <veil/monitor.h>

#include "emu_run.h"

/* Guest-physical layout of what the loader builds below the kernel. */
#define LX_ZERO_PAGE 0x100000ULL /* struct boot_params */
#define LX_CMDLINE 0x101000ULL	 /* kernel command line, NUL-terminated */
#define LX_CC_SETUP 0x102000ULL	 /* setup_data SETUP_CC_BLOB, then the CC blob */
#define LX_CC_BLOB (LX_CC_SETUP + 0x100)
#define LX_CPUID 0x103000ULL	 /* SNP CPUID table page */
#define LX_GDT 0x104000ULL	 /* boot GDT */
#define LX_STACK_TOP 0x106000ULL /* one page of stack below */
#define LX_PGT 0x106000ULL	 /* PML4, PDPT, one PD per GiB */
#define LX_ACPI 0x1F0000ULL	 /* ACPI tables (linux_acpi.c), one page */
#define LX_LOW_END 0x200000ULL	 /* the kernel loads at or above this */

/* The FADT's sleep control register (and status at + 1): an I/O port. */
#define LX_ACPI_SLEEP_PORT EMU_ACPI_SLEEP_PORT

#define LX_CMDLINE_MAX 2048

struct emu_linux_opts {
	const char *kernel; /* bzImage */
	const char *initrd; /* NULL = none */
	const char *append; /* kernel command line */
	const char *script; /* --init-script: becomes /init.script; NULL = none */
};

/* What the loader prepared; p->linux_entry points into it, so it must live
 * as long as the run. */
struct emu_linux_boot {
	struct veil_os_entry entry;
	uint64_t load, init_size, initrd, initrd_size;
};

/*
 * Place kernel, initrd (with o->script appended to it as /init.script in a
 * second cpio archive), boot_params, command line, CC blob, CPUID table, GDT
 * and identity page tables (C-bit set) in guest memory and fill p (entry,
 * the OS range to validate at launch: all OS RAM). Returns 0, or -1 with a
 * one-line message in err.
 */
int emu_load_linux(struct emu_machine *m, const struct emu_linux_opts *o, struct emu_linux_boot *lb,
		   struct emu_run_params *p, char *err, size_t errlen);

/* linux_acpi.c: RSDP, XSDT, FADT, DSDT and MADT in the page at gpa; returns
 * the RSDP's address. */
uint64_t lx_build_acpi(uint8_t *page, uint64_t gpa, unsigned nr_vcpus);

#endif
