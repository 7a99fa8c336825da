/* SPDX-License-Identifier: MIT */
/*
 * trace_rec.c - the records of a trace, as the machine model's event sites
 * call for them (trace.h): each is built, then written or, in replay mode,
 * compared with the recorded one; and the per-instruction hooks of
 * --trace-insns. Opening and closing the file is trace.c.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "debug.h"
#include "machine.h"
#include "trace.h"
#include "tracer.h"

/* ---- records -------------------------------------------------------------- */

static void read_regs(struct emu_inst *in, struct trace_regs *r)
{
	static const int ids[] = {
		UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX,	   UC_X86_REG_RDX, UC_X86_REG_RSI,
		UC_X86_REG_RDI, UC_X86_REG_RBP, UC_X86_REG_RSP,	   UC_X86_REG_R8,  UC_X86_REG_R9,
		UC_X86_REG_R10, UC_X86_REG_R11, UC_X86_REG_R12,	   UC_X86_REG_R13, UC_X86_REG_R14,
		UC_X86_REG_R15, UC_X86_REG_RIP, UC_X86_REG_RFLAGS, UC_X86_REG_CR0, UC_X86_REG_CR2,
		UC_X86_REG_CR3, UC_X86_REG_CR4,
	};
	uint64_t *vals = &r->rax;
	void *ptrs[sizeof(ids) / sizeof(ids[0])];
	unsigned i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		ptrs[i] = &vals[i];
	uc_reg_read_batch(in->uc, (int *)ids, ptrs, sizeof(ids) / sizeof(ids[0]));
}

/* Replay: the record must equal the recorded one; stop after stop_at. */
static void replay_record(struct emu_machine *m, struct emu_inst *in, const uint8_t *rec,
			  size_t size)
{
	struct emu_trace *t = m->trace;
	const struct trace_rec *r = (const void *)rec, *o = (const void *)(t->map + t->off);
	char a[120], b[120];

	if (t->map_len - t->off < sizeof(*o) || o->size < sizeof(*o) ||
	    o->size > t->map_len - t->off) {
		snprintf(t->rmsg, sizeof(t->rmsg), "the recorded trace ends at record %llu",
			 (unsigned long long)r->seq);
		t->rstatus = -1;
	} else if (o->size != size || memcmp(o, rec, size)) {
		trace_describe(o, a, sizeof(a));
		trace_describe(r, b, sizeof(b));
		snprintf(t->rmsg, sizeof(t->rmsg),
			 "diverged at record %llu: recorded %s [%.120s], re-run %s [%.120s]",
			 (unsigned long long)r->seq, trace_type_name(o->type), a,
			 trace_type_name(r->type), b);
		t->rstatus = -1;
	} else {
		t->off += size;
		if (r->seq < t->stop_at)
			return;
		t->rstatus = 1;
		snprintf(t->rmsg, sizeof(t->rmsg), "stopped after record %llu",
			 (unsigned long long)r->seq);
	}
	t->stopped = true;
	dbg_replay_stop(m, in, r, t->rstatus > 0);
}

static void emit(struct emu_machine *m, unsigned type, unsigned vcpu, unsigned vmpl,
		 struct emu_inst *in, const void *pl, size_t plen, bool regs)
{
	struct emu_trace *t = m->trace;
	uint8_t rec[sizeof(struct trace_rec) + 512 + 8 + sizeof(struct trace_regs)];
	struct trace_rec *r = (void *)rec;
	size_t size;

