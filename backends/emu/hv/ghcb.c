/* SPDX-License-Identifier: MIT */
/*
 * ghcb.c - the hypervisor model's full GHCB events (GHCB spec 56421, NAE
 * events): port I/O, CPUID, MSR, page state change, AP creation, the APIC ID
 * list, the guest request to the AMD-SP, Run VMPL and termination.
 */
#include <string.h>

#include <veil/abi.h>

#include "amdsp.h"
#include "hv.h"
#include "machine.h"

struct emu_ghcb_call {
	struct emu_machine *m;
	struct emu_vcpu *v;
	unsigned vmpl;
	uint8_t *g; /* host view of the GHCB page */
	uint64_t code, info1, info2;
};

static bool valid(const uint8_t *g, unsigned off)
{
	unsigned bit = off / 8;

	return (g[GHCB_BITMAP + bit / 8] >> (bit % 8)) & 1;
}

static void set_valid(uint8_t *g, unsigned off, uint64_t val)
{
	unsigned bit = off / 8;

	st64(g + off, val);
	g[GHCB_BITMAP + bit / 8] |= 1 << (bit % 8);
}

static void ghcb_result(uint8_t *g, uint64_t r1, uint64_t r2)
{
	st64(g + GHCB_EXITINFO1, r1);
	st64(g + GHCB_EXITINFO2, r2);
}

#define BAD_INPUT(g, reason) ghcb_result((g), GHCB_RESULT_BAD_INPUT, (reason))

/* Port output: COM1 data (0x3F8) is the console, COM2 data (0x2F8) the data
 * channel to a host file (--com2); other ports are ignored. */
static void port_out(struct emu_machine *m, unsigned port, const uint8_t *p, uint64_t n)
{
	FILE *f = port == 0x3F8 ? (m->cfg.console ? m->cfg.console : stdout) :
		  port == 0x2F8 ? m->cfg.com2 :
				  NULL;

	if (port == EMU_ACPI_SLEEP_PORT && n == 1) {
		/* Soft off (ACPI 6.5, 4.8.3.7 Sleep Control Register): the guest
		 * powered off; the run ends as a termination with the status the
		 * guest latched at EMU_EXIT_STATUS_PORT (0 unless it wrote one). */
		if (p[0] & EMU_ACPI_SLP_EN)
			terminate(m, 2, m->exit_status);
		return;
	}
	if (port == EMU_EXIT_STATUS_PORT && n == 1) {
		m->exit_status = p[0]; /* the model-only exit-status latch */
		return;
	}
	if (n == 1 && !uart_out(m, port, p[0]))
		return; /* a UART register, not a character */
	if (TRACE_ON(m) && port == 0x3F8)
		trace_console(m, &m->vcpus[m->cur], m->vcpus[m->cur].vmpl, TRACE_CONSOLE_IOIO,
			      (const char *)p, n);
	if (f)
		fwrite(p, 1, n, f);
}

static void ev_ioio(struct emu_ghcb_call *c)
{
	uint8_t *g = c->g;
	unsigned port = c->info1 >> 16, in = c->info1 & 1;
	unsigned bytes = (c->info1 >> 4) & 7;
	struct emu_machine *m = c->m;

	if (bytes != 1 && bytes != 2 && bytes != 4) {
		BAD_INPUT(g, GHCB_ERR_INVALID_INPUT);
		return;
	}
	if (c->info1 & 4) { /* string I/O: data in the GHCB shared buffer */
		uint64_t scratch = ld64(g + GHCB_SCRATCH), base = c->v->ghcb_gpa[c->vmpl];
		uint64_t n = c->info2 * bytes;

		if (in || !valid(g, GHCB_SCRATCH)) {
			BAD_INPUT(g, in ? 5 : 4);
			return;
		}
		if (c->info2 > GHCB_BUFFER_SIZE || scratch < base + GHCB_BUFFER ||
		    scratch - (base + GHCB_BUFFER) + n > GHCB_BUFFER_SIZE) {
			BAD_INPUT(g, GHCB_ERR_INVALID_SCRATCH_AREA);
			return;
		}
		port_out(m, port, g + (scratch - base), n);
		ghcb_result(g, 0, 0);
		return;
	}
	if (!in) {
		uint8_t v[4];
		uint64_t rax = ld64(g + GHCB_RAX);

		if (!valid(g, GHCB_RAX)) {
			BAD_INPUT(g, GHCB_ERR_MISSING_INPUT);
			return;
		}
		memcpy(v, &rax, 4);
		port_out(m, port, v, bytes);
	} else {
		uint64_t val = uart_in(m, port);

		set_valid(g, GHCB_RAX,
			  val & (bytes == 4 ? 0xFFFFFFFFULL : (1ULL << (8 * bytes)) - 1));
	}
	ghcb_result(g, 0, 0);
}

