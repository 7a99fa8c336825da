/* SPDX-License-Identifier: MIT */
/*
 * slice.c - time slices: with more than one vCPU, the running vCPU is
 * stopped after a fixed number of translation blocks even if it causes no
 * exit, and the next runnable vCPU runs (round robin). A real SMP guest's
 * CPUs run at once; here they take turns, and a busy-wait on another CPU
 * (Linux's CPU bring-up, TLB shootdowns, call-function IPIs) would otherwise
 * spin forever because the awaited vCPU never gets a turn.
 *
 * Deterministic: the budget counts executed blocks (a UC_HOOK_BLOCK
 * callback), a function of the guest's code and the model's own stops, never
 * of host time. The stop is taken at the start of a block, before any of it
 * ran: an instruction boundary (a REP string instruction may be between two
 * iterations, which is architectural), and the run only counts as preempted
 * if no other event ended it (a fault, intercept or I/O stop is handled first
 * and the preemption stays due). Never inside the model's own state-load or
 * SYSCALL stub (in_switch): those runs must reach their end.
 *
 * Two Unicorn 2.1 details make this work:
 * - A block hook runs before the block has synchronised RIP, and a stop
 *   taken at the block's start does not synchronise it either (Unicorn skips
 *   that when a stop was requested), so RIP may still name an earlier block:
 *   resuming there would run code twice (it broke Linux's decompressor). The
 *   hook therefore first writes RIP = the block's address, which makes
 *   Unicorn leave the block and enter it again, and stops only when RIP is
 *   right.
 * - Unicorn drops a pending stop when a hook writes RIP in the same run (its
 *   quit_request: the model's in-place GHCB MSR, RDTSC and SYSCALL handling
 *   do), and the first block translated in a run has no stop check; so the
 *   hook asks again on every block until the run really stops.
 */
#include "machine.h"

/* Cycles the clock advances per block of a slice that ran out: a spin loop
 * that never reads the TSC must still see time (and its timer) move. */
#define SLICE_CYCLES_PER_BLOCK 8

static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct emu_inst *in = data;
	struct emu_machine *m = in->m;

	(void)size;
	if (in->in_switch)
		return;
	if (!m->preempt) {
		if (--m->slice_left)
			return;
		m->preempt = true;
	}
	if (in->stop.kind == STOP_NONE && rreg(uc, UC_X86_REG_RIP) != addr) {
		wreg(uc, UC_X86_REG_RIP, addr); /* enter the block again: this hook runs again */
		return;
	}
	uc_emu_stop(uc);
}

void slice_inst_init(struct emu_inst *in)
{
	uc_hook h;

	if (in->m->cfg.slice_blocks && in->m->cfg.nr_vcpus > 1)
		uc_hook_add(in->uc, &h, UC_HOOK_BLOCK, (void *)hook_block, in, 1, 0);
}

void slice_before_run(struct emu_machine *m)
{
	if (m->slice_vcpu == m->cur && (m->slice_left || m->preempt))
		return;		/* the same turn goes on (a due preemption stays due) */
	m->slice_vcpu = m->cur; /* a new turn: a full budget */
	m->slice_left = m->cfg.slice_blocks;
	m->preempt = false;
}

bool slice_expired(struct emu_machine *m, struct emu_inst *in)
{
	if (!m->preempt || in->stop.kind != STOP_NONE || in->in_switch)
		return false;
	m->preempt = false;
	m->slice_left = m->cfg.slice_blocks;
	m->tsc += (uint64_t)m->cfg.slice_blocks * SLICE_CYCLES_PER_BLOCK;
	next_runnable(m);
	return true;
}
