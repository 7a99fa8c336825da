/* SPDX-License-Identifier: MIT */
/*
 * apic.c - the hypervisor model's local APIC in x2APIC mode (AMD64 APM vol 2,
 * 16.11 "x2APIC"), as KVM emulates it for an SNP guest: the guest's RDMSR and
 * WRMSR of 0x800-0x8FF raise #VC and arrive here through the GHCB MSR event.
 *
 * Registers (APM vol 2, 16.3-16.6, 16.11.2 for the MSR mapping): ID and LDR
 * derived from the vCPU number (16.11.3 "x2APIC ID", 16.11.4 "Logical
 * Destination"), version, TPR/PPR (16.6.3), EOI, SVR (16.4.7), ISR/TMR/IRR
 * (16.6.1), ESR, the LVT (16.4.1), ICR (16.5, 64-bit in x2APIC mode) and
 * SELF IPI (16.11.5), and the timer (16.4.2: one-shot and periodic, divide
 * configuration, current count; TSC-deadline mode through IA32_TSC_DEADLINE,
 * MSR 0x6E0, as KVM offers it to guests). The APIC is in x2APIC mode from
 * reset, as firmware leaves it on machines with many CPUs: Linux then never
 * touches the xAPIC page, which an SNP guest could only reach as MMIO #VCs
 * (FIDELITY.md). INIT and SIPI are ignored: an SNP guest starts its APs with
 * AP creation (GHCB spec 56421), at VMPL>0 through the SVSM.
 *
 * The KVM paravirtual clock (Linux arch/x86/include/asm/pvclock-abi.h, KVM's
 * MSR_KVM_SYSTEM_TIME_NEW / MSR_KVM_WALL_CLOCK_NEW) is how Linux 6.12, in
 * an SNP guest without Secure TSC, learns the TSC frequency: the hypervisor
 * writes a pvclock record into the shared page the guest names.
 */
#include <string.h>

#include "apic.h"
#include "machine.h"

#define X2APIC_BASE 0x800U
#define MSR_TSC_DEADLINE 0x6E0U
#define MSR_KVM_WALL_CLOCK_NEW 0x4B564D00U
#define MSR_KVM_SYSTEM_TIME_NEW 0x4B564D01U

/* x2APIC register numbers (MSR - 0x800 = xAPIC offset >> 4). */
enum {
	R_ID = 0x02,
	R_VER = 0x03,
	R_TPR = 0x08,
	R_PPR = 0x0A,
	R_EOI = 0x0B,
	R_LDR = 0x0D,
	R_SVR = 0x0F,
	R_ISR = 0x10,
	R_TMR = 0x18,
	R_IRR = 0x20,
	R_ESR = 0x28,
	R_CMCI = 0x2F,
	R_ICR = 0x30,
	R_LVT = 0x32, /* 0x32-0x37: timer, thermal, perf, LINT0, LINT1, error */
	R_TMICT = 0x38,
	R_TMCCT = 0x39,
	R_TDCR = 0x3E,
	R_SELF_IPI = 0x3F,
};

#define LVT_MASKED (1U << 16)
#define TIMER_MODE(l) (((l) >> 17) & 3)
#define MODE_ONESHOT 0
#define MODE_PERIODIC 1
#define MODE_DEADLINE 2
#define SVR_ENABLE (1U << 8)
#define ESR_RECV_ILLEGAL (1U << 6)
#define ESR_SEND_ILLEGAL (1U << 5)

uint64_t emu_tsc(const struct emu_machine *m)
{
	return m->tsc + m->insns;
}

/*
 * A read of the clock (RDTSC, RDTSCP, MSR 0x10) moves it on by 744-1255
 * cycles, a deterministic function of the clock itself: on hardware the time
 * between two reads varies, and timing-noise sources (Linux's jitterentropy)
 * sample far longer, then give up, on a clock that always moves by the same
 * step. The mean is 1000 cycles (1 us at EMU_TSC_KHZ).
 */
uint64_t emu_tsc_read(struct emu_machine *m)
{
	m->tsc += 744 + ((m->tsc * 0x9E3779B97F4A7C15ULL) >> 55);
	return emu_tsc(m);
}

void apic_reset(struct emu_apic *a)
{
	memset(a, 0, sizeof(*a));
	a->svr = 0xFF;
	for (unsigned i = 0; i < LVT_N; i++)
		a->lvt[i] = LVT_MASKED;
}

