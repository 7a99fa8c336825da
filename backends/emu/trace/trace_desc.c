/* SPDX-License-Identifier: MIT */
/*
 * trace_desc.c - trace records described for people (trace_describe) and
 * exits decoded (#VC reasons, exception and #NPF error codes), shared by
 * veil-emu and veil-trace. Reading and checking records is trace_fmt.c.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <veil/abi.h>

#include "emu.h"
#include "trace.h"

/* ---- descriptions --------------------------------------------------------------- */

struct emu_out {
	char *p;
	size_t len, used;
};

static void put(struct emu_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct emu_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->used >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->used += (size_t)n < o->len - o->used ? (size_t)n : o->len - o->used - 1;
}

void trace_perm_str(uint8_t perms, char out[6])
{
	unsigned i, n = 0;

	for (i = 0; i < 4; i++)
		if (perms & (1 << i))
			out[n++] = "rwus"[i];
	if (perms & 0x10)
		out[n++] = 'S';
	if (!n)
		out[n++] = '-';
	out[n] = 0;
}

static void put_entry(struct emu_out *o, const struct trace_rmp_entry *e)
{
	char p[4][6];
	unsigned i;

	for (i = 0; i < 4; i++)
		trace_perm_str(e->perms[i], p[i]);
	put(o, "%s%s%s%s%s perms %s/%s/%s/%s",
	    e->flags & TRACE_RMP_ASSIGNED ? "assigned" : "unassigned",
	    e->flags & TRACE_RMP_VALIDATED ? " validated" : " not-validated",
	    e->flags & TRACE_RMP_VMSA ? " vmsa" : "", e->flags & TRACE_RMP_LARGE ? " 2M" : "",
	    e->flags & TRACE_RMP_IMMUTABLE ? " immutable" : "", p[0], p[1], p[2], p[3]);
}

static const char *ghcb_exit_name(uint64_t code)
{
	switch (code) {
	case SVM_EXIT_CPUID:
		return "CPUID";
	case SVM_EXIT_IOIO:
		return "IOIO";
	case SVM_EXIT_MSR:
		return "MSR";
	case SVM_VMGEXIT_PSC:
		return "page state change";
	case SVM_VMGEXIT_GUEST_REQUEST:
		return "guest request";
	case SVM_VMGEXIT_AP_CREATION:
		return "AP creation";
	case SVM_VMGEXIT_RUN_VMPL:
		return "run VMPL";
	case SVM_VMGEXIT_HV_FEATURES:
		return "hypervisor features";
	case SVM_VMGEXIT_TERM_REQUEST:
		return "termination";
	default:
		return "unknown";
	}
}

static void msr_request(struct emu_out *o, uint64_t v)
{
	switch (GHCB_MSR_INFO(v)) {
	case GHCB_MSR_SEV_INFO_REQ:
		put(o, "SEV information request");
		break;
	case GHCB_MSR_CPUID_REQ:
		put(o, "CPUID request fn %#" PRIx64 " reg %u", v >> 32,
		    (unsigned)(v >> GHCB_MSR_CPUID_REG_SHIFT) & 3);
		break;
	case GHCB_MSR_AP_RESET_HOLD_REQ:
		put(o, "AP reset hold request");
		break;
	case GHCB_MSR_PREF_GPA_REQ:
		put(o, "preferred GHCB GPA request");
		break;
	case GHCB_MSR_REGISTER_REQ:
		put(o, "GHCB GPA registration gpa %#" PRIx64, v & ~(uint64_t)0xFFF);
		break;
	case GHCB_MSR_PSC_REQ:
		put(o, "page state change gfn %#" PRIx64 " to %s",
		    (v >> 12) & (uint64_t)0xFFFFFFFFFF,
		    ((v >> GHCB_MSR_PSC_OP_SHIFT) & 0xF) == GHCB_MSR_PSC_PRIVATE ? "private" :
		    ((v >> GHCB_MSR_PSC_OP_SHIFT) & 0xF) == GHCB_MSR_PSC_SHARED	 ? "shared" :
										   "?");
		break;
	case GHCB_MSR_RUN_VMPL_REQ:
		put(o, "run VMPL%u", (unsigned)(v >> 32) & 0xFF);
		break;
	case GHCB_MSR_HV_FEATURES_REQ:
		put(o, "hypervisor features request");
		break;
	case GHCB_MSR_TERM_REQ:
		put(o, "termination request set %u code %u",
		    (unsigned)(v >> GHCB_MSR_TERM_SET_SHIFT) & 0xF,
		    (unsigned)(v >> GHCB_MSR_TERM_CODE_SHIFT) & 0xFF);
		break;
	default:
		put(o, "unknown request %#" PRIx64, GHCB_MSR_INFO(v));
		break;
	}
}

