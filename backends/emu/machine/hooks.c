/* SPDX-License-Identifier: MIT */
/*
 * hooks.c - the Unicorn hooks of an instance (struct emu_inst) and the private
 * state-load stub page they guard: the fast paths that stay inside
 * uc_emu_start (GHCB MSR, RDTSC, SYSCALL) and the stops that become
 * architectural events in run.c.
 */
#include <string.h>

#include "machine.h"

/*
 * The state-load stub page (private; fetchable only during a load). From CPL3
 * it first climbs to CPL0 through a 64-bit call gate in its own GDT, with its
 * own TSS and stack, since VMLOAD/VMRUN need CPL0 (Unicorn's SYSCALL is a
 * no-op, and Unicorn offers no other way to change CPL).
 */
/* clang-format off */
static const uint8_t stub_code[] = {
	[0x00] = 0x48, 0xFF, 0x1D, 0x39, 0x00, 0x00, 0x00, /* lcall *0x40(%rip) */
	[0x10] = 0x0F, 0x01, 0xDA,                         /* vmload */
	[0x13] = 0x0F, 0x01, 0xD8,                         /* vmrun */
	[0x20] = 0x0F, 0x0B,                               /* ud2: end of the load */
	[0x48] = 0x1B, 0x00,                               /* far pointer: gate 0x18, RPL3 */
	[0x300] = 0x48, 0xFF, 0x1D,                        /* lcall *(far pointer)(%rip): the climb */
	[0x320] = 0x0F, 0x01, 0x3D,                        /* landing: invlpg (the climb's data page) */
	[0x327] = 0x0F, 0x0B,                              /* the climb's exit (hooked) */
};
/* clang-format on */

#define SYSC_ENTRY 0x300   /* fast SYSCALL: the far call at CPL3 */
#define SYSC_LANDING 0x320 /* ... reached at CPL0 through the gate */
#define SYSC_EXIT 0x327	   /* ... after the INVLPG of its data page */
/* The climb's data page (PRIV_SYSC), apart from its code so that the INVLPG
 * that drops it leaves the code's translations and blocks alone: */
#define SYSC_FARPTR 0x000 /* ... the far pointer (offset ignored): the gate, RPL3 */
#define SYSC_TSS 0x100	  /* ... its TSS (RSP0 = the top of the page) */
#define SYSC_GDT 0x400	  /* ... its GDT (selectors below SYSC_GATE) */
#define SYSC_GATE 0x7F0	  /* ... and the gate's slot in it */

/* Write the rel32 of the RIP-relative operand of the 7-byte instruction at
 * stub offset `at` so that it addresses the climb's data page + `off`. */
static void stub_rel32(uint8_t *p, unsigned at, unsigned off)
{
	int32_t rel = (int32_t)(PRIV_SYSC + off - (PRIV_STUB + at + 7));

	memcpy(p + at + 3, &rel, 4);
}

void stub_init(struct emu_machine *m)
{
	uint64_t stub = m->priv_base + PRIV_STUB, entry = stub + 0x10;
	uint8_t *p = m_ptr(m, stub, 0x1000), *d;

	memcpy(p, stub_code, sizeof(stub_code));
	st64(p + STUB_GDT + 0x08, 0x00AF9B000000FFFFULL);
	st64(p + STUB_GDT + 0x10, 0x00CF93000000FFFFULL);
	/* 64-bit call gate, DPL3, to 0x08:entry */
	st64(p + STUB_GDT + 0x18, (entry & 0xFFFF) | (0x08ULL << 16) | (0xECULL << 40) |
					  (((entry >> 16) & 0xFFFF) << 48));
	st64(p + STUB_GDT + 0x20, entry >> 32);
	st64(p + STUB_TSS + 4, stub + 0x1000); /* RSP0 */
	/* The climb: its far pointer, TSS and the operands that reach them. */
	d = m_ptr(m, m->priv_base + PRIV_SYSC, 0x1000);
	memset(d, 0, 0x1000);
	memcpy(d + SYSC_FARPTR + 8, &(uint16_t){ SYSC_GATE | 3 }, 2);
	st64(d + SYSC_TSS + 4, m->priv_base + PRIV_SYSC + 0x1000); /* RSP0 */
	stub_rel32(p, SYSC_ENTRY, SYSC_FARPTR);
	stub_rel32(p, SYSC_LANDING, 0);
}

/* ---- hooks ---------------------------------------------------------- */

