/* SPDX-License-Identifier: MIT */
/*
 * enclave.c - enclaves (VEIL_PROTOCOL_ENCLAVE): isolated user programs in
 * VMPL2 CPL3 domains (core/domain.c).
 *
 * CREATE copies the ELF image out of OS memory, takes the donated pages away
 * from the OS (VMPL3 keeps no access to any of them), builds the enclave's
 * page table, trusted pages and stack in them, places and measures every
 * page (SHA-384, like SGX's MRENCLAVE or SNP's launch digest), and grants
 * VMPL2 exactly what each page needs. ENTER runs the enclave on the calling
 * vCPU from its entry point, with a VMSA for that vCPU made on demand, until
 * it leaves through the trusted SYSCALL path, faults (trap path or an RMP
 * violation: the enclave is dead, the event recorded in the secure log), is
 * stopped by an interrupt for the OS (its registers saved in monitor memory
 * and zeroed in its VMSA; CONTINUE goes on from them, on any vCPU), or
 * cannot run. DESTROY scrubs every page before the OS gets it back. Every
 * offset and size in the image is hostile and checked before use.
 */
#include <bearssl/bearssl_ec.h>
#include <bearssl/bearssl_hash.h>
#include <veil/abi.h>
#include <veil/lib.h>

#include "../module/elf64.h"
#include "enclave.h"
#include "layout.h"
#include "module_key.h" /* generated: the key veil-sign signatures are checked with */

#define PTE_P VEIL_PTE_P
#define PTE_W VEIL_PTE_W
#define PTE_U VEIL_PTE_U
#define PTE_A VEIL_PTE_A
#define PTE_D VEIL_PTE_D
#define PTE_C VEIL_PTE_C
#define PTE_NX VEIL_PTE_NX
#define PTE_TABLE VEIL_PTE_TABLE
#define IMAGE_PAGES ((VEIL_ENC_IMAGE_END - VEIL_ENC_VA_BASE) / VEIL_PAGE_SIZE)
#define STACK_FIRST \
	((VEIL_ENC_STACK_TOP - VEIL_ENC_VA_BASE) / VEIL_PAGE_SIZE - VEIL_ENC_STACK_PAGES)
#define OCALL_PAGE ((VEIL_ENC_OCALL_VA - VEIL_ENC_VA_BASE) / VEIL_PAGE_SIZE)
#define FIXED_PAGES 8 /* PML4, PDPT, PD, PT, stub, system page, trap stack, ocall page */

struct image {
	const u8 *file;
	u64 len;
	const struct elf64_ehdr *eh;
	u64 pages;	       /* image pages to place */
	u8 flags[IMAGE_PAGES]; /* VEIL_ENC_PAGE_* per window page, 0 = none */
};

static struct veil_enclaves *state(struct veil_monitor *mon)
{
	return mon->svc[VEIL_SVC_ENCLAVE];
}

static int enc_init(struct veil_monitor *mon, struct veil_vcpu *vc)
{
	u64 pages = (sizeof(struct veil_enclaves) + VEIL_PAGE_SIZE - 1) / VEIL_PAGE_SIZE;
	u64 gpa = veil_monitor_alloc(mon, pages, VEIL_PAGE_SIZE);
	struct veil_enclaves *es = gpa ? veil_map(vc->be, gpa, sizeof(*es)) : NULL;

	_Static_assert(VEIL_ENC_MAX_IMAGE <= VEIL_SCRATCH_SIZE, "an image fits the scratch buffer");
	if (!es)
		return VEIL_ENOMEM;
	veil_memset(es, 0, sizeof(*es));
	es->scratch = veil_monitor_scratch(mon, vc->be);
	mon->svc[VEIL_SVC_ENCLAVE] = es;
	return es->scratch ? VEIL_OK : VEIL_ENOMEM;
}

/* ---- the image: every field checked ---------------------------------------- */

static bool ehdr_ok(const struct image *im)
{
	const struct elf64_ehdr *eh = im->eh;
	u64 ph_len;

	return !veil_memcmp(eh->e_ident, "\177ELF", 4) && eh->e_ident[4] == 2 &&
	       eh->e_ident[5] == 1 && eh->e_type == ELF64_ET_EXEC &&
	       eh->e_machine == ELF64_EM_X86_64 && eh->e_phentsize == sizeof(struct elf64_phdr) &&
	       eh->e_phnum >= 1 && veil_mul_ok(eh->e_phnum, sizeof(struct elf64_phdr), &ph_len) &&
	       veil_range_within(eh->e_phoff, ph_len, 0, im->len) && veil_aligned(eh->e_phoff, 8);
}

static u8 seg_flags(u32 p_flags)
{
	return VEIL_ENC_PAGE_R | (p_flags & ELF64_PF_W ? VEIL_ENC_PAGE_W : 0) |
	       (p_flags & ELF64_PF_X ? VEIL_ENC_PAGE_X : 0);
}

