/* SPDX-License-Identifier: MIT */
/*
 * backend.c - the emu implementation of core/include/veil/backend.h, and the
 * `run` mode that boots the monitor and an OS.
 *
 * The monitor is native C, but it lives by the machine's rules: its state is
 * in monitor-owned guest pages, and it reaches the hypervisor only through
 * the GHCB MSR and VMGEXIT of the model. Each vCPU's VMPL0 is a fiber (its own
 * stack, switched without system calls), entered when the model switches that
 * vCPU to VMPL0, so runs stay deterministic. "Run VMPL n" from the monitor
 * returns when the model switches this vCPU back to VMPL0, as on hardware.
 */
#include <stdlib.h>
#include <string.h>

#include <veil/abi.h>
#include <veil/backend.h>
#include <veil/boot.h>
#include <veil/monitor.h>

#include "amdsp.h"
#include "emu_run.h"
#include "fiber.h"
#include "machine.h"
#include "measure.h"

struct emu_mon_vcpu {
	struct veil_backend be;
	struct emu_host *host;
	struct emu_vcpu *v;
	struct emu_fiber fib;
	bool started;
};

struct emu_host {
	struct emu_machine *m;
	struct emu_fiber sched; /* the run loop */
	struct veil_launch launch;
	struct veil_monitor *mon;
	struct emu_mon_vcpu vc[EMU_MAX_VCPUS];
};

#define MONITOR_STACK (1u << 20)

/* ---- switching between the run loop and the monitor ------------------------ */

static void monitor_entry(void *arg);

/* Called by the run loop when vCPU v enters the native VMPL0. */
static void native_enter(struct emu_machine *m, struct emu_vcpu *v)
{
	struct emu_host *h = m->native_ctx;
	struct emu_mon_vcpu *mv = &h->vc[v->id];

	if (m->vmpl0_lost) { /* on hardware the monitor's next access faults */
		snprintf(m->exit.message, sizeof(m->exit.message),
			 "the hypervisor took VMPL0 page %#llx away (page state change); "
			 "the monitor cannot run",
			 (unsigned long long)(m->vmpl0_lost & ~1ULL));
		machine_finish(m, EMU_EXIT_KIND_ERROR, NULL);
		return;
	}
	if (!mv->started) {
		if (fiber_init(&mv->fib, MONITOR_STACK, monitor_entry, mv)) {
			machine_finish(m, EMU_EXIT_KIND_ERROR, "cannot allocate a monitor stack");
			return;
		}
		mv->fib.caller = &h->sched;
		mv->started = true;
	}
	fiber_switch(&h->sched, &mv->fib);
}

/* Monitor side: the OS runs until this vCPU enters VMPL0 again. */
static void monitor_yield(struct emu_mon_vcpu *mv)
{
	fiber_switch(&mv->fib, &mv->host->sched);
}

/* ---- backend ops ------------------------------------------------------------ */

static struct emu_mon_vcpu *mv_of(struct veil_backend *b)
{
	return b->priv;
}

static int be_rmpadjust(struct veil_backend *b, u64 gpa, bool huge, u64 attrs)
{
	uint64_t npf = 0;
	int rc = snp_rmpadjust(mv_of(b)->host->m, 0, gpa, huge, attrs, &npf);

	return rc < 0 ? RMP_FAIL_INPUT : rc;
}

static int be_pvalidate(struct veil_backend *b, u64 gpa, bool huge, bool validate, bool *unchanged)
{
	uint64_t npf = 0;
	int rc = snp_pvalidate(mv_of(b)->host->m, 0, gpa, huge, validate, unchanged, &npf);

	return rc < 0 ? RMP_FAIL_INPUT : rc;
}

static u64 be_msr_read(struct veil_backend *b)
{
	return mv_of(b)->v->ghcb_msr[0];
}

static void be_msr_write(struct veil_backend *b, u64 val)
{
	mv_of(b)->v->ghcb_msr[0] = val;
}

