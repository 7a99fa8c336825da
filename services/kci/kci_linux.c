/* SPDX-License-Identifier: MIT */
/*
 * kci_linux.c - the lock for a Linux kernel the launch loaded.
 *
 * A bzImage is compressed: the measured bytes are not the text the kernel
 * runs, and the decompressor places and relocates the kernel itself. What the
 * launch does fix is the boot protocol's setup header and command line in the
 * zero page (Linux x86 boot protocol, Documentation/arch/x86/boot.rst). Read
 * at monitor start, before the OS runs, they bound where the kernel's image
 * may lie: from the load address rounded up to kernel_alignment (and not
 * below pref_address, the kernel's LOAD_PHYSICAL_ADDR) when "nokaslr" is
 * given, else anywhere aligned to kernel_alignment (Linux's x86 decompressor
 * and its KASLR); in both cases it ends within init_size of its start.
 * The declaration the running kernel sends (its _stext.._etext and
 * __start_rodata..__end_rodata, physical) must fit those bounds: one text
 * range at the image's start, one read-only range after it.
 */
#include <veil/abi.h>
#include <veil/lib.h>
#include <veil/service.h>

#include "kci.h"

/* Zero-page offsets (Documentation/arch/x86/zero-page.rst, boot.rst). */
#define LX_EXT_CMD_LINE_PTR 0x0C8
#define LX_CMD_LINE_PTR 0x228
#define LX_KERNEL_ALIGNMENT 0x230
#define LX_CMDLINE_SIZE 0x238
#define LX_PREF_ADDRESS 0x258
#define LX_INIT_SIZE 0x260
#define LX_ENTRY_64 0x200 /* the 64-bit entry: load address + 0x200 */
#define LX_CMDLINE_MAX 2048

static u64 ld32(const u8 *p)
{
	return (u64)p[0] | (u64)p[1] << 8 | (u64)p[2] << 16 | (u64)p[3] << 24;
}

static u64 str_len(const char *s, u64 max)
{
	u64 n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

static bool is_sep(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == 0;
}

/* "nokaslr" as a whole word of the command line. */
static bool has_nokaslr(const char *s, u64 n)
{
	static const char w[] = "nokaslr";
	u64 i;

	for (i = 0; i + sizeof(w) - 1 <= n; i++)
		if ((i == 0 || is_sep(s[i - 1])) && !veil_memcmp(s + i, w, sizeof(w) - 1) &&
		    (i + sizeof(w) - 1 == n || is_sep(s[i + sizeof(w) - 1])))
			return true;
	return false;
}

void veil_kci_linux_init(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_kci *k)
{
	const struct veil_launch *l = &mon->launch;
	const u8 *zp;
	const char *cmd;
	u64 ptr, size;

	if (l->os_boot != VEIL_OS_BOOT_LINUX || l->kernel_entry < LX_ENTRY_64)
		return;
	zp = veil_map(vc->be, l->os_entry.rsi, VEIL_PAGE_SIZE);
	if (!zp)
		return;
	k->linux.load = l->kernel_entry - LX_ENTRY_64;
	k->linux.pref = veil_ld64(zp + LX_PREF_ADDRESS);
	k->linux.align = ld32(zp + LX_KERNEL_ALIGNMENT);
	k->linux.init_size = ld32(zp + LX_INIT_SIZE);
	ptr = ld32(zp + LX_CMD_LINE_PTR) | (u64)ld32(zp + LX_EXT_CMD_LINE_PTR) << 32;
	size = ld32(zp + LX_CMDLINE_SIZE);
	if (size > LX_CMDLINE_MAX)
		size = LX_CMDLINE_MAX;
	cmd = ptr && veil_range_within(ptr, size, 0, l->mem_size) ? veil_map(vc->be, ptr, size) :
								    NULL;
	k->linux.kaslr = !(cmd && has_nokaslr(cmd, str_len(cmd, size)));
	/* A power of two (the boot protocol's rule); otherwise nothing is accepted. */
	k->linux.on = k->linux.align && !(k->linux.align & (k->linux.align - 1));
}

static const struct veil_kci_range *one_of(const struct veil_kci_decl *d, u32 kind)
{
	const struct veil_kci_range *r = NULL;
	u32 i;

	for (i = 0; i < d->nr_ranges; i++)
		if (d->ranges[i].kind == kind) {
			if (r)
				return NULL; /* the kernel image is one text, one rodata */
			r = &d->ranges[i];
		}
	return r;
}

/* Where the decompressed kernel starts when it is not randomised. */
static u64 fixed_base(const struct veil_kci_linux *x)
{
	u64 base = (x->load + x->align - 1) & ~(x->align - 1);

	return base < x->pref ? x->pref : base;
}

u64 veil_kci_linux_check(struct veil_monitor *mon, struct veil_kci *k,
			 const struct veil_kci_decl *d)
{
	const struct veil_kci_linux *x = &k->linux;
	const struct veil_kci_range *t, *r;
	u64 base;

	if (!x->on || d->nr_ranges != 2 || d->nr_exports)
		return VEIL_KCI_ERR_MISMATCH;
	t = one_of(d, VEIL_KCI_TEXT);
	r = one_of(d, VEIL_KCI_RODATA);
	if (!t || !r || !t->len || !r->len ||
	    !veil_aligned(t->gpa | t->len | r->gpa | r->len, VEIL_PAGE_SIZE))
		return VEIL_KCI_ERR_MISMATCH;
	base = t->gpa;
	if (x->kaslr ? !veil_aligned(base, x->align) : base != fixed_base(x))
		return VEIL_KCI_ERR_MISMATCH;
	/* text, then rodata, all within init_size of the start, all OS memory */
	if (t->len > x->init_size || r->gpa < base + t->len ||
	    !veil_range_within(r->gpa, r->len, base, base + x->init_size) ||
	    !veil_mem_owned_by(&mon->mem, base, r->gpa + r->len - base, VEIL_OWNER_OS))
		return VEIL_KCI_ERR_MISMATCH;
	k->linux.text_base = base;
	return SVSM_SUCCESS;
}
