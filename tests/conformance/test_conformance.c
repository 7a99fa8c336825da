/* SPDX-License-Identifier: MIT */
/*
 * test_conformance.c - architecture conformance tests for the SEV-SNP machine
 * model (backends/emu), derived from shared/reference/snp-architecture.md
 * (cited as "ref N") and, for the points the reference marks [UNSURE], from the
 * model choices in backends/emu/FIDELITY.md (cited as "FIDELITY").
 *
 * Each test loads one guest snippet (snippets/NAME.S, assembled and linked at
 * CODE_GPA at build time), sets RMP state, runs it with emu_exec and checks
 * the exact exit, registers, EXITINFO bits, RMP state and memory.
 *
 * Guest physical layout used by the tests (16 MiB machine):
 *   0x10000  snippet code          0x20000  parameter page (PARAM)
 *   0x21000  result page (RES)     0x22000  GHCB template
 *   0x23000  VMSA copy page        0x30000  GHCB
 *   0x40000  guest page tables     0x51000  VMSA (not 2M aligned)
 *   0x60000  stack of a new VMSA   0x100000 data pages
 *   0x200000 a 2 MiB-aligned region
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"

#ifndef SNIPPET_DIR
#error "SNIPPET_DIR must name the directory with the assembled snippets"
#endif

#define MiB (1ULL << 20)
#define MEM_SIZE (16 * MiB)

#define CODE_GPA 0x10000ULL
#define PARAM_GPA 0x20000ULL
#define RES_GPA 0x21000ULL
#define TMPL_GPA 0x22000ULL
#define COPY_GPA 0x23000ULL
#define GHCB_GPA 0x30000ULL
#define PT_GPA 0x40000ULL
#define VMSA_GPA 0x51000ULL
#define STACK1_GPA 0x60000ULL
#define DATA_GPA 0x100000ULL
#define DATA2_GPA 0x101000ULL
#define BIG_GPA 0x200000ULL

/* The shared (C=0) alias of guest memory in the exec identity map (FIDELITY,
 * backends/emu: guest memory is mapped twice, private at GVA = GPA and shared
 * at this base + GPA). */
#define SHARED_ALIAS 0xFFFF800000000000ULL

/* Parameter block offsets: keep in sync with snippets/snp.inc. */
enum {
	P_RAX = 0x00,
	P_RCX = 0x08,
	P_RDX = 0x10,
	P_ADDR = 0x18,
	P_VAL = 0x20,
	P_CR3 = 0x28,
	P_GHCB = 0x30,
	P_ALIAS = 0x38,
	P_FLAGS = 0x40,
	P_N = 0x48,
	P_VMSA = 0x50,
	P_TVMPL = 0x58,
	P_APIC = 0x60,
	P_REQ = 0x68,
	P_SEVF = 0x70,
	P_EI2ADJ = 0x78,
	P_RMPADJ = 0x80,
	P_STACK1 = 0x88,
	P_VFIELD = 0x90,
	P_MSRS = 0x100,
};

#define R RMP_PERM_R
#define W RMP_PERM_W
#define XU RMP_PERM_XU
#define XS RMP_PERM_XS
#define ALL RMP_PERM_ALL

/* EXITINFO1 of a VMPL violation on the final translation of a private page (ref 4.2). */
#define NPF_VMPL_FINAL (EMU_NPF_P | EMU_NPF_RMP | EMU_NPF_FINAL | EMU_NPF_ENC | EMU_NPF_VMPL)

/* ---- harness ------------------------------------------------------------ */

struct sym {
	char name[48];
	uint64_t addr;
};

static struct emu_machine *M;
static uint64_t g_alias; /* P_ALIAS for the next run */
static bool g_ap_mark;	 /* ap snippet: set the VMSA bit with RMPADJUST before the event */
static uint8_t g_vfield; /* ap snippet: XORed into the new VMSA's VMPL field */
static struct {
	char name[48];
	size_t len;
	struct sym syms[256];
	unsigned nsyms;
} S;
static char err_buf[160];

static struct emu_machine *make_machine(unsigned nr_vcpus, bool count, uint64_t max_insns)
{
	struct emu_config cfg = {
		.mem_size = MEM_SIZE,
		.nr_vcpus = nr_vcpus,
		.count_insns = count,
		.max_insns = max_insns,
	};
	struct emu_machine *m = emu_create(&cfg, err_buf, sizeof(err_buf));

	ck_assert_msg(m != NULL, "emu_create failed: %s", err_buf);
	return m;
}

static void validate(uint64_t gpa, uint64_t len)
{
	ck_assert_int_eq(emu_rmp_assign(M, gpa, len, true), 0);
}

/* A fresh machine; parameter, result, template and copy pages validated. */
static void use_machine(unsigned nr_vcpus, bool count, uint64_t max_insns)
{
	if (M)
		emu_destroy(M);
	M = make_machine(nr_vcpus, count, max_insns);
	validate(PARAM_GPA, 0x4000);
}

static void setup(void)
{
	M = NULL;
	g_alias = SHARED_ALIAS;
	g_ap_mark = true;
	g_vfield = 0;
	use_machine(1, false, 0);
}

static void teardown(void)
{
	emu_destroy(M);
	M = NULL;
}

static uint64_t rd64(uint64_t gpa)
{
	uint64_t v;
	void *p = emu_gpa_ptr(M, gpa, 8);

	ck_assert_msg(p != NULL, "GPA %#" PRIx64 " outside guest memory", gpa);
	memcpy(&v, p, 8);
	return v;
}

static void wr64(uint64_t gpa, uint64_t v)
{
	void *p = emu_gpa_ptr(M, gpa, 8);

	ck_assert_msg(p != NULL, "GPA %#" PRIx64 " outside guest memory", gpa);
	memcpy(p, &v, 8);
}

static void wr8(uint64_t gpa, uint8_t v)
{
	uint8_t *p = emu_gpa_ptr(M, gpa, 1);

	ck_assert(p != NULL);
	*p = v;
}

static void param(unsigned off, uint64_t v)
{
	wr64(PARAM_GPA + off, v);
}
static uint64_t res(unsigned off)
{
	return rd64(RES_GPA + off);
}

static struct emu_rmp_entry rmp(uint64_t gpa)
{
	struct emu_rmp_entry e;

	ck_assert_int_eq(emu_rmp_get(M, gpa, &e), 0);
	return e;
}

static void set_perms(uint64_t gpa, uint64_t len, unsigned vmpl, uint8_t perms)
{
	ck_assert_int_eq(emu_rmp_set_perms(M, gpa, len, vmpl, perms), 0);
}

/* Load snippets/NAME.bin at CODE_GPA (validated) and its symbols from NAME.sym (nm). */
static void load(const char *name)
{
	char path[512], line[256];
	FILE *f;
	uint8_t *buf;
	long n;

	memset(&S, 0, sizeof(S));
	snprintf(S.name, sizeof(S.name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s.bin", SNIPPET_DIR, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert(fseek(f, 0, SEEK_END) == 0);
	n = ftell(f);
	ck_assert_msg(n > 0 && n < 0x10000, "%s: bad size %ld", path, n);
	rewind(f);
	buf = emu_gpa_ptr(M, CODE_GPA, (uint64_t)n);
	ck_assert(buf != NULL);
	ck_assert(fread(buf, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	S.len = (size_t)n;
	validate(CODE_GPA, ((uint64_t)n + 0xFFF) & ~0xFFFULL);

	snprintf(path, sizeof(path), "%s/%s.sym", SNIPPET_DIR, name);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	while (fgets(line, sizeof(line), f) && S.nsyms < 256) {
		unsigned long long a;
		char type, sname[48];

		if (sscanf(line, "%llx %c %47s", &a, &type, sname) == 3 &&
		    (type == 'T' || type == 't')) {
			snprintf(S.syms[S.nsyms].name, sizeof(S.syms[0].name), "%s", sname);
			S.syms[S.nsyms++].addr = a;
		}
	}
	fclose(f);
}

static uint64_t sym(const char *name)
{
	for (unsigned i = 0; i < S.nsyms; i++)
		if (!strcmp(S.syms[i].name, name))
			return S.syms[i].addr;
	ck_abort_msg("snippet %s has no symbol %s", S.name, name);
	return 0;
}

static const char *desc(const struct emu_exit *e)
{
	static char b[512];

	snprintf(b, sizeof(b),
		 "[exit %s vcpu %u vmpl %u cpl %u rip %#" PRIx64 " rax %#" PRIx64
		 " vector %d ec %#" PRIx64 " ei1 %#" PRIx64 " ei2 %#" PRIx64
		 " reason %u/%u msg '%s']",
		 emu_exit_kind_name(e->kind), e->vcpu, e->vmpl, e->cpl, e->rip, e->rax, e->vector,
		 e->error_code, e->exitinfo1, e->exitinfo2, e->reason_set, e->reason_code,
		 e->message);
	return b;
}

static void run(unsigned vmpl, unsigned cpl, struct emu_exit *e)
{
	struct emu_start st = { .rip = sym("_start"), .vmpl = vmpl, .cpl = cpl };
	int rc;

	param(P_ALIAS, g_alias);
	memset(e, 0, sizeof(*e));
	rc = emu_exec(M, &st, e);
	ck_assert_msg(rc == 0, "emu_exec failed (%d): %s", rc, e->message);
}

#define EQ(a, b)                                                                              \
	do {                                                                                  \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                              \
		ck_assert_msg(a_ == b_, "%s = %#" PRIx64 ", expected %#" PRIx64, #a, a_, b_); \
	} while (0)

#define EXPECT_KIND(e, k) \
	ck_assert_msg((e)->kind == (k), "expected exit %s, got %s", emu_exit_kind_name(k), desc(e))

/* The run reached `done` (a HLT): at CPL0 it halts after it, at CPL3 HLT raises #GP(0). */
static void expect_done(const struct emu_exit *e, unsigned cpl)
{
	if (cpl == 0) {
		EXPECT_KIND(e, EMU_EXIT_KIND_HLT);
		ck_assert_msg(e->rip == sym("done") + 1, "expected HLT at done, got %s", desc(e));
	} else {
		EXPECT_KIND(e, EMU_EXIT_KIND_EXCEPTION);
		ck_assert_msg(e->vector == EMU_VEC_GP && e->rip == sym("done"),
			      "expected #GP from HLT at done, got %s", desc(e));
	}
}

static void expect_npf(const struct emu_exit *e, uint64_t rip, uint64_t ei1, uint64_t ei2)
{
	EXPECT_KIND(e, EMU_EXIT_KIND_NPF);
	ck_assert_msg(e->rip == rip, "NPF rip %#" PRIx64 ", expected %#" PRIx64 " %s", e->rip, rip,
		      desc(e));
	ck_assert_msg(e->exitinfo1 == ei1, "EXITINFO1 %#" PRIx64 ", expected %#" PRIx64 " %s",
		      e->exitinfo1, ei1, desc(e));
	ck_assert_msg(e->exitinfo2 == ei2, "EXITINFO2 %#" PRIx64 ", expected %#" PRIx64 " %s",
		      e->exitinfo2, ei2, desc(e));
}

static void expect_exception(const struct emu_exit *e, int vector, uint64_t rip, bool has_ec,
			     uint64_t ec)
{
	EXPECT_KIND(e, EMU_EXIT_KIND_EXCEPTION);
	ck_assert_msg(e->vector == vector && e->rip == rip,
		      "expected vector %d at %#" PRIx64 ", got %s", vector, rip, desc(e));
	ck_assert_msg(e->has_error_code == has_ec, "error code presence: expected %d, got %s",
		      has_ec, desc(e));
	if (has_ec)
		ck_assert_msg(e->error_code == ec, "error code: expected %#" PRIx64 ", got %s", ec,
			      desc(e));
}

static void expect_vc(const struct emu_exit *e, uint64_t code, uint64_t rip)
{
	expect_exception(e, EMU_VEC_VC, rip, true, code);
}

static void expect_rmp(uint64_t gpa, uint8_t assigned, uint8_t validated, uint8_t vmsa, uint8_t p1,
		       uint8_t p2, uint8_t p3)
{
	struct emu_rmp_entry e = rmp(gpa);

	ck_assert_msg(e.assigned == assigned && e.validated == validated && e.vmsa == vmsa,
		      "RMP %#" PRIx64 ": assigned %u validated %u vmsa %u, expected %u %u %u", gpa,
		      e.assigned, e.validated, e.vmsa, assigned, validated, vmsa);
	if (!assigned) /* a hypervisor-owned page has no meaningful VMPL masks */
		return;
	ck_assert_msg(e.perms[0] == ALL && e.perms[1] == p1 && e.perms[2] == p2 && e.perms[3] == p3,
		      "RMP %#" PRIx64 ": perms %#x %#x %#x %#x, expected %#x %#x %#x %#x", gpa,
		      e.perms[0], e.perms[1], e.perms[2], e.perms[3], ALL, p1, p2, p3);
}

/* ---- RMPADJUST (ref 2) ---------------------------------------------------- */

static void rmpadjust(unsigned vmpl, unsigned cpl, uint64_t rax, uint64_t rcx, uint64_t rdx,
		      struct emu_exit *e)
{
	load("rmpadjust");
	param(P_RAX, rax);
	param(P_RCX, rcx);
	param(P_RDX, rdx);
	run(vmpl, cpl, e);
}

#define ADJ(target, perms, vmsa) \
	((uint64_t)(target) | (uint64_t)(perms) << 8 | (uint64_t)(vmsa) << 16)

START_TEST(rmpadjust_vmpl0_grants_vmpl1)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	rmpadjust(0, 0, DATA_GPA, 0, ADJ(1, R | W, 0), &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_SUCCESS);
	expect_rmp(DATA_GPA, 1, 1, 0, R | W, ALL, ALL);
}
END_TEST

START_TEST(rmpadjust_vmpl1_grants_vmpl2)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	set_perms(DATA_GPA, 0x1000, 2, 0);
	rmpadjust(1, 0, DATA_GPA, 0, ADJ(2, R | XU, 0), &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_SUCCESS);
	expect_rmp(DATA_GPA, 1, 1, 0, ALL, R | XU, ALL);
}
END_TEST

START_TEST(rmpadjust_vmpl1_grants_exactly_what_it_holds)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	set_perms(DATA_GPA, 0x1000, 1, R | W);
	set_perms(DATA_GPA, 0x1000, 3, 0);
	rmpadjust(1, 0, DATA_GPA, 0, ADJ(3, R | W, 0), &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_SUCCESS);
	expect_rmp(DATA_GPA, 1, 1, 0, R | W, ALL, R | W);
}
END_TEST

/* Granting nothing is a subset of anything, even of an empty mask. */
START_TEST(rmpadjust_vmpl1_revokes_with_empty_mask)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	set_perms(DATA_GPA, 0x1000, 1, 0);
	rmpadjust(1, 0, DATA_GPA, 0, ADJ(3, 0, 0), &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_SUCCESS);
	expect_rmp(DATA_GPA, 1, 1, 0, 0, ALL, 0);
}
END_TEST

START_TEST(rmpadjust_vmpl0_target_own_vmpl)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	rmpadjust(0, 0, DATA_GPA, 0, ADJ(0, R, 0), &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_FAIL_PERMISSION);
	expect_rmp(DATA_GPA, 1, 1, 0, ALL, ALL, ALL);
}
END_TEST

START_TEST(rmpadjust_vmpl1_target_own_vmpl)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	rmpadjust(1, 0, DATA_GPA, 0, ADJ(1, R, 0), &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_FAIL_PERMISSION);
	expect_rmp(DATA_GPA, 1, 1, 0, ALL, ALL, ALL);
}
END_TEST

START_TEST(rmpadjust_vmpl1_target_vmpl0)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	rmpadjust(1, 0, DATA_GPA, 0, ADJ(0, 0, 0), &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_FAIL_PERMISSION);
	expect_rmp(DATA_GPA, 1, 1, 0, ALL, ALL, ALL);
}
END_TEST

START_TEST(rmpadjust_vmpl2_target_vmpl1)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	rmpadjust(2, 0, DATA_GPA, 0, ADJ(1, R, 0), &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_FAIL_PERMISSION);
	expect_rmp(DATA_GPA, 1, 1, 0, ALL, ALL, ALL);
}
END_TEST

START_TEST(rmpadjust_grant_more_than_held)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	set_perms(DATA_GPA, 0x1000, 1, R);
	set_perms(DATA_GPA, 0x1000, 2, 0);
	rmpadjust(1, 0, DATA_GPA, 0, ADJ(2, R | W, 0), &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_FAIL_PERMISSION);
	expect_rmp(DATA_GPA, 1, 1, 0, R, 0, ALL);
}
END_TEST

START_TEST(rmpadjust_grant_xs_not_held)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	set_perms(DATA_GPA, 0x1000, 1, R | W | XU);
	set_perms(DATA_GPA, 0x1000, 2, R);
	rmpadjust(1, 0, DATA_GPA, 0, ADJ(2, R | XS, 0), &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_FAIL_PERMISSION);
	expect_rmp(DATA_GPA, 1, 1, 0, R | W | XU, R, ALL);
}
END_TEST

START_TEST(rmpadjust_vmsa_bit_from_vmpl0)
{
	struct emu_exit e;

	validate(VMSA_GPA, 0x1000);
	rmpadjust(0, 0, VMSA_GPA, 0, ADJ(1, R, 1), &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_SUCCESS);
	expect_rmp(VMSA_GPA, 1, 1, 1, R, ALL, ALL);
}
END_TEST

/* Ref 5.2 step 4: RMPADJUST with VMSA=0 clears the bit again. */
START_TEST(rmpadjust_vmsa_bit_set_then_clear)
{
	struct emu_exit e;

	validate(VMSA_GPA, 0x1000);
	load("seq");
	param(P_N, 2);
	param(P_MSRS + 0x00, 0);
	param(P_MSRS + 0x08, VMSA_GPA);
	param(P_MSRS + 0x10, 0);
	param(P_MSRS + 0x18, ADJ(1, 0, 1));
	param(P_MSRS + 0x20, 0);
	param(P_MSRS + 0x28, VMSA_GPA);
	param(P_MSRS + 0x30, 0);
	param(P_MSRS + 0x38, ADJ(1, R | W, 0));
	run(0, 0, &e);
	expect_done(&e, 0);
	EQ(res(0x00), RMP_SUCCESS);
	EQ(res(0x10), RMP_SUCCESS);
	expect_rmp(VMSA_GPA, 1, 1, 0, R | W, ALL, ALL);
}
END_TEST

/* Ref 2.5 [UNSURE] -> FIDELITY: the VMSA input is ignored at VMPL>0, permissions apply. */
START_TEST(rmpadjust_vmsa_bit_ignored_from_vmpl1)
{
	struct emu_exit e;

	validate(VMSA_GPA, 0x1000);
	rmpadjust(1, 0, VMSA_GPA, 0, ADJ(2, R, 1), &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_SUCCESS);
	expect_rmp(VMSA_GPA, 1, 1, 0, ALL, R, ALL);
}
END_TEST

/* Ref 2.4: a 2M request on 4K RMP entries fails with FAIL_SIZEMISMATCH. */
START_TEST(rmpadjust_2m_on_4k_entries)
{
	struct emu_exit e;

	validate(BIG_GPA, 2 * MiB);
	rmpadjust(0, 0, BIG_GPA, 1, ADJ(1, R, 0), &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_FAIL_SIZEMISMATCH);
	expect_rmp(BIG_GPA, 1, 1, 0, ALL, ALL, ALL);
	expect_rmp(BIG_GPA + 2 * MiB - 0x1000, 1, 1, 0, ALL, ALL, ALL);
}
END_TEST

