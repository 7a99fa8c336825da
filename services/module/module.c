/* SPDX-License-Identifier: MIT */
/*
 * module.c - signed kernel modules (VEIL_PROTOCOL_MODULE).
 *
 * LOAD copies the module file into monitor memory, checks its signature
 * against the key built into the monitor image (so measured at launch),
 * takes the donated pages away from the OS, lays out and relocates the
 * ELF64 relocatable object there against the kernel's locked export table,
 * and only then gives VMPL3 text R+Xs and data R+W. UNLOAD revokes execute,
 * scrubs and gives the pages back. Every offset, size, index and name in the
 * file is hostile and checked before use.
 */
#include <bearssl/bearssl_ec.h>
#include <bearssl/bearssl_hash.h>
#include <veil/abi.h>
#include <veil/lib.h>
#include <veil/service.h>

#include "../kci/kci.h"
#include "elf64.h"
#include "module.h"
#include "module_key.h" /* generated: veil_module_pubkey[65] */

#define MAX_FILE (256u << 10)
#define MAX_PAGES 64

struct layout {
	const u8 *file;
	u64 len;
	const struct elf64_shdr *sh;
	u32 shnum;
	const struct elf64_sym *syms;
	u32 nsyms;
	const char *strtab;
	u64 strsz;
	u64 base, text_pages, pages;  /* placement */
	u64 region_pages[3];	      /* text, read-only, data */
	u64 addr[ELF64_MAX_SECTIONS]; /* GPA of each allocated section, 0 = none */
};

static int mod_init(struct veil_monitor *mon, struct veil_vcpu *vc)
{
	u64 pages = (sizeof(struct veil_modules) + VEIL_PAGE_SIZE - 1) / VEIL_PAGE_SIZE;
	u64 gpa = veil_monitor_alloc(mon, pages, VEIL_PAGE_SIZE);
	struct veil_modules *ms = gpa ? veil_map(vc->be, gpa, sizeof(*ms)) : NULL;

	_Static_assert(MAX_FILE <= VEIL_SCRATCH_SIZE, "a module fits the scratch buffer");
	if (!ms)
		return VEIL_ENOMEM;
	veil_memset(ms, 0, sizeof(*ms));
	ms->scratch = veil_monitor_scratch(mon, vc->be);
	mon->svc[VEIL_SVC_MODULE] = ms;
	return ms->scratch ? VEIL_OK : VEIL_ENOMEM;
}

static bool signature_ok(const u8 *file, u64 len, u8 hash[32])
{
	struct veil_sig_trailer t; /* copied: the file may end at any alignment */
	br_sha256_context ctx;
	br_ec_public_key pk = { BR_EC_secp256r1, (unsigned char *)veil_module_pubkey,
				sizeof(veil_module_pubkey) };

	if (len <= sizeof(t))
		return false;
	veil_memcpy(&t, file + len - sizeof(t), sizeof(t));
	if (veil_memcmp(t.magic, VEIL_SIG_MAGIC, 8) || t.signed_len != len - sizeof(t))
		return false;
	br_sha256_init(&ctx);
	br_sha256_update(&ctx, file, t.signed_len);
	br_sha256_out(&ctx, hash);
	return br_ecdsa_i31_vrfy_raw(&br_ec_p256_m31, hash, 32, &pk, t.sig, 64) == 1;
}

/* ---- ELF parsing: everything bounds-checked ------------------------------- */

static bool in_file(const struct layout *l, u64 off, u64 size)
{
	return veil_range_within(off, size, 0, l->len);
}

/* Does the section have bytes in the file? The one predicate both the bounds
 * check and the copy use, so nothing is copied that was not checked. */
static bool has_file_bytes(const struct elf64_shdr *s)
{
	return s->sh_type != ELF64_SHT_NOBITS && s->sh_type != ELF64_SHT_NULL;
}

static u64 check_ehdr(struct layout *l)
{
	const struct elf64_ehdr *eh = (const void *)l->file;

	if (l->len < sizeof(*eh) ||
	    veil_memcmp(eh->e_ident,
			"\x7f"
			"ELF",
			4) ||
	    eh->e_ident[4] != 2 || eh->e_ident[5] != 1 || eh->e_type != ELF64_ET_REL ||
	    eh->e_machine != ELF64_EM_X86_64 || eh->e_shentsize != sizeof(struct elf64_shdr) ||
	    eh->e_shnum == 0 || eh->e_shnum > ELF64_MAX_SECTIONS ||
	    !in_file(l, eh->e_shoff, (u64)eh->e_shnum * sizeof(struct elf64_shdr)) ||
	    !veil_aligned(eh->e_shoff, 8))
		return VEIL_MOD_ERR_FORMAT;
	l->sh = (const void *)(l->file + eh->e_shoff);
	l->shnum = eh->e_shnum;
	return SVSM_SUCCESS;
}

