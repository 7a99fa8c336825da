/* SPDX-License-Identifier: MIT */
/* Page ownership and the RMP state derived from it. */
#include <veil/mem.h>

u8 veil_mem_perms(const struct veil_page *p, unsigned vmpl)
{
	switch (p->owner) {
	case VEIL_OWNER_OS:
	case VEIL_OWNER_MODULE:
		return vmpl == 3 ? p->os_perms : 0;
	default:
		return 0; /* monitor, VMSA, service, enclave, shared: no lower access */
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

int veil_mem_apply(struct veil_mem *mem, struct veil_backend *be, u64 gpa)
{
	const struct veil_page *p = &mem->pages[gpa / VEIL_PAGE_SIZE];
	unsigned vmpl;

	/* The VMSA bit goes on only after every lower VMPL lost access and the
	 * TLBs forgot it: otherwise the OS could still write a page the
	 * hypervisor already accepts as a VMSA. */
	for (vmpl = 1; vmpl <= 3; vmpl++)
		if (veil_rmpadjust(be, gpa, false,
				   VEIL_RMPADJUST_ATTRS(vmpl, veil_mem_perms(p, vmpl), false)))
			return VEIL_EHW;
	if (p->owner != VEIL_OWNER_VMSA)
		return VEIL_OK;
	veil_tlb_flush(be);
	return veil_rmpadjust(be, gpa, false, VEIL_RMPADJUST_ATTRS(1, 0, true)) ? VEIL_EHW :
										  VEIL_OK;
}

int veil_mem_transfer(struct veil_mem *mem, struct veil_backend *be, u64 gpa, u64 len,
		      enum veil_owner from, enum veil_owner to, u8 id)
{
	u64 off;
	int rc = VEIL_OK;

	if (!veil_mem_range_ok(mem, gpa, len))
		return VEIL_ERANGE;
	if (!veil_mem_owned_by(mem, gpa, len, from))
		return VEIL_EPERM;
	for (off = 0; off < len && rc == VEIL_OK; off += VEIL_PAGE_SIZE) {
		struct veil_page *p = &mem->pages[(gpa + off) / VEIL_PAGE_SIZE], old = *p;

		p->owner = (u8)to;
		p->id = id;
		if (to == VEIL_OWNER_OS)
			p->os_perms = mem->os_default;
		if (p->validated)
			rc = veil_mem_apply(mem, be, gpa + off);
		if (rc) { /* keep records and RMP in step: back to what it was */
			*p = old;
			veil_mem_apply(mem, be, gpa + off);
		}
	}
	veil_tlb_flush(be);
	return rc;
}