START_TEST(rmpadjust_2m_on_4k_entries_vmpl1)
{
	struct emu_exit e;

	validate(BIG_GPA, 2 * MiB);
	rmpadjust(1, 0, BIG_GPA, 1, ADJ(2, R, 0), &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_FAIL_SIZEMISMATCH);
	expect_rmp(BIG_GPA, 1, 1, 0, ALL, ALL, ALL);
}
END_TEST

/* Ref 2.8 [UNSURE] -> FIDELITY: target VMPL >= 4 and reserved RDX bits are FAIL_INPUT. */
START_TEST(rmpadjust_target_vmpl4)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	rmpadjust(0, 0, DATA_GPA, 0, ADJ(4, R, 0), &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_FAIL_INPUT);
	expect_rmp(DATA_GPA, 1, 1, 0, ALL, ALL, ALL);
}
END_TEST

START_TEST(rmpadjust_reserved_rdx_bits)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	rmpadjust(0, 0, DATA_GPA, 0, ADJ(1, R, 0) | 1ULL << 17, &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_FAIL_INPUT);
	expect_rmp(DATA_GPA, 1, 1, 0, ALL, ALL, ALL);
}
END_TEST

/* Ref 2.8 [UNSURE] -> FIDELITY: CPL3 raises #GP(0), nothing changes. */
START_TEST(rmpadjust_cpl3_gp)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	rmpadjust(0, 3, DATA_GPA, 0, ADJ(1, R, 0), &e);
	expect_exception(&e, EMU_VEC_GP, sym("insn"), true, 0);
	expect_rmp(DATA_GPA, 1, 1, 0, ALL, ALL, ALL);
}
END_TEST

/* Ref 2.8 [UNSURE] -> FIDELITY: RMPADJUST on a not-validated page is FAIL_INPUT. */
START_TEST(rmpadjust_not_validated)
{
	struct emu_exit e;

	expect_rmp(DATA_GPA, 1, 0, 0, 0, 0, 0);
	rmpadjust(0, 0, DATA_GPA, 0, ADJ(1, R, 0), &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_FAIL_INPUT);
	expect_rmp(DATA_GPA, 1, 0, 0, 0, 0, 0);
}
END_TEST

/* Ref 2.3 -> FIDELITY: the page must be guest-owned; a shared page gives #NPF (bits 0,1,31,34). */
START_TEST(rmpadjust_on_shared_page_npf)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	load("psc_insn");
	param(P_VAL, GHCB_MSR_PSC(DATA_GPA >> 12, GHCB_MSR_PSC_SHARED));
	param(P_RAX, DATA_GPA);
	param(P_RDX, ADJ(1, R, 0));
	run(0, 0, &e);
	EQ(res(0), GHCB_MSR_PSC_RESP);
	expect_npf(&e, sym("insn"), EMU_NPF_P | EMU_NPF_W | EMU_NPF_RMP | EMU_NPF_ENC, DATA_GPA);
	expect_rmp(DATA_GPA, 0, 0, 0, 0, 0, 0);
}
END_TEST

/* ---- PVALIDATE (ref 3.1) ---------------------------------------------------- */

#define RFLAGS_CF 1ULL

static void pvalidate(unsigned vmpl, unsigned cpl, uint64_t rax, uint64_t rcx, uint64_t rdx,
		      struct emu_exit *e)
{
	load("pvalidate");
	param(P_RAX, rax);
	param(P_RCX, rcx);
	param(P_RDX, rdx);
	run(vmpl, cpl, e);
}

START_TEST(pvalidate_validate)
{
	struct emu_exit e;

	expect_rmp(DATA_GPA, 1, 0, 0, 0, 0, 0);
	pvalidate(0, 0, DATA_GPA, 0, 1, &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_SUCCESS);
	EQ(e.rflags & RFLAGS_CF, 0);
	EQ(rmp(DATA_GPA).validated, 1);
}
END_TEST

START_TEST(pvalidate_rescind)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	pvalidate(0, 0, DATA_GPA, 0, 0, &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_SUCCESS);
	EQ(e.rflags & RFLAGS_CF, 0);
	EQ(rmp(DATA_GPA).validated, 0);
}
END_TEST

START_TEST(pvalidate_validate_unchanged_sets_cf)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	pvalidate(0, 0, DATA_GPA, 0, 1, &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_SUCCESS);
	EQ(e.rflags & RFLAGS_CF, RFLAGS_CF);
	EQ(rmp(DATA_GPA).validated, 1);
}
END_TEST

START_TEST(pvalidate_rescind_unchanged_sets_cf)
{
	struct emu_exit e;

	pvalidate(0, 0, DATA_GPA, 0, 0, &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_SUCCESS);
	EQ(e.rflags & RFLAGS_CF, RFLAGS_CF);
	EQ(rmp(DATA_GPA).validated, 0);
}
END_TEST

/* Ref 3.1 [UNSURE] -> FIDELITY: PVALIDATE at VMPL>0 is FAIL_PERMISSION, CF=0. */
START_TEST(pvalidate_vmpl1_fails)
{
	struct emu_exit e;

	pvalidate(1, 0, DATA_GPA, 0, 1, &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_FAIL_PERMISSION);
	EQ(e.rflags & RFLAGS_CF, 0);
	EQ(rmp(DATA_GPA).validated, 0);
}
END_TEST

START_TEST(pvalidate_vmpl3_rescind_fails)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	pvalidate(3, 0, DATA_GPA, 0, 0, &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_FAIL_PERMISSION);
	EQ(rmp(DATA_GPA).validated, 1);
}
END_TEST

START_TEST(pvalidate_2m_on_4k_entries)
{
	struct emu_exit e;

	pvalidate(0, 0, BIG_GPA, 1, 1, &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_FAIL_SIZEMISMATCH);
	EQ(rmp(BIG_GPA).validated, 0);
	EQ(rmp(BIG_GPA + 0x1000).validated, 0);
}
END_TEST

START_TEST(pvalidate_cpl3_gp)
{
	struct emu_exit e;

	pvalidate(0, 3, DATA_GPA, 0, 1, &e);
	expect_exception(&e, EMU_VEC_GP, sym("insn"), true, 0);
	EQ(rmp(DATA_GPA).validated, 0);
}
END_TEST

/* Ref 3.1: PVALIDATE writes only the Validated bit; the VMPL masks stay. */
START_TEST(pvalidate_keeps_permissions)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	set_perms(DATA_GPA, 0x1000, 1, R | XS);
	set_perms(DATA_GPA, 0x1000, 3, W | R);
	load("seq");
	param(P_N, 2);
	param(P_MSRS + 0x00, 1);
	param(P_MSRS + 0x08, DATA_GPA);
	param(P_MSRS + 0x10, 0);
	param(P_MSRS + 0x18, 0);
	param(P_MSRS + 0x20, 1);
	param(P_MSRS + 0x28, DATA_GPA);
	param(P_MSRS + 0x30, 0);
	param(P_MSRS + 0x38, 1);
	run(0, 0, &e);
	expect_done(&e, 0);
	EQ(res(0x00), RMP_SUCCESS);
	EQ(res(0x08) & RFLAGS_CF, 0);
	EQ(res(0x10), RMP_SUCCESS);
	EQ(res(0x18) & RFLAGS_CF, 0);
	expect_rmp(DATA_GPA, 1, 1, 0, R | XS, ALL, R | W);
}
END_TEST

START_TEST(pvalidate_then_access)
{
	struct emu_exit e;

	load("pvalidate_access");
	param(P_RAX, DATA_GPA);
	param(P_RCX, 0);
	param(P_RDX, 1);
	param(P_ADDR, DATA_GPA + 0x40);
	param(P_VAL, 0x1234567890ABCDEFULL);
	run(0, 0, &e);
	expect_done(&e, 0);
	EQ(res(0), RMP_SUCCESS);
	EQ(e.rbx, 0x1234567890ABCDEFULL);
	EQ(rd64(DATA_GPA + 0x40), 0x1234567890ABCDEFULL);
}
END_TEST

/* Ref 3.1/4.1: after a rescind the page is not validated again: #VC 0x404, nothing written. */
START_TEST(pvalidate_rescind_then_access_vc)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	wr64(DATA_GPA + 0x40, 0x5555);
	load("pvalidate_access");
	param(P_RAX, DATA_GPA);
	param(P_RCX, 0);
	param(P_RDX, 0);
	param(P_ADDR, DATA_GPA + 0x40);
	param(P_VAL, 0xAAAA);
	run(0, 0, &e);
	expect_vc(&e, SVM_EXIT_NOT_VALIDATED, sym("access"));
	EQ(res(0), RMP_SUCCESS);
	EQ(rd64(DATA_GPA + 0x40), 0x5555);
}
END_TEST

START_TEST(pvalidate_on_shared_page_npf)
{
	struct emu_exit e;

	load("psc_insn");
	param(P_VAL, GHCB_MSR_PSC(DATA_GPA >> 12, GHCB_MSR_PSC_SHARED));
	param(P_RAX, DATA_GPA);
	param(P_RDX, 1);
	param(P_FLAGS, 1);
	run(0, 0, &e);
	EQ(res(0), GHCB_MSR_PSC_RESP);
	expect_npf(&e, sym("insn_pv"), EMU_NPF_P | EMU_NPF_W | EMU_NPF_RMP | EMU_NPF_ENC, DATA_GPA);
	expect_rmp(DATA_GPA, 0, 0, 0, 0, 0, 0);
}
END_TEST

/* ---- access to a not-validated page (ref 4.1 check 2) ----------------------- */

START_TEST(read_not_validated_vc)
{
	struct emu_exit e;

	load("mem_read");
	param(P_ADDR, DATA_GPA + 0x10);
	run(0, 0, &e);
	expect_vc(&e, SVM_EXIT_NOT_VALIDATED, sym("insn"));
}
END_TEST

START_TEST(write_not_validated_vc)
{
	struct emu_exit e;

	wr64(DATA_GPA + 0x10, 0x77);
	load("mem_write");
	param(P_ADDR, DATA_GPA + 0x10);
	param(P_VAL, 0x99);
	run(0, 0, &e);
	expect_vc(&e, SVM_EXIT_NOT_VALIDATED, sym("insn"));
	EQ(rd64(DATA_GPA + 0x10), 0x77);
}
END_TEST

START_TEST(fetch_not_validated_vc)
{
	struct emu_exit e;

	wr8(DATA_GPA, 0xF4); /* hlt */
	load("exec_jump");
	param(P_ADDR, DATA_GPA);
	run(0, 0, &e);
	expect_vc(&e, SVM_EXIT_NOT_VALIDATED, DATA_GPA);
}
END_TEST

START_TEST(read_not_validated_cpl3_vc)
{
	struct emu_exit e;

	load("mem_read");
	param(P_ADDR, DATA_GPA + 0x10);
	run(0, 3, &e);
	expect_vc(&e, SVM_EXIT_NOT_VALIDATED, sym("insn"));
}
END_TEST

/* Ref 4.1: Validated is checked before the VMPL mask, so #VC and not #NPF. */
START_TEST(not_validated_beats_vmpl_check)
{
	struct emu_exit e;

	set_perms(DATA_GPA, 0x1000, 1, 0);
	load("mem_read");
	param(P_ADDR, DATA_GPA + 0x10);
	run(1, 0, &e);
	expect_vc(&e, SVM_EXIT_NOT_VALIDATED, sym("insn"));
}
END_TEST

/* ---- VMPL permission masks (ref 1.3, 4.2) ------------------------------------ */

static void mem_access(const char *snippet, unsigned vmpl, unsigned cpl, uint8_t perms,
		       uint64_t addr, struct emu_exit *e)
{
	validate(DATA_GPA, 0x1000);
	if (vmpl)
		set_perms(DATA_GPA, 0x1000, vmpl, perms);
	wr64(DATA_GPA + 0x128, 0x0123456789ABCDEFULL);
	load(snippet);
	param(P_ADDR, addr);
	param(P_VAL, 0xFEEDFACECAFEBEEFULL);
	run(vmpl, cpl, e);
}

START_TEST(read_without_r_cpl0)
{
	struct emu_exit e;

	mem_access("mem_read", 1, 0, W | XU | XS, DATA_GPA + 0x128, &e);
	expect_npf(&e, sym("insn"), NPF_VMPL_FINAL, DATA_GPA + 0x128);
}
END_TEST

START_TEST(read_without_r_cpl3)
{
	struct emu_exit e;

	mem_access("mem_read", 1, 3, W | XU | XS, DATA_GPA + 0x128, &e);
	expect_npf(&e, sym("insn"), NPF_VMPL_FINAL | EMU_NPF_U, DATA_GPA + 0x128);
}
END_TEST

START_TEST(read_with_r_cpl3)
{
	struct emu_exit e;

	mem_access("mem_read", 2, 3, R, DATA_GPA + 0x128, &e);
	expect_done(&e, 3);
	EQ(e.rax, 0x0123456789ABCDEFULL);
}
END_TEST

START_TEST(write_without_w_cpl0)
{
	struct emu_exit e;

	mem_access("mem_write", 1, 0, R | XU | XS, DATA_GPA + 0x128, &e);
	expect_npf(&e, sym("insn"), NPF_VMPL_FINAL | EMU_NPF_W, DATA_GPA + 0x128);
	EQ(rd64(DATA_GPA + 0x128), 0x0123456789ABCDEFULL);
}
END_TEST

START_TEST(write_without_w_cpl3)
{
	struct emu_exit e;

	mem_access("mem_write", 1, 3, R | XU | XS, DATA_GPA + 0x128, &e);
	expect_npf(&e, sym("insn"), NPF_VMPL_FINAL | EMU_NPF_W | EMU_NPF_U, DATA_GPA + 0x128);
	EQ(rd64(DATA_GPA + 0x128), 0x0123456789ABCDEFULL);
}
END_TEST

START_TEST(write_with_rw_ok)
{
	struct emu_exit e;

	mem_access("mem_write", 1, 0, R | W, DATA_GPA + 0x128, &e);
	expect_done(&e, 0);
	EQ(rd64(DATA_GPA + 0x128), 0xFEEDFACECAFEBEEFULL);
}
END_TEST

START_TEST(write_with_rw_cpl3_ok)
{
	struct emu_exit e;

	mem_access("mem_write", 3, 3, R | W, DATA_GPA + 0x128, &e);
	expect_done(&e, 3);
	EQ(rd64(DATA_GPA + 0x128), 0xFEEDFACECAFEBEEFULL);
}
END_TEST

/* Ref 1.3: write without read is illegal; a data access to such a page faults. */
START_TEST(write_without_read_faults)
{
	struct emu_exit e;

	mem_access("mem_write", 1, 0, W, DATA_GPA + 0x128, &e);
	expect_npf(&e, sym("insn"), NPF_VMPL_FINAL | EMU_NPF_W, DATA_GPA + 0x128);
	EQ(rd64(DATA_GPA + 0x128), 0x0123456789ABCDEFULL);
}
END_TEST

START_TEST(write_without_read_cpl3_faults)
{
	struct emu_exit e;

	mem_access("mem_write", 2, 3, W | XU, DATA_GPA + 0x128, &e);
	expect_npf(&e, sym("insn"), NPF_VMPL_FINAL | EMU_NPF_W | EMU_NPF_U, DATA_GPA + 0x128);
	EQ(rd64(DATA_GPA + 0x128), 0x0123456789ABCDEFULL);
}
END_TEST

START_TEST(read_of_write_only_page_faults)
{
	struct emu_exit e;

	mem_access("mem_read", 1, 0, W, DATA_GPA + 0x128, &e);
	expect_npf(&e, sym("insn"), NPF_VMPL_FINAL, DATA_GPA + 0x128);
}
END_TEST

/* A read-modify-write on a read-only page faults as a write and changes nothing. */
START_TEST(rmw_on_read_only_page)
{
	struct emu_exit e;

	mem_access("mem_rmw", 1, 0, R | XS, DATA_GPA + 0x128, &e);
	expect_npf(&e, sym("insn"), NPF_VMPL_FINAL | EMU_NPF_W, DATA_GPA + 0x128);
	EQ(rd64(DATA_GPA + 0x128), 0x0123456789ABCDEFULL);
}
END_TEST

static void fetch(unsigned vmpl, unsigned cpl, uint8_t perms, struct emu_exit *e)
{
	validate(DATA_GPA, 0x1000);
	set_perms(DATA_GPA, 0x1000, vmpl, perms);
	wr8(DATA_GPA, 0xF4); /* hlt */
	load("exec_jump");
	param(P_ADDR, DATA_GPA);
	run(vmpl, cpl, e);
}

START_TEST(fetch_without_xs_cpl0)
{
	struct emu_exit e;

	fetch(1, 0, R | W | XU, &e);
	expect_npf(&e, DATA_GPA, NPF_VMPL_FINAL | EMU_NPF_ID, DATA_GPA);
}
END_TEST

START_TEST(fetch_without_xu_cpl3)
{
	struct emu_exit e;

	fetch(1, 3, R | W | XS, &e);
	expect_npf(&e, DATA_GPA, NPF_VMPL_FINAL | EMU_NPF_ID | EMU_NPF_U, DATA_GPA);
}
END_TEST

/* Execute is split by CPL: Xu alone allows CPL3 fetches (HLT then raises #GP). */
START_TEST(fetch_with_xu_only_cpl3_ok)
{
	struct emu_exit e;

	fetch(1, 3, XU, &e);
	expect_exception(&e, EMU_VEC_GP, DATA_GPA, true, 0);
}
END_TEST

START_TEST(fetch_with_xs_only_cpl0_ok)
{
	struct emu_exit e;

	fetch(2, 0, XS, &e);
	EXPECT_KIND(&e, EMU_EXIT_KIND_HLT);
	EQ(e.rip, DATA_GPA + 1);
}
END_TEST

START_TEST(fetch_without_any_x_vmpl3)
{
	struct emu_exit e;

	fetch(3, 0, R | W, &e);
	expect_npf(&e, DATA_GPA, NPF_VMPL_FINAL | EMU_NPF_ID, DATA_GPA);
}
END_TEST

/* The very first fetch faults when the code page itself lacks Xs. */
START_TEST(code_page_without_xs)
{
	struct emu_exit e;

	load("mem_read");
	set_perms(CODE_GPA, 0x1000, 1, R | W | XU);
	param(P_ADDR, PARAM_GPA);
	run(1, 0, &e);
	expect_npf(&e, sym("_start"), NPF_VMPL_FINAL | EMU_NPF_ID, sym("_start"));
}
END_TEST

/* Execute-only code still runs, but reading it as data faults. */
START_TEST(execute_only_page_read_faults)
{
	struct emu_exit e;

	load("mem_read");
	set_perms(CODE_GPA, 0x1000, 1, XS);
	param(P_ADDR, sym("done"));
	run(1, 0, &e);
	expect_npf(&e, sym("insn"), NPF_VMPL_FINAL, sym("done"));
}
END_TEST

/* VMPL0 always has full access (ref 1.3), whatever the masks of VMPL1-3. */
START_TEST(vmpl0_ignores_lower_masks)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	set_perms(DATA_GPA, 0x1000, 1, 0);
	set_perms(DATA_GPA, 0x1000, 2, 0);
	set_perms(DATA_GPA, 0x1000, 3, 0);
	load("mem_write");
	param(P_ADDR, DATA_GPA + 8);
	param(P_VAL, 0x4242);
	run(0, 0, &e);
	expect_done(&e, 0);
	EQ(rd64(DATA_GPA + 8), 0x4242);
}
END_TEST