/*
 * RDMSR/WRMSR of the GHCB MSR is the first half of every MSR-protocol
 * VMGEXIT: handle it inside the intercept hook. Writing RIP from a hook makes
 * Unicorn resume there without leaving uc_emu_start. Anything else (other
 * MSRs, a #VC to deliver) takes the full stop path in run.c.
 */
static bool ghcb_msr_at(struct emu_inst *in, uint64_t rip, bool cpl0_only, uint8_t want)
{
	uc_engine *uc = in->uc;
	/* What the access needs, in one API call (each costs more than the
	 * register it reads): RCX, CS, then CR0, CR3, CR4 for the instruction
	 * fetch, and RAX, RDX for a WRMSR (a RDMSR site does not read them). */
	int ids[7] = { UC_X86_REG_RCX, UC_X86_REG_CS,  UC_X86_REG_CR0, UC_X86_REG_CR3,
		       UC_X86_REG_CR4, UC_X86_REG_RAX, UC_X86_REG_RDX };
	uint64_t r[7] = { 0 }, *msr;
	void *ptrs[7] = { &r[0], &r[1], &r[2], &r[3], &r[4], &r[5], &r[6] };
	uint8_t op[2];
	struct emu_stop st;

	uc_reg_read_batch(uc, ids, ptrs, want == 0x32 ? 5 : 7);
	/* Outside CPL0 the instruction raises #GP(0) before any intercept
	 * (APM vol 3, WRMSR/RDMSR): a site hook lets it run into that. The
	 * bytes at RIP are checked: a site's hook is keyed by address, and
	 * other code may be there now (then the instruction runs as usual). */
	if ((uint32_t)r[0] != MSR_GHCB || (cpl0_only && (r[1] & 3)) ||
	    guest_insn_cr(in, rip, op, 2, &r[2], &st) || op[0] != 0x0F ||
	    (op[1] != 0x30 && op[1] != 0x32) || (want && op[1] != want))
		return false;
	msr = &in->vcpu->ghcb_msr[in->vmpl];
	if (op[1] == 0x30) {
		*msr = (r[5] & 0xFFFFFFFFULL) | (r[6] << 32);
	} else {
		uint64_t v[2] = { *msr & 0xFFFFFFFFULL, *msr >> 32 };
		void *vp[2] = { &v[0], &v[1] };

		uc_reg_write_batch(uc, ids + 5, vp, 2); /* RAX, RDX */
	}
	wreg(uc, UC_X86_REG_RIP, rip + 2); /* retired: the code hook counted it */
	return true;
}

static bool ghcb_msr_fast(struct emu_inst *in)
{
	return ghcb_msr_at(in, rreg(in->uc, UC_X86_REG_RIP), false, 0);
}

/*
 * RDTSC and RDTSCP (APM vol 3) are answered inside the intercept hook too:
 * Linux reads the clock often, and a stop and restart of the CPU for each
 * read would cost more than the rest of the boot. The CPU stops only once the
 * clock reaches this vCPU's timer deadline, so the run loop delivers it.
 */
static bool rdtsc_fast(struct emu_inst *in)
{
	uc_engine *uc = in->uc;
	uint64_t rip = rreg(uc, UC_X86_REG_RIP), tsc, deadline = in->vcpu->apic.deadline;
	uint8_t op[3];
	struct emu_stop st;
	bool p;

	if (guest_insn(in, rip, op, 3, &st) || op[0] != 0x0F)
		return false;
	p = op[1] == 0x01 && op[2] == 0xF9;
	if (!p && op[1] != 0x31)
		return false;
	tsc = emu_tsc_read(in->m);
	wreg(uc, UC_X86_REG_RAX, tsc & 0xFFFFFFFFULL);
	wreg(uc, UC_X86_REG_RDX, tsc >> 32);
	if (p)
		wreg(uc, UC_X86_REG_RCX, inst_get_msr(in, MSR_TSC_AUX) & 0xFFFFFFFFULL);
	wreg(uc, UC_X86_REG_RIP, rip + (p ? 3 : 2));
	if (deadline && tsc >= deadline) {
		in->stop.kind = STOP_RETRY; /* RIP is past the instruction: resume there */
		uc_emu_stop(uc);
	}
	return true;
}

