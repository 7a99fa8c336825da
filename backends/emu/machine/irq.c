/* SPDX-License-Identifier: MIT */
/*
 * irq.c - external interrupts from the hypervisor's APICs into the running
 * VMSA, and the idle clock.
 *
 * The hypervisor injects an interrupt with the VMCB's EVENTINJ on VMRUN; the
 * CPU delivers it at the first instruction boundary of the guest where
 * RFLAGS.IF = 1 (APM vol 2, 15.20 "Event Injection", 8.7 "External
 * Interrupts"). Unicorn cannot take an injected interrupt, so the model
 * delivers it itself, between two starts of the CPU (an instruction
 * boundary), through the same IDT path as exceptions and #VC (x86_deliver:
 * gate, IST or TSS stack on a privilege change, frame, IF cleared by an
 * interrupt gate).
 *
 * Interrupts go to the OS (VMPL3): the monitor at VMPL0 runs with interrupts
 * disabled and a vCPU in the monitor takes them once it is back at VMPL3, as
 * a hypervisor injects them into the VMSA it runs next. One that arrives
 * while a domain at VMPL1 or VMPL2 runs makes it exit to VMPL0 (irq_exit.c).
 *
 * HLT with IF = 1 sleeps until an interrupt is deliverable (APM vol 3, HLT);
 * when no vCPU can run, the clock jumps to the next timer deadline instead of
 * spinning: the model's time is virtual (instructions that read the TSC and
 * idle jumps), so a run is deterministic.
 */
#include "apic.h"
#include "machine.h"

#define RFLAGS_IF (1ULL << 9)
#define OS_VMPL 3

static bool interrupts_on(struct emu_vcpu *v)
{
	struct emu_inst *in = v->inst[v->vmpl];

	return v->vmpl == OS_VMPL && in && (rreg(in->uc, UC_X86_REG_RFLAGS) & RFLAGS_IF);
}

/* Fire due timers and wake vCPUs in HLT that have an interrupt to take. */
static void poll_all(struct emu_machine *m)
{
	for (unsigned i = 0; i < m->cfg.nr_vcpus; i++) {
		struct emu_vcpu *v = &m->vcpus[i];

		apic_timer_check(m, v);
		if (v->apic.hlt && v->state == VCPU_HALTED && apic_pending(&v->apic) >= 0 &&
		    interrupts_on(v)) {
			v->apic.hlt = false;
			v->state = VCPU_RUNNABLE;
		}
	}
}

/* The earliest timer deadline of a vCPU in HLT that can take it, 0 if none. */
static uint64_t next_deadline(struct emu_machine *m)
{
	uint64_t best = 0;

	for (unsigned i = 0; i < m->cfg.nr_vcpus; i++) {
		struct emu_vcpu *v = &m->vcpus[i];

		/* HLT with IF = 0 never wakes: its timer does not count. */
		if (v->apic.hlt && v->apic.deadline && interrupts_on(v) &&
		    (!best || v->apic.deadline < best))
			best = v->apic.deadline;
	}
	return best;
}

void irq_before_run(struct emu_machine *m)
{
	struct emu_vcpu *v;
	int vec;

	for (;;) {
		uint64_t d;

		poll_all(m);
		if (m->vcpus[m->cur].state == VCPU_RUNNABLE)
			break;
		next_runnable(m);
		if (m->vcpus[m->cur].state == VCPU_RUNNABLE)
			break;
		d = next_deadline(m);
		if (!d || d <= emu_tsc(m))
			return;		  /* nothing will ever run: the run loop says so */
		m->tsc += d - emu_tsc(m); /* idle: time jumps to the deadline */
	}
	v = &m->vcpus[m->cur];
	if (hv_interrupt_exit(m, v)) /* the OS's interrupt while VMPL1/2 runs */
		return;
	/* The pending check first: it is model state, RFLAGS.IF a register read
	 * out of the CPU, needed only when there is something to deliver. */
	if ((vec = apic_pending(&v->apic)) < 0 || !interrupts_on(v))
		return;
	apic_accept(&v->apic, (unsigned)vec);
	x86_deliver(v->inst[v->vmpl], (unsigned)vec, false, 0, 0, false, 0);
}

void irq_hlt(struct emu_inst *in)
{
	in->vcpu->apic.hlt = true;
	in->vcpu->state = VCPU_HALTED;
	next_runnable(in->m);
}
