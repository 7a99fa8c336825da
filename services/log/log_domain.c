/* SPDX-License-Identifier: MIT */
/*
 * log_domain.c - the log domain (logdom.h), built and run by the monitor.
 *
 * Every page of the domain comes from monitor memory and is given to the
 * service (VEIL_OWNER_SERVICE, VEIL_SVC_LOG): VMPL3 and VMPL2 get nothing,
 * VMPL1 exactly what each page needs (veil_domain_grant), so even a mapping
 * the domain should not have would not reach a monitor, OS, enclave or
 * other service page: the RMP stops it. The trusted pages (stub, system
 * page, trap stack) are the enclaves' (services/enclave/layout.h), so the
 * domain is entered and left the way an enclave is.
 */
#include <veil/lib.h>
#include <veil/svsm.h>

#include "../enclave/enclave.h"
#include "../enclave/layout.h"
#include "log_domain.h"
#include "logd_blob.h" /* generated: veil_logd_image, the domain's code */

#define PT_SPAN (512 * VEIL_PAGE_SIZE)
#define USER (VEIL_PTE_U | VEIL_PTE_NX)

/* The pages built at boot, in the order they are taken. */
struct plan {
	u64 next;		     /* next free page */
	u64 pml4, pdpt, pd, pt, spt; /* spt: the store's first page table */
	u64 nspt, store_pages, image_pages;
	const struct logd_header *h;
};

static u64 take(struct plan *p, u64 n)
{
	u64 gpa = p->next;

	p->next += n * VEIL_PAGE_SIZE;
	return gpa;
}

static bool header_ok(const struct logd_header *h, u64 blob_len)
{
	return h->magic == LOGD_MAGIC && veil_aligned(h->text_end, VEIL_PAGE_SIZE) &&
	       veil_aligned(h->rodata_end, VEIL_PAGE_SIZE) &&
	       veil_aligned(h->data_end, VEIL_PAGE_SIZE) &&
	       veil_aligned(h->bss_end, VEIL_PAGE_SIZE) && h->entry >= LOGD_VA_BASE &&
	       h->entry < h->text_end && h->text_end <= h->rodata_end &&
	       h->rodata_end <= h->data_end && h->data_end <= h->bss_end &&
	       h->bss_end - LOGD_VA_BASE <= LOGD_IMAGE_MAX &&
	       blob_len <= h->data_end - LOGD_VA_BASE;
}

/* Map va to gpa (one of the domain's pages) and grant VMPL1 perms. */
static int map(struct veil_monitor *mon, struct veil_backend *be, struct veil_logdom *ld,
	       const struct plan *p, u64 va, u64 gpa, u64 flags, u8 perms)
{
	u64 tgpa = va < LOGD_STORE_VA ? p->pt :
					p->spt + (va - LOGD_STORE_VA) / PT_SPAN * VEIL_PAGE_SIZE;
	u64 *t = veil_map(be, tgpa, VEIL_PAGE_SIZE);

	if (!t)
		return VEIL_ERANGE;
	t[(va >> 12) & 511] = gpa | flags | VEIL_PTE_P | VEIL_PTE_A | VEIL_PTE_C;
	return veil_domain_grant(mon, be, &ld->dom, gpa, perms);
}

/* PML4 -> PDPT -> PD -> the window's table and the store's tables; the walk
 * only reads them (A and D preset): R at VMPL1, never W. */