void hook_intr(uc_engine *uc, uint32_t intno, void *data)
{
	struct emu_inst *in = data;

	if (in->in_switch && intno == EMU_VEC_UD && rreg(uc, UC_X86_REG_RIP) == in->stub_end) {
		in->stop.kind = STOP_SWITCH_DONE;
		uc_emu_stop(uc);
		return;
	}
	if (intno == 0x100 + SVM_EXIT_MSR && !in->in_switch && ghcb_msr_fast(in))
		return; /* done in place: no stop, no restart */
	if ((intno == 0x100 + 0x6E || intno == 0x100 + 0x87) && !in->in_switch && !in->m->trace &&
	    rdtsc_fast(in))
		return;
	if (intno >= 0x100) {
		uint64_t code = intno - 0x100;

		in->stop.kind = code == SVM_EXIT_SWINT ? STOP_SWINT : STOP_INTERCEPT;
		in->stop.code = code;
	} else {
		in->stop.kind = STOP_EXCEPTION;
		in->stop.code = intno;
	}
	uc_emu_stop(uc);
}

bool hook_invalid(uc_engine *uc, void *data)
{
	struct emu_inst *in = data;

	/* RIP only in a state load: the run loop reads it for the guest's
	 * invalid opcodes (VMGEXIT, twice per VMPL round trip) anyway. */
	if (in->in_switch && rreg(uc, UC_X86_REG_RIP) == in->stub_end)
		in->stop.kind = STOP_SWITCH_DONE;
	else
		in->stop.kind = STOP_INVALID;
	uc_emu_stop(uc);
	return true;
}

/*
 * Port I/O. Unicorn disables QEMU's I/O permission and SVM IOIO intercept
 * checks, so IN/OUT would run as no-ops. Every new translation block is
 * scanned (Capstone) when Unicorn generates it; each I/O instruction gets a
 * code hook on its own address that stops the CPU right before it, where
 * the model raises #VC(IOIO). A block found to hold a new site is dropped
 * before it runs and translated again with the hook.
 */
static void hook_io(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct emu_inst *in = data;

	(void)addr;
	(void)size;
	if (in->in_switch)
		return;
	in->stop.kind = STOP_INTERCEPT;
	in->stop.code = SVM_EXIT_IOIO;
	uc_emu_stop(uc);
}

static bool is_io(unsigned id)
{
	switch (id) {
	case X86_INS_IN:
	case X86_INS_OUT:
	case X86_INS_INSB:
	case X86_INS_INSW:
	case X86_INS_INSD:
	case X86_INS_OUTSB:
	case X86_INS_OUTSW:
	case X86_INS_OUTSD:
		return true;
	default:
		return false;
	}
}

/*
 * RDRAND and RDSEED: with QEMU's EPYC CPU model Unicorn runs them itself,
 * with its own (non-deterministic, possibly failing) source; the model
 * performs them instead (rdrand.c), so stop before they execute.
 */
static bool is_rdrand(unsigned id)
{
	return id == X86_INS_RDRAND || id == X86_INS_RDSEED;
}

static void hook_rdrand(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct emu_inst *in = data;

	(void)addr;
	(void)size;
	if (in->in_switch)
		return;
	in->stop.kind = STOP_INVALID; /* snp_emulate_insn runs rdrand.c */
	uc_emu_stop(uc);
}

/*
 * WRMSR and RDMSR sites get a code hook too: an access to the GHCB MSR (half
 * of every MSR-protocol VMGEXIT, three per VMPL round trip at VMPL0) is done
 * right before the instruction, which is then skipped (RIP moves past it and
 * the CPU resumes there). QEMU's SVM intercept would reach the same
 * ghcb_msr_at through hook_intr, but only after reading the MSR permission
 * map through the physical address space and unwinding the translation
 * block, which costs more than the rest of the access. Any other MSR, a site
 * past MSR_SITES or CPL > 0 runs into the intercept (or #GP) as before.
 */
static void hook_wrmsr(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct emu_inst *in = data;

	(void)uc;
	(void)size;
	if (!in->in_switch && in->stop.kind == STOP_NONE)
		ghcb_msr_at(in, addr, true, 0x30);
}

static void hook_rdmsr(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct emu_inst *in = data;

	(void)uc;
	(void)size;
	if (!in->in_switch && in->stop.kind == STOP_NONE)
		ghcb_msr_at(in, addr, true, 0x32);
}

static bool io_known(const struct emu_inst *in, uint64_t a)
{
	for (unsigned i = 0; i < in->nr_io; i++)
		if (in->io_addrs[i] == a)
			return true;
	for (unsigned i = 0; i < in->nr_msr; i++)
		if (in->msr_addrs[i] == a)
			return true;
	return false;
}

