/* SPDX-License-Identifier: MIT */
/*
 * machine.c - the SNP machine's construction and teardown: guest memory and
 * its RMP, the private region (stub page, MSR and I/O permission maps), vCPUs
 * with one VMSA per VMPL. Memory and RMP access are memory.c, the instances
 * and their VMSA loads vmsa.c, their hooks hooks.c, the run loop run.c.
 *
 * Every (vCPU, VMPL) has its own Unicorn CPU (struct emu_inst), all sharing guest
 * memory. The CPU is kept in QEMU's SVM guest mode (it entered through VMRUN
 * from a private stub), so CPUID, IN/OUT, MSR accesses, HLT, PAUSE and VMMCALL
 * arrive as SVM intercepts: exactly the events SNP turns into #VC or
 * automatic exits. Loading a VMSA with new segment or control state also goes
 * through VMRUN/VMLOAD, which loads hidden segment state and CPL as hardware
 * does.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "amdsp.h"
#include "machine.h"

#define MiB (1ULL << 20)

/* The bytes a C=0 read of a private page returns: fixed pseudo-random data
 * (xorshift64), standing in for ciphertext; the same in every run. */
static void cipher_init(struct emu_machine *m)
{
	uint64_t x = 0x9E3779B97F4A7C15ULL,
		 *p = (uint64_t *)m_ptr(m, m->priv_base + PRIV_CIPHER, 0x1000);

	for (unsigned i = 0; i < 512; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
}

void machine_finish(struct emu_machine *m, enum emu_exit_kind kind, const char *msg)
{
	bool first = !m->done;

	m->done = true;
	m->exit.kind = kind;
	if (msg)
		snprintf(m->exit.message, sizeof(m->exit.message), "%s", msg);
	if (TRACE_ON(m) && first)
		trace_end(m);
}

/* ---- creation ------------------------------------------------------- */

/* Clear the read (bit 0) and/or write (bit 1) intercept of one MSR. */
static void msrpm_pass(uint8_t *pm, uint32_t msr, unsigned rw)
{
	uint32_t base = 0;

	if (msr >= 0xC0000000U) {
		base = 0x800;
		msr -= 0xC0000000U;
	}
	pm[base + msr / 4] &= ~(rw << ((msr % 4) * 2));
}

/*
 * MSRs whose state lives in the VMSA pass through. The syscall MSRs pass
 * reads only: writes are rare and intercepted, so a VMSA save need not read
 * them back unless the guest wrote one.
 */
static void msrpm_init(struct emu_machine *m)
{
	uint8_t *pm = m_ptr(m, m->priv_base + PRIV_MSRPM, 0x2000);
	static const uint32_t both[] = { MSR_FS_BASE, MSR_GS_BASE, MSR_TSC_AUX, 0x174,
					 0x175,	      0x176,	   0x277 };
	static const uint32_t read[] = { MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK, MSR_KGSBASE };
	unsigned i;

	memset(pm, 0xFF, 0x2000);
	for (i = 0; i < sizeof(both) / sizeof(both[0]); i++)
		msrpm_pass(pm, both[i], 3);
	for (i = 0; i < sizeof(read) / sizeof(read[0]); i++)
		msrpm_pass(pm, read[i], 1);
	memset(m_ptr(m, m->priv_base + PRIV_IOPM, 0x3000), 0xFF, 0x3000);
}

struct emu_machine *emu_create(const struct emu_config *cfg, char *err, size_t errlen)
{
	struct emu_machine *m;
	uint64_t pt_pages;
	unsigned i;

	if (cfg->mem_size < 2 * MiB || cfg->mem_size % (2 * MiB) || cfg->mem_size > (64ULL << 30)) {
		snprintf(err, errlen,
			 "memory size must be a multiple of 2 MiB between 2 MiB and 64 GiB");
		return NULL;
	}
	if (cfg->nr_vcpus < 1 || cfg->nr_vcpus > EMU_MAX_VCPUS) {
		snprintf(err, errlen, "vCPU count must be 1..%d", EMU_MAX_VCPUS);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->cfg = *cfg;
	m->mem_size = cfg->mem_size;
	m->priv_base = cfg->mem_size;
	/* Page tables: two 4 KiB-page maps (private and shared alias) + slack. */
	pt_pages = 2 * (cfg->mem_size / (2 * MiB) + cfg->mem_size / (1ULL << 30) + 8) + 64;
	m->priv_size = ((PRIV_PT + pt_pages * 0x1000) + 2 * MiB - 1) & ~(2 * MiB - 1);
	m->mem = mmap(NULL, m->mem_size + m->priv_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	m->rmp = calloc(m->mem_size >> 12, sizeof(*m->rmp));
	if (m->mem == MAP_FAILED || !m->rmp || smc_init(m)) {
		if (m->mem != MAP_FAILED)
			munmap(m->mem, m->mem_size + m->priv_size);
		free(m->rmp);
		smc_free(m);
		free(m);
		snprintf(err, errlen, "cannot allocate %llu MiB of guest memory",
			 (unsigned long long)(cfg->mem_size / MiB));
		return NULL;
	}
	/* Launch state: every page assigned to the guest, not validated,
	 * VMPL0 full and VMPL1-3 none (RMPUPDATE semantics). */
	for (i = 0; i < m->mem_size >> 12; i++) {
		m->rmp[i].assigned = 1;
		m->rmp[i].perms[0] = RMP_PERM_ALL;
	}
	for (i = 0; i < cfg->nr_vcpus; i++) {
		m->vcpus[i].id = i;
		apic_reset(&m->vcpus[i].apic);
	}
	stub_init(m);
	cipher_init(m);
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &m->cs) != CS_ERR_OK ||
	    cs_open(CS_ARCH_X86, CS_MODE_64, &m->csd) != CS_ERR_OK ||
	    cs_option(m->csd, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK) {
		emu_destroy(m);
		snprintf(err, errlen, "cannot start Capstone");
		return NULL;
	}
	msrpm_init(m);
	m->exit.vector = -1;
	return m;
}

void emu_destroy(struct emu_machine *m)
{
	unsigned i, j;
	char err[8];

	if (!m)
		return;
	emu_dbg_close(m, 1); /* no-ops unless a trace or a debugger is attached */
	emu_trace_close(m, err, sizeof(err));
	for (i = 0; i < EMU_MAX_VCPUS; i++)
		for (j = 0; j < EMU_NR_VMPLS; j++)
			inst_free(m->vcpus[i].inst[j]);
	if (m->cs)
		cs_close(&m->cs);
	if (m->csd)
		cs_close(&m->csd);
	amdsp_destroy(m->sp); /* made by the launch (backend.c make_secrets), any mode */
	munmap(m->mem, m->mem_size + m->priv_size);
	free(m->rmp);
	smc_free(m);
	free(m);
}

int emu_parse_perms(const char *s)
{
	int p = 0;

	if (!strcmp(s, "-"))
		return 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		const char *c = strchr("rwus", *s);

		if (!c || !*s)
			return -1;
		p |= 1 << (c - "rwus");
	}
	return p;
}

const char *emu_exit_kind_name(enum emu_exit_kind k)
{
	static const char *const names[] = { "hlt",	  "terminate", "npf",
					     "exception", "limit",     "error" };

	return k <= EMU_EXIT_KIND_ERROR ? names[k] : "error";
}
