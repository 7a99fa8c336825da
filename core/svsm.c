/* SPDX-License-Identifier: MIT */
/*
 * svsm.c - the SVSM core protocol (reference section 8) and protocol
 * dispatch. Every GPA, length and index comes from the untrusted OS: each is
 * range-checked with overflow-safe helpers and ownership-checked before use,
 * and request data is copied in, never used in place.
 */
#include <veil/abi.h>
#include <veil/lib.h>
#include <veil/service.h>
#include <veil/svsm.h>

#define PVAL_RESERVED_BITS 0xFF0ULL

/* A page the monitor writes on the OS's behalf (a CAA, a PVALIDATE request). */
static bool os_writable_page(const struct veil_monitor *mon, u64 gpa)
{
	return veil_aligned(gpa, VEIL_PAGE_SIZE) &&
	       veil_mem_os_may(&mon->mem, gpa, VEIL_PAGE_SIZE, true);
}

static u64 core_remap_ca(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_call *c)
{
	if (!veil_aligned(c->rcx, VEIL_PAGE_SIZE))
		return SVSM_ERR_INVALID_PARAMETER;
	if (!os_writable_page(mon, c->rcx))
		return SVSM_ERR_INVALID_ADDRESS;
	vc->caa = c->rcx;
	return SVSM_SUCCESS;
}

/* Pages a service restricted (locked kernel text and read-only data) keep
 * their validated state: a rescind, a page swap and a re-validation would
 * bring back other bytes under the same permissions, and a validation after
 * a page state change behind the monitor would do the same. */
static bool pval_range_locked(const struct veil_mem *mem, u64 gpa, u64 len)
{
	u64 off;

	for (off = 0; off < len; off += VEIL_PAGE_SIZE)
		if (mem->pages[(gpa + off) / VEIL_PAGE_SIZE].os_perms != mem->os_default)
			return true;
	return false;
}

/* Pages of [gpa, gpa+len) whose record already has the state `validate`. */
static u64 pval_records_in_state(const struct veil_mem *mem, u64 gpa, u64 len, bool validate)
{
	u64 off, n = 0;

	for (off = 0; off < len; off += VEIL_PAGE_SIZE)
		n += mem->pages[(gpa + off) / VEIL_PAGE_SIZE].validated == validate;
	return n;
}

/*
 * After PVALIDATE validated [gpa, gpa+len): each page gets the RMP its record
 * derives. When the RMP refuses one, what was given is taken back and the
 * range rescinded (4 KiB at a time: the RMPADJUSTs split a 2 MiB entry), so
 * the failed call leaves every page as it was, not validated, no access. A
 * rescind the hardware refuses then is a state change behind the monitor.
 */
static bool pval_grant(struct veil_monitor *mon, struct veil_vcpu *vc, u64 gpa, u64 len)
{
	u64 off, j;

	for (off = 0; off < len; off += VEIL_PAGE_SIZE)
		if (veil_mem_apply(&mon->mem, vc->be, gpa + off))
			break;
	if (off == len)
		return true;
	for (j = 0; j <= off; j += VEIL_PAGE_SIZE)
		veil_rmpadjust(vc->be, gpa + j, false, RMPADJUST_ATTRS(VEIL_OS_VMPL, 0, 0));
	veil_tlb_flush(vc->be);
	for (j = 0; j < len; j += VEIL_PAGE_SIZE)
		if (veil_pvalidate(vc->be, gpa + j, false, false, NULL))
			veil_monitor_tamper(mon, vc, gpa + j, "the page's validated state");
	return false;
}