/* A code hook for the instruction `insn` if it is a site the model handles
 * before it runs (I/O, RDRAND/RDSEED, WRMSR/RDMSR); true if one was added. */
static bool site_hook(struct emu_inst *in, const cs_insn *insn)
{
	bool msr = insn->id == X86_INS_WRMSR || insn->id == X86_INS_RDMSR;
	void *cb = is_rdrand(insn->id)	     ? (void *)hook_rdrand :
		   insn->id == X86_INS_WRMSR ? (void *)hook_wrmsr :
		   msr			     ? (void *)hook_rdmsr :
					       (void *)hook_io;
	uc_hook h;

	if ((!is_io(insn->id) && !is_rdrand(insn->id) && !msr) || io_known(in, insn->address))
		return false;
	if (msr) {
		if (in->nr_msr == MSR_SITES || in->m->dbg)
			return false;
		in->msr_addrs[in->nr_msr++] = insn->address;
	} else {
		if (in->nr_io == 256)
			return false;
		in->io_addrs[in->nr_io++] = insn->address;
	}
	uc_hook_add(in->uc, &h, UC_HOOK_CODE, cb, in, insn->address, insn->address);
	return true;
}

/* Hook the I/O, RDRAND/RDSEED and MSR instructions of [pc, pc+size); true if
 * a new one was found. */
static bool io_scan(struct emu_inst *in, uint64_t pc, size_t size)
{
	uint8_t code[4096 + 64];
	const uint8_t *p = code;
	uint64_t a = pc;
	size_t n = guest_fetch(in, pc, code, size < sizeof(code) ? size : sizeof(code));
	cs_insn *insn = cs_malloc(in->m->cs);
	bool found = false;

	while (insn && cs_disasm_iter(in->m->cs, &p, &n, &a, insn))
		found |= site_hook(in, insn);
	cs_free(insn, 1);
	return found;
}

void hook_edge(uc_engine *uc, uc_tb *cur, uc_tb *prev, void *data)
{
	struct emu_inst *in = data;

	(void)prev;
	if (in->in_switch || !io_scan(in, cur->pc, cur->size))
		return;
	uc_ctl_remove_cache(uc, cur->pc, cur->pc + cur->size);
	in->stop.kind = STOP_RETRY; /* the block is checked on entry: nothing runs */
	uc_emu_stop(uc);
}

/*
 * CPL3 -> CPL0 without a VMSA load. Unicorn changes CPL only through its own
 * instructions, so the CPU goes through a 64-bit call gate in the stub page
 * (SYSC_ENTRY): a GDT of the model's own holds, at the target CS selector,
 * the descriptor to load (and at CS + 8, for SYSCALL, the one SS gets), with
 * the gate at SYSC_GATE. At the landing (CPL0, CS loaded, SS NULL as in
 * 64-bit event delivery) the model loads SS if asked, puts the guest's GDTR
 * and TR back and sets RSP, RFLAGS (and RCX, R11); the landing's INVLPG then
 * drops every TLB entry the stub page got, and the next instruction
 * (SYSC_EXIT) sets RIP. No VMSA save or load and no TLB flush: nothing else
 * changed. Fetching SYSC_EXIT leaves one execute-only entry for the stub
 * page; should the guest ever fetch from that page, hook_stub_guard flushes
 * it first.
 */
static bool climb_setup(struct emu_inst *in, uint16_t cs, uint64_t desc_cs, uint16_t ss,
			unsigned cpl)
{
	struct emu_machine *m = in->m;
	uc_engine *uc = in->uc;
	uint64_t data = m->priv_base + PRIV_SYSC, land = m->priv_base + PRIV_STUB + SYSC_LANDING;
	uc_x86_mmr gdt = { .base = data + SYSC_GDT, .limit = SYSC_GATE + 15 };
	uc_x86_mmr tss = { .base = data + SYSC_TSS, .limit = 0x67, .flags = 0x8B00 };
	uint8_t *p = m_ptr(m, data, 0x1000);

	if (m->dbg || in->in_switch || !cs || cs + 16 > SYSC_GATE || cpl != 3)
		return false;
	st64(p + SYSC_GDT + cs, desc_cs);
	st64(p + SYSC_GDT + cs + 8, 0x00CF93000000FFFFULL); /* SS: flat data, DPL0 */
	st64(p + SYSC_GDT + SYSC_GATE, (land & 0xFFFF) | (uint64_t)cs << 16 | (0xECULL << 40) |
					       (((land >> 16) & 0xFFFF) << 48));
	st64(p + SYSC_GDT + SYSC_GATE + 8, land >> 32);
	in->sysc.on = true;
	in->sysc.ss = ss;
	{ /* the guest's GDTR and TR out, the climb's in: one API call each way */
		int ids[2] = { UC_X86_REG_GDTR, UC_X86_REG_TR };
		void *out[2] = { &in->sysc.gdtr, &in->sysc.tr }, *put[2] = { &gdt, &tss };

		uc_reg_read_batch(uc, ids, out, 2);
		uc_reg_write_batch(uc, ids, put, 2);
	}
	in->in_switch = true; /* the stub page is reachable, nothing is counted */
	return true;
}