static void ev_cpuid(struct emu_ghcb_call *c)
{
	uint8_t *g = c->g;
	uint32_t out[4];

	/* Leaf 0xD needs the guest's XCR0 (GHCB spec 56421, CPUID NAE; KVM
	 * sev_es_validate_vmgexit): without it, missing input. */
	if (!valid(g, GHCB_RAX) || !valid(g, GHCB_RCX) ||
	    ((uint32_t)ld64(g + GHCB_RAX) == 0xD && !valid(g, GHCB_XCR0))) {
		BAD_INPUT(g, GHCB_ERR_MISSING_INPUT);
		return;
	}
	hv_cpuid(ld64(g + GHCB_RAX), ld64(g + GHCB_RCX), ld64(g + GHCB_XCR0), out);
	if ((uint32_t)ld64(g + GHCB_RAX) == 1) /* initial APIC ID of the asking vCPU */
		out[1] |= c->v->id << 24;
	memset(g + GHCB_BITMAP, 0, 16);
	set_valid(g, GHCB_RAX, out[0]);
	set_valid(g, GHCB_RBX, out[1]);
	set_valid(g, GHCB_RCX, out[2]);
	set_valid(g, GHCB_RDX, out[3]);
	ghcb_result(g, 0, 0);
}

/*
 * MSR reads the hypervisor emulates, the ones a kernel reads early (as KVM's
 * kvm_get_msr_common answers them): the TSC (the model's clock), APIC_BASE
 * (enabled, in x2APIC mode, BSP on vCPU 0: apic.c, which also serves the
 * x2APIC range 0x800-0x8FF, TSC_DEADLINE and the KVM clock), and the
 * machine-check, MTRR and microcode MSRs a guest probes (0: none).
 */
static bool msr_read(struct emu_ghcb_call *c, uint32_t msr, uint64_t *val)
{
	struct emu_machine *m = c->m;

	switch (msr) {
	case 0x10: /* TSC */
		*val = emu_tsc_read(m);
		return true;
	case 0x1B: /* APIC_BASE: EN (11), EXTD (10: x2APIC), BSP (8); APM vol 2, 16.11.1 */
		*val = 0xFEE00000ULL | (1ULL << 11) | (1ULL << 10) |
		       (c->v->id == 0 ? 1ULL << 8 : 0);
		return true;
	case 0x8B:  /* PATCH_LEVEL */
	case 0xFE:  /* MTRRcap */
	case 0x179: /* MCG_CAP */
	case 0x17A: /* MCG_STATUS */
	case 0x2FF: /* MTRRdefType */
		*val = 0;
		return true;
	default:
		return apic_msr_owned(msr) && apic_msr_read(m, c->v, msr, val);
	}
}

/* A refused MSR access: inject #GP (result 1, EXITINFO2 = the event: valid,
 * exception, error code valid; GHCB spec 56421). */
#define MSR_GP_EVENT ((1ULL << 31) | (3 << 8) | (1 << 11) | EMU_VEC_GP)

static void ev_msr(struct emu_ghcb_call *c)
{
	uint8_t *g = c->g;
	uint32_t msr;

	if (c->info1 > 1 || !valid(g, GHCB_RCX) ||
	    (c->info1 == 1 && (!valid(g, GHCB_RAX) || !valid(g, GHCB_RDX)))) {
		BAD_INPUT(g, c->info1 > 1 ? 5 : 4);
		return;
	}
	if (c->info1 == 0) {
		uint64_t val;

		if (!msr_read(c, ld64(g + GHCB_RCX) & 0xFFFFFFFFULL, &val)) {
			ghcb_result(g, 1, MSR_GP_EVENT);
			return;
		}
		set_valid(g, GHCB_RAX, val & 0xFFFFFFFFULL);
		set_valid(g, GHCB_RDX, val >> 32);
		ghcb_result(g, 0, 0);
		return;
	}
	msr = ld64(g + GHCB_RCX) & 0xFFFFFFFFULL;
	if (apic_msr_owned(msr) &&
	    !apic_msr_write(c->m, c->v, msr,
			    (ld64(g + GHCB_RAX) & 0xFFFFFFFFULL) | (ld64(g + GHCB_RDX) << 32))) {
		ghcb_result(g, 1, MSR_GP_EVENT);
		return;
	}
	ghcb_result(g, 0, 0); /* other writes are dropped */
}

