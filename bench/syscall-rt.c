/* SPDX-License-Identifier: MIT */
/*
 * syscall-rt - the time of one SYSCALL/SYSRET round trip from CPL3 in the SNP
 * machine model (backends/emu, full RMP enforcement), beside the cheapest
 * CPL3 -> CPL0 -> CPL3 round trip bare Unicorn 2.1 runs itself, measured in
 * the same run.
 *
 * Model: bench/workloads/syscall.S at VMPL1 (the user loop SYSCALLs, the
 * handler SYSRETQs). Bare Unicorn cannot run that loop (its SYSCALL only calls
 * hooks), so its baseline is bench/workloads/callgate.S: the same loop shape
 * through a 64-bit call gate and a far return, which QEMU performs natively.
 * The fixed cost of a run (setup, first translation) is removed by timing
 * two loop counts and dividing the difference by the difference in round
 * trips; figures are medians over RUNS rounds with min and max.
 *
 * A third line times an exception round trip in the model (bench/workloads/
 * fault.S: a user UD2, the #UD handler at CPL0 steps over it and IRETQs),
 * which bare Unicorn cannot run at all (it never delivers through the IDT).
 *
 * Usage: syscall-rt [-q|--quick] [--no-fail]   (bench/common.h)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicorn/unicorn.h>

#include "common.h"
#include "emu.h"
#include "machine.h"

#define MEM_SIZE (16ULL << 20)
#define LOAD_ADDR 0x10000ULL
#define PARAM_ADDR 0x8000ULL
#define RUNS 5
#define TARGET_US 1.0 /* issue 15: a SYSCALL round trip under 1 us */

static uint8_t *load_file(const char *name, size_t *len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s.bin", BENCH_WORKLOAD_DIR, name);
	return bench_read_file("syscall-rt", path, len);
}

/* Seconds for `loops` round trips in the model (VMPL1, every page validated). */
static double run_model(const uint8_t *code, size_t len, uint64_t loops)
{
	struct emu_config cfg = { .mem_size = MEM_SIZE, .nr_vcpus = 1 };
	struct emu_start st = { .rip = LOAD_ADDR, .vmpl = 1, .cpl = 0 };
	struct emu_exit x;
	char err[200];
	struct emu_machine *m = emu_create(&cfg, err, sizeof(err));
	uint8_t *p;
	double t0, t1;

	if (!m || emu_rmp_assign(m, 0, MEM_SIZE, true)) {
		fprintf(stderr, "syscall-rt: cannot create the machine: %s\n", m ? "RMP" : err);
		exit(2);
	}
	p = emu_gpa_ptr(m, 0, MEM_SIZE);
	memset(p, 0, MEM_SIZE);
	memcpy(p + LOAD_ADDR, code, len);
	memcpy(p + PARAM_ADDR, &loops, 8);
	memset(&x, 0, sizeof(x));
	t0 = bench_now();
	if (emu_exec(m, &st, &x)) {
		fprintf(stderr, "syscall-rt: emu_exec: %s\n", x.message);
		exit(1);
	}
	t1 = bench_now();
	emu_destroy(m);
	if (x.kind != EMU_EXIT_KIND_HLT || x.cpl != 0) {
		fprintf(stderr,
			"syscall-rt: the model's run ended with %s at CPL%u rip %#llx: %s\n",
			emu_exit_kind_name(x.kind), x.cpl, (unsigned long long)x.rip, x.message);
		exit(1);
	}
	return t1 - t0;
}

static void ucchk(uc_err e, const char *what)
{
	if (e != UC_ERR_OK) {
		fprintf(stderr, "syscall-rt: %s: %s\n", what, uc_strerror(e));
		exit(2);
	}
}

/* Seconds for `loops` call-gate round trips on bare Unicorn (its own identity
 * map, CPU TLB, no hooks; the CPU model the SNP model uses). */