static int build_tables(struct veil_monitor *mon, struct veil_backend *be, struct veil_logdom *ld,
			const struct plan *p)
{
	u64 *t, i;
	int rc = 0;

	t = veil_map(be, p->pml4, VEIL_PAGE_SIZE);
	t[0] = p->pdpt | VEIL_PTE_TABLE;
	t = veil_map(be, p->pdpt, VEIL_PAGE_SIZE);
	t[(LOGD_VA_BASE >> 30) & 511] = p->pd | VEIL_PTE_TABLE;
	t = veil_map(be, p->pd, VEIL_PAGE_SIZE);
	t[(LOGD_VA_BASE >> 21) & 511] = p->pt | VEIL_PTE_TABLE;
	for (i = 0; i < p->nspt; i++)
		t[((LOGD_STORE_VA >> 21) & 511) + i] = (p->spt + i * VEIL_PAGE_SIZE) |
						       VEIL_PTE_TABLE;
	rc |= veil_domain_grant(mon, be, &ld->dom, p->pml4, RMP_PERM_R);
	rc |= veil_domain_grant(mon, be, &ld->dom, p->pdpt, RMP_PERM_R);
	rc |= veil_domain_grant(mon, be, &ld->dom, p->pd, RMP_PERM_R);
	rc |= veil_domain_grant(mon, be, &ld->dom, p->pt, RMP_PERM_R);
	for (i = 0; i < p->nspt; i++)
		rc |= veil_domain_grant(mon, be, &ld->dom, p->spt + i * VEIL_PAGE_SIZE, RMP_PERM_R);
	return rc ? VEIL_EHW : VEIL_OK;
}

/* The enclaves' stub, system page and trap stack: supervisor-only (U = 0). */
static int build_trusted(struct veil_monitor *mon, struct veil_backend *be, struct veil_logdom *ld,
			 struct plan *p)
{
	u64 stub = take(p, 1), sys = take(p, 1), tstack = ld->trap_stack = take(p, 1);
	u64 len = (u64)(veil_enclave_stub_end - veil_enclave_stub);

	if (len > VEIL_PAGE_SIZE)
		return VEIL_EINVAL;
	veil_memcpy(veil_map(be, stub, VEIL_PAGE_SIZE), veil_enclave_stub, len);
	veil_enclave_fill_system_page(veil_map(be, sys, VEIL_PAGE_SIZE));
	if (map(mon, be, ld, p, ENC_STUB_VA, stub, 0, RMP_PERM_R | RMP_PERM_XS) ||
	    map(mon, be, ld, p, ENC_SYS_VA, sys, VEIL_PTE_NX, RMP_PERM_R) ||
	    map(mon, be, ld, p, ENC_TSTACK_VA, tstack, VEIL_PTE_W | VEIL_PTE_D | VEIL_PTE_NX,
		RMP_PERM_R | RMP_PERM_W))
		return VEIL_EHW;
	return VEIL_OK;
}

/* Text R+X (CPL3), rodata R, data and bss R+W; then stack, mailbox, store. */
static int build_user(struct veil_monitor *mon, struct veil_backend *be, struct veil_logdom *ld,
		      struct plan *p)
{
	const u8 rw = RMP_PERM_R | RMP_PERM_W;
	u64 img = take(p, p->image_pages), va, gpa, i;
	int rc = 0;

	veil_memcpy(veil_map(be, img, sizeof(veil_logd_image)), veil_logd_image,
		    sizeof(veil_logd_image));
	for (va = LOGD_VA_BASE, gpa = img; !rc && va < p->h->bss_end;
	     va += VEIL_PAGE_SIZE, gpa += VEIL_PAGE_SIZE)
		rc = va < p->h->text_end ?
			     map(mon, be, ld, p, va, gpa, VEIL_PTE_U, RMP_PERM_R | RMP_PERM_XU) :
		     va < p->h->rodata_end ?
			     map(mon, be, ld, p, va, gpa, USER, RMP_PERM_R) :
			     map(mon, be, ld, p, va, gpa, USER | VEIL_PTE_W | VEIL_PTE_D, rw);
	for (i = 0; !rc && i < LOGD_STACK_PAGES; i++)
		rc = map(mon, be, ld, p, LOGD_STACK_TOP - (LOGD_STACK_PAGES - i) * VEIL_PAGE_SIZE,
			 take(p, 1), USER | VEIL_PTE_W | VEIL_PTE_D, rw);
	gpa = take(p, 1);
	ld->mail = veil_map(be, gpa, VEIL_PAGE_SIZE);
	if (!rc)
		rc = map(mon, be, ld, p, LOGD_MAIL_VA, gpa, USER | VEIL_PTE_W | VEIL_PTE_D, rw);
	ld->store = take(p, p->store_pages);
	for (i = 0; !rc && i < p->store_pages; i++)
		rc = map(mon, be, ld, p, LOGD_STORE_VA + i * VEIL_PAGE_SIZE,
			 ld->store + i * VEIL_PAGE_SIZE, USER | VEIL_PTE_W | VEIL_PTE_D, rw);
	return rc;
}