/* Validate or rescind one entry's range; the RMP follows ownership. */
static u64 pvalidate_entry(struct veil_monitor *mon, struct veil_vcpu *vc, u64 entry)
{
	struct veil_mem *mem = &mon->mem;
	bool huge = (entry & 3) == SVSM_PVAL_SIZE_2M, validate = (entry >> 2) & 1;
	bool ignore_cf = (entry >> 3) & 1, unchanged = false;
	u64 gfn = entry >> 12, len = huge ? VEIL_HUGE_SIZE : VEIL_PAGE_SIZE, gpa, off, same;
	int rc;

	if ((entry & PVAL_RESERVED_BITS) || (entry & 3) > SVSM_PVAL_SIZE_2M)
		return SVSM_ERR_INVALID_PARAMETER;
	if (gfn >= mem->nr_pages)
		return SVSM_ERR_INVALID_ADDRESS;
	gpa = gfn * VEIL_PAGE_SIZE;
	if (huge && !veil_aligned(gpa, VEIL_HUGE_SIZE))
		return SVSM_ERR_INVALID_PARAMETER;
	if (!veil_mem_owned_by(mem, gpa, len, VEIL_OWNER_OS) || pval_range_locked(mem, gpa, len))
		return SVSM_ERR_INVALID_ADDRESS;
	same = pval_records_in_state(mem, gpa, len, validate);
	/* Revoke before rescinding, so no stale access remains. For a page the
	 * record calls validated, a refusal is the hardware saying otherwise
	 * (the model refuses RMPADJUST on a page that is not validated). */
	if (!validate)
		for (off = 0; off < len; off += VEIL_PAGE_SIZE)
			if (mem->pages[(gpa + off) / VEIL_PAGE_SIZE].validated &&
			    veil_rmpadjust(vc->be, gpa + off, false, RMPADJUST_ATTRS(3, 0, 0)))
				veil_monitor_tamper(mon, vc, gpa + off,
						    "the page's validated state");
	veil_tlb_flush(vc->be);
	rc = veil_pvalidate(vc->be, gpa, huge, validate, &unchanged);
	if (rc) {
		if (!validate) /* nothing changed: give back what was revoked */
			for (off = 0; off < len; off += VEIL_PAGE_SIZE)
				if (mem->pages[(gpa + off) / VEIL_PAGE_SIZE].validated)
					veil_mem_apply(mem, vc->be, gpa + off);
		return SVSM_ERR_PROTOCOL_BASE + (u64)rc;
	}
	/* PVALIDATE's answer is the truth, the record only a belief: "unchanged"
	 * must mean every page was already in the target state, "changed" that
	 * none was. Anything else is a page state change (or a 2 MiB entry)
	 * the monitor did not make: tampering (SNP firmware ABI 56860 and APM
	 * vol 3 PVALIDATE: RFLAGS.CF = 1 when the Validated bit did not change). */
	if (unchanged ? same != len / VEIL_PAGE_SIZE : same != 0)
		veil_monitor_tamper(mon, vc, gpa, "the page's validated state");
	if (validate && !unchanged && !pval_grant(mon, vc, gpa, len))
		return SVSM_ERR_PROTOCOL_BASE + 1;
	for (off = 0; off < len; off += VEIL_PAGE_SIZE) {
		mem->pages[(gpa + off) / VEIL_PAGE_SIZE].validated = validate;
		if (validate && unchanged && veil_mem_apply(mem, vc->be, gpa + off))
			return SVSM_ERR_PROTOCOL_BASE + 1;
	}
	if (unchanged && !ignore_cf)
		return SVSM_ERR_PVALIDATE_FAIL_UNCHANGED;
	return SVSM_SUCCESS;
}

static u64 core_pvalidate(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_call *c)
{
	struct svsm_pvalidate_hdr hdr;
	u8 *page;
	u64 off = c->rcx & (VEIL_PAGE_SIZE - 1), room, i, rc;

	if (!veil_aligned(c->rcx, 8))
		return SVSM_ERR_INVALID_PARAMETER;
	/* The monitor writes `next` into the request: the OS must be able to. */
	page = veil_os_write(mon, vc->be, c->rcx & VEIL_PAGE_MASK, VEIL_PAGE_SIZE);
	if (!page)
		return SVSM_ERR_INVALID_ADDRESS;
	if (off + sizeof(hdr) > VEIL_PAGE_SIZE)
		return SVSM_ERR_INVALID_PARAMETER;
	veil_memcpy(&hdr, page + off, sizeof(hdr));
	room = (VEIL_PAGE_SIZE - off - sizeof(hdr)) / 8;
	if (hdr.num_entries > room || hdr.next > hdr.num_entries)
		return SVSM_ERR_INVALID_PARAMETER;
	for (i = hdr.next; i < hdr.num_entries; i++) {
		u64 entry = veil_ld64(page + off + sizeof(hdr) + i * 8);
		u64 span = (entry & 3) == SVSM_PVAL_SIZE_2M ? VEIL_HUGE_SIZE : VEIL_PAGE_SIZE;
		u16 next;

		/* Rescinding the request's own page would leave the monitor writing
		 * `next` into a page that is no longer validated. */
		if (!((entry >> 2) & 1) &&
		    (entry & ~(span - 1) & ~0xFFFULL) == ((c->rcx & ~0xFFFULL) & ~(span - 1)))
			return SVSM_ERR_INVALID_PARAMETER;

		rc = pvalidate_entry(mon, vc, entry);
		if (rc != SVSM_SUCCESS)
			return rc; /* `next` names the entry that failed */
		next = (u16)(i + 1);
		veil_memcpy(page + off + 2, &next, 2);
	}
	return SVSM_SUCCESS;
}

