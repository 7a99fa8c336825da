/* SPDX-License-Identifier: MIT */
/*
 * linux_boot.c - the loader's side of booting an unmodified Linux bzImage at
 * VMPL3 under the Veil monitor.
 *
 * It does what a boot loader does for the 64-bit boot protocol (Linux
 * Documentation/arch/x86/boot.rst): the protected-mode kernel at its
 * preferred address, the setup header copied into a zero page (struct
 * boot_params) with an e820 map, command line and initrd, and the CPU state
 * at the 64-bit entry (load address + 0x200): 64-bit mode, identity-mapped
 * page tables, a GDT with flat __BOOT_CS (0x10) and __BOOT_DS (0x18), RSI =
 * boot_params. The monitor enters the OS with that state (struct
 * veil_os_entry).
 *
 * For SNP it adds what firmware gives an SNP guest (OVMF does the same
 * through an EFI table): a setup_data entry of type SETUP_CC_BLOB pointing
 * at a struct cc_blob_sev_info, which names the secrets page (the monitor's
 * copy for the OS, with the SVSM fields) and the CPUID table page (SEV
 * Secure Nested Paging Firmware ABI, 56860, "CPUID Reporting"). Page table
 * entries carry the C-bit, as the guest's memory is private.
 *
 * All OS RAM is validated at launch: with the bzImage protocol (no EFI
 * memory map, so no "unaccepted memory") Linux expects the RAM in e820 to
 * be validated already.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <veil/boot.h>

#include "linux_boot.h"
#include "machine.h"

/* struct boot_params / struct setup_header offsets (boot.rst, "THE REAL-MODE
 * KERNEL HEADER" and zero-page.rst). */
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0C0
#define BP_EXT_RAMDISK_SIZE 0x0C4
#define BP_EXT_CMD_LINE_PTR 0x0C8
#define BP_E820_ENTRIES 0x1E8
#define BP_HDR 0x1F1 /* setup_sects: the header starts here */
#define BP_VID_MODE 0x1FA
#define BP_BOOT_FLAG 0x1FE /* 0xAA55 */
#define BP_JUMP_END 0x201  /* the header ends at 0x202 + this byte */
#define BP_HEADER 0x202	   /* "HdrS" */
#define BP_VERSION 0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS 0x211
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21C
#define BP_CMD_LINE_PTR 0x228
#define BP_INITRD_ADDR_MAX 0x22C
#define BP_KERNEL_ALIGNMENT 0x230
#define BP_RELOCATABLE 0x234
#define BP_XLOADFLAGS 0x236
#define BP_CMDLINE_SIZE 0x238
#define BP_SETUP_DATA 0x250
#define BP_PREF_ADDRESS 0x258
#define BP_INIT_SIZE 0x260
#define BP_HDR_MAX 0x290    /* end of struct setup_header in boot_params */
#define BP_E820_TABLE 0x2D0 /* 20-byte entries: addr, size, type */

#define HDRS_MAGIC 0x53726448 /* "HdrS" */
#define LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x01
#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3
#define SETUP_CC_BLOB 7
#define CC_BLOB_SEV_HDR_MAGIC 0x45444D41 /* "AMDE" */

/* SNP CPUID table (56860, "CPUID Reporting", CPUID_FUNCTION entries). */
#define CPUID_COUNT 0x00
#define CPUID_FN 0x10
#define CPUID_FN_SIZE 48
#define CPUID_FN_MAX 64

static int fail(char *err, size_t n, const char *fmt, const char *arg)
{
	snprintf(err, n, fmt, arg);
	return -1;
}