/* Page State Change results in SW_EXITINFO2 (Linux arch/x86/include/asm/sev-common.h,
 * as KVM's snp_begin_psc returns them; SW_EXITINFO1 stays 0). */
#define PSC_MAX_COUNT 253
#define PSC_ERROR_GENERIC (0x100ULL << 32)
#define PSC_ERROR_INVALID_HDR ((1ULL << 32) | 1)
#define PSC_ERROR_INVALID_ENTRY ((1ULL << 32) | 2)

/*
 * One entry (GHCB spec 56421, Page State Change): cur_page[11:0], gfn[51:12],
 * operation[55:52], page size[56]. Pages from cur_page on are changed; a
 * partly done 2 MiB entry continues in 4K steps (KVM). Returns 0 or the error.
 */
static uint64_t psc_entry(struct emu_ghcb_call *c, uint8_t *slot)
{
	struct emu_machine *m = c->m;
	uint64_t e = ld64(slot), gfn = (e >> 12) & 0xFFFFFFFFFFULL, cur = e & 0xFFF;
	unsigned op = (e >> 52) & 0xF;
	bool large = (e >> 56) & 1;
	uint64_t n = large ? 512 : 1;

	if (cur > n || (gfn & (n - 1)) || (op != 1 && op != 2 && op != 3 && op != 4))
		return PSC_ERROR_INVALID_ENTRY;
	if (op <= 2) {
		if (((gfn + n) << 12) > m->mem_size)
			return PSC_ERROR_GENERIC;
		if (cur == 0 && large) {
			if (!psc_one(m, gfn, op, true, c->v))
				return PSC_ERROR_GENERIC;
		} else {
			for (; cur < n; cur++) {
				if (!psc_one(m, gfn + cur, op, false, c->v)) {
					st64(slot, (e & ~0xFFFULL) | cur);
					return PSC_ERROR_GENERIC;
				}
			}
		}
	} /* ops 3 and 4 (PSMASH/UNSMASH hints) are completed without action, as KVM */
	st64(slot, (e & ~0xFFFULL) | n);
	return 0;
}

static void ev_psc(struct emu_ghcb_call *c)
{
	uint8_t *g = c->g;
	uint64_t scratch = ld64(g + GHCB_SCRATCH), ghcb = c->v->ghcb_gpa[c->vmpl], rc = 0;
	uint8_t *buf;
	uint16_t cur, end;

	if (!valid(g, GHCB_SCRATCH)) {
		BAD_INPUT(g, GHCB_ERR_MISSING_INPUT);
		return;
	}
	/* The buffer must lie in the GHCB's shared buffer. */
	if (scratch < ghcb + GHCB_BUFFER || scratch + 8 > ghcb + GHCB_BUFFER + GHCB_BUFFER_SIZE) {
		BAD_INPUT(g, GHCB_ERR_INVALID_SCRATCH_AREA);
		return;
	}
	buf = g + (scratch - ghcb);
	memcpy(&cur, buf, 2);
	memcpy(&end, buf + 2, 2);
	if (end >= PSC_MAX_COUNT ||
	    scratch + 8 + (uint64_t)(end + 1) * 8 > ghcb + GHCB_BUFFER + GHCB_BUFFER_SIZE) {
		ghcb_result(g, 0, PSC_ERROR_INVALID_HDR);
		return;
	}
	for (; cur <= end && !rc; cur++) {
		rc = psc_entry(c, buf + 8 + cur * 8);
		if (rc)
			break;
	}
	memcpy(buf, &cur, 2);
	ghcb_result(g, 0, rc);
}

