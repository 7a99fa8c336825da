/* SPDX-License-Identifier: MIT */
/*
 * kci.c - kernel code integrity (VEIL_PROTOCOL_KCI).
 *
 * LOCK compares what the OS declares with the PT_LOAD segments the loader
 * placed and measured (struct veil_launch), never with the OS's word alone,
 * then sets VMPL3's RMP masks for good: image text R+Xs (never W), read-only
 * data R, and every other OS page without Xs. From then on the OS can
 * neither inject nor rewrite supervisor code; only the module service can
 * add some. The lock is one-way: no call loosens it.
 */
#include <veil/abi.h>
#include <veil/lib.h>
#include <veil/service.h>

#include "kci.h"

#define PERM_TEXT VEIL_KCI_PERM_TEXT
#define PERM_RODATA VEIL_KCI_PERM_RODATA
#define PERM_DATA VEIL_KCI_PERM_DATA

static int kci_init(struct veil_monitor *mon, struct veil_vcpu *vc)
{
	u64 gpa = veil_monitor_alloc(
		mon, (sizeof(struct veil_kci) + VEIL_PAGE_SIZE - 1) / VEIL_PAGE_SIZE,
		VEIL_PAGE_SIZE);
	struct veil_kci *k = gpa ? veil_map(vc->be, gpa, sizeof(*k)) : NULL;

	u64 bits = (mon->mem.nr_pages + 7) / 8, bgpa;

	if (!k)
		return VEIL_ENOMEM;
	veil_memset(k, 0, sizeof(*k));
	bgpa = veil_monitor_alloc(mon, (bits + VEIL_PAGE_SIZE - 1) / VEIL_PAGE_SIZE,
				  VEIL_PAGE_SIZE);
	k->added = bgpa ? veil_map(vc->be, bgpa, bits) : NULL;
	if (!k->added)
		return VEIL_ENOMEM;
	veil_memset(k->added, 0, bits);
	veil_kci_linux_init(mon, vc, k);
	mon->svc[VEIL_SVC_KCI] = k;
	return VEIL_OK;
}

/* The measured segment equal to [gpa, gpa+len), or NULL. */
static const struct veil_kseg *measured(const struct veil_launch *l, u64 gpa, u64 len)
{
	u32 i;

	for (i = 0; i < l->nr_ksegs && i < VEIL_MAX_KSEGS; i++)
		if (l->ksegs[i].gpa == gpa && l->ksegs[i].len == len)
			return &l->ksegs[i];
	return NULL;
}

/* Every declared range is a measured segment of the right kind, and every
 * executable measured segment is declared as text. */
static u64 check_decl(const struct veil_launch *l, const struct veil_kci_decl *d)
{
	u32 i, j, text = 0;

	if (d->nr_ranges == 0 || d->nr_ranges > VEIL_KCI_MAX_RANGES)
		return SVSM_ERR_INVALID_PARAMETER;
	for (i = 0; i < l->nr_ksegs && i < VEIL_MAX_KSEGS; i++) {
		if ((l->ksegs[i].flags & VEIL_KSEG_X) && (l->ksegs[i].flags & VEIL_KSEG_W))
			return VEIL_KCI_ERR_WX;
		if (l->ksegs[i].flags & VEIL_KSEG_X)
			text++;
	}
	for (i = 0; i < d->nr_ranges; i++) {
		const struct veil_kci_range *r = &d->ranges[i];
		const struct veil_kseg *s = measured(l, r->gpa, r->len);

		if (!s || (r->kind == VEIL_KCI_TEXT && !(s->flags & VEIL_KSEG_X)) ||
		    (r->kind == VEIL_KCI_RODATA && (s->flags & (VEIL_KSEG_X | VEIL_KSEG_W))) ||
		    (r->kind != VEIL_KCI_TEXT && r->kind != VEIL_KCI_RODATA))
			return VEIL_KCI_ERR_MISMATCH;
		for (j = 0; j < i; j++)
			if (d->ranges[j].gpa == r->gpa)
				return VEIL_KCI_ERR_MISMATCH; /* declared twice */
		if (r->kind == VEIL_KCI_TEXT)
			text--;
	}
	return text ? VEIL_KCI_ERR_MISMATCH : SVSM_SUCCESS;
}

