/* SPDX-License-Identifier: MIT */
/*
 * gdb_stop.c - where the machine stops for GDB: breakpoints and watchpoints
 * (Z/z), single steps, Ctrl-C and attach stops, the stop of a replayed run,
 * and the hooks the machine model calls (debug.h). See gdb_stub.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gdb_stub.h"

static void stop_here(struct emu_dbg *d, struct emu_inst *in, int sig, const char *extra);

static void bp_hook(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct emu_inst *in = data;
	struct emu_dbg *d = in->m->dbg;

	(void)uc;
	(void)size;
	(void)addr;
	if (in->in_switch || d->id[in->idx].cur_skip || atomic_load(&d->detached))
		return;
	stop_here(d, in, SIG_TRAP, "swbreak:;");
}

static void watch_hook(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
		       void *data)
{
	struct emu_inst *in = data;
	struct emu_dbg *d = in->m->dbg;

	(void)uc;
	(void)size;
	(void)value;
	if (in->in_switch || atomic_load(&d->detached) || d->watch_pending)
		return;
	/* Report after the access completes: at the next instruction's hook. */
	d->watch_pending = true;
	d->watch_addr = addr;
	d->watch_type = type == UC_MEM_WRITE ? WP_WRITE : WP_READ;
}

static void bp_install(struct emu_dbg *d, struct emu_bp *b, struct emu_inst *in)
{
	uc_hook *h = &b->hooks[in->idx];
	int types = b->type == WP_WRITE ? UC_HOOK_MEM_WRITE :
		    b->type == WP_READ	? UC_HOOK_MEM_READ :
					  UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE;

	(void)d;
	if (*h)
		return;
	if (b->type <= BP_HW)
		uc_hook_add(in->uc, h, UC_HOOK_CODE, (void *)bp_hook, in, b->addr, b->addr);
	else
		uc_hook_add(in->uc, h, types, (void *)watch_hook, in, b->addr,
			    b->addr + b->len - 1);
}

static void for_each_inst(struct emu_dbg *d,
			  void (*fn)(struct emu_dbg *, struct emu_bp *, struct emu_inst *),
			  struct emu_bp *b)
{
	unsigned i, j;

	for (i = 0; i < d->m->cfg.nr_vcpus; i++)
		for (j = 0; j < EMU_NR_VMPLS; j++)
			if (d->m->vcpus[i].inst[j])
				fn(d, b, d->m->vcpus[i].inst[j]);
}

static void bp_uninstall(struct emu_dbg *d, struct emu_bp *b, struct emu_inst *in)
{
	(void)d;
	if (b->hooks[in->idx])
		uc_hook_del(in->uc, b->hooks[in->idx]);
	b->hooks[in->idx] = 0;
}

/* GDB went away or detached: its breakpoints go with it. */
void gdb_remove_bps(struct emu_dbg *d)
{
	unsigned i;

	for (i = 0; i < MAX_BPS; i++)
		if (d->bps[i].used) {
			for_each_inst(d, bp_uninstall, &d->bps[i]);
			memset(&d->bps[i], 0, sizeof(d->bps[i]));
		}
	d->watch_pending = false;
}

void gdb_cmd_Z(struct emu_dbg *d, const char *p, bool insert, char *out)
{
	int type = p[0] - '0';
	char *comma;
	uint64_t addr, len;
	unsigned i;

	if (type < 0 || type > 4 || p[1] != ',') {
		out[0] = 0; /* unsupported type */
		return;
	}
	addr = strtoull(p + 2, &comma, 16);
	len = *comma == ',' ? strtoull(comma + 1, NULL, 16) : 1;
	if (!len)
		len = 1;
	for (i = 0; i < MAX_BPS; i++) {
		struct emu_bp *b = &d->bps[i];

		if (b->used && b->type == type && b->addr == addr && b->len == len) {
			if (!insert) {
				for_each_inst(d, bp_uninstall, b);
				memset(b, 0, sizeof(*b));
			}
			strcpy(out, "OK");
			return;
		}
	}
	if (!insert) {
		strcpy(out, "OK");
		return;
	}
	for (i = 0; i < MAX_BPS && d->bps[i].used; i++)
		;
	if (i == MAX_BPS) {
		strcpy(out, "E28");
		return;
	}
	d->bps[i] = (struct emu_bp){ .used = true, .type = type, .addr = addr, .len = len };
	for_each_inst(d, bp_install, &d->bps[i]);
	if (type >= WP_WRITE) { /* memory hooks are compiled into translated code */
		d->hook_gen++;
		d->need_restart = d->in_hook;
	}
	strcpy(out, "OK");
}

/* ---- stops ----------------------------------------------------------------------- */

/*
 * Stop the machine here and let GDB look at it. `in` is the instance the stop
 * belongs to; in_hook says whether its CPU is inside uc_emu_start (a code
 * hook before the instruction at RIP).
 */