/* One PT_LOAD: inside the window, inside the file, W^X, no shared pages. */
static bool segment_ok(struct image *im, const struct elf64_phdr *ph)
{
	u64 end, first, last, i;

	if (!ph->p_memsz || ph->p_filesz > ph->p_memsz ||
	    ((ph->p_flags & ELF64_PF_W) && (ph->p_flags & ELF64_PF_X)) ||
	    !veil_range_within(ph->p_offset, ph->p_filesz, 0, im->len) ||
	    !veil_add_ok(ph->p_vaddr, ph->p_memsz, &end) ||
	    !veil_range_within(ph->p_vaddr, ph->p_memsz, VEIL_ENC_VA_BASE, VEIL_ENC_IMAGE_END))
		return false;
	first = (ph->p_vaddr - VEIL_ENC_VA_BASE) / VEIL_PAGE_SIZE;
	last = (end - 1 - VEIL_ENC_VA_BASE) / VEIL_PAGE_SIZE;
	for (i = first; i <= last; i++) {
		if (im->flags[i])
			return false; /* two segments in one page: one set of permissions */
		im->flags[i] = seg_flags(ph->p_flags);
		im->pages++;
	}
	return true;
}

static const struct elf64_phdr *phdr(const struct image *im, u32 i)
{
	return (const struct elf64_phdr *)(im->file + im->eh->e_phoff) + i;
}

static bool image_ok(struct image *im)
{
	u64 entry;
	u32 i;

	if (im->len < sizeof(struct elf64_ehdr) || !ehdr_ok(im))
		return false;
	for (i = 0; i < im->eh->e_phnum; i++)
		if (phdr(im, i)->p_type == ELF64_PT_LOAD && !segment_ok(im, phdr(im, i)))
			return false;
	entry = im->eh->e_entry;
	return im->pages && veil_range_within(entry, 1, VEIL_ENC_VA_BASE, VEIL_ENC_IMAGE_END) &&
	       (im->flags[(entry - VEIL_ENC_VA_BASE) / VEIL_PAGE_SIZE] & VEIL_ENC_PAGE_X);
}

/*
 * An optional veil-sign trailer (struct veil_sig_trailer, as for modules):
 * 1 = the image is signed with the key the monitor image embeds (so the key
 * is part of the launch measurement), 0 = no trailer, -1 = a trailer that
 * does not verify. *len becomes the length of the signed ELF bytes.
 */
static int image_signature(const u8 *file, u64 *len)
{
	struct veil_sig_trailer t; /* copied: the file may end at any alignment */
	br_ec_public_key pk = { BR_EC_secp256r1, (unsigned char *)veil_module_pubkey,
				sizeof(veil_module_pubkey) };
	br_sha256_context ctx;
	u8 hash[32];

	if (*len <= sizeof(t))
		return 0;
	veil_memcpy(&t, file + *len - sizeof(t), sizeof(t));
	if (veil_memcmp(t.magic, VEIL_SIG_MAGIC, 8))
		return 0;
	if (t.signed_len != *len - sizeof(t))
		return -1;
	br_sha256_init(&ctx);
	br_sha256_update(&ctx, file, t.signed_len);
	br_sha256_out(&ctx, hash);
	if (br_ecdsa_i31_vrfy_raw(&br_ec_p256_m31, hash, 32, &pk, t.sig, 64) != 1)
		return -1;
	*len = t.signed_len;
	return 1;
}

/* ---- the pool of donated pages ---------------------------------------------- */

/* A free pool page (zeroed), not 2 MiB aligned when for a VMSA; 0 if none. */
static u64 pool_take(struct veil_enclave *e, struct veil_backend *be, bool vmsa)
{
	u64 i, gpa;
	u8 *p;

	for (i = 0; i < e->npages; i++) {
		gpa = e->pool + i * VEIL_PAGE_SIZE;
		if ((e->used[i / 64] >> (i % 64)) & 1 ||
		    (vmsa && veil_aligned(gpa, VEIL_HUGE_SIZE)))
			continue;
		p = veil_map(be, gpa, VEIL_PAGE_SIZE);
		if (!p)
			return 0;
		veil_memset(p, 0, VEIL_PAGE_SIZE);
		e->used[i / 64] |= 1ULL << (i % 64);
		return gpa;
	}
	return 0;
}

/* A pool page is still free (not 2 MiB aligned, so it can be a VMSA)? */
static bool pool_left(const struct veil_enclave *e)
{
	u64 i;

	for (i = 0; i < e->npages; i++)
		if (!((e->used[i / 64] >> (i % 64)) & 1) &&
		    !veil_aligned(e->pool + i * VEIL_PAGE_SIZE, VEIL_HUGE_SIZE))
			return true;
	return false;
}

/* ---- building the enclave --------------------------------------------------- */

