/* SPDX-License-Identifier: MIT */
/*
 * kci_text.c - supervisor code the OS adds after the lock (Linux modules).
 *
 * After VEIL_KCI_LOCK no OS page but the kernel's text may be executed at
 * CPL0. A kernel that loads code itself (Linux's modules: relocated, patched
 * and made read-only by Linux before its module notifier runs) hands the
 * pages to VEIL_KCI_ADD_TEXT: the monitor takes W away and gives Xs, so the
 * bytes it hashed are the only ones that can run there, and records the name,
 * page count and SHA-256 in the secure log. The monitor cannot tell a good
 * module from a bad one here (its relocated bytes depend on where Linux put
 * it): the record is what an auditor checks, and the code cannot change
 * after it (docs/linux-kci.md). DROP gives pages back as data without Xs
 * (module unload, freed init text); kernel text locked at LOCK never goes.
 * Both work before the lock too: the module that sends LOCK from Linux runs
 * from pages it loaded itself, and adds them first (LOCK keeps them).
 */
#include <bearssl/bearssl_hash.h>
#include <veil/abi.h>
#include <veil/lib.h>
#include <veil/service.h>

#include "kci.h"

bool veil_kci_added(const struct veil_kci *k, u64 pfn)
{
	return (k->added[pfn / 8] >> (pfn % 8)) & 1;
}

static void mark(struct veil_kci *k, u64 pfn, bool on)
{
	if (on)
		k->added[pfn / 8] |= (u8)(1u << (pfn % 8));
	else
		k->added[pfn / 8] &= (u8) ~(1u << (pfn % 8));
}

/* The request copied in, its page list checked for form: aligned, in guest
 * memory, no page twice. */
static u64 read_list(struct veil_monitor *mon, struct veil_vcpu *vc, u64 gpa,
		     struct veil_kci_text *t)
{
	const void *src;
	u32 i, j;

	if (!veil_aligned(gpa, 8))
		return SVSM_ERR_INVALID_PARAMETER;
	src = veil_os_read(mon, vc->be, gpa, sizeof(*t));
	if (!src)
		return SVSM_ERR_INVALID_ADDRESS;
	veil_memcpy(t, src, sizeof(*t));
	t->name[VEIL_KCI_NAME_MAX - 1] = 0;
	if (!t->nr_pages || t->nr_pages > VEIL_KCI_TEXT_MAX)
		return SVSM_ERR_INVALID_PARAMETER;
	for (i = 0; i < t->nr_pages; i++) {
		if (!veil_aligned(t->pages[i], VEIL_PAGE_SIZE) ||
		    t->pages[i] / VEIL_PAGE_SIZE >= mon->mem.nr_pages)
			return SVSM_ERR_INVALID_ADDRESS;
		for (j = 0; j < i; j++)
			if (t->pages[j] == t->pages[i])
				return SVSM_ERR_INVALID_PARAMETER;
	}
	return SVSM_SUCCESS;
}

/* Give pages [0, n) of t the RMP a record with os_perms = perms derives;
 * their records stay as they are. Returns the first page the RMP refused,
 * or n. */
static u32 rmp_try(struct veil_monitor *mon, struct veil_backend *be, const struct veil_kci_text *t,
		   u32 n, u8 perms)
{
	u32 i;

	for (i = 0; i < n; i++) {
		struct veil_page next = mon->mem.pages[t->pages[i] / VEIL_PAGE_SIZE];

		next.os_perms = perms;
		if (veil_mem_apply_as(be, t->pages[i], &next))
			break;
	}
	return i;
}

/* Pages [0, n] back to the RMP their unchanged records derive. */
static void rmp_restore(struct veil_monitor *mon, struct veil_backend *be,
			const struct veil_kci_text *t, u32 n)
{
	u32 i;

	for (i = 0; i <= n && i < t->nr_pages; i++)
		veil_mem_apply(&mon->mem, be, t->pages[i]);
	veil_tlb_flush(be);
}

/*
 * Every page of t to `perms` (and its mark to `add`), all or nothing. First
 * every page loses everything but R, flushed: nothing is granted yet, so a
 * refusal there (the RMP's answer on a page is the truth, whatever the
 * record says) puts each page back exactly as its record has it and leaves
 * no trace. Then the grant (Xs for ADD, W for DROP), from bytes nobody can
 * write any more: the RMP refusing now a page it just took is a page state
 * change behind the monitor during the call, which is tampering.
 */