static u64 check_symtab(struct layout *l, const struct elf64_shdr *s)
{
	const struct elf64_shdr *st;

	if (l->syms || s->sh_entsize != sizeof(struct elf64_sym) || s->sh_link >= l->shnum ||
	    !veil_aligned(s->sh_offset, 8))
		return VEIL_MOD_ERR_FORMAT;
	st = &l->sh[s->sh_link];
	if (st->sh_type != ELF64_SHT_STRTAB || !st->sh_size ||
	    !in_file(l, st->sh_offset, st->sh_size) ||
	    l->file[st->sh_offset + st->sh_size - 1] != 0)
		return VEIL_MOD_ERR_FORMAT;
	l->syms = (const void *)(l->file + s->sh_offset);
	l->nsyms = (u32)(s->sh_size / sizeof(struct elf64_sym));
	l->strtab = (const char *)(l->file + st->sh_offset);
	l->strsz = st->sh_size;
	return SVSM_SUCCESS;
}

/* Every section header, whatever its type says: bytes inside the file, sane
 * alignment, never W+X, an allocated section never of type NULL (whose other
 * fields mean nothing), one symbol table. */
static u64 parse(struct layout *l)
{
	u64 rc = check_ehdr(l);
	u32 i;

	for (i = 0; rc == SVSM_SUCCESS && i < l->shnum; i++) {
		const struct elf64_shdr *s = &l->sh[i];
		bool alloc = s->sh_flags & ELF64_SHF_ALLOC;

		if ((has_file_bytes(s) && !in_file(l, s->sh_offset, s->sh_size)) ||
		    (alloc && s->sh_type == ELF64_SHT_NULL) ||
		    (alloc && (s->sh_addralign > VEIL_PAGE_SIZE ||
			       (s->sh_addralign & (s->sh_addralign - 1)))) ||
		    ((s->sh_flags & ELF64_SHF_WRITE) && (s->sh_flags & ELF64_SHF_EXECINSTR)))
			return VEIL_MOD_ERR_FORMAT;
		if (s->sh_type == ELF64_SHT_SYMTAB)
			rc = check_symtab(l, s);
	}
	if (rc == SVSM_SUCCESS && !l->syms)
		rc = VEIL_MOD_ERR_FORMAT;
	return rc;
}

/* Which region a section goes to: text (R+Xs), read-only (R), data (R+W). */
static u32 region_of(const struct elf64_shdr *s)
{
	if (s->sh_flags & ELF64_SHF_EXECINSTR)
		return 0;
	return (s->sh_flags & ELF64_SHF_WRITE) ? 2 : 1;
}

/* Place allocated sections in three page-aligned regions, in that order. */
static u64 place(struct layout *l, u64 donated_pages)
{
	u64 off[3] = { 0, 0, 0 }, start[3];
	u32 i, r;

	for (i = 0; i < l->shnum; i++) {
		const struct elf64_shdr *s = &l->sh[i];
		u64 a = s->sh_addralign ? s->sh_addralign : 1;

		if (!(s->sh_flags & ELF64_SHF_ALLOC))
			continue;
		r = region_of(s);
		off[r] = (off[r] + a - 1) & ~(a - 1);
		l->addr[i] = off[r] + 1; /* relative for now, +1 marks "placed" */
		if (!veil_add_ok(off[r], s->sh_size, &off[r]) || off[r] > MAX_FILE)
			return VEIL_MOD_ERR_FORMAT;
	}
	for (r = 0; r < 3; r++)
		l->region_pages[r] = (off[r] + VEIL_PAGE_SIZE - 1) / VEIL_PAGE_SIZE;
	l->text_pages = l->region_pages[0];
	l->pages = l->region_pages[0] + l->region_pages[1] + l->region_pages[2];
	if (!l->text_pages || l->pages > donated_pages)
		return VEIL_MOD_ERR_SPACE;
	start[0] = l->base;
	start[1] = start[0] + l->region_pages[0] * VEIL_PAGE_SIZE;
	start[2] = start[1] + l->region_pages[1] * VEIL_PAGE_SIZE;
	for (i = 0; i < l->shnum; i++)
		if (l->addr[i])
			l->addr[i] = start[region_of(&l->sh[i])] + l->addr[i] - 1;
	return SVSM_SUCCESS;
}