static void measure(br_sha384_context *h, u64 va, u32 flags, const u8 *page)
{
	struct veil_enc_measure_rec r = { va, flags, 0 };

	br_sha384_update(h, &r, sizeof(r));
	br_sha384_update(h, page, VEIL_PAGE_SIZE);
}

/* Map window page i to gpa in the enclave's page table, and grant VMPL2. */
static int map_page(struct veil_monitor *mon, struct veil_backend *be, struct veil_enclave *e,
		    u64 i, u64 gpa, u64 pte_flags, u8 perms)
{
	u64 *pt = veil_map(be, e->pt, VEIL_PAGE_SIZE);

	if (!pt)
		return VEIL_ERANGE;
	pt[i] = gpa | pte_flags | PTE_P | PTE_A | PTE_C;
	return veil_domain_grant(mon, be, &e->dom, gpa, perms);
}

static int build_tables(struct veil_monitor *mon, struct veil_backend *be, struct veil_enclave *e)
{
	u64 pdpt, pd, *t;

	e->pml4 = pool_take(e, be, false);
	pdpt = pool_take(e, be, false);
	pd = pool_take(e, be, false);
	e->pt = pool_take(e, be, false);
	if (!e->pml4 || !pdpt || !pd || !e->pt)
		return VEIL_ENOMEM;
	/* VEIL_ENC_VA_BASE (1 GiB): PML4 slot 0, PDPT slot 1, PD slot 0. */
	t = veil_map(be, e->pml4, VEIL_PAGE_SIZE);
	t[0] = pdpt | PTE_TABLE;
	t = veil_map(be, pdpt, VEIL_PAGE_SIZE);
	t[(VEIL_ENC_VA_BASE >> 30) & 511] = pd | PTE_TABLE;
	t = veil_map(be, pd, VEIL_PAGE_SIZE);
	t[(VEIL_ENC_VA_BASE >> 21) & 511] = e->pt | PTE_TABLE;
	/* The walk only reads them (A and D preset): R at VMPL2, never W. */
	if (veil_domain_grant(mon, be, &e->dom, e->pml4, RMP_PERM_R) ||
	    veil_domain_grant(mon, be, &e->dom, pdpt, RMP_PERM_R) ||
	    veil_domain_grant(mon, be, &e->dom, pd, RMP_PERM_R) ||
	    veil_domain_grant(mon, be, &e->dom, e->pt, RMP_PERM_R))
		return VEIL_EHW;
	return VEIL_OK;
}

/* GDT, TSS (IST1 = RSP0 = the trap stack) and 32 trap gates. */
struct veil_domain veil_enclave_domain(u8 vmpl, u8 owner, u8 id, u64 entry, u64 tls)
{
	return (struct veil_domain){ .vmpl = vmpl,
				     .owner = owner,
				     .id = id,
				     .entry = entry,
				     .stack = tls,
				     .fs_base = tls,
				     .syscall_entry = ENC_STUB_VA,
				     .gdt = ENC_SYS_VA,
				     .gdt_limit = 0x37,
				     .idt = ENC_SYS_VA + ENC_SYS_IDT_OFF,
				     .idt_limit = ENC_NR_TRAPS * 16 - 1,
				     .tss = ENC_SYS_VA + ENC_SYS_TSS_OFF };
}

void veil_enclave_fill_system_page(u8 *sys)
{
	static const u64 gdt[] = { 0, 0x00AF9B000000FFFFULL, 0x00CF93000000FFFFULL,
				   0x00CFF3000000FFFFULL, 0x00AFFB000000FFFFULL };
	u64 tss = ENC_SYS_VA + ENC_SYS_TSS_OFF, v, h;
	u16 iobase = 0x68;

	veil_memcpy(sys, gdt, sizeof(gdt));
	veil_st64(sys + 0x28,
		  0x67 | ((tss & 0xFFFFFF) << 16) | (0x8BULL << 40) | (((tss >> 24) & 0xFF) << 56));
	veil_st64(sys + 0x30, tss >> 32);
	veil_st64(sys + ENC_SYS_TSS_OFF + 4, ENC_IST_TOP);    /* RSP0 */
	veil_st64(sys + ENC_SYS_TSS_OFF + 0x24, ENC_IST_TOP); /* IST1 */
	veil_memcpy(sys + ENC_SYS_TSS_OFF + 0x66, &iobase, 2);
	for (v = 0; v < ENC_NR_TRAPS; v++) {
		h = ENC_STUB_VA + ENC_STUB_TRAPS_OFF + v * 16;
		/* 64-bit interrupt gate, DPL0, IST1 (APM vol 2, 4.8.4). */
		veil_st64(sys + ENC_SYS_IDT_OFF + v * 16, (h & 0xFFFF) | (0x08ULL << 16) |
								  (1ULL << 32) | (0x8EULL << 40) |
								  (((h >> 16) & 0xFFFF) << 48));
		veil_st64(sys + ENC_SYS_IDT_OFF + v * 16 + 8, h >> 32);
	}
}