static int read_file(const char *path, uint8_t **buf, size_t *len, char *err, size_t n)
{
	FILE *f = fopen(path, "rb");
	long sz;

	*buf = NULL;
	if (!f) {
		snprintf(err, n, "cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(*buf = malloc(sz ? (size_t)sz : 1)) || fread(*buf, 1, (size_t)sz, f) != (size_t)sz) {
		snprintf(err, n, "cannot read '%s'", path);
		fclose(f);
		free(*buf);
		*buf = NULL;
		return -1;
	}
	fclose(f);
	*len = (size_t)sz;
	return 0;
}

static uint32_t ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void st32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint16_t ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* 512-byte sectors of real-mode setup code before the protected-mode kernel
 * (0 means 4, boot.rst). */
static unsigned setup_sects(const uint8_t *k)
{
	return k[BP_HDR] ? k[BP_HDR] : 4u;
}

/* The setup header of a bzImage that has a 64-bit entry point. */
static int check_bzimage(const uint8_t *k, size_t len, const char *path, char *err, size_t n)
{
	if (len < 0x1000 || ld16(k + BP_BOOT_FLAG) != 0xAA55 || ld32(k + BP_HEADER) != HDRS_MAGIC)
		return fail(err, n, "%s: not a Linux bzImage (no setup header)", path);
	if (ld16(k + BP_VERSION) < 0x20C || !(ld16(k + BP_XLOADFLAGS) & XLF_KERNEL_64))
		return fail(err, n,
			    "%s: no 64-bit entry point (boot protocol 2.12+, XLF_KERNEL_64)", path);
	if ((setup_sects(k) + 1) * 512 >= len)
		return fail(err, n, "%s: setup header out of the file", path);
	return 0;
}

/*
 * e820: RAM from the end of the monitor's boot area to the classic 0x9F000
 * (Linux puts its real-mode trampoline there) and from LX_LOW_END to the
 * monitor; reserved: the boot area (GDT, the OS's secrets page, the CAAs),
 * the BIOS area, what this loader built below LX_LOW_END (the CC blob and
 * CPUID table must stay: firmware reserves them too) and the monitor. The
 * ACPI tables are "ACPI data": in an SEV guest Linux maps that type
 * encrypted, but a reserved range decrypted (arch/x86/mm/ioremap.c), which
 * would read private pages as ciphertext.
 */
#define LX_E820_N 7
static void build_e820(uint8_t *bp, uint64_t mon_base, uint64_t mem_size)
{
	const uint64_t map[LX_E820_N][3] = {
		{ 0, VEIL_BOOT_AREA_END, E820_RESERVED },
		{ VEIL_BOOT_AREA_END, 0x9F000 - VEIL_BOOT_AREA_END, E820_RAM },
		{ 0x9F000, LX_ACPI - 0x9F000, E820_RESERVED },
		{ LX_ACPI, 0x1000, E820_ACPI },
		{ LX_ACPI + 0x1000, LX_LOW_END - LX_ACPI - 0x1000, E820_RESERVED },
		{ LX_LOW_END, mon_base - LX_LOW_END, E820_RAM },
		{ mon_base, mem_size - mon_base, E820_RESERVED }
	};
	unsigned i;

	for (i = 0; i < LX_E820_N; i++) {
		uint8_t *e = bp + BP_E820_TABLE + i * 20;

		st64(e, map[i][0]);
		st64(e + 8, map[i][1]);
		st32(e + 16, (uint32_t)map[i][2]);
	}
	bp[BP_E820_ENTRIES] = LX_E820_N;
}

/* One CPUID table entry with the hypervisor model's answer, so that the
 * table and the CPUID intercept agree (the firmware checks the table the
 * hypervisor proposes against the hardware at launch). */
static void cpuid_entry(uint8_t *t, uint32_t fn, uint32_t sub, uint64_t xcr0)
{
	uint32_t n = ld32(t + CPUID_COUNT), out[4];
	uint8_t *e = t + CPUID_FN + n * CPUID_FN_SIZE;

	hv_cpuid(fn, sub, xcr0, out);
	st32(e, fn);
	st32(e + 4, sub);
	st64(e + 8, xcr0);
	memcpy(e + 24, out, 16);
	st32(t + CPUID_COUNT, n + 1);
}

/* The leaves the model answers (0x8000_0008 too: without it Linux takes 0
 * physical address bits and can map no ACPI table; the hypervisor's 0x4000_000x included: Linux
 * uses x2APIC without interrupt remapping only under a hypervisor it knows,
 * and finds the KVM clock there); 0xD entries for the legacy XSAVE area
 * (XCR0 = x87, XSS = 0), the ones Linux's snp_cpuid uses. */
static void build_cpuid_table(uint8_t *t)
{
	static const uint32_t fns[][2] = {
		{ 0, 0 },	   { 1, 0 },	      { 6, 0 },		 { 7, 0 },
		{ 0xD, 0 },	   { 0xD, 1 },	      { 0x40000000, 0 }, { 0x40000001, 0 },
		{ 0x80000000, 0 }, { 0x80000001, 0 }, { 0x80000008, 0 }, { 0x8000001F, 0 }
	};
	unsigned i;

	memset(t, 0, 4096);
	for (i = 0; i < sizeof(fns) / sizeof(fns[0]) && i < CPUID_FN_MAX; i++)
		cpuid_entry(t, fns[i][0], fns[i][1], fns[i][0] == 0xD ? 1 : 0);
}

/* setup_data SETUP_CC_BLOB -> struct cc_blob_sev_info (Linux
 * arch/x86/include/asm/sev.h): secrets page and CPUID page, 4 KiB each. */
static void build_cc_blob(uint8_t *sd)
{
	uint8_t *cc = sd + (LX_CC_BLOB - LX_CC_SETUP);

	memset(sd, 0, 4096);
	st64(sd, 0); /* next */
	st32(sd + 8, SETUP_CC_BLOB);
	st32(sd + 12, 4);
	st32(sd + 16, (uint32_t)LX_CC_BLOB);
	st32(cc, CC_BLOB_SEV_HDR_MAGIC);
	st64(cc + 8, VEIL_BOOT_SECRETS);
	st32(cc + 16, 4096);
	st64(cc + 24, LX_CPUID);
	st32(cc + 32, 4096);
}

/* Identity map of all guest memory with 2 MiB pages, C-bit set; a GDT with
 * the boot protocol's flat __BOOT_CS (0x10) and __BOOT_DS (0x18). */
static void build_cpu_state(struct emu_machine *m, struct veil_os_entry *e)
{
	uint64_t nr_gb = (emu_mem_size(m) + (1ULL << 30) - 1) >> 30, gb, i, cbit;
	uint8_t *pml4 = emu_gpa_ptr(m, LX_PGT, (2 + nr_gb) * 4096);
	uint8_t *gdt = emu_gpa_ptr(m, LX_GDT, 4096);
	uint32_t r[4];

	hv_cpuid(0x8000001F, 0, 0, r);
	cbit = 1ULL << (r[1] & 0x3F);
	memset(pml4, 0, (2 + nr_gb) * 4096);
	for (gb = 0; gb < nr_gb; gb++) {
		uint64_t pd = LX_PGT + (2 + gb) * 4096;

		st64(pml4 + 4096 + gb * 8, pd | 0x3 | cbit);
		for (i = 0; i < 512; i++)
			st64(pml4 + (2 + gb) * 4096 + i * 8,
			     ((gb << 30) + (i << 21)) | 0x83 | cbit);
	}
	st64(pml4, (LX_PGT + 4096) | 0x3 | cbit);

	memset(gdt, 0, 4096);
	st64(gdt + 0x10, 0x00AF9B000000FFFFULL); /* __BOOT_CS: code, 64-bit */
	st64(gdt + 0x18, 0x00CF93000000FFFFULL); /* __BOOT_DS: data, 4 GiB flat */
	*e = (struct veil_os_entry){ .rsi = LX_ZERO_PAGE,
				     .rsp = LX_STACK_TOP,
				     .cr3 = LX_PGT,
				     .gdt_base = LX_GDT,
				     .gdt_limit = 0x1F,
				     .cs = 0x10,
				     .ds = 0x18 };
}

/* The zero page: the kernel's setup header, then what the loader fills. */
static void build_zero_page(struct emu_machine *m, const uint8_t *k,
			    const struct emu_linux_boot *lb, const char *cmdline)
{
	uint8_t *bp = emu_gpa_ptr(m, LX_ZERO_PAGE, 4096);
	size_t hdr_end = 0x202 + k[BP_JUMP_END];

	if (hdr_end > BP_HDR_MAX)
		hdr_end = BP_HDR_MAX; /* a newer header than boot_params holds */

	memset(bp, 0, 4096);
	memcpy(bp + BP_HDR, k + BP_HDR, hdr_end - BP_HDR);
	bp[BP_VID_MODE] = 0xFF;
	bp[BP_VID_MODE + 1] = 0xFF; /* "normal" */
	bp[BP_TYPE_OF_LOADER] = 0xFF;
	bp[BP_LOADFLAGS] |= LOADED_HIGH;
	st32(bp + BP_RAMDISK_IMAGE, (uint32_t)lb->initrd);
	st32(bp + BP_RAMDISK_SIZE, (uint32_t)lb->initrd_size);
	st32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(lb->initrd >> 32));
	st32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(lb->initrd_size >> 32));
	st32(bp + BP_CMD_LINE_PTR, (uint32_t)LX_CMDLINE);
	st32(bp + BP_EXT_CMD_LINE_PTR, 0);
	st64(bp + BP_SETUP_DATA, LX_CC_SETUP);
	st64(bp + BP_ACPI_RSDP_ADDR,
	     lx_build_acpi(emu_gpa_ptr(m, LX_ACPI, 4096), LX_ACPI, m->cfg.nr_vcpus));
	build_e820(bp, emu_mem_size(m) - VEIL_MONITOR_SIZE, emu_mem_size(m));
	snprintf((char *)emu_gpa_ptr(m, LX_CMDLINE, LX_CMDLINE_MAX), LX_CMDLINE_MAX, "%s", cmdline);
}

