/* SPDX-License-Identifier: MIT */
/*
 * exec.c - `exec` mode: run a raw image at a chosen VMPL and CPL on the
 * model's own identity map, page tables and segments (emu_exec, emu.h).
 */
#include <string.h>

#include "emu_run.h"
#include "machine.h"

/* ---- exec mode -------------------------------------------------------- */

static uint64_t pt_alloc(struct emu_machine *m)
{
	uint64_t pa = m->pt_next;

	m->pt_next += 0x1000;
	memset(m_ptr(m, pa, 0x1000), 0, 0x1000);
	return pa;
}

static void pt_map(struct emu_machine *m, uint64_t pml4, uint64_t va, uint64_t pa, uint64_t flags)
{
	uint64_t table = pml4;
	int level;

	for (level = 4; level > 1; level--) {
		uint64_t slot = table + ((va >> (12 + 9 * (level - 1))) & 0x1FF) * 8;
		uint64_t e = m_rd64(m, slot);

		if (!(e & PTE_P)) {
			e = pt_alloc(m) | PTE_P | PTE_W | PTE_U | PTE_A;
			m_wr64(m, slot, e);
		}
		table = e & PTE_ADDR;
	}
	m_wr64(m, table + ((va >> 12) & 0x1FF) * 8, pa | flags);
}

static void exec_tables(struct emu_machine *m, uint64_t *cr3)
{
	uint64_t pml4, pa, f = PTE_P | PTE_W | PTE_U | PTE_A | PTE_D;
	uint8_t *gdt = m_ptr(m, m->priv_base + PRIV_GDT, 0x1000);
	uint64_t tss = m->priv_base + PRIV_GDT + 0x100;
	static const uint64_t descs[] = { 0, 0x00AF9B000000FFFFULL, 0x00CF93000000FFFFULL,
					  0x00CFF3000000FFFFULL, 0x00AFFB000000FFFFULL };

	m->pt_next = m->priv_base + PRIV_PT;
	pml4 = pt_alloc(m);
	for (pa = 0; pa < m->mem_size; pa += 0x1000) {
		pt_map(m, pml4, pa, pa, f | PTE_C);
		pt_map(m, pml4, EMU_SHARED_ALIAS + pa, pa, f);
	}
	for (pa = 0; pa < PRIV_STACK_SIZE; pa += 0x1000)
		pt_map(m, pml4, m->priv_base + PRIV_STACK + pa, m->priv_base + PRIV_STACK + pa, f);
	pt_map(m, pml4, m->priv_base + PRIV_GDT, m->priv_base + PRIV_GDT, f & ~PTE_U);
	memset(gdt, 0, 0x1000);
	memcpy(gdt, descs, sizeof(descs));
	/* 64-bit TSS descriptor at 0x28; RSP0 = middle of the stack. */
	st64(gdt + 0x28,
	     0x67 | ((tss & 0xFFFFFF) << 16) | (0x89ULL << 40) | (((tss >> 24) & 0xFF) << 56));
	st64(gdt + 0x30, tss >> 32);
	st64(gdt + 0x100 + 4, m->priv_base + PRIV_STACK + PRIV_STACK_SIZE / 2);
	/* I/O bitmap base past the limit: no port is open to CPL3 (APM vol 2, 13.3). */
	memcpy(gdt + 0x100 + 0x66, &(uint16_t){ 0x68 }, 2);
	*cr3 = pml4;
}

static void seg(uint8_t *vmsa, unsigned off, uint16_t sel, uint16_t attr, uint32_t limit,
		uint64_t base)
{
	memcpy(vmsa + off, &sel, 2);
	memcpy(vmsa + off + 2, &attr, 2);
	memcpy(vmsa + off + 4, &limit, 4);
	st64(vmsa + off + 8, base);
}

uint64_t emu_exec_stack_top(const struct emu_machine *m)
{
	return m->priv_base + PRIV_STACK + PRIV_STACK_SIZE;
}

int emu_exec(struct emu_machine *m, const struct emu_start *st, struct emu_exit *out)
{
	struct emu_vcpu *v = &m->vcpus[0];
	uint64_t cr3, vmsa_pa = m->priv_base + PRIV_VMSA_BOOT;
	uint8_t *vmsa = m_ptr(m, vmsa_pa, 0x1000);
	unsigned d = st->cpl == 3 ? 3 : 0;
	struct emu_inst *in;

	memset(&m->exit, 0, sizeof(m->exit));
	m->exit.vector = -1;
	if (st->vmpl > 3 || (st->cpl != 0 && st->cpl != 3)) {
		snprintf(out->message, sizeof(out->message), "bad VMPL or CPL");
		return -1;
	}
	m->exec_mode = true;
	exec_tables(m, &cr3);
	memset(vmsa, 0, 0x1000);
	seg(vmsa, VMSA_CS, d ? 0x23 : 0x08, 0x29B | d << 5, 0xFFFFFFFF, 0);
	seg(vmsa, VMSA_SS, d ? 0x1B : 0x10, 0xC93 | d << 5, 0xFFFFFFFF, 0);
	seg(vmsa, VMSA_DS, d ? 0x1B : 0x10, 0xC93 | d << 5, 0xFFFFFFFF, 0);
	seg(vmsa, VMSA_ES, d ? 0x1B : 0x10, 0xC93 | d << 5, 0xFFFFFFFF, 0);
	seg(vmsa, VMSA_TR, 0x28, 0x8B, 0x67, m->priv_base + PRIV_GDT + 0x100);
	seg(vmsa, VMSA_GDTR, 0, 0, 0x37, m->priv_base + PRIV_GDT);
	vmsa[VMSA_CPL] = d;
	vmsa[VMSA_VMPL] = st->vmpl;
	st64(vmsa + VMSA_EFER, EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME);
	st64(vmsa + VMSA_CR0, 0x80010033ULL);
	st64(vmsa + VMSA_CR4, 0x620);
	st64(vmsa + VMSA_CR3, cr3);
	st64(vmsa + VMSA_RFLAGS, 2);
	st64(vmsa + VMSA_RIP, st->rip);
	st64(vmsa + VMSA_RSP, emu_exec_stack_top(m));
	st64(vmsa + VMSA_PAT, 0x0007040600070406ULL);
	st64(vmsa + VMSA_DR6, 0xFFFF0FF0ULL);
	st64(vmsa + VMSA_DR7, 0x400);
	st64(vmsa + VMSA_SEV_FEATURES, 1);
	memcpy(vmsa + VMSA_MXCSR, &(uint32_t){ 0x1F80 }, 4);
	v->vmsa_gpa[st->vmpl] = vmsa_pa;
	v->vmpl = st->vmpl;
	v->state = VCPU_RUNNABLE;
	m->cur = 0;
	m->done = false;
	in = inst_get(m, v, st->vmpl);
	if (!in || inst_load(in, vmsa)) {
		snprintf(out->message, sizeof(out->message), "cannot start vCPU 0: %.120s",
			 m->exit.message);
		return -1;
	}
	emu_run_loop(m);
	*out = m->exit;
	return 0;
}