/* A VMSA the OS hands in must describe a VMPL3 vCPU like its own. */
static bool vmsa_acceptable(const struct veil_monitor *mon, const u8 *v)
{
	return v[VMSA_VMPL] == VEIL_OS_VMPL && (veil_ld64(v + VMSA_EFER) & VMSA_EFER_SVME) &&
	       veil_ld64(v + VMSA_SEV_FEATURES) == mon->launch.sev_features;
}

/*
 * SVSM spec 58019, core protocol, SVSM_CORE_CREATE_VCPU: RCX = VMSA GPA, RDX =
 * CAA GPA, R8 = APIC ID. A VMSA that already exists for the APIC ID is
 * replaced, not refused: Linux brings a CPU back online by creating the new
 * VMSA, starting it (GHCB AP creation) and only then deleting the old one
 * with SVSM_CORE_DELETE_VCPU, which names a VMSA by its GPA. So OS VMSAs are
 * known by GPA (the page's owner VEIL_OWNER_OS_VMSA), and a vCPU holds its
 * current one and at most one replacement not yet switched to.
 */
static u64 core_create_vcpu(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_call *c)
{
	u64 vmsa = c->rcx, caa = c->rdx, apic = c->r8;
	struct veil_vcpu *t;
	const u8 *v;

	if (apic >= mon->launch.nr_vcpus || !veil_aligned(vmsa, VEIL_PAGE_SIZE) ||
	    !veil_aligned(caa, VEIL_PAGE_SIZE) || veil_aligned(vmsa, VEIL_HUGE_SIZE) || vmsa == caa)
		return SVSM_ERR_INVALID_PARAMETER;
	/* The VMSA page is taken from the OS only when it is plain OS data, so
	 * it can be handed back exactly as it was (a page that already is a
	 * VMSA is not: the same GPA twice is refused); the CAA is written by the
	 * monitor, so the OS must be able to write it. */
	if (!veil_mem_os_takeable(&mon->mem, vmsa, VEIL_PAGE_SIZE) || !os_writable_page(mon, caa))
		return SVSM_ERR_INVALID_ADDRESS;
	/* The record says validated; the page becomes a VMSA the hypervisor
	 * runs and the monitor reads it: the hardware must say so too (a page
	 * state change behind the monitor leaves the record stale). */
	if (!veil_mem_hw_validated(vc->be, vmsa))
		return SVSM_ERR_INVALID_ADDRESS;
	t = &mon->vcpus[apic];
	/* The caller runs its own VMSA right now: the hypervisor refuses to
	 * replace it (GHCB spec 56421, AP creation), so the monitor does too. */
	if (t == vc)
		return SVSM_ERR_INVALID_REQUEST;
	/* Take the page away from the OS first, then check what it holds: the
	 * OS cannot change it between the check and its use. */
	if (veil_mem_transfer(&mon->mem, vc->be, vmsa, VEIL_PAGE_SIZE, VEIL_OWNER_OS,
			      VEIL_OWNER_OS_VMSA, 0))
		return SVSM_ERR_INVALID_ADDRESS;
	v = veil_map(vc->be, vmsa, VEIL_PAGE_SIZE);
	if (!v || !vmsa_acceptable(mon, v)) {
		/* Given back as it came; a page the RMP now refuses changed
		 * state behind the monitor during the call: tampering, never a
		 * refusal that keeps the OS's page as a VMSA. */
		if (veil_mem_transfer(&mon->mem, vc->be, vmsa, VEIL_PAGE_SIZE, VEIL_OWNER_OS_VMSA,
				      VEIL_OWNER_OS, 0))
			veil_monitor_tamper(mon, vc, vmsa, "the page's validated state");
		return SVSM_ERR_INVALID_PARAMETER;
	}
	if (t->os_vmsa) { /* a replacement; an earlier one stays a VMSA until deleted */
		t->next_vmsa = vmsa;
		t->next_caa = caa;
		return SVSM_SUCCESS;
	}
	t->os_vmsa = vmsa;
	t->caa = caa;
	t->state = VEIL_VCPU_CREATED;
	return SVSM_SUCCESS;
}

