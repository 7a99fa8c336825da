/* SPDX-License-Identifier: MIT */
/* fixture.c - a monitor over the fake backend, built without booting. */
#include "fixture.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <veil/lib.h>

/* ck_assert_msg marks a point (a write to a pipe) even on success: too slow in loops. */
#define FX_CHECK(cond, ...)                        \
	do {                                       \
		if (!(cond))                       \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

struct fx fx;

static bool in(u64 gpa, u64 lo, u64 hi)
{
	return gpa >= lo && gpa < hi;
}

void fx_setup(void)
{
	struct veil_monitor *mon;
	struct veil_launch *l;
	u64 pfn;
	u32 i;

	fx.m = fake_create(FX_MEM_SIZE, FX_NR_VCPUS);
	mon = fx.mon = calloc(1, sizeof(*mon));
	ck_assert_ptr_nonnull(mon);
	l = &mon->launch;
	l->mem_size = FX_MEM_SIZE;
	l->mon_base = FX_MON_BASE;
	l->mon_size = FX_MON_SIZE;
	l->nr_vcpus = FX_NR_VCPUS;
	l->kernel_entry = FX_KERNEL_START;
	l->kernel_start = FX_KERNEL_START;
	l->kernel_end = FX_KERNEL_END;
	l->secrets_gpa = FX_MON_BASE;
	l->sev_features = FX_SEV_FEATURES;
	l->log_domain = VEIL_LOG_DOMAIN_OFF; /* the fake backend runs no guest code */
	mon->alloc_next = FX_MON_BASE + 0x10000;
	mon->alloc_end = FX_MON_BASE + FX_MON_SIZE;
	mon->mem.nr_pages = FX_MEM_SIZE / VEIL_PAGE_SIZE;
	mon->mem.os_default = RMP_PERM_ALL; /* as at boot, before any service restricts it */
	mon->mem.pages = calloc(mon->mem.nr_pages, sizeof(*mon->mem.pages));
	ck_assert_ptr_nonnull(mon->mem.pages);

	fake_set_huge(fx.m, FX_HUGE_2M, true);
	for (pfn = 0; pfn < mon->mem.nr_pages; pfn++) {
		struct veil_page *p = &mon->mem.pages[pfn];
		u64 gpa = pfn * VEIL_PAGE_SIZE;

		p->owner = VEIL_OWNER_OS;
		p->os_perms = RMP_PERM_ALL;
		if (in(gpa, FX_MON_BASE, FX_MON_BASE + FX_MON_SIZE)) {
			p->owner = VEIL_OWNER_MONITOR;
			p->validated = 1;
		} else if (in(gpa, VEIL_BOOT_INFO, VEIL_BOOT_AREA_END) ||
			   in(gpa, FX_KERNEL_START, FX_KERNEL_END) ||
			   in(gpa, FX_SCRATCH, FX_PAGE(FX_SCRATCH_PAGES))) {
			p->validated = 1;
		}
		if (p->validated) {
			fake_set_validated(fx.m, gpa, true);
			ck_assert_int_eq(veil_mem_apply(&mon->mem, fake_be(fx.m, 0), gpa), VEIL_OK);
		}
	}
	for (i = 0; i < FX_NR_VCPUS; i++) {
		mon->vcpus[i].id = i;
		mon->vcpus[i].be = fake_be(fx.m, i);
		mon->vcpus[i].caa = FX_CAA(i);
	}
	/* vCPU 0 runs the OS on a VMSA in monitor memory, as after boot. */
	fx_write_vmsa(FX_BOOT_VMSA, VEIL_OS_VMPL, FX_EFER_OS, FX_SEV_FEATURES);
	ck_assert_int_eq(veil_mem_transfer(&mon->mem, fake_be(fx.m, 0), FX_BOOT_VMSA,
					   VEIL_PAGE_SIZE, VEIL_OWNER_MONITOR, VEIL_OWNER_VMSA, 0),
			 VEIL_OK);
	mon->vcpus[0].os_vmsa = FX_BOOT_VMSA;
	mon->vcpus[0].state = VEIL_VCPU_RUNNING;

	fake_log_clear(fx.m);
	fx.m->tlb_flushes = 0;
	fx.m->vmsa_writable = fx.m->vmsa_stale_tlb = 0;
}

void fx_teardown(void)
{
	if (fx.mon)
		free(fx.mon->mem.pages);
	free(fx.mon);
	fake_destroy(fx.m);
	memset(&fx, 0, sizeof(fx));
}

u64 fx_call(u32 vcpu, u64 rax, u64 rcx, u64 rdx, u64 r8, struct veil_call *out)
{
	struct veil_call c = { rax, rcx, rdx, r8, 0 };

	veil_svsm_dispatch(fx.mon, &fx.mon->vcpus[vcpu], &c);
	if (out)
		*out = c;
	return c.rax;
}

void fx_write_vmsa(u64 gpa, u8 vmpl, u64 efer, u64 sev_features)
{
	u8 *v = fake_ptr(fx.m, gpa);

	memset(v, 0, VEIL_PAGE_SIZE);
	v[VMSA_VMPL] = vmpl;
	veil_st64(v + VMSA_EFER, efer);
	veil_st64(v + VMSA_SEV_FEATURES, sev_features);
	veil_st64(v + VMSA_RIP, 0x1000);
}

void fx_pval_req(u64 gpa, u16 next, const u64 *entries, u16 n)
{
	u8 *p = fake_ptr(fx.m, gpa);
	struct svsm_pvalidate_hdr h = { n, next, 0 };
	u64 room = (VEIL_PAGE_SIZE - (gpa & (VEIL_PAGE_SIZE - 1)) - sizeof(h)) / 8;

	memcpy(p, &h, sizeof(h));
	/* entries that would run past the page are not written (the page after may
	 * not be validated); the header still claims them */
	memcpy(p + sizeof(h), entries, (usize)(n < room ? n : room) * 8);
}

u16 fx_pval_next(u64 gpa)
{
	struct svsm_pvalidate_hdr h;

	memcpy(&h, fake_ptr(fx.m, gpa), sizeof(h));
	return h.next;
}

u64 fx_pval1(u64 entry)
{
	fx_pval_req(FX_REQ, 0, &entry, 1);
	return fx_call(0, SVSM_CALL(SVSM_CORE_PROTOCOL, SVSM_CORE_PVALIDATE), FX_REQ, 0, 0, NULL);
}

struct veil_page *fx_page(u64 gpa)
{
	ck_assert_uint_lt(gpa / VEIL_PAGE_SIZE, fx.mon->mem.nr_pages);
	return &fx.mon->mem.pages[gpa / VEIL_PAGE_SIZE];
}

void fx_snap_take(struct fx_snap *s)
{
	u64 n = fx.mon->mem.nr_pages;

	s->pages = malloc(n * sizeof(*s->pages));
	s->rmp = malloc(n * sizeof(*s->rmp));
	ck_assert(s->pages && s->rmp);
	memcpy(s->pages, fx.mon->mem.pages, n * sizeof(*s->pages));
	memcpy(s->rmp, fx.m->rmp, n * sizeof(*s->rmp));
	memcpy(s->vcpus, fx.mon->vcpus, sizeof(s->vcpus));
}

void fx_snap_free(struct fx_snap *s)
{
	free(s->pages);
	free(s->rmp);
	s->pages = NULL;
	s->rmp = NULL;
}

void fx_assert_unchanged(const struct fx_snap *s)
{
	u64 pfn, n = fx.mon->mem.nr_pages;
	u32 i;

	for (pfn = 0; pfn < n; pfn++) {
		FX_CHECK(!memcmp(&s->pages[pfn], &fx.mon->mem.pages[pfn], sizeof(s->pages[0])),
			 "page record of %#llx changed (owner %u -> %u, validated %u -> %u)",
			 (unsigned long long)(pfn * VEIL_PAGE_SIZE), s->pages[pfn].owner,
			 fx.mon->mem.pages[pfn].owner, s->pages[pfn].validated,
			 fx.mon->mem.pages[pfn].validated);
		FX_CHECK(!memcmp(&s->rmp[pfn], &fx.m->rmp[pfn], sizeof(s->rmp[0])),
			 "RMP entry of %#llx changed (validated %u -> %u, VMPL3 %#x -> %#x, "
			 "VMSA %u -> %u)",
			 (unsigned long long)(pfn * VEIL_PAGE_SIZE), s->rmp[pfn].validated,
			 fx.m->rmp[pfn].validated, s->rmp[pfn].perms[3], fx.m->rmp[pfn].perms[3],
			 s->rmp[pfn].vmsa, fx.m->rmp[pfn].vmsa);
	}
	for (i = 0; i < VEIL_MAX_VCPUS; i++)
		FX_CHECK(!memcmp(&s->vcpus[i], &fx.mon->vcpus[i], sizeof(s->vcpus[0])),
			 "vCPU %u changed", i);
}

void fx_assert_rmp_follows_records(void)
{
	u64 pfn;
	unsigned v;

	for (pfn = 0; pfn < fx.mon->mem.nr_pages; pfn++) {
		const struct veil_page *p = &fx.mon->mem.pages[pfn];
		const struct fake_rmp *e = &fx.m->rmp[pfn];
		unsigned long long gpa = pfn * VEIL_PAGE_SIZE;

		FX_CHECK(p->validated == e->validated,
			 "%#llx: record validated %u, RMP validated %u", gpa, p->validated,
			 e->validated);
		for (v = 1; v <= 3; v++) {
			u8 want = veil_mem_perms(p, v);

			FX_CHECK(!(e->perms[v] & ~want),
				 "%#llx (owner %u): RMP grants VMPL%u %#x, the record allows %#x",
				 gpa, p->owner, v, e->perms[v], want);
			if (p->validated)
				FX_CHECK(e->perms[v] == want,
					 "%#llx (owner %u): RMP VMPL%u %#x, the record says %#x",
					 gpa, p->owner, v, e->perms[v], want);
		}
		if (e->vmsa || p->validated)
			FX_CHECK(e->vmsa == veil_owner_is_vmsa((enum veil_owner)p->owner),
				 "%#llx (owner %u): RMP VMSA bit %u", gpa, p->owner, e->vmsa);
	}
}