static void ev_ap_create(struct emu_ghcb_call *c)
{
	struct emu_machine *m = c->m;
	uint8_t *g = c->g;
	unsigned req = c->info1 & 0xFFFF, vmpl = (c->info1 >> 16) & 0xF;
	uint64_t apic = c->info1 >> 32, gpa = c->info2;
	struct emu_vcpu *t;
	uint8_t *vmsa;

	if (apic >= m->cfg.nr_vcpus || vmpl > 3 || req > 2 || (vmpl == 0 && c->vmpl != 0)) {
		BAD_INPUT(g, GHCB_ERR_INVALID_INPUT);
		return;
	}
	t = &m->vcpus[apic];
	if (req == 2) {
		t->vmsa_gpa[vmpl] = 0;
		if (t->vmpl == vmpl && t != c->v)
			t->state = VCPU_OFF;
		ghcb_result(g, 0, 0);
		return;
	}
	if (t == c->v && vmpl == c->vmpl) { /* may not replace its own VMSA */
		BAD_INPUT(g, GHCB_ERR_INVALID_INPUT);
		return;
	}
	machine_sync_lazy(m, 0); /* the page may be a deferred VMPL0 save */
	vmsa = m_is_guest(m, gpa, 0x1000) && !(gpa & 0xFFF) ? m_ptr(m, gpa, 0x1000) : NULL;
	/* The VMSA's VMPL field must name the VMPL it is created for: VMRUN of a
	 * VMSA at another VMPL fails (SNP firmware ABI 56860, 8.18; as vcpu_switch). */
	if (!vmsa || !m->rmp[gpa >> 12].vmsa || !m->rmp[gpa >> 12].assigned ||
	    vmsa[VMSA_VMPL] != vmpl || !valid(g, GHCB_RAX) ||
	    ld64(g + GHCB_RAX) != ld64(vmsa + VMSA_SEV_FEATURES)) {
		BAD_INPUT(g, GHCB_ERR_INVALID_INPUT);
		return;
	}
	/* "Create and run" is a VMRUN, which fails on EFER.SVME = 0 (APM vol 2,
	 * 15.5.1: VMEXIT_INVALID), as vcpu_switch checks. */
	if (req == 1 && t != c->v && !(ld64(vmsa + VMSA_EFER) & EFER_SVME)) {
		BAD_INPUT(g, GHCB_ERR_INVALID_INPUT);
		return;
	}
	if (vmsa_in_use(m, gpa, c->v) && !(t->vmsa_gpa[vmpl] == gpa && t->vmpl == vmpl)) {
		BAD_INPUT(
			g,
			GHCB_ERR_INVALID_INPUT); /* running elsewhere: VMRUN would fail (APM vol 2, 15.36.12) */
		return;
	}
	t->vmsa_gpa[vmpl] = gpa;
	if (req == 1 && t != c->v) { /* the caller's own vCPU keeps running */
		struct emu_inst *ti = inst_get(m, t, vmpl);
		uint8_t cur[0x1000];

		/* The instance may have run since its last load: bring its shadow
		 * up to date, so the load writes every field that differs. */
		if (ti && ti->loaded)
			inst_save(ti, cur);
		if (!ti || inst_load(ti, vmsa)) {
			BAD_INPUT(g, GHCB_ERR_INVALID_INPUT);
			return;
		}
		t->vmpl = vmpl;
		t->state = VCPU_RUNNABLE;
	}
	ghcb_result(g, 0, 0);
}

/*
 * Get APIC IDs (GHCB spec 56421, NAE 0x8000_0017): RAX = pages of a shared,
 * page-aligned buffer at SW_SCRATCH; the hypervisor writes {u32 count; u32
 * ids[count]} there, or, if RAX pages are too few, answers the pages needed
 * in RAX and writes nothing. The model's APIC IDs are the vCPU numbers.
 */
static void ev_apic_ids(struct emu_ghcb_call *c)
{
	struct emu_machine *m = c->m;
	uint8_t *g = c->g, *buf;
	uint64_t scratch = ld64(g + GHCB_SCRATCH), pages = ld64(g + GHCB_RAX), i;
	uint64_t need = (4 + 4ULL * m->cfg.nr_vcpus + 0xFFF) >> 12;
	uint32_t n = m->cfg.nr_vcpus;

	if (!valid(g, GHCB_RAX)) {
		BAD_INPUT(g, GHCB_ERR_MISSING_INPUT);
		return;
	}
	if (pages < need) {
		set_valid(g, GHCB_RAX, need);
		ghcb_result(g, 0, 0);
		return;
	}
	if (!valid(g, GHCB_SCRATCH) || (scratch & 0xFFF) || pages > m->mem_size >> 12 ||
	    !m_is_guest(m, scratch, pages << 12)) {
		BAD_INPUT(g, GHCB_ERR_INVALID_SCRATCH_AREA);
		return;
	}
	for (i = 0; i < pages; i++) /* the hypervisor writes only shared pages */
		if (m->rmp[(scratch >> 12) + i].assigned) {
			BAD_INPUT(g, GHCB_ERR_INVALID_SCRATCH_AREA);
			return;
		}
	buf = m_ptr(m, scratch, pages << 12);
	memcpy(buf, &n, 4);
	for (i = 0; i < n; i++)
		memcpy(buf + 4 + 4 * i, &(uint32_t){ (uint32_t)i }, 4);
	ghcb_result(g, 0, 0);
}