static void switch_to_next(struct veil_vcpu *t)
{
	t->os_vmsa = t->next_vmsa;
	t->caa = t->next_caa;
	t->next_vmsa = t->next_caa = 0;
}

u64 veil_vcpu_current_vmsa(struct veil_vcpu *vc)
{
	if (vc->next_vmsa)
		switch_to_next(vc);
	return vc->os_vmsa;
}

/* The vCPU that holds OS VMSA gpa as its current (or, next = true, its
 * replacement) VMSA; NULL for one no vCPU holds (replaced, not yet deleted). */
static struct veil_vcpu *vmsa_holder(struct veil_monitor *mon, u64 gpa, bool next)
{
	u32 i;

	for (i = 0; i < mon->launch.nr_vcpus; i++)
		if ((next ? mon->vcpus[i].next_vmsa : mon->vcpus[i].os_vmsa) == gpa)
			return &mon->vcpus[i];
	return NULL;
}

/*
 * May VMSA gpa, the current one of vCPU t, leave? Not the caller's own, nor
 * one the monitor made for itself. Its vCPU's monitor loop uses it (it runs
 * it, or handles its exit): hardware holds a running VMSA in use until the
 * next #VMEXIT (APM vol 2, 15.36.12), and the loop reads the exit from it.
 * Once a replacement is registered, the loop may be running the new one (the
 * hypervisor switches at the OS's AP creation, unseen by the monitor): then
 * only the hardware knows whether the old one still runs, and says so when
 * the VMSA bit is cleared (FAIL_INUSE).
 */
static u64 current_deletable(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_vcpu *t,
			     u64 gpa)
{
	bool running = __atomic_load_n(&t->in_os, __ATOMIC_ACQUIRE);

	if (t == vc || veil_range_within(gpa, VEIL_PAGE_SIZE, mon->launch.mon_base,
					 mon->launch.mon_base + mon->launch.mon_size))
		return SVSM_ERR_INVALID_REQUEST;
	if (t->next_vmsa ? t->state == VEIL_VCPU_RUNNING && !running :
			   running || t->state == VEIL_VCPU_RUNNING)
		return SVSM_ERR_BUSY;
	return SVSM_SUCCESS;
}

/* SVSM spec 58019, core protocol, SVSM_CORE_DELETE_VCPU: RCX = VMSA GPA. */
static u64 core_delete_vcpu(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_call *c)
{
	u64 gpa = c->rcx, rc;
	struct veil_vcpu *cur = gpa ? vmsa_holder(mon, gpa, false) : NULL;
	struct veil_vcpu *next = gpa ? vmsa_holder(mon, gpa, true) : NULL;

	if (cur && (rc = current_deletable(mon, vc, cur, gpa)) != SVSM_SUCCESS)
		return rc;
	/* Only a VMSA the OS handed in with CREATE_VCPU: never the monitor's,
	 * a domain's or an enclave's (VEIL_OWNER_VMSA). */
	if (!gpa || !veil_mem_owned_by(&mon->mem, gpa, VEIL_PAGE_SIZE, VEIL_OWNER_OS_VMSA))
		return SVSM_ERR_INVALID_PARAMETER;
	/* Clearing the VMSA bit is refused by hardware while a CPU runs the
	 * VMSA (FAIL_INUSE): the page stays a VMSA, nothing changed. After it,
	 * no CPU can run the page as a VMSA again. */
	if (veil_mem_transfer(&mon->mem, vc->be, gpa, VEIL_PAGE_SIZE, VEIL_OWNER_OS_VMSA,
			      VEIL_OWNER_OS, 0))
		return SVSM_ERR_BUSY;
	if (next)
		next->next_vmsa = next->next_caa = 0;
	if (cur && cur->next_vmsa) {
		switch_to_next(cur); /* the old one does not run: the new one does */
	} else if (cur) {
		cur->os_vmsa = 0;
		cur->state = VEIL_VCPU_OFF;
	}
	return SVSM_SUCCESS;
}