/*
 * Fast SYSCALL from CPL3 (AMD64 semantics, APM vol 3 "SYSCALL"): the climb
 * above to STAR.CS with SYSCALL's flat descriptors, without stopping the CPU.
 * SYSCALL from CPL0, with TF set or with a debugger attached takes the full
 * path (STOP_SYSCALL, run.c).
 */
static bool syscall_fast(struct emu_inst *in)
{
	uc_engine *uc = in->uc;
	/* Everything the decision needs, in one API call (each costs more than
	 * the register it reads). */
	int ids[7] = { UC_X86_REG_RIP, UC_X86_REG_RFLAGS, UC_X86_REG_RSP, UC_X86_REG_CS,
		       UC_X86_REG_CR0, UC_X86_REG_CR3,	  UC_X86_REG_CR4 };
	uint64_t r[7] = { 0 }, rip, rflags, cs;
	void *ptrs[7] = { &r[0], &r[1], &r[2], &r[3], &r[4], &r[5], &r[6] };
	uint8_t op[2];
	struct emu_stop st;

	uc_reg_read_batch(uc, ids, ptrs, 7);
	rip = r[0];
	rflags = r[1];

	if (!in->sysc.msr_ok) { /* guest writes are intercepted, loads clear it */
		in->sysc.star = inst_get_msr(in, MSR_STAR);
		in->sysc.lstar = inst_get_msr(in, MSR_LSTAR);
		in->sysc.sfmask = inst_get_msr(in, MSR_SFMASK);
		in->sysc.msr_ok = true;
	}
	cs = (in->sysc.star >> 32) & 0xFFFC;
	if (!(m_efer(in) & EFER_SCE) || (rflags & (1ULL << 8)) || in->in_switch ||
	    guest_insn_cr(in, rip, op, 2, &r[4], &st) || op[0] != 0x0F || op[1] != 0x05 ||
	    !climb_setup(in, cs, 0x00AF9B000000FFFFULL, cs + 8, r[3] & 3))
		return false;
	in->sysc.sync = false;
	in->sysc.set_rcx = true;
	in->sysc.rcx = rip + 2;
	in->sysc.r11 = rflags & ~(1ULL << 16);
	in->sysc.rsp = r[2];
	in->sysc.rflags = (rflags & ~in->sysc.sfmask & ~(1ULL << 16)) | 2;
	in->sysc.rip = in->sysc.lstar;
	/* Unicorn adds the instruction's length to RIP after the hook. */
	wreg(uc, UC_X86_REG_RIP, in->m->priv_base + PRIV_STUB + SYSC_ENTRY - 2);
	return true;
}

/*
 * Event delivery from CPL3 to a 64-bit CPL0 handler (x86_deliver, once it
 * pushed the frame): CS = `cs` with the guest's descriptor `desc`, SS = NULL,
 * RSP, RFLAGS, RIP. Runs the climb to its end; 1 if it does not apply (the
 * caller loads a VMSA instead), -1 if it failed.
 */
