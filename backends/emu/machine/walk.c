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

/* Value of a Capstone register operand (64-bit GPRs and their parts). */
static uint64_t reg_value(struct emu_inst *in, unsigned reg);

#define ACC_R 0
#define ACC_W 1
#define ACC_X 2
/* With ACC_R: instruction bytes read by the model. Fetches are always private
 * (the C-bit is ignored, APM vol 2, 15.34.5), so no ciphertext for them. */
#define ACC_CODE 0x10

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
static enum emu_walk_result rmp_check(struct emu_inst *in, uint64_t pa, unsigned acc, unsigned cpl,
				      bool shared, unsigned *prot, struct emu_walk *w)
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
		/* C=0: a write must hit a hypervisor-owned page (no VMPL check); a
		 * read of a guest-owned page is not checked and sees ciphertext
		 * (APM vol 2, 15.36.10): the model's ciphertext page,
		 * read-only, so a later write through the entry fills again. */
		if (e->assigned && acc == ACC_W) {
			w->exitinfo1 |= EMU_NPF_P | EMU_NPF_RMP;
			w->exitinfo2 = pa;
			return WALK_NPF;
		}
		w->cipher = e->assigned;
		*prot = e->assigned ? UC_PROT_READ : UC_PROT_READ | UC_PROT_WRITE;
		return WALK_OK;
	}
	if (!e->assigned || e->immutable) {
		w->exitinfo1 |= EMU_NPF_P | EMU_NPF_RMP | EMU_NPF_ENC;
		w->exitinfo2 = pa;
		return WALK_NPF;
	}
	if (!e->validated) {
		w->error_code = SVM_EXIT_NOT_VALIDATED;
		return WALK_VC;
	}
	p = in->vmpl ? e->perms[in->vmpl] : RMP_PERM_ALL;
	*prot = 0;
	if (p & RMP_PERM_R)
		*prot |= UC_PROT_READ;
	if ((p & RMP_PERM_W) && (p & RMP_PERM_R))
		*prot |= UC_PROT_WRITE; /* write without read is illegal */
	if (p & (cpl == 3 ? RMP_PERM_XU : RMP_PERM_XS))
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
/*
 * Read one page-table entry (an RMP-checked read) and, when the walk must set
 * accessed/dirty bits, write it back (an RMP-checked write, reference 4.1).
 */
static enum emu_walk_result pt_access(struct emu_inst *in, uint64_t pte_pa, unsigned cpl,
				      uint64_t *pte, uint64_t set_bits, struct emu_walk *w)
{
	struct emu_machine *m = in->m;
	unsigned prot;
	enum emu_walk_result r;

	w->exitinfo1 = EMU_NPF_PT;
	r = rmp_check(in, pte_pa, ACC_R, cpl, false, &prot, w);
	if (r != WALK_OK)
		return r;
	*pte = m_rd64(m, pte_pa);
	if (!(*pte & PTE_P) || (*pte & set_bits) == set_bits)
		return WALK_OK;
	w->exitinfo1 = EMU_NPF_PT | EMU_NPF_W;
	r = rmp_check(in, pte_pa, ACC_W, cpl, false, &prot, w);
	if (r != WALK_OK)
		return r;
	*pte |= set_bits;
	m_wr64(m, pte_pa, *pte);
	return WALK_OK;
}

#define PF_RSV (1ULL << 3)

/*
 * Reserved bits of a present long-mode paging entry (APM vol 2, 5.3.3 and
 * 5.4): physical-address bits 50:48 above the model's MAXPHYADDR of 48 (bit 51
 * is the C-bit), NX without EFER.NXE, PS in a PML4E, and the bits between
 * the PAT bit and the frame of a 2 MiB or 1 GiB page. Set: #PF with RSV.
 */
static uint64_t pte_reserved(uint64_t pte, unsigned level, uint64_t efer)
{
	uint64_t rsv = 0x0007000000000000ULL | (efer & EFER_NXE ? 0 : PTE_NX);

	if (level == 4)
		rsv |= PTE_PS;
	else if (level == 3 && (pte & PTE_PS))
		rsv |= 0x3FFFE000ULL;
	else if (level == 2 && (pte & PTE_PS))
		rsv |= 0x1FE000ULL;
	return rsv;
}

