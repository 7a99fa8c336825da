/* SPDX-License-Identifier: MIT */
/*
 * memory.c - the machine's physical memory and RMP as the model and the
 * loaders reach them: bounds-checked pointers, VMSA pages, PSMASH, and the
 * loader's RMP assignment (emu.h).
 */
#include <string.h>

#include "machine.h"

uint8_t *m_ptr(struct emu_machine *m, uint64_t pa, uint64_t len)
{
	uint64_t total = m->mem_size + m->priv_size;

	if (pa > total || len > total - pa)
		return NULL;
	return m->mem + pa;
}

bool m_is_guest(const struct emu_machine *m, uint64_t pa, uint64_t len)
{
	return pa <= m->mem_size && len <= m->mem_size - pa;
}

uint64_t m_rd64(struct emu_machine *m, uint64_t pa)
{
	uint8_t *p = m_ptr(m, pa, 8);

	return p ? ld64(p) : ~0ULL;
}

void m_wr64(struct emu_machine *m, uint64_t pa, uint64_t v)
{
	uint8_t *p = m_ptr(m, pa, 8);

	if (p)
		st64(p, v);
}

uint8_t *vmsa_ptr(struct emu_machine *m, struct emu_vcpu *v, unsigned vmpl)
{
	if (v->inst[vmpl] && v->inst[vmpl]->lazy) /* the model looks: the save is due */
		inst_sync(v->inst[vmpl]);
	return v->vmsa_gpa[vmpl] ? m_ptr(m, v->vmsa_gpa[vmpl], 0x1000) : NULL;
}

void machine_rmp_changed(struct emu_machine *m)
{
	/* Conservative model: every vCPU's TLB is flushed (FIDELITY.md). */
	m->rmp_gen++;
}

/*
 * PSMASH (APM vol 3, PSMASH): split the 2 MiB RMP entry covering `gfn` into
 * 512 4 KiB entries that keep its state. The model stores a 2 MiB entry as 512
 * identical entries with page_size set, so only the size changes. Returns
 * false if the entry is not 2 MiB.
 */
bool rmp_psmash(struct emu_machine *m, uint64_t gfn)
{
	uint64_t base = gfn & ~511ULL, i;

	if ((base << 12) >= m->mem_size || !m->rmp[base].page_size)
		return false;
	for (i = 0; i < 512; i++)
		m->rmp[base + i].page_size = 0;
	machine_rmp_changed(m);
	return true;
}

void *emu_gpa_ptr(struct emu_machine *m, uint64_t gpa, uint64_t len)
{
	return m_is_guest(m, gpa, len) ? m->mem + gpa : NULL;
}

void *emu_phys_ptr(struct emu_machine *m, uint64_t pa, uint64_t len)
{
	return m_ptr(m, pa, len);
}

uint64_t emu_mem_size(const struct emu_machine *m)
{
	return m->mem_size;
}

uint64_t emu_vmsa_gpa(const struct emu_machine *m, unsigned vcpu, unsigned vmpl)
{
	return vcpu < EMU_MAX_VCPUS && vmpl < EMU_NR_VMPLS ? m->vcpus[vcpu].vmsa_gpa[vmpl] : 0;
}

static int range_pages(const struct emu_machine *m, uint64_t gpa, uint64_t len, uint64_t *first,
		       uint64_t *n)
{
	if ((gpa | len) & 0xFFF || !len || !m_is_guest(m, gpa, len))
		return -1;
	*first = gpa >> 12;
	*n = len >> 12;
	return 0;
}

/* A 4 KiB-granular change to pages [p, p+n) that covers only part of a 2 MiB
 * entry splits that entry first, as a hypervisor PSMASHes before RMPUPDATE
 * (no 2 MiB entry may hold pages in different states). */
static void rmp_split_ends(struct emu_machine *m, uint64_t p, uint64_t n)
{
	for (uint64_t i = p; i < p + n; i++)
		if (m->rmp[i].page_size && ((i & 511) || i + 512 > p + n))
			rmp_psmash(m, i);
}

int emu_rmp_assign(struct emu_machine *m, uint64_t gpa, uint64_t len, bool validated)
{
	uint64_t p, n, i;
	unsigned v;

	if (range_pages(m, gpa, len, &p, &n))
		return -1;
	rmp_split_ends(m, p, n);
	struct emu_rmp_entry before = m->rmp[p];

	for (i = p; i < p + n; i++) {
		memset(&m->rmp[i], 0, sizeof(m->rmp[i]));
		m->rmp[i].assigned = 1;
		m->rmp[i].validated = validated;
		for (v = 0; v < EMU_NR_VMPLS; v++)
			m->rmp[i].perms[v] = validated || v == 0 ? RMP_PERM_ALL : 0;
	}
	machine_rmp_changed(m);
	if (TRACE_ON(m))
		trace_rmp(m, TRACE_RMP_LOADER_ASSIGN, gpa, n, TRACE_RMPF_FLAGS | 0xF0, &before);
	return 0;
}

int emu_rmp_set_perms(struct emu_machine *m, uint64_t gpa, uint64_t len, unsigned vmpl,
		      uint8_t perms)
{
	uint64_t p, n, i;

	if (vmpl < 1 || vmpl > 3 || perms & ~0x1F || range_pages(m, gpa, len, &p, &n))
		return -1;
	rmp_split_ends(m, p, n);
	struct emu_rmp_entry before = m->rmp[p];

	for (i = p; i < p + n; i++)
		m->rmp[i].perms[vmpl] = perms;
	machine_rmp_changed(m);
	if (TRACE_ON(m))
		trace_rmp(m, TRACE_RMP_LOADER_PERMS, gpa, n, TRACE_RMPF_PERM(vmpl), &before);
	return 0;
}

int emu_rmp_get(const struct emu_machine *m, uint64_t gpa, struct emu_rmp_entry *out)
{
	if (gpa >= m->mem_size)
		return -1;
	*out = m->rmp[gpa >> 12];
	return 0;
}
