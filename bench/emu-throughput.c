/* SPDX-License-Identifier: MIT */
/*
 * emu-throughput - guest instructions per second of the SNP machine model
 * (backends/emu, full RMP enforcement) against the same guest code on bare
 * Unicorn 2.1 (CPU TLB, no RMP, no hooks), plus the time of a VMPL switch
 * round trip (VMPL3 asks for VMPL1 through the GHCB MSR protocol, VMPL1
 * returns).
 *
 * Workloads are flat binaries linked at 0x10000 (bench/workloads/NAME.S); their
 * parameters go to guest memory at 0x8000. Each is run RUNS times per mode,
 * the modes taking turns; figures are medians over the runs with min and max
 * (a ratio is taken run by run: bare time / enforced time of the same round).
 * Instruction counts are computed from the workloads' loop structure, not
 * measured (count_insns stays off).
 *
 * Known gaps (printed in the output): the syscall workload cannot run on
 * either side because Unicorn 2.1's SYSCALL only calls UC_HOOK_INSN hooks;
 * the pagewalk workload is left out of the mean while the model runs its
 * guests with paging off (detected by the probe workload).
 *
 * Usage: emu-throughput [-q|--quick] [--no-fail]   (bench/common.h)
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unicorn/unicorn.h>

#include "common.h"
#include "emu.h"
#include "machine.h"

#define MEM_SIZE (64ULL << 20)
#define LOAD_ADDR 0x10000ULL
#define PARAM_ADDR 0x8000ULL
#define RES_ADDR 0x9000ULL
#define BARE_PT 0x3000000ULL /* bare run page tables at 48 MiB */
#define RUNS 3

struct workload {
	const char *name;
	uint64_t p0, p1; /* parameters at 0x8000, 0x8008 */
	uint64_t insns;	 /* guest instructions executed */
	uint8_t *code;
	size_t len;
};

