/* SPDX-License-Identifier: MIT */
/*
 * enclave_irq.c - an interrupt in the middle of an enclave (issue 14, item 6).
 *
 * The OS arms its x2APIC timer (periodic, IRQ_VECTOR) and enters the probe
 * enclave with interrupts enabled; the probe spins reading the TSC (the
 * clock the timer runs on) with a secret in every register it can spare
 * (probe action 16). Each timer interrupt stops the enclave (the hypervisor
 * runs VMPL0, the monitor saves and scrubs the enclave's registers) and the
 * OS takes it at once: the handler looks for the secret in every register it
 * can read (its trap frame, XMM0-15) and in its calling area. Between
 * interrupts the OS tries every way back in but CONTINUE (ENTER, RESUME, run
 * VMPL2 itself); with two or more vCPUs one CONTINUE runs on vCPU 1. The
 * enclave must finish with every register as it left it.
 *
 * attack-enclave-interrupt-vmsa: the handler reads the enclave's VMSA on its
 * vCPU instead (a monitor-owned page): the monitor stops the CVM, and records
 * the violation in the secure log.
 */
#include "kernel.h"
#include "../enclave/probe/work.h"

#define X2APIC_EOI 0x80BU
#define X2APIC_SVR 0x80FU
#define X2APIC_LVT_TIMER 0x832U
#define X2APIC_TMICT 0x838U
#define X2APIC_TDCR 0x83EU
#define SVR_ON 0x1FFU /* APIC enabled, spurious vector 0xFF (APM vol 2, 16.4.7) */
#define LVT_MASKED (1U << 16)
#define LVT_PERIODIC (1U << 17)
#define TDCR_DIV1 0xBU
#define TIMER_PERIOD 300000U /* APIC ticks = TSC ticks in the model (~300 RDTSCs) */
#define SPIN_ROUNDS 3000     /* ~10 periods */
#define POOL 32
#define PROBE_SPIN(n) (((uint64_t)(n) << 8) | 16)

extern const uint8_t enc_probe_start[], enc_probe_end[];

static struct {
	volatile uint64_t count;     /* interrupts taken */
	volatile uint64_t leaks;     /* words holding (half) the secret, seen by the handler */
	volatile uint64_t read_vmsa; /* a GPA the handler reads (the -vmsa attack), 0 = none */
} irq;

static bool secret_word(uint64_t w)
{
	uint32_t lo = (uint32_t)PROBE_REG_SECRET, hi = (uint32_t)(PROBE_REG_SECRET >> 32);

	return (uint32_t)w == lo || (uint32_t)w == hi || (uint32_t)(w >> 32) == lo ||
	       (uint32_t)(w >> 32) == hi;
}

static unsigned count_secret(const volatile uint64_t *w, unsigned n)
{
	unsigned i, k = 0;

	for (i = 0; i < n; i++)
		k += secret_word(w[i]);
	return k;
}

static void read_xmm(uint64_t out[32])
{
	__asm__ volatile(".irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t"
			 "movdqu %%xmm\\r, \\r*16(%0)\n\t"
			 ".endr"
			 :
			 : "r"(out)
			 : "memory");
}

/* IRQ_VECTOR: everything the OS can read now, then EOI. The #VC of the EOI
 * write uses the GHCB: the MSR goes back to what the interrupted code had. */
void irq_handler(struct trap_frame *f)
{
	uint64_t saved = ghcb_msr_read(), xmm[32], t;

	read_xmm(xmm);
	irq.count++;
	irq.leaks += count_secret((const uint64_t *)f, sizeof(*f) / 8) + count_secret(xmm, 32) +
		     count_secret((const volatile uint64_t *)this_cpu()->caa, PAGE_SIZE / 8);
	t = irq.read_vmsa;
	if (t) {
		irq.read_vmsa = 0;
		kprintf("attack-enclave-interrupt-vmsa: reading target gpa 0x%lx (the enclave's "
			"RBX); the monitor must stop the CVM\n",
			t);
		kprintf("read 0x%lx\n", *(volatile uint64_t *)t);
	}
	wrmsr(X2APIC_EOI, 0);
	ghcb_msr_write(saved);
}

static void timer_periodic(uint32_t ticks)
{
	wrmsr(X2APIC_SVR, SVR_ON);
	wrmsr(X2APIC_TDCR, TDCR_DIV1);
	wrmsr(X2APIC_LVT_TIMER, IRQ_VECTOR | LVT_PERIODIC);
	wrmsr(X2APIC_TMICT, ticks);
}

static void timer_off(void)
{
	wrmsr(X2APIC_LVT_TIMER, LVT_MASKED);
	wrmsr(X2APIC_TMICT, 0);
}

