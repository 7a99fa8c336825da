/* SPDX-License-Identifier: MIT */
/*
 * domain.c - domains at VMPL2 (enclaves): their VMSAs, built and run only by
 * the monitor.
 */
#include <veil/domain.h>
#include <veil/lib.h>
#include <veil/svsm.h>

/* Segment attributes in the VMSA's compressed form (APM vol 2, 15.5.1:
 * type, S, DPL, P, AVL, L, D/B, G). */
#define ATTR_USER_CODE64 0x2FB /* P, DPL3, S, execute/read accessed, L */
#define ATTR_USER_DATA 0xCF3   /* G, D/B, P, DPL3, S, read/write accessed */
#define ATTR_TSS64 0x8B	       /* P, busy 64-bit TSS */
#define SEL_USER_DATA 0x1B
#define SEL_USER_CODE 0x23
#define SEL_TSS 0x28
/* STAR: SYSCALL CS 0x08/SS 0x10; SYSRET CS 0x10 + 16, SS 0x10 + 8 (APM vol 2, 6.1.1). */
#define DOMAIN_STAR ((0x10ULL << 48) | (0x08ULL << 32))
#define DOMAIN_SFMASK 0x47700ULL /* TF, IF, DF, IOPL, NT, AC cleared on SYSCALL */

int veil_domain_grant(struct veil_monitor *mon, struct veil_backend *be,
		      const struct veil_domain *d, u64 gpa, u8 perms)
{
	if (!veil_mem_owned_by(&mon->mem, gpa, VEIL_PAGE_SIZE, (enum veil_owner)d->owner) ||
	    mon->mem.pages[gpa / VEIL_PAGE_SIZE].id != d->id)
		return VEIL_EPERM;
	/* A refusal by the RMP leaves the record and the masks as they were. */
	return veil_mem_set_perms(&mon->mem, be, gpa, perms & RMP_PERM_ALL);
}

int veil_domain_add_vmsa(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_domain *d,
			 u64 gpa)
{
	u8 *v;

	if (vc->id >= VEIL_MAX_VCPUS || d->vmsa[vc->id] || veil_aligned(gpa, VEIL_HUGE_SIZE))
		return VEIL_EINVAL;
	if (veil_mem_transfer(&mon->mem, vc->be, gpa, VEIL_PAGE_SIZE, (enum veil_owner)d->owner,
			      VEIL_OWNER_VMSA, d->id))
		return VEIL_EHW;
	v = veil_map(vc->be, gpa, VEIL_PAGE_SIZE);
	if (!v)
		return VEIL_ERANGE;
	veil_memset(v, 0, VEIL_PAGE_SIZE); /* not runnable: EFER.SVME clear */
	d->vmsa[vc->id] = gpa;
	return VEIL_OK;
}

/* Everything the OS could want to choose, chosen by the monitor: RIP, RSP,
 * CR3, the VMPL field, the trusted tables and entry points. */
static void fresh_state(const struct veil_monitor *mon, const struct veil_domain *d, u8 *v, u64 arg,
			u64 arg2)
{
	u32 mxcsr = 0x1F80;

	veil_memset(v, 0, VEIL_PAGE_SIZE);
	veil_vmsa_seg(v, VMSA_CS, SEL_USER_CODE, ATTR_USER_CODE64, 0xFFFFFFFF, 0);
	veil_vmsa_seg(v, VMSA_SS, SEL_USER_DATA, ATTR_USER_DATA, 0xFFFFFFFF, 0);
	veil_vmsa_seg(v, VMSA_DS, SEL_USER_DATA, ATTR_USER_DATA, 0xFFFFFFFF, 0);
	veil_vmsa_seg(v, VMSA_ES, SEL_USER_DATA, ATTR_USER_DATA, 0xFFFFFFFF, 0);
	veil_vmsa_seg(v, VMSA_FS, 0, 0, 0, d->fs_base);
	veil_vmsa_seg(v, VMSA_TR, SEL_TSS, ATTR_TSS64, 0x67, d->tss);
	veil_vmsa_seg(v, VMSA_GDTR, 0, 0, d->gdt_limit, d->gdt);
	veil_vmsa_seg(v, VMSA_IDTR, 0, 0, d->idt_limit, d->idt);
	v[VMSA_VMPL] = d->vmpl;
	v[VMSA_CPL] = 3;
	veil_st64(v + VMSA_EFER, 0x1D01); /* SCE, LME, LMA, NXE, SVME */
	veil_st64(v + VMSA_CR0, 0x80010033ULL);
	veil_st64(v + VMSA_CR4, 0x620);
	veil_st64(v + VMSA_CR3, d->cr3);
	veil_st64(v + VMSA_RFLAGS, 2);
	veil_st64(v + VMSA_RIP, d->entry);
	veil_st64(v + VMSA_RSP, d->stack);
	veil_st64(v + VMSA_RDI, arg);
	veil_st64(v + VMSA_RSI, arg2);
	veil_st64(v + VMSA_STAR, DOMAIN_STAR);
	veil_st64(v + VMSA_LSTAR, d->syscall_entry);
	veil_st64(v + VMSA_SFMASK, DOMAIN_SFMASK);
	veil_st64(v + VMSA_PAT, 0x0007040600070406ULL);
	veil_st64(v + VMSA_DR6, 0xFFFF0FF0ULL);
	veil_st64(v + VMSA_DR7, 0x400);
	veil_st64(v + VMSA_SEV_FEATURES, mon->launch.sev_features);
	veil_memcpy(v + VMSA_MXCSR, &mxcsr, 4);
}