static void desc_vmgexit(struct emu_out *o, const struct trace_vmgexit *q)
{
	if (q->kind == TRACE_VMGEXIT_MSR) {
		put(o, "MSR protocol %#" PRIx64 ": ", q->msr);
		msr_request(o, q->msr);
		return;
	}
	put(o, "GHCB %#" PRIx64 ": exit %#" PRIx64 " (%s) info1 %#" PRIx64 " info2 %#" PRIx64,
	    q->msr, q->code, ghcb_exit_name(q->code), q->info1, q->info2);
}

static void desc_vmgexit_ret(struct emu_out *o, const struct trace_vmgexit_ret *a)
{
	if (a->kind == TRACE_VMGEXIT_MSR)
		put(o, "MSR protocol response %#" PRIx64 " (info %#" PRIx64 " data %#" PRIx64 ")",
		    a->msr, a->msr & 0xFFF, a->msr >> 12);
	else
		put(o, "GHCB result sw_exitinfo1 %#" PRIx64 " sw_exitinfo2 %#" PRIx64, a->info1,
		    a->info2);
}

static const char *rmp_rc_name(int rc)
{
	switch (rc) {
	case -1:
		return "#NPF";
	case RMP_SUCCESS:
		return "success";
	case RMP_FAIL_INPUT:
		return "FAIL_INPUT";
	case RMP_FAIL_PERMISSION:
		return "FAIL_PERMISSION";
	case RMP_FAIL_INUSE:
		return "FAIL_INUSE";
	case RMP_FAIL_OVERLAP:
		return "FAIL_OVERLAP";
	case RMP_FAIL_SIZEMISMATCH:
		return "FAIL_SIZEMISMATCH";
	default:
		return "?";
	}
}

static void desc_rmp_change(struct emu_out *o, const struct trace_rmp_entry *b,
			    const struct trace_rmp_entry *a)
{
	put(o, "; before ");
	put_entry(o, b);
	put(o, "; after ");
	put_entry(o, a);
}

static void desc_rmpadjust(struct emu_out *o, const struct trace_rmpadjust *r)
{
	char p[6];

	trace_perm_str((r->rdx >> 8) & 0xFF, p);
	put(o, "gpa %#" PRIx64 " %s target VMPL%u perms %s vmsa %u by VMPL%u: rc %d (%s)", r->gpa,
	    r->size ? "2M" : "4K", (unsigned)(r->rdx & 0xFF), p, (unsigned)(r->rdx >> 16) & 1,
	    r->caller_vmpl, r->rc, rmp_rc_name(r->rc));
	if (r->rc < 0)
		put(o, " exitinfo1 %#" PRIx64, r->npf);
	desc_rmp_change(o, &r->before, &r->after);
}

static void desc_pvalidate(struct emu_out *o, const struct trace_pvalidate *r)
{
	put(o, "gpa %#" PRIx64 " %s validate %" PRIu64 " by VMPL%u: rc %d (%s) cf %u", r->gpa,
	    r->size ? "2M" : "4K", r->validate, r->caller_vmpl, r->rc, rmp_rc_name(r->rc), r->cf);
	if (r->rc < 0)
		put(o, " exitinfo1 %#" PRIx64, r->npf);
	desc_rmp_change(o, &r->before, &r->after);
}

static void desc_rmp(struct emu_out *o, const struct trace_rmp *r)
{
	static const char *const ops[] = { "?", "loader assign", "loader perms",
					   "page state change" };

	put(o, "%s gpa %#" PRIx64 " pages %" PRIu64, r->op < 4 ? ops[r->op] : "?", r->gpa,
	    r->npages);
	desc_rmp_change(o, &r->before, &r->after);
}

static const char *vc_reason(uint64_t code);

static const char *vector_name(unsigned v)
{
	static const char *const n[32] = { "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
					   "#DF", "?",	 "#TS", "#NP", "#SS", "#GP", "#PF", "?",
					   "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "?",   "?",
					   "?",	  "?",	 "?",	"?",   "#HV", "#VC", "#SX", "?" };

	return v < 32 ? n[v] : "INT";
}

static void desc_exception(struct emu_out *o, unsigned type, const struct trace_exception *e)
{
	if (e->swint) {
		put(o, "INT %#x", e->vector);
		return;
	}
	if (type == TR_VC) {
		put(o, "#VC error code %#" PRIx64 " (%s)", e->error_code,
		    vc_reason(e->error_code) ? vc_reason(e->error_code) :
					       ghcb_exit_name(e->error_code));
		if (e->error_code == SVM_EXIT_NOT_VALIDATED)
			put(o, " address %#" PRIx64, e->cr2);
		return;
	}
	put(o, "vector %u (%s)", e->vector, vector_name(e->vector));
	if (e->has_error_code)
		put(o, " error code %#" PRIx64, e->error_code);
	if (e->vector == EMU_VEC_PF)
		put(o, " cr2 %#" PRIx64, e->cr2);
}

