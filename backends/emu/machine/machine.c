/* SPDX-License-Identifier: MIT */
/*
 * machine.c - the SNP machine: memory, RMP, vCPUs with one VMSA per VMPL, and
 * the run loop that turns Unicorn stops into architectural events.
 *
 * Every (vCPU, VMPL) has its own Unicorn CPU (struct inst), all sharing guest
 * memory. The CPU is kept in QEMU's SVM guest mode (it entered through VMRUN
 * from a private stub), so CPUID, IN/OUT, MSR accesses, HLT, PAUSE and VMMCALL
 * arrive as SVM intercepts: exactly the events SNP turns into #VC or
 * automatic exits. Loading a VMSA with new segment or control state also goes
 * through VMRUN/VMLOAD, which loads hidden segment state and CPL as hardware
 * does.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "amdsp.h"
#include "machine.h"

#define MiB (1ULL << 20)

/* Intercept bits (bit n = exit code 0x60 + n). */
#define ICPT(code) (1ULL << ((code)-0x60))

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
	[0x300] = 0x48, 0xFF, 0x1D, 0x09, 0x00, 0x00, 0x00, /* lcall *0x310(%rip): the climb */
	[0x320] = 0x0F, 0x01, 0x3D, 0xD9, 0xFC, 0xFF, 0xFF, /* landing: invlpg (stub page) */
	[0x327] = 0x0F, 0x0B,                              /* the climb's exit (hooked) */
};
/* clang-format on */

#define STUB_GDT 0x100
#define STUB_TSS 0x200
#define SYSC_ENTRY 0x300   /* fast SYSCALL: the far call at CPL3 */
#define SYSC_LANDING 0x320 /* ... reached at CPL0 through the gate */
#define SYSC_EXIT 0x327	   /* ... after the INVLPG of the stub page */
#define SYSC_GDT 0x400	   /* ... its GDT (selectors below SYSC_GATE) */
#define SYSC_GATE 0x7F0	   /* ... and the gate's slot in it */

static void stub_init(struct emu_machine *m)
{
	uint64_t stub = m->priv_base + PRIV_STUB, entry = stub + 0x10;
	uint8_t *p = m_ptr(m, stub, 0x1000);

	memcpy(p, stub_code, sizeof(stub_code));
	st64(p + STUB_GDT + 0x08, 0x00AF9B000000FFFFULL);
	st64(p + STUB_GDT + 0x10, 0x00CF93000000FFFFULL);
	/* 64-bit call gate, DPL3, to 0x08:entry */
	st64(p + STUB_GDT + 0x18, (entry & 0xFFFF) | (0x08ULL << 16) | (0xECULL << 40) |
					  (((entry >> 16) & 0xFFFF) << 48));
	st64(p + STUB_GDT + 0x20, entry >> 32);
	st64(p + STUB_TSS + 4, stub + 0x1000); /* RSP0 */
	/* The climb's far pointer (offset ignored): the gate, RPL3. */
	memcpy(p + SYSC_ENTRY + 0x18, &(uint16_t){ SYSC_GATE | 3 }, 2);
}

/* The bytes a C=0 read of a private page returns: fixed pseudo-random data
 * (xorshift64), standing in for ciphertext; the same in every run. */