bool apic_msr_owned(uint32_t msr)
{
	return (msr >= X2APIC_BASE && msr <= 0x8FF) || msr == MSR_TSC_DEADLINE ||
	       msr == MSR_KVM_WALL_CLOCK_NEW || msr == MSR_KVM_SYSTEM_TIME_NEW;
}

static int highest(const uint32_t *bits)
{
	for (int i = 7; i >= 0; i--)
		if (bits[i])
			return i * 32 + 31 - __builtin_clz(bits[i]);
	return -1;
}

static void set_bit256(uint32_t *bits, unsigned v)
{
	bits[v / 32] |= 1U << (v % 32);
}

static void clr_bit256(uint32_t *bits, unsigned v)
{
	bits[v / 32] &= ~(1U << (v % 32));
}

/* PPR (APM vol 2, 16.6.3): the higher of TPR and the in-service class. */
static uint32_t ppr(const struct emu_apic *a)
{
	int isr = highest(a->isr);
	uint32_t isrv = isr < 0 ? 0 : (uint32_t)isr;

	return (a->tpr & 0xF0) >= (isrv & 0xF0) ? a->tpr & 0xFF : isrv & 0xF0;
}

int apic_pending(const struct emu_apic *a)
{
	int irr = highest(a->irr);

	if (irr < 0 || !(a->svr & SVR_ENABLE))
		return -1;
	return ((uint32_t)irr & 0xF0) > (ppr(a) & 0xF0) ? irr : -1;
}

void apic_accept(struct emu_apic *a, unsigned vector)
{
	clr_bit256(a->irr, vector);
	set_bit256(a->isr, vector);
}

/* Accept a fixed interrupt (vectors 0-15 are illegal: ESR, APM vol 2, 16.4.6). */
static void apic_raise(struct emu_apic *a, unsigned vector)
{
	if (vector < 16) {
		a->esr |= ESR_RECV_ILLEGAL;
		return;
	}
	set_bit256(a->irr, vector);
}

/* ---- timer (APM vol 2, 16.4.2) ---------------------------------------- */

/* TDCR bits 3,1:0 select divide by 2, 4, ... 128, or 1 (0b111). */
static uint64_t divisor(const struct emu_apic *a)
{
	unsigned v = ((a->tdcr & 8) >> 1) | (a->tdcr & 3);

	return 1ULL << ((v + 1) & 7);
}

/* The timer counts at the TSC rate (a 1 GHz APIC clock, as KVM's). */
static void timer_arm(struct emu_machine *m, struct emu_apic *a)
{
	a->deadline = 0;
	if (TIMER_MODE(a->lvt[LVT_TIMER]) == MODE_DEADLINE) {
		a->deadline = a->tsc_deadline;
		return;
	}
	if (!a->tmict)
		return;
	a->timer_start = emu_tsc(m);
	a->deadline = a->timer_start + (uint64_t)a->tmict * divisor(a);
}

static uint32_t timer_current(const struct emu_machine *m, const struct emu_apic *a)
{
	uint64_t now = emu_tsc(m);

	if (TIMER_MODE(a->lvt[LVT_TIMER]) == MODE_DEADLINE || !a->deadline || now >= a->deadline)
		return 0;
	return (uint32_t)((a->deadline - now) / divisor(a));
}

void apic_timer_check(struct emu_machine *m, struct emu_vcpu *v)
{
	struct emu_apic *a = &v->apic;
	uint64_t now = emu_tsc(m), period;
	uint32_t lvt = a->lvt[LVT_TIMER];

	if (!a->deadline || now < a->deadline)
		return;
	if (!(lvt & LVT_MASKED))
		apic_raise(a, lvt & 0xFF);
	switch (TIMER_MODE(lvt)) {
	case MODE_PERIODIC:
		period = (uint64_t)a->tmict * divisor(a);
		a->timer_start = a->deadline;
		a->deadline += period;
		if (a->deadline <= now) /* missed periods collapse into one interrupt */
			a->deadline = now + period;
		break;
	case MODE_DEADLINE:
		a->tsc_deadline = 0;
		a->deadline = 0;
		break;
	default:
		a->deadline = 0;
		break;
	}
}

/* ---- IPIs (APM vol 2, 16.5; x2APIC destinations 16.11.4) --------------- */