/*
 * Translate `va` for an access of kind `access` at `cpl` and check it. With
 * `fill`, the granted permissions in w->perms may cover more than the access
 * (what the TLB caches); W is granted only when the dirty bit is already set.
 */
void walk_translate(struct emu_inst *in, uint64_t va, unsigned access, unsigned cpl, bool final_rmp,
		    struct emu_walk *w)
{
	static const int cr_ids[3] = { UC_X86_REG_CR0, UC_X86_REG_CR3, UC_X86_REG_CR4 };
	uint64_t cr[3], cr0, cr4, efer = m_efer(in), table, pte = 0, pa, size = 1ULL << 39;
	void *cr_ptrs[3] = { &cr[0], &cr[1], &cr[2] };
	bool user = cpl == 3, writable = true, usr = true, nx = false, code = access & ACC_CODE;
	unsigned level, prot = 0;
	enum emu_walk_result r;

	access &= ~ACC_CODE;
	uc_reg_read_batch(in->uc, (int *)cr_ids, cr_ptrs, 3); /* one API call per fill */
	cr0 = cr[0];
	table = cr[1] & PTE_ADDR;
	cr4 = cr[2];
	memset(w, 0, sizeof(*w));
	if (!(cr0 & (1ULL << 31))) {
		pa = va;
		goto rmp;
	}
	for (level = 4; level >= 1; level--) {
		uint64_t idx = (va >> (12 + 9 * (level - 1))) & 0x1FF;

		r = pt_access(in, table + idx * 8, cpl, &pte, PTE_A, w);
		if (r == WALK_OK && w->nlev < 4) {
			w->pte_pa[w->nlev] = table + idx * 8;
			w->pte[w->nlev++] = pte;
		}
		if (r != WALK_OK) {
			w->res = r;
			if (r == WALK_VC)
				w->exitinfo2 = va;
			return;
		}
		if (!(pte & PTE_P))
			goto pf;
		if (pte & pte_reserved(pte, level, efer)) {
			w->error_code = PF_RSV;
			goto pf_present;
		}
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
	w->smap = !user && usr && (cr4 & (1ULL << 21)); /* checked by the caller */
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
	bool shared = (cr0 & (1ULL << 31)) && !(pte & PTE_C) && access != ACC_X && !code;

	w->exitinfo1 = EMU_NPF_FINAL | (access == ACC_W ? EMU_NPF_W : 0) | (user ? EMU_NPF_U : 0) |
		       (access == ACC_X ? EMU_NPF_ID : 0);
	pa &= ~0xFFFULL;
	if (!final_rmp) { /* the translation only (RMPADJUST, PVALIDATE operands) */
		w->pa = pa;
		w->res = WALK_OK;
		return;
	}
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
	w->pa = w->cipher ? in->m->priv_base + PRIV_CIPHER : pa;
	w->res = WALK_OK;
	return;
}
pf_present:
	w->error_code |= 1;
pf:
	w->res = WALK_PF;
	w->error_code |= (access == ACC_W ? 2 : 0) | (user ? 4 : 0) | (access == ACC_X ? 16 : 0);
	w->exitinfo2 = va;
}

/*
 * SMAP (APM vol 2, 5.6.6): with CR4.SMAP, a supervisor data access to a user
 * page faults unless RFLAGS.AC is set. QEMU keeps separate TLBs for AC=0 and
 * AC=1 (and STAC/CLAC end the block), so the entry filled now serves only
 * accesses under the current AC: with AC=0 it must not grant R/W at all.
 */
static bool smap_denies(struct emu_inst *in, unsigned acc, struct emu_walk *w)
{
	if (rreg(in->uc, UC_X86_REG_RFLAGS) & (1ULL << 18))
		return false;
	w->perms &= ~(UC_PROT_READ | UC_PROT_WRITE);
	if (acc == ACC_X)
		return false;
	w->error_code = 1 | (acc == ACC_W ? 2 : 0); /* present, supervisor */
	return true;
}

