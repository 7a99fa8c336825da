/* SPDX-License-Identifier: MIT */
/*
 * walk.c - guest page walk and RMP check, in the architectural order of
 * reference 4.1: guest page tables (#PF), then RMP ownership (#NPF), then
 * Validated (#VC 0x404), then the VMPL permission mask (#NPF). It runs in
 * Unicorn's TLB-fill path, so a page costs a walk once per TLB fill and
 * nothing in steady state.
 */
#include <stdlib.h>
#include <string.h>

#include "machine.h"

#define ACC_R 0
#define ACC_W 1
#define ACC_X 2

/* Private-region pages the guest may touch in exec mode (stack, GDT/TSS). */
static bool priv_guest_page(const struct emu_machine *m, uint64_t pa)
{
	uint64_t off = pa - m->priv_base;

	if (pa < m->priv_base || off >= m->priv_size)
		return false;
	return (off >= PRIV_STACK && off < PRIV_STACK + PRIV_STACK_SIZE) ||
	       (off >= PRIV_GDT && off < PRIV_GDT + 0x1000) || off >= PRIV_PT;
}

/*
 * RMP check of one C=1 access at `vmpl`. Returns WALK_OK and the permitted
 * UC_PROT_* bits, or fills the fault.
 */
static enum walk_result rmp_check(struct inst *in, uint64_t pa, unsigned acc, unsigned cpl,
				  bool shared, unsigned *prot, struct walk *w)
{
	struct emu_machine *m = in->m;
	const struct emu_rmp_entry *e;
	uint8_t p;

	if (pa >= m->mem_size) {
		if (priv_guest_page(m, pa)) {
			*prot = UC_PROT_READ | UC_PROT_WRITE;
			return WALK_OK;
		}
		/* No RMP entry: hypervisor-owned, so a C=1 access is an NPF. */
		w->exitinfo1 |= EMU_NPF_P | EMU_NPF_RMP | (shared ? 0 : EMU_NPF_ENC);
		w->exitinfo2 = pa;
		return WALK_NPF;
	}
	e = &m->rmp[pa >> 12];
	if (shared) {
		/* C=0: must hit a hypervisor-owned page; no VMPL check. */
		if (e->assigned) {
			w->exitinfo1 |= EMU_NPF_P | EMU_NPF_RMP;
			w->exitinfo2 = pa;
			return WALK_NPF;
		}
		*prot = UC_PROT_READ | UC_PROT_WRITE;
		return WALK_OK;
	}
	if (!e->assigned || e->immutable) {
		w->exitinfo1 |= EMU_NPF_P | EMU_NPF_RMP | EMU_NPF_ENC;
		w->exitinfo2 = pa;
		return WALK_NPF;
	}
	if (!e->validated) {
		w->error_code = EMU_EXIT_NOT_VALIDATED;
		return WALK_VC;
	}
	p = in->vmpl ? e->perms[in->vmpl] : EMU_PERM_ALL;
	*prot = 0;
	if (p & EMU_PERM_R)
		*prot |= UC_PROT_READ;
	if ((p & EMU_PERM_W) && (p & EMU_PERM_R))
		*prot |= UC_PROT_WRITE; /* write without read is illegal */
	if (p & (cpl == 3 ? EMU_PERM_XU : EMU_PERM_XS))
		*prot |= UC_PROT_EXEC;
	if ((acc == ACC_R && !(*prot & UC_PROT_READ)) ||
	    (acc == ACC_W && !(*prot & UC_PROT_WRITE)) ||
	    (acc == ACC_X && !(*prot & UC_PROT_EXEC))) {
		w->exitinfo1 |= EMU_NPF_P | EMU_NPF_RMP | EMU_NPF_ENC | EMU_NPF_VMPL;
		w->exitinfo2 = pa;
		return WALK_NPF;
	}
	return WALK_OK;
}

/* Read (and maybe update A/D in) one page-table entry, RMP-checked as a write. */
static enum walk_result pt_access(struct inst *in, uint64_t pte_pa, unsigned cpl, uint64_t *pte,
				  uint64_t set_bits, struct walk *w)
{
	struct emu_machine *m = in->m;
	unsigned prot;
	enum walk_result r;

	w->exitinfo1 = EMU_NPF_PT;
	r = rmp_check(in, pte_pa & ~0xFFFULL, set_bits ? ACC_W : ACC_R, cpl, false, &prot, w);
	if (r != WALK_OK)
		return r;
	*pte = m_rd64(m, pte_pa);
	if ((*pte & PTE_P) && set_bits && (*pte & set_bits) != set_bits) {
		*pte |= set_bits;
		m_wr64(m, pte_pa, *pte);
	}
	return WALK_OK;
}