static uint8_t *load_file(const char *name, size_t *len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s.bin", BENCH_WORKLOAD_DIR, name);
	return bench_read_file("emu-throughput", path, len);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* ---- enforced run: the SNP machine model --------------------------------- */

static struct emu_machine *make_machine(FILE *console)
{
	struct emu_config cfg = {
		.mem_size = MEM_SIZE, .nr_vcpus = 1, .count_insns = false, .console = console
	};
	char err[200];
	struct emu_machine *m = emu_create(&cfg, err, sizeof(err));

	if (!m) {
		fprintf(stderr, "emu-throughput: emu_create: %s\n", err);
		exit(2);
	}
	if (emu_rmp_assign(m, 0, MEM_SIZE, true)) {
		fprintf(stderr, "emu-throughput: emu_rmp_assign failed\n");
		exit(2);
	}
	return m;
}

static char why_buf[256];

/* Time of one run in seconds, or -1 with why_buf set if it did not end in HLT. */
static double run_enforced(const struct workload *w, uint64_t res[3])
{
	struct emu_machine *m = make_machine(NULL);
	struct emu_start st = { .rip = LOAD_ADDR, .vmpl = 1, .cpl = 0 };
	struct emu_exit x;
	uint8_t *p = emu_gpa_ptr(m, 0, MEM_SIZE);
	double t0, t1;

	memset(p, 0, MEM_SIZE); /* fault the host pages in before timing */
	memcpy(p + LOAD_ADDR, w->code, w->len);
	put64(p + PARAM_ADDR, w->p0);
	put64(p + PARAM_ADDR + 8, w->p1);
	memset(&x, 0, sizeof(x));
	t0 = bench_now();
	if (emu_exec(m, &st, &x)) {
		fprintf(stderr, "emu-throughput: %s: emu_exec: %s\n", w->name, x.message);
		exit(1);
	}
	t1 = bench_now();
	if (res)
		memcpy(res, p + RES_ADDR, 3 * sizeof(uint64_t));
	emu_destroy(m);
	if (x.kind != EMU_EXIT_KIND_HLT) {
		snprintf(why_buf, sizeof(why_buf),
			 "enforced run ended with %s, vector %d at CPL%u rip %#llx%s%s",
			 emu_exit_kind_name(x.kind), x.vector, x.cpl, (unsigned long long)x.rip,
			 x.message[0] ? ": " : "", x.message);
		return -1;
	}
	return t1 - t0;
}

/* ---- bare run: plain Unicorn with its own identity map ------------------- */

static void ucchk(uc_err e, const char *what)
{
	if (e != UC_ERR_OK) {
		fprintf(stderr, "emu-throughput: %s: %s\n", what, uc_strerror(e));
		exit(2);
	}
}

static void bare_msr(uc_engine *uc, uint32_t rid, uint64_t v)
{
	uc_x86_msr msr = { .rid = rid, .value = v };

	ucchk(uc_reg_write(uc, UC_X86_REG_MSR, &msr), "write MSR");
}

/* Time of one run in seconds, or -1 with why_buf set if it did not end in HLT. */
static double run_bare(const struct workload *w)
{
	uint64_t f = PTE_P | PTE_W | PTE_U | PTE_A | PTE_D, pml4 = BARE_PT, pdpt = BARE_PT + 0x1000,
		 pd = BARE_PT + 0x2000, pt = BARE_PT + 0x3000, npt = MEM_SIZE >> 21, i;
	uint64_t *tab = calloc(3 + npt, 0x1000);
	uint64_t v, rip;
	uc_engine *uc;
	uint8_t op = 0;
	double t0, t1;
	uc_err e;

	ucchk(uc_open(UC_ARCH_X86, UC_MODE_64, &uc), "uc_open");
	/* The CPU model the SNP model uses (backends/emu/machine/vmsa.c), so the ratio
	 * measures RMP enforcement, not the difference between two CPU models. */
	ucchk(uc_ctl_set_cpu_model(uc, UC_CPU_X86_EPYC), "uc_ctl_set_cpu_model");
	ucchk(uc_mem_map(uc, 0, MEM_SIZE, UC_PROT_ALL), "uc_mem_map");
	{ /* fault the host pages in before timing, like the enforced run */
		uint8_t *zero = calloc(1, MEM_SIZE);

		ucchk(uc_mem_write(uc, 0, zero, MEM_SIZE), "clear memory");
		free(zero);
	}
	/* Tables: PML4[0] -> PDPT[0] -> PD[0..npt) -> 512 4 KiB PTEs each. */
	tab[0] = pdpt | f;
	tab[512] = pd | f;
	for (i = 0; i < npt; i++)
		tab[1024 + i] = (pt + i * 0x1000) | f;
	for (i = 0; i < (MEM_SIZE >> 12); i++)
		tab[1536 + i] = (i << 12) | f;
	ucchk(uc_mem_write(uc, pml4, tab, (3 + npt) * 0x1000), "write page tables");
	free(tab);
	ucchk(uc_mem_write(uc, LOAD_ADDR, w->code, w->len), "write code");
	ucchk(uc_mem_write(uc, PARAM_ADDR, &w->p0, 8), "write params");
	ucchk(uc_mem_write(uc, PARAM_ADDR + 8, &w->p1, 8), "write params");
	v = pml4;
	ucchk(uc_reg_write(uc, UC_X86_REG_CR3, &v), "CR3");
	v = 0x620; /* PAE, OSFXSR, OSXMMEXCPT */
	ucchk(uc_reg_write(uc, UC_X86_REG_CR4, &v), "CR4");
	bare_msr(uc, MSR_EFER, EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE);
	v = 0x80010033ULL;
	ucchk(uc_reg_write(uc, UC_X86_REG_CR0, &v), "CR0");
	v = 2;
	ucchk(uc_reg_write(uc, UC_X86_REG_RFLAGS, &v), "RFLAGS");
	v = 0x00F00000; /* unused: the workloads keep off the stack */
	ucchk(uc_reg_write(uc, UC_X86_REG_RSP, &v), "RSP");
	t0 = bench_now();
	e = uc_emu_start(uc, LOAD_ADDR, 0, 0, 0);
	t1 = bench_now();
	uc_reg_read(uc, UC_X86_REG_RIP, &rip);
	uc_mem_read(uc, rip - 1, &op, 1);
	uc_close(uc);
	if (e != UC_ERR_OK || op != 0xF4) {
		snprintf(why_buf, sizeof(why_buf), "bare run stopped at rip %#llx: %s",
			 (unsigned long long)rip, uc_strerror(e));
		return -1;
	}
	return t1 - t0;
}

/* ---- VMPL switch round trip ---------------------------------------------- */

#define MAX_MARKS 1024
static double marks[MAX_MARKS];
static unsigned nmarks;

static void mark_hook(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	(void)uc;
	(void)addr;
	(void)size;
	(void)data;
	if (nmarks < MAX_MARKS)
		marks[nmarks++] = bench_now();
}

static void seg(uint8_t *vmsa, unsigned off, uint16_t sel, uint16_t attr, uint32_t limit,
		uint64_t base)
{
	memcpy(vmsa + off, &sel, 2);
	memcpy(vmsa + off + 2, &attr, 2);
	memcpy(vmsa + off + 4, &limit, 4);
	put64(vmsa + off + 8, base);
}

/* A CPL0 64-bit VMSA in the exec environment (what emu_exec builds for vCPU 0). */
static void fill_vmsa(uint8_t *vmsa, unsigned vmpl, uint64_t rip, uint64_t rsp)
{
	uint64_t priv = MEM_SIZE; /* EMU_PRIV_BASE(mem_size) */

	memset(vmsa, 0, 0x1000);
	seg(vmsa, VMSA_CS, 0x08, 0x29B, 0xFFFFFFFF, 0);
	seg(vmsa, VMSA_SS, 0x10, 0xC93, 0xFFFFFFFF, 0);
	seg(vmsa, VMSA_DS, 0x10, 0xC93, 0xFFFFFFFF, 0);
	seg(vmsa, VMSA_ES, 0x10, 0xC93, 0xFFFFFFFF, 0);
	seg(vmsa, VMSA_TR, 0x28, 0x8B, 0x67, priv + PRIV_GDT + 0x100);
	seg(vmsa, VMSA_GDTR, 0, 0, 0x37, priv + PRIV_GDT);
	vmsa[VMSA_CPL] = 0;
	vmsa[VMSA_VMPL] = vmpl;
	put64(vmsa + VMSA_EFER, EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME);
	put64(vmsa + VMSA_CR0, 0x80010033ULL);
	put64(vmsa + VMSA_CR4, 0x620);
	put64(vmsa + VMSA_CR3, priv + PRIV_PT); /* root of the exec page tables */
	put64(vmsa + VMSA_RFLAGS, 2);
	put64(vmsa + VMSA_RIP, rip);
	put64(vmsa + VMSA_RSP, rsp);
	put64(vmsa + VMSA_PAT, 0x0007040600070406ULL);
	put64(vmsa + VMSA_DR6, 0xFFFF0FF0ULL);
	put64(vmsa + VMSA_DR7, 0x400);
	put64(vmsa + VMSA_SEV_FEATURES, 1);
	memcpy(vmsa + VMSA_MXCSR, &(uint32_t){ 0x1F80 }, 4);
}

static uint64_t vmpl_sym(const char *name)
{
	char path[512], line[256], sym[128];
	unsigned long long addr;
	char type;
	FILE *f;

	snprintf(path, sizeof(path), "%s/vmpl.sym", BENCH_WORKLOAD_DIR);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %127s", &addr, &type, sym) == 3 && !strcmp(sym, name)) {
			fclose(f);
			return addr;
		}
	fclose(f);
	return 0;
}