/* Exports are copied in; each must point into the loaded image. */
static u64 copy_exports(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_kci *k,
			const struct veil_kci_decl *d)
{
	const struct veil_launch *l = &mon->launch;
	const struct veil_kci_export *src;
	u32 i;

	if (d->nr_exports > VEIL_KCI_MAX_EXPORTS)
		return SVSM_ERR_INVALID_PARAMETER;
	if (!d->nr_exports)
		return SVSM_SUCCESS;
	src = veil_os_read(mon, vc->be, d->exports_gpa, (u64)d->nr_exports * sizeof(*src));
	if (!src)
		return SVSM_ERR_INVALID_ADDRESS;
	veil_memcpy(k->exports, src, d->nr_exports * sizeof(*src));
	for (i = 0; i < d->nr_exports; i++) {
		struct veil_kci_export *e = &k->exports[i];

		e->name[VEIL_KCI_NAME_MAX - 1] = 0;
		if (!e->name[0] || !veil_range_within(e->addr, 1, l->kernel_start, l->kernel_end))
			return VEIL_KCI_ERR_EXPORT;
	}
	k->nr_exports = d->nr_exports;
	return SVSM_SUCCESS;
}

static u8 page_class(const struct veil_kci_decl *d, u64 gpa, u8 rodata)
{
	u32 i;

	for (i = 0; i < d->nr_ranges; i++)
		if (gpa >= d->ranges[i].gpa && gpa - d->ranges[i].gpa < d->ranges[i].len)
			return d->ranges[i].kind == VEIL_KCI_TEXT ? PERM_TEXT : rodata;
	return PERM_DATA;
}

/* Whether the lock sets page pfn, and to what (*perms). */
static bool lock_class(struct veil_monitor *mon, const struct veil_kci_decl *d, u64 pfn, u8 rodata,
		       u8 *perms)
{
	if (mon->mem.pages[pfn].owner != VEIL_OWNER_OS ||
	    veil_kci_added(mon->svc[VEIL_SVC_KCI], pfn))
		return false; /* code added before the lock (the locking module's) stays */
	*perms = page_class(d, pfn * VEIL_PAGE_SIZE, rodata);
	return true;
}

/*
 * Rewrite VMPL3's masks for every OS page, all or nothing: the RMP first,
 * from the records the pages will have (the lock only takes rights away from
 * the pre-lock default), then the records. A page the RMP refuses (its state
 * changed behind the monitor) puts every page done back as its unchanged
 * record says: the refused lock leaves no trace.
 */
static int apply_lock(struct veil_monitor *mon, struct veil_vcpu *vc, const struct veil_kci_decl *d)
{
	struct veil_mem *mem = &mon->mem;
	/* Linux maps its vDSO to user space from pages of its rodata
	 * (vdso_image_64): user-mode execute there, never supervisor. */
	u8 rodata = mon->launch.os_boot == VEIL_OS_BOOT_LINUX ? PERM_RODATA | RMP_PERM_XU :
								PERM_RODATA;
	u64 pfn, j;
	u8 perms;

	for (pfn = 0; pfn < mem->nr_pages; pfn++) {
		struct veil_page next = mem->pages[pfn];

		if (!lock_class(mon, d, pfn, rodata, &perms) || !next.validated)
			continue;
		next.os_perms = perms;
		if (veil_mem_apply_as(vc->be, pfn * VEIL_PAGE_SIZE, &next))
			break;
	}
	if (pfn < mem->nr_pages) {
		for (j = 0; j <= pfn; j++)
			if (lock_class(mon, d, j, rodata, &perms) && mem->pages[j].validated)
				veil_mem_apply(mem, vc->be, j * VEIL_PAGE_SIZE);
		veil_tlb_flush(vc->be);
		return VEIL_EHW;
	}
	mem->os_default = PERM_DATA;
	for (pfn = 0; pfn < mem->nr_pages; pfn++)
		if (lock_class(mon, d, pfn, rodata, &perms))
			mem->pages[pfn].os_perms = perms;
	veil_tlb_flush(vc->be);
	return VEIL_OK;
}