int veil_logdom_build(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_logdom *ld,
		      u64 capacity)
{
	struct plan p = { .h = (const struct logd_header *)veil_logd_image };

	if (!header_ok(p.h, sizeof(veil_logd_image)) || !capacity || capacity > LOGD_STORE_MAX)
		return VEIL_EINVAL;
	p.store_pages = (capacity + VEIL_PAGE_SIZE - 1) / VEIL_PAGE_SIZE;
	p.nspt = (p.store_pages + 511) / 512;
	p.image_pages = (p.h->bss_end - LOGD_VA_BASE) / VEIL_PAGE_SIZE;
	ld->npages = 4 + p.nspt + 3 + p.image_pages + LOGD_STACK_PAGES + 1 + p.store_pages;
	ld->first = p.next = veil_monitor_alloc(mon, ld->npages, VEIL_PAGE_SIZE);
	if (!ld->first)
		return VEIL_ENOMEM;
	if (veil_mem_transfer(&mon->mem, vc->be, ld->first, ld->npages * VEIL_PAGE_SIZE,
			      VEIL_OWNER_MONITOR, VEIL_OWNER_SERVICE, VEIL_SVC_LOG))
		return VEIL_EHW;
	ld->dom = veil_enclave_domain(LOGD_VMPL, VEIL_OWNER_SERVICE, VEIL_SVC_LOG, p.h->entry,
				      LOGD_TLS);
	p.pml4 = take(&p, 1);
	p.pdpt = take(&p, 1);
	p.pd = take(&p, 1);
	p.pt = ld->pt = take(&p, 1);
	p.spt = take(&p, p.nspt);
	ld->dom.cr3 = p.pml4;
	if (build_tables(mon, vc->be, ld, &p) || build_trusted(mon, vc->be, ld, &p) ||
	    build_user(mon, vc->be, ld, &p))
		return VEIL_EHW;
	veil_printf(
		vc->be,
		"veil: log domain: VMPL1 ring 3, %lu pages at gpa %lx, store %lu KiB at gpa %lx\n",
		(unsigned long)ld->npages, (unsigned long)ld->first,
		(unsigned long)(p.store_pages * 4), (unsigned long)ld->store);
	/* Taken by the domain on its first entry: it does not run at boot, so
	 * the OS is the first code after the monitor's, as without it. */
	ld->mail->capacity = p.store_pages * VEIL_PAGE_SIZE;
	return VEIL_OK;
}

/* This vCPU's VMSA for the domain: a fresh monitor page given to the log
 * (not 2 MiB aligned: the RMP refuses a huge-aligned VMSA). */
static int vcpu_vmsa(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_logdom *ld)
{
	u64 gpa;

	if (vc->id >= VEIL_MAX_VCPUS)
		return VEIL_EINVAL;
	if (ld->dom.vmsa[vc->id])
		return VEIL_OK;
	gpa = veil_monitor_alloc(mon, 1, VEIL_PAGE_SIZE);
	if (gpa && veil_aligned(gpa, VEIL_HUGE_SIZE))
		gpa = veil_monitor_alloc(mon, 1, VEIL_PAGE_SIZE);
	if (!gpa)
		return VEIL_ENOMEM;
	if (veil_mem_transfer(&mon->mem, vc->be, gpa, VEIL_PAGE_SIZE, VEIL_OWNER_MONITOR,
			      VEIL_OWNER_SERVICE, VEIL_SVC_LOG))
		return VEIL_EHW;
	return veil_domain_add_vmsa(mon, vc, &ld->dom, gpa);
}