/*
 * --init-script: a second newc cpio archive after the initrd, with the script
 * as /init.script (mode 0755, root's). Linux unpacks concatenated archives
 * in order, each starting 4-byte aligned after zero padding, and a later
 * file replaces an earlier one of the same name (Documentation/
 * driver-api/early-userspace/buffer-format.rst). The /init veil-emu builds
 * runs it; another initrd's /init may ignore it.
 */
#define CPIO_HDR 110 /* "070701" and 13 fields of 8 hex digits */
#define CPIO_ALIGN(x) (((x) + 3) & ~(size_t)3)

static size_t cpio_entry(uint8_t *out, const char *name, uint32_t mode, const uint8_t *data,
			 size_t len)
{
	size_t nlen = strlen(name) + 1, hdr = CPIO_ALIGN(CPIO_HDR + nlen);

	if (out) {
		char h[CPIO_HDR + 1];

		memset(out, 0, hdr + CPIO_ALIGN(len));
		/* magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
		 * devminor, rdevmajor, rdevminor, namesize, check */
		snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			 1u, mode, 0u, 0u, 1u, 0u, (unsigned)len, 0u, 0u, 0u, 0u, (unsigned)nlen,
			 0u);
		memcpy(out, h, CPIO_HDR);
		memcpy(out + CPIO_HDR, name, nlen);
		if (len)
			memcpy(out + hdr, data, len);
	}
	return hdr + CPIO_ALIGN(len);
}

