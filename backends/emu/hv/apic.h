/* SPDX-License-Identifier: MIT */
/*
 * apic.h - the hypervisor model's local APIC, one per vCPU, in x2APIC mode
 * (AMD64 APM vol 2, 16.11 "x2APIC"), its timer on the model's clock, the
 * KVM paravirtual clock, and the delivery of its interrupts into the running
 * VMSA (irq.c).
 */
#ifndef VEIL_EMU_APIC_H
#define VEIL_EMU_APIC_H

#include <stdbool.h>
#include <stdint.h>

struct emu_machine;
struct emu_vcpu;
struct emu_inst;

/* The model's TSC runs at 1 GHz (CPUID and the KVM clock say so). */
#define EMU_TSC_KHZ 1000000ULL

/* LVT registers in the order of their x2APIC MSRs 0x832-0x837, then CMCI. */
enum {
	LVT_TIMER,
	LVT_THERMAL,
	LVT_PERF,
	LVT_LINT0,
	LVT_LINT1,
	LVT_ERROR,
	LVT_CMCI,
	LVT_N
};

struct emu_apic {
	uint32_t tpr, svr, esr, icr_hi, icr_lo, tmict, tdcr;
	uint32_t lvt[LVT_N];
	uint32_t isr[8], irr[8], tmr[8]; /* 256 bits each */
	uint64_t timer_start;		 /* TSC when TMICT was written */
	uint64_t tsc_deadline;		 /* IA32_TSC_DEADLINE (MSR 0x6E0) */
	uint64_t deadline;		 /* TSC of the next timer interrupt; 0 = none */
	uint64_t kvm_system_time;	 /* MSR_KVM_SYSTEM_TIME_NEW as written */
	bool hlt;			 /* stopped in HLT, woken by an interrupt */
};

/* The model's TSC (RDTSC, MSR 0x10, the timer). */
uint64_t emu_tsc(const struct emu_machine *m);
/* A guest's read of the TSC: the clock moves on, then is returned. */
uint64_t emu_tsc_read(struct emu_machine *m);

void apic_reset(struct emu_apic *a);
/* x2APIC, TSC_DEADLINE and KVM clock MSRs through the GHCB MSR event:
 * false = not handled here (the caller injects #GP for an APIC register). */
bool apic_msr_read(struct emu_machine *m, struct emu_vcpu *v, uint32_t msr, uint64_t *val);
bool apic_msr_write(struct emu_machine *m, struct emu_vcpu *v, uint32_t msr, uint64_t val);
/* Whether msr is in a range this file owns (x2APIC 0x800-0x8FF, 0x6E0, KVM). */
bool apic_msr_owned(uint32_t msr);

/* irq.c: called by the run loop before each start of a vCPU. Fires expired
 * timers, wakes halted vCPUs, advances the clock when every vCPU is idle,
 * and delivers a pending interrupt to the vCPU about to run. */
void irq_before_run(struct emu_machine *m);
/* HLT executed at instruction boundary (RIP past it): sleep until an interrupt. */
void irq_hlt(struct emu_inst *in);
/* Highest deliverable vector of v's APIC, or -1. */
int apic_pending(const struct emu_apic *a);
/* The interrupt is taken: IRR -> ISR. */
void apic_accept(struct emu_apic *a, unsigned vector);
/* Fire v's timer if its deadline has passed. */
void apic_timer_check(struct emu_machine *m, struct emu_vcpu *v);

#endif