static bool ipi_targets(const struct emu_vcpu *v, const struct emu_vcpu *t, uint64_t icr)
{
	unsigned shorthand = (icr >> 18) & 3;
	uint32_t dest = icr >> 32;

	switch (shorthand) {
	case 1:
		return t == v;
	case 2:
		return true;
	case 3:
		return t != v;
	}
	if (icr & (1U << 11)) /* logical: cluster in [31:16], one bit per APIC in [15:0] */
		return (dest >> 16) == (t->id >> 4) && (dest & (1U << (t->id & 0xF)));
	return dest == 0xFFFFFFFFU || dest == t->id;
}

static void send_ipi(struct emu_machine *m, struct emu_vcpu *v, uint64_t icr)
{
	unsigned mode = (icr >> 8) & 7;

	/* Fixed and lowest-priority (delivered like fixed) carry a vector; NMI,
	 * INIT and SIPI are not modelled: an SNP guest starts APs by AP creation. */
	if (mode > 1)
		return;
	for (unsigned i = 0; i < m->cfg.nr_vcpus; i++)
		if (ipi_targets(v, &m->vcpus[i], icr))
			apic_raise(&m->vcpus[i].apic, icr & 0xFF);
}

/* ---- KVM clock -------------------------------------------------------- */

/*
 * struct pvclock_vcpu_time_info / pvclock_wall_clock: the hypervisor writes
 * them into the guest page named by the MSR (bit 0 = enable), which must be
 * shared: the hypervisor cannot write private memory. The record is fixed
 * for the whole run, because the model's TSC never changes rate: time in ns =
 * (tsc << 1) * 2^31 >> 32 = tsc at 1 GHz, with PVCLOCK_TSC_STABLE_BIT.
 */
static void pv_write(struct emu_machine *m, uint64_t gpa, const void *rec, size_t len)
{
	if (!m_is_guest(m, gpa, len) || ((gpa ^ (gpa + len - 1)) >> 12) ||
	    m->rmp[gpa >> 12].assigned)
		return;
	memcpy(m_ptr(m, gpa, len), rec, len);
}

static void kvmclock_write(struct emu_machine *m, uint32_t msr, uint64_t val)
{
	uint8_t rec[32] = { 0 };

	if (msr == MSR_KVM_WALL_CLOCK_NEW) {
		rec[0] = 2; /* version even: stable; sec = nsec = 0 (the epoch) */
		pv_write(m, val, rec, 12);
		return;
	}
	if (!(val & 1))
		return;
	rec[0] = 2;
	memcpy(rec + 24, &(uint32_t){ 1U << 31 }, 4); /* tsc_to_system_mul */
	rec[28] = 1;				      /* tsc_shift */
	rec[29] = 1;				      /* PVCLOCK_TSC_STABLE_BIT */
	pv_write(m, val & ~1ULL, rec, 32);
}

/* ---- MSR access ------------------------------------------------------- */

bool apic_msr_read(struct emu_machine *m, struct emu_vcpu *v, uint32_t msr, uint64_t *val)
{
	struct emu_apic *a = &v->apic;
	unsigned r = msr - X2APIC_BASE;

	switch (msr) {
	case MSR_TSC_DEADLINE:
		*val = TIMER_MODE(a->lvt[LVT_TIMER]) == MODE_DEADLINE ? a->tsc_deadline : 0;
		return true;
	case MSR_KVM_WALL_CLOCK_NEW:
	case MSR_KVM_SYSTEM_TIME_NEW:
		*val = msr == MSR_KVM_SYSTEM_TIME_NEW ? a->kvm_system_time : 0;
		return true;
	}
	if (r >= R_ISR && r < R_ISR + 8) {
		*val = a->isr[r - R_ISR];
		return true;
	}
	if (r >= R_TMR && r < R_TMR + 8) {
		*val = a->tmr[r - R_TMR];
		return true;
	}
	if (r >= R_IRR && r < R_IRR + 8) {
		*val = a->irr[r - R_IRR];
		return true;
	}
	if (r >= R_LVT && r < R_LVT + 6) {
		*val = a->lvt[r - R_LVT];
		return true;
	}
	switch (r) {
	case R_ID:
		*val = v->id;
		return true;
	case R_VER: /* version 0x14, max LVT entry 5 (as KVM without CMCI) */
		*val = 0x00050014;
		return true;
	case R_TPR:
		*val = a->tpr;
		return true;
	case R_PPR:
		*val = ppr(a);
		return true;
	case R_LDR:
		*val = ((v->id >> 4) << 16) | (1U << (v->id & 0xF));
		return true;
	case R_SVR:
		*val = a->svr;
		return true;
	case R_ESR:
		*val = a->esr;
		return true;
	case R_ICR:
		*val = ((uint64_t)a->icr_hi << 32) | a->icr_lo;
		return true;
	case R_TMICT:
		*val = a->tmict;
		return true;
	case R_TMCCT:
		*val = timer_current(m, a);
		return true;
	case R_TDCR:
		*val = a->tdcr;
		return true;
	default: /* EOI and SELF IPI are write-only, the rest reserved: #GP */
		return false;
	}
}