/* Append the script archive to the initrd in *rd (reallocated). */
static int add_script(const char *path, uint8_t **rd, size_t *rdlen, char *err, size_t n)
{
	uint8_t *sc, *p;
	size_t sclen, off = CPIO_ALIGN(*rdlen), total;

	if (read_file(path, &sc, &sclen, err, n))
		return -1;
	if (sclen > 0xFFFFFFFFu) {
		free(sc);
		return fail(err, n, "--init-script %s: larger than a cpio entry holds", path);
	}
	total = off + cpio_entry(NULL, "init.script", 0100755, sc, sclen) +
		cpio_entry(NULL, "TRAILER!!!", 0, NULL, 0);
	p = realloc(*rd, total);
	if (!p) {
		free(sc);
		return fail(err, n, "--init-script %s: out of memory", path);
	}
	memset(p + *rdlen, 0, off - *rdlen);
	off += cpio_entry(p + off, "init.script", 0100755, sc, sclen);
	cpio_entry(p + off, "TRAILER!!!", 0, NULL, 0);
	free(sc);
	*rd = p;
	*rdlen = total;
	return 0;
}

/* Where kernel and initrd go; both must fit in OS RAM, apart, the initrd at
 * the top of OS RAM below the kernel's initrd_addr_max (2 GiB for 6.12). */