static void cipher_init(struct emu_machine *m)
{
	uint64_t x = 0x9E3779B97F4A7C15ULL,
		 *p = (uint64_t *)m_ptr(m, m->priv_base + PRIV_CIPHER, 0x1000);

	for (unsigned i = 0; i < 512; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
}

uint8_t *m_ptr(struct emu_machine *m, uint64_t pa, uint64_t len)
{
	uint64_t total = m->mem_size + m->priv_size;

	if (pa > total || len > total - pa)
		return NULL;
	return m->mem + pa;
}

bool m_is_guest(const struct emu_machine *m, uint64_t pa, uint64_t len)
{
	return pa <= m->mem_size && len <= m->mem_size - pa;
}

uint64_t m_rd64(struct emu_machine *m, uint64_t pa)
{
	uint8_t *p = m_ptr(m, pa, 8);

	return p ? ld64(p) : ~0ULL;
}

void m_wr64(struct emu_machine *m, uint64_t pa, uint64_t v)
{
	uint8_t *p = m_ptr(m, pa, 8);

	if (p)
		st64(p, v);
}

/*
 * MSR access by the model itself. QEMU checks the MSR permission map of the
 * current VMCB even for API accesses (an intercept there would longjmp out of
 * Unicorn), so point the VMCB at an all-open map for the duration.
 */
static uint64_t msr_io(struct inst *in, uint32_t rid, uint64_t v, bool write)
{
	uc_x86_msr msr = { .rid = rid, .value = v };
	uint8_t *vmcb = m_ptr(in->m, in->vmcb_pa, 0x1000);

	st64(vmcb + 0x48, in->m->priv_base + PRIV_MSRPM_OPEN);
	if (write)
		uc_reg_write(in->uc, UC_X86_REG_MSR, &msr);
	else
		uc_reg_read(in->uc, UC_X86_REG_MSR, &msr);
	st64(vmcb + 0x48, in->m->priv_base + PRIV_MSRPM);
	return msr.value;
}

uint64_t inst_get_msr(struct inst *in, uint32_t rid)
{
	return msr_io(in, rid, 0, false);
}

void inst_set_msr(struct inst *in, uint32_t rid, uint64_t v)
{
	msr_io(in, rid, v, true);
	if (rid == MSR_STAR || rid == MSR_LSTAR || rid == MSR_SFMASK)
		in->sysc.msr_ok = false;
}

/* EFER as the CPU holds it (SVME hidden). Cached: only VMRUN loads and the
 * model's own WRMSR emulation change it. */
uint64_t m_efer(struct inst *in)
{
	return in->efer;
}

/* The instruction at RIP completed (emulated by the model). */
void inst_retire(struct inst *in, uint64_t len)
{
	wreg(in->uc, UC_X86_REG_RIP, rreg(in->uc, UC_X86_REG_RIP) + len);
	if (in->m->cfg.count_insns)
		in->m->insns++;
}

uint8_t *vmsa_ptr(struct emu_machine *m, struct vcpu *v, unsigned vmpl)
{
	if (v->inst[vmpl] && v->inst[vmpl]->lazy) /* the model looks: the save is due */
		inst_sync(v->inst[vmpl]);
	return v->vmsa_gpa[vmpl] ? m_ptr(m, v->vmsa_gpa[vmpl], 0x1000) : NULL;
}

void machine_rmp_changed(struct emu_machine *m)
{
	/* Conservative model: every vCPU's TLB is flushed (FIDELITY.md). */
	m->rmp_gen++;
}

/*
 * PSMASH (APM vol 3, PSMASH): split the 2 MiB RMP entry covering `gfn` into
 * 512 4 KiB entries that keep its state. The model stores a 2 MiB entry as 512
 * identical entries with page_size set, so only the size changes. Returns
 * false if the entry is not 2 MiB.
 */
bool rmp_psmash(struct emu_machine *m, uint64_t gfn)
{
	uint64_t base = gfn & ~511ULL, i;

	if ((base << 12) >= m->mem_size || !m->rmp[base].page_size)
		return false;
	for (i = 0; i < 512; i++)
		m->rmp[base + i].page_size = 0;
	machine_rmp_changed(m);
	return true;
}

void machine_finish(struct emu_machine *m, enum emu_exit_kind kind, const char *msg)
{
	bool first = !m->done;

	m->done = true;
	m->exit.kind = kind;
	if (msg)
		snprintf(m->exit.message, sizeof(m->exit.message), "%s", msg);
	if (TRACE_ON(m) && first)
		trace_end(m);
}

/* ---- hooks ---------------------------------------------------------- */

/*
 * RDMSR/WRMSR of the GHCB MSR is the first half of every MSR-protocol
 * VMGEXIT: handle it inside the intercept hook. Writing RIP from a hook makes
 * Unicorn resume there without leaving uc_emu_start. Anything else (other
 * MSRs, a #VC to deliver) takes the full stop path in run.c.
 */
static bool ghcb_msr_at(struct inst *in, uint64_t rip)
{
	uc_engine *uc = in->uc;
	uint64_t *msr;
	uint8_t op[2];
	struct stop st;

	if ((uint32_t)rreg(uc, UC_X86_REG_RCX) != MSR_GHCB || guest_insn(in, rip, op, 2, &st) ||
	    op[0] != 0x0F || (op[1] != 0x30 && op[1] != 0x32))
		return false;
	msr = &in->vcpu->ghcb_msr[in->vmpl];
	if (op[1] == 0x30) {
		*msr = (rreg(uc, UC_X86_REG_RAX) & 0xFFFFFFFFULL) |
		       (rreg(uc, UC_X86_REG_RDX) << 32);
	} else {
		wreg(uc, UC_X86_REG_RAX, *msr & 0xFFFFFFFFULL);
		wreg(uc, UC_X86_REG_RDX, *msr >> 32);
	}
	wreg(uc, UC_X86_REG_RIP, rip + 2); /* retired: the code hook counted it */
	return true;
}

static bool ghcb_msr_fast(struct inst *in)
{
	return ghcb_msr_at(in, rreg(in->uc, UC_X86_REG_RIP));
}

/*
 * RDTSC and RDTSCP (APM vol 3) are answered inside the intercept hook too:
 * Linux reads the clock often, and a stop and restart of the CPU for each
 * read would cost more than the rest of the boot. The CPU stops only once the
 * clock reaches this vCPU's timer deadline, so the run loop delivers it.
 */
static bool rdtsc_fast(struct inst *in)
{
	uc_engine *uc = in->uc;
	uint64_t rip = rreg(uc, UC_X86_REG_RIP), tsc, deadline = in->vcpu->apic.deadline;
	uint8_t op[3];
	struct stop st;
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

static void hook_intr(uc_engine *uc, uint32_t intno, void *data)
{
	struct inst *in = data;

	if (in->in_switch && intno == EMU_VEC_UD &&
	    rreg(uc, UC_X86_REG_RIP) == in->m->priv_base + PRIV_STUB + 0x20) {
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

static bool hook_invalid(uc_engine *uc, void *data)
{
	struct inst *in = data;
	uint64_t rip = rreg(uc, UC_X86_REG_RIP);

	if (in->in_switch && rip == in->m->priv_base + PRIV_STUB + 0x20)
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
	struct inst *in = data;

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
	struct inst *in = data;

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
 * block, which costs more than the rest of the access. Any other MSR, or a
 * site past MSR_SITES, runs into the intercept as before.
 */
static void hook_msr(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct inst *in = data;

	(void)uc;
	(void)size;
	if (!in->in_switch && in->stop.kind == STOP_NONE)
		ghcb_msr_at(in, addr);
}

static bool io_known(const struct inst *in, uint64_t a)
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
static bool site_hook(struct inst *in, const cs_insn *insn)
{
	bool msr = insn->id == X86_INS_WRMSR || insn->id == X86_INS_RDMSR;
	void *cb = is_rdrand(insn->id) ? (void *)hook_rdrand :
		   msr		       ? (void *)hook_msr :
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
static bool io_scan(struct inst *in, uint64_t pc, size_t size)
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

static void hook_edge(uc_engine *uc, uc_tb *cur, uc_tb *prev, void *data)
{
	struct inst *in = data;

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
static bool climb_setup(struct inst *in, uint16_t cs, uint64_t desc_cs, uint16_t ss)
{
	struct emu_machine *m = in->m;
	uc_engine *uc = in->uc;
	uint64_t stub = m->priv_base + PRIV_STUB, land = stub + SYSC_LANDING;
	uc_x86_mmr gdt = { .base = stub + SYSC_GDT, .limit = SYSC_GATE + 15 };
	uc_x86_mmr tss = { .base = stub + STUB_TSS, .limit = 0x67, .flags = 0x8B00 };
	uint8_t *p = m_ptr(m, stub, 0x1000);

	if (m->dbg || in->in_switch || !cs || cs + 16 > SYSC_GATE ||
	    (rreg(uc, UC_X86_REG_CS) & 3) != 3)
		return false;
	st64(p + SYSC_GDT + cs, desc_cs);
	st64(p + SYSC_GDT + cs + 8, 0x00CF93000000FFFFULL); /* SS: flat data, DPL0 */
	st64(p + SYSC_GDT + SYSC_GATE, (land & 0xFFFF) | (uint64_t)cs << 16 | (0xECULL << 40) |
					       (((land >> 16) & 0xFFFF) << 48));
	st64(p + SYSC_GDT + SYSC_GATE + 8, land >> 32);
	in->sysc.on = true;
	in->sysc.ss = ss;
	uc_reg_read(uc, UC_X86_REG_GDTR, &in->sysc.gdtr);
	uc_reg_read(uc, UC_X86_REG_TR, &in->sysc.tr);
	uc_reg_write(uc, UC_X86_REG_GDTR, &gdt);
	uc_reg_write(uc, UC_X86_REG_TR, &tss);
	in->in_switch = true; /* the stub page is reachable, nothing is counted */
	return true;
}

/*
 * Fast SYSCALL from CPL3 (AMD64 semantics, APM vol 3 "SYSCALL"): the climb
 * above to STAR.CS with SYSCALL's flat descriptors, without stopping the CPU.
 * SYSCALL from CPL0, with TF set or with a debugger attached takes the full
 * path (STOP_SYSCALL, run.c).
 */
static bool syscall_fast(struct inst *in)
{
	uc_engine *uc = in->uc;
	uint64_t rip = rreg(uc, UC_X86_REG_RIP), rflags = rreg(uc, UC_X86_REG_RFLAGS), cs;
	uint8_t op[2];
	struct stop st;

	if (!in->sysc.msr_ok) { /* guest writes are intercepted, loads clear it */
		in->sysc.star = inst_get_msr(in, MSR_STAR);
		in->sysc.lstar = inst_get_msr(in, MSR_LSTAR);
		in->sysc.sfmask = inst_get_msr(in, MSR_SFMASK);
		in->sysc.msr_ok = true;
	}
	cs = (in->sysc.star >> 32) & 0xFFFC;
	if (!(m_efer(in) & EFER_SCE) || (rflags & (1ULL << 8)) || in->in_switch ||
	    guest_insn(in, rip, op, 2, &st) || op[0] != 0x0F || op[1] != 0x05 ||
	    !climb_setup(in, cs, 0x00AF9B000000FFFFULL, cs + 8))
		return false;
	in->sysc.sync = false;
	in->sysc.set_rcx = true;
	in->sysc.rcx = rip + 2;
	in->sysc.r11 = rflags & ~(1ULL << 16);
	in->sysc.rsp = rreg(uc, UC_X86_REG_RSP);
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
int inst_enter_cpl0(struct inst *in, uint16_t cs, uint64_t desc, uint64_t rsp, uint64_t rflags,
		    uint64_t rip)
{
	struct emu_machine *m = in->m;
	uint64_t insns = m->insns;
	uc_err err;

	/* Present, code, DPL0, L = 1, D = 0: what the gate takes as it is. */
	if ((desc & (0x1FULL << 43 | 3ULL << 45 | 3ULL << 53)) != (0x13ULL << 43 | 1ULL << 53) ||
	    !climb_setup(in, cs & 0xFFFC, desc, 0))
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
	struct inst *in = data;

	(void)addr;
	(void)size;
	if (!in->sysc.on || !in->in_switch)
		return;
	if (in->sysc.ss)
		wreg(uc, UC_X86_REG_SS, in->sysc.ss); /* from the stub GDT: flat, DPL0 */
	uc_reg_write(uc, UC_X86_REG_GDTR, &in->sysc.gdtr);
	uc_reg_write(uc, UC_X86_REG_TR, &in->sysc.tr);
	wreg(uc, UC_X86_REG_RSP, in->sysc.rsp);
	wreg(uc, UC_X86_REG_RFLAGS, in->sysc.rflags);
	if (in->sysc.set_rcx) {
		wreg(uc, UC_X86_REG_RCX, in->sysc.rcx);
		wreg(uc, UC_X86_REG_R11, in->sysc.r11);
	}
	in->sysc.late = true; /* the stub's data accesses are over */
}

static void hook_sysc_exit(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct inst *in = data;

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
	struct inst *in = data;

	(void)size;
	if (in->in_switch)
		return;
	if (in->m->cfg.count_insns && in->m->insns)
		in->m->insns--; /* counted by hook_code, not executed */
	uc_ctl_flush_tlb(uc);
	wreg(uc, UC_X86_REG_RIP, addr);
}

/* Unicorn's SYSCALL only calls hooks: the model performs the instruction. */
static void hook_syscall(uc_engine *uc, void *data)
{
	struct inst *in = data;

	if (syscall_fast(in))
		return;
	in->stop.kind = STOP_SYSCALL;
	uc_emu_stop(uc);
}

static void hook_code(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct inst *in = data;
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
static void hook_stub_page(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct inst *in = data;
	uint64_t off = addr - (in->m->priv_base + PRIV_STUB);

	hook_stub_guard(uc, addr, size, data);
	if (off == SYSC_LANDING)
		hook_sysc_landing(uc, addr, size, data);
	else if (off == SYSC_EXIT)
		hook_sysc_exit(uc, addr, size, data);
}

/* hook_code, then the stub page's hooks when the address is in that page. */
static void hook_code_stub(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct inst *in = data;

	hook_code(uc, addr, size, data);
	if (addr - (in->m->priv_base + PRIV_STUB) < 0x1000)
		hook_stub_page(uc, addr, size, data);
}

/* ---- instances ------------------------------------------------------ */

static void vmcb_init(struct emu_machine *m, struct inst *in)
{
	uint8_t *c = m_ptr(m, in->vmcb_pa, 0x1000);
	uint64_t icpt = ICPT(SVM_EXIT_RDTSC) | ICPT(SVM_EXIT_CPUID) | ICPT(SVM_EXIT_SWINT) |
			ICPT(SVM_EXIT_INVD) | ICPT(SVM_EXIT_PAUSE) | ICPT(SVM_EXIT_HLT) |
			ICPT(SVM_EXIT_IOIO) | ICPT(SVM_EXIT_MSR) | ICPT(SVM_EXIT_VMMCALL) |
			ICPT(SVM_EXIT_RDTSCP) | ICPT(SVM_EXIT_WBINVD) | ICPT(SVM_EXIT_MONITOR) |
			ICPT(SVM_EXIT_MWAIT);

	memset(c, 0, 0x400);
	/* DR7 reads and writes are NAE events (#VC 0x27 / 0x37) for an SNP
	 * guest without DebugSwap (GHCB spec 56421, NAE events). */
	c[0x04] = 0x80;
	c[0x06] = 0x80;
	memcpy(c + 0x0C, &icpt, 8);
	st64(c + 0x40, m->priv_base + PRIV_IOPM);
	st64(c + 0x48, m->priv_base + PRIV_MSRPM);
	c[0x5C] = 1; /* flush this CPU's TLB on the load */
}

struct inst *inst_get(struct emu_machine *m, struct vcpu *v, unsigned vmpl)
{
	struct inst *in = v->inst[vmpl];
	uc_hook h;
	uc_err e;

	if (in)
		return in;
	in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	in->m = m;
	in->vcpu = v;
	in->vmpl = vmpl;
	in->idx = v->id * EMU_NR_VMPLS + vmpl;
	in->vmcb_pa = m->priv_base + PRIV_VMCB + (uint64_t)in->idx * 0x1000;
	e = uc_open(UC_ARCH_X86, UC_MODE_64, &in->uc);
	if (e != UC_ERR_OK) {
		free(in);
		return NULL;
	}
	/* An AMD CPU model (EPYC): SMEP, SMAP, STAC/CLAC, RDTSCP and MONITOR/MWAIT
	 * exist, as on the hardware SNP runs on (Unicorn's default qemu64 lacks them). */
	uc_ctl_set_cpu_model(in->uc, UC_CPU_X86_EPYC);
	uc_ctl_set_tcg_buffer_size(in->uc, 128 * MiB);
	uc_ctl_tlb_mode(in->uc, UC_TLB_VIRTUAL);
	uc_ctl_exits_enable(in->uc); /* no "until" address: no retranslation */
	uc_mem_map_ptr(in->uc, 0, m->mem_size + m->priv_size, UC_PROT_ALL, m->mem);
	uc_hook_add(in->uc, &h, UC_HOOK_TLB_FILL, (void *)uc_tlb_hook, in, 1, 0);
	uc_hook_add(in->uc, &h, UC_HOOK_INTR, (void *)hook_intr, in, 1, 0);
	uc_hook_add(in->uc, &h, UC_HOOK_INSN_INVALID, (void *)hook_invalid, in, 1, 0);
	uc_hook_add(in->uc, &h, UC_HOOK_INSN, (void *)hook_syscall, in, 1, 0, UC_X86_INS_SYSCALL);
	uc_hook_add(in->uc, &h, UC_HOOK_EDGE_GENERATED, (void *)hook_edge, in, 1, 0);
	/* Unicorn calls every code hook's helper on every instruction once one
	 * covers it: counting alone takes one hook that also serves the stub
	 * page, in the same order as the separate hooks below. */
	if (m->cfg.count_insns && !m->trace && !m->dbg) {
		uc_hook_add(in->uc, &h, UC_HOOK_CODE, (void *)hook_code_stub, in, 1, 0);
	} else {
		if (m->cfg.count_insns)
			uc_hook_add(in->uc, &h, UC_HOOK_CODE, (void *)hook_code, in, 1, 0);
		if (m->trace) /* after hook_code: the instruction count is final when it runs */
			trace_inst_init(in);
		if (m->dbg)
			dbg_inst_init(in);
		/* Last: the hooks above skip the landing (in_switch) before this one clears it. */
		uc_hook_add(in->uc, &h, UC_HOOK_CODE, (void *)hook_stub_page, in,
			    m->priv_base + PRIV_STUB, m->priv_base + PRIV_STUB + 0xFFF);
	}
	inst_set_msr(in, MSR_VM_HSAVE, m->priv_base + PRIV_HSAVE);
	vmcb_init(m, in);
	in->rmp_gen = m->rmp_gen;
	v->inst[vmpl] = in;
	return in;
}

static void inst_free(struct inst *in)
{
	if (!in)
		return;
	uc_close(in->uc);
	free(in);
}

/*
 * Unicorn 2.1 bug: writing CR2 runs the CR3 update with the CR2 value. Write
 * CR2 only when it changes, and put CR3 back after it.
 */
void inst_set_cr2(struct inst *in, uint64_t cr2)
{
	uint64_t cr3 = rreg(in->uc, UC_X86_REG_CR3);

	if (rreg(in->uc, UC_X86_REG_CR2) == cr2)
		return;
	wreg(in->uc, UC_X86_REG_CR2, cr2);
	wreg(in->uc, UC_X86_REG_CR3, cr3);
}

/* Registers moved on every switch (the "light" state). */
static const int gpr_ids[] = {
	UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX,	   UC_X86_REG_RBX, UC_X86_REG_RSP,
	UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,	   UC_X86_REG_R8,  UC_X86_REG_R9,
	UC_X86_REG_R10, UC_X86_REG_R11, UC_X86_REG_R12,	   UC_X86_REG_R13, UC_X86_REG_R14,
	UC_X86_REG_R15, UC_X86_REG_RIP, UC_X86_REG_RFLAGS,
};
static const uint16_t gpr_off[] = {
	VMSA_RAX,     VMSA_RCX,	    VMSA_RDX,	  VMSA_RBX,	VMSA_RSP,     VMSA_RBP,
	VMSA_RSI,     VMSA_RDI,	    VMSA_R8,	  VMSA_R8 + 8,	VMSA_R8 + 16, VMSA_R8 + 24,
	VMSA_R8 + 32, VMSA_R8 + 40, VMSA_R8 + 48, VMSA_R8 + 56, VMSA_RIP,     VMSA_RFLAGS,
};
#define NR_GPR (sizeof(gpr_ids) / sizeof(gpr_ids[0]))

/*
 * Write the light state into the CPU. A switched-out instance still holds
 * what was last saved (the shadow), so only fields someone changed in the
 * VMSA since then need writing, unless a full load just ran (`all`).
 */
static void light_load(struct inst *in, const uint8_t *vmsa, bool all)
{
	uint64_t vals[NR_GPR];
	void *ptrs[NR_GPR];
	int ids[NR_GPR];
	uint8_t xmm[16][16];
	unsigned i, n = 0;

	for (i = 0; i < NR_GPR; i++) {
		if (!all && !memcmp(vmsa + gpr_off[i], in->shadow + gpr_off[i], 8))
			continue;
		ids[n] = gpr_ids[i];
		vals[n] = ld64(vmsa + gpr_off[i]);
		ptrs[n] = &vals[n];
		n++;
	}
	if (n)
		uc_reg_write_batch(in->uc, ids, (void *const *)ptrs, n);
	if (all || ld64(vmsa + VMSA_CR2) != ld64(in->shadow + VMSA_CR2))
		inst_set_cr2(in, ld64(vmsa + VMSA_CR2));
	if (all || memcmp(vmsa + VMSA_XMM, in->shadow + VMSA_XMM, sizeof(xmm))) {
		memcpy(xmm, vmsa + VMSA_XMM, sizeof(xmm));
		for (i = 0; i < 16; i++)
			uc_reg_write(in->uc, UC_X86_REG_XMM0 + i, xmm[i]);
	}
}

/*
 * Hidden segment state cannot be read back through Unicorn. A segment whose
 * selector is unchanged keeps what was last loaded (the shadow); a changed
 * selector (IRET, SYSRET, MOV Sreg) gets the descriptor the CPU loaded from
 * the GDT, or flat attributes for a NULL or unreadable one (FIDELITY.md).
 */
static void seg_save(struct inst *in, uint16_t sel, unsigned off, uint8_t *vmsa, bool code)
{
	uint16_t osel, attr;
	uint32_t limit = 0xFFFFFFFF;
	uc_x86_mmr gdtr;
	uint8_t desc[8];
	struct stop st;

	memcpy(&osel, in->shadow + off, 2);
	memcpy(vmsa + off, in->shadow + off, 16);
	if (sel == osel && in->loaded)
		return;
	attr = (code ? 0x29B : 0xC93) | (sel & 3) << 5;
	uc_reg_read(in->uc, UC_X86_REG_GDTR, &gdtr);
	if ((sel & ~3) && (sel | 7) <= gdtr.limit &&
	    !guest_copy(in, gdtr.base + (sel & ~7), desc, 8, false, &st)) {
		attr = desc[5] | ((desc[6] & 0xF0) << 4);
		limit = desc[0] | desc[1] << 8 | (desc[6] & 0xF) << 16;
		if (desc[6] & 0x80)
			limit = limit << 12 | 0xFFF;
	}
	memcpy(vmsa + off, &sel, 2);
	memcpy(vmsa + off + 2, &attr, 2);
	memcpy(vmsa + off + 4, &limit, 4);
	st64(vmsa + off + 8, 0);
}

static void sys_seg_save(const uc_x86_mmr *mmr, uint8_t *p)
{
	uint16_t attr = ((mmr->flags >> 8) & 0xFF) | ((mmr->flags >> 12) & 0xF00);

	memcpy(p, &mmr->selector, 2);
	memcpy(p + 2, &attr, 2);
	memcpy(p + 4, &mmr->limit, 4);
	st64(p + 8, mmr->base);
}

/* Everything a save reads, in one batch: the API's per-call cost dominates. */
static const int save_sys_ids[] = { UC_X86_REG_CR2, UC_X86_REG_CR0,	UC_X86_REG_CR3,
				    UC_X86_REG_CR4, UC_X86_REG_FS_BASE, UC_X86_REG_GS_BASE,
				    UC_X86_REG_ES,  UC_X86_REG_CS,	UC_X86_REG_SS,
				    UC_X86_REG_DS,  UC_X86_REG_FS,	UC_X86_REG_GS };
static const int save_mmr_ids[] = { UC_X86_REG_TR, UC_X86_REG_LDTR, UC_X86_REG_GDTR,
				    UC_X86_REG_IDTR };
enum {
	NR_SYS = 12,
	NR_MMR = 4,
	NR_SAVE = NR_GPR + NR_SYS + NR_MMR + 16
};

/* Copy the instance's state into a VMSA page. */
void inst_save(struct inst *in, uint8_t *vmsa)
{
	uint64_t v[NR_GPR + NR_SYS] = { 0 }, *sys = v + NR_GPR;
	uc_x86_mmr mmr[NR_MMR];
	uint8_t xmm[16][16];
	int ids[NR_SAVE];
	void *ptrs[NR_SAVE];
	unsigned i, n = 0;

	for (i = 0; i < NR_GPR + NR_SYS; i++, n++) {
		ids[n] = i < NR_GPR ? gpr_ids[i] : save_sys_ids[i - NR_GPR];
		ptrs[n] = &v[i];
	}
	for (i = 0; i < NR_MMR; i++, n++) {
		ids[n] = save_mmr_ids[i];
		ptrs[n] = &mmr[i];
	}
	for (i = 0; i < 16; i++, n++) {
		ids[n] = UC_X86_REG_XMM0 + i;
		ptrs[n] = xmm[i];
	}
	uc_reg_read_batch(in->uc, ids, ptrs, n);
	for (i = 0; i < NR_GPR; i++)
		st64(vmsa + gpr_off[i], v[i]);
	memcpy(vmsa + VMSA_XMM, xmm, sizeof(xmm));
	st64(vmsa + VMSA_CR2, sys[0]);
	st64(vmsa + VMSA_CR0, sys[1]);
	st64(vmsa + VMSA_CR3, sys[2]);
	st64(vmsa + VMSA_CR4, sys[3]);
	seg_save(in, (uint16_t)sys[6], VMSA_ES, vmsa, false);
	seg_save(in, (uint16_t)sys[7], VMSA_CS, vmsa, true);
	seg_save(in, (uint16_t)sys[8], VMSA_SS, vmsa, false);
	seg_save(in, (uint16_t)sys[9], VMSA_DS, vmsa, false);
	seg_save(in, (uint16_t)sys[10], VMSA_FS, vmsa, false);
	seg_save(in, (uint16_t)sys[11], VMSA_GS, vmsa, false);
	st64(vmsa + VMSA_FS + 8, sys[4]);
	st64(vmsa + VMSA_GS + 8, sys[5]);
	sys_seg_save(&mmr[0], vmsa + VMSA_TR);
	sys_seg_save(&mmr[1], vmsa + VMSA_LDTR);
	st64(vmsa + VMSA_GDTR + 8, mmr[2].base);
	memcpy(vmsa + VMSA_GDTR + 4, &mmr[2].limit, 4);
	st64(vmsa + VMSA_IDTR + 8, mmr[3].base);
	memcpy(vmsa + VMSA_IDTR + 4, &mmr[3].limit, 4);
	vmsa[VMSA_CPL] = sys[7] & 3; /* CPL = CS.RPL in long mode */
	st64(vmsa + VMSA_EFER, m_efer(in) | EFER_SVME);
	if (in->msrs_dirty || !in->loaded) {
		st64(vmsa + VMSA_STAR, inst_get_msr(in, MSR_STAR));
		st64(vmsa + VMSA_LSTAR, inst_get_msr(in, MSR_LSTAR));
		st64(vmsa + VMSA_CSTAR, inst_get_msr(in, MSR_CSTAR));
		st64(vmsa + VMSA_SFMASK, inst_get_msr(in, MSR_SFMASK));
		in->msrs_dirty = false;
	} else { /* writes are intercepted: unchanged since the last sync */
		memcpy(vmsa + VMSA_STAR, in->shadow + VMSA_STAR, 0x20);
	}
	/* SWAPGS exchanges GS.base and KernelGSbase without a WRMSR: always read. */
	st64(vmsa + VMSA_KGSBASE, inst_get_msr(in, MSR_KGSBASE));
	memcpy(in->shadow, vmsa, sizeof(in->shadow));
}

/* Fields whose change needs a full (VMRUN) load; all others are "light". */
static bool heavy_equal(const uint8_t *a, const uint8_t *b)
{
	return !memcmp(a, b, 0xA0) && a[VMSA_CPL] == b[VMSA_CPL] &&
	       !memcmp(a + VMSA_EFER, b + VMSA_EFER, 8) &&
	       !memcmp(a + VMSA_CR4, b + VMSA_CR4, 0x28) &&
	       !memcmp(a + VMSA_STAR, b + VMSA_STAR, 0x40);
}

/* Full load: VMLOAD + VMRUN from the private stub (see file comment). */
static int inst_full_load(struct inst *in, const uint8_t *vmsa)
{
	struct emu_machine *m = in->m;
	uc_engine *uc = in->uc;
	uint8_t *vmcb = m_ptr(m, in->vmcb_pa, 0x1000);
	uint8_t *save = vmcb + 0x400;
	uint64_t stub = m->priv_base + PRIV_STUB, efer, rcx, r11, insns = m->insns;
	unsigned cpl = vmsa[VMSA_CPL] & 3;
	bool real = !(ld64(vmsa + VMSA_CR0) & 1); /* CR0.PE */
	uint16_t attr;
	uc_err err;

	if (!vmcb)
		return -1;
	/* A real-mode CS is restored by selector: its base must be selector << 4
	 * (FIDELITY.md). */
	if (real && ld64(vmsa + VMSA_CS + 8) != (ld64(vmsa + VMSA_CS) & 0xFFFF) << 4)
		return -1;
	memcpy(save, vmsa, 0x300);
	memcpy(&attr, save + VMSA_SS + 2, 2);
	attr = (attr & ~0x60) | (cpl << 5); /* CPL comes from SS.DPL in the CPU model */
	memcpy(save + VMSA_SS + 2, &attr, 2);
	efer = ld64(vmsa + VMSA_EFER) & ~EFER_SVME; /* guests must not run SVM insns */
	st64(save + VMSA_EFER, efer);
	st64(save + VMSA_RIP, stub + 0x20);
	/* A real-mode VMSA (an AP's INIT state: Linux's AP creation) fetches
	 * from CS.base + RIP: the load runs to the stub with base 0, and CS
	 * gets its own base back below. */
	if (real)
		st64(save + VMSA_CS + 8, 0);
	save[VMSA_CPL] = cpl;
	vmcb[0x5C] = 1;

	rcx = ld64(vmsa + VMSA_RCX);
	r11 = ld64(vmsa + VMSA_R8 + 24);
	in->in_switch = true;
	in->stop.kind = STOP_NONE;
	inst_set_msr(in, MSR_EFER, inst_get_msr(in, MSR_EFER) | EFER_SVME);
	/* VMRUN loads CR0 before CR4: PAE must already be on to enable paging. */
	wreg(uc, UC_X86_REG_CR4, rreg(uc, UC_X86_REG_CR4) | 0x20);
	wreg(uc, UC_X86_REG_RAX, in->vmcb_pa);
	if ((rreg(uc, UC_X86_REG_CS) & 3) != 0) {
		uc_x86_mmr gdt = { .base = stub + STUB_GDT, .limit = 0x27 };
		uc_x86_mmr tss = { .base = stub + STUB_TSS, .limit = 0x67, .flags = 0x8B00 };

		uc_reg_write(uc, UC_X86_REG_GDTR, &gdt);
		uc_reg_write(uc, UC_X86_REG_TR, &tss);
		err = uc_emu_start(uc, stub, 0, 0, 0);
	} else {
		err = uc_emu_start(uc, stub + 0x10, 0, 0, 0);
	}
	in->in_switch = false;
	m->insns = insns;
	if (in->stop.kind != STOP_SWITCH_DONE) {
		snprintf(m->exit.message, sizeof(m->exit.message),
			 "VMSA load failed (uc %d, stop %d, rip %#llx)", err, in->stop.kind,
			 (unsigned long long)rreg(uc, UC_X86_REG_RIP));
		return -1;
	}
	in->efer = inst_get_msr(in, MSR_EFER);
	in->sysc.msr_ok = false; /* VMRUN loaded the syscall MSRs */
	uc_ctl_flush_tlb(uc);	 /* drop the stub page */
	in->rmp_gen = m->rmp_gen;
	wreg(uc, UC_X86_REG_RCX, rcx);
	wreg(uc, UC_X86_REG_R11, r11);
	/* Order matters for QEMU's checks: CR4 (PAE), CR3, then CR0 (PG). */
	if (rreg(uc, UC_X86_REG_CR4) != ld64(vmsa + VMSA_CR4))
		wreg(uc, UC_X86_REG_CR4, ld64(vmsa + VMSA_CR4));
	if (rreg(uc, UC_X86_REG_CR3) != ld64(vmsa + VMSA_CR3))
		wreg(uc, UC_X86_REG_CR3, ld64(vmsa + VMSA_CR3));
	if (rreg(uc, UC_X86_REG_CR0) != ld64(vmsa + VMSA_CR0))
		wreg(uc, UC_X86_REG_CR0, ld64(vmsa + VMSA_CR0));
	if (real) { /* real mode: a selector write sets base = selector << 4 */
		uint16_t cs;

		memcpy(&cs, vmsa + VMSA_CS, 2);
		wreg(uc, UC_X86_REG_CS, cs);
	}
	return 0;
}

/* Make the instance's CPU hold the state in `vmsa`. */
int inst_load(struct inst *in, const uint8_t *vmsa)
{
	bool full;

	if (in->lazy && !inst_load_lazy(in, vmsa))
		return 0; /* its CPU still holds the state */
	full = !in->loaded || !heavy_equal(vmsa, in->shadow);
	if (full) {
		if (inst_full_load(in, vmsa))
			return -1;
		in->loaded = true;
	}
	light_load(in, vmsa, full);
	memcpy(in->shadow, vmsa, sizeof(in->shadow));
	return 0;
}

/* ---- creation ------------------------------------------------------- */

/* Clear the read (bit 0) and/or write (bit 1) intercept of one MSR. */
static void msrpm_pass(uint8_t *pm, uint32_t msr, unsigned rw)
{
	uint32_t base = 0;

	if (msr >= 0xC0000000U) {
		base = 0x800;
		msr -= 0xC0000000U;
	}
	pm[base + msr / 4] &= ~(rw << ((msr % 4) * 2));
}

/*
 * MSRs whose state lives in the VMSA pass through. The syscall MSRs pass
 * reads only: writes are rare and intercepted, so a VMSA save need not read
 * them back unless the guest wrote one.
 */
static void msrpm_init(struct emu_machine *m)
{
	uint8_t *pm = m_ptr(m, m->priv_base + PRIV_MSRPM, 0x2000);
	static const uint32_t both[] = { MSR_FS_BASE, MSR_GS_BASE, MSR_TSC_AUX, 0x174,
					 0x175,	      0x176,	   0x277 };
	static const uint32_t read[] = { MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK, MSR_KGSBASE };
	unsigned i;

	memset(pm, 0xFF, 0x2000);
	for (i = 0; i < sizeof(both) / sizeof(both[0]); i++)
		msrpm_pass(pm, both[i], 3);
	for (i = 0; i < sizeof(read) / sizeof(read[0]); i++)
		msrpm_pass(pm, read[i], 1);
	memset(m_ptr(m, m->priv_base + PRIV_IOPM, 0x3000), 0xFF, 0x3000);
}

struct emu_machine *emu_create(const struct emu_config *cfg, char *err, size_t errlen)
{
	struct emu_machine *m;
	uint64_t pt_pages;
	unsigned i;

	if (cfg->mem_size < 2 * MiB || cfg->mem_size % (2 * MiB) || cfg->mem_size > (64ULL << 30)) {
		snprintf(err, errlen,
			 "memory size must be a multiple of 2 MiB between 2 MiB and 64 GiB");
		return NULL;
	}
	if (cfg->nr_vcpus < 1 || cfg->nr_vcpus > EMU_MAX_VCPUS) {
		snprintf(err, errlen, "vCPU count must be 1..%d", EMU_MAX_VCPUS);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->cfg = *cfg;
	m->mem_size = cfg->mem_size;
	m->priv_base = cfg->mem_size;
	/* Page tables: two 4 KiB-page maps (private and shared alias) + slack. */
	pt_pages = 2 * (cfg->mem_size / (2 * MiB) + cfg->mem_size / (1ULL << 30) + 8) + 64;
	m->priv_size = ((PRIV_PT + pt_pages * 0x1000) + 2 * MiB - 1) & ~(2 * MiB - 1);
	m->mem = mmap(NULL, m->mem_size + m->priv_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	m->rmp = calloc(m->mem_size >> 12, sizeof(*m->rmp));
	if (m->mem == MAP_FAILED || !m->rmp) {
		if (m->mem != MAP_FAILED)
			munmap(m->mem, m->mem_size + m->priv_size);
		free(m->rmp);
		free(m);
		snprintf(err, errlen, "cannot allocate %llu MiB of guest memory",
			 (unsigned long long)(cfg->mem_size / MiB));
		return NULL;
	}
	/* Launch state: every page assigned to the guest, not validated,
	 * VMPL0 full and VMPL1-3 none (RMPUPDATE semantics). */
	for (i = 0; i < m->mem_size >> 12; i++) {
		m->rmp[i].assigned = 1;
		m->rmp[i].perms[0] = RMP_PERM_ALL;
	}
	for (i = 0; i < cfg->nr_vcpus; i++) {
		m->vcpus[i].id = i;
		apic_reset(&m->vcpus[i].apic);
	}
	stub_init(m);
	cipher_init(m);
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &m->cs) != CS_ERR_OK ||
	    cs_open(CS_ARCH_X86, CS_MODE_64, &m->csd) != CS_ERR_OK ||
	    cs_option(m->csd, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK) {
		emu_destroy(m);
		snprintf(err, errlen, "cannot start Capstone");
		return NULL;
	}
	msrpm_init(m);
	m->exit.vector = -1;
	return m;
}

void emu_destroy(struct emu_machine *m)
{
	unsigned i, j;
	char err[8];

	if (!m)
		return;
	emu_dbg_close(m, 1); /* no-ops unless a trace or a debugger is attached */
	emu_trace_close(m, err, sizeof(err));
	for (i = 0; i < EMU_MAX_VCPUS; i++)
		for (j = 0; j < EMU_NR_VMPLS; j++)
			inst_free(m->vcpus[i].inst[j]);
	if (m->cs)
		cs_close(&m->cs);
	if (m->csd)
		cs_close(&m->csd);
	amdsp_destroy(m->sp); /* made by the launch (backend.c make_secrets), any mode */
	munmap(m->mem, m->mem_size + m->priv_size);
	free(m->rmp);
	free(m);
}

void *emu_gpa_ptr(struct emu_machine *m, uint64_t gpa, uint64_t len)
{
	return m_is_guest(m, gpa, len) ? m->mem + gpa : NULL;
}

void *emu_phys_ptr(struct emu_machine *m, uint64_t pa, uint64_t len)
{
	return m_ptr(m, pa, len);
}

uint64_t emu_mem_size(const struct emu_machine *m)
{
	return m->mem_size;
}

uint64_t emu_vmsa_gpa(const struct emu_machine *m, unsigned vcpu, unsigned vmpl)
{
	return vcpu < EMU_MAX_VCPUS && vmpl < EMU_NR_VMPLS ? m->vcpus[vcpu].vmsa_gpa[vmpl] : 0;
}

static int range_pages(const struct emu_machine *m, uint64_t gpa, uint64_t len, uint64_t *first,
		       uint64_t *n)
{
	if ((gpa | len) & 0xFFF || !len || !m_is_guest(m, gpa, len))
		return -1;
	*first = gpa >> 12;
	*n = len >> 12;
	return 0;
}

/* A 4 KiB-granular change to pages [p, p+n) that covers only part of a 2 MiB
 * entry splits that entry first, as a hypervisor PSMASHes before RMPUPDATE
 * (no 2 MiB entry may hold pages in different states). */
static void rmp_split_ends(struct emu_machine *m, uint64_t p, uint64_t n)
{
	for (uint64_t i = p; i < p + n; i++)
		if (m->rmp[i].page_size && ((i & 511) || i + 512 > p + n))
			rmp_psmash(m, i);
}

int emu_rmp_assign(struct emu_machine *m, uint64_t gpa, uint64_t len, bool validated)
{
	uint64_t p, n, i;
	unsigned v;

	if (range_pages(m, gpa, len, &p, &n))
		return -1;
	rmp_split_ends(m, p, n);
	struct emu_rmp_entry before = m->rmp[p];

	for (i = p; i < p + n; i++) {
		memset(&m->rmp[i], 0, sizeof(m->rmp[i]));
		m->rmp[i].assigned = 1;
		m->rmp[i].validated = validated;
		for (v = 0; v < EMU_NR_VMPLS; v++)
			m->rmp[i].perms[v] = validated || v == 0 ? RMP_PERM_ALL : 0;
	}
	machine_rmp_changed(m);
	if (TRACE_ON(m))
		trace_rmp(m, TRACE_RMP_LOADER_ASSIGN, gpa, n, TRACE_RMPF_FLAGS | 0xF0, &before);
	return 0;
}

int emu_rmp_set_perms(struct emu_machine *m, uint64_t gpa, uint64_t len, unsigned vmpl,
		      uint8_t perms)
{
	uint64_t p, n, i;

	if (vmpl < 1 || vmpl > 3 || perms & ~0x1F || range_pages(m, gpa, len, &p, &n))
		return -1;
	rmp_split_ends(m, p, n);
	struct emu_rmp_entry before = m->rmp[p];

	for (i = p; i < p + n; i++)
		m->rmp[i].perms[vmpl] = perms;
	machine_rmp_changed(m);
	if (TRACE_ON(m))
		trace_rmp(m, TRACE_RMP_LOADER_PERMS, gpa, n, TRACE_RMPF_PERM(vmpl), &before);
	return 0;
}

int emu_rmp_get(const struct emu_machine *m, uint64_t gpa, struct emu_rmp_entry *out)
{
	if (gpa >= m->mem_size)
		return -1;
	*out = m->rmp[gpa >> 12];
	return 0;
}

int emu_parse_perms(const char *s)
{
	int p = 0;

	if (!strcmp(s, "-"))
		return 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		const char *c = strchr("rwus", *s);

		if (!c || !*s)
			return -1;
		p |= 1 << (c - "rwus");
	}
	return p;
}

const char *emu_exit_kind_name(enum emu_exit_kind k)
{
	static const char *const names[] = { "hlt",	  "terminate", "npf",
					     "exception", "limit",     "error" };

	return k <= EMU_EXIT_KIND_ERROR ? names[k] : "error";
}