/* The domain left other than through its exit: a bug in the log's code.
 * Contained (it could reach nothing but its own pages), recorded in the
 * fault table and on the console; the log is closed for good, as its
 * chain can no longer be vouched for. */
static u64 fault(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_logdom *ld,
		 const struct veil_domain_exit *x)
{
	u64 off = ENC_IST_TOP - ENC_TSTACK_VA, what = x->code, rip = x->rip;
	bool trap = x->code == SVM_EXIT_VMGEXIT && x->rip == ENC_STUB_VA + ENC_STUB_TRAP_BACK;
	const u8 *t = trap ? veil_map(vc->be, ld->trap_stack, VEIL_PAGE_SIZE) : NULL;

	ld->dead = true;
	if (t) { /* vector and RIP from the trap frame (stub.c) */
		what = 0x100 + (veil_ld64(t + off - ENC_TRAP_VECTOR_BELOW) & 0xFF);
		rip = veil_ld64(t + off - ENC_TRAP_RIP_BELOW);
	}
	if (mon->nr_faults < VEIL_MAX_FAULTS)
		mon->faults[mon->nr_faults++] =
			(struct veil_fault){ vc->id, x->code, x->info1, x->info2, rip };
	veil_trace(vc->be, VEIL_TRACE_VIOLATION, x->info1, x->info2, rip, 0);
	veil_printf(vc->be,
		    "veil: log domain fault: vcpu %u %s %lx rip %lx gpa %lx; the log is closed\n",
		    vc->id,
		    x->code == SVM_EXIT_NPF ? "rmp exitinfo1" :
		    trap		    ? "exception" :
					      "exit",
		    (unsigned long)(x->code == SVM_EXIT_NPF ? x->info1 : what), (unsigned long)rip,
		    (unsigned long)(x->code == SVM_EXIT_NPF ? x->info2 : 0));
	return VEIL_LOG_ERR_CLOSED;
}

u64 veil_logdom_call(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_logdom *ld, u32 op)
{
	struct veil_domain_exit x;

	if (ld->dead)
		return VEIL_LOG_ERR_CLOSED;
	if (vcpu_vmsa(mon, vc, ld) || veil_domain_run(mon, vc, &ld->dom, op, 0, false, &x))
		return SVSM_ERR_INVALID_REQUEST;
	/* An interrupt for the OS stopped it (hv: once per stay away from the
	 * OS): a record is short, so it finishes first; the OS takes the
	 * interrupt when this call returns. */
	while (x.code == SVM_EXIT_INTR)
		if (veil_domain_continue(mon, vc, &ld->dom, NULL, &x))
			return SVSM_ERR_INVALID_REQUEST;
	if (x.code != SVM_EXIT_VMGEXIT || x.rip != ENC_STUB_VA + ENC_STUB_SYS_BACK || x.rdi != 0)
		return fault(mon, vc, ld, &x);
	return x.rsi;
}

void veil_logdom_trapdoor(struct veil_backend *be, struct veil_logdom *ld, u64 gpa)
{
	u64 *t = veil_map(be, ld->pt, VEIL_PAGE_SIZE);

	if (t)
		t[(LOGD_TRAPDOOR_VA >> 12) & 511] = (gpa & ~0xFFFULL) | VEIL_PTE_P | VEIL_PTE_W |
						    VEIL_PTE_U | VEIL_PTE_A | VEIL_PTE_D |
						    VEIL_PTE_C | VEIL_PTE_NX;
}