/*
 * Returns the median per-round-trip time in seconds (median over batches of
 * batch time / round trips), or < 0 with *why set. Each batch interval also
 * holds one VMPL0 -> VMPL3 -> VMPL0 round trip (1/per_batch of the total).
 *
 * The VMPL1/VMPL3 VMSAs are registered from the hypervisor side (what AP
 * creation with CREATE_ON_INIT records) because the guest cannot reach a
 * shared GHCB page in this model version: exec-mode vCPUs run with CR0 = 0x11
 * and CR3 = 0 (paging off), so the C=0 alias is never used and every access
 * is a C=1 access (see the probe line of the output).
 */
static double vmpl_roundtrip(unsigned batches, unsigned per_batch, double *mean,
			     struct bench_spread *sp, const char **why)
{
	static char msg[256];
	struct emu_machine *m;
	struct emu_start st = { .rip = LOAD_ADDR, .vmpl = 0, .cpl = 0 };
	struct emu_exit x;
	uint64_t e1 = vmpl_sym("vmpl1_entry"), e3 = vmpl_sym("vmpl3_entry"),
		 mk = vmpl_sym("marker"), r[4];
	double d[MAX_MARKS];
	size_t len;
	uint8_t *code = load_file("vmpl", &len), *p;
	struct emu_inst *in0;
	uc_hook h;
	unsigned i;