const struct veil_service *veil_service_find(u32 protocol)
{
	const struct veil_service *const *s;

	for (s = veil_services; *s; s++)
		if ((*s)->protocol == protocol)
			return *s;
	return NULL;
}

void veil_service_record(struct veil_monitor *mon, struct veil_vcpu *vc, const void *data, u32 len)
{
	const struct veil_service *const *s;

	for (s = veil_services; *s; s++)
		if ((*s)->record)
			(*s)->record(mon, vc, data, len);
}

/* Supported protocols and their version ranges. */
static bool protocol_versions(u32 proto, u32 *min, u32 *max)
{
	const struct veil_service *s = veil_service_find(proto);

	if (proto == SVSM_CORE_PROTOCOL || proto == VEIL_PROTOCOL_TEST) {
		*min = *max = 1;
		return true;
	}
	if (!s)
		return false;
	*min = s->min_version;
	*max = s->max_version;
	return true;
}

static u64 core_query_protocol(struct veil_call *c)
{
	u32 min, max, proto = (u32)(c->rcx >> 32), ver = (u32)c->rcx;

	if (!protocol_versions(proto, &min, &max) || ver < min || ver > max)
		c->rcx = 0;
	else
		c->rcx = ((u64)max << 32) | min;
	return SVSM_SUCCESS;
}

static u64 core_protocol(struct veil_monitor *mon, struct veil_vcpu *vc, u32 call,
			 struct veil_call *c)
{
	switch (call) {
	case SVSM_CORE_REMAP_CA:
		return core_remap_ca(mon, vc, c);
	case SVSM_CORE_PVALIDATE:
		return core_pvalidate(mon, vc, c);
	case SVSM_CORE_CREATE_VCPU:
		return core_create_vcpu(mon, vc, c);
	case SVSM_CORE_DELETE_VCPU:
		return core_delete_vcpu(mon, vc, c);
	case SVSM_CORE_QUERY_PROTOCOL:
		return core_query_protocol(c);
	default:
		return SVSM_ERR_UNSUPPORTED_CALL;
	}
}

void veil_monitor_lock(struct veil_monitor *mon)
{
	while (__atomic_exchange_n(&mon->lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&mon->lock, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
}

void veil_monitor_unlock(struct veil_monitor *mon)
{
	__atomic_store_n(&mon->lock, 0, __ATOMIC_RELEASE);
}

static void dispatch(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_call *c)
{
	u32 proto = (u32)(c->rax >> 32), call = (u32)c->rax;
	const struct veil_service *s;

	switch (proto) {
	case SVSM_CORE_PROTOCOL:
		c->rax = core_protocol(mon, vc, call, c);
		break;
	case VEIL_PROTOCOL_TEST:
		if (call == 0) { /* echo: the cheapest round trip, for benchmarks */
			c->rcx += 1;
			c->rax = SVSM_SUCCESS;
		} else {
			c->rax = SVSM_ERR_UNSUPPORTED_CALL;
		}
		break;
	default:
		s = veil_service_find(proto);
		c->rax = s ? s->call(mon, vc, call, c) : SVSM_ERR_UNSUPPORTED_PROTOCOL;
		break;
	}
}

void veil_svsm_dispatch(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_call *c)
{
	veil_monitor_lock(mon);
	dispatch(mon, vc, c);
	veil_monitor_unlock(mon);
}