static int build_trusted(struct veil_monitor *mon, struct veil_backend *be, struct veil_enclave *e,
			 br_sha384_context *h)
{
	u64 stub = pool_take(e, be, false), sys = pool_take(e, be, false);
	u64 len = (u64)(veil_enclave_stub_end - veil_enclave_stub);
	u8 *p;

	e->tstack = pool_take(e, be, false);
	if (!stub || !sys || !e->tstack || len > VEIL_PAGE_SIZE)
		return VEIL_ENOMEM;
	p = veil_map(be, stub, VEIL_PAGE_SIZE);
	veil_memcpy(p, veil_enclave_stub, len);
	measure(h, ENC_STUB_VA, VEIL_ENC_PAGE_R | VEIL_ENC_PAGE_X, p);
	p = veil_map(be, sys, VEIL_PAGE_SIZE);
	veil_enclave_fill_system_page(p);
	measure(h, ENC_SYS_VA, VEIL_ENC_PAGE_R, p);
	/* Supervisor-only (U = 0): the enclave itself cannot touch them. */
	if (map_page(mon, be, e, ENC_PT_STUB, stub, 0, RMP_PERM_R | RMP_PERM_XS) ||
	    map_page(mon, be, e, ENC_PT_SYS, sys, PTE_NX, RMP_PERM_R) ||
	    map_page(mon, be, e, ENC_PT_TSTACK, e->tstack, PTE_W | PTE_D | PTE_NX,
		     RMP_PERM_R | RMP_PERM_W))
		return VEIL_EHW;
	return VEIL_OK;
}

static u8 rmp_perms(u8 flags)
{
	return RMP_PERM_R | (flags & VEIL_ENC_PAGE_W ? RMP_PERM_W : 0) |
	       (flags & VEIL_ENC_PAGE_X ? RMP_PERM_XU : 0);
}

static u64 pte_flags(u8 flags)
{
	return PTE_U | (flags & VEIL_ENC_PAGE_W ? PTE_W | PTE_D : 0) |
	       (flags & VEIL_ENC_PAGE_X ? 0 : PTE_NX);
}

/* The bytes of the file that land in window page i. */
static void fill_image_page(const struct image *im, u64 i, u8 *page)
{
	u64 va = VEIL_ENC_VA_BASE + i * VEIL_PAGE_SIZE, lo, hi;
	u32 k;

	for (k = 0; k < im->eh->e_phnum; k++) {
		const struct elf64_phdr *ph = phdr(im, k);

		if (ph->p_type != ELF64_PT_LOAD)
			continue;
		lo = ph->p_vaddr > va ? ph->p_vaddr : va;
		hi = ph->p_vaddr + ph->p_filesz;
		if (hi > va + VEIL_PAGE_SIZE)
			hi = va + VEIL_PAGE_SIZE;
		if (lo < hi) /* within the file: segment_ok checked the whole segment */
			veil_memcpy(page + (lo - va), im->file + ph->p_offset + (lo - ph->p_vaddr),
				    hi - lo);
	}
}

static int place(struct veil_monitor *mon, struct veil_backend *be, struct veil_enclave *e, u64 i,
		 u8 flags, const struct image *im, br_sha384_context *h)
{
	u64 gpa = pool_take(e, be, false);
	u8 *p = gpa ? veil_map(be, gpa, VEIL_PAGE_SIZE) : NULL;

	if (!p)
		return VEIL_ENOMEM;
	if (im)
		fill_image_page(im, i, p);
	measure(h, VEIL_ENC_VA_BASE + i * VEIL_PAGE_SIZE, flags, p);
	if (flags & VEIL_ENC_PAGE_OCALL)
		e->ocall = gpa;
	return map_page(mon, be, e, i, gpa, pte_flags(flags), rmp_perms(flags));
}

static int build(struct veil_monitor *mon, struct veil_backend *be, struct veil_enclave *e,
		 const struct image *im)
{
	br_sha384_context *h = &e->hash;
	u64 i;
	int rc;

	br_sha384_init(h);
	rc = build_tables(mon, be, e);
	if (!rc)
		rc = build_trusted(mon, be, e, h);
	for (i = 0; !rc && i < IMAGE_PAGES; i++)
		if (im->flags[i])
			rc = place(mon, be, e, i, im->flags[i], im, h);
	for (i = IMAGE_PAGES; i > 0 && !im->flags[i - 1]; i--)
		;
	e->heap_next = i; /* the first window page after the image */
	for (i = STACK_FIRST; !rc && i < STACK_FIRST + VEIL_ENC_STACK_PAGES; i++)
		rc = place(mon, be, e, i, VEIL_ENC_PAGE_R | VEIL_ENC_PAGE_W | VEIL_ENC_PAGE_STACK,
			   NULL, h);
	if (!rc)
		rc = place(mon, be, e, OCALL_PAGE,
			   VEIL_ENC_PAGE_R | VEIL_ENC_PAGE_W | VEIL_ENC_PAGE_OCALL, NULL, h);
	br_sha384_out(h, e->measurement);
	return rc;
}