/*
 * Translate `va` for an access of kind `access` at `cpl` and check it. With
 * `fill`, the granted permissions in w->perms may cover more than the access
 * (what the TLB caches); W is granted only when the dirty bit is already set.
 */
void walk_translate(struct inst *in, uint64_t va, unsigned access, unsigned cpl, bool fill,
		    struct walk *w)
{
	uc_engine *uc = in->uc;
	uint64_t cr0 = rreg(uc, UC_X86_REG_CR0), cr4 = rreg(uc, UC_X86_REG_CR4);
	uint64_t efer = m_efer(in);
	bool user = cpl == 3, writable = true, usr = true, nx = false;
	uint64_t table = rreg(uc, UC_X86_REG_CR3) & PTE_ADDR, pte = 0, pa, size = 1ULL << 39;
	unsigned level, prot = 0;
	enum walk_result r;

	memset(w, 0, sizeof(*w));
	(void)fill;
	if (!(cr0 & (1ULL << 31))) {
		pa = va;
		goto rmp;
	}
	for (level = 4; level >= 1; level--) {
		uint64_t idx = (va >> (12 + 9 * (level - 1))) & 0x1FF;

		r = pt_access(in, table + idx * 8, cpl, &pte, PTE_A, w);
		if (r != WALK_OK) {
			w->res = r;
			if (r == WALK_VC)
				w->exitinfo2 = va;
			return;
		}
		if (!(pte & PTE_P))
			goto pf;
		writable &= !!(pte & PTE_W);
		usr &= !!(pte & PTE_U);
		nx |= (efer & EFER_NXE) && (pte & PTE_NX);
		size = 1ULL << (12 + 9 * (level - 1));
		if (level == 1 || ((pte & PTE_PS) && level <= 3))
			break;
		table = pte & PTE_ADDR;
	}
	if (level > 1) /* large page */
		pa = (pte & PTE_ADDR & ~(size - 1)) | (va & (size - 1) & ~0xFFFULL);
	else
		pa = pte & PTE_ADDR;
	if ((user && !usr) || (access == ACC_W && !writable && (user || (cr0 & (1ULL << 16)))) ||
	    (access == ACC_X && nx) || (access == ACC_X && !user && usr && (cr4 & (1ULL << 20))))
		goto pf_present;
	prot = UC_PROT_READ | UC_PROT_EXEC;
	if (writable || (!user && !(cr0 & (1ULL << 16))))
		prot |= UC_PROT_WRITE;
	if (nx || (!user && usr && (cr4 & (1ULL << 20))))
		prot &= ~UC_PROT_EXEC;
	if (user && !usr)
		prot = 0;
	/* Dirty bit: set it on a write; otherwise do not cache W. */
	{
		uint64_t idx = (va >> (12 + 9 * (level - 1))) & 0x1FF;
		uint64_t leaf = table + idx * 8;

		if (!(pte & PTE_D)) {
			if (access == ACC_W) {
				r = pt_access(in, leaf, cpl, &pte, PTE_A | PTE_D, w);
				if (r != WALK_OK) {
					w->res = r;
					if (r == WALK_VC)
						w->exitinfo2 = va;
					return;
				}
			} else {
				prot &= ~UC_PROT_WRITE;
			}
		}
	}
rmp : {
	unsigned rprot = 0;
	bool shared = (cr0 & (1ULL << 31)) && !(pte & PTE_C) && access != ACC_X;

	w->exitinfo1 = EMU_NPF_FINAL | (access == ACC_W ? EMU_NPF_W : 0) | (user ? EMU_NPF_U : 0) |
		       (access == ACC_X ? EMU_NPF_ID : 0);
	pa &= ~0xFFFULL;
	r = rmp_check(in, pa, access, cpl, shared, &rprot, w);
	if (r != WALK_OK) {
		w->res = r;
		if (r == WALK_VC)
			w->exitinfo2 = va;
		return;
	}
	if (!(cr0 & (1ULL << 31)))
		prot = UC_PROT_ALL;
	if (shared)
		prot &= ~UC_PROT_EXEC;
	w->perms = prot & rprot;
	w->pa = pa;
	w->res = WALK_OK;
	return;
}
pf_present:
	w->error_code = 1;
pf:
	w->res = WALK_PF;
	w->error_code |= (access == ACC_W ? 2 : 0) | (user ? 4 : 0) | (access == ACC_X ? 16 : 0);
	w->exitinfo2 = va;
}