static int set_pages(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_kci *k,
		     const struct veil_kci_text *t, bool add)
{
	u8 perms = add ? VEIL_KCI_PERM_TEXT : mon->mem.os_default;
	u32 i = rmp_try(mon, vc->be, t, t->nr_pages, RMP_PERM_R);

	if (i < t->nr_pages) {
		rmp_restore(mon, vc->be, t, i);
		return VEIL_EHW;
	}
	veil_tlb_flush(vc->be);
	i = rmp_try(mon, vc->be, t, t->nr_pages, perms);
	if (i < t->nr_pages) {
		rmp_try(mon, vc->be, t, i, RMP_PERM_R); /* nothing runs or changes meanwhile */
		veil_tlb_flush(vc->be);
		veil_monitor_tamper(mon, vc, t->pages[i], "the page's validated state");
	}
	for (i = 0; i < t->nr_pages; i++) {
		mon->mem.pages[t->pages[i] / VEIL_PAGE_SIZE].os_perms = perms;
		mark(k, t->pages[i] / VEIL_PAGE_SIZE, add);
	}
	veil_tlb_flush(vc->be);
	return VEIL_OK;
}

static void hex(char *out, const u8 *in, usize n)
{
	static const char digits[] = "0123456789abcdef";
	usize i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = 0;
}

/* SHA-256 over the pages in list order, as they are now (W is gone). */
static void hash_pages(struct veil_vcpu *vc, const struct veil_kci_text *t, u8 out[32])
{
	br_sha256_context ctx;
	u32 i;

	br_sha256_init(&ctx);
	for (i = 0; i < t->nr_pages; i++)
		br_sha256_update(&ctx, veil_map(vc->be, t->pages[i], VEIL_PAGE_SIZE),
				 VEIL_PAGE_SIZE);
	br_sha256_out(&ctx, out);
}

static void record(struct veil_monitor *mon, struct veil_vcpu *vc, const char *what,
		   const struct veil_kci_text *t, const u8 *digest)
{
	char msg[200], h[65] = "";
	usize n;

	if (digest)
		hex(h, digest, 32);
	n = veil_snprintf(msg, sizeof(msg), "kci: %s %s: %u pages from gpa %lx%s%s", what,
			  t->name[0] ? t->name : "(unnamed)", t->nr_pages,
			  (unsigned long)t->pages[0], digest ? " sha256 " : "", h);
	veil_service_record(mon, vc, msg, (u32)(n < sizeof(msg) ? n : sizeof(msg) - 1));
}

u64 veil_kci_add_text(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_kci *k,
		      struct veil_call *c)
{
	struct veil_kci_text t;
	u8 digest[32];
	u64 rc;
	u32 i;

	rc = read_list(mon, vc, c->rcx, &t);
	if (rc != SVSM_SUCCESS)
		return rc;
	/* Plain OS data only: not kernel text, rodata or pages given already. */
	for (i = 0; i < t.nr_pages; i++) {
		const struct veil_page *p = &mon->mem.pages[t.pages[i] / VEIL_PAGE_SIZE];

		if (p->owner != VEIL_OWNER_OS || !p->validated ||
		    p->os_perms != mon->mem.os_default)
			return VEIL_KCI_ERR_PAGE;
	}
	/* And validated by the hardware's word, not only the record's: a page
	 * made shared and private again behind the monitor would get Xs (and
	 * be hashed) while it holds whatever the hypervisor put there. */
	for (i = 0; i < t.nr_pages; i++)
		if (!veil_mem_hw_validated(vc->be, t.pages[i]))
			return VEIL_KCI_ERR_PAGE;
	if (set_pages(mon, vc, k, &t, true))
		return SVSM_ERR_PROTOCOL_BASE + 0xF;
	hash_pages(vc, &t, digest);
	record(mon, vc, "text added", &t, digest);
	k->added_pages += t.nr_pages;
	c->rcx = t.nr_pages;
	return SVSM_SUCCESS;
}

u64 veil_kci_drop_text(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_kci *k,
		       struct veil_call *c)
{
	struct veil_kci_text t;
	u64 rc;
	u32 i;

	rc = read_list(mon, vc, c->rcx, &t);
	if (rc != SVSM_SUCCESS)
		return rc;
	for (i = 0; i < t.nr_pages; i++)
		if (!veil_kci_added(k, t.pages[i] / VEIL_PAGE_SIZE) ||
		    mon->mem.pages[t.pages[i] / VEIL_PAGE_SIZE].owner != VEIL_OWNER_OS)
			return VEIL_KCI_ERR_PAGE;
	if (set_pages(mon, vc, k, &t, false))
		return SVSM_ERR_PROTOCOL_BASE + 0xF;
	record(mon, vc, "text dropped", &t, NULL);
	k->added_pages -= t.nr_pages;
	c->rcx = t.nr_pages;
	return SVSM_SUCCESS;
}