static void stop_at(struct emu_dbg *d, struct emu_inst *in, bool in_hook, int sig,
		    const char *extra)
{
	struct emu_machine *m = d->m;
	unsigned vcpu = in ? in->vcpu->id : m->cur;

	/* A GDB that went away while the machine ran leaves breakpoints behind
	 * (inert while detached): gone before the next GDB sees the machine. */
	if (atomic_exchange(&d->drop_bps, false))
		gdb_remove_bps(d);
	d->stop_in = in;
	d->in_hook = in_hook;
	d->need_restart = false;
	d->rip_written = false;
	d->sel = vcpu;
	d->step = false;
	snprintf(d->last_stop, sizeof(d->last_stop), "T%02xthread:%x;%s", sig, vcpu + 1, extra);
	emu_trace_flush(m);
	gdb_set_running(d, false);
	if (d->awaiting_stop) {
		d->awaiting_stop = false;
		gdb_send(d, d->last_stop);
	}
	gdb_serve(d);
	if (d->killed) {
		machine_finish(m, EMU_EXIT_KIND_ERROR, "killed by gdb");
		d->need_restart = true;
	}
	if (!in_hook) {
		struct emu_inst *next = gdb_view_inst(d, m->cur);

		if (d->rip_written && in)
			wreg(in->uc, UC_X86_REG_RIP, d->new_rip);
		/* The instruction at RIP has not run: a step must run it first. */
		if (next) {
			d->id[next->idx].resume = true;
			d->id[next->idx].resume_rip = rreg(next->uc, UC_X86_REG_RIP);
		}
	} else {
		d->id[in->idx].cur_skip = true; /* later hooks of this instruction */
		if (d->need_restart) {
			in->stop.kind = STOP_DEBUG;
			uc_emu_stop(in->uc);
		}
	}
	d->stop_in = NULL;
	d->in_hook = false;
	gdb_set_running(d, true);
}

static void stop_here(struct emu_dbg *d, struct emu_inst *in, int sig, const char *extra)
{
	stop_at(d, in, true, sig, extra);
}

/* Every instruction of every instance while the stub is open (GDB may attach
 * at any time). */
static void dbg_code_hook(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct emu_inst *in = data;
	struct emu_dbg *d = in->m->dbg;
	struct emu_inst_dbg *s = &d->id[in->idx];
	char extra[48];

	(void)uc;
	(void)size;
	if (in->in_switch)
		return;
	s->cur_skip = s->resume && addr == s->resume_rip;
	s->resume = false;
	if (s->cur_skip || atomic_load(&d->detached))
		return;
	if (atomic_exchange(&d->interrupt, false)) {
		/* a GDB that just attached sees a plain stop (SIGTRAP), as with QEMU */
		stop_here(d, in, atomic_exchange(&d->attach_pending, false) ? SIG_TRAP : SIG_INT,
			  "");
	} else if (d->watch_pending) {
		d->watch_pending = false;
		snprintf(extra, sizeof(extra), "%swatch:%" PRIx64 ";",
			 d->watch_type == WP_WRITE ? "" : "r", d->watch_addr);
		stop_here(d, in, SIG_TRAP, extra);
	} else if (d->step) {
		stop_here(d, in, SIG_TRAP, "");
	}
}

/* ---- machine model hooks ------------------------------------------------------------ */

void dbg_inst_init(struct emu_inst *in)
{
	struct emu_dbg *d = in->m->dbg;
	unsigned i;

	if (!d->gdb)
		return;
	uc_hook_add(in->uc, &d->id[in->idx].code, UC_HOOK_CODE, (void *)dbg_code_hook, in, 1, 0);
	for (i = 0; i < MAX_BPS; i++)
		if (d->bps[i].used)
			bp_install(d, &d->bps[i], in);
}

bool dbg_resuming(struct emu_inst *in, uint64_t addr)
{
	struct emu_inst_dbg *s = &in->m->dbg->id[in->idx];

	return s->resume && s->resume_rip == addr;
}

void dbg_before_run(struct emu_inst *in)
{
	struct emu_dbg *d = in->m->dbg;
	struct emu_inst_dbg *s = &d->id[in->idx];

	if (s->flushed_gen != d->hook_gen) {
		uc_ctl_flush_tb(in->uc);
		s->flushed_gen = d->hook_gen;
	}
}

bool dbg_after_run(struct emu_inst *in)
{
	struct emu_dbg *d = in->m->dbg;
	struct emu_inst_dbg *s = &d->id[in->idx];

	if (in->stop.kind != STOP_DEBUG)
		return false;
	/* hook_code counted the instruction that the stop kept from running */
	if (in->m->cfg.count_insns && in->m->insns)
		in->m->insns--;
	if (d->rip_written) {
		wreg(in->uc, UC_X86_REG_RIP, d->new_rip);
		d->rip_written = false;
	}
	s->resume = true;
	s->resume_rip = rreg(in->uc, UC_X86_REG_RIP);
	return true;
}

void dbg_replay_stop(struct emu_machine *m, struct emu_inst *in, const struct trace_rec *r,
		     bool reached)
{
	struct emu_dbg *d = m->dbg;
	bool in_hook = r->type == TR_INSN && in;

	if (reached && d && d->gdb && !atomic_load(&d->detached)) {
		stop_at(d, in, in_hook, SIG_TRAP, "");
		return;
	}
	if (reached)
		gdb_print_state(m, in, r);
	fflush(stdout);
	machine_finish(m, reached ? EMU_EXIT_KIND_LIMIT : EMU_EXIT_KIND_ERROR,
		       reached ? "stopped by the replay after the requested record" :
				 "the replay diverged from the recorded run");
	if (in_hook) {
		in->stop.kind = STOP_DEBUG;
		uc_emu_stop(in->uc);
	}
}