/* ---- the protocol ------------------------------------------------------------ */

static struct veil_enclave *find(struct veil_enclaves *es, u64 handle)
{
	struct veil_enclave *e;

	if ((handle & 0xFF) >= VEIL_MAX_ENCLAVES)
		return NULL;
	e = &es->enc[handle & 0xFF];
	return e->state == ENC_FREE || e->handle != handle ? NULL : e;
}

/* Scrub every page (VMSAs first become plain enclave pages), give all back. */
static int teardown(struct veil_monitor *mon, struct veil_backend *be, struct veil_enclave *e)
{
	bool changed = false;
	u64 i;
	u8 *p;

	if (veil_domain_drop_vmsas(mon, be, &e->dom))
		return VEIL_EBUSY;
	for (i = 0; i < e->npages; i++) {
		/* No VMPL2 access first, then zeros: nothing reads a half-scrubbed
		 * page. A page RMPADJUST refuses is not in the state recorded (made
		 * shared behind the monitor): not touched (on hardware the write
		 * would fault at VMPL0), and the teardown fails below. */
		if (veil_domain_grant(mon, be, &e->dom, e->pool + i * VEIL_PAGE_SIZE, 0)) {
			changed = true;
			continue;
		}
		p = veil_map(be, e->pool + i * VEIL_PAGE_SIZE, VEIL_PAGE_SIZE);
		if (p)
			veil_memset(p, 0, VEIL_PAGE_SIZE);
	}
	if (changed)
		return VEIL_EHW;
	if (veil_mem_transfer(&mon->mem, be, e->pool, e->npages * VEIL_PAGE_SIZE,
			      VEIL_OWNER_ENCLAVE, VEIL_OWNER_OS, 0))
		return VEIL_EHW;
	veil_memset(e, 0, sizeof(*e));
	return VEIL_OK;
}

/* DESTROY: the RMP refused to hand a page back although no VMSA of the
 * enclave runs. Its state changed behind the monitor (a page state change
 * through the hypervisor: the "remap" attack): fault policy, as for kernel
 * pages (record in the secure log, stop the CVM). */
static u64 destroy_or_tamper(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_enclave *e)
{
	int rc = teardown(mon, vc->be, e);

	if (rc == VEIL_EHW)
		veil_monitor_tamper(mon, vc, e->pool, "an enclave page's state");
	return rc ? SVSM_ERR_BUSY : SVSM_SUCCESS;
}

static u64 enc_create(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_call *c)
{
	struct veil_enclaves *es = state(mon);
	struct image im = { 0 };
	struct veil_enclave *e = NULL;
	const void *src;
	u64 pool_len, slot;
	int sig;

	if (c->rdx < sizeof(struct elf64_ehdr) || c->rdx > VEIL_ENC_MAX_IMAGE)
		return VEIL_ENC_ERR_FORMAT;
	src = veil_os_read(mon, vc->be, c->rcx, c->rdx);
	if (!src)
		return SVSM_ERR_INVALID_ADDRESS;
	veil_memcpy(es->scratch, src, c->rdx); /* copied in: the OS cannot change it now */
	im.file = es->scratch;
	im.len = c->rdx;
	sig = image_signature(es->scratch, &im.len);
	if (sig < 0)
		return VEIL_ENC_ERR_SIGNATURE;
	im.eh = (const struct elf64_ehdr *)es->scratch;
	if (!image_ok(&im))
		return VEIL_ENC_ERR_FORMAT;
	if (!c->r9 || c->r9 > VEIL_ENC_MAX_PAGES || !veil_aligned(c->r8, VEIL_PAGE_SIZE) ||
	    !veil_mul_ok(c->r9, VEIL_PAGE_SIZE, &pool_len) ||
	    !veil_mem_os_takeable(&mon->mem, c->r8, pool_len))
		return VEIL_ENC_ERR_PAGES;
	/* Everything CREATE places, plus one VMSA for the first vCPU to enter. */
	if (c->r9 < FIXED_PAGES + im.pages + VEIL_ENC_STACK_PAGES + 1)
		return VEIL_ENC_ERR_SPACE;
	for (slot = 0; slot < VEIL_MAX_ENCLAVES && !e; slot++)
		if (es->enc[slot].state == ENC_FREE)
			e = &es->enc[slot];
	if (!e)
		return VEIL_ENC_ERR_FULL;
	slot = (u64)(e - es->enc);
	veil_memset(e, 0, sizeof(*e));
	e->dom = veil_enclave_domain(2, VEIL_OWNER_ENCLAVE, (u8)(slot + 1), im.eh->e_entry,
				     VEIL_ENC_TLS);
	if (veil_mem_transfer(&mon->mem, vc->be, c->r8, pool_len, VEIL_OWNER_OS, VEIL_OWNER_ENCLAVE,
			      e->dom.id))
		return VEIL_ENC_ERR_PAGES;
	e->pool = c->r8;
	e->npages = c->r9;
	e->signed_image = sig == 1;
	e->state = ENC_READY;
	if (build(mon, vc->be, e, &im)) {
		/* All given back, or (a page the RMP refuses on the way back, its
		 * state changed behind the monitor meanwhile) tampering: never a
		 * half-built enclave left in its slot under handle 0. */
		destroy_or_tamper(mon, vc, e);
		return VEIL_ENC_ERR_SPACE;
	}
	e->dom.cr3 = e->pml4;
	e->handle = ((u64)++es->generation << 8) | slot;
	c->rcx = e->handle;
	c->rdx = 0;
	for (slot = 0; slot < e->npages; slot++)
		c->rdx += (e->used[slot / 64] >> (slot % 64)) & 1;
	return SVSM_SUCCESS;
}