void ghcb_event(struct emu_machine *m, struct emu_vcpu *v, unsigned vmpl, uint64_t gpa)
{
	struct emu_ghcb_call c = { .m = m, .v = v, .vmpl = vmpl };
	uint8_t *g;
	uint16_t ver;
	uint32_t usage;

	if (gpa != v->ghcb_gpa[vmpl] || !m_is_guest(m, gpa, 0x1000) || m->rmp[gpa >> 12].assigned) {
		/* Not a registered, shared GHCB: the hypervisor cannot talk to it. */
		terminate(m, 0, 0);
		snprintf(m->exit.message, sizeof(m->exit.message),
			 "VMGEXIT with an unregistered or private GHCB at %#llx",
			 (unsigned long long)gpa);
		return;
	}
	g = m_ptr(m, gpa, 0x1000);
	memcpy(&ver, g + GHCB_VERSION, 2);
	memcpy(&usage, g + GHCB_USAGE, 4);
	c.g = g;
	if (usage != 0) {
		BAD_INPUT(g, GHCB_ERR_INVALID_USAGE);
		return;
	}
	if (!valid(g, GHCB_EXITCODE) || !valid(g, GHCB_EXITINFO1) || !valid(g, GHCB_EXITINFO2)) {
		BAD_INPUT(g, GHCB_ERR_MISSING_INPUT);
		return;
	}
	(void)ver;
	c.code = ld64(g + GHCB_EXITCODE);
	c.info1 = ld64(g + GHCB_EXITINFO1);
	c.info2 = ld64(g + GHCB_EXITINFO2);
	switch (c.code) {
	case SVM_EXIT_IOIO:
		ev_ioio(&c);
		break;
	case SVM_EXIT_CPUID:
		ev_cpuid(&c);
		break;
	case SVM_EXIT_MSR:
		ev_msr(&c);
		break;
	case SVM_VMGEXIT_PSC:
		ev_psc(&c);
		break;
	case SVM_VMGEXIT_AP_CREATION:
		ev_ap_create(&c);
		break;
	case SVM_EXIT_WRITE_DR7: /* DR7 write (value in RAX): the model has no debug registers */
		if (!valid(g, GHCB_RAX))
			BAD_INPUT(g, 4);
		else
			ghcb_result(g, 0, 0);
		break;
	case SVM_EXIT_WBINVD:  /* WBINVD: the model has no caches to write back */
	case SVM_EXIT_MONITOR: /* MONITOR and MWAIT: done as no-ops (MWAIT may wake at any time) */
	case SVM_EXIT_MWAIT:
		ghcb_result(g, 0, 0);
		break;
	case SVM_VMGEXIT_GET_APIC_IDS:
		ev_apic_ids(&c);
		break;
	case SVM_VMGEXIT_AP_HLT_LOOP:
		ghcb_result(g, 0, 1); /* SW_EXITINFO2 non-zero: released */
		ap_reset_hold(m, v);
		break;
	case SVM_VMGEXIT_GUEST_REQUEST:
	case SVM_VMGEXIT_EXT_GUEST_REQUEST: { /* to the AMD-SP (amdsp.c) */
		bool ext = c.code == SVM_VMGEXIT_EXT_GUEST_REQUEST;
		uint64_t rbx = valid(g, GHCB_RBX) ? ld64(g + GHCB_RBX) : 0;
		uint64_t rax = valid(g, GHCB_RAX) ? ld64(g + GHCB_RAX) : 0;

		ghcb_result(g, 0, amdsp_guest_request(m->sp, m, ext, c.info1, c.info2, rax, &rbx));
		if (ext)
			set_valid(g, GHCB_RBX, rbx);
		break;
	}
	case SVM_VMGEXIT_RUN_VMPL: {
		unsigned target = c.info1 & 0xFF;

		if ((c.info1 & 0xFFFFFFFFULL) > 3) {
			BAD_INPUT(g, GHCB_ERR_INVALID_INPUT);
			break;
		}
		ghcb_result(g, 0, 0);
		if (target != vmpl && vcpu_switch(m, v, target, SVM_EXIT_VMGEXIT))
			BAD_INPUT(g, GHCB_ERR_INVALID_INPUT);
		break;
	}
	case SVM_VMGEXIT_HV_FEATURES:
		ghcb_result(g, 0, HV_FEATURES);
		break;
	case SVM_VMGEXIT_TERM_REQUEST:
		terminate(m, c.info1 & 0xF, (c.info1 >> 4) & 0xFF);
		break;
	default:
		BAD_INPUT(g, GHCB_ERR_INVALID_EVENT);
		break;
	}
}
