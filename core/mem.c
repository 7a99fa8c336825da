/* SPDX-License-Identifier: MIT */
/* Page ownership and the RMP state derived from it. */
#include <veil/mem.h>

u8 veil_mem_perms(const struct veil_page *p, unsigned vmpl)
{
	switch (p->owner) {
	case VEIL_OWNER_OS:
	case VEIL_OWNER_MODULE:
		return vmpl == 3 ? p->os_perms : 0;
	case VEIL_OWNER_ENCLAVE:
		/* An enclave domain runs at VMPL2; what it may do with each of
		 * its pages (or its trusted code and tables) is set per page. */
		return vmpl == 2 ? p->os_perms : 0;
	case VEIL_OWNER_SERVICE:
		/* A service in its own domain (the log) runs at VMPL1: what it
		 * may do with each of its pages is set per page; 0 otherwise. */
		return vmpl == 1 ? p->os_perms : 0;
	case VEIL_OWNER_OS_VMSA:
		/* Linux reads back SEV_FEATURES of the VMSA it handed over to
		 * issue its own AP creation (arch/x86/coco/sev/core.c,
		 * wakeup_cpu_via_vmgexit); the page holds only the OS's own VMPL3
		 * state. Never W: the OS must not change a VMSA the hypervisor
		 * may run (APM vol 2, 15.36.12), nor X. COCONUT-SVSM likewise
		 * leaves the guest VMPL read access to its VMSA. */
		return vmpl == 3 ? RMP_PERM_R : 0;
	default:
		return 0; /* monitor, VMSA, shared: no lower access */
	}
}

bool veil_mem_range_ok(const struct veil_mem *mem, u64 gpa, u64 len)
{
	return len && veil_aligned(gpa, VEIL_PAGE_SIZE) && veil_aligned(len, VEIL_PAGE_SIZE) &&
	       veil_range_within(gpa, len, 0, mem->nr_pages * VEIL_PAGE_SIZE);
}

enum veil_owner veil_mem_owner(const struct veil_mem *mem, u64 gpa)
{
	u64 pfn = gpa / VEIL_PAGE_SIZE;

	return pfn < mem->nr_pages ? (enum veil_owner)mem->pages[pfn].owner : VEIL_OWNER_NONE;
}

bool veil_mem_owned_by(const struct veil_mem *mem, u64 gpa, u64 len, enum veil_owner owner)
{
	u64 pfn;

	if (!veil_mem_range_ok(mem, gpa, len))
		return false;
	for (pfn = gpa / VEIL_PAGE_SIZE; pfn < (gpa + len) / VEIL_PAGE_SIZE; pfn++)
		if (mem->pages[pfn].owner != owner)
			return false;
	return true;
}

bool veil_mem_os_may(const struct veil_mem *mem, u64 gpa, u64 len, bool write)
{
	u8 need = write ? RMP_PERM_W : RMP_PERM_R;
	u64 end, pfn;

	if (!len || !veil_add_ok(gpa, len, &end) || end > mem->nr_pages * VEIL_PAGE_SIZE)
		return false;
	for (pfn = gpa / VEIL_PAGE_SIZE; pfn <= (end - 1) / VEIL_PAGE_SIZE; pfn++) {
		const struct veil_page *p = &mem->pages[pfn];

		if (p->owner != VEIL_OWNER_OS || !p->validated || !(p->os_perms & need))
			return false;
		if (write && p->os_perms != mem->os_default)
			return false; /* locked text or rodata: R (+Xs) only */
	}
	return true;
}

bool veil_mem_os_takeable(const struct veil_mem *mem, u64 gpa, u64 len)
{
	u64 pfn;

	if (!veil_mem_range_ok(mem, gpa, len))
		return false;
	for (pfn = gpa / VEIL_PAGE_SIZE; pfn < (gpa + len) / VEIL_PAGE_SIZE; pfn++) {
		const struct veil_page *p = &mem->pages[pfn];

		if (p->owner != VEIL_OWNER_OS || !p->validated || p->os_perms != mem->os_default)
			return false;
	}
	return true;
}