/* Each VMPL is checked against its own mask only. */
START_TEST(vmpl2_uses_its_own_mask)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	set_perms(DATA_GPA, 0x1000, 1, ALL);
	set_perms(DATA_GPA, 0x1000, 2, R);
	set_perms(DATA_GPA, 0x1000, 3, ALL);
	load("mem_write");
	param(P_ADDR, DATA_GPA + 8);
	param(P_VAL, 0x4242);
	run(2, 0, &e);
	expect_npf(&e, sym("insn"), NPF_VMPL_FINAL | EMU_NPF_W, DATA_GPA + 8);
	EQ(rd64(DATA_GPA + 8), 0);
}
END_TEST

START_TEST(vmpl3_uses_its_own_mask)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	set_perms(DATA_GPA, 0x1000, 1, 0);
	set_perms(DATA_GPA, 0x1000, 2, 0);
	set_perms(DATA_GPA, 0x1000, 3, R | W);
	load("mem_write");
	param(P_ADDR, DATA_GPA + 8);
	param(P_VAL, 0x4242);
	run(3, 0, &e);
	expect_done(&e, 0);
	EQ(rd64(DATA_GPA + 8), 0x4242);
}
END_TEST

/* Ref 4.1: a C=0 write must hit a hypervisor-owned page: RMP fault, no ENC, no VMPL bit. */
START_TEST(shared_write_to_private_page)
{
	struct emu_exit e;

	mem_access("mem_write", 0, 0, 0, SHARED_ALIAS + DATA_GPA + 0x128, &e);
	expect_npf(&e, sym("insn"), EMU_NPF_P | EMU_NPF_W | EMU_NPF_RMP | EMU_NPF_FINAL,
		   DATA_GPA + 0x128);
	EQ(rd64(DATA_GPA + 0x128), 0x0123456789ABCDEFULL);
}
END_TEST

/* Issue 9: a C=0 read of a private page is not ownership-checked; it returns
 * ciphertext-like bytes, never the plaintext (APM vol 2, 15.36.10). Even at VMPL3
 * with no VMPL permission on the page. */
START_TEST(shared_read_of_private_page_ciphertext)
{
	struct emu_exit e, e2;

	mem_access("mem_read", 3, 0, 0, SHARED_ALIAS + DATA_GPA + 0x128, &e);
	expect_done(&e, 0);
	ck_assert_msg(e.rax != 0x0123456789ABCDEFULL, "C=0 read returned the plaintext");
	/* The same bytes for another page and offset: the model's ciphertext page. */
	mem_access("mem_read", 0, 0, 0, SHARED_ALIAS + DATA2_GPA + 0x128, &e2);
	expect_done(&e2, 0);
	EQ(e2.rax, e.rax);
	EQ(rd64(DATA_GPA + 0x128), 0x0123456789ABCDEFULL);
}
END_TEST

/* A GHCB MSR site whose instruction was rewritten (RDMSR <-> WRMSR) behaves as
 * the new instruction: the model's per-site hook (hooks.c, which reads only
 * what the kind it was made for needs) checks the bytes and lets any other
 * instruction run into the intercept. */
START_TEST(msr_site_rewritten)
{
	struct emu_exit e;

	load("msr_site_swap");
	param(P_VAL, 0x0000ABCD00012000ULL);
	run(0, 0, &e);
	EXPECT_KIND(&e, EMU_EXIT_KIND_HLT);
	EQ(e.rip, sym("done") + 1);
	EQ(res(0x00), 0x5000);		      /* RDMSR at rd_site */
	EQ(res(0x08), 0x0000ABCD00012000ULL); /* rd_site, now WRMSR, wrote EDX:EAX */
	EQ(res(0x10), 0x6000);		      /* wr_site, now RDMSR, read the MSR */
}
END_TEST

/* Code fetched through a C=0 mapping is private (fetches ignore the C-bit): it runs, and
 * the model decodes its real bytes (here the GHCB MSR write and read), not ciphertext. */
START_TEST(code_through_shared_alias_decoded)
{
	struct emu_exit e;

	load("alias_code");
	run(0, 0, &e);
	EXPECT_KIND(&e, EMU_EXIT_KIND_HLT);
	EQ(e.rip, SHARED_ALIAS + sym("done") + 1);
	EQ(e.rax, 0x1234000);
}
END_TEST

/* Ref 4.1 check 1: a C=1 access to a hypervisor-owned (shared) page is an NPF. */
START_TEST(private_read_of_shared_page)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	load("psc_access");
	param(P_RAX, GHCB_MSR_PSC(DATA_GPA >> 12, GHCB_MSR_PSC_SHARED));
	param(P_ADDR, DATA_GPA + 0x20);
	run(0, 0, &e);
	EQ(res(0), GHCB_MSR_PSC_RESP);
	expect_npf(&e, sym("insn_read"), EMU_NPF_P | EMU_NPF_RMP | EMU_NPF_FINAL | EMU_NPF_ENC,
		   DATA_GPA + 0x20);
}
END_TEST

START_TEST(shared_write_to_shared_page_ok)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	load("psc_access");
	param(P_RAX, GHCB_MSR_PSC(DATA_GPA >> 12, GHCB_MSR_PSC_SHARED));
	param(P_ADDR, SHARED_ALIAS + DATA_GPA + 0x20);
	param(P_VAL, 0xABCD);
	param(P_FLAGS, 1);
	run(0, 0, &e);
	EQ(res(0), GHCB_MSR_PSC_RESP);
	expect_done(&e, 0);
	EQ(rd64(DATA_GPA + 0x20), 0xABCD);
}
END_TEST

/* ---- guest page-table walks (ref 4.1: walks are RMP-checked as C=1 reads) ---- */

#define PTE_P (1ULL << 0)
#define PTE_W (1ULL << 1)
#define PTE_U (1ULL << 2)
#define PTE_A (1ULL << 5)
#define PTE_D (1ULL << 6)
#define PTE_C (1ULL << 51)

#define PML4_GPA (PT_GPA + 0x0000)
#define PDPT_GPA (PT_GPA + 0x1000)
#define PD_GPA (PT_GPA + 0x2000)
#define PT0_GPA (PT_GPA + 0x3000) /* maps 0 .. 2 MiB */
#define PT1_GPA (PT_GPA + 0x4000) /* maps 2 .. 4 MiB */

/*
 * Guest page tables in guest memory: identity map of the first 4 MiB with
 * 4 KiB pages, C-bit set (ref 6.2: C-bit 51), accessed/dirty preset when
 * `ad`. The snippet loads them and reads BIG_GPA + 0x28 through PT1.
 */
static void build_tables(bool ad)
{
	uint64_t f = PTE_P | PTE_W | PTE_U | PTE_C | (ad ? PTE_A | PTE_D : 0);
	uint64_t nf = PTE_P | PTE_W | PTE_U | PTE_C | (ad ? PTE_A : 0);

	validate(PT_GPA, 0x5000);
	wr64(PML4_GPA, PDPT_GPA | nf);
	wr64(PDPT_GPA, PD_GPA | nf);
	wr64(PD_GPA, PT0_GPA | nf);
	wr64(PD_GPA + 8, PT1_GPA | nf);
	for (uint64_t i = 0; i < 512; i++) {
		wr64(PT0_GPA + i * 8, (i << 12) | f);
		wr64(PT1_GPA + i * 8, (BIG_GPA + (i << 12)) | f);
	}
	validate(BIG_GPA, 0x1000);
	wr64(BIG_GPA + 0x28, 0x600DF00D);
	load("walk");
	param(P_CR3, PML4_GPA);
	param(P_ADDR, BIG_GPA + 0x28);
}

/* Walk faults: check the bits the reference fixes; W/U/P of a walk access are not fixed. */
static void expect_walk_npf(const struct emu_exit *e, uint64_t rip, uint64_t table)
{
	uint64_t fixed = EMU_NPF_RMP | EMU_NPF_FINAL | EMU_NPF_PT | EMU_NPF_ENC | EMU_NPF_VMPL |
			 EMU_NPF_ID | EMU_NPF_SIZEM;

	EXPECT_KIND(e, EMU_EXIT_KIND_NPF);
	ck_assert_msg(e->rip == rip, "walk NPF at %#" PRIx64 ", expected %#" PRIx64 " %s", e->rip,
		      rip, desc(e));
	ck_assert_msg((e->exitinfo1 & fixed) ==
			      (EMU_NPF_RMP | EMU_NPF_PT | EMU_NPF_ENC | EMU_NPF_VMPL),
		      "walk NPF EXITINFO1 %#" PRIx64 ": want RMP|PT|ENC|VMPL, no FINAL/ID/SIZEM %s",
		      e->exitinfo1, desc(e));
	ck_assert_msg((e->exitinfo2 & ~0xFFFULL) == table,
		      "walk NPF EXITINFO2 %#" PRIx64 ", expected page-table page %#" PRIx64,
		      e->exitinfo2, table);
}

START_TEST(walk_control_readable_tables)
{
	struct emu_exit e;

	build_tables(true);
	run(1, 0, &e);
	expect_done(&e, 0);
	EQ(e.rax, 0x600DF00D);
}
END_TEST

START_TEST(walk_pt_without_read)
{
	struct emu_exit e;

	build_tables(true);
	set_perms(PT1_GPA, 0x1000, 1, W | XU | XS);
	run(1, 0, &e);
	expect_walk_npf(&e, sym("insn"), PT1_GPA);
}
END_TEST

START_TEST(walk_pt_without_any_access)
{
	struct emu_exit e;

	build_tables(true);
	set_perms(PT1_GPA, 0x1000, 2, 0);
	run(2, 0, &e);
	expect_walk_npf(&e, sym("insn"), PT1_GPA);
}
END_TEST

/* The PD is used by the code fetch right after MOV CR3: the fetch's walk faults. */
START_TEST(walk_pd_without_read_on_fetch)
{
	struct emu_exit e;

	build_tables(true);
	set_perms(PD_GPA, 0x1000, 1, XS);
	run(1, 0, &e);
	EXPECT_KIND(&e, EMU_EXIT_KIND_NPF);
	ck_assert_msg((e.exitinfo1 & (EMU_NPF_RMP | EMU_NPF_PT | EMU_NPF_FINAL | EMU_NPF_VMPL)) ==
			      (EMU_NPF_RMP | EMU_NPF_PT | EMU_NPF_VMPL),
		      "EXITINFO1 %#" PRIx64, e.exitinfo1);
	EQ(e.exitinfo2 & ~0xFFFULL, PD_GPA);
	EQ(e.rip, sym("insn"));
}
END_TEST

/* Ref 4.1: only A/D *updates* count as writes; with A/D preset a read-only table is enough. */
START_TEST(walk_read_only_tables_ok)
{
	struct emu_exit e;

	build_tables(true);
	set_perms(PML4_GPA, 0x5000, 1, R);
	run(1, 0, &e);
	expect_done(&e, 0);
	EQ(e.rax, 0x600DF00D);
}
END_TEST

/* An accessed-bit update is a write: a read-only table with A clear faults the walk. */
START_TEST(walk_accessed_update_needs_write)
{
	struct emu_exit e;

	build_tables(true);
	wr64(PT1_GPA + 0, (BIG_GPA) | PTE_P | PTE_W | PTE_U | PTE_C); /* A, D clear */
	set_perms(PT1_GPA, 0x1000, 1, R);
	run(1, 0, &e);
	expect_walk_npf(&e, sym("insn"), PT1_GPA);
	EQ(rd64(PT1_GPA) & PTE_A, 0);
}
END_TEST

START_TEST(walk_sets_accessed_bit)
{
	struct emu_exit e;

	build_tables(true);
	wr64(PT1_GPA + 0, (BIG_GPA) | PTE_P | PTE_W | PTE_U | PTE_C);
	run(1, 0, &e);
	expect_done(&e, 0);
	EQ(e.rax, 0x600DF00D);
	EQ(rd64(PT1_GPA) & (PTE_A | PTE_D), PTE_A);
}
END_TEST

/* Ref 4.1: a page-table page that is not validated gives #VC 0x404. */
START_TEST(walk_pt_not_validated_vc)
{
	struct emu_exit e;

	build_tables(true);
	ck_assert_int_eq(emu_rmp_assign(M, PT1_GPA, 0x1000, false), 0);
	run(0, 0, &e);
	expect_vc(&e, SVM_EXIT_NOT_VALIDATED, sym("insn"));
}
END_TEST

/*
 * Guest page faults (the exec contract: CR0.WP=1, EFER.NXE=1, no IDT, so the
 * run ends with the #PF and its error code). Ref 4.1: the guest page-table
 * checks come before the RMP checks.
 */
#define PTE_NX (1ULL << 63)
#define PF_P 1
#define PF_W 2
#define PF_ID 16

static void walk_access_prepare(unsigned kind, uint64_t pte)
{
	build_tables(true);
	wr64(PT1_GPA + 8, pte);
	validate(BIG_GPA + 0x1000, 0x1000);
	wr8(BIG_GPA + 0x1000, 0xF4); /* hlt */
	load("walk_access");
	param(P_CR3, PML4_GPA);
	param(P_ADDR, BIG_GPA + 0x1000);
	param(P_VAL, 0x77);
	param(P_FLAGS, kind);
}

static void walk_access(unsigned vmpl, unsigned kind, uint64_t pte, struct emu_exit *e)
{
	walk_access_prepare(kind, pte);
	run(vmpl, 0, e);
}

START_TEST(pf_not_present)
{
	struct emu_exit e;

	walk_access(0, 0, 0, &e);
	expect_exception(&e, EMU_VEC_PF, sym("insn_read"), true, 0);
}
END_TEST

START_TEST(pf_write_to_read_only_pte_with_wp)
{
	struct emu_exit e;

	walk_access(0, 1, (BIG_GPA + 0x1000) | PTE_P | PTE_U | PTE_C | PTE_A | PTE_D, &e);
	expect_exception(&e, EMU_VEC_PF, sym("insn_write"), true, PF_P | PF_W);
	EQ(rd64(BIG_GPA + 0x1000), 0xF4);
}
END_TEST

START_TEST(pf_fetch_from_nx_page)
{
	struct emu_exit e;

	walk_access(0, 2,
		    (BIG_GPA + 0x1000) | PTE_P | PTE_W | PTE_U | PTE_C | PTE_A | PTE_D | PTE_NX,
		    &e);
	expect_exception(&e, EMU_VEC_PF, BIG_GPA + 0x1000, true, PF_P | PF_ID);
}
END_TEST

/* Reserved bits (APM vol 2, 5.3.3): #PF with P and RSV (bit 3) in the error code. */
#define PF_RSV 8

START_TEST(pf_reserved_address_bit)
{
	struct emu_exit e;

	walk_access(0, 0,
		    (BIG_GPA + 0x1000) | 1ULL << 49 | PTE_P | PTE_W | PTE_U | PTE_C | PTE_A | PTE_D,
		    &e);
	expect_exception(&e, EMU_VEC_PF, sym("insn_read"), true, PF_P | PF_RSV);
}
END_TEST

/* PS in a PML4E is reserved: the first fetch through the new tables faults. */
START_TEST(pf_reserved_ps_in_pml4e)
{
	struct emu_exit e;

	build_tables(true);
	wr64(PML4_GPA, rd64(PML4_GPA) | 1ULL << 7);
	run(0, 0, &e);
	expect_exception(&e, EMU_VEC_PF, sym("insn"), true, PF_P | PF_RSV | PF_ID);
}
END_TEST

/* A 2 MiB PDE with bit 13 set (between PAT and the frame) is reserved. */
START_TEST(pf_reserved_2m_pde_bits)
{
	struct emu_exit e;

	build_tables(true);
	wr64(PD_GPA + 8,
	     BIG_GPA | 1ULL << 13 | 1ULL << 7 | PTE_P | PTE_W | PTE_U | PTE_C | PTE_A | PTE_D);
	run(0, 0, &e);
	expect_exception(&e, EMU_VEC_PF, sym("insn"), true, PF_P | PF_RSV);
}
END_TEST

/* The same 2 MiB PDE without the reserved bit works. */
START_TEST(walk_2m_pde_ok)
{
	struct emu_exit e;

	build_tables(true);
	wr64(PD_GPA + 8, BIG_GPA | 1ULL << 7 | PTE_P | PTE_W | PTE_U | PTE_C | PTE_A | PTE_D);
	run(0, 0, &e);
	expect_done(&e, 0);
	EQ(e.rax, 0x600DF00D);
}
END_TEST

START_TEST(fetch_through_guest_tables_ok)
{
	struct emu_exit e;

	walk_access(1, 2, (BIG_GPA + 0x1000) | PTE_P | PTE_W | PTE_U | PTE_C | PTE_A | PTE_D, &e);
	EXPECT_KIND(&e, EMU_EXIT_KIND_HLT);
	EQ(e.rip, BIG_GPA + 0x1001);
}
END_TEST

/* The guest page-table check wins over a VMPL violation on the same access. */
START_TEST(guest_pf_before_vmpl_check)
{
	struct emu_exit e;

	walk_access_prepare(1, (BIG_GPA + 0x1000) | PTE_P | PTE_U | PTE_C | PTE_A | PTE_D);
	set_perms(BIG_GPA + 0x1000, 0x1000, 1, R | XS);
	run(1, 0, &e);
	expect_exception(&e, EMU_VEC_PF, sym("insn_write"), true, PF_P | PF_W);
}
END_TEST

/* Ref 2 and 3.1: RAX is a guest virtual address; VA BIG_GPA + 0x1000 maps to DATA2_GPA. */
static void va_insn(bool pval, uint64_t rcx, uint64_t rdx, struct emu_exit *e)
{
	build_tables(true);
	wr64(PT1_GPA + 8, DATA2_GPA | PTE_P | PTE_W | PTE_U | PTE_C | PTE_A | PTE_D);
	load("walk_insn");
	param(P_CR3, PML4_GPA);
	param(P_RAX, BIG_GPA + 0x1000);
	param(P_RCX, rcx);
	param(P_RDX, rdx);
	param(P_FLAGS, pval);
	run(0, 0, e);
}

START_TEST(rmpadjust_uses_virtual_address)
{
	struct emu_exit e;

	validate(DATA2_GPA, 0x1000);
	validate(BIG_GPA + 0x1000, 0x1000);
	va_insn(false, 0, ADJ(1, R, 0), &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_SUCCESS);
	expect_rmp(DATA2_GPA, 1, 1, 0, R, ALL, ALL);
	expect_rmp(BIG_GPA + 0x1000, 1, 1, 0, ALL, ALL, ALL);
}
END_TEST

START_TEST(pvalidate_uses_virtual_address)
{
	struct emu_exit e;

	va_insn(true, 0, 1, &e);
	expect_done(&e, 0);
	EQ(e.rax, RMP_SUCCESS);
	EQ(e.rflags & RFLAGS_CF, 0);
	EQ(rmp(DATA2_GPA).validated, 1);
	EQ(rmp(BIG_GPA + 0x1000).validated, 0);
}
END_TEST

/* ---- GHCB MSR protocol (ref 6.2) ------------------------------------------- */

static void msr_requests(unsigned vmpl, const uint64_t *req, unsigned n, struct emu_exit *e)
{
	load("ghcb_msr");
	param(P_N, n);
	for (unsigned i = 0; i < n; i++)
		param(P_MSRS + 8 * i, req[i]);
	run(vmpl, 0, e);
}

static uint64_t msr_request(unsigned vmpl, uint64_t req)
{
	struct emu_exit e;

	msr_requests(vmpl, &req, 1, &e);
	expect_done(&e, 0);
	EQ(e.rax, res(0));
	return e.rax;
}

/* WRMSR of the GHCB MSR from CPL3: #GP(0) at the instruction, the request
 * never reaches the hypervisor (the model's WRMSR site hook must not act). */