static int place(struct emu_machine *m, const uint8_t *k, size_t pm_len, size_t initrd_len,
		 struct emu_linux_boot *lb, char *err, size_t n)
{
	uint64_t mon_base = emu_mem_size(m) - VEIL_MONITOR_SIZE;
	uint64_t align = ld32(k + BP_KERNEL_ALIGNMENT), end;
	uint64_t top = ld32(k + BP_INITRD_ADDR_MAX) + 1ULL;

	memcpy(&lb->load, k + BP_PREF_ADDRESS, 8);
	lb->init_size = ld32(k + BP_INIT_SIZE);
	if (lb->init_size < pm_len)
		lb->init_size = pm_len;
	if (!align || (align & (align - 1)) || lb->load % align || lb->load < LX_LOW_END ||
	    lb->load >= mon_base)
		return fail(err, n, "%s", "the kernel's pref_address is not usable");
	end = lb->load + ((lb->init_size + 0xFFF) & ~0xFFFULL); /* both below 2^33 */
	lb->initrd_size = initrd_len;
	top = top < mon_base ? top : mon_base;
	lb->initrd = initrd_len < top ? (top - initrd_len) & ~0xFFFULL : 0;
	if (end > lb->initrd) {
		snprintf(err, n,
			 "kernel (%#llx + init_size %#llx) and initrd (%zu bytes) do not fit in "
			 "%llu MiB; use more --mem",
			 (unsigned long long)lb->load, (unsigned long long)lb->init_size,
			 initrd_len, (unsigned long long)(emu_mem_size(m) >> 20));
		return -1;
	}
	return 0;
}

int emu_load_linux(struct emu_machine *m, const struct emu_linux_opts *o, struct emu_linux_boot *lb,
		   struct emu_run_params *p, char *err, size_t errlen)
{
	uint8_t *k = NULL, *rd = NULL;
	size_t klen = 0, rdlen = 0, pm_off;
	int rc = -1;

	memset(lb, 0, sizeof(*lb));
	if (strlen(o->append) >= LX_CMDLINE_MAX)
		return fail(err, errlen, "%s", "--append is limited to 2047 characters");
	if (read_file(o->kernel, &k, &klen, err, errlen) ||
	    check_bzimage(k, klen, o->kernel, err, errlen))
		goto out;
	if (strlen(o->append) > ld32(k + BP_CMDLINE_SIZE)) {
		fail(err, errlen, "%s: the command line is longer than the kernel takes",
		     o->kernel);
		goto out;
	}
	if (o->initrd && read_file(o->initrd, &rd, &rdlen, err, errlen))
		goto out;
	if (o->script && add_script(o->script, &rd, &rdlen, err, errlen))
		goto out;
	pm_off = (setup_sects(k) + 1) * 512;
	if (place(m, k, klen - pm_off, rdlen, lb, err, errlen))
		goto out;
	memcpy(emu_gpa_ptr(m, lb->load, klen - pm_off), k + pm_off, klen - pm_off);
	if (rdlen)
		memcpy(emu_gpa_ptr(m, lb->initrd, rdlen), rd, rdlen);
	build_zero_page(m, k, lb, o->append);
	build_cc_blob(emu_gpa_ptr(m, LX_CC_SETUP, 4096));
	build_cpuid_table(emu_gpa_ptr(m, LX_CPUID, 4096));
	build_cpu_state(m, &lb->entry);

	p->entry = lb->load + 0x200; /* the 64-bit entry point */
	p->kernel_start = VEIL_BOOT_OS_MIN;
	p->kernel_end = emu_mem_size(m) - VEIL_MONITOR_SIZE;
	p->nr_segs = 0; /* no ELF segments to measure for kernel code integrity */
	p->linux_entry = &lb->entry;
	rc = 0;
out:
	free(k);
	free(rd);
	return rc;
}