	if (!e1 || !e3 || !mk || batches + 2 > MAX_MARKS) {
		free(code);
		*why = "setup failed (vmpl.sym)";
		return -1;
	}
	m = make_machine(NULL);
	p = emu_gpa_ptr(m, 0, MEM_SIZE);
	memcpy(p + LOAD_ADDR, code, len);
	free(code);
	put64(p + PARAM_ADDR, batches + 1); /* the first batch warms up, not counted */
	put64(p + PARAM_ADDR + 8, per_batch);
	fill_vmsa(p + 0x201000, 1, e1, 0x300000);
	fill_vmsa(p + 0x202000, 3, e3, 0x301000);
	m->vcpus[0].vmsa_gpa[1] = 0x201000;
	m->vcpus[0].vmsa_gpa[3] = 0x202000;
	in0 = inst_get(m, &m->vcpus[0], 0);
	if (!in0 || uc_hook_add(in0->uc, &h, UC_HOOK_CODE, (void *)mark_hook, NULL, mk, mk)) {
		emu_destroy(m);
		*why = "cannot hook the VMPL0 marker";
		return -1;
	}
	nmarks = 0;
	memset(&x, 0, sizeof(x));
	if (emu_exec(m, &st, &x) || x.kind != EMU_EXIT_KIND_HLT || nmarks != batches + 2) {
		memcpy(r, p + RES_ADDR, sizeof(r));
		snprintf(msg, sizeof(msg),
			 "run ended with %s at VMPL%u rip %#llx vector %d exitinfo %#llx/%#llx "
			 "after %u of %u markers, RMPADJUST %llu/%llu %.60s",
			 emu_exit_kind_name(x.kind), x.vmpl, (unsigned long long)x.rip, x.vector,
			 (unsigned long long)x.exitinfo1, (unsigned long long)x.exitinfo2, nmarks,
			 batches + 2, (unsigned long long)r[2], (unsigned long long)r[3],
			 x.message);
		*why = msg;
		emu_destroy(m);
		return -1;
	}
	emu_destroy(m);
	for (i = 0; i < batches; i++)
		d[i] = (marks[i + 2] - marks[i + 1]) / per_batch;
	*mean = (marks[batches + 1] - marks[1]) / ((double)batches * per_batch);
	*sp = bench_spread_of(d, batches);
	return sp->median;
}

/* ---- main ----------------------------------------------------------------- */

#define TARGET_RATIO 0.90 /* enforced throughput at least 90% of bare Unicorn's */