START_TEST(msr_ghcb_write_cpl3_gp)
{
	struct emu_exit e;

	load("ghcb_msr_user");
	run(0, 3, &e);
	expect_exception(&e, EMU_VEC_GP, sym("insn"), true, 0);
}
END_TEST

START_TEST(msr_sev_info)
{
	uint64_t r = msr_request(0, GHCB_MSR_SEV_INFO_REQ);
	uint64_t max = r >> 48, min = (r >> 32) & 0xFFFF;

	EQ(GHCB_MSR_INFO(r), GHCB_MSR_SEV_INFO_RESP);
	EQ((r >> 24) & 0xFF, 51);
	ck_assert_msg(min >= 1 && min <= 2 && max >= 2 && min <= max,
		      "protocol range %" PRIu64 "..%" PRIu64 " must include 2 (SNP)", min, max);
}
END_TEST

START_TEST(msr_cpuid_eax)
{
	uint64_t r = msr_request(0, GHCB_MSR_CPUID(0x8000001F, 0));
	uint32_t eax = r >> 32;

	EQ(GHCB_MSR_INFO(r), GHCB_MSR_CPUID_RESP);
	EQ((r >> 30) & 3, 0);
	/* SEV (1), SEV-ES (3), SNP (4), VMPL (5) */
	EQ(eax & 0x3A, 0x3A);
}
END_TEST

START_TEST(msr_cpuid_ebx)
{
	uint64_t r = msr_request(1, GHCB_MSR_CPUID(0x8000001F, 1));
	uint32_t ebx = r >> 32;

	EQ(GHCB_MSR_INFO(r), GHCB_MSR_CPUID_RESP);
	EQ((r >> 30) & 3, 1);
	EQ(ebx & 0x3F, 51);	  /* C-bit position */
	EQ((ebx >> 12) & 0xF, 4); /* number of VMPLs */
}
END_TEST

START_TEST(msr_preferred_ghcb)
{
	uint64_t r = msr_request(0, GHCB_MSR_PREF_GPA_REQ);
	uint64_t gfn = r >> 12;

	EQ(GHCB_MSR_INFO(r), GHCB_MSR_PREF_GPA_RESP);
	ck_assert_msg(gfn == 0xFFFFFFFFFFFFFULL || (gfn << 12) < MEM_SIZE,
		      "preferred GHCB GFN %#" PRIx64 " is neither 'none' nor guest memory", gfn);
}
END_TEST

START_TEST(msr_register_ghcb)
{
	EQ(msr_request(0, GHCB_MSR_REGISTER(GHCB_GPA >> 12)), GHCB_GPA | GHCB_MSR_REGISTER_RESP);
}
END_TEST

START_TEST(msr_register_ghcb_outside_memory)
{
	EQ(msr_request(0, GHCB_MSR_REGISTER((MEM_SIZE + 0x1000) >> 12)),
	   0xFFFFFFFFFFFFF000ULL | GHCB_MSR_REGISTER_RESP);
}
END_TEST

START_TEST(msr_psc_to_shared)
{
	validate(DATA_GPA, 0x1000);
	EQ(msr_request(0, GHCB_MSR_PSC(DATA_GPA >> 12, GHCB_MSR_PSC_SHARED)), GHCB_MSR_PSC_RESP);
	expect_rmp(DATA_GPA, 0, 0, 0, 0, 0, 0);
}
END_TEST

START_TEST(msr_psc_shared_then_private)
{
	struct emu_exit e;
	uint64_t req[2] = { GHCB_MSR_PSC(DATA_GPA >> 12, GHCB_MSR_PSC_SHARED),
			    GHCB_MSR_PSC(DATA_GPA >> 12, GHCB_MSR_PSC_PRIVATE) };

	validate(DATA_GPA, 0x1000);
	msr_requests(0, req, 2, &e);
	expect_done(&e, 0);
	EQ(res(0), GHCB_MSR_PSC_RESP);
	EQ(res(8), GHCB_MSR_PSC_RESP);
	/* private again, but not validated (ref 3.1, 3.2) */
	expect_rmp(DATA_GPA, 1, 0, 0, 0, 0, 0);
}
END_TEST

START_TEST(msr_psc_bad_op)
{
	uint64_t r;

	validate(DATA_GPA, 0x1000);
	r = msr_request(0, GHCB_MSR_PSC(DATA_GPA >> 12, 3)); /* PSMASH: not on this path */
	EQ(GHCB_MSR_INFO(r), GHCB_MSR_PSC_RESP);
	ck_assert_msg(r >> 32, "PSC with op 3 must report an error, got %#" PRIx64, r);
	expect_rmp(DATA_GPA, 1, 1, 0, ALL, ALL, ALL);
}
END_TEST

START_TEST(msr_psc_reserved_bits)
{
	uint64_t r;

	validate(DATA_GPA, 0x1000);
	r = msr_request(0, 1ULL << 60 | GHCB_MSR_PSC(DATA_GPA >> 12, GHCB_MSR_PSC_SHARED));
	EQ(GHCB_MSR_INFO(r), GHCB_MSR_PSC_RESP);
	ck_assert_msg(r >> 32, "PSC with bits 63:56 set must report an error, got %#" PRIx64, r);
	expect_rmp(DATA_GPA, 1, 1, 0, ALL, ALL, ALL);
}
END_TEST

START_TEST(msr_psc_outside_memory)
{
	uint64_t r = msr_request(0, GHCB_MSR_PSC((MEM_SIZE + 0x3000) >> 12, GHCB_MSR_PSC_SHARED));

	EQ(GHCB_MSR_INFO(r), GHCB_MSR_PSC_RESP);
	ck_assert_msg(r >> 32, "PSC beyond guest memory must report an error, got %#" PRIx64, r);
}
END_TEST

START_TEST(msr_run_vmpl_vmpl4)
{
	struct emu_exit e;
	uint64_t req = GHCB_MSR_RUN_VMPL(4), r;

	msr_requests(0, &req, 1, &e);
	expect_done(&e, 0);
	EQ(e.vmpl, 0);
	r = res(0);
	EQ(GHCB_MSR_INFO(r), GHCB_MSR_RUN_VMPL_RESP);
	EQ(r >> 32, 1); /* FIDELITY: error 1 = malformed or VMPL >= 4 */
}
END_TEST

START_TEST(msr_run_vmpl_reserved_bits)
{
	uint64_t r = msr_request(0, GHCB_MSR_RUN_VMPL(1) | 1ULL << 20);

	EQ(GHCB_MSR_INFO(r), GHCB_MSR_RUN_VMPL_RESP);
	EQ(r >> 32, 1);
}
END_TEST

START_TEST(msr_run_vmpl_without_vmsa)
{
	uint64_t r = msr_request(0, GHCB_MSR_RUN_VMPL(2));

	EQ(GHCB_MSR_INFO(r), GHCB_MSR_RUN_VMPL_RESP);
	EQ(r >> 32, 2); /* FIDELITY: error 2 = no runnable VMSA for that VMPL */
}
END_TEST

START_TEST(msr_hv_features)
{
	uint64_t r = msr_request(0, GHCB_MSR_HV_FEATURES_REQ);
	uint64_t f = r >> 12;

	EQ(GHCB_MSR_INFO(r), GHCB_MSR_HV_FEATURES_RESP);
	EQ(f & 0x23, 0x23); /* SNP (0), AP creation (1), multi-VMPL (5) */
}
END_TEST

START_TEST(msr_terminate)
{
	struct emu_exit e;
	uint64_t req = GHCB_MSR_TERM(1, 7);

	msr_requests(0, &req, 1, &e);
	EXPECT_KIND(&e, EMU_EXIT_KIND_TERMINATE);
	EQ(e.reason_set, 1);
	EQ(e.reason_code, 7);
}
END_TEST

START_TEST(msr_terminate_field_widths)
{
	struct emu_exit e;
	uint64_t req = 0xFFFFFFFFFF000000ULL | GHCB_MSR_TERM(0xC, 0xA5);

	msr_requests(2, &req, 1, &e);
	EXPECT_KIND(&e, EMU_EXIT_KIND_TERMINATE);
	EQ(e.reason_set, 0xC);
	EQ(e.reason_code, 0xA5);
}
END_TEST

/* FIDELITY: an unknown request leaves the MSR value unchanged; the guest runs on. */
START_TEST(msr_unknown_request)
{
	struct emu_exit e;
	uint64_t req[2] = { 0x1234000ULL | 0x0FE, GHCB_MSR_HV_FEATURES_REQ };

	msr_requests(0, req, 2, &e);
	expect_done(&e, 0);
	EQ(res(0), 0x1234000ULL | 0x0FE);
	EQ(GHCB_MSR_INFO(res(8)), GHCB_MSR_HV_FEATURES_RESP);
}
END_TEST

/* SEV_STATUS (ref 0): SEV, SEV-ES and SNP active. */
START_TEST(sev_status_msr)
{
	struct emu_exit e;

	load("sev_status");
	run(0, 0, &e);
	expect_done(&e, 0);
	EQ(e.rax & 7, 7);
}
END_TEST

START_TEST(sev_status_msr_vmpl3)
{
	struct emu_exit e;

	load("sev_status");
	run(3, 0, &e);
	expect_done(&e, 0);
	EQ(e.rax & 7, 7);
}
END_TEST

/* ---- full GHCB events (ref 6.1, 6.3) ----------------------------------------- */

enum {
	F_REGISTER = 1,
	F_SHARE = 2
};

static uint8_t *tmpl(void)
{
	uint8_t *t = emu_gpa_ptr(M, TMPL_GPA, 0x1000);

	ck_assert(t != NULL);
	return t;
}

static void tmpl_valid(unsigned off)
{
	uint8_t *t = tmpl();
	unsigned bit = off / 8;

	t[GHCB_BITMAP + bit / 8] |= 1 << (bit % 8);
}

static void tmpl_set(unsigned off, uint64_t v)
{
	memcpy(tmpl() + off, &v, 8);
	tmpl_valid(off);
}

static void nae_prepare(uint64_t code, uint64_t info1, uint64_t info2)
{
	uint16_t ver = 2;

	load("ghcb_nae");
	memset(tmpl(), 0, 0x1000);
	memcpy(tmpl() + GHCB_VERSION, &ver, 2);
	tmpl_set(GHCB_EXITCODE, code);
	tmpl_set(GHCB_EXITINFO1, info1);
	tmpl_set(GHCB_EXITINFO2, info2);
	param(P_GHCB, GHCB_GPA);
	param(P_VAL, GHCB_GPA);
	param(P_FLAGS, F_REGISTER | F_SHARE);
}

static uint64_t ghcb(unsigned off)
{
	return rd64(GHCB_GPA + off);
}

static bool ghcb_is_valid(unsigned off)
{
	unsigned bit = off / 8;
	uint8_t *g = emu_gpa_ptr(M, GHCB_GPA, 0x1000);

	return (g[GHCB_BITMAP + bit / 8] >> (bit % 8)) & 1;
}

static void nae_run(unsigned vmpl, struct emu_exit *e)
{
	run(vmpl, 0, e);
}

static void expect_nae_done(const struct emu_exit *e)
{
	expect_done(e, 0);
	EQ(res(0x00), GHCB_GPA | GHCB_MSR_REGISTER_RESP);
	EQ(res(0x08), GHCB_MSR_PSC_RESP);
	EQ(res(0x10), GHCB_GPA); /* the GHCB MSR still holds the GHCB GPA */
}

static void expect_bad_input(uint64_t reason)
{
	EQ(ghcb(GHCB_EXITINFO1) & 0xFFFFFFFFULL, GHCB_RESULT_BAD_INPUT);
	EQ(ghcb(GHCB_EXITINFO2), reason);
}

START_TEST(nae_cpuid)
{
	struct emu_exit e;

	nae_prepare(SVM_EXIT_CPUID, 0, 0);
	tmpl_set(GHCB_RAX, 0x8000001F);
	tmpl_set(GHCB_RCX, 0);
	nae_run(0, &e);
	expect_nae_done(&e);
	EQ(ghcb(GHCB_EXITINFO1) & 0xFFFFFFFFULL, 0);
	ck_assert(ghcb_is_valid(GHCB_RAX) && ghcb_is_valid(GHCB_RBX) && ghcb_is_valid(GHCB_RCX) &&
		  ghcb_is_valid(GHCB_RDX));
	EQ(ghcb(GHCB_RAX) & 0x3A, 0x3A);
	EQ(ghcb(GHCB_RBX) & 0x3F, 51);
	EQ((ghcb(GHCB_RBX) >> 12) & 0xF, 4);
}
END_TEST

START_TEST(nae_cpuid_from_vmpl2)
{
	struct emu_exit e;

	nae_prepare(SVM_EXIT_CPUID, 0, 0);
	tmpl_set(GHCB_RAX, 0x8000001F);
	tmpl_set(GHCB_RCX, 0);
	nae_run(2, &e);
	expect_nae_done(&e);
	EQ(ghcb(GHCB_EXITINFO1) & 0xFFFFFFFFULL, 0);
	EQ((ghcb(GHCB_RBX) >> 12) & 0xF, 4);
}
END_TEST

START_TEST(nae_invalid_usage)
{
	struct emu_exit e;
	uint32_t usage = 1;

	nae_prepare(SVM_EXIT_CPUID, 0, 0);
	tmpl_set(GHCB_RAX, 0x8000001F);
	tmpl_set(GHCB_RCX, 0);
	memcpy(tmpl() + GHCB_USAGE, &usage, 4);
	nae_run(0, &e);
	expect_nae_done(&e);
	expect_bad_input(GHCB_ERR_INVALID_USAGE);
}
END_TEST

START_TEST(nae_missing_input)
{
	struct emu_exit e;

	nae_prepare(SVM_EXIT_CPUID, 0, 0);
	tmpl_set(GHCB_RCX, 0); /* RAX (the leaf) not marked valid */
	nae_run(0, &e);
	expect_nae_done(&e);
	expect_bad_input(GHCB_ERR_MISSING_INPUT);
}
END_TEST

START_TEST(nae_missing_exit_code_valid_bit)
{
	struct emu_exit e;

	nae_prepare(SVM_EXIT_CPUID, 0, 0);
	tmpl_set(GHCB_RAX, 0x8000001F);
	tmpl_set(GHCB_RCX, 0);
	tmpl()[GHCB_BITMAP + (GHCB_EXITCODE / 8) / 8] &= ~(1 << ((GHCB_EXITCODE / 8) % 8));
	nae_run(0, &e);
	expect_nae_done(&e);
	expect_bad_input(GHCB_ERR_MISSING_INPUT);
}
END_TEST

START_TEST(nae_invalid_event)
{
	struct emu_exit e;

	nae_prepare(0x80007777ULL, 0, 0);
	nae_run(0, &e);
	expect_nae_done(&e);
	expect_bad_input(GHCB_ERR_INVALID_EVENT);
}
END_TEST

START_TEST(nae_invalid_scratch)
{
	struct emu_exit e;

	nae_prepare(SVM_VMGEXIT_PSC, 0, 0);
	tmpl_set(GHCB_SCRATCH, MEM_SIZE + 0x800);
	nae_run(0, &e);
	expect_nae_done(&e);
	expect_bad_input(GHCB_ERR_INVALID_SCRATCH_AREA);
}
END_TEST

START_TEST(nae_missing_scratch)
{
	struct emu_exit e;

	nae_prepare(SVM_VMGEXIT_PSC, 0, 0);
	nae_run(0, &e);
	expect_nae_done(&e);
	expect_bad_input(GHCB_ERR_MISSING_INPUT);
}
END_TEST

/* FIDELITY: VMGEXIT with a GHCB that was never registered terminates the guest. */
START_TEST(nae_unregistered_ghcb_terminates)
{
	struct emu_exit e;

	nae_prepare(SVM_EXIT_CPUID, 0, 0);
	tmpl_set(GHCB_RAX, 0x8000001F);
	tmpl_set(GHCB_RCX, 0);
	param(P_FLAGS, F_SHARE);
	nae_run(0, &e);
	EXPECT_KIND(&e, EMU_EXIT_KIND_TERMINATE);
	EQ(res(0x08), GHCB_MSR_PSC_RESP);
}
END_TEST

/* FIDELITY: a GHCB GPA other than the registered one terminates the guest. */
START_TEST(nae_other_ghcb_than_registered_terminates)
{
	struct emu_exit e;

	nae_prepare(SVM_EXIT_CPUID, 0, 0);
	tmpl_set(GHCB_RAX, 0x8000001F);
	tmpl_set(GHCB_RCX, 0);
	param(P_VAL, GHCB_GPA + 0x1000);
	nae_run(0, &e);
	EXPECT_KIND(&e, EMU_EXIT_KIND_TERMINATE);
}
END_TEST

/* Ref 6.1: the GHCB must be shared; a private GHCB cannot be used (FIDELITY: terminate). */
START_TEST(nae_private_ghcb_terminates)
{
	struct emu_exit e;

	validate(GHCB_GPA, 0x1000);
	nae_prepare(SVM_EXIT_CPUID, 0, 0);
	tmpl_set(GHCB_RAX, 0x8000001F);
	tmpl_set(GHCB_RCX, 0);
	param(P_FLAGS, F_REGISTER);
	g_alias = 0; /* the snippet writes the GHCB through its private mapping */
	nae_run(0, &e);
	EXPECT_KIND(&e, EMU_EXIT_KIND_TERMINATE);
	EQ(res(0x00), GHCB_GPA | GHCB_MSR_REGISTER_RESP);
	EQ(rmp(GHCB_GPA).assigned, 1);
}
END_TEST

START_TEST(nae_hv_features)
{
	struct emu_exit e;

	nae_prepare(SVM_VMGEXIT_HV_FEATURES, 0, 0);
	nae_run(0, &e);
	expect_nae_done(&e);
	EQ(ghcb(GHCB_EXITINFO1) & 0xFFFFFFFFULL, 0);
	EQ(ghcb(GHCB_EXITINFO2) & 0x23, 0x23);
}
END_TEST

START_TEST(nae_terminate)
{
	struct emu_exit e;

	nae_prepare(SVM_VMGEXIT_TERM_REQUEST, 0x5A3, 0);
	nae_run(0, &e);
	EXPECT_KIND(&e, EMU_EXIT_KIND_TERMINATE);
	EQ(e.reason_set, 3);
	EQ(e.reason_code, 0x5A);
}
END_TEST

static void psc_entry(unsigned i, uint64_t gpa, unsigned op)
{
	uint64_t v = gpa | (uint64_t)op << 52;

	memcpy(tmpl() + GHCB_BUFFER + 8 + 8 * i, &v, 8);
}

static void psc_header(uint16_t cur, uint16_t end)
{
	memcpy(tmpl() + GHCB_BUFFER, &cur, 2);
	memcpy(tmpl() + GHCB_BUFFER + 2, &end, 2);
}

START_TEST(nae_psc_two_pages_shared)
{
	struct emu_exit e;
	uint16_t cur;

	validate(DATA_GPA, 0x2000);
	nae_prepare(SVM_VMGEXIT_PSC, 0, 0);
	tmpl_set(GHCB_SCRATCH, GHCB_GPA + GHCB_BUFFER);
	psc_header(0, 1);
	psc_entry(0, DATA_GPA, 2);
	psc_entry(1, DATA2_GPA, 2);
	nae_run(0, &e);
	expect_nae_done(&e);
	EQ(ghcb(GHCB_EXITINFO1) & 0xFFFFFFFFULL, 0);
	EQ(ghcb(GHCB_EXITINFO2), 0);
	memcpy(&cur, (uint8_t *)emu_gpa_ptr(M, GHCB_GPA + GHCB_BUFFER, 2), 2);
	EQ(cur, 2);
	expect_rmp(DATA_GPA, 0, 0, 0, 0, 0, 0);
	expect_rmp(DATA2_GPA, 0, 0, 0, 0, 0, 0);
	expect_rmp(DATA2_GPA + 0x1000, 1, 0, 0, 0, 0, 0);
}
END_TEST