static void be_vmgexit(struct veil_backend *b)
{
	struct emu_mon_vcpu *mv = mv_of(b);
	struct emu_machine *m = mv->host->m;

	hv_vmgexit(m, mv->v, 0);
	while (m->done || mv->v->vmpl != 0)
		monitor_yield(mv); /* the OS runs; back here when it calls VMPL0 */
}

static void *be_map(struct veil_backend *b, u64 gpa, u64 len)
{
	return emu_gpa_ptr(mv_of(b)->host->m, gpa, len);
}

/* The GHCB: a page the guest gave to the hypervisor (unassigned in the RMP). */
static void *be_map_shared(struct veil_backend *b, u64 gpa, u64 len)
{
	struct emu_machine *m = mv_of(b)->host->m;
	struct emu_rmp_entry e;
	u64 pa;

	for (pa = gpa & ~0xFFFULL; len && pa < gpa + len; pa += 4096)
		if (emu_rmp_get(m, pa, &e) || e.assigned)
			return NULL;
	return emu_gpa_ptr(m, gpa, len);
}

/* Nothing to do: the model drops every vCPU's translations at each RMP
 * change (machine_rmp_changed), so a reduction is effective at once. */
static void be_tlb_flush(struct veil_backend *b)
{
	(void)b;
}

static void be_console(struct veil_backend *b, const char *s, usize len)
{
	struct emu_machine *m = mv_of(b)->host->m;

	if (TRACE_ON(m))
		trace_console(m, mv_of(b)->v, 0, TRACE_CONSOLE_MONITOR, s, len);
	fwrite(s, 1, len, m->cfg.console ? m->cfg.console : stdout);
}

static u64 be_rdtsc(struct veil_backend *b)
{
	struct emu_machine *m = mv_of(b)->host->m;

	return emu_tsc_read(m); /* the same deterministic clock the guest's RDTSC reads */
}

static u32 be_vcpu_id(struct veil_backend *b)
{
	return mv_of(b)->v->id;
}

/* Every op but the trace hook (emu_ops_traced adds it). */
#define EMU_OPS                                                                              \
	.rmpadjust = be_rmpadjust, .pvalidate = be_pvalidate, .ghcb_msr_read = be_msr_read,  \
	.ghcb_msr_write = be_msr_write, .vmgexit = be_vmgexit, .map = be_map,                \
	.map_shared = be_map_shared, .tlb_flush = be_tlb_flush, .console_write = be_console, \
	.rdtsc = be_rdtsc, .vcpu_id = be_vcpu_id

static const struct veil_backend_ops emu_ops = { EMU_OPS };

static void be_trace(struct veil_backend *b, u32 event, u64 a, u64 c, u64 d, u64 e)
{
	struct emu_mon_vcpu *mv = mv_of(b);

	if (TRACE_ON(mv->host->m))
		trace_monitor(mv->host->m, mv->v, event, a, c, d, e);
}

/* With --trace the core's veil_trace() calls reach the recorder; without it
 * the ops have no trace hook and the core's call sites cost one branch. */
static const struct veil_backend_ops emu_ops_traced = { EMU_OPS, .trace = be_trace };

static void monitor_entry(void *arg)
{
	struct emu_mon_vcpu *mv = arg;
	struct emu_host *h = mv->host;

	if (mv->v->id == 0) {
		h->mon = veil_monitor_boot(&h->launch, &mv->be);
		if (h->mon)
			veil_monitor_main(h->mon);
	} else if (h->mon) {
		veil_monitor_enter_ap(h->mon, mv->v->id, &mv->be);
	}
	for (;;) { /* the monitor never returns; if it does, stop the CVM */
		be_msr_write(&mv->be, GHCB_MSR_TERM(VEIL_TERM_SET, VEIL_TERM_MONITOR));
		be_vmgexit(&mv->be);
	}
}

/* ---- run mode ----------------------------------------------------------------- */

/* An ELF launch, measured as SNP_LAUNCH_UPDATE would: the image's pages
 * (NORMAL, no VMPL1-3 access) and the secrets page. An IGVM launch was
 * measured page by page as it was placed (launch_igvm.c). */