static void desc_npf(struct emu_out *o, const struct trace_npf *n)
{
	uint64_t e = n->exitinfo1;

	put(o, "exitinfo1 %#" PRIx64 " (%s%s%s%s%s%s) exitinfo2 (gpa) %#" PRIx64 " -> %s", e,
	    e & EMU_NPF_W ? "write" : "read", e & EMU_NPF_U ? " user" : "",
	    e & EMU_NPF_ID ? " fetch" : "", e & EMU_NPF_RMP ? " rmp" : "",
	    e & EMU_NPF_VMPL ? " vmpl" : "", e & EMU_NPF_SIZEM ? " size" : "", n->exitinfo2,
	    n->action == TRACE_NPF_TO_VMPL0 ? "VMPL0" : "run ends");
}

/* has_d: the record has R8 (trace version 2 on; a version 1 one ends before). */
static void desc_mon(struct emu_out *o, unsigned type, const struct trace_mon *e, bool has_d)
{
	switch (type) {
	case TR_MCALL:
		put(o,
		    "SVSM call protocol %#" PRIx64 " call %" PRIu64 " rcx %#" PRIx64
		    " rdx %#" PRIx64,
		    e->a >> 32, e->a & (uint64_t)0xFFFFFFFF, e->b, e->c);
		if (has_d)
			put(o, " r8 %#" PRIx64, e->d);
		break;
	case TR_MCALL_RET:
		put(o, "SVSM call result rax %#" PRIx64 " rcx %#" PRIx64 " rdx %#" PRIx64, e->a,
		    e->b, e->c);
		if (has_d)
			put(o, " r8 %#" PRIx64, e->d);
		break;
	case TR_MFAULT:
		put(o, "fault policy: exitinfo1 %#" PRIx64 " gpa %#" PRIx64 " rip %#" PRIx64, e->a,
		    e->b, e->c);
		break;
	default:
		put(o, "event %u a %#" PRIx64 " b %#" PRIx64 " c %#" PRIx64, e->event, e->a, e->b,
		    e->c);
		break;
	}
}

static void desc_console(struct emu_out *o, const struct trace_console *c)
{
	unsigned i;

	put(o, "%s \"", c->source == TRACE_CONSOLE_MONITOR ? "monitor" : "guest");
	for (i = 0; i < c->len; i++) {
		unsigned char ch = c->text[i];

		if (ch == '\n')
			put(o, "\\n");
		else if (ch == '"' || ch == '\\')
			put(o, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7F)
			put(o, "\\x%02x", ch);
		else
			put(o, "%c", ch);
	}
	put(o, "\"");
}

static void desc_end(struct emu_out *o, const struct trace_end *e)
{
	static const char *const kinds[] = { "hlt",	  "terminate", "npf",
					     "exception", "limit",     "error" };

	put(o, "%s", e->kind < 6 ? kinds[e->kind] : "?");
	if (e->kind == EMU_EXIT_KIND_TERMINATE)
		put(o, " reason set %u code %u", e->reason_set, e->reason_code);
	if (e->kind == EMU_EXIT_KIND_NPF)
		put(o, " exitinfo1 %#" PRIx64 " exitinfo2 %#" PRIx64, e->exitinfo1, e->exitinfo2);
	if (e->kind == EMU_EXIT_KIND_EXCEPTION)
		put(o, " vector %d error code %#" PRIx64, e->vector, e->error_code);
	if (e->message[0])
		put(o, ": %.*s", (int)sizeof(e->message), e->message);
}