/* The fixed cost of one run and the model's control registers (probe.S). */
static bool probe_run(void)
{
	struct workload pr = { "probe", 0, 0, 7, NULL, 0 };
	uint64_t probe[3] = { 0 };
	double te = 1e30, tb = 1e30, t;
	bool paging;
	unsigned r;

	pr.code = load_file("probe", &pr.len);
	for (r = 0; r < RUNS; r++) {
		t = run_enforced(&pr, probe);
		te = t >= 0 && t < te ? t : te;
		t = run_bare(&pr);
		tb = t >= 0 && t < tb ? t : tb;
	}
	free(pr.code);
	paging = (probe[0] >> 31) & 1;
	printf("fixed cost of one run (7-instruction probe, included in every figure): "
	       "enforced %.2f ms (emu_exec: exec page tables, VMSA load), bare %.2f ms\n",
	       te * 1e3, tb * 1e3);
	printf("enforced guest control registers: CR0 %#llx CR3 %#llx CR4 %#llx%s\n\n",
	       (unsigned long long)probe[0], (unsigned long long)probe[1],
	       (unsigned long long)probe[2],
	       paging ? "" :
			"  <- WARNING: paging is off in the model, guest page walks "
			"do not happen; pagewalk is left out of the mean");
	return paging;
}

/* Runs of one workload, modes in turn; false with why_buf set if a mode cannot run it. */
static bool measure(struct workload *w, double te[RUNS], double tb[RUNS], bool *bare_ok)
{
	unsigned r;

	*bare_ok = true;
	for (r = 0; r < RUNS; r++) {
		te[r] = run_enforced(w, NULL);
		if (te[r] < 0)
			return false;
		if (*bare_ok && (tb[r] = run_bare(w)) < 0)
			*bare_ok = false; /* the model runs it; bare Unicorn cannot */
	}
	return true;
}

static void no_bare(const struct workload *w, struct bench_spread e)
{
	printf("%-10s %12llu %14.1f %14s %8s   (no bare baseline: %s)\n", w->name,
	       (unsigned long long)w->insns, e.median, "-", "-",
	       strcmp(w->name, "syscall") ? why_buf :
					    "Unicorn 2.1's SYSCALL only calls hooks, so bare "
					    "Unicorn cannot run this loop; the model performs "
					    "SYSCALL itself");
}

