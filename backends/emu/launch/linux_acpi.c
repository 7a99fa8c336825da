/* SPDX-License-Identifier: MIT */
/*
 * linux_acpi.c - the ACPI tables the loader gives Linux (ACPI 6.5
 * specification): RSDP -> XSDT -> FADT (hardware-reduced) with a DSDT, and a
 * MADT with one Local APIC entry per vCPU.
 *
 * Linux takes its CPUs and interrupt mode from the MADT (Debian's kernels
 * have no MP-table parser). Hardware-reduced ACPI (FADT flag HW_REDUCED_ACPI)
 * means no PM timer, no legacy PIC and PIT, no SCI: the local APIC timer is
 * the only timer, as on the model. No I/O APIC is listed: the model has no
 * device interrupts. The DSDT holds only \_S5 (soft off), so that Linux's
 * power-off writes SLP_TYP|SLP_EN to the FADT's sleep control register, an
 * I/O port the hypervisor model sees (LX_ACPI_SLEEP_PORT).
 */
#include <string.h>

#include "linux_boot.h"
#include "machine.h"

/* Offsets of each table in the ACPI page. */
#define OFF_RSDP 0x000
#define OFF_XSDT 0x040
#define OFF_FADT 0x080
#define OFF_DSDT 0x200
#define OFF_MADT 0x280

#define HDR_LEN 36
#define FADT_LEN 276
#define FADT_HW_REDUCED (1U << 20)
#define BOOT_NO_VGA (1U << 2)
#define BOOT_NO_CMOS_RTC (1U << 5)

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return (uint8_t)-s;
}

/* The standard table header (ACPI 6.5, 5.2.6). */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	memcpy(t + 4, &len, 4);
	t[8] = rev;
	memcpy(t + 10, "VEIL  ", 6);
	memcpy(t + 16, "VEILEMU ", 8);
	memcpy(t + 24, &(uint32_t){ 1 }, 4);
	memcpy(t + 28, "VEIL", 4);
	memcpy(t + 32, &(uint32_t){ 1 }, 4);
}

/* A Generic Address Structure in system I/O space (ACPI 6.5, 5.2.3.2). */
static void gas_io(uint8_t *g, uint16_t port)
{
	g[0] = 1; /* SystemIO */
	g[1] = 8; /* bit width */
	g[2] = 0;
	g[3] = 1; /* byte access */
	st64(g + 4, port);
}

static void fadt(uint8_t *t, uint64_t dsdt)
{
	uint32_t flags = FADT_HW_REDUCED;
	uint16_t boot = BOOT_NO_VGA | BOOT_NO_CMOS_RTC;

	header(t, "FACP", FADT_LEN, 6);
	memcpy(t + 40, &(uint32_t){ (uint32_t)dsdt }, 4);
	memcpy(t + 109, &boot, 2); /* IAPC_BOOT_ARCH */
	memcpy(t + 112, &flags, 4);
	t[131] = 5; /* FADT minor version: 6.5 */
	st64(t + 140, dsdt);
	gas_io(t + 244, LX_ACPI_SLEEP_PORT);	 /* SLEEP_CONTROL_REG */
	gas_io(t + 256, LX_ACPI_SLEEP_PORT + 1); /* SLEEP_STATUS_REG */
	memcpy(t + 268, "KVMKVMKV", 8);		 /* hypervisor vendor identity */
	t[9] = checksum(t, FADT_LEN);
}

/* DSDT (AML, ACPI 6.5, 20.2): Name (_S5, Package (2) { 5, 0 }), soft off. */
static uint32_t dsdt(uint8_t *t)
{
	static const uint8_t aml[] = {
		0x08, '_',  'S',  '5',	'_',  0x12, 0x05, 0x02, 0x0A, 0x05,
		0x00, 0x10, 0x2A, 0x5C, '_',  'S',  'B',  '_', /* Scope (\_SB), 42 bytes */
		0x5B, 0x82, 0x22, 'C',	'O',  'M',  '1',       /* Device (COM1), 34 bytes */
		0x08, '_',  'H',  'I',	'D',  0x0C, 0x41, 0xD0, 0x0C, 0x02, /* EisaId PNP0501 */
		0x08, '_',  'C',  'R',	'S',  0x11, 0x0D, 0x0A, 0x0A,	    /* Buffer (10) */
		0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08,		    /* IO descriptor */
		0x79, 0x00,						    /* end tag */
	};
	uint32_t len = HDR_LEN + sizeof(aml);

	header(t, "DSDT", len, 2);
	memcpy(t + HDR_LEN, aml, sizeof(aml));
	t[9] = checksum(t, len);
	return len;
}

/* MADT (ACPI 6.5, 5.2.12): local APIC address, flags 0 (no 8259), then a
 * Processor Local APIC structure (type 0) per vCPU, APIC ID = vCPU number. */
static void madt(uint8_t *t, unsigned nr_vcpus)
{
	uint32_t len = HDR_LEN + 8 + 8 * nr_vcpus;

	header(t, "APIC", len, 5);
	memcpy(t + 36, &(uint32_t){ 0xFEE00000U }, 4);
	for (unsigned i = 0; i < nr_vcpus; i++) {
		uint8_t *e = t + HDR_LEN + 8 + 8 * i;

		e[0] = 0;
		e[1] = 8;
		e[2] = (uint8_t)i;		    /* ACPI processor UID */
		e[3] = (uint8_t)i;		    /* APIC ID */
		memcpy(e + 4, &(uint32_t){ 1 }, 4); /* enabled */
	}
	t[9] = checksum(t, len);
}

uint64_t lx_build_acpi(uint8_t *page, uint64_t gpa, unsigned nr_vcpus)
{
	uint8_t *rsdp = page + OFF_RSDP, *xsdt = page + OFF_XSDT;
	uint32_t xlen = HDR_LEN + 16;

	memset(page, 0, 4096);
	fadt(page + OFF_FADT, gpa + OFF_DSDT);
	dsdt(page + OFF_DSDT);
	madt(page + OFF_MADT, nr_vcpus);

	header(xsdt, "XSDT", xlen, 1);
	st64(xsdt + HDR_LEN, gpa + OFF_FADT);
	st64(xsdt + HDR_LEN + 8, gpa + OFF_MADT);
	xsdt[9] = checksum(xsdt, xlen);

	/* RSDP (ACPI 6.5, 5.2.5.3): revision 2, XSDT only. */
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "VEIL  ", 6);
	rsdp[15] = 2;
	memcpy(rsdp + 20, &(uint32_t){ 36 }, 4);
	st64(rsdp + 24, gpa + OFF_XSDT);
	rsdp[8] = checksum(rsdp, 20);
	rsdp[32] = checksum(rsdp, 36);
	return gpa + OFF_RSDP;
}