/* The value of symbol `idx`: a module section address or a kernel export. */
static u64 resolve(struct veil_monitor *mon, const struct layout *l, u64 idx, u64 *val)
{
	const struct elf64_sym *s;
	const char *name;
	u64 nlen = 0;

	if (idx >= l->nsyms)
		return VEIL_MOD_ERR_SYMBOL;
	s = &l->syms[idx];
	if (s->st_shndx == ELF64_SHN_UNDEF) {
		const struct veil_kci_export *e;

		if (s->st_name >= l->strsz)
			return VEIL_MOD_ERR_SYMBOL;
		name = l->strtab + s->st_name;
		while (s->st_name + nlen < l->strsz && name[nlen])
			nlen++;
		e = veil_kci_lookup(mon, name, nlen);
		if (!e)
			return VEIL_MOD_ERR_SYMBOL;
		*val = e->addr;
		return SVSM_SUCCESS;
	}
	if (s->st_shndx >= l->shnum || !l->addr[s->st_shndx] ||
	    s->st_value > l->sh[s->st_shndx].sh_size)
		return VEIL_MOD_ERR_SYMBOL;
	*val = l->addr[s->st_shndx] + s->st_value;
	return SVSM_SUCCESS;
}

static bool fits_s32(s64 v)
{
	return v >= -2147483648LL && v <= 2147483647LL;
}

static u64 relocate_one(struct veil_monitor *mon, const struct layout *l, u8 *target_mem,
			u32 target, const struct elf64_rela *r)
{
	const struct elf64_shdr *t = &l->sh[target];
	u32 type = (u32)r->r_info;
	u64 sym, size = type == ELF64_R_X86_64_64 ? 8 : 4, p, rc;
	s64 v;
	u32 v32;

	if (!veil_range_within(r->r_offset, size, 0, t->sh_size))
		return VEIL_MOD_ERR_RELOC;
	rc = resolve(mon, l, r->r_info >> 32, &sym);
	if (rc != SVSM_SUCCESS)
		return rc;
	p = l->addr[target] + r->r_offset;
	switch (type) {
	case ELF64_R_X86_64_64:
		v = (s64)(sym + (u64)r->r_addend);
		if (target_mem)
			veil_memcpy(target_mem + r->r_offset, &v, 8);
		return SVSM_SUCCESS;
	case ELF64_R_X86_64_PC32:
	case ELF64_R_X86_64_PLT32:
		v = (s64)(sym + (u64)r->r_addend - p);
		if (!fits_s32(v))
			return VEIL_MOD_ERR_RELOC;
		break;
	case ELF64_R_X86_64_32:
		v = (s64)(sym + (u64)r->r_addend);
		if ((u64)v > 0xFFFFFFFFULL)
			return VEIL_MOD_ERR_RELOC;
		break;
	case ELF64_R_X86_64_32S:
		v = (s64)(sym + (u64)r->r_addend);
		if (!fits_s32(v))
			return VEIL_MOD_ERR_RELOC;
		break;
	default:
		return VEIL_MOD_ERR_RELOC;
	}
	v32 = (u32)v;
	if (target_mem)
		veil_memcpy(target_mem + r->r_offset, &v32, 4);
	return SVSM_SUCCESS;
}

/*
 * Every RELA entry of every allocated section: with mem NULL, only checked
 * (placement done, nothing written: the whole file is judged before a page
 * leaves the OS); with mem, applied to the module's pages.
 */
static u64 relocate(struct veil_monitor *mon, const struct layout *l, u8 *mem)
{
	u32 i;
	u64 j, rc;

	for (i = 0; i < l->shnum; i++) {
		const struct elf64_shdr *s = &l->sh[i];
		const struct elf64_rela *r;

		if (s->sh_type != ELF64_SHT_RELA)
			continue;
		/* The offset is the OS's: checked before any pointer is formed
		 * from it (an empty section's may point anywhere). */
		if (s->sh_entsize != sizeof(*r) || s->sh_info >= l->shnum ||
		    !veil_aligned(s->sh_offset, 8) || s->sh_size % sizeof(*r) ||
		    !in_file(l, s->sh_offset, s->sh_size))
			return VEIL_MOD_ERR_FORMAT;
		r = (const void *)(l->file + s->sh_offset);
		if (!l->addr[s->sh_info])
			continue; /* relocations of a non-allocated section (debug info) */
		for (j = 0; j < s->sh_size / sizeof(*r); j++) {
			rc = relocate_one(mon, l,
					  mem ? mem + (l->addr[s->sh_info] - l->base) : NULL,
					  s->sh_info, &r[j]);
			if (rc != SVSM_SUCCESS)
				return rc;
		}
	}
	return SVSM_SUCCESS;
}