/* Write the RMP masks of VMPL1-3 (and the VMSA bit) that record p derives. */
static int apply_record(struct veil_backend *be, u64 gpa, const struct veil_page *p)
{
	unsigned vmpl;

	/* The VMSA bit goes on only after every lower VMPL lost write access
	 * and the TLBs forgot it: otherwise the OS could still write a page the
	 * hypervisor already accepts as a VMSA. */
	for (vmpl = 1; vmpl <= 3; vmpl++)
		if (veil_rmpadjust(be, gpa, false,
				   RMPADJUST_ATTRS(vmpl, veil_mem_perms(p, vmpl), false)))
			return VEIL_EHW;
	if (!veil_owner_is_vmsa((enum veil_owner)p->owner))
		return VEIL_OK;
	veil_tlb_flush(be);
	return veil_rmpadjust(be, gpa, false, RMPADJUST_ATTRS(1, 0, true)) ? VEIL_EHW : VEIL_OK;
}

int veil_mem_apply(struct veil_mem *mem, struct veil_backend *be, u64 gpa)
{
	return apply_record(be, gpa, &mem->pages[gpa / VEIL_PAGE_SIZE]);
}

int veil_mem_apply_as(struct veil_backend *be, u64 gpa, const struct veil_page *p)
{
	return apply_record(be, gpa, p);
}

int veil_mem_set_perms(struct veil_mem *mem, struct veil_backend *be, u64 gpa, u8 perms)
{
	struct veil_page *p = &mem->pages[gpa / VEIL_PAGE_SIZE], next = *p;

	next.os_perms = perms;
	if (apply_record(be, gpa, &next)) {
		/* VMPL1-3 are written one by one: put back the masks that did
		 * change (a page the RMP refuses outright changed none). */
		apply_record(be, gpa, p);
		return VEIL_EHW;
	}
	*p = next;
	return VEIL_OK;
}

bool veil_mem_hw_validated(struct veil_backend *be, u64 gpa)
{
	bool unchanged = false;

	/* PVALIDATE of a validated page changes nothing and says so with
	 * RFLAGS.CF = 1 (APM vol 3, PVALIDATE; APM vol 2, 15.36.6). */
	if (veil_pvalidate(be, gpa, false, true, &unchanged))
		return false;
	if (unchanged)
		return true;
	/* It was not validated (its state changed behind the monitor): this
	 * PVALIDATE validated it, so rescind it again, leaving it as found. */
	veil_pvalidate(be, gpa, false, false, NULL);
	return false;
}

static struct veil_page transferred(const struct veil_mem *mem, struct veil_page p,
				    enum veil_owner to, u8 id)
{
	p.owner = (u8)to;
	p.id = id;
	if (to == VEIL_OWNER_OS)
		p.os_perms = mem->os_default;
	else if (to == VEIL_OWNER_ENCLAVE)
		p.os_perms = 0; /* no access until the domain grants it (veil_domain_grant) */
	return p;
}

int veil_mem_transfer(struct veil_mem *mem, struct veil_backend *be, u64 gpa, u64 len,
		      enum veil_owner from, enum veil_owner to, u8 id)
{
	struct veil_page *pages = &mem->pages[gpa / VEIL_PAGE_SIZE], next;
	u64 i, j, n = len / VEIL_PAGE_SIZE;

	if (!veil_mem_range_ok(mem, gpa, len))
		return VEIL_ERANGE;
	if (!veil_mem_owned_by(mem, gpa, len, from))
		return VEIL_EPERM;
	/* The RMP first, from the records the pages will have; the records
	 * change only once every page took its new state, so a refusal can put
	 * back exactly what each page had (records never touched). */
	for (i = 0; i < n; i++) {
		next = transferred(mem, pages[i], to, id);
		if (next.validated && apply_record(be, gpa + i * VEIL_PAGE_SIZE, &next))
			break;
	}
	if (i < n) {
		for (j = 0; j <= i; j++)
			if (pages[j].validated)
				apply_record(be, gpa + j * VEIL_PAGE_SIZE, &pages[j]);
		veil_tlb_flush(be);
		return VEIL_EHW;
	}
	for (i = 0; i < n; i++)
		pages[i] = transferred(mem, pages[i], to, id);
	veil_tlb_flush(be);
	return VEIL_OK;
}