static double run_bare(const uint8_t *code, size_t len, uint64_t loops)
{
	const uint64_t f = PTE_P | PTE_W | PTE_U | PTE_A | PTE_D, pt = 0xC00000,
		       npt = MEM_SIZE >> 21;
	uint64_t *tab = calloc(3 + npt, 0x1000), v, rip, i;
	uc_x86_msr efer = { .rid = MSR_EFER, .value = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE };
	uint8_t op = 0;
	uc_engine *uc;
	double t0, t1;
	uc_err e;

	ucchk(uc_open(UC_ARCH_X86, UC_MODE_64, &uc), "uc_open");
	ucchk(uc_ctl_set_cpu_model(uc, UC_CPU_X86_EPYC), "uc_ctl_set_cpu_model");
	ucchk(uc_mem_map(uc, 0, MEM_SIZE, UC_PROT_ALL), "uc_mem_map");
	/* PML4[0] -> PDPT[0] -> PD[0..npt) -> 4 KiB pages, all user-accessible. */
	tab[0] = (pt + 0x1000) | f;
	tab[512] = (pt + 0x2000) | f;
	for (i = 0; i < npt; i++)
		tab[1024 + i] = (pt + 0x3000 + i * 0x1000) | f;
	for (i = 0; i < (MEM_SIZE >> 12); i++)
		tab[1536 + i] = (i << 12) | f;
	ucchk(uc_mem_write(uc, pt, tab, (3 + npt) * 0x1000), "write page tables");
	free(tab);
	ucchk(uc_mem_write(uc, LOAD_ADDR, code, len), "write code");
	ucchk(uc_mem_write(uc, PARAM_ADDR, &loops, 8), "write loop count");
	v = pt;
	ucchk(uc_reg_write(uc, UC_X86_REG_CR3, &v), "CR3");
	v = 0x620; /* PAE, OSFXSR, OSXMMEXCPT */
	ucchk(uc_reg_write(uc, UC_X86_REG_CR4, &v), "CR4");
	ucchk(uc_reg_write(uc, UC_X86_REG_MSR, &efer), "EFER");
	v = 0x80010033ULL;
	ucchk(uc_reg_write(uc, UC_X86_REG_CR0, &v), "CR0");
	v = 0xF0000;
	ucchk(uc_reg_write(uc, UC_X86_REG_RSP, &v), "RSP");
	t0 = bench_now();
	e = uc_emu_start(uc, LOAD_ADDR, 0, 0, 0);
	t1 = bench_now();
	uc_reg_read(uc, UC_X86_REG_RIP, &rip);
	uc_mem_read(uc, rip - 1, &op, 1);
	uc_close(uc);
	if (e != UC_ERR_OK || op != 0xF4) {
		fprintf(stderr, "syscall-rt: the bare run stopped at rip %#llx: %s\n",
			(unsigned long long)rip, uc_strerror(e));
		exit(1);
	}
	return t1 - t0;
}

typedef double (*runner)(const uint8_t *code, size_t len, uint64_t loops);

/* Microseconds per round trip of one round: the fixed cost cancels out. */
static double per_trip(runner run, const uint8_t *code, size_t len, uint64_t n)
{
	double t_small = run(code, len, n / 10), t_big = run(code, len, n);

	return (t_big - t_small) / (double)(n - n / 10) * 1e6;
}

int main(int argc, char **argv)
{
	struct bench b;
	size_t slen, clen;
	size_t flen;
	uint8_t *sys, *gate, *fault;
	double model[RUNS], bare[RUNS], ratio[RUNS], exc[RUNS];
	struct bench_spread sm, sb, sr, se;
	uint64_t n;
	unsigned r;

	bench_init(&b, "syscall-rt",
		   "The time of one SYSCALL/SYSRET round trip from CPL3 in the SNP machine model,\n"
		   "beside bare Unicorn's cheapest CPL3 -> CPL0 -> CPL3 round trip (a call gate).",
		   argc, argv);
	n = b.quick ? 100000 : 1000000;
	sys = load_file("syscall", &slen);
	gate = load_file("callgate", &clen);
	fault = load_file("fault", &flen);
	for (r = 0; r < RUNS; r++) { /* modes in turn */
		model[r] = per_trip(run_model, sys, slen, n);
		bare[r] = per_trip(run_bare, gate, clen, n);
		ratio[r] = model[r] / bare[r];
		exc[r] = per_trip(run_model, fault, flen, n / 10);
	}
	free(sys);
	free(gate);
	free(fault);
	se = bench_spread_of(exc, RUNS);
	sm = bench_spread_of(model, RUNS);
	sb = bench_spread_of(bare, RUNS);
	sr = bench_spread_of(ratio, RUNS);
	printf("syscall-rt: %llu round trips per run, %d runs per mode (medians, min-max)\n",
	       (unsigned long long)n, RUNS);
	printf("model SYSCALL/SYSRETQ round trip (VMPL1, CPL3 -> CPL0 -> CPL3): %.3f us "
	       "(%.3f-%.3f)\n",
	       sm.median, sm.min, sm.max);
	printf("bare Unicorn call gate + far return round trip:                 %.3f us "
	       "(%.3f-%.3f)\n",
	       sb.median, sb.min, sb.max);
	printf("model #UD round trip (CPL3 -> IDT gate -> CPL0 handler -> IRETQ):  %.3f us "
	       "(%.3f-%.3f)\n",
	       se.median, se.min, se.max);
	bench_result(&b, "model_syscall_roundtrip", "us", sm);
	bench_result(&b, "model_exception_roundtrip", "us", se);
	bench_result(&b, "bare_callgate_roundtrip", "us", sb);
	bench_ratio(&b, "ratio_model_bare", sr,
		    "model SYSCALL round trip / bare Unicorn call-gate round trip",
		    "the model's round trip costs more than bare Unicorn's cheapest one");
	bench_target(&b, "model_syscall_roundtrip", sm.median, "us", BENCH_BELOW, TARGET_US);
	return bench_exit(&b);
}