	if (t->stopped)
		return;
	if (plen > 512)
		plen = 512;
	memset(r, 0, sizeof(*r));
	r->type = type;
	r->vcpu = vcpu;
	r->vmpl = vmpl;
	r->seq = t->seq++;
	/* hook_code has already counted the instruction an INSN record announces */
	r->icount = m->insns - (type == TR_INSN && m->cfg.count_insns && m->insns);
	if (in) {
		r->cpl = rreg(in->uc, UC_X86_REG_CS) & 3;
		/* the INSN hook knows RIP: one register read less per instruction */
		r->rip = type == TR_INSN ? t->insn_rip : rreg(in->uc, UC_X86_REG_RIP);
	}
	memcpy(rec + sizeof(*r), pl, plen);
	/* Records stay 8-byte aligned in the file: readers map it and use the structs. */
	memset(rec + sizeof(*r) + plen, 0, -plen & 7);
	size = sizeof(*r) + ((plen + 7) & ~(size_t)7);
	if (regs && in) {
		struct trace_regs regs_now;

		read_regs(in, &regs_now);
		memcpy(rec + size, &regs_now, sizeof(regs_now));
		size += sizeof(regs_now);
		r->flags |= TRACE_RF_REGS;
	}
	r->size = size;
	if (t->replay) {
		replay_record(m, in, rec, size);
		return;
	}
	if (t->used + size > OUTBUF)
		out_flush(t);
	memcpy(t->buf + t->used, rec, size);
	t->used += size;
}

static struct emu_inst *cur_inst(struct emu_vcpu *v, unsigned vmpl)
{
	return vmpl < EMU_NR_VMPLS ? v->inst[vmpl] : NULL;
}

/* The native monitor has no instance: its events carry no guest registers. */
static struct emu_inst *guest_inst(struct emu_machine *m, struct emu_vcpu *v, unsigned vmpl)
{
	return vmpl == 0 && m->native0 ? NULL : cur_inst(v, vmpl);
}

static void rmp_pack(const struct emu_rmp_entry *e, struct trace_rmp_entry *o)
{
	memset(o, 0, sizeof(*o));
	o->flags = (e->assigned ? TRACE_RMP_ASSIGNED : 0) |
		   (e->validated ? TRACE_RMP_VALIDATED : 0) | (e->vmsa ? TRACE_RMP_VMSA : 0) |
		   (e->page_size ? TRACE_RMP_LARGE : 0) | (e->immutable ? TRACE_RMP_IMMUTABLE : 0);
	memcpy(o->perms, e->perms, 4);
}

static void rmp_at(struct emu_machine *m, uint64_t gpa, struct trace_rmp_entry *o)
{
	static const struct emu_rmp_entry none;

	rmp_pack(gpa < m->mem_size ? &m->rmp[gpa >> 12] : &none, o);
}

void trace_vmgexit(struct emu_machine *m, struct emu_vcpu *v, unsigned vmpl, bool ret)
{
	uint64_t msr = v->ghcb_msr[vmpl];
	uint8_t *g = NULL;
	struct trace_vmgexit q = { .msr = msr };
	struct trace_vmgexit_ret a = { .msr = msr };

	if (!(msr & 0xFFF) && m_is_guest(m, msr, 0x1000))
		g = m_ptr(m, msr, 0x1000);
	if (ret) {
		a.kind = g ? TRACE_VMGEXIT_GHCB : TRACE_VMGEXIT_MSR;
		if (g) {
			a.info1 = ld64(g + GHCB_EXITINFO1);
			a.info2 = ld64(g + GHCB_EXITINFO2);
		}
		emit(m, TR_VMGEXIT_RET, v->id, vmpl, NULL, &a, sizeof(a), false);
		return;
	}
	q.kind = g ? TRACE_VMGEXIT_GHCB : TRACE_VMGEXIT_MSR;
	if (g) {
		q.code = ld64(g + GHCB_EXITCODE);
		q.info1 = ld64(g + GHCB_EXITINFO1);
		q.info2 = ld64(g + GHCB_EXITINFO2);
	}
	emit(m, TR_VMGEXIT, v->id, vmpl, guest_inst(m, v, vmpl), &q, sizeof(q), true);
}

void trace_switch(struct emu_machine *m, struct emu_vcpu *v, unsigned from, unsigned to,
		  uint64_t reason, int result)
{
	struct trace_switch s = { .from = from, .to = to, .reason = reason, .result = result };

	emit(m, TR_SWITCH, v->id, from, guest_inst(m, v, from), &s, sizeof(s), false);
}