static u64 kci_lock(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_kci *k,
		    struct veil_call *c)
{
	struct veil_kci_decl d;
	const void *src;
	u64 rc;
	u32 i;

	if (k->locked)
		return VEIL_KCI_ERR_LOCKED;
	if (!veil_aligned(c->rcx, 8))
		return SVSM_ERR_INVALID_PARAMETER;
	src = veil_os_read(mon, vc->be, c->rcx, sizeof(d));
	if (!src)
		return SVSM_ERR_INVALID_ADDRESS;
	veil_memcpy(&d, src, sizeof(d));
	/* A Linux image has no measured segments: its layout is checked
	 * against the measured boot parameters instead (kci_linux.c). */
	rc = mon->launch.os_boot == VEIL_OS_BOOT_LINUX ? veil_kci_linux_check(mon, k, &d) :
							 check_decl(&mon->launch, &d);
	if (rc == SVSM_SUCCESS)
		rc = copy_exports(mon, vc, k, &d);
	if (rc == SVSM_SUCCESS && apply_lock(mon, vc, &d))
		rc = SVSM_ERR_PROTOCOL_BASE + 0xF;
	if (rc != SVSM_SUCCESS) {
		/* A refused lock leaves no trace: no exports (STATUS), no base. */
		k->nr_exports = 0;
		k->linux.text_base = 0;
		return rc;
	}
	k->locked = true;
	for (i = 0; i < d.nr_ranges; i++)
		if (d.ranges[i].kind == VEIL_KCI_TEXT)
			k->text_pages += d.ranges[i].len / VEIL_PAGE_SIZE;
	veil_printf(vc->be, "veil: kernel code locked: %lu text pages, %u exports\n",
		    (unsigned long)k->text_pages, k->nr_exports);
	return SVSM_SUCCESS;
}

static u64 kci_call(struct veil_monitor *mon, struct veil_vcpu *vc, u32 call, struct veil_call *c)
{
	struct veil_kci *k = mon->svc[VEIL_SVC_KCI];

	switch (call) {
	case VEIL_KCI_LOCK:
		return kci_lock(mon, vc, k, c);
	case VEIL_KCI_STATUS:
		c->rcx = k->locked;
		c->rdx = k->text_pages;
		c->r8 = k->nr_exports;
		c->r9 = k->added_pages;
		return SVSM_SUCCESS;
	case VEIL_KCI_ADD_TEXT:
		return veil_kci_add_text(mon, vc, k, c);
	case VEIL_KCI_DROP_TEXT:
		return veil_kci_drop_text(mon, vc, k, c);
	default:
		return SVSM_ERR_UNSUPPORTED_CALL;
	}
}

const struct veil_kci_export *veil_kci_lookup(const struct veil_monitor *mon, const char *name,
					      usize len)
{
	const struct veil_kci *k = mon->svc[VEIL_SVC_KCI];
	u32 i;

	if (!k || !k->locked || len == 0 || len >= VEIL_KCI_NAME_MAX)
		return NULL;
	for (i = 0; i < k->nr_exports; i++)
		if (!veil_memcmp(k->exports[i].name, name, len) && !k->exports[i].name[len])
			return &k->exports[i];
	return NULL;
}

bool veil_kci_locked(const struct veil_monitor *mon)
{
	const struct veil_kci *k = mon->svc[VEIL_SVC_KCI];

	return k && k->locked;
}

const struct veil_service veil_kci_service = {
	.name = "kci",
	.protocol = VEIL_PROTOCOL_KCI,
	.min_version = 1,
	.max_version = 1,
	.init = kci_init,
	.call = kci_call,
};