void trace_describe(const struct trace_rec *r, char *buf, size_t len)
{
	struct emu_out o = { buf, len, 0 };
	const void *pl = r + 1;

	if (!len)
		return;
	buf[0] = 0;
	if (r->size < sizeof(*r) + trace_payload_min(r->type) || !trace_payload_min(r->type)) {
		put(&o, "(corrupt record)");
		return;
	}
	switch (r->type) {
	case TR_INSN: {
		const struct trace_insn *i = pl;

		for (unsigned k = 0; k < i->len && k < 15; k++)
			put(&o, "%s%02x", k ? " " : "", i->bytes[k]);
		break;
	}
	case TR_VMGEXIT:
		desc_vmgexit(&o, pl);
		break;
	case TR_VMGEXIT_RET:
		desc_vmgexit_ret(&o, pl);
		break;
	case TR_SWITCH: {
		const struct trace_switch *s = pl;

		put(&o, "VMPL%u -> VMPL%u reason %#" PRIx64 " (%s)%s", s->from, s->to, s->reason,
		    s->reason == SVM_EXIT_VMGEXIT ? "VMGEXIT" :
		    s->reason == SVM_EXIT_NPF	  ? "NPF" :
						    "other",
		    s->result ? " FAILED" : "");
		break;
	}
	case TR_RMP:
		desc_rmp(&o, pl);
		break;
	case TR_RMPADJUST:
		desc_rmpadjust(&o, pl);
		break;
	case TR_PVALIDATE:
		desc_pvalidate(&o, pl);
		break;
	case TR_VC:
	case TR_EXCEPTION:
		desc_exception(&o, r->type, pl);
		break;
	case TR_NPF:
		desc_npf(&o, pl);
		break;
	case TR_CONSOLE:
		desc_console(&o, pl);
		break;
	case TR_END:
		desc_end(&o, pl);
		break;
	default:
		desc_mon(&o, r->type, pl,
			 r->size - sizeof(*r) -
					 (r->flags & TRACE_RF_REGS ? sizeof(struct trace_regs) :
								     0) >=
				 sizeof(struct trace_mon));
		break;
	}
}

/* ---- exits, decoded for people (AMD APM vol. 2, 15.35.5 and appendix C) ---- */

/* The SVM exit code a #VC reports as its error code (APM vol. 2, table C-1). */
static const char *vc_reason(uint64_t code)
{
	switch (code) {
	case SVM_EXIT_READ_DR7:
		return "DR7 read";
	case SVM_EXIT_WRITE_DR7:
		return "DR7 write";
	case SVM_EXIT_RDTSC:
		return "RDTSC";
	case SVM_EXIT_RDPMC:
		return "RDPMC";
	case SVM_EXIT_CPUID:
		return "CPUID";
	case SVM_EXIT_INVD:
		return "INVD";
	case SVM_EXIT_PAUSE:
		return "PAUSE";
	case SVM_EXIT_HLT:
		return "HLT";
	case SVM_EXIT_IOIO:
		return "I/O port access";
	case SVM_EXIT_MSR:
		return "RDMSR/WRMSR";
	case SVM_EXIT_VMMCALL:
		return "VMMCALL";
	case SVM_EXIT_RDTSCP:
		return "RDTSCP";
	case SVM_EXIT_WBINVD:
		return "WBINVD";
	case SVM_EXIT_MONITOR:
		return "MONITOR";
	case SVM_EXIT_MWAIT:
		return "MWAIT";
	case SVM_EXIT_XSETBV:
		return "XSETBV";
	case SVM_EXIT_NPF:
		return "nested page fault (MMIO)";
	case SVM_EXIT_NOT_VALIDATED:
		return "page not validated";
	default:
		return NULL;
	}
}

void trace_decode_exception(int vector, bool has_ec, uint64_t ec, char *buf, size_t len)
{
	const char *name = vector >= 0 && vector < 32 ? vector_name((unsigned)vector) : "?";
	const char *why = vector == 29 ? vc_reason(ec) : NULL;
	char v[16];

	if (!strcmp(name, "?")) {
		snprintf(v, sizeof(v), "vector %d", vector);
		name = v;
	}
	if (vector == 29)
		snprintf(buf, len, "#VC %#" PRIx64 ": %s", ec, why ? why : "unknown exit code");
	else if (has_ec)
		snprintf(buf, len, "%s, error code %#" PRIx64, name, ec);
	else
		snprintf(buf, len, "%s", name);
}

void trace_decode_npf(uint64_t e1, uint64_t gpa, unsigned vmpl, char *buf, size_t len)
{
	const char *access = e1 & EMU_NPF_ID ? "fetch" : e1 & EMU_NPF_W ? "write" : "read";
	const char *perm = e1 & EMU_NPF_ID ? (e1 & EMU_NPF_U ? "Xu" : "Xs") :
			   e1 & EMU_NPF_W  ? "W" :
					     "R";

	if (e1 & EMU_NPF_VMPL)
		snprintf(buf, len, "#NPF: %s, VMPL%u lacks %s (GPA %#" PRIx64 ")", access, vmpl,
			 perm, gpa);
	else if (e1 & EMU_NPF_SIZEM)
		snprintf(buf, len, "#NPF: %s, page size mismatch in the RMP (GPA %#" PRIx64 ")",
			 access, gpa);
	else if (e1 & EMU_NPF_RMP)
		snprintf(buf, len,
			 "#NPF: %s, RMP check failed: page not assigned to the guest or in use "
			 "(GPA %#" PRIx64 ")",
			 access, gpa);
	else
		snprintf(buf, len, "#NPF: %s, %s (GPA %#" PRIx64 ")", access,
			 e1 & EMU_NPF_P ? "nested page protection" : "not present", gpa);
}