START_TEST(nae_psc_shared_then_private)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	nae_prepare(SVM_VMGEXIT_PSC, 0, 0);
	tmpl_set(GHCB_SCRATCH, GHCB_GPA + GHCB_BUFFER);
	psc_header(0, 1);
	psc_entry(0, DATA_GPA, 2);
	psc_entry(1, DATA_GPA, 1);
	nae_run(0, &e);
	expect_nae_done(&e);
	EQ(ghcb(GHCB_EXITINFO2), 0);
	expect_rmp(DATA_GPA, 1, 0, 0, 0, 0, 0);
}
END_TEST

START_TEST(nae_psc_bad_entry)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	nae_prepare(SVM_VMGEXIT_PSC, 0, 0);
	tmpl_set(GHCB_SCRATCH, GHCB_GPA + GHCB_BUFFER);
	psc_header(0, 0);
	psc_entry(0, DATA_GPA, 7);
	nae_run(0, &e);
	expect_nae_done(&e);
	ck_assert_msg((ghcb(GHCB_EXITINFO1) & 0xFFFFFFFFULL) != 0 || ghcb(GHCB_EXITINFO2) != 0,
		      "PSC with op 7 must report an error");
	expect_rmp(DATA_GPA, 1, 1, 0, ALL, ALL, ALL);
}
END_TEST

START_TEST(nae_psc_too_many_entries)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	nae_prepare(SVM_VMGEXIT_PSC, 0, 0);
	tmpl_set(GHCB_SCRATCH, GHCB_GPA + GHCB_BUFFER);
	psc_header(0, 253); /* at most 253 entries (ref 6.3) */
	psc_entry(0, DATA_GPA, 2);
	nae_run(0, &e);
	expect_nae_done(&e);
	ck_assert_msg((ghcb(GHCB_EXITINFO1) & 0xFFFFFFFFULL) != 0 || ghcb(GHCB_EXITINFO2) != 0,
		      "PSC with 254 entries must report an error");
	expect_rmp(DATA_GPA, 1, 1, 0, ALL, ALL, ALL);
}
END_TEST

START_TEST(nae_run_vmpl_invalid_vmpl)
{
	struct emu_exit e;

	nae_prepare(SVM_VMGEXIT_RUN_VMPL, 4, 0);
	nae_run(0, &e);
	expect_nae_done(&e);
	EQ(e.vmpl, 0);
	expect_bad_input(GHCB_ERR_INVALID_INPUT);
}
END_TEST

/* ---- Run VMPL (ref 5.2, 6.2, 6.3) ------------------------------------------------ */

#define PAT(n, k) \
	((uint64_t)(0x5A00000000000000ULL | (uint64_t)(n) << 48 | (uint64_t)(k) << 8 | (k)))

enum {
	K_RAX,
	K_RCX,
	K_RDX,
	K_RBX,
	K_RSP,
	K_RBP,
	K_RSI,
	K_RDI,
	K_R8
};

static void run_vmpl_scenario(bool nae, struct emu_exit *e)
{
	validate(GHCB_GPA, 0x1000);
	validate(VMSA_GPA, 0x1000);
	validate(STACK1_GPA, 0x1000);
	load("run_vmpl");
	param(P_GHCB, GHCB_GPA);
	param(P_VMSA, VMSA_GPA);
	param(P_STACK1, STACK1_GPA + 0x1000);
	param(P_FLAGS, nae ? 1 : 0);
	run(0, 0, e);
}

static void expect_scenario_end(const struct emu_exit *e)
{
	EXPECT_KIND(e, EMU_EXIT_KIND_HLT);
	ck_assert_msg(e->vmpl == 1 && e->rip == sym("vmpl1_done") + 1,
		      "expected VMPL1 to halt at vmpl1_done, got %s", desc(e));
	EQ(res(0x00), GHCB_GPA | GHCB_MSR_REGISTER_RESP);
	EQ(res(0x08), GHCB_MSR_PSC_RESP);
	EQ(res(0x18), RMP_SUCCESS);    /* VMSA bit set */
	EQ(res(0x20) & 0xFFFFFFFF, 0); /* AP creation accepted */
}

/* VMPL1 starts with exactly the registers of its VMSA. */
static void check_vmpl1_loaded(void)
{
	for (unsigned k = 0; k < 16; k++) {
		uint64_t got = res(0x200 + 8 * k);

		if (k == K_RSP)
			ck_assert_msg(got == STACK1_GPA + 0x1000, "VMPL1 RSP %#" PRIx64, got);
		else
			ck_assert_msg(got == PAT(1, k),
				      "VMPL1 register %u = %#" PRIx64 ", expected %#" PRIx64, k,
				      got, PAT(1, k));
	}
	EQ(res(0x288), 0xCD7); /* RFLAGS from the VMSA */
}

/* VMPL0 gets back every register it had (rax/rcx/rdx carry the MSR call). */
static void check_vmpl0_restored(void)
{
	for (unsigned k = K_RBX; k < 16; k++) {
		uint64_t got = res(0x100 + 8 * k);

		if (k == K_RSP)
			ck_assert_msg(got == emu_exec_stack_top(M), "VMPL0 RSP %#" PRIx64, got);
		else
			ck_assert_msg(got == PAT(0, k),
				      "VMPL0 register %u = %#" PRIx64 ", expected %#" PRIx64, k,
				      got, PAT(0, k));
	}
}

/* The saved VMPL1 VMSA (copied by VMPL0 while VMPL1 was stopped). */
static void check_vmpl1_saved(void)
{
	static const unsigned off[16] = { VMSA_RAX,	VMSA_RCX,     VMSA_RDX,	    VMSA_RBX,
					  VMSA_RSP,	VMSA_RBP,     VMSA_RSI,	    VMSA_RDI,
					  VMSA_R8,	VMSA_R8 + 8,  VMSA_R8 + 16, VMSA_R8 + 24,
					  VMSA_R8 + 32, VMSA_R8 + 40, VMSA_R8 + 48, VMSA_R8 + 56 };

	for (unsigned k = K_RBX; k < 16; k++) {
		uint64_t got = rd64(COPY_GPA + off[k]);

		if (k == K_RSP)
			ck_assert_msg(got == STACK1_GPA + 0x1000, "saved VMPL1 RSP %#" PRIx64, got);
		else
			ck_assert_msg(got == PAT(2, k),
				      "saved VMPL1 register %u = %#" PRIx64 ", expected %#" PRIx64,
				      k, got, PAT(2, k));
	}
	EQ(rd64(COPY_GPA + VMSA_RAX), GHCB_MSR_RUN_VMPL(0)); /* the Run VMPL 0 request */
	EQ(rd64(COPY_GPA + VMSA_RCX), MSR_GHCB);
	EQ(rd64(COPY_GPA + VMSA_RIP), sym("vmpl1_resume")); /* VMGEXIT is trap-like */
	EQ(rd64(COPY_GPA + VMSA_EXIT_CODE),
	   SVM_EXIT_VMGEXIT); /* ref 5: GUEST_EXIT_CODE = VMGEXIT */
	EQ(*(uint8_t *)emu_gpa_ptr(M, COPY_GPA + VMSA_VMPL, 1), 1); /* VMPL field still 1 */
	ck_assert(rd64(COPY_GPA + VMSA_EFER) & (1ULL << 12));
}

/* After the second switch VMPL1 resumes with its own saved registers. */
static void check_vmpl1_resumed(void)
{
	for (unsigned k = K_RBX; k < 16; k++) {
		uint64_t got = res(0x400 + 8 * k);

		if (k == K_RSP)
			ck_assert_msg(got == STACK1_GPA + 0x1000, "resumed VMPL1 RSP %#" PRIx64,
				      got);
		else
			ck_assert_msg(got == PAT(2, k),
				      "resumed VMPL1 register %u = %#" PRIx64
				      ", expected %#" PRIx64,
				      k, got, PAT(2, k));
	}
	EQ(res(0x480),
	   GHCB_MSR_RUN_VMPL_RESP); /* its own GHCB MSR: the Run VMPL 0 response, no error */
}

/*
 * Code coherence (APM vol 2 §7.6.1, Intel SDM vol 3 §8.1.3): a store to code
 * reaches its next execution whichever context stores, through whichever
 * virtual alias. VMPL0 and VMPL1 are separate contexts in the model, each with
 * its own translations (snippet xmc.S; FIDELITY.md "Self- and cross-modifying code").
 */
static void xmc_scenario(void)
{
	uint64_t f = PTE_P | PTE_W | PTE_A | PTE_C;
	struct emu_exit e;

	/* VMPL1's tables: the first 2 MiB at GVA = GPA and at 0x80_0000_0000 + GPA. */
	validate(PT_GPA, 0x4000);
	wr64(PT_GPA, (PT_GPA + 0x1000) | f);
	wr64(PT_GPA + 8, (PT_GPA + 0x1000) | f);
	wr64(PT_GPA + 0x1000, (PT_GPA + 0x2000) | f);
	wr64(PT_GPA + 0x2000, (PT_GPA + 0x3000) | f);
	for (uint64_t i = 0; i < 512; i++)
		wr64(PT_GPA + 0x3000 + i * 8, (i << 12) | f | PTE_D);
	validate(GHCB_GPA, 0x1000);
	validate(VMSA_GPA, 0x1000);
	validate(STACK1_GPA, 0x1000);
	load("xmc");
	param(P_CR3, PT_GPA);
	param(P_GHCB, GHCB_GPA);
	param(P_VMSA, VMSA_GPA);
	param(P_STACK1, STACK1_GPA + 0x1000);
	run(0, 0, &e);
	EXPECT_KIND(&e, EMU_EXIT_KIND_HLT);
	ck_assert_msg(e.vmpl == 0 && e.rip == sym("done") + 1, "expected VMPL0 at done, got %s",
		      desc(&e));
	EQ(res(0x20), RMP_SUCCESS);    /* VMSA bit set */
	EQ(res(0x28) & 0xFFFFFFFF, 0); /* AP creation accepted */
	EQ(res(0x00), 1);	       /* the code as loaded ran first */
}

START_TEST(xmc_store_by_other_vmpl_same_address)
{
	xmc_scenario();
	EQ(res(0x08), 2);
}
END_TEST

START_TEST(xmc_store_by_other_vmpl_through_alias)
{
	xmc_scenario();
	EQ(res(0x10), 3);
}
END_TEST

START_TEST(smc_store_through_alias)
{
	xmc_scenario();
	EQ(res(0x18), 4);
}
END_TEST

/*
 * An interrupt for the OS (a self-IPI VMPL1 sends through the GHCB) while
 * VMPL1 runs: with RFLAGS.IF = 1 in the OS's (VMPL3) VMSA the hypervisor
 * exits VMPL1 with VMEXIT_INTR (0x60, APM vol 2 §15.21, appendix C) and runs
 * VMPL0; with IF = 0 it lets VMPL1 run on (the Veil hypervisor contract,
 * backends/emu/hv/irq_exit.c, FIDELITY.md; KVM likewise holds an interrupt
 * the guest cannot take). Either way the interrupt stays pending for the OS.
 */
static void irq_exit_scenario(uint64_t os_rflags)
{
	struct emu_exit e;

	validate(GHCB_GPA, 0x1000);
	validate(VMSA_GPA, 0x2000); /* VMPL1's VMSA, the OS's VMSA */
	validate(STACK1_GPA, 0x1000);
	load("irq_exit");
	param(P_GHCB, GHCB_GPA);
	param(P_VMSA, VMSA_GPA);
	param(P_ADDR, VMSA_GPA + 0x1000);
	param(P_STACK1, STACK1_GPA + 0x1000);
	param(P_FLAGS, os_rflags);
	run(0, 0, &e);
	EXPECT_KIND(&e, EMU_EXIT_KIND_HLT);
	ck_assert_msg(e.vmpl == 0 && e.rip == sym("done") + 1, "expected VMPL0 at done, got %s",
		      desc(&e));
	EQ(res(0x18), RMP_SUCCESS);    /* OS VMSA: VMSA bit */
	EQ(res(0x20) & 0xFFFFFFFF, 0); /* ... created */
	EQ(res(0x28), RMP_SUCCESS);    /* VMPL1 VMSA */
	EQ(res(0x30) & 0xFFFFFFFF, 0);
	EQ(res(0x10), 0);		       /* the SVR write was accepted */
	EQ(res(0x38), GHCB_MSR_RUN_VMPL_RESP); /* VMPL0 resumed from its Run VMPL */
	EQ(res(0x58) & 1, 1);		       /* vector 0x40 still pending in the IRR */
}

START_TEST(irq_for_os_exits_vmpl1_to_vmpl0)
{
	irq_exit_scenario(0x202);
	EQ(res(0x48), SVM_EXIT_INTR);	 /* VMPL1's GUEST_EXIT_CODE */
	EQ(res(0x50), sym("vmpl1_ipi")); /* stopped right after the IPI's VMGEXIT */
	EQ(res(0x40), 0);		 /* ... before its next store */
}
END_TEST

START_TEST(irq_for_os_with_if_clear_no_exit)
{
	irq_exit_scenario(0x2);
	EQ(res(0x48), SVM_EXIT_VMGEXIT); /* VMPL1 left through its own Run VMPL 0 */
	EQ(res(0x50), sym("vmpl1_back"));
	EQ(res(0x40), 1);
}
END_TEST

START_TEST(run_vmpl_msr_loads_target_state)
{
	struct emu_exit e;

	run_vmpl_scenario(false, &e);
	expect_scenario_end(&e);
	check_vmpl1_loaded();
	EQ(emu_vmsa_gpa(M, 0, 1), VMSA_GPA);
}
END_TEST

START_TEST(run_vmpl_msr_restores_caller_state)
{
	struct emu_exit e;

	run_vmpl_scenario(false, &e);
	expect_scenario_end(&e);
	check_vmpl0_restored();
	EQ(res(0x30), GHCB_MSR_RUN_VMPL_RESP); /* VMPL0's GHCB MSR: Run VMPL response, error 0 */
}
END_TEST

START_TEST(run_vmpl_msr_saves_lower_vmsa)
{
	struct emu_exit e;

	run_vmpl_scenario(false, &e);
	expect_scenario_end(&e);
	check_vmpl1_saved();
}
END_TEST

START_TEST(run_vmpl_msr_resumes_lower_vmpl)
{
	struct emu_exit e;

	run_vmpl_scenario(false, &e);
	expect_scenario_end(&e);
	check_vmpl1_resumed();
}
END_TEST

/* VMPL0's own VMSA once the run ends in VMPL1: VMPL0's state at its last
 * VMGEXIT (the model may defer that save while nothing can read the page,
 * backends/emu/machine/vmsa_lazy.c, but the page must hold it in the end). */
START_TEST(run_vmpl_saves_vmpl0_vmsa)
{
	static const unsigned k_off[][2] = { { 3, VMSA_RBX },	   { 5, VMSA_RBP },
					     { 8, VMSA_R8 },	   { 9, VMSA_R8 + 8 },
					     { 10, VMSA_R8 + 16 }, { 11, VMSA_R8 + 24 },
					     { 12, VMSA_R8 + 32 }, { 13, VMSA_R8 + 40 },
					     { 14, VMSA_R8 + 48 }, { 15, VMSA_R8 + 56 } };
	struct emu_exit e;
	const uint8_t *v;
	uint64_t got;

	run_vmpl_scenario(false, &e);
	expect_scenario_end(&e);
	v = emu_phys_ptr(M, emu_vmsa_gpa(M, 0, 0), 0x1000);
	ck_assert(v);
	memcpy(&got, v + VMSA_RIP, 8);
	EQ(got, sym("vmpl0_last_exit")); /* VMGEXIT is trap-like */
	memcpy(&got, v + VMSA_EXIT_CODE, 8);
	EQ(got, SVM_EXIT_VMGEXIT);
	memcpy(&got, v + VMSA_RSP, 8);
	EQ(got, emu_exec_stack_top(M));
	memcpy(&got, v + VMSA_RAX, 8);
	EQ(got, GHCB_MSR_RUN_VMPL_REQ); /* EAX of the request, VMPL 1 in EDX */
	for (unsigned i = 0; i < sizeof(k_off) / sizeof(k_off[0]); i++) {
		memcpy(&got, v + k_off[i][1], 8);
		ck_assert_msg(got == PAT(0, k_off[i][0]),
			      "saved VMPL0 register %u = %#" PRIx64 ", expected %#" PRIx64,
			      k_off[i][0], got, PAT(0, k_off[i][0]));
	}
}
END_TEST

START_TEST(run_vmpl_nae_switches_full_state)
{
	struct emu_exit e;

	run_vmpl_scenario(true, &e);
	expect_scenario_end(&e);
	check_vmpl1_loaded();
	check_vmpl0_restored();
	EQ(res(0x30) & 0xFFFFFFFF, 0); /* GHCB SW_EXITINFO1 of the Run VMPL event */
	check_vmpl1_saved();
	check_vmpl1_resumed();
}
END_TEST

static void vmpl1_access(uint64_t addr, uint64_t rdx, struct emu_exit *e)
{
	validate(GHCB_GPA, 0x1000);
	validate(VMSA_GPA, 0x1000);
	validate(STACK1_GPA, 0x1000);
	validate(DATA_GPA, 0x1000);
	load("vmpl1_access");
	param(P_GHCB, GHCB_GPA);
	param(P_VMSA, VMSA_GPA);
	param(P_STACK1, STACK1_GPA + 0x1000);
	param(P_ADDR, addr);
	param(P_VAL, 0x1000);
	param(P_RDX, rdx);
	run(0, 0, e);
	EQ(res(0x18), RMP_SUCCESS);
	EQ(res(0x20) & 0xFFFFFFFF, 0);
}

/* Control: without an RMP change both VMPL1 stores land. */
START_TEST(vmpl1_stores_across_switches)
{
	struct emu_exit e;

	vmpl1_access(DATA_GPA + 0x40, 0, &e);
	EXPECT_KIND(&e, EMU_EXIT_KIND_HLT);
	ck_assert_msg(e.vmpl == 1 && e.rip == sym("vmpl1_done") + 1, "%s", desc(&e));
	EQ(res(0x30), GHCB_MSR_RUN_VMPL_RESP);
	EQ(rd64(DATA_GPA + 0x40), 0x1001);
}
END_TEST

/* Ref 2, 2.7: after VMPL0 revokes W (and flushes via PCPU_ID), VMPL1's next store faults. */
START_TEST(rmpadjust_revocation_reaches_lower_vmpl)
{
	struct emu_exit e;

	vmpl1_access(DATA_GPA + 0x40, ADJ(1, R, 0), &e);
	EXPECT_KIND(&e, EMU_EXIT_KIND_NPF);
	ck_assert_msg(e.vmpl == 1 && e.rip == sym("second"), "%s", desc(&e));
	EQ(res(0x38), RMP_SUCCESS);
	EQ(rd64(DATA_GPA + 0x40), 0x1000); /* the first store landed, the second did not */
	EQ(e.exitinfo1, NPF_VMPL_FINAL | EMU_NPF_W);
	EQ(e.exitinfo2, DATA_GPA + 0x40);
}
END_TEST