/* Copy sections into the (monitor-owned) pages and apply every RELA. */
static u64 load_sections(struct veil_monitor *mon, struct veil_vcpu *vc, struct layout *l)
{
	u8 *mem = veil_map(vc->be, l->base, l->pages * VEIL_PAGE_SIZE);
	u32 i;

	if (!mem)
		return VEIL_MOD_ERR_PAGES;
	veil_memset(mem, 0, l->pages * VEIL_PAGE_SIZE);
	for (i = 0; i < l->shnum; i++)
		if (l->addr[i] && has_file_bytes(&l->sh[i]))
			veil_memcpy(mem + (l->addr[i] - l->base), l->file + l->sh[i].sh_offset,
				    l->sh[i].sh_size);
	return relocate(mon, l, mem);
}

/* A global function symbol defined in a text section, or 0. */
static u64 entry_point(const struct layout *l, const char *want, usize wlen)
{
	u32 i;

	for (i = 1; i < l->nsyms; i++) {
		const struct elf64_sym *s = &l->syms[i];

		if (s->st_shndx == ELF64_SHN_UNDEF || s->st_shndx >= l->shnum ||
		    !l->addr[s->st_shndx] || !(l->sh[s->st_shndx].sh_flags & ELF64_SHF_EXECINSTR) ||
		    s->st_name + wlen >= l->strsz || s->st_value >= l->sh[s->st_shndx].sh_size)
			continue;
		if (!veil_memcmp(l->strtab + s->st_name, want, wlen + 1))
			return l->addr[s->st_shndx] + s->st_value;
	}
	return 0;
}

/* Give pages their module permissions (or none), re-deriving the RMP; a
 * page the RMP refuses keeps its record and masks (veil_mem_set_perms). */
static int set_perms(struct veil_monitor *mon, struct veil_vcpu *vc, u64 base, u64 pages, u8 perms)
{
	u64 i;

	for (i = 0; i < pages; i++)
		if (veil_mem_set_perms(&mon->mem, vc->be, base + i * VEIL_PAGE_SIZE, perms))
			return VEIL_EHW;
	veil_tlb_flush(vc->be);
	return VEIL_OK;
}

/*
 * Every page loses every right (execute before the scrub), then zeros, then
 * back to the OS. A page the RMP refuses is not in the state the monitor
 * recorded: a page state change behind it (the OS can ask the hypervisor for
 * one on any page). Every other page still loses its rights first, then it
 * is tampering (the scrub would fault at VMPL0 on that page, and the pages
 * could not go back as they came): record it and stop the CVM.
 */
static void give_back(struct veil_monitor *mon, struct veil_vcpu *vc, u64 base, u64 pages)
{
	u8 *mem = veil_map(vc->be, base, pages * VEIL_PAGE_SIZE);
	u64 i, bad = ~0ULL;

	for (i = 0; i < pages; i++)
		if (veil_mem_set_perms(&mon->mem, vc->be, base + i * VEIL_PAGE_SIZE, 0) &&
		    bad == ~0ULL)
			bad = base + i * VEIL_PAGE_SIZE;
	veil_tlb_flush(vc->be);
	if (bad != ~0ULL)
		veil_monitor_tamper(mon, vc, bad, "a module page's state");
	if (mem)
		veil_memset(mem, 0, pages * VEIL_PAGE_SIZE);
	if (veil_mem_transfer(&mon->mem, vc->be, base, pages * VEIL_PAGE_SIZE, VEIL_OWNER_MODULE,
			      VEIL_OWNER_OS, 0))
		veil_monitor_tamper(mon, vc, base, "a module page's state");
}

static u64 mod_load(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_modules *ms,
		    struct veil_call *c)
{
	struct layout l = { .file = ms->scratch };
	const void *src;
	u8 hash[32];
	u64 rc, init, fini;
	u32 slot, i;