/* Unicorn TLB-fill hook: every TLB miss of the guest lands here. */
bool uc_tlb_hook(uc_engine *uc, uint64_t va, uc_mem_type type, uc_tlb_entry *e, void *data)
{
	struct inst *in = data;
	struct emu_machine *m = in->m;
	unsigned acc = type == UC_MEM_WRITE ? ACC_W : type == UC_MEM_FETCH ? ACC_X : ACC_R;
	unsigned cpl = rreg(uc, UC_X86_REG_CS) & 3;
	struct walk w;

	if (in->in_switch && (va & ~0xFFFULL) == m->priv_base + PRIV_STUB) {
		e->paddr = m->priv_base + PRIV_STUB;
		e->perms = UC_PROT_READ | UC_PROT_EXEC;
		return true;
	}
	walk_translate(in, va, acc, cpl, true, &w);
	if (w.res == WALK_OK) {
		e->paddr = w.pa;
		e->perms = w.perms;
		return true;
	}
	in->stop.cr2 = w.exitinfo2;
	in->stop.exitinfo1 = w.exitinfo1;
	in->stop.exitinfo2 = w.exitinfo2;
	in->stop.has_error_code = true;
	in->stop.error_code = w.error_code;
	in->stop.code = acc; /* remembered: fetch faults were not counted */
	in->stop.kind = w.res == WALK_PF ? STOP_FAULT_PF :
			w.res == WALK_VC ? STOP_FAULT_VC :
					   STOP_NPF;
	return false;
}

/* Copy to/from guest virtual memory with the guest's own checks (for event delivery). */
int guest_copy(struct inst *in, uint64_t va, void *buf, size_t len, bool write, struct stop *st)
{
	uint8_t *b = buf;

	while (len) {
		struct walk w;
		size_t chunk = 0x1000 - (va & 0xFFF);

		if (chunk > len)
			chunk = len;
		walk_translate(in, va, write ? ACC_W : ACC_R, 0, false, &w);
		if (w.res != WALK_OK) {
			st->kind = w.res == WALK_PF ? STOP_FAULT_PF :
				   w.res == WALK_VC ? STOP_FAULT_VC :
						      STOP_NPF;
			st->error_code = w.error_code;
			st->has_error_code = true;
			st->cr2 = w.exitinfo2;
			st->exitinfo1 = w.exitinfo1;
			st->exitinfo2 = w.exitinfo2;
			return -1;
		}
		if (write)
			memcpy(m_ptr(in->m, w.pa + (va & 0xFFF), chunk), b, chunk);
		else
			memcpy(b, m_ptr(in->m, w.pa + (va & 0xFFF), chunk), chunk);
		va += chunk;
		b += chunk;
		len -= chunk;
	}
	return 0;
}

/*
 * Debugger and tracer view: translate `va` through the instance's current
 * page tables without setting accessed/dirty bits and without RMP checks, so
 * that looking at the guest never changes it. Returns 0 and *pa, or -1.
 */
int walk_probe(struct inst *in, uint64_t va, uint64_t *pa)
{
	uint64_t table = rreg(in->uc, UC_X86_REG_CR3) & PTE_ADDR;
	int level;

	if (!(rreg(in->uc, UC_X86_REG_CR0) & (1ULL << 31))) {
		*pa = va;
		return 0;
	}
	for (level = 4; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint8_t *p = m_ptr(in->m, table + ((va >> shift) & 0x1FF) * 8, 8);
		uint64_t pte = p ? ld64(p) : 0;

		if (!(pte & PTE_P))
			return -1;
		if (level == 1 || ((pte & PTE_PS) && level <= 3)) {
			uint64_t size = 1ULL << shift;

			*pa = (pte & PTE_ADDR & ~(size - 1)) | (va & (size - 1));
			return 0;
		}
		table = pte & PTE_ADDR;
	}
	return -1;
}