/* The secure log keeps what happened; the enclave cannot be entered again. */
static u64 enclave_fault(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_enclave *e,
			 const struct veil_domain_exit *x, struct veil_call *c)
{
	const u8 *ts = veil_map(vc->be, e->tstack, VEIL_PAGE_SIZE);
	u64 off = ENC_IST_TOP - ENC_TSTACK_VA, what = x->code, rip = x->rip;
	char msg[160];
	usize n;

	if (x->code == SVM_EXIT_VMGEXIT && ts) { /* the trap path: vector, error, RIP */
		what = 0x100 + (veil_ld64(ts + off - ENC_TRAP_VECTOR_BELOW) & 0xFF);
		rip = veil_ld64(ts + off - ENC_TRAP_RIP_BELOW);
	}
	if (x->code == SVM_EXIT_NPF)
		what = x->info1;
	veil_domain_save_scrub(vc, &e->dom, NULL); /* nothing of it left in the VMSA */
	e->state = ENC_DEAD;
	n = veil_snprintf(msg, sizeof(msg),
			  "enclave violation: enclave %lx vcpu %u %s %lx rip %lx gpa %lx",
			  (unsigned long)e->handle, vc->id,
			  x->code == SVM_EXIT_NPF ? "rmp exitinfo1" : "exit", (unsigned long)what,
			  (unsigned long)rip, (unsigned long)x->info2);
	veil_service_record(mon, vc, msg, (u32)(n < sizeof(msg) ? n : sizeof(msg) - 1));
	veil_printf(vc->be, "veil: %s\n", msg);
	c->rcx = x->code == SVM_EXIT_NPF ? SVM_EXIT_NPF : what;
	c->rdx = 0;
	return VEIL_ENC_ERR_FAULT;
}

enum run_how {
	RUN_ENTER,   /* from the entry point */
	RUN_RESUME,  /* after its SYSCALL exit, with RAX and RDX */
	RUN_CONTINUE /* from the registers an interrupt exit saved */
};

/* Run until the enclave leaves, makes an ocall or is interrupted; the
 * monitor lock is released meanwhile (`inside` keeps DESTROY away). */
static int run(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_enclave *e, u64 arg,
	       u64 arg2, enum run_how how, struct veil_domain_exit *x)
{
	int rc;

	for (;;) {
		e->inside = vc->id + 1;
		veil_monitor_unlock(mon);
		if (how == RUN_CONTINUE)
			rc = veil_domain_continue(mon, vc, &e->dom, &e->saved, x);
		else
			rc = veil_domain_run(mon, vc, &e->dom, arg, arg2, how == RUN_RESUME, x);
		veil_monitor_lock(mon);
		e->inside = 0;
		if (how == RUN_CONTINUE)
			veil_memset(&e->saved, 0, sizeof(e->saved));
		if (rc || x->code != SVM_EXIT_VMGEXIT ||
		    x->rip != ENC_STUB_VA + ENC_STUB_SYS_BACK || x->rdi == VEIL_ENC_SYS_EXIT ||
		    (x->rdi == VEIL_ENC_SYS_OCALL && e->host_buf))
			return rc;
		arg = ~0ULL; /* an unknown request, or no host buffer: answered "no" */
		arg2 = 0;
		how = RUN_RESUME;
	}
}

/* An interrupt for the OS stopped the enclave (hv: VMEXIT_INTR, then VMPL0):
 * its registers go to monitor memory and are zeroed in its VMSA before the
 * OS runs; the OS's interrupt is delivered when this call returns. */