/* Ref 4.3, 5.2: the VMSA page (no VMPL1 access) is protected from the VMPL it describes. */
START_TEST(lower_vmpl_cannot_write_its_vmsa)
{
	struct emu_exit e;
	uint64_t rip_field;

	vmpl1_access(VMSA_GPA + VMSA_RIP, 0, &e);
	EXPECT_KIND(&e, EMU_EXIT_KIND_NPF);
	ck_assert_msg(e.vmpl == 1 && e.rip == sym("first"), "%s", desc(&e));
	rip_field = rd64(VMSA_GPA + VMSA_RIP);
	ck_assert_msg(rip_field != 0x1000, "VMPL1 rewrote its own VMSA RIP");
	EQ(e.exitinfo1, NPF_VMPL_FINAL | EMU_NPF_W);
	EQ(e.exitinfo2, VMSA_GPA + VMSA_RIP);
}
END_TEST

/* ---- AP creation (ref 5.2, 6.3) --------------------------------------------------- */

static void ap_scenario(unsigned nr_vcpus, unsigned vmpl, unsigned tvmpl, unsigned apic,
			unsigned req, uint64_t flags, struct emu_exit *e)
{
	if (nr_vcpus != 1)
		use_machine(nr_vcpus, false, 0);
	validate(GHCB_GPA, 0x1000);
	validate(VMSA_GPA, 0x1000);
	validate(STACK1_GPA, 0x1000);
	load("ap");
	param(P_GHCB, GHCB_GPA);
	param(P_VMSA, VMSA_GPA);
	param(P_STACK1, STACK1_GPA + 0x1000);
	param(P_TVMPL, tvmpl);
	param(P_APIC, apic);
	param(P_REQ, req);
	param(P_RMPADJ, g_ap_mark ? ADJ(1, 0, 1) : 0);
	param(P_FLAGS, flags);
	param(P_VFIELD, g_vfield);
	run(vmpl, 0, e);
}

static void expect_ap_done(const struct emu_exit *e)
{
	EXPECT_KIND(e, EMU_EXIT_KIND_HLT);
	ck_assert_msg(e->vcpu == 0 && e->vmpl == 0 && e->rip == sym("done") + 1,
		      "expected vCPU 0 VMPL0 to halt at done, got %s", desc(e));
	EQ(res(0x00), GHCB_GPA | GHCB_MSR_REGISTER_RESP);
	EQ(res(0x08), GHCB_MSR_PSC_RESP);
}

/* VMSA for another VMPL of the same vCPU, registered for the next INIT. */
START_TEST(ap_create_on_init_other_vmpl)
{
	struct emu_exit e;

	ap_scenario(1, 0, 1, 0, 0, 0, &e);
	expect_ap_done(&e);
	EQ(res(0x18), RMP_SUCCESS);
	EQ(res(0x20) & 0xFFFFFFFF, 0);
	EQ(emu_vmsa_gpa(M, 0, 1), VMSA_GPA);
	expect_rmp(VMSA_GPA, 1, 1, 1, 0, ALL, ALL);
	EQ(res(0x800), 0); /* not started */
}
END_TEST

/* CREATE of another VMPL's VMSA on the caller's own vCPU installs it; the caller goes
 * on at VMPL0 after its VMGEXIT (only Run VMPL switches the running VMSA, ref 6.3). */
START_TEST(ap_create_other_vmpl_caller_continues)
{
	struct emu_exit e;

	ap_scenario(1, 0, 1, 0, 1, 0, &e);
	expect_ap_done(&e);
	EQ(res(0x20) & 0xFFFFFFFF, 0);
	EQ(emu_vmsa_gpa(M, 0, 1), VMSA_GPA);
	EQ(res(0x800), 0);
}
END_TEST

START_TEST(ap_create_on_init_other_vcpu)
{
	struct emu_exit e;

	ap_scenario(2, 0, 0, 1, 0, 0, &e);
	expect_ap_done(&e);
	EQ(res(0x20) & 0xFFFFFFFF, 0);
	EQ(emu_vmsa_gpa(M, 1, 0), VMSA_GPA);
	EQ(res(0x800), 0); /* CREATE_ON_INIT does not start it */
}
END_TEST

START_TEST(ap_create_other_vcpu_runs)
{
	struct emu_exit e;

	ap_scenario(2, 0, 0, 1, 1, 1, &e);
	EXPECT_KIND(&e, EMU_EXIT_KIND_HLT);
	EQ(res(0x20) & 0xFFFFFFFF, 0);
	EQ(emu_vmsa_gpa(M, 1, 0), VMSA_GPA);
	EQ(res(0x800), 0xA9A9A9A9);	     /* the AP ran from its VMSA ... */
	EQ(res(0x808), STACK1_GPA + 0x1000); /* ... with its RSP */
	ck_assert_msg(e.vcpu == 0 && e.rip == sym("done") + 1, "run end: %s", desc(&e));
}
END_TEST

START_TEST(ap_create_other_vcpu_vmpl1)
{
	struct emu_exit e;

	ap_scenario(2, 0, 1, 1, 0, 0, &e);
	expect_ap_done(&e);
	EQ(res(0x20) & 0xFFFFFFFF, 0);
	EQ(emu_vmsa_gpa(M, 1, 1), VMSA_GPA);
	EQ(emu_vmsa_gpa(M, 0, 1), 0);
}
END_TEST

START_TEST(ap_destroy)
{
	struct emu_exit e;

	ap_scenario(1, 0, 1, 0, 0, 2, &e);
	expect_ap_done(&e);
	EQ(res(0x20) & 0xFFFFFFFF, 0);
	EQ(res(0x30) & 0xFFFFFFFF, 0);
	EQ(emu_vmsa_gpa(M, 0, 1), 0);
}
END_TEST

START_TEST(ap_create_bad_request)
{
	struct emu_exit e;

	ap_scenario(1, 0, 1, 0, 7, 0, &e);
	expect_ap_done(&e);
	EQ(res(0x20) & 0xFFFFFFFF, 2);
	EQ(res(0x28), 5);
	EQ(emu_vmsa_gpa(M, 0, 1), 0);
}
END_TEST

START_TEST(ap_create_unaligned_vmsa)
{
	struct emu_exit e;

	param(P_EI2ADJ, 0x10);
	ap_scenario(1, 0, 1, 0, 0, 0, &e);
	expect_ap_done(&e);
	EQ(res(0x20) & 0xFFFFFFFF, 2);
	EQ(res(0x28), 5);
	EQ(emu_vmsa_gpa(M, 0, 1), 0);
}
END_TEST

/* FIDELITY: RAX must carry the new VMSA's SEV_FEATURES. */
START_TEST(ap_create_sev_features_mismatch)
{
	struct emu_exit e;

	param(P_SEVF, 1ULL << 2);
	ap_scenario(1, 0, 1, 0, 0, 0, &e);
	expect_ap_done(&e);
	EQ(res(0x20) & 0xFFFFFFFF, 2);
	EQ(res(0x28), 5);
	EQ(emu_vmsa_gpa(M, 0, 1), 0);
}
END_TEST

/* Ref 4.3/5.2: the hypervisor only runs pages whose RMP VMSA bit is set. */
START_TEST(ap_create_without_vmsa_bit)
{
	struct emu_exit e;

	g_ap_mark = false;
	ap_scenario(1, 0, 1, 0, 0, 0, &e);
	expect_ap_done(&e);
	EQ(res(0x20) & 0xFFFFFFFF, 2);
	EQ(res(0x28), 5);
	EQ(emu_vmsa_gpa(M, 0, 1), 0);
	EQ(rmp(VMSA_GPA).vmsa, 0);
}
END_TEST

START_TEST(ap_create_apic_id_out_of_range)
{
	struct emu_exit e;

	ap_scenario(2, 0, 0, 5, 0, 0, &e);
	expect_ap_done(&e);
	EQ(res(0x20) & 0xFFFFFFFF, 2);
	EQ(res(0x28), 5);
}
END_TEST

/* Ref 5.2: a VMPL0 VMSA may not be created from VMPL>0. */
START_TEST(ap_create_vmpl0_from_vmpl1_refused)
{
	struct emu_exit e;

	g_ap_mark = false; /* VMPL1 cannot set the VMSA bit anyway */
	ap_scenario(2, 1, 0, 1, 0, 0, &e);
	EXPECT_KIND(&e, EMU_EXIT_KIND_HLT);
	ck_assert_msg(e.vmpl == 1 && e.rip == sym("done") + 1, "%s", desc(&e));
	EQ(res(0x00), GHCB_GPA | GHCB_MSR_REGISTER_RESP);
	ck_assert_msg((res(0x20) & 0xFFFFFFFF) != 0,
		      "AP creation of a VMPL0 VMSA from VMPL1 accepted");
	EQ(emu_vmsa_gpa(M, 1, 0), 0);
}
END_TEST

/* Item 5 of issue 9: the VMSA's VMPL field must equal the VMPL it is created for,
 * as for Run VMPL (VMRUN of such a VMSA fails, APM vol 2 15.36.12). A VMSA saying
 * VMPL3 offered as vCPU 1's VMPL0 is refused and never runs. */
START_TEST(ap_create_vmpl_field_mismatch)
{
	struct emu_exit e;

	g_vfield = 3;
	ap_scenario(2, 0, 0, 1, 1, 1, &e);
	expect_ap_done(&e);
	EQ(res(0x20) & 0xFFFFFFFF, 2);
	EQ(res(0x28), 5);
	EQ(emu_vmsa_gpa(M, 1, 0), 0);
	EQ(res(0x800), 0); /* the AP never ran */
}
END_TEST

START_TEST(ap_create_on_init_vmpl_field_mismatch)
{
	struct emu_exit e;

	g_vfield = 1;
	ap_scenario(1, 0, 1, 0, 0, 0, &e);
	expect_ap_done(&e);
	EQ(res(0x20) & 0xFFFFFFFF, 2);
	EQ(res(0x28), 5);
	EQ(emu_vmsa_gpa(M, 0, 1), 0);
}
END_TEST

/* AP Reset Hold (GHCB spec 56421, MSR 0x006): the AP stops there; an AP creation starts
 * it again from its new VMSA (the model has no INIT/SIPI). */
START_TEST(ap_reset_hold_until_created)
{
	struct emu_exit e;

	ap_scenario(2, 0, 0, 1, 1, 1 | 16, &e);
	expect_ap_done(&e);
	EQ(res(0x20) & 0xFFFFFFFF, 0);
	EQ(res(0x800), 0xA9A9A9A9);
	EQ(res(0x60), 0); /* held: never returned from the request */
	EQ(res(0x50) & 0xFFFFFFFF, 0);
	EQ(res(0x68), 2); /* started a second time by the CREATE */
}
END_TEST

/* ---- intercepts and their priority (issue 9) ----------------------------------------- */

/* CVE-2023-46813 class: at CPL3 with IOPL 0 and no TSS I/O bitmap, OUT takes #GP(0)
 * before the IOIO intercept could raise #VC (APM vol 2, 13.3 and 15.10.2). */
START_TEST(ioio_cpl3_gp_before_vc)
{
	struct emu_exit e;

	load("ioio");
	run(1, 3, &e);
	expect_exception(&e, EMU_VEC_GP, sym("insn"), true, 0);
}
END_TEST

START_TEST(ioio_in_cpl3_gp_before_vc)
{
	struct emu_exit e;

	load("ioio_in");
	run(0, 3, &e);
	expect_exception(&e, EMU_VEC_GP, sym("insn"), true, 0);
}
END_TEST

/* With RFLAGS.IOPL = 3, CPL3 may do port I/O: the intercept then raises #VC 0x7B. */
START_TEST(ioio_cpl3_iopl3_vc)
{
	struct emu_exit e;

	load("ioio_user");
	param(P_FLAGS, 3);
	run(0, 0, &e);
	expect_vc(&e, SVM_EXIT_IOIO, sym("insn"));
	EQ(e.cpl, 3);
}
END_TEST

START_TEST(ioio_cpl3_iopl2_gp)
{
	struct emu_exit e;

	load("ioio_user");
	param(P_FLAGS, 2);
	param(P_RAX, 1);
	param(P_RDX, 0x3F8);
	run(0, 0, &e);
	expect_exception(&e, EMU_VEC_GP, sym("insn2"), true, 0);
	EQ(e.cpl, 3);
}
END_TEST

/* DR7 accesses are NAE events (no DebugSwap): #VC 0x37 (write) / 0x27 (read); other
 * debug registers are not intercepted. */
START_TEST(dr7_write_raises_vc)
{
	struct emu_exit e;

	load("dr7");
	run(0, 0, &e);
	expect_vc(&e, SVM_EXIT_WRITE_DR7, sym("insn"));
	EQ(e.rbx, 0x1000); /* DR0 ran */
}
END_TEST

START_TEST(dr7_read_raises_vc)
{
	struct emu_exit e;

	load("dr7");
	param(P_FLAGS, 1);
	run(2, 0, &e);
	expect_vc(&e, SVM_EXIT_READ_DR7, sym("insn2"));
}
END_TEST

/* INVD: #VC with its own exit code 0x76 (not WBINVD's 0x89). */
START_TEST(invd_raises_vc_0x76)
{
	struct emu_exit e;

	load("invd");
	run(0, 0, &e);
	expect_vc(&e, SVM_EXIT_INVD, sym("insn"));
}
END_TEST

START_TEST(wbinvd_raises_vc_0x89)
{
	struct emu_exit e;

	load("wbinvd");
	run(0, 0, &e);
	expect_vc(&e, SVM_EXIT_WBINVD, sym("insn"));
}
END_TEST

START_TEST(monitor_raises_vc)
{
	struct emu_exit e;

	load("monitor");
	run(0, 0, &e);
	expect_vc(&e, SVM_EXIT_MONITOR, sym("insn"));
}
END_TEST

START_TEST(mwait_raises_vc)
{
	struct emu_exit e;

	load("monitor");
	param(P_FLAGS, 1);
	run(1, 0, &e);
	expect_vc(&e, SVM_EXIT_MWAIT, sym("insn2"));
}
END_TEST

/* MONITOR at CPL3: #UD (privilege check) comes before the intercept. */
START_TEST(monitor_cpl3_ud)
{
	struct emu_exit e;

	load("monitor");
	run(0, 3, &e);
	expect_exception(&e, EMU_VEC_UD, sym("insn"), false, 0);
}
END_TEST

/* RDTSCP is advertised, so it runs: the model's TSC (later than an RDTSC before it)
 * and ECX = TSC_AUX. */
START_TEST(rdtscp_runs)
{
	struct emu_exit e;

	load("rdtscp");
	run(0, 0, &e);
	expect_done(&e, 0);
	ck_assert_msg(res(0x08) > res(0x00), "RDTSCP %#" PRIx64 " not after RDTSC %#" PRIx64,
		      res(0x08), res(0x00));
	EQ(res(0x10), 0x5A5A1234);
}
END_TEST

START_TEST(rdtscp_runs_vmpl2)
{
	struct emu_exit e;

	load("rdtscp");
	run(2, 0, &e);
	expect_done(&e, 0);
	EQ(res(0x10), 0x5A5A1234);
}
END_TEST

/* SYSCALL from CPL3 (APM vol 3, SYSCALL): RCX = the next RIP, R11 = RFLAGS, RFLAGS &=
 * ~SFMASK, CS = STAR[47:32], SS = CS + 8, RSP unchanged, RIP = LSTAR. The model runs it
 * through its private stub page without stopping the CPU: a later guest fetch at that
 * page's address must still go through the guest's own tables (unmapped here: #PF). */
START_TEST(syscall_from_cpl3)
{
	struct emu_exit e;
	uint64_t stub = emu_mem_size(M); /* the private region's first page (the stub) */

	load("syscall");
	param(P_ADDR, stub + 0x320); /* the fast path's landing */
	run(1, 0, &e);
	EQ(res(0x00), sym("after"));
	EQ(res(0x08), 0x602);
	EQ(res(0x10), 0x002);
	EQ(res(0x18), 0x08);
	EQ(res(0x20), 0x10);
	EQ(res(0x28), res(0x30));
	EXPECT_KIND(&e, EMU_EXIT_KIND_EXCEPTION);
	ck_assert_msg(e.vector == EMU_VEC_PF && e.rip == stub + 0x320 && e.cpl == 0,
		      "expected #PF at the stub page's address, got %s", desc(&e));
}
END_TEST

/* An exception from CPL3 through a DPL0 interrupt gate (APM vol 2, 8.9.3): the frame
 * (RIP, CS, RFLAGS, RSP, SS of the user) on the TSS's RSP0 stack aligned to 16, CS from
 * the gate, SS NULL, IF clear. The model enters CPL0 without a VMSA load here. */
START_TEST(user_fault_frame)
{
	struct emu_exit e;
	uint64_t rsp0 = (emu_exec_stack_top(M) - 0x8000) & ~0xFULL; /* the exec TSS's RSP0 */

	load("user_fault");
	validate(0x24000, 0x1000); /* the IDT */
	run(1, 0, &e);
	expect_done(&e, 0);
	EQ(res(0x00), rsp0 - 40);
	EQ(res(0x08), sym("insn"));
	EQ(res(0x10), 0x23);
	EQ(res(0x18), 0x202);
	EQ(res(0x20), 0x30000);
	EQ(res(0x28), 0x1B);
	EQ(res(0x30), 0x002);
	EQ(res(0x38), 0x08);
	EQ(res(0x40), 0);
}
END_TEST

/* ---- 2 MiB RMP entries (issue 9) ------------------------------------------------------ */

static void psc_entry_sz(unsigned i, uint64_t gpa, unsigned op, bool large, unsigned cur_page)
{
	uint64_t v = gpa | (uint64_t)op << 52 | (uint64_t)large << 56 | cur_page;

	memcpy(tmpl() + GHCB_BUFFER + 8 + 8 * i, &v, 8);
}

static uint64_t psc_entry_out(unsigned i)
{
	return rd64(GHCB_GPA + GHCB_BUFFER + 8 + 8 * i);
}

/* psc2m snippet: the template holds a Page State Change of `n` entries (the test adds
 * them), then PVALIDATE(rax, rcx, rdx). */
static void psc2m_prepare(uint16_t n, uint64_t rax, uint64_t rcx, uint64_t rdx)
{
	uint16_t ver = 2;

	validate(GHCB_GPA, 0x1000);
	load("psc2m");
	memset(tmpl(), 0, 0x1000);
	memcpy(tmpl() + GHCB_VERSION, &ver, 2);
	tmpl_set(GHCB_EXITCODE, SVM_VMGEXIT_PSC);
	tmpl_set(GHCB_EXITINFO1, 0);
	tmpl_set(GHCB_EXITINFO2, 0);
	tmpl_set(GHCB_SCRATCH, GHCB_GPA + GHCB_BUFFER);
	psc_header(0, n - 1);
	param(P_GHCB, GHCB_GPA);
	param(P_RAX, rax);
	param(P_RCX, rcx);
	param(P_RDX, rdx);
}

static void expect_page_size(uint64_t gpa, uint8_t size)
{
	ck_assert_msg(rmp(gpa).page_size == size, "RMP %#" PRIx64 ": page size %u, expected %u",
		      gpa, rmp(gpa).page_size, size);
}

/* A 2 MiB private PSC makes one 2 MiB entry; PVALIDATE 2M validates all 512 pages. */
START_TEST(psc_2m_private_then_pvalidate_2m)
{
	struct emu_exit e;

	psc2m_prepare(1, BIG_GPA, 1, 1);
	psc_entry_sz(0, BIG_GPA, 1, true, 0);
	run(0, 0, &e);
	expect_done(&e, 0);
	EQ(res(0x10), 0);
	EQ(res(0x18), RMP_SUCCESS);
	for (uint64_t off = 0; off < 2 * MiB; off += 0x1000) {
		expect_page_size(BIG_GPA + off, 1);
		ck_assert_msg(rmp(BIG_GPA + off).validated, "page %#" PRIx64 " not validated",
			      (uint64_t)(BIG_GPA + off));
	}
}
END_TEST

