/* SPDX-License-Identifier: MIT */
/*
 * vmsa_lazy.c - a deferred VMSA save for the monitor's VMPL0 instance.
 *
 * On a VMPL switch the hardware writes the outgoing state into its VMSA page
 * (APM vol 2, 15.36.7 "VMPL switching": a VMGEXIT exits to the hypervisor,
 * which runs the other VMSA). Reading that state back out of Unicorn is the
 * largest single cost of a switch, and most of it is wasted for VMPL0: no
 * one looks at VMPL0's VMSA before VMPL0 runs again. Its page may only be
 * read by VMPL0 code (of any vCPU), by VMPLs the RMP grants access to, or by
 * the model itself (tracer, debugger, hypervisor events). So when none of
 * these can look, the save is deferred: the instance keeps its state in its
 * CPU, its page keeps what it held (a copy is remembered), and the page is
 * brought up to date the moment anything might read it:
 *
 *  - another vCPU is about to run, a tracer or debugger is attached, or the
 *    run ends (emu_run_loop, machine_sync_lazy);
 *  - the model touches the page (vmsa_ptr and ev_ap_create go through
 *    inst_sync);
 *  - the instance is loaded from a page someone wrote in the meantime: the
 *    bytes they changed are merged over the CPU's state, as a save followed
 *    by their write would have left the page.
 *
 * A lower VMPL with RMP read or write access to the page prevents the
 * deferral (the RMP is checked at the switch; only VMPL0 can grant such
 * access, and it is not running while the save is deferred). The guest sees
 * exactly what an eager save would have shown it.
 */
#include <string.h>

#include "machine.h"

static uint8_t *lazy_page(struct emu_inst *in)
{
	uint64_t gpa = in->vcpu->vmsa_gpa[in->vmpl];

	return gpa ? m_ptr(in->m, gpa, 0x1000) : NULL;
}

/*
 * Whether the save of `in` (switching out, its VMSA page `page`) can wait.
 * Only VMPL0 qualifies: every lower VMPL's VMSA is readable by VMPL0 (the
 * monitor reads the caller's registers from it), with no trap on the read.
 */
bool inst_defer_save(struct emu_inst *in, uint8_t *page, uint64_t exit_code)
{
	struct emu_machine *m = in->m;
	uint64_t gpa = in->vcpu->vmsa_gpa[in->vmpl];

	if (in->vmpl != 0 || m->native0 || m->trace || m->dbg || !in->loaded || !page)
		return false;
	if (gpa < m->mem_size)
		for (unsigned q = 1; q < EMU_NR_VMPLS; q++)
			if (m->rmp[gpa >> 12].perms[q] & (RMP_PERM_R | RMP_PERM_W))
				return false;
	st64(page + VMSA_EXIT_CODE, exit_code);
	memcpy(in->lazy_snap, page, sizeof(in->lazy_snap));
	in->lazy = true;
	m->lazy_mask |= 1ULL << in->vcpu->id;
	return true;
}

/* Bring a deferred instance's VMSA page up to date: the CPU's state, then
 * the bytes someone wrote to the page since the deferral. */
void inst_sync(struct emu_inst *in)
{
	uint8_t *page = lazy_page(in), cur[0x1000];

	if (!in->lazy)
		return;
	in->lazy = false;
	in->m->lazy_mask &= ~(1ULL << in->vcpu->id);
	if (!page)
		return;
	memcpy(cur, page, sizeof(cur));
	inst_save(in, cur);
	for (size_t i = 0; i < sizeof(in->lazy_snap); i++)
		if (page[i] != in->lazy_snap[i])
			cur[i] = page[i];
	memcpy(page, cur, sizeof(in->lazy_snap));
}

/*
 * inst_load of a deferred instance: 0 if its CPU already holds the state
 * (loaded from its own, untouched page), 1 if the load must go on (the page
 * is synchronised first).
 */
int inst_load_lazy(struct emu_inst *in, const uint8_t *vmsa)
{
	if (vmsa == lazy_page(in) && !memcmp(vmsa, in->lazy_snap, sizeof(in->lazy_snap))) {
		in->lazy = false;
		in->m->lazy_mask &= ~(1ULL << in->vcpu->id);
		return 0;
	}
	inst_sync(in);
	return 1;
}

/* Synchronise every deferred save except those of vCPUs in `keep` (a mask). */
void machine_sync_lazy(struct emu_machine *m, uint64_t keep)
{
	uint64_t todo = m->lazy_mask & ~keep;

	for (unsigned i = 0; todo && i < EMU_MAX_VCPUS; i++, todo >>= 1)
		if ((todo & 1) && m->vcpus[i].inst[0])
			inst_sync(m->vcpus[i].inst[0]);
}