static u64 interrupted(struct veil_vcpu *vc, struct veil_enclave *e, struct veil_call *c)
{
	veil_domain_save_scrub(vc, &e->dom, &e->saved);
	e->interrupted = true;
	c->rcx = 0;
	c->rdx = VEIL_ENC_INTERRUPTED;
	c->r8 = 0;
	return SVSM_SUCCESS;
}

/* How a run ended, for the OS: the value, an ocall (request copied out to the
 * host's buffer), an interrupt, or a fault (the enclave is dead). */
static u64 finish(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_enclave *e,
		  const struct veil_domain_exit *x, struct veil_call *c)
{
	const u8 *req = veil_map(vc->be, e->ocall, VEIL_PAGE_SIZE);
	u64 len = x->r8 < VEIL_PAGE_SIZE ? x->r8 : VEIL_PAGE_SIZE;
	u8 *out;

	if (x->code == SVM_EXIT_INTR)
		return interrupted(vc, e, c);
	if (x->code != SVM_EXIT_VMGEXIT || x->rip != ENC_STUB_VA + ENC_STUB_SYS_BACK)
		return enclave_fault(mon, vc, e, x, c);
	c->r8 = 0;
	if (x->rdi == VEIL_ENC_SYS_EXIT) {
		c->rcx = x->rsi;
		c->rdx = VEIL_ENC_DONE;
		return SVSM_SUCCESS;
	}
	/* An ocall: the enclave waits in its VMSA on this vCPU for RESUME. The
	 * host's buffer is checked now, at use: it may have changed hands. */
	out = len ? veil_os_write(mon, vc->be, e->host_buf, len) : NULL;
	if (len && (!out || !req)) {
		e->in_ocall = vc->id + 1;
		c->rcx = x->rsi;
		c->rdx = VEIL_ENC_OCALL;
		return SVSM_ERR_INVALID_ADDRESS; /* the host may RESUME with an error */
	}
	if (len)
		veil_memcpy(out, req, len);
	e->in_ocall = vc->id + 1;
	c->rcx = x->rsi;
	c->rdx = VEIL_ENC_OCALL;
	c->r8 = len;
	return SVSM_SUCCESS;
}

/* This vCPU's VMSA for the enclave, made on its first entry. */
static u64 vcpu_vmsa(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_enclave *e)
{
	u64 vmsa;

	if (e->dom.vmsa[vc->id])
		return SVSM_SUCCESS;
	vmsa = pool_take(e, vc->be, true);
	if (!vmsa)
		return VEIL_ENC_ERR_SPACE;
	return veil_domain_add_vmsa(mon, vc, &e->dom, vmsa) ? SVSM_ERR_INVALID_REQUEST :
							      SVSM_SUCCESS;
}

/* ENTER and CONTINUE: the vCPU, the host's ocall buffer (R8), a VMSA. */
static u64 enter_checks(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_enclave *e,
			const struct veil_call *c)
{
	u64 rc;

	if (vc->id >= VEIL_MAX_VCPUS)
		return SVSM_ERR_INVALID_REQUEST;
	if (c->r8 && !veil_aligned(c->r8, VEIL_PAGE_SIZE))
		return SVSM_ERR_INVALID_PARAMETER;
	if (c->r8 && !veil_os_write(mon, vc->be, c->r8, VEIL_PAGE_SIZE))
		return SVSM_ERR_INVALID_ADDRESS; /* checked again at each ocall */
	rc = vcpu_vmsa(mon, vc, e);
	if (!rc)
		e->host_buf = c->r8;
	return rc;
}

static u64 enc_enter(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_call *c)
{
	struct veil_enclave *e = find(state(mon), c->rcx);
	struct veil_domain_exit x;
	u64 rc;

	if (!e)
		return VEIL_ENC_ERR_NOT_FOUND;
	if (e->state == ENC_DEAD)
		return VEIL_ENC_ERR_DEAD;
	if (e->inside || e->in_ocall || e->interrupted)
		return SVSM_ERR_BUSY; /* one thread per enclave */
	rc = enter_checks(mon, vc, e, c);
	if (rc)
		return rc;
	e->entered = true;
	if (run(mon, vc, e, c->rdx, e->heap_pages, RUN_ENTER, &x))
		return SVSM_ERR_INVALID_REQUEST;
	return finish(mon, vc, e, &x, c);
}

/* CONTINUE: an interrupted enclave goes on from the registers the monitor
 * saved, on this vCPU (a VMSA made for it if it has none): the OS chose when,
 * never where (RIP, RSP, CR3 are the enclave's own or the monitor's). */
static u64 enc_continue(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_call *c)
{
	struct veil_enclave *e = find(state(mon), c->rcx);
	struct veil_domain_exit x;
	u64 rc;

	if (!e)
		return VEIL_ENC_ERR_NOT_FOUND;
	if (!e->interrupted || e->state != ENC_READY)
		return VEIL_ENC_ERR_NOT_INTERRUPTED;
	rc = enter_checks(mon, vc, e, c);
	if (rc)
		return rc;
	e->interrupted = false;
	if (run(mon, vc, e, 0, 0, RUN_CONTINUE, &x))
		return SVSM_ERR_INVALID_REQUEST;
	return finish(mon, vc, e, &x, c);
}