/* A 4K page state change inside a 2 MiB entry: the hypervisor PSMASHes first (KVM), so
 * the result is 512 4K entries, one of them shared; never a 2 MiB entry holding a
 * shared page. A 2M PVALIDATE then fails with FAIL_SIZEMISMATCH and validates nothing. */
START_TEST(psc_4k_inside_2m_splits)
{
	struct emu_exit e;

	psc2m_prepare(2, BIG_GPA, 1, 1);
	psc_entry_sz(0, BIG_GPA, 1, true, 0);
	psc_entry_sz(1, BIG_GPA + 0x1000, 2, false, 0);
	run(0, 0, &e);
	expect_done(&e, 0);
	EQ(res(0x10), 0);
	EQ(res(0x18), RMP_FAIL_SIZEMISMATCH);
	expect_rmp(BIG_GPA + 0x1000, 0, 0, 0, 0, 0, 0);
	for (uint64_t off = 0; off < 2 * MiB; off += 0x1000) {
		expect_page_size(BIG_GPA + off, 0);
		ck_assert_msg(!rmp(BIG_GPA + off).validated, "page %#" PRIx64 " validated",
			      (uint64_t)(BIG_GPA + off));
	}
	expect_rmp(BIG_GPA, 1, 0, 0, 0, 0, 0);
	expect_rmp(BIG_GPA + 0x2000, 1, 0, 0, 0, 0, 0);
}
END_TEST

/* A 4K PVALIDATE on a 2 MiB entry takes #NPF(SIZEM); the hypervisor model PSMASHes and
 * the guest retries, as KVM does: the page is validated, its neighbours are not. */
START_TEST(pvalidate_4k_on_2m_psmash_retry)
{
	struct emu_exit e;

	psc2m_prepare(1, BIG_GPA + 0x3000, 0, 1);
	psc_entry_sz(0, BIG_GPA, 1, true, 0);
	run(0, 0, &e);
	expect_done(&e, 0);
	EQ(res(0x18), RMP_SUCCESS);
	EQ(res(0x20), 0);
	expect_rmp(BIG_GPA + 0x3000, 1, 1, 0, 0, 0, 0); /* PSC to private: VMPL1-3 none */
	expect_rmp(BIG_GPA + 0x2000, 1, 0, 0, 0, 0, 0);
	expect_rmp(BIG_GPA + 0x4000, 1, 0, 0, 0, 0, 0);
	expect_page_size(BIG_GPA, 0);
	expect_page_size(BIG_GPA + 0x3000, 0);
	expect_page_size(BIG_GPA + 0x1FF000, 0);
}
END_TEST

/* RMPADJUST 4K on a validated 2 MiB page: SIZEM, PSMASH, retry; only that page changes. */
START_TEST(rmpadjust_4k_on_2m_psmash_retry)
{
	struct emu_exit e;

	psc2m_prepare(1, BIG_GPA, 1, 1);
	psc_entry_sz(0, BIG_GPA, 1, true, 0);
	param(P_FLAGS, 1);
	param(P_ADDR, BIG_GPA + 0x5000);
	param(P_VAL, ADJ(1, R, 0));
	run(0, 0, &e);
	expect_done(&e, 0);
	EQ(res(0x18), RMP_SUCCESS);
	EQ(res(0x28), RMP_SUCCESS);
	expect_rmp(BIG_GPA + 0x5000, 1, 1, 0, R, 0, 0);
	expect_rmp(BIG_GPA + 0x6000, 1, 1, 0, 0, 0, 0);
	expect_page_size(BIG_GPA + 0x5000, 0);
	expect_page_size(BIG_GPA + 0x6000, 0);
}
END_TEST

/* The loader (RMPUPDATE-like) on one 4K page of a 2 MiB entry splits it as well. */
START_TEST(loader_assign_inside_2m_splits)
{
	struct emu_exit e;

	psc2m_prepare(1, BIG_GPA, 1, 1);
	psc_entry_sz(0, BIG_GPA, 1, true, 0);
	run(0, 0, &e);
	expect_done(&e, 0);
	expect_page_size(BIG_GPA + 0x7000, 1);
	ck_assert_int_eq(emu_rmp_set_perms(M, BIG_GPA + 0x7000, 0x1000, 2, R), 0);
	expect_page_size(BIG_GPA, 0);
	expect_page_size(BIG_GPA + 0x7000, 0);
	expect_rmp(BIG_GPA + 0x7000, 1, 1, 0, 0, R, 0);
	expect_rmp(BIG_GPA + 0x8000, 1, 1, 0, 0, 0, 0);
}
END_TEST

/* ---- Page State Change error codes (issue 9; Linux sev-common.h, KVM sev.c) -------- */

#define PSC_ERROR_GENERIC (0x100ULL << 32)
#define PSC_ERROR_INVALID_HDR ((1ULL << 32) | 1)
#define PSC_ERROR_INVALID_ENTRY ((1ULL << 32) | 2)

static void nae_psc_prepare(uint16_t cur, uint16_t end)
{
	nae_prepare(SVM_VMGEXIT_PSC, 0, 0);
	tmpl_set(GHCB_SCRATCH, GHCB_GPA + GHCB_BUFFER);
	psc_header(cur, end);
}

static uint16_t psc_cur(void)
{
	uint16_t cur;

	memcpy(&cur, (uint8_t *)emu_gpa_ptr(M, GHCB_GPA + GHCB_BUFFER, 2), 2);
	return cur;
}

START_TEST(psc_bad_op_invalid_entry)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x2000);
	nae_psc_prepare(0, 1);
	psc_entry(0, DATA_GPA, 2);
	psc_entry(1, DATA2_GPA, 7);
	nae_run(0, &e);
	expect_nae_done(&e);
	EQ(ghcb(GHCB_EXITINFO1) & 0xFFFFFFFFULL, 0);
	EQ(ghcb(GHCB_EXITINFO2), PSC_ERROR_INVALID_ENTRY);
	EQ(psc_cur(), 1); /* the failing entry */
	expect_rmp(DATA_GPA, 0, 0, 0, 0, 0, 0);
	expect_rmp(DATA2_GPA, 1, 1, 0, ALL, ALL, ALL);
}
END_TEST

START_TEST(psc_misaligned_2m_invalid_entry)
{
	struct emu_exit e;

	nae_psc_prepare(0, 0);
	psc_entry_sz(0, BIG_GPA + 0x1000, 1, true, 0);
	nae_run(0, &e);
	expect_nae_done(&e);
	EQ(ghcb(GHCB_EXITINFO2), PSC_ERROR_INVALID_ENTRY);
	expect_page_size(BIG_GPA, 0);
}
END_TEST

START_TEST(psc_cur_page_beyond_invalid_entry)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	nae_psc_prepare(0, 0);
	psc_entry_sz(0, DATA_GPA, 2, false, 2);
	nae_run(0, &e);
	expect_nae_done(&e);
	EQ(ghcb(GHCB_EXITINFO2), PSC_ERROR_INVALID_ENTRY);
	expect_rmp(DATA_GPA, 1, 1, 0, ALL, ALL, ALL);
}
END_TEST

/* At most 253 entries (end_entry <= 252): INVALID_HDR, nothing changed. */
START_TEST(psc_too_many_entries_invalid_hdr)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x1000);
	nae_psc_prepare(0, 253);
	psc_entry(0, DATA_GPA, 2);
	nae_run(0, &e);
	expect_nae_done(&e);
	EQ(ghcb(GHCB_EXITINFO1) & 0xFFFFFFFFULL, 0);
	EQ(ghcb(GHCB_EXITINFO2), PSC_ERROR_INVALID_HDR);
	expect_rmp(DATA_GPA, 1, 1, 0, ALL, ALL, ALL);
}
END_TEST

/* 253 entries is the maximum that is accepted. */
START_TEST(psc_253_entries_accepted)
{
	struct emu_exit e;

	validate(DATA_GPA, 253 * 0x1000);
	nae_psc_prepare(0, 252);
	for (unsigned i = 0; i < 253; i++)
		psc_entry(i, DATA_GPA + i * 0x1000ULL, 2);
	nae_run(0, &e);
	expect_nae_done(&e);
	EQ(ghcb(GHCB_EXITINFO2), 0);
	EQ(psc_cur(), 253);
	expect_rmp(DATA_GPA + 252 * 0x1000ULL, 0, 0, 0, 0, 0, 0);
}
END_TEST

/* An entry whose cur_page says it is done is skipped; a done entry reads back
 * cur_page = its page count. */
START_TEST(psc_cur_page_done_skipped)
{
	struct emu_exit e;

	validate(DATA_GPA, 0x2000);
	nae_psc_prepare(0, 1);
	psc_entry_sz(0, DATA_GPA, 2, false, 1);
	psc_entry_sz(1, DATA2_GPA, 2, false, 0);
	nae_run(0, &e);
	expect_nae_done(&e);
	EQ(ghcb(GHCB_EXITINFO2), 0);
	expect_rmp(DATA_GPA, 1, 1, 0, ALL, ALL, ALL);
	expect_rmp(DATA2_GPA, 0, 0, 0, 0, 0, 0);
	EQ(psc_entry_out(1) & 0xFFF, 1);
}
END_TEST

/* MSR protocol: KVM's GHCB_MSR_PSC_RESP_ERROR (bit 63 of the response). */
START_TEST(msr_psc_error_code)
{
	validate(DATA_GPA, 0x1000);
	EQ(msr_request(0, GHCB_MSR_PSC(DATA_GPA >> 12, 7)), GHCB_MSR_PSC_RESP | 1ULL << 63);
	expect_rmp(DATA_GPA, 1, 1, 0, ALL, ALL, ALL);
}
END_TEST

/* ---- VMSA in use (issue 9) ---------------------------------------------------------- */

/* While vCPU 1 runs its VMSA, VMPL0 cannot clear the page's VMSA bit (FAIL_INUSE) and the
 * hypervisor cannot take the page (RMPUPDATE FAIL_INUSE, APM vol 2 15.36.12): the MSR
 * page state change answers an error and the page stays private and a VMSA. */
START_TEST(vmsa_in_use_refused)
{
	struct emu_exit e;

	ap_scenario(2, 0, 0, 1, 1, 1 | 4, &e);
	expect_ap_done(&e);
	EQ(res(0x20) & 0xFFFFFFFF, 0);
	EQ(res(0x800), 0xA9A9A9A9);
	EQ(res(0x40), RMP_FAIL_INUSE);
	EQ(res(0x48), GHCB_MSR_PSC_RESP | 1ULL << 63);
	expect_rmp(VMSA_GPA, 1, 1, 1, 0, ALL, ALL);
}
END_TEST

/* A VMSA running on vCPU 1 cannot be started on vCPU 2 as well (VMRUN of an in-use VMSA
 * fails, APM vol 2 15.36.12): the AP creation is refused and vCPU 2 gets nothing. */
START_TEST(vmsa_in_use_not_created_twice)
{
	struct emu_exit e;

	ap_scenario(3, 0, 0, 1, 1, 1 | 8, &e);
	expect_ap_done(&e);
	EQ(res(0x20) & 0xFFFFFFFF, 0);
	EQ(res(0x800), 0xA9A9A9A9);
	EQ(res(0x50) & 0xFFFFFFFF, 2);
	EQ(res(0x58), 5);
	EQ(emu_vmsa_gpa(M, 1, 0), VMSA_GPA);
	EQ(emu_vmsa_gpa(M, 2, 0), 0);
}
END_TEST

/* A VMSA that is registered but not running may lose its VMSA bit. */
START_TEST(vmsa_not_running_may_be_cleared)
{
	struct emu_exit e;

	ap_scenario(2, 0, 0, 1, 0, 4, &e);
	expect_ap_done(&e);
	EQ(res(0x20) & 0xFFFFFFFF, 0);
	EQ(res(0x40), RMP_SUCCESS);
	EQ(res(0x48), GHCB_MSR_PSC_RESP);
	expect_rmp(VMSA_GPA, 0, 0, 0, 0, 0, 0);
}
END_TEST

/* ---- MSRs through the GHCB (issue 9) ------------------------------------------------- */

static void nae_msr_read(uint32_t msr, struct emu_exit *e)
{
	nae_prepare(SVM_EXIT_MSR, 0, 0);
	tmpl_set(GHCB_RCX, msr);
	nae_run(0, e);
	expect_nae_done(e);
}

/* APIC_BASE: enabled at 0xFEE0_0000 in x2APIC mode (EXTD), vCPU 0 is the BSP. */
START_TEST(nae_msr_apic_base)
{
	struct emu_exit e;

	nae_msr_read(0x1B, &e);
	EQ(ghcb(GHCB_EXITINFO1) & 0xFFFFFFFFULL, 0);
	ck_assert(ghcb_is_valid(GHCB_RAX) && ghcb_is_valid(GHCB_RDX));
	EQ(ghcb(GHCB_RAX), 0xFEE00D00ULL);
	EQ(ghcb(GHCB_RDX), 0);
}
END_TEST

/* The TSC through the GHCB is the model's clock: it moves forward. */
START_TEST(nae_msr_tsc)
{
	struct emu_exit e;

	nae_msr_read(0x10, &e);
	EQ(ghcb(GHCB_EXITINFO1) & 0xFFFFFFFFULL, 0);
	ck_assert_msg(ghcb(GHCB_RAX) | ghcb(GHCB_RDX), "TSC read as 0");
}
END_TEST

/* The hypervisor's x2APIC (APM vol 2, 16.11): the ID register reads the vCPU number. */
START_TEST(nae_msr_x2apic_id)
{
	struct emu_exit e;

	nae_msr_read(0x802, &e);
	EQ(ghcb(GHCB_EXITINFO1) & 0xFFFFFFFFULL, 0);
	EQ(ghcb(GHCB_RAX), 0);
}
END_TEST

/* EOI is write-only in x2APIC mode: a read is #GP (APM vol 2, 16.11.2). */
START_TEST(nae_msr_x2apic_gp)
{
	struct emu_exit e;

	nae_msr_read(0x80B, &e);
	EQ(ghcb(GHCB_EXITINFO1) & 0xFFFFFFFFULL, GHCB_RESULT_INJECT);
	EQ(ghcb(GHCB_EXITINFO2), (1ULL << 31) | (3 << 8) | (1 << 11) | EMU_VEC_GP);
}
END_TEST

/* ---- Get APIC IDs (issue 9; GHCB spec 56421, NAE 0x8000_0017) ------------------------- */

static void apic_ids(unsigned nr_vcpus, uint64_t pages, bool scratch, struct emu_exit *e)
{
	uint16_t ver = 2;

	if (nr_vcpus != 1)
		use_machine(nr_vcpus, false, 0);
	validate(GHCB_GPA, 0x1000);
	validate(DATA_GPA, 0x1000);
	wr64(DATA_GPA, 0x5555555555555555ULL);
	load("apic_ids");
	memset(tmpl(), 0, 0x1000);
	memcpy(tmpl() + GHCB_VERSION, &ver, 2);
	tmpl_set(GHCB_EXITCODE, SVM_VMGEXIT_GET_APIC_IDS);
	tmpl_set(GHCB_EXITINFO1, 0);
	tmpl_set(GHCB_EXITINFO2, 0);
	tmpl_set(GHCB_RAX, pages);
	if (scratch)
		tmpl_set(GHCB_SCRATCH, DATA_GPA);
	param(P_GHCB, GHCB_GPA);
	param(P_ADDR, DATA_GPA);
	run(0, 0, e);
	expect_done(e, 0);
	EQ(res(0x10), GHCB_MSR_PSC_RESP);
}

/* Too few pages (0): the hypervisor answers the pages needed in RAX, writes nothing. */
START_TEST(nae_apic_ids_size_query)
{
	struct emu_exit e;

	apic_ids(2, 0, true, &e);
	EQ(res(0x18) & 0xFFFFFFFFULL, 0);
	EQ(res(0x28), 1);
	EQ(rd64(DATA_GPA), 0x5555555555555555ULL);
}
END_TEST

START_TEST(nae_apic_ids_list)
{
	struct emu_exit e;

	apic_ids(3, 1, true, &e);
	EQ(res(0x18) & 0xFFFFFFFFULL, 0);
	EQ(rd64(DATA_GPA), 3ULL | 0ULL << 32); /* count 3, id 0 */
	EQ(rd64(DATA_GPA + 8), 1ULL | 2ULL << 32);
}
END_TEST

START_TEST(nae_apic_ids_missing_scratch)
{
	struct emu_exit e;

	apic_ids(1, 1, false, &e);
	EQ(res(0x18) & 0xFFFFFFFFULL, 2);
	EQ(res(0x20), 3);
}
END_TEST

START_TEST(nae_hv_features_apic_id_list)
{
	EQ(GHCB_MSR_DATA(msr_request(0, GHCB_MSR_HV_FEATURES_REQ)) & GHCB_HV_FEATURE_APIC_ID_LIST,
	   GHCB_HV_FEATURE_APIC_ID_LIST);
}
END_TEST

/* ---- SMAP (issue 9) ------------------------------------------------------------------ */

/* CR4.SMAP is accepted and enforced: a CPL0 read of a user page with RFLAGS.AC clear is a
 * #PF with P=1 (APM vol 2, 5.6.6); STAC lets the accesses through, CLAC ends that. */
START_TEST(smap_enforced)
{
	struct emu_exit e;

	load("smap");
	param(P_ADDR, 0x1234);
	run(0, 0, &e);
	expect_exception(&e, EMU_VEC_PF, sym("insn"), true, 1);
	ck_assert_msg(e.rbx & 1ULL << 21, "CR4.SMAP not accepted: CR4 %#" PRIx64, e.rbx);
	EQ(res(0), e.rbx); /* written under STAC */
	EQ(e.rcx, 0x1234);
	EQ(e.rflags & 1ULL << 18, 0); /* CLAC cleared AC */
}
END_TEST

START_TEST(smap_off_no_fault)
{
	struct emu_exit e;

	load("smap");
	param(P_FLAGS, 1);
	param(P_ADDR, 0x1234);
	run(0, 0, &e);
	expect_done(&e, 0);
	EQ(e.rdx, 0x1234);
	EQ(e.rbx & 1ULL << 21, 0);
}
END_TEST

/* ---- CPUID as the model implements it (issue 9) ---------------------------------------- */

/* Leaf 7: SMEP and SMAP, which the model enforces (smap test case, page_walk). */
START_TEST(cpuid_leaf7_reports_smep_smap)
{
	struct emu_exit e;

	nae_prepare(SVM_EXIT_CPUID, 0, 0);
	tmpl_set(GHCB_RAX, 7);
	tmpl_set(GHCB_RCX, 0);
	nae_run(0, &e);
	expect_nae_done(&e);
	EQ(ghcb(GHCB_EXITINFO1) & 0xFFFFFFFFULL, 0);
	EQ(ghcb(GHCB_RBX) & (1ULL << 7 | 1ULL << 20), 1ULL << 7 | 1ULL << 20);
}
END_TEST

/* GHCB spec 56421 (CPUID NAE): leaf 0xD needs XCR0 in the GHCB; without it the
 * hypervisor answers missing input (KVM sev_es_validate_vmgexit). */
START_TEST(cpuid_leaf_d_requires_xcr0)
{
	struct emu_exit e;

	nae_prepare(SVM_EXIT_CPUID, 0, 0);
	tmpl_set(GHCB_RAX, 0xD);
	tmpl_set(GHCB_RCX, 0);
	nae_run(0, &e);
	expect_nae_done(&e);
	expect_bad_input(GHCB_ERR_MISSING_INPUT);
}
END_TEST