int main(int argc, char **argv)
{
	struct bench b;
	uint64_t k;
	struct workload w[] = {
		/* name, p0, p1, insns: see the loop structure in workloads/<name>.S */
		{ "alu", 60000000, 0, 0, NULL, 0 },    { "load", 25000000, 0, 0, NULL, 0 },
		{ "store", 25000000, 0, 0, NULL, 0 },  { "pagewalk", 200, 8192, 0, NULL, 0 },
		{ "syscall", 5000000, 0, 0, NULL, 0 },
	};
	unsigned n = sizeof(w) / sizeof(w[0]), i, r, nratios = 0;
	bool paging, bare_ok, in_mean[sizeof(w) / sizeof(w[0])];
	double te[sizeof(w) / sizeof(w[0])][RUNS], tb[sizeof(w) / sizeof(w[0])][RUNS], mean,
		geo[RUNS];
	struct bench_spread geos, vs;
	const char *why = NULL;
	char name[64];

	bench_init(
		&b, "emu-throughput",
		"Guest instructions per second of the SNP machine model (full RMP enforcement)\n"
		"against the same guest code on bare Unicorn 2.1, and the time of a VMPL switch\n"
		"round trip.",
		argc, argv);
	k = b.quick ? 10 : 1;
	for (i = 0; i < n; i++)
		w[i].p0 /= k;
	w[0].insns = 4 + 8 * w[0].p0; /* 3 setup + hlt */
	w[1].insns = 5 + 8 * w[1].p0; /* 4 setup + hlt */
	w[2].insns = 5 + 8 * w[2].p0;
	w[3].insns = 3 + w[3].p0 * (6 + 4 * w[3].p1); /* 2 setup + hlt */
	w[4].insns = 18 + 6 * w[4].p0;		      /* 13 setup, 5 to halt */
	printf("emu-throughput: 64 MiB guest memory, %d runs per mode (medians, min-max), "
	       "enforced = backends/emu at VMPL1 CPL0 with every page validated, bare = Unicorn "
	       "2.1 (CPU TLB, no hooks)\n\n",
	       RUNS);
	paging = probe_run();
	printf("%-10s %12s %14s %14s %8s  %s\n", "workload", "insns", "enforced Mi/s", "bare Mi/s",
	       "ratio", "ratio min-max");
	for (r = 0; r < RUNS; r++)
		geo[r] = 0;
	for (i = 0; i < n; i++) {
		double rate[RUNS], ratio[RUNS];
		struct bench_spread e, bare, rs;

		in_mean[i] = false;
		w[i].code = load_file(w[i].name, &w[i].len);
		if (!measure(&w[i], te[i], tb[i], &bare_ok)) {
			free(w[i].code);
			printf("%-10s %12llu   not measured (%s)\n", w[i].name,
			       (unsigned long long)w[i].insns, why_buf);
			continue;
		}
		free(w[i].code);
		for (r = 0; r < RUNS; r++)
			rate[r] = w[i].insns / te[i][r] / 1e6;
		e = bench_spread_of(rate, RUNS);
		snprintf(name, sizeof(name), "enforced_%s", w[i].name);
		if (!bare_ok) {
			no_bare(&w[i], e);
			bench_result(&b, name, "Minsn/s", e);
			continue;
		}
		for (r = 0; r < RUNS; r++) {
			ratio[r] = tb[i][r] / te[i][r];
			rate[r] = w[i].insns / tb[i][r] / 1e6;
		}
		bare = bench_spread_of(rate, RUNS);
		in_mean[i] = paging || strcmp(w[i].name, "pagewalk");
		if (in_mean[i]) {
			for (r = 0; r < RUNS; r++)
				geo[r] += log(ratio[r]);
			nratios++;
		}
		rs = bench_spread_of(ratio, RUNS);
		printf("%-10s %12llu %14.1f %14.1f %8.3f  %.3f-%.3f%s\n", w[i].name,
		       (unsigned long long)w[i].insns, e.median, bare.median, rs.median, rs.min,
		       rs.max, in_mean[i] ? "" : "  (not comparable: no guest paging)");
		bench_result(&b, name, "Minsn/s", e);
		snprintf(name, sizeof(name), "bare_%s", w[i].name);
		bench_result(&b, name, "Minsn/s", bare);
		snprintf(name, sizeof(name), "ratio_%s", w[i].name);
		bench_ratio(&b, name, rs, "bare time / enforced time of the same round",
			    "the model ran this round faster than bare Unicorn (machine noise, or "
			    "the bare run's own page tables and TLB misses cost more)");
		fflush(stdout);
	}
	for (r = 0; r < RUNS; r++)
		geo[r] = nratios ? exp(geo[r] / nratios) : 0;
	geos = bench_spread_of(geo, RUNS);
	printf("\ngeometric mean of ratios (enforced/bare) over %u of %u workloads: %.3f "
	       "(min %.3f, max %.3f)   target: >= %.2f\n",
	       nratios, n, geos.median, geos.min, geos.max, TARGET_RATIO);
	if (nratios)
		bench_ratio(
			&b, "geomean_ratio", geos,
			"geometric mean over the workloads of bare time / enforced time",
			"the model ran faster than bare Unicorn on average (see the workloads)");

	if (vmpl_roundtrip(b.quick ? 11 : 51, b.quick ? 100 : 400, &mean, &vs, &why) < 0) {
		printf("vmpl switch: not measured (%s)\n", why);
		return 1;
	}
	vs.min *= 1e6;
	vs.median *= 1e6;
	vs.max *= 1e6;
	printf("vmpl switch round trip (VMPL3 -> VMPL1 -> VMPL3, GHCB MSR protocol): "
	       "median %.2f us (min %.2f, max %.2f over %u batches), mean %.2f us\n",
	       vs.median, vs.min, vs.max, vs.runs, mean * 1e6);
	bench_result(&b, "vmpl_roundtrip", "us", vs);
	if (nratios)
		bench_target(&b, "geomean_ratio", geos.median, "ratio", BENCH_AT_LEAST,
			     TARGET_RATIO);
	return bench_exit(&b);
}