static void read_exit(const u8 *v, struct veil_domain_exit *e)
{
	e->code = veil_ld64(v + VMSA_EXIT_CODE);
	e->rip = veil_ld64(v + VMSA_RIP);
	e->rdi = veil_ld64(v + VMSA_RDI);
	e->rsi = veil_ld64(v + VMSA_RSI);
	e->r8 = veil_ld64(v + VMSA_R8);
	e->info1 = veil_ld64(v + VMSA_EXITINFO1);
	e->info2 = veil_ld64(v + VMSA_EXITINFO2);
}

/* vc's VMSA for the domain (mapped), its GPA in *gpa; NULL if none. */
static u8 *vcpu_vmsa(struct veil_vcpu *vc, const struct veil_domain *d, u64 *gpa)
{
	*gpa = vc->id < VEIL_MAX_VCPUS ? d->vmsa[vc->id] : 0;
	return *gpa ? veil_map(vc->be, *gpa, VEIL_PAGE_SIZE) : NULL;
}

/* Registered on every entry: the hypervisor (or the OS through AP creation)
 * may have pointed this vCPU's VMPL2 elsewhere meanwhile. */
static int run_vmsa(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_domain *d, u64 gpa,
		    u8 *v, struct veil_domain_exit *e)
{
	int rc = veil_monitor_set_vmsa(vc, d->vmpl, gpa, mon->launch.sev_features);

	if (!rc)
		rc = veil_monitor_run_vmpl(vc, d->vmpl);
	/* Not runnable again until the monitor says so: nobody can resume the
	 * domain behind the monitor (a "run VMPL2" request fails). */
	veil_st64(v + VMSA_EFER, veil_ld64(v + VMSA_EFER) & ~VMSA_EFER_SVME);
	if (rc)
		return rc;
	read_exit(v, e);
	return VEIL_OK;
}

int veil_domain_run(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_domain *d, u64 arg,
		    u64 arg2, bool resume, struct veil_domain_exit *e)
{
	u64 gpa;
	u8 *v = vcpu_vmsa(vc, d, &gpa);

	if (!v)
		return VEIL_ENOENT;
	if (resume) {
		veil_st64(v + VMSA_RAX, arg);
		veil_st64(v + VMSA_RDX, arg2);
		veil_st64(v + VMSA_EFER, veil_ld64(v + VMSA_EFER) | VMSA_EFER_SVME);
	} else {
		fresh_state(mon, d, v, arg, arg2);
	}
	return run_vmsa(mon, vc, d, gpa, v, e);
}

/* What an interrupted domain keeps: offset and length in the VMSA (APM vol 2,
 * table B-4), everything the domain's code can change or read back. */
static const struct {
	u16 off, len;
} saved_fields[] = {
	{ VMSA_ES, VMSA_FS - VMSA_ES }, /* ES, CS, SS, DS */
	{ VMSA_CPL, 1 },
	{ VMSA_RFLAGS, 16 }, /* RFLAGS, RIP */
	{ VMSA_RSP, 8 },
	{ VMSA_RAX, 8 },
	{ VMSA_CR2, 8 },
	{ VMSA_RCX, VMSA_R15 + 8 - VMSA_RCX },
	{ VMSA_X87_DP, VMSA_SAVE_END - VMSA_X87_DP }, /* x87, MXCSR, XMM, YMM high halves */
};

void veil_domain_save_scrub(struct veil_vcpu *vc, struct veil_domain *d, struct veil_domain_regs *r)
{
	u64 gpa;
	u8 *v = vcpu_vmsa(vc, d, &gpa);
	unsigned i, at = 0;

	_Static_assert(VEIL_DOMAIN_REGS_SIZE >= (VMSA_FS - VMSA_ES) + 1 + 16 + 3 * 8 +
							(VMSA_R15 + 8 - VMSA_RCX) +
							(VMSA_SAVE_END - VMSA_X87_DP),
		       "every saved field fits");
	if (!v)
		return;
	for (i = 0; i < sizeof(saved_fields) / sizeof(saved_fields[0]); i++) {
		if (r)
			veil_memcpy(r->b + at, v + saved_fields[i].off, saved_fields[i].len);
		veil_memset(v + saved_fields[i].off, 0, saved_fields[i].len);
		at += saved_fields[i].len;
	}
}

int veil_domain_continue(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_domain *d,
			 const struct veil_domain_regs *r, struct veil_domain_exit *e)
{
	u64 gpa;
	u8 *v = vcpu_vmsa(vc, d, &gpa);
	unsigned i, at = 0;

	if (!v)
		return VEIL_ENOENT;
	if (r) {
		fresh_state(mon, d, v, 0, 0);
		for (i = 0; i < sizeof(saved_fields) / sizeof(saved_fields[0]); i++) {
			veil_memcpy(v + saved_fields[i].off, r->b + at, saved_fields[i].len);
			at += saved_fields[i].len;
		}
	}
	veil_st64(v + VMSA_EFER, veil_ld64(v + VMSA_EFER) | VMSA_EFER_SVME);
	return run_vmsa(mon, vc, d, gpa, v, e);
}

int veil_domain_drop_vmsas(struct veil_monitor *mon, struct veil_backend *be, struct veil_domain *d)
{
	u32 i;

	for (i = 0; i < VEIL_MAX_VCPUS; i++) {
		u64 gpa = d->vmsa[i];
		u8 *v;

		if (!gpa)
			continue;
		/* Clearing the VMSA bit fails while a CPU runs it (FAIL_INUSE). */
		if (veil_mem_transfer(&mon->mem, be, gpa, VEIL_PAGE_SIZE, VEIL_OWNER_VMSA,
				      (enum veil_owner)d->owner, d->id))
			return VEIL_EBUSY;
		v = veil_map(be, gpa, VEIL_PAGE_SIZE);
		if (v)
			veil_memset(v, 0, VEIL_PAGE_SIZE);
		d->vmsa[i] = 0;
	}
	return VEIL_OK;
}