void trace_rmp(struct emu_machine *m, unsigned op, uint64_t gpa, uint64_t npages, unsigned changed,
	       const struct emu_rmp_entry *before)
{
	struct emu_vcpu *v = &m->vcpus[m->cur];
	struct trace_rmp r = { .gpa = gpa, .npages = npages, .op = op, .changed = changed };

	rmp_pack(before, &r.before);
	rmp_at(m, gpa, &r.after);
	emit(m, TR_RMP, v->id, v->vmpl, NULL, &r, sizeof(r), false);
}

void trace_rmpadjust(struct emu_machine *m, unsigned vmpl, uint64_t gpa, uint64_t size,
		     uint64_t rdx, int rc, uint64_t npf, const struct emu_rmp_entry *before)
{
	struct emu_vcpu *v = &m->vcpus[m->cur];
	unsigned target = rdx & 0xFF;
	struct trace_rmpadjust r = { .gpa = gpa,
				     .size = size,
				     .rdx = rdx,
				     .rc = rc,
				     .caller_vmpl = vmpl,
				     .npf = rc < 0 ? npf : 0 };

	if (rc == RMP_SUCCESS)
		r.changed = TRACE_RMPF_PERM(target) | (vmpl == 0 ? TRACE_RMPF_VMSA : 0);
	rmp_pack(before, &r.before);
	rmp_at(m, gpa, &r.after);
	emit(m, TR_RMPADJUST, v->id, vmpl, guest_inst(m, v, vmpl), &r, sizeof(r), false);
}

void trace_pvalidate(struct emu_machine *m, unsigned vmpl, uint64_t gpa, uint64_t size,
		     uint64_t rdx, int rc, bool cf, uint64_t npf,
		     const struct emu_rmp_entry *before)
{
	struct emu_vcpu *v = &m->vcpus[m->cur];
	struct trace_pvalidate r = { .gpa = gpa,
				     .size = size,
				     .validate = rdx,
				     .rc = rc,
				     .caller_vmpl = vmpl,
				     .npf = rc < 0 ? npf : 0,
				     .cf = cf };

	if (rc == RMP_SUCCESS && !cf)
		r.changed = TRACE_RMPF_VALIDATED;
	rmp_pack(before, &r.before);
	rmp_at(m, gpa, &r.after);
	emit(m, TR_PVALIDATE, v->id, vmpl, guest_inst(m, v, vmpl), &r, sizeof(r), false);
}

void trace_exception(struct emu_inst *in, unsigned vector, bool has_ec, uint64_t ec, uint64_t cr2,
		     bool swint)
{
	struct trace_exception e = { .vector = vector,
				     .has_error_code = has_ec,
				     .error_code = ec,
				     .cr2 = cr2,
				     .swint = swint };

	emit(in->m, vector == EMU_VEC_VC && !swint ? TR_VC : TR_EXCEPTION, in->vcpu->id, in->vmpl,
	     in, &e, sizeof(e), true);
}

void trace_npf(struct emu_inst *in, bool to_vmpl0)
{
	struct trace_npf n = { .exitinfo1 = in->stop.exitinfo1,
			       .exitinfo2 = in->stop.exitinfo2,
			       .action = to_vmpl0 ? TRACE_NPF_TO_VMPL0 : TRACE_NPF_END };

	emit(in->m, TR_NPF, in->vcpu->id, in->vmpl, in, &n, sizeof(n), true);
}

static void con_emit(struct emu_machine *m, unsigned vcpu, unsigned source, struct emu_inst *in)
{
	struct emu_con_line *l = &m->trace->con[vcpu][source];
	struct {
		struct trace_console c;
		char text[sizeof(l->text)];
	} c;

	if (!l->n)
		return;
	memset(&c.c, 0, sizeof(c.c));
	c.c.source = source;
	c.c.len = l->n;
	memcpy(c.text, l->text, l->n);
	emit(m, TR_CONSOLE, vcpu, l->vmpl, in, &c, sizeof(c.c) + l->n, false);
	l->n = 0;
}