/* With XCR0 = x87|SSE: the legacy area plus the XSAVE header, 576 bytes. */
START_TEST(cpuid_leaf_d_with_xcr0)
{
	struct emu_exit e;

	nae_prepare(SVM_EXIT_CPUID, 0, 0);
	tmpl_set(GHCB_RAX, 0xD);
	tmpl_set(GHCB_RCX, 0);
	tmpl_set(GHCB_XCR0, 3);
	nae_run(0, &e);
	expect_nae_done(&e);
	EQ(ghcb(GHCB_EXITINFO1) & 0xFFFFFFFFULL, 0);
	EQ(ghcb(GHCB_RAX), 3);
	EQ(ghcb(GHCB_RBX), 576);
	EQ(ghcb(GHCB_RCX), 576);
	EQ(ghcb(GHCB_RDX), 0);
}
END_TEST

/* ---- machine basics ----------------------------------------------------------------- */

START_TEST(rmp_launch_state)
{
	expect_rmp(DATA_GPA, 1, 0, 0, 0, 0, 0);
	validate(DATA_GPA, 0x1000);
	expect_rmp(DATA_GPA, 1, 1, 0, ALL, ALL, ALL);
	ck_assert_int_eq(emu_rmp_set_perms(M, DATA_GPA, 0x1000, 0, R), -1); /* VMPL0 is fixed */
}
END_TEST

START_TEST(initial_state)
{
	struct emu_exit e;

	load("initial_state");
	run(0, 0, &e);
	expect_done(&e, 0);
	for (unsigned i = 0; i < 15; i++)
		ck_assert_msg(res(8 * i) == 0, "GPR slot %u = %#" PRIx64 ", expected 0", i,
			      res(8 * i));
	EQ(res(0x78), emu_exec_stack_top(M));
	EQ(res(0x80), 0x2);
	EQ(res(0x88) & 0x80010001ULL, 0x80010001ULL);			  /* PG, WP, PE */
	EQ(res(0x90) & (1ULL << 5 | 1ULL << 20 | 1ULL << 21), 1ULL << 5); /* PAE, no SMEP/SMAP */
	EQ(res(0x98), 0x1122334455667788ULL);
}
END_TEST

START_TEST(stack_usable_at_vmpl3)
{
	struct emu_exit e;

	load("initial_state");
	run(3, 0, &e);
	expect_done(&e, 0);
	EQ(e.vmpl, 3);
	EQ(res(0x98), 0x1122334455667788ULL);
}
END_TEST

START_TEST(cpuid_raises_vc)
{
	struct emu_exit e;

	load("cpuid");
	run(0, 0, &e);
	expect_vc(&e, SVM_EXIT_CPUID, sym("insn"));
}
END_TEST

START_TEST(ioio_raises_vc)
{
	struct emu_exit e;

	load("ioio");
	run(1, 0, &e);
	expect_vc(&e, SVM_EXIT_IOIO, sym("insn"));
}
END_TEST

START_TEST(ioio_in_raises_vc)
{
	struct emu_exit e;

	load("ioio_in");
	run(0, 0, &e);
	expect_vc(&e, SVM_EXIT_IOIO, sym("insn"));
}
END_TEST

START_TEST(msr_raises_vc)
{
	struct emu_exit e;

	load("msr_other");
	run(0, 0, &e);
	expect_vc(&e, SVM_EXIT_MSR, sym("insn"));
}
END_TEST

START_TEST(rmpupdate_raises_ud)
{
	struct emu_exit e;

	load("rmpupdate");
	run(0, 0, &e);
	expect_exception(&e, EMU_VEC_UD, sym("insn"), false, 0);
}
END_TEST

START_TEST(psmash_raises_ud)
{
	struct emu_exit e;

	load("psmash");
	run(0, 0, &e);
	expect_exception(&e, EMU_VEC_UD, sym("insn"), false, 0);
}
END_TEST

START_TEST(instruction_limit)
{
	struct emu_exit e;

	use_machine(1, true, 1000);
	load("loop");
	run(0, 0, &e);
	EXPECT_KIND(&e, EMU_EXIT_KIND_LIMIT);
	EQ(e.insns, 1000);
	EQ(e.rip, sym("_start"));
}
END_TEST

START_TEST(hlt_reports_state)
{
	struct emu_exit e;

	use_machine(1, true, 0);
	load("rmpadjust");
	validate(DATA_GPA, 0x1000);
	param(P_RAX, DATA_GPA);
	param(P_RDX, ADJ(2, R, 0));
	run(1, 0, &e);
	expect_done(&e, 0);
	EQ(e.vmpl, 1);
	EQ(e.cpl, 0);
	EQ(e.vcpu, 0);
	EQ(e.rcx, 0);
	EQ(e.rdx, ADJ(2, R, 0));
	EQ(e.insns, 5); /* 3 loads, RMPADJUST, HLT */
}
END_TEST

/* ---- suite ------------------------------------------------------------------------- */

static TCase *tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return tc;
}

static Suite *conformance_suite(void)
{
	Suite *s = suite_create("conformance");
	TCase *tc;

	tc = tcase(s, "rmpadjust");
	tcase_add_test(tc, rmpadjust_vmpl0_grants_vmpl1);
	tcase_add_test(tc, rmpadjust_vmpl1_grants_vmpl2);
	tcase_add_test(tc, rmpadjust_vmpl1_grants_exactly_what_it_holds);
	tcase_add_test(tc, rmpadjust_vmpl1_revokes_with_empty_mask);
	tcase_add_test(tc, rmpadjust_vmpl0_target_own_vmpl);
	tcase_add_test(tc, rmpadjust_vmpl1_target_own_vmpl);
	tcase_add_test(tc, rmpadjust_vmpl1_target_vmpl0);
	tcase_add_test(tc, rmpadjust_vmpl2_target_vmpl1);
	tcase_add_test(tc, rmpadjust_grant_more_than_held);
	tcase_add_test(tc, rmpadjust_grant_xs_not_held);
	tcase_add_test(tc, rmpadjust_vmsa_bit_from_vmpl0);
	tcase_add_test(tc, rmpadjust_vmsa_bit_set_then_clear);
	tcase_add_test(tc, rmpadjust_vmsa_bit_ignored_from_vmpl1);
	tcase_add_test(tc, rmpadjust_2m_on_4k_entries);
	tcase_add_test(tc, rmpadjust_2m_on_4k_entries_vmpl1);
	tcase_add_test(tc, rmpadjust_target_vmpl4);
	tcase_add_test(tc, rmpadjust_reserved_rdx_bits);
	tcase_add_test(tc, rmpadjust_cpl3_gp);
	tcase_add_test(tc, rmpadjust_not_validated);
	tcase_add_test(tc, rmpadjust_on_shared_page_npf);

	tc = tcase(s, "pvalidate");
	tcase_add_test(tc, pvalidate_validate);
	tcase_add_test(tc, pvalidate_rescind);
	tcase_add_test(tc, pvalidate_validate_unchanged_sets_cf);
	tcase_add_test(tc, pvalidate_rescind_unchanged_sets_cf);
	tcase_add_test(tc, pvalidate_vmpl1_fails);
	tcase_add_test(tc, pvalidate_vmpl3_rescind_fails);
	tcase_add_test(tc, pvalidate_2m_on_4k_entries);
	tcase_add_test(tc, pvalidate_cpl3_gp);
	tcase_add_test(tc, pvalidate_keeps_permissions);
	tcase_add_test(tc, pvalidate_then_access);
	tcase_add_test(tc, pvalidate_rescind_then_access_vc);
	tcase_add_test(tc, pvalidate_on_shared_page_npf);

	tc = tcase(s, "validated");
	tcase_add_test(tc, read_not_validated_vc);
	tcase_add_test(tc, write_not_validated_vc);
	tcase_add_test(tc, fetch_not_validated_vc);
	tcase_add_test(tc, read_not_validated_cpl3_vc);
	tcase_add_test(tc, not_validated_beats_vmpl_check);

	tc = tcase(s, "vmpl_perms");
	tcase_add_test(tc, read_without_r_cpl0);
	tcase_add_test(tc, read_without_r_cpl3);
	tcase_add_test(tc, read_with_r_cpl3);
	tcase_add_test(tc, write_without_w_cpl0);
	tcase_add_test(tc, write_without_w_cpl3);
	tcase_add_test(tc, write_with_rw_ok);
	tcase_add_test(tc, write_with_rw_cpl3_ok);
	tcase_add_test(tc, write_without_read_faults);
	tcase_add_test(tc, write_without_read_cpl3_faults);
	tcase_add_test(tc, read_of_write_only_page_faults);
	tcase_add_test(tc, rmw_on_read_only_page);
	tcase_add_test(tc, fetch_without_xs_cpl0);
	tcase_add_test(tc, fetch_without_xu_cpl3);
	tcase_add_test(tc, fetch_with_xu_only_cpl3_ok);
	tcase_add_test(tc, fetch_with_xs_only_cpl0_ok);
	tcase_add_test(tc, fetch_without_any_x_vmpl3);
	tcase_add_test(tc, code_page_without_xs);
	tcase_add_test(tc, execute_only_page_read_faults);
	tcase_add_test(tc, vmpl0_ignores_lower_masks);
	tcase_add_test(tc, vmpl2_uses_its_own_mask);
	tcase_add_test(tc, vmpl3_uses_its_own_mask);
	tcase_add_test(tc, shared_write_to_private_page);
	tcase_add_test(tc, shared_read_of_private_page_ciphertext);
	tcase_add_test(tc, code_through_shared_alias_decoded);
	tcase_add_test(tc, private_read_of_shared_page);
	tcase_add_test(tc, shared_write_to_shared_page_ok);

	tc = tcase(s, "page_walk");
	tcase_add_test(tc, walk_control_readable_tables);
	tcase_add_test(tc, walk_pt_without_read);
	tcase_add_test(tc, walk_pt_without_any_access);
	tcase_add_test(tc, walk_pd_without_read_on_fetch);
	tcase_add_test(tc, walk_read_only_tables_ok);
	tcase_add_test(tc, walk_accessed_update_needs_write);
	tcase_add_test(tc, walk_sets_accessed_bit);
	tcase_add_test(tc, walk_pt_not_validated_vc);
	tcase_add_test(tc, pf_not_present);
	tcase_add_test(tc, pf_write_to_read_only_pte_with_wp);
	tcase_add_test(tc, pf_fetch_from_nx_page);
	tcase_add_test(tc, fetch_through_guest_tables_ok);
	tcase_add_test(tc, pf_reserved_address_bit);
	tcase_add_test(tc, pf_reserved_ps_in_pml4e);
	tcase_add_test(tc, pf_reserved_2m_pde_bits);
	tcase_add_test(tc, walk_2m_pde_ok);
	tcase_add_test(tc, guest_pf_before_vmpl_check);
	tcase_add_test(tc, rmpadjust_uses_virtual_address);
	tcase_add_test(tc, pvalidate_uses_virtual_address);

	tc = tcase(s, "ghcb_msr");
	tcase_add_test(tc, msr_sev_info);
	tcase_add_test(tc, msr_cpuid_eax);
	tcase_add_test(tc, msr_cpuid_ebx);
	tcase_add_test(tc, msr_preferred_ghcb);
	tcase_add_test(tc, msr_register_ghcb);
	tcase_add_test(tc, msr_register_ghcb_outside_memory);
	tcase_add_test(tc, msr_psc_to_shared);
	tcase_add_test(tc, msr_psc_shared_then_private);
	tcase_add_test(tc, msr_psc_bad_op);
	tcase_add_test(tc, msr_psc_reserved_bits);
	tcase_add_test(tc, msr_psc_outside_memory);
	tcase_add_test(tc, msr_ghcb_write_cpl3_gp);
	tcase_add_test(tc, msr_site_rewritten);
	tcase_add_test(tc, msr_run_vmpl_vmpl4);
	tcase_add_test(tc, msr_run_vmpl_reserved_bits);
	tcase_add_test(tc, msr_run_vmpl_without_vmsa);
	tcase_add_test(tc, msr_hv_features);
	tcase_add_test(tc, msr_terminate);
	tcase_add_test(tc, msr_terminate_field_widths);
	tcase_add_test(tc, msr_unknown_request);
	tcase_add_test(tc, sev_status_msr);
	tcase_add_test(tc, sev_status_msr_vmpl3);

	tc = tcase(s, "ghcb_nae");
	tcase_add_test(tc, nae_cpuid);
	tcase_add_test(tc, nae_cpuid_from_vmpl2);
	tcase_add_test(tc, nae_invalid_usage);
	tcase_add_test(tc, nae_missing_input);
	tcase_add_test(tc, nae_missing_exit_code_valid_bit);
	tcase_add_test(tc, nae_invalid_event);
	tcase_add_test(tc, nae_invalid_scratch);
	tcase_add_test(tc, nae_missing_scratch);
	tcase_add_test(tc, nae_unregistered_ghcb_terminates);
	tcase_add_test(tc, nae_other_ghcb_than_registered_terminates);
	tcase_add_test(tc, nae_private_ghcb_terminates);
	tcase_add_test(tc, nae_hv_features);
	tcase_add_test(tc, nae_terminate);
	tcase_add_test(tc, nae_psc_two_pages_shared);
	tcase_add_test(tc, nae_psc_shared_then_private);
	tcase_add_test(tc, nae_psc_bad_entry);
	tcase_add_test(tc, nae_psc_too_many_entries);
	tcase_add_test(tc, nae_run_vmpl_invalid_vmpl);

	tc = tcase(s, "run_vmpl");
	tcase_add_test(tc, run_vmpl_msr_loads_target_state);
	tcase_add_test(tc, run_vmpl_msr_restores_caller_state);
	tcase_add_test(tc, run_vmpl_msr_saves_lower_vmsa);
	tcase_add_test(tc, run_vmpl_msr_resumes_lower_vmpl);
	tcase_add_test(tc, run_vmpl_saves_vmpl0_vmsa);
	tcase_add_test(tc, run_vmpl_nae_switches_full_state);
	tcase_add_test(tc, vmpl1_stores_across_switches);
	tcase_add_test(tc, rmpadjust_revocation_reaches_lower_vmpl);
	tcase_add_test(tc, lower_vmpl_cannot_write_its_vmsa);

	tc = tcase(s, "ap_creation");
	tcase_add_test(tc, ap_create_on_init_other_vmpl);
	tcase_add_test(tc, ap_create_other_vmpl_caller_continues);
	tcase_add_test(tc, ap_create_on_init_other_vcpu);
	tcase_add_test(tc, ap_create_other_vcpu_runs);
	tcase_add_test(tc, ap_create_other_vcpu_vmpl1);
	tcase_add_test(tc, ap_destroy);
	tcase_add_test(tc, ap_create_bad_request);
	tcase_add_test(tc, ap_create_unaligned_vmsa);
	tcase_add_test(tc, ap_create_sev_features_mismatch);
	tcase_add_test(tc, ap_create_without_vmsa_bit);
	tcase_add_test(tc, ap_create_apic_id_out_of_range);
	tcase_add_test(tc, ap_create_vmpl0_from_vmpl1_refused);
	tcase_add_test(tc, ap_create_vmpl_field_mismatch);
	tcase_add_test(tc, ap_create_on_init_vmpl_field_mismatch);
	tcase_add_test(tc, ap_reset_hold_until_created);

	tc = tcase(s, "rmp_2m");
	tcase_add_test(tc, psc_2m_private_then_pvalidate_2m);
	tcase_add_test(tc, psc_4k_inside_2m_splits);
	tcase_add_test(tc, pvalidate_4k_on_2m_psmash_retry);
	tcase_add_test(tc, rmpadjust_4k_on_2m_psmash_retry);
	tcase_add_test(tc, loader_assign_inside_2m_splits);

	tc = tcase(s, "psc_errors");
	tcase_add_test(tc, psc_bad_op_invalid_entry);
	tcase_add_test(tc, psc_misaligned_2m_invalid_entry);
	tcase_add_test(tc, psc_cur_page_beyond_invalid_entry);
	tcase_add_test(tc, psc_too_many_entries_invalid_hdr);
	tcase_add_test(tc, psc_253_entries_accepted);
	tcase_add_test(tc, psc_cur_page_done_skipped);
	tcase_add_test(tc, msr_psc_error_code);

	tc = tcase(s, "irq_exit");
	tcase_add_test(tc, irq_for_os_exits_vmpl1_to_vmpl0);
	tcase_add_test(tc, irq_for_os_with_if_clear_no_exit);

	tc = tcase(s, "code_coherence");
	tcase_add_test(tc, xmc_store_by_other_vmpl_same_address);
	tcase_add_test(tc, xmc_store_by_other_vmpl_through_alias);
	tcase_add_test(tc, smc_store_through_alias);

	tc = tcase(s, "vmsa_in_use");
	tcase_add_test(tc, vmsa_in_use_refused);
	tcase_add_test(tc, vmsa_not_running_may_be_cleared);
	tcase_add_test(tc, vmsa_in_use_not_created_twice);

	tc = tcase(s, "hypervisor");
	tcase_add_test(tc, cpuid_leaf7_reports_smep_smap);
	tcase_add_test(tc, cpuid_leaf_d_requires_xcr0);
	tcase_add_test(tc, cpuid_leaf_d_with_xcr0);

	tcase_add_test(tc, nae_msr_apic_base);
	tcase_add_test(tc, nae_msr_tsc);
	tcase_add_test(tc, nae_msr_x2apic_id);
	tcase_add_test(tc, nae_msr_x2apic_gp);

	tcase_add_test(tc, nae_apic_ids_size_query);
	tcase_add_test(tc, nae_apic_ids_list);
	tcase_add_test(tc, nae_apic_ids_missing_scratch);
	tcase_add_test(tc, nae_hv_features_apic_id_list);

	tc = tcase(s, "smap");
	tcase_add_test(tc, smap_enforced);
	tcase_add_test(tc, smap_off_no_fault);

	tc = tcase(s, "intercepts");
	tcase_add_test(tc, ioio_cpl3_gp_before_vc);
	tcase_add_test(tc, ioio_in_cpl3_gp_before_vc);
	tcase_add_test(tc, ioio_cpl3_iopl3_vc);
	tcase_add_test(tc, ioio_cpl3_iopl2_gp);
	tcase_add_test(tc, dr7_write_raises_vc);
	tcase_add_test(tc, dr7_read_raises_vc);
	tcase_add_test(tc, invd_raises_vc_0x76);
	tcase_add_test(tc, wbinvd_raises_vc_0x89);
	tcase_add_test(tc, monitor_raises_vc);
	tcase_add_test(tc, mwait_raises_vc);
	tcase_add_test(tc, monitor_cpl3_ud);
	tcase_add_test(tc, rdtscp_runs);
	tcase_add_test(tc, rdtscp_runs_vmpl2);
	tcase_add_test(tc, syscall_from_cpl3);
	tcase_add_test(tc, user_fault_frame);

	tc = tcase(s, "machine");
	tcase_add_test(tc, rmp_launch_state);
	tcase_add_test(tc, initial_state);
	tcase_add_test(tc, stack_usable_at_vmpl3);
	tcase_add_test(tc, cpuid_raises_vc);
	tcase_add_test(tc, ioio_raises_vc);
	tcase_add_test(tc, ioio_in_raises_vc);
	tcase_add_test(tc, msr_raises_vc);
	tcase_add_test(tc, rmpupdate_raises_ud);
	tcase_add_test(tc, psmash_raises_ud);
	tcase_add_test(tc, instruction_limit);
	tcase_add_test(tc, hlt_reports_state);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(conformance_suite());
	int failed, ran;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	ran = srunner_ntests_run(sr);
	srunner_free(sr);
	if (!ran) {
		fprintf(stderr, "no test ran (CK_RUN_CASE names an unknown test case?)\n");
		return EXIT_FAILURE;
	}
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
