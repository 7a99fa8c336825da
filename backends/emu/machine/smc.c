/* SPDX-License-Identifier: MIT */
/*
 * smc.c - code the guest rewrote while a translation of it was cached.
 *
 * Unicorn's QEMU notices most guest stores into translated code, but not
 * all: Linux's boot-time alternatives rewrite static_cpu_has() sites in
 * functions that already ran (apply_retpolines, text_poke_early itself), and
 * the old translations, which jump into .altinstr_aux, stayed in the cache;
 * once Linux freed its init memory, the first module load ran one of them
 * and faulted in freed memory. The architecture asks software to serialize
 * after modifying code (APM vol 2, 7.6.1 "Cross-Modifying Code"), and Linux
 * does: sync_core() is an IRET to the next instruction (IRET is serializing)
 * when the CPU lacks SERIALIZE, as the model's does. Such an IRETQ marks the
 * vCPU's translations stale; they are all dropped before the CPU runs again
 * after its next stop (run.c). Not at the IRET itself: Linux's boot patches
 * some 130,000 sites in bursts, one sync_core() each, and a flush per IRET
 * made the boot take minutes. Until the next stop (an interrupt, a #VC, a
 * halt) the old translation may still run: as if the patch reached this
 * CPU a little later, which text_poke_bp()'s protocol (old code, INT3 or new
 * code) already allows. Other IRETQs (interrupt and exception returns) cost
 * one compare.
 */
#include <capstone/capstone.h>
#include <string.h>

#include "machine.h"

bool smc_is_serializing(unsigned id)
{
	return id == X86_INS_IRETQ;
}

void smc_hook_iret(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct emu_inst *in = data;
	uint64_t rsp = rreg(uc, UC_X86_REG_RSP), ret = 0;
	struct emu_stop st;

	if (in->in_switch || in->smc_stale)
		return;
	memset(&st, 0, sizeof(st));
	if (!guest_copy(in, rsp, &ret, sizeof(ret), false, &st) && ret == addr + size)
		in->smc_stale = true;
}

void smc_before_run(struct emu_inst *in)
{
	if (in->smc_stale) {
		uc_ctl_flush_tb(in->uc);
		in->smc_stale = false;
	}
}