/*
 * Console output is recorded a line at a time (up to 256 bytes), whatever
 * size the guest's writes have (the test OS writes a byte per IOIO exit), so
 * that `veil-trace list` and `step` can search for the text people see.
 */
void trace_console(struct emu_machine *m, struct emu_vcpu *v, unsigned vmpl, unsigned source,
		   const char *s, size_t len)
{
	struct emu_con_line *l = &m->trace->con[v->id][source & 1];

	for (; len; s++, len--) {
		l->text[l->n++] = *s;
		l->vmpl = vmpl;
		if (*s == '\n' || l->n == sizeof(l->text))
			con_emit(m, v->id, source & 1, guest_inst(m, v, vmpl));
	}
}

/* Lines still open at the end of the run. */
void con_flush_all(struct emu_machine *m, bool with_inst)
{
	for (unsigned i = 0; i < EMU_MAX_VCPUS && i < m->cfg.nr_vcpus; i++)
		for (unsigned src = 0; src < 2; src++) {
			struct emu_vcpu *v = &m->vcpus[i];
			unsigned vmpl = m->trace->con[i][src].vmpl;

			con_emit(m, i, src, with_inst ? guest_inst(m, v, vmpl) : NULL);
		}
}

void trace_end(struct emu_machine *m)
{
	struct emu_vcpu *v = &m->vcpus[m->cur];
	struct emu_exit *x = &m->exit;
	struct trace_end e = { .kind = x->kind,
			       .vector = x->vector,
			       .error_code = x->error_code,
			       .exitinfo1 = x->exitinfo1,
			       .exitinfo2 = x->exitinfo2,
			       .reason_set = x->reason_set,
			       .reason_code = x->reason_code };

	snprintf(e.message, sizeof(e.message), "%s", x->message);
	con_flush_all(m, true);
	emit(m, TR_END, v->id, v->vmpl, guest_inst(m, v, v->vmpl), &e, sizeof(e), true);
	out_flush(m->trace);
}

void trace_monitor(struct emu_machine *m, struct emu_vcpu *v, uint32_t event, uint64_t a,
		   uint64_t b, uint64_t c, uint64_t d)
{
	struct trace_mon e = { .event = event, .a = a, .b = b, .c = c, .d = d };
	unsigned type = event == 1 ? TR_MFAULT :
			event == 2 ? TR_MCALL :
			event == 3 ? TR_MCALL_RET :
				     TR_MEVENT;

	emit(m, type, v->id, 0, NULL, &e, sizeof(e), false);
}

/* ---- traced calls ------------------------------------------------------------ */

/*
 * The body runs with the recorder detached (m->trace = NULL) so that it takes
 * its untraced path; nothing it calls emits records.
 */
static struct emu_rmp_entry rmp_before(struct emu_machine *m, uint64_t gpa)
{
	static const struct emu_rmp_entry none;

	return gpa < m->mem_size ? m->rmp[gpa >> 12] : none;
}

int trace_call_rmpadjust(struct emu_machine *m, unsigned vmpl, uint64_t gpa, uint64_t size,
			 uint64_t rdx, uint64_t *npf)
{
	struct emu_trace *t = m->trace;
	struct emu_rmp_entry before = rmp_before(m, gpa);
	int rc;

	m->trace = NULL;
	rc = snp_rmpadjust(m, vmpl, gpa, size, rdx, npf);
	m->trace = t;
	trace_rmpadjust(m, vmpl, gpa, size, rdx, rc, *npf, &before);
	return rc;
}

int trace_call_pvalidate(struct emu_machine *m, unsigned vmpl, uint64_t gpa, uint64_t size,
			 uint64_t rdx, bool *cf, uint64_t *npf)
{
	struct emu_trace *t = m->trace;
	struct emu_rmp_entry before = rmp_before(m, gpa);
	int rc;

	m->trace = NULL;
	rc = snp_pvalidate(m, vmpl, gpa, size, rdx, cf, npf);
	m->trace = t;
	trace_pvalidate(m, vmpl, gpa, size, rdx, rc, *cf, *npf, &before);
	return rc;
}