int inst_enter_cpl0(struct emu_inst *in, uint16_t cs, uint64_t desc, uint64_t rsp, uint64_t rflags,
		    uint64_t rip)
{
	struct emu_machine *m = in->m;
	uint64_t insns = m->insns;
	uc_err err;

	/* Present, code, DPL0, L = 1, D = 0: what the gate takes as it is. */
	if ((desc & (0x1FULL << 43 | 3ULL << 45 | 3ULL << 53)) != (0x13ULL << 43 | 1ULL << 53) ||
	    !climb_setup(in, cs & 0xFFFC, desc, 0, rreg(in->uc, UC_X86_REG_CS) & 3))
		return 1;
	in->sysc.sync = true;
	in->sysc.set_rcx = false;
	in->sysc.rsp = rsp;
	in->sysc.rflags = rflags;
	in->sysc.rip = rip;
	in->stop.kind = STOP_NONE;
	wreg(in->uc, UC_X86_REG_RFLAGS, rflags); /* TF off during the climb */
	err = uc_emu_start(in->uc, m->priv_base + PRIV_STUB + SYSC_ENTRY, 0, 0, 0);
	m->insns = insns;
	if (in->stop.kind != STOP_SWITCH_DONE || in->sysc.on) {
		snprintf(m->exit.message, sizeof(m->exit.message),
			 "CPL0 entry failed (uc %d, stop %d, rip %#llx)", err, in->stop.kind,
			 (unsigned long long)rreg(in->uc, UC_X86_REG_RIP));
		return -1;
	}
	return 0;
}

static void hook_sysc_landing(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct emu_inst *in = data;

	(void)addr;
	(void)size;
	if (!in->sysc.on || !in->in_switch)
		return;
	{ /* in this order (SS from the climb's GDT before the guest's is back),
	   * in one API call */
		uint64_t ss = in->sysc.ss;
		int ids[7] = { UC_X86_REG_SS,	  UC_X86_REG_GDTR, UC_X86_REG_TR, UC_X86_REG_RSP,
			       UC_X86_REG_RFLAGS, UC_X86_REG_RCX,  UC_X86_REG_R11 };
		void *vals[7] = { &ss,		 &in->sysc.gdtr,   &in->sysc.tr,
				  &in->sysc.rsp, &in->sysc.rflags, &in->sysc.rcx,
				  &in->sysc.r11 };
		unsigned first = in->sysc.ss ? 0 : 1, n = in->sysc.set_rcx ? 7 : 5;

		uc_reg_write_batch(uc, ids + first, vals + first, n - first);
	}
	in->sysc.late = true; /* the climb's data accesses are over */
}

static void hook_sysc_exit(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct emu_inst *in = data;

	(void)addr;
	(void)size;
	if (!in->sysc.on || !in->in_switch)
		return;
	in->sysc.on = false;
	in->sysc.late = false;
	in->in_switch = false;
	wreg(uc, UC_X86_REG_RIP, in->sysc.rip); /* resumes there */
	if (in->sysc.sync) {
		in->stop.kind = STOP_SWITCH_DONE;
		uc_emu_stop(uc);
	}
}

/* The guest fetched from the stub page's address outside a load or SYSCALL:
 * through the entry SYSC_EXIT left. Flush it and fetch again through the
 * guest's own translation. */
static void hook_stub_guard(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct emu_inst *in = data;

	(void)size;
	if (in->in_switch)
		return;
	if (in->m->cfg.count_insns && in->m->insns)
		in->m->insns--; /* counted by hook_code, not executed */
	uc_ctl_flush_tlb(uc);
	wreg(uc, UC_X86_REG_RIP, addr);
}

/* Unicorn's SYSCALL only calls hooks: the model performs the instruction. */
void hook_syscall(uc_engine *uc, void *data)
{
	struct emu_inst *in = data;

	if (syscall_fast(in))
		return;
	in->stop.kind = STOP_SYSCALL;
	uc_emu_stop(uc);
}

void hook_code(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct emu_inst *in = data;
	struct emu_machine *m = in->m;

	(void)addr;
	(void)size;
	if (in->in_switch)
		return;
	if (m->cfg.max_insns && m->insns >= m->cfg.max_insns) {
		in->stop.kind = STOP_LIMIT;
		uc_emu_stop(uc);
		return;
	}
	m->insns++;
}

/* The stub page's hooks in their order: the guard, then the SYSCALL landing
 * or exit the address names. */
void hook_stub_page(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct emu_inst *in = data;
	uint64_t off = addr - (in->m->priv_base + PRIV_STUB);

	hook_stub_guard(uc, addr, size, data);
	if (off == SYSC_LANDING)
		hook_sysc_landing(uc, addr, size, data);
	else if (off == SYSC_EXIT)
		hook_sysc_exit(uc, addr, size, data);
}

/* hook_code, then the stub page's hooks when the address is in that page. */
void hook_code_stub(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct emu_inst *in = data;

	hook_code(uc, addr, size, data);
	if (addr - (in->m->priv_base + PRIV_STUB) < 0x1000)
		hook_stub_page(uc, addr, size, data);
}