static uint64_t enc(uint32_t call, uint64_t rcx, uint64_t rdx, uint64_t r8, uint64_t r9,
		    struct svsm_call_out *o)
{
	struct svsm_call_out dummy;

	return svsm_call(this_cpu()->caa, VEIL_PROTOCOL_ENCLAVE, call, rcx, rdx, r8, r9,
			 o ? o : &dummy);
}

/* The call with RFLAGS.IF = 1: an interrupt may stop the enclave it runs. */
static uint64_t enc_irq_on(uint32_t call, uint64_t h, uint64_t arg, struct svsm_call_out *o)
{
	uint64_t rc;

	__asm__ volatile("sti" : : : "memory");
	rc = enc(call, h, arg, 0, 0, o);
	__asm__ volatile("cli" : : : "memory");
	return rc;
}

/* A probe enclave in POOL fresh pages; *used = the pages CREATE placed. */
static uint64_t create_probe(uint64_t *pool, uint64_t *used)
{
	struct svsm_call_out o = { 0 };
	uint64_t rc;

	*pool = pages_alloc(POOL);
	if (!*pool)
		panic("enclave_irq: out of memory");
	rc = enc(VEIL_ENC_CREATE, (uint64_t)enc_probe_start,
		 (uint64_t)(enc_probe_end - enc_probe_start), *pool, POOL, &o);
	if (rc)
		panic("enclave_irq: CREATE 0x%lx", rc);
	*used = o.rdx;
	return o.rcx;
}

/* ---- CONTINUE on vCPU 1 ----------------------------------------------------- */

static struct {
	volatile uint64_t handle, go, done, rc;
	struct svsm_call_out o;
} ap_job;

NORETURN void irq_ap_main(struct percpu *c);
NORETURN void irq_ap_main(struct percpu *c)
{
	wrmsr(MSR_GS_BASE, (uint64_t)c);
	cpu_tables_load(c->id);
	if (ghcb_msr_register((uint64_t)c->ghcb))
		terminate(VEIL_TERM_TEST_FAILED);
	c->ghcb_ready = true;
	for (;;) {
		while (!__atomic_load_n(&ap_job.go, __ATOMIC_ACQUIRE))
			cpu_pause();
		ap_job.go = 0;
		ap_job.rc = enc(VEIL_ENC_CONTINUE, ap_job.handle, 0, 0, 0, &ap_job.o);
		__atomic_store_n(&ap_job.done, 1, __ATOMIC_RELEASE);
	}
}

/* The enclave goes on on vCPU 1 (interrupts off there): its registers come
 * from the monitor's copy, into a VMSA of that vCPU. */
static uint64_t continue_on_ap(uint64_t h, struct svsm_call_out *o)
{
	static bool started;

	if (!started && smp_start_ap(1, irq_ap_main))
		panic("enclave_irq: cannot start vCPU 1");
	started = true;
	ap_job.handle = h;
	ap_job.done = 0;
	__atomic_store_n(&ap_job.go, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&ap_job.done, __ATOMIC_ACQUIRE))
		cpu_pause();
	*o = ap_job.o;
	return ap_job.rc;
}

/* ---- attack-enclave-interrupt ------------------------------------------------ */

/* While the enclave waits, interrupted: every way in but CONTINUE fails. */
static bool only_continue(uint64_t h)
{
	uint64_t rc_enter, rc_resume, resp, saved = ghcb_msr_read();

	rc_enter = enc(VEIL_ENC_ENTER, h, PROBE_SPIN(1), 0, 0, 0);
	rc_resume = enc(VEIL_ENC_RESUME, h, 0, 0, 0, 0);
	resp = ghcb_msr_request(GHCB_MSR_RUN_VMPL(2));
	ghcb_msr_write(saved);
	kprintf("attack-enclave-interrupt: while interrupted: ENTER 0x%lx, RESUME 0x%lx, run "
		"VMPL2 0x%lx\n",
		rc_enter, rc_resume, resp);
	return rc_enter == SVSM_ERR_BUSY && rc_resume == VEIL_ENC_ERR_NO_OCALL &&
	       GHCB_MSR_INFO(resp) == GHCB_MSR_RUN_VMPL_RESP && (resp >> 32);
}

struct irq_run {
	uint64_t rc, value;
	unsigned exits, late, leaks, on_ap;
	bool only_continue;
};

