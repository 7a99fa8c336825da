/* SPDX-License-Identifier: MIT */
/*
 * smc.c - coherent self- and cross-modifying code across the model's Unicorn
 * instances (one per vCPU and VMPL, all mapping the same host memory).
 *
 * x86 keeps code coherent with stores (APM vol. 2 §7.6.1 "Self-Modifying
 * Code", Intel SDM vol. 3 §8.1.3): a CPU notices stores to code it runs, and
 * code another CPU wrote runs once the executing CPU serializes. QEMU's own
 * detection (the TLB's not-dirty path) sees the stores of the instance that
 * translated the code, through any virtual alias, but each instance has its
 * own translation cache: a store by another instance, or by the model from the
 * host, leaves those translations stale.
 *
 * The machine records per guest page which instances fetched from it (code)
 * and which may hold a writable TLB entry for it (wr), bit (idx mod 64). Only
 * fetch fills install execute permission (so every page an instance
 * translates is recorded), fetch fills install no write permission, and read
 * fills none on another instance's code: every store that may reach such code
 * passes through a write fill. A write fill queues the page for the instances whose
 * code it is; a fetch fill makes the writers refill. Queued work runs before
 * the instance next runs (smc_before_run): the instances take turns, so the
 * write is complete and the new code runs at once, before anything hardware
 * would require (a serializing instruction on the executing CPU).
 */
#include <stdlib.h>

#include "machine.h"

int smc_init(struct emu_machine *m)
{
	m->smc_code = calloc(m->mem_size >> 12, sizeof(*m->smc_code));
	m->smc_wr = calloc(m->mem_size >> 12, sizeof(*m->smc_wr));
	return m->smc_code && m->smc_wr ? 0 : -1;
}

void smc_free(struct emu_machine *m)
{
	free(m->smc_code);
	free(m->smc_wr);
}

static void queue_page(struct emu_inst *t, uint64_t gfn)
{
	for (unsigned i = 0; i < t->smc_nr; i++)
		if (t->smc_page[i] == gfn)
			return;
	if (t->smc_nr < SMC_QUEUE)
		t->smc_page[t->smc_nr++] = gfn;
	else
		t->smc_all = true; /* too many: drop every translation */
}

/* Every instance but `self` whose bit (idx mod 64) is in `mask`: a code page
 * is queued for it (gfn), or, with gfn = ~0, its TLB is dropped. */
static void for_bits(struct emu_machine *m, uint64_t mask, const struct emu_inst *self,
		     uint64_t gfn)
{
	for (unsigned b = 0; mask; b++, mask >>= 1) {
		if (!(mask & 1))
			continue;
		for (unsigned idx = b; idx < m->cfg.nr_vcpus * EMU_NR_VMPLS; idx += 64) {
			struct emu_inst *t = m->vcpus[idx / EMU_NR_VMPLS].inst[idx % EMU_NR_VMPLS];

			if (!t || t == self)
				continue;
			if (gfn == ~0ULL)
				t->smc_tlb = true;
			else
				queue_page(t, gfn);
		}
	}
}

/* A fetch fill: the page is this instance's code; it gets no write permission,
 * and instances that may store to it without a fill are made to refill. */
static void fetch_fill(struct emu_machine *m, uint64_t gfn, uint64_t bit, const struct emu_inst *in,
		       uc_prot *perms)
{
	uint64_t others = m->smc_wr[gfn] & ~bit;

	m->smc_code[gfn] |= bit;
	*perms = (uc_prot)(*perms & ~UC_PROT_WRITE);
	if (others) {
		for_bits(m, others, in, ~0ULL);
		m->smc_wr[gfn] &= bit;
	}
}

void smc_fill(struct emu_inst *in, uint64_t pa, uc_mem_type type, uc_prot *perms)
{
	struct emu_machine *m = in->m;
	uint64_t gfn = pa >> 12, bit = 1ULL << (in->idx & 63), others;

	if (pa >= m->mem_size)
		return;
	if (type == UC_MEM_FETCH) {
		fetch_fill(m, gfn, bit, in, perms);
		return;
	}
	/* Code is fetched through fetch fills only, so each one is seen. */
	*perms = (uc_prot)(*perms & ~UC_PROT_EXEC);
	if (!(*perms & UC_PROT_WRITE))
		return;
	others = m->smc_code[gfn] & ~bit;
	if (others && type != UC_MEM_WRITE) {
		/* a read: a store to another's code comes back as a write fill */
		*perms = (uc_prot)(*perms & ~UC_PROT_WRITE);
		return;
	}
	m->smc_wr[gfn] |= bit;
	if (others) {
		for_bits(m, m->smc_code[gfn], in, gfn);
		m->smc_code[gfn] &= bit; /* refetching sets them again */
	}
}

void emu_code_written(struct emu_machine *m, uint64_t pa, uint64_t len)
{
	if (!len || pa >= m->mem_size)
		return;
	if (len > m->mem_size - pa)
		len = m->mem_size - pa;
	for (uint64_t g = pa >> 12; g <= (pa + len - 1) >> 12; g++) {
		if (m->smc_code[g]) {
			for_bits(m, m->smc_code[g], NULL, g);
			m->smc_code[g] = 0;
		}
	}
}

void smc_before_run(struct emu_inst *in)
{
	if (!in->smc_nr && !in->smc_all && !in->smc_tlb)
		return;
	if (in->smc_all) {
		uc_ctl_flush_tb(in->uc);
	} else {
		/* Unicorn removes translations by virtual address through the
		 * instance's TLB: uc_tlb_hook maps the page to itself meanwhile. */
		in->smc_probe = true;
		for (unsigned i = 0; i < in->smc_nr; i++)
			uc_ctl_remove_cache(in->uc, in->smc_page[i] << 12,
					    (in->smc_page[i] << 12) + 0x1000);
		in->smc_probe = false;
	}
	/* The probe's entries go, and refetching this code refills (smc_fill). */
	uc_ctl_flush_tlb(in->uc);
	in->smc_nr = 0;
	in->smc_all = in->smc_tlb = false;
}