	if (!veil_kci_locked(mon))
		return VEIL_MOD_ERR_NOT_LOCKED;
	if (c->rdx == 0 || c->rdx > MAX_FILE || !c->r9 || c->r9 > MAX_PAGES ||
	    !veil_aligned(c->r8, VEIL_PAGE_SIZE))
		return SVSM_ERR_INVALID_PARAMETER;
	src = veil_os_read(mon, vc->be, c->rcx, c->rdx);
	if (!src)
		return SVSM_ERR_INVALID_ADDRESS;
	veil_memcpy(ms->scratch, src, c->rdx); /* from here on the OS cannot change it */
	l.len = c->rdx;
	if (!signature_ok(l.file, l.len, hash))
		return VEIL_MOD_ERR_SIGNATURE;
	l.len -= sizeof(struct veil_sig_trailer);
	for (slot = VEIL_MAX_MODULES, i = 0; i < VEIL_MAX_MODULES; i++) {
		if (ms->mod[i].loaded && !veil_memcmp(ms->mod[i].hash, hash, 32))
			return VEIL_MOD_ERR_LOADED;
		if (!ms->mod[i].loaded && slot == VEIL_MAX_MODULES)
			slot = i;
	}
	if (slot == VEIL_MAX_MODULES)
		return SVSM_ERR_BUSY;
	l.base = c->r8;
	/* Donated pages must be plain OS data: validated (the monitor writes
	 * them, and an unvalidated one may already be shared with the
	 * hypervisor) and not locked image text/rodata (UNLOAD would give them
	 * back writable). Every donated page, used or not. */
	if (!veil_mem_os_takeable(&mon->mem, l.base, c->r9 * VEIL_PAGE_SIZE))
		return VEIL_MOD_ERR_PAGES;
	/* The whole file is judged before anything is placed or taken. */
	rc = parse(&l);
	if (rc == SVSM_SUCCESS)
		rc = place(&l, c->r9);
	if (rc == SVSM_SUCCESS)
		rc = relocate(mon, &l, NULL);
	init = entry_point(&l, "veil_module_init", 16);
	fini = entry_point(&l, "veil_module_exit", 16);
	if (rc == SVSM_SUCCESS && !init)
		rc = VEIL_MOD_ERR_SYMBOL;
	if (rc != SVSM_SUCCESS)
		return rc;
	/* The pages leave the OS (all or nothing) before anything is written. */
	if (veil_mem_transfer(&mon->mem, vc->be, l.base, l.pages * VEIL_PAGE_SIZE, VEIL_OWNER_OS,
			      VEIL_OWNER_MODULE, 0))
		return VEIL_MOD_ERR_PAGES;
	if (set_perms(mon, vc, l.base, l.pages, 0) || load_sections(mon, vc, &l) != SVSM_SUCCESS) {
		give_back(mon, vc, l.base, l.pages);
		return SVSM_ERR_PROTOCOL_BASE + 0xF;
	}
	if (set_perms(mon, vc, l.base, l.region_pages[0], RMP_PERM_R | RMP_PERM_XS) ||
	    set_perms(mon, vc, l.base + l.region_pages[0] * VEIL_PAGE_SIZE, l.region_pages[1],
		      RMP_PERM_R) ||
	    set_perms(mon, vc, l.base + (l.region_pages[0] + l.region_pages[1]) * VEIL_PAGE_SIZE,
		      l.region_pages[2], RMP_PERM_R | RMP_PERM_W)) {
		give_back(mon, vc, l.base, l.pages);
		return SVSM_ERR_PROTOCOL_BASE + 0xF;
	}
	ms->mod[slot] = (struct veil_module){
		.loaded = true, .base = l.base, .pages = l.pages, .text_pages = l.text_pages
	};
	veil_memcpy(ms->mod[slot].hash, hash, 32);
	ms->generation++;
	ms->mod[slot].handle = ((u64)ms->generation << 8) | slot;
	c->rcx = ms->mod[slot].handle;
	c->rdx = init;
	c->r8 = fini;
	return SVSM_SUCCESS;
}

static u64 mod_unload(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_modules *ms,
		      struct veil_call *c)
{
	u64 slot = c->rcx & 0xFF;
	struct veil_module *m;

	if (slot >= VEIL_MAX_MODULES)
		return VEIL_MOD_ERR_NOT_LOADED;
	m = &ms->mod[slot];
	if (!m->loaded || m->handle != c->rcx)
		return VEIL_MOD_ERR_NOT_LOADED;
	give_back(mon, vc, m->base, m->pages);
	veil_memset(m, 0, sizeof(*m));
	return SVSM_SUCCESS;
}

static u64 mod_call(struct veil_monitor *mon, struct veil_vcpu *vc, u32 call, struct veil_call *c)
{
	struct veil_modules *ms = mon->svc[VEIL_SVC_MODULE];

	switch (call) {
	case VEIL_MOD_LOAD:
		return mod_load(mon, vc, ms, c);
	case VEIL_MOD_UNLOAD:
		return mod_unload(mon, vc, ms, c);
	default:
		return SVSM_ERR_UNSUPPORTED_CALL;
	}
}

const struct veil_service veil_module_service = {
	.name = "module",
	.protocol = VEIL_PROTOCOL_MODULE,
	.min_version = 1,
	.max_version = 1,
	.init = mod_init,
	.call = mod_call,
};