/* ENTER with interrupts on, then CONTINUE after each interrupt exit. */
static void run_interrupted(uint64_t h, struct irq_run *r)
{
	struct svsm_call_out o = { 0 };
	uint64_t before = irq.count;

	r->rc = enc_irq_on(VEIL_ENC_ENTER, h, PROBE_SPIN(SPIN_ROUNDS), &o);
	while (r->rc == SVSM_SUCCESS && o.rdx == VEIL_ENC_INTERRUPTED) {
		r->exits++;
		r->late += irq.count == before; /* the OS must have taken it on return */
		before = irq.count;
		r->leaks += secret_word(o.rcx) + secret_word(o.r8) + secret_word(o.r9);
		if (r->exits == 1)
			r->only_continue = only_continue(h);
		if (r->exits == 2 && boot.nr_vcpus >= 2) {
			r->rc = continue_on_ap(h, &o);
			r->on_ap++;
			continue;
		}
		r->rc = enc_irq_on(VEIL_ENC_CONTINUE, h, 0, &o);
	}
	r->value = r->rc == SVSM_SUCCESS && o.rdx == VEIL_ENC_DONE ? o.rcx : ~0ULL;
}

/* Interrupted, then destroyed: the saved registers go with the enclave. */
static uint64_t destroy_interrupted(void)
{
	struct svsm_call_out o = { 0 };
	uint64_t pool, used, h = create_probe(&pool, &used), rc;

	timer_periodic(TIMER_PERIOD);
	rc = enc_irq_on(VEIL_ENC_ENTER, h, PROBE_SPIN(SPIN_ROUNDS), &o);
	timer_off();
	if (rc || o.rdx != VEIL_ENC_INTERRUPTED)
		return rc ? rc : o.rdx;
	rc = enc(VEIL_ENC_DESTROY, h, 0, 0, 0, 0);
	if (rc)
		return rc;
	rc = enc(VEIL_ENC_CONTINUE, h, 0, 0, 0, 0);
	return rc == VEIL_ENC_ERR_NOT_FOUND ? SVSM_SUCCESS : rc;
}

int enclave_irq_attack(void)
{
	struct irq_run r = { 0 };
	uint64_t pool, used, h = create_probe(&pool, &used), rc;

	timer_periodic(TIMER_PERIOD);
	run_interrupted(h, &r);
	timer_off();
	kprintf("attack-enclave-interrupt: %u interrupt exits (%u continued on vCPU 1), %lu "
		"interrupts, value 0x%lx\n",
		r.exits, r.on_ap, irq.count, r.value);
	check("attack-enclave-interrupt-exits", r.exits >= 2 && !r.late, r.exits);
	check("attack-enclave-interrupt-no-secret", !irq.leaks && !r.leaks, irq.leaks + r.leaks);
	check("attack-enclave-interrupt-only-continue", r.only_continue, 0);
	check("attack-enclave-interrupt-restored", r.value == PROBE_REGS_INTACT,
	      r.rc ? r.rc : r.value);
	if (boot.nr_vcpus >= 2)
		check("enc-interrupt-continue-other-vcpu", r.on_ap == 1, r.on_ap);
	rc = enc(VEIL_ENC_CONTINUE, h, 0, 0, 0, 0);
	check("enc-continue-not-interrupted", rc == VEIL_ENC_ERR_NOT_INTERRUPTED, rc);
	rc = enc(VEIL_ENC_DESTROY, h, 0, 0, 0, 0);
	check("enc-interrupt-destroy", rc == SVSM_SUCCESS, rc);
	rc = destroy_interrupted();
	check("enc-interrupt-destroy-interrupted", rc == SVSM_SUCCESS, rc);
	return 0;
}

/* ---- attack-enclave-interrupt-vmsa ------------------------------------------- */

int enclave_irq_vmsa_attack(void)
{
	struct svsm_call_out o = { 0 };
	uint64_t pool, used, h = create_probe(&pool, &used), vmsa, rc;

	/* The first ENTER makes this vCPU's VMSA: the first pool page after the
	 * pages CREATE placed that is not 2 MiB aligned. */
	rc = enc(VEIL_ENC_ENTER, h, PROBE_SPIN(1), 0, 0, &o);
	check("enc-attack-setup", rc == SVSM_SUCCESS && o.rcx == PROBE_REGS_INTACT, rc);
	vmsa = pool + used * PAGE_SIZE;
	if (!(vmsa & (HUGE_SIZE - 1)))
		vmsa += PAGE_SIZE;
	timer_periodic(TIMER_PERIOD);
	irq.read_vmsa = vmsa + VMSA_RBX;
	rc = enc_irq_on(VEIL_ENC_ENTER, h, PROBE_SPIN(SPIN_ROUNDS), &o);
	timer_off();
	kprintf("FAIL attack-enclave-interrupt-vmsa: the read went through (0x%lx, %lu "
		"interrupts)\n",
		rc, irq.count);
	nr_fail++;
	return -1;
}