int trace_call_switch(struct emu_machine *m, struct emu_vcpu *v, unsigned vmpl, uint64_t exit_code)
{
	struct emu_trace *t = m->trace;
	unsigned from = v->vmpl;
	int rc;

	/* The target instance is created with the recorder attached (INSN hook). */
	if (vmpl < EMU_NR_VMPLS && !(vmpl == 0 && m->native0) && v->vmsa_gpa[vmpl])
		inst_get(m, v, vmpl);
	m->trace = NULL;
	rc = vcpu_switch(m, v, vmpl, exit_code);
	m->trace = t;
	trace_switch(m, v, from, vmpl, exit_code, rc);
	return rc;
}

/* ---- every instruction (--trace-insns) ------------------------------------ */

/* Host pointer to the code byte at va, through a one-page cache per instance. */
static const uint8_t *code_ptr(struct emu_inst *in, uint64_t cr3, uint64_t va)
{
	struct emu_code_cache *c = &in->m->trace->cache[in->idx];
	uint64_t pa;

	if (!c->host || c->cr3 != cr3 || c->vpage != (va >> 12)) {
		if (walk_probe(in, va & ~0xFFFULL, &pa)) {
			c->host = NULL;
			return NULL;
		}
		c->host = m_ptr(in->m, pa & ~0xFFFULL, 0x1000);
		c->cr3 = cr3;
		c->vpage = va >> 12;
		if (!c->host)
			return NULL;
	}
	return c->host + (va & 0xFFF);
}

static void insn_hook(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct emu_inst *in = data;
	struct emu_machine *m = in->m;
	struct trace_insn ti = { 0 };
	uint64_t cr3;
	uint32_t i;

	(void)uc;
	if (in->in_switch || !m->trace || (m->dbg && dbg_resuming(in, addr)))
		return;
	cr3 = rreg(in->uc, UC_X86_REG_CR3);
	ti.len = size > 15 ? 15 : size;
	for (i = 0; i < ti.len;) {
		const uint8_t *p = code_ptr(in, cr3, addr + i);
		uint32_t n = 0x1000 - ((addr + i) & 0xFFF);

		if (!p)
			break;
		n = n < ti.len - i ? n : ti.len - i;
		memcpy(ti.bytes + i, p, n);
		i += n;
	}
	m->trace->insn_rip = addr;
	emit(m, TR_INSN, in->vcpu->id, in->vmpl, in, &ti, sizeof(ti), false);
}

/* Image mode: the monitor's trace events are the arguments of its trace
 * point (backends/snp/backend.c, System V order), read when VMPL0 code
 * reaches it, as a probe would on hardware. */
static void probe_hook(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct emu_inst *in = data;
	uint64_t r[5];
	int ids[5] = { UC_X86_REG_RDI, UC_X86_REG_RSI, UC_X86_REG_RDX, UC_X86_REG_RCX,
		       UC_X86_REG_R8 };
	void *ptrs[5] = { &r[0], &r[1], &r[2], &r[3], &r[4] };

	(void)addr;
	(void)size;
	if (in->in_switch || uc_reg_read_batch(uc, ids, ptrs, 5))
		return;
	trace_monitor(in->m, in->vcpu, (uint32_t)r[0], r[1], r[2], r[3], r[4]);
}

void trace_inst_init(struct emu_inst *in)
{
	struct emu_trace *t = in->m->trace;
	uint64_t probe = in->m->trace_probe;
	uc_hook h;

	if (t && t->insns && !t->hooks[in->idx])
		uc_hook_add(in->uc, &t->hooks[in->idx], UC_HOOK_CODE, (void *)insn_hook, in, 1, 0);
	if (t && probe && in->vmpl == 0)
		uc_hook_add(in->uc, &h, UC_HOOK_CODE, (void *)probe_hook, in, probe, probe);
}