/* The host's answer to an ocall: result in RAX, response copied into the
 * enclave's ocall page (at most one page), length in RDX. */
static u64 enc_resume(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_call *c)
{
	struct veil_enclave *e = find(state(mon), c->rcx);
	struct veil_domain_exit x;
	const void *resp = NULL;
	u8 *page;

	if (!e)
		return VEIL_ENC_ERR_NOT_FOUND;
	if (e->in_ocall != vc->id + 1)
		return VEIL_ENC_ERR_NO_OCALL;
	if (c->r9 > VEIL_PAGE_SIZE)
		return SVSM_ERR_INVALID_PARAMETER;
	if (c->r9 && !(resp = veil_os_read(mon, vc->be, c->r8, c->r9)))
		return SVSM_ERR_INVALID_ADDRESS;
	page = veil_map(vc->be, e->ocall, VEIL_PAGE_SIZE);
	if (!page)
		return SVSM_ERR_INVALID_REQUEST;
	if (c->r9)
		veil_memcpy(page, resp, c->r9);
	e->in_ocall = 0;
	if (run(mon, vc, e, c->rdx, c->r9, RUN_RESUME, &x))
		return SVSM_ERR_INVALID_REQUEST;
	return finish(mon, vc, e, &x, c);
}

static u64 enc_destroy(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_call *c)
{
	struct veil_enclave *e = find(state(mon), c->rcx);

	if (!e)
		return VEIL_ENC_ERR_NOT_FOUND;
	if (e->inside)
		return SVSM_ERR_BUSY;
	return destroy_or_tamper(mon, vc, e);
}

/* ADD: `count` more pool pages as heap (R+W) right after the image, measured;
 * only before the first ENTER, as the measurement must say what runs. */
static u64 enc_add(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_call *c)
{
	struct veil_enclave *e = find(state(mon), c->rcx);
	u64 i, first;

	if (!e)
		return VEIL_ENC_ERR_NOT_FOUND;
	if (e->entered || e->state != ENC_READY || e->inside || e->in_ocall)
		return SVSM_ERR_INVALID_REQUEST;
	first = e->heap_next;
	if (!c->rdx || c->rdx > IMAGE_PAGES - first)
		return VEIL_ENC_ERR_SPACE;
	for (i = 0; i < c->rdx; i++) /* keep one pool page for a vCPU's VMSA */
		if (place(mon, vc->be, e, first + i,
			  VEIL_ENC_PAGE_R | VEIL_ENC_PAGE_W | VEIL_ENC_PAGE_HEAP, NULL, &e->hash) ||
		    !pool_left(e)) {
			e->state = ENC_DEAD; /* half-added: only DESTROY is left */
			return VEIL_ENC_ERR_SPACE;
		}
	e->heap_next = first + c->rdx;
	e->heap_pages += c->rdx;
	br_sha384_out(&e->hash, e->measurement);
	c->rcx = VEIL_ENC_VA_BASE + first * VEIL_PAGE_SIZE;
	return SVSM_SUCCESS;
}

static u64 enc_measure(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_call *c)
{
	struct veil_enclave *e = find(state(mon), c->rcx);
	u8 *out;

	if (!e)
		return VEIL_ENC_ERR_NOT_FOUND;
	out = veil_os_write(mon, vc->be, c->rdx, sizeof(e->measurement));
	if (!out)
		return SVSM_ERR_INVALID_ADDRESS;
	veil_memcpy(out, e->measurement, sizeof(e->measurement));
	c->rcx = e->signed_image;
	return SVSM_SUCCESS;
}

static u64 enc_call(struct veil_monitor *mon, struct veil_vcpu *vc, u32 call, struct veil_call *c)
{
	switch (call) {
	case VEIL_ENC_CREATE:
		return enc_create(mon, vc, c);
	case VEIL_ENC_ENTER:
		return enc_enter(mon, vc, c);
	case VEIL_ENC_DESTROY:
		return enc_destroy(mon, vc, c);
	case VEIL_ENC_MEASURE:
		return enc_measure(mon, vc, c);
	case VEIL_ENC_RESUME:
		return enc_resume(mon, vc, c);
	case VEIL_ENC_ADD:
		return enc_add(mon, vc, c);
	case VEIL_ENC_CONTINUE:
		return enc_continue(mon, vc, c);
	default:
		return SVSM_ERR_UNSUPPORTED_CALL;
	}
}

const struct veil_service veil_enclave_service = {
	.name = "enclave",
	.protocol = VEIL_PROTOCOL_ENCLAVE,
	.min_version = 1,
	.max_version = 1,
	.init = enc_init,
	.call = enc_call,
};