/* Unicorn TLB-fill hook: every TLB miss of the guest lands here. */
bool uc_tlb_hook(uc_engine *uc, uint64_t va, uc_mem_type type, uc_tlb_entry *e, void *data)
{
	struct emu_inst *in = data;
	struct emu_machine *m = in->m;
	unsigned acc = type == UC_MEM_WRITE ? ACC_W : type == UC_MEM_FETCH ? ACC_X : ACC_R;
	unsigned cpl = rreg(uc, UC_X86_REG_CS) & 3;
	struct emu_walk w;

	if (in->smc_probe) { /* smc_before_run drops translations of a physical page */
		e->paddr = va & ~0xFFFULL;
		e->perms = UC_PROT_EXEC;
		return true;
	}
	if (in->in_switch && (va & ~0xFFFULL) == m->priv_base + PRIV_STUB) {
		e->paddr = m->priv_base + PRIV_STUB;
		/* Writable for a VMSA load: from CPL3 the call gate pushes onto
		 * the stub's own stack (RSP0 = the top of this page). A climb
		 * (hooks.c) only fetches from it, and leaves its entry behind:
		 * execute-only, and a guest fetch through it meets
		 * hook_stub_guard. */
		e->perms = in->sysc.on ? UC_PROT_EXEC : UC_PROT_ALL;
		return true;
	}
	/* The climb's data page, until its INVLPG at the landing drops it. */
	if (in->in_switch && in->sysc.on && !in->sysc.late &&
	    (va & ~0xFFFULL) == m->priv_base + PRIV_SYSC) {
		e->paddr = m->priv_base + PRIV_SYSC;
		e->perms = UC_PROT_READ | UC_PROT_WRITE;
		return true;
	}
	walk_translate(in, va, acc, cpl, true, &w);
	if (w.res == WALK_OK && w.smap && smap_denies(in, acc, &w)) {
		w.res = WALK_PF;
		w.exitinfo2 = va;
	}
	if (w.res == WALK_OK) {
		e->paddr = w.pa;
		e->perms = w.perms;
		smc_fill(in, w.pa, type, &e->perms);
		return true;
	}
	in->stop.cr2 = w.exitinfo2;
	in->stop.va = va;
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
static int copy_acc(struct emu_inst *in, uint64_t va, void *buf, size_t len, unsigned acc,
		    struct emu_stop *st)
{
	uint8_t *b = buf;
	bool write = acc == ACC_W;

	while (len) {
		struct emu_walk w;
		size_t chunk = 0x1000 - (va & 0xFFF);

		if (chunk > len)
			chunk = len;
		walk_translate(in, va, acc, 0, true, &w);
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
		if (write) {
			memcpy(m_ptr(in->m, w.pa + (va & 0xFFF), chunk), b, chunk);
			emu_code_written(in->m, w.pa + (va & 0xFFF), chunk);
		} else {
			memcpy(b, m_ptr(in->m, w.pa + (va & 0xFFF), chunk), chunk);
		}
		va += chunk;
		b += chunk;
		len -= chunk;
	}
	return 0;
}

int guest_copy(struct emu_inst *in, uint64_t va, void *buf, size_t len, bool write,
	       struct emu_stop *st)
{
	return copy_acc(in, va, buf, len, write ? ACC_W : ACC_R, st);
}

/*
 * Debugger and tracer view: translate `va` through the instance's current
 * page tables without setting accessed/dirty bits and without RMP checks, so
 * that looking at the guest never changes it. Returns 0 and *pa, or -1.
 */
int walk_probe(struct emu_inst *in, uint64_t va, uint64_t *pa)
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

size_t guest_fetch(struct emu_inst *in, uint64_t va, void *buf, size_t len)
{
	unsigned cpl = rreg(in->uc, UC_X86_REG_CS) & 3;
	uint8_t *b = buf;
	size_t done = 0;

	while (done < len) {
		struct emu_walk w;
		size_t chunk = 0x1000 - (va & 0xFFF);

		if (chunk > len - done)
			chunk = len - done;
		walk_translate(in, va, ACC_X, cpl, true, &w);
		if (w.res != WALK_OK)
			break;
		memcpy(b + done, m_ptr(in->m, w.pa + (va & 0xFFF), chunk), chunk);
		done += chunk;
		va += chunk;
	}
	return done;
}

/* Effective address of a decoded memory operand. */
static uint64_t op_addr(struct emu_inst *in, const cs_insn *i, const cs_x86_op *op)
{
	uint64_t a = (uint64_t)op->mem.disp;

	if (op->mem.base == X86_REG_RIP)
		a += i->address + i->size;
	else if (op->mem.base != X86_REG_INVALID)
		a += reg_value(in, op->mem.base);
	if (op->mem.index != X86_REG_INVALID)
		a += reg_value(in, op->mem.index) * (uint64_t)op->mem.scale;
	if (op->mem.segment == X86_REG_FS)
		a += rreg(in->uc, UC_X86_REG_FS_BASE);
	else if (op->mem.segment == X86_REG_GS)
		a += rreg(in->uc, UC_X86_REG_GS_BASE);
	return a;
}

/* Pick `a` if its access touches `page`: its first byte in that page. */
static bool touches(uint64_t a, unsigned size, uint64_t page, uint64_t *out)
{
	uint64_t last = a + (size ? size : 1) - 1;

	if ((a & ~0xFFFULL) == page) {
		*out = a;
		return true;
	}
	if ((last & ~0xFFFULL) == page) {
		*out = page; /* the access crossed into the faulting page */
		return true;
	}
	return false;
}

/*
 * Unicorn's TLB hook is told only the page of a fault. The exact faulting
 * address (CR2 of a #PF, EXITINFO2 of an #NPF) is recovered by decoding the
 * instruction at RIP: its memory operands, or the stack or string registers
 * it uses implicitly. Falls back to the page start.
 */
uint64_t fault_address(struct emu_inst *in, uint64_t page, bool fetch)
{
	uint64_t rip = rreg(in->uc, UC_X86_REG_RIP), rsp = rreg(in->uc, UC_X86_REG_RSP), a = page;
	uint8_t code[16];
	const uint8_t *p = code;
	size_t n;
	uint64_t addr = rip;
	cs_insn *i;

	page &= ~0xFFFULL;
	if (fetch)
		return (rip & ~0xFFFULL) == page ? rip : page;
	n = guest_fetch(in, rip, code, sizeof(code));
	i = cs_malloc(in->m->csd);
	if (!i || !cs_disasm_iter(in->m->csd, &p, &n, &addr, i)) {
		cs_free(i, 1);
		return page;
	}
	for (unsigned k = 0; k < i->detail->x86.op_count; k++) {
		const cs_x86_op *op = &i->detail->x86.operands[k];

		if (op->type == X86_OP_MEM && touches(op_addr(in, i, op), op->size, page, &a))
			goto out;
	}
	/* Implicit stack and string operands. */
	if (touches(rsp - 8, 8, page, &a) || touches(rsp, 8, page, &a) ||
	    touches(rreg(in->uc, UC_X86_REG_RDI), 8, page, &a) ||
	    touches(rreg(in->uc, UC_X86_REG_RSI), 8, page, &a))
		goto out;
	a = page;
out:
	cs_free(i, 1);
	return a;
}

static uint64_t reg_value(struct emu_inst *in, unsigned reg)
{
	static const struct {
		unsigned cs;
		int uc;
	} map[] = {
		{ X86_REG_RAX, UC_X86_REG_RAX }, { X86_REG_RBX, UC_X86_REG_RBX },
		{ X86_REG_RCX, UC_X86_REG_RCX }, { X86_REG_RDX, UC_X86_REG_RDX },
		{ X86_REG_RSI, UC_X86_REG_RSI }, { X86_REG_RDI, UC_X86_REG_RDI },
		{ X86_REG_RBP, UC_X86_REG_RBP }, { X86_REG_RSP, UC_X86_REG_RSP },
		{ X86_REG_R8, UC_X86_REG_R8 },	 { X86_REG_R9, UC_X86_REG_R9 },
		{ X86_REG_R10, UC_X86_REG_R10 }, { X86_REG_R11, UC_X86_REG_R11 },
		{ X86_REG_R12, UC_X86_REG_R12 }, { X86_REG_R13, UC_X86_REG_R13 },
		{ X86_REG_R14, UC_X86_REG_R14 }, { X86_REG_R15, UC_X86_REG_R15 },
		{ X86_REG_EAX, UC_X86_REG_EAX }, { X86_REG_EBX, UC_X86_REG_EBX },
		{ X86_REG_ECX, UC_X86_REG_ECX }, { X86_REG_EDX, UC_X86_REG_EDX },
		{ X86_REG_ESI, UC_X86_REG_ESI }, { X86_REG_EDI, UC_X86_REG_EDI },
		{ X86_REG_EBP, UC_X86_REG_EBP }, { X86_REG_ESP, UC_X86_REG_ESP },
	};

	for (unsigned k = 0; k < sizeof(map) / sizeof(map[0]); k++)
		if (map[k].cs == reg)
			return rreg(in->uc, map[k].uc);
	return 0;
}

/*
 * Instruction bytes at an intercept (WRMSR, VMGEXIT, INT n): the same page is
 * read again and again, so its translation is cached and revalidated by
 * re-reading the page-table entries it was built from (and CR0/CR3/CR4 and
 * the RMP generation), which is exact and far cheaper than a walk.
 */
int guest_insn(struct emu_inst *in, uint64_t va, void *buf, size_t len, struct emu_stop *st)
{
	int ids[3] = { UC_X86_REG_CR0, UC_X86_REG_CR3, UC_X86_REG_CR4 };
	uint64_t cr[3];
	void *ptrs[3] = { &cr[0], &cr[1], &cr[2] };

	if ((va & 0xFFF) + len > 0x1000)
		return copy_acc(in, va, buf, len, ACC_R | ACC_CODE, st);
	uc_reg_read_batch(in->uc, ids, ptrs, 3);
	return guest_insn_cr(in, va, buf, len, cr, st);
}

/* guest_insn for a caller that already read CR0, CR3 and CR4 (in `cr`). */
int guest_insn_cr(struct emu_inst *in, uint64_t va, void *buf, size_t len, const uint64_t cr[3],
		  struct emu_stop *st)
{
	uint64_t page = va & ~0xFFFULL;
	struct emu_walk w;
	unsigned i;

	if ((va & 0xFFF) + len > 0x1000)
		return copy_acc(in, va, buf, len, ACC_R | ACC_CODE, st);
	if (in->itc.valid && in->itc.va == page && in->itc.cr0 == cr[0] && in->itc.cr3 == cr[1] &&
	    in->itc.cr4 == cr[2] && in->itc.gen == in->m->rmp_gen) {
		for (i = 0; i < in->itc.nlev; i++)
			if (m_rd64(in->m, in->itc.pte_pa[i]) != in->itc.pte[i])
				break;
		if (i == in->itc.nlev) {
			memcpy(buf, m_ptr(in->m, in->itc.pa + (va & 0xFFF), len), len);
			return 0;
		}
	}
	in->itc.valid = false;
	if (copy_acc(in, va, buf, len, ACC_R | ACC_CODE, st))
		return -1;
	walk_translate(in, va, ACC_R | ACC_CODE, 0, true, &w);
	if (w.res != WALK_OK)
		return 0; /* read above; just not cacheable */
	in->itc.valid = true;
	in->itc.va = page;
	in->itc.pa = w.pa;
	in->itc.cr0 = cr[0];
	in->itc.cr3 = cr[1];
	in->itc.cr4 = cr[2];
	in->itc.gen = in->m->rmp_gen;
	in->itc.nlev = w.nlev;
	memcpy(in->itc.pte_pa, w.pte_pa, sizeof(w.pte_pa));
	memcpy(in->itc.pte, w.pte, sizeof(w.pte));
	return 0;
}