/* Launch secrets: the AMD-SP's VMPCKs for this guest (amdsp.c); its reports
 * carry the launch digest. */
static int make_secrets(struct emu_machine *m, const struct emu_run_params *p, uint64_t gpa)
{
	char err[160];

	m->sp = amdsp_create(p->attest_seed, err, sizeof(err));
	if (!m->sp) {
		snprintf(m->exit.message, sizeof(m->exit.message), "%s", err);
		return -1;
	}
	amdsp_fill_secrets(m->sp, emu_gpa_ptr(m, gpa, 4096));
	amdsp_set_measurement(m->sp, emu_launch_digest(m));
	return 0;
}

int emu_launch(struct emu_machine *m, const struct emu_run_params *p, struct veil_launch *l)
{
	uint64_t mon_base = m->mem_size - VEIL_MONITOR_SIZE, secrets = m->mem_size - 4096;
	unsigned i, vmpl;

	*l = (struct veil_launch){
		.mem_size = m->mem_size,
		.mon_base = mon_base,
		.mon_size = VEIL_MONITOR_SIZE,
		.nr_vcpus = m->cfg.nr_vcpus,
		.kernel_entry = p->entry,
		.kernel_start = p->kernel_start,
		.kernel_end = p->kernel_end,
		.secrets_gpa = secrets,
		.sev_features = 1,
		.log_size = p->log_size,
		.log_domain = p->log_domain,
	};
	snprintf(l->cmdline, sizeof(l->cmdline), "%s", p->cmdline ? p->cmdline : "");
	for (i = 0; i < p->nr_segs && i < VEIL_MAX_KSEGS; i++)
		l->ksegs[i] = (struct veil_kseg){ .gpa = p->segs[i].gpa,
						  .len = p->segs[i].len,
						  .flags = p->segs[i].flags };
	l->nr_ksegs = i;
	emu_measure_elf_launch(m, p); /* an IGVM launch does not come here */
	if (p->linux_entry) {
		l->os_boot = VEIL_OS_BOOT_LINUX;
		l->os_entry = *p->linux_entry;
	}
	/* Launch: the image and the monitor region are validated, lower VMPLs
	 * have no access (what SNP_LAUNCH_UPDATE gives plain pages). */
	emu_rmp_assign(m, p->kernel_start, p->kernel_end - p->kernel_start, true);
	emu_rmp_assign(m, mon_base, VEIL_MONITOR_SIZE, true);
	for (vmpl = 1; vmpl <= 3; vmpl++) {
		emu_rmp_set_perms(m, p->kernel_start, p->kernel_end - p->kernel_start, vmpl, 0);
		emu_rmp_set_perms(m, mon_base, VEIL_MONITOR_SIZE, vmpl, 0);
	}
	return make_secrets(m, p, secrets);
}

int emu_run(struct emu_machine *m, const struct emu_run_params *p, struct emu_exit *out)
{
	struct emu_host *h = calloc(1, sizeof(*h));
	unsigned i;

	if (!h) {
		snprintf(out->message, sizeof(out->message), "out of memory");
		return -1;
	}
	h->m = m;
	if (emu_launch(m, p, &h->launch)) {
		*out = m->exit;
		free(h);
		return -1;
	}
	for (i = 0; i < m->cfg.nr_vcpus; i++) {
		h->vc[i] = (struct emu_mon_vcpu){
			.be = { .ops = m->trace ? &emu_ops_traced : &emu_ops, .priv = &h->vc[i] },
			.host = h,
			.v = &m->vcpus[i]
		};
	}
	m->native0 = true;
	m->native_enter = native_enter;
	m->native_ctx = h;
	m->vcpus[0].vmpl = 0;
	m->vcpus[0].state = VCPU_RUNNABLE;
	emu_run_loop(m);
	*out = m->exit;

	/* Parked monitor contexts are simply dropped with their stacks. */
	for (i = 0; i < m->cfg.nr_vcpus; i++)
		if (h->vc[i].started)
			fiber_free(&h->vc[i].fib);
	free(h);
	return 0;
}