static void write_lvt(struct emu_machine *m, struct emu_apic *a, unsigned i, uint32_t val)
{
	/* Writable bits: vector, delivery mode (not for the timer), mask, timer mode. */
	static const uint32_t wmask[LVT_N] = { 0x700FF, 0x107FF, 0x107FF, 0x1A7FF,
					       0x1A7FF, 0x100FF, 0x107FF };
	uint32_t old = a->lvt[i];

	if (!(a->svr & SVR_ENABLE))
		val |= LVT_MASKED;
	a->lvt[i] = val & wmask[i];
	/* A mode change to or from TSC-deadline disarms the timer. */
	if (i == LVT_TIMER && TIMER_MODE(old) != TIMER_MODE(a->lvt[i])) {
		a->tsc_deadline = 0;
		a->tmict = 0;
		a->deadline = 0;
	}
	(void)m;
}

bool apic_msr_write(struct emu_machine *m, struct emu_vcpu *v, uint32_t msr, uint64_t val)
{
	struct emu_apic *a = &v->apic;
	unsigned r = msr - X2APIC_BASE;
	int isr;

	switch (msr) {
	case MSR_TSC_DEADLINE:
		if (TIMER_MODE(a->lvt[LVT_TIMER]) == MODE_DEADLINE) {
			a->tsc_deadline = val;
			timer_arm(m, a);
		}
		return true;
	case MSR_KVM_WALL_CLOCK_NEW:
	case MSR_KVM_SYSTEM_TIME_NEW:
		if (msr == MSR_KVM_SYSTEM_TIME_NEW)
			a->kvm_system_time = val;
		kvmclock_write(m, msr, val);
		return true;
	}
	/* x2APIC registers are 32 bits except ICR: other bits set are #GP. */
	if (r != R_ICR && (val >> 32))
		return false;
	if (r >= R_LVT && r < R_LVT + 6) {
		write_lvt(m, a, r - R_LVT, (uint32_t)val);
		return true;
	}
	switch (r) {
	case R_TPR:
		a->tpr = val & 0xFF;
		return true;
	case R_EOI: /* non-zero EOI is #GP in x2APIC mode */
		if (val)
			return false;
		isr = highest(a->isr);
		if (isr >= 0)
			clr_bit256(a->isr, (unsigned)isr);
		return true;
	case R_SVR:
		a->svr = val & 0x11FF;
		if (!(a->svr & SVR_ENABLE))
			for (unsigned i = 0; i < LVT_N; i++)
				a->lvt[i] |= LVT_MASKED;
		return true;
	case R_ESR: /* a write latches new errors; the model has none pending */
		a->esr = 0;
		return true;
	case R_CMCI:
		write_lvt(m, a, LVT_CMCI, (uint32_t)val);
		return true;
	case R_ICR:
		a->icr_lo = (uint32_t)val & ~(1U << 12); /* delivered at once: idle */
		a->icr_hi = val >> 32;
		if ((val & 0xFF) < 16 && ((val >> 8) & 7) <= 1) {
			a->esr |= ESR_SEND_ILLEGAL;
			return true;
		}
		send_ipi(m, v, val);
		return true;
	case R_TMICT:
		a->tmict = (uint32_t)val;
		if (TIMER_MODE(a->lvt[LVT_TIMER]) != MODE_DEADLINE)
			timer_arm(m, a);
		return true;
	case R_TDCR:
		a->tdcr = val & 0xB;
		return true;
	case R_SELF_IPI:
		apic_raise(a, val & 0xFF);
		return true;
	default: /* read-only or reserved: #GP */
		return false;
	}
}
