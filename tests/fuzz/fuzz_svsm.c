/* SPDX-License-Identifier: MIT */
/*
 * fuzz_svsm - every SVSM call the OS can make, against the monitor built by
 * the unit-test fixture with all services initialised. The input is a
 * sequence of operations: writes of arbitrary bytes (or of near-valid
 * PVALIDATE requests, VMSAs and KCI declarations) into pages the OS can write,
 * and calls whose protocol, call number, vCPU and RCX/RDX/R8/R9 are drawn from
 * the input, biased towards valid protocols and calls and towards GPAs at
 * interesting boundaries. fz_check runs after every call.
 */
#include <string.h>

#include <veil/lib.h>

#include "fuzz_common.h"

#define MAX_OPS 64

static u64 pick_gpa(struct fz_in *in)
{
	u8 kind = fz_u8(in), adj = fz_u8(in);
	u64 gpa;

	switch (kind % 13) {
	case 0:
		gpa = FX_PAGE(adj % FX_SCRATCH_PAGES);
		break;
	case 1:
		gpa = FX_REQ;
		break;
	case 2:
		gpa = FX_KERNEL_START + (u64)(fz_u8(in)) * VEIL_PAGE_SIZE;
		break;
	case 3:
		gpa = VEIL_BOOT_INFO + (u64)(adj % 8) * VEIL_PAGE_SIZE;
		break;
	case 4: /* the monitor region, its first and last pages most */
		gpa = FX_MON_BASE +
		      (u64)(fz_u16(in) % (FX_MON_SIZE / VEIL_PAGE_SIZE)) * VEIL_PAGE_SIZE;
		break;
	case 5: /* the end of memory */
		gpa = FX_MEM_SIZE - (u64)(adj % 4) * VEIL_PAGE_SIZE;
		break;
	case 6: /* 2^64 wrap */
		gpa = 0 - (u64)(adj % 4) * VEIL_PAGE_SIZE;
		break;
	case 7: /* not validated, huge and small 2 MiB ranges */
		gpa = (adj & 1 ? FX_HUGE_2M :
		       adj & 2 ? FX_SMALL_2M :
				 FX_UNVAL) +
		      (u64)(fz_u16(in) % 512) * VEIL_PAGE_SIZE;
		break;
	case 8:
		gpa = (u64)(adj % 16) * VEIL_PAGE_SIZE;
		break;
	case 9:
		return fz_u64(in);
	case 10:
		gpa = FX_BOOT_VMSA;
		break;
	case 11:
		gpa = FZ_DECL;
		break;
	default:
		gpa = FX_PAGE(adj % FX_SCRATCH_PAGES) + (fz_u16(in) & 0xFFF);
		break;
	}
	switch (kind >> 5) { /* off-by-a-little at the boundaries */
	case 1:
		gpa += 8;
		break;
	case 2:
		gpa -= 8;
		break;
	case 3:
		gpa += VEIL_PAGE_SIZE - 8;
		break;
	case 4:
		gpa -= VEIL_PAGE_SIZE;
		break;
	case 5:
		gpa += 1;
		break;
	default:
		break;
	}
	return gpa;
}

static u64 pick_len(struct fz_in *in)
{
	static const u64 lens[] = { 0,
				    1,
				    8,
				    40,
				    VEIL_LOG_MAX_RECORD,
				    VEIL_LOG_MAX_RECORD + 1,
				    VEIL_PAGE_SIZE,
				    VEIL_PAGE_SIZE + 8,
				    2 * VEIL_PAGE_SIZE,
				    256 << 10,
				    FX_MEM_SIZE,
				    ~0ULL,
				    ~0ULL - 0xFFF };
	u8 k = fz_u8(in);

	if (k < 2 * sizeof(lens) / sizeof(lens[0]))
		return lens[k % (sizeof(lens) / sizeof(lens[0]))];
	if (k < 200)
		return fz_u16(in);
	return fz_u64(in);
}

static u64 pick_reg(struct fz_in *in)
{
	switch (fz_u8(in) % 5) {
	case 0:
	case 1:
		return pick_gpa(in);
	case 2:
		return pick_len(in);
	case 3:
		return fz_u8(in);
	default:
		return fz_u64(in);
	}
}

static u64 pick_pval_entry(struct fz_in *in)
{
	u8 f = fz_u8(in);
	u64 gpa = pick_gpa(in);

	if (f & 0x80)
		return fz_u64(in);
	/* size (2 bits, 3 invalid), validate, ignore_cf; reserved bits rarely */
	return (gpa & ~0xFFFULL) | (f & 0xF) | (f & 0x40 ? (u64)(f & 0x30) << 4 : 0);
}

/* A PVALIDATE request the OS builds in one of its pages. */
static void write_pval(struct fz_in *in)
{
	u64 gpa = fz_u8(in) & 1 ? FX_REQ : pick_gpa(in) & ~7ULL;
	u16 n = fz_u8(in) % 8, next = fz_u8(in) % (n + 1), i;
	struct svsm_pvalidate_hdr h = { n, next, 0 };
	u64 off = gpa & 0xFFF;
	u8 *p;

	if (fz_u8(in) == 0xFF)
		h.num_entries = fz_u16(in); /* a hostile count */
	if (!fz_os_writable(gpa & ~0xFFFULL) || off + sizeof(h) > VEIL_PAGE_SIZE)
		return;
	p = fake_ptr(fx.m, gpa);
	memcpy(p, &h, sizeof(h));
	for (i = 0; i < n && off + sizeof(h) + (i + 1) * 8u <= VEIL_PAGE_SIZE; i++)
		veil_st64(p + sizeof(h) + i * 8, pick_pval_entry(in));
}

/* A VMSA candidate: valid, or with one field off. */
static void write_vmsa(struct fz_in *in)
{
	u64 gpa = pick_gpa(in) & ~0xFFFULL;
	u8 how = fz_u8(in);
	u8 *v;

	if (!fz_os_writable(gpa))
		return;
	fx_write_vmsa(gpa, how & 1 ? (u8)(how >> 1) : VEIL_OS_VMPL,
		      how & 2 ? FX_EFER_OS & ~VMSA_EFER_SVME : FX_EFER_OS,
		      how & 4 ? fz_u64(in) : FX_SEV_FEATURES);
	v = fake_ptr(fx.m, gpa);
	if (how & 8) /* and some arbitrary bytes */
		v[fz_u16(in) & 0xFFF] = fz_u8(in);
}

/* Arbitrary bytes into a page the OS can write. */
static void write_bytes(struct fz_in *in)
{
	u64 gpa = pick_gpa(in);
	usize len = fz_u8(in), i;
	u8 *p;

	if (!fz_os_writable(gpa & ~0xFFFULL))
		return;
	if (len > VEIL_PAGE_SIZE - (gpa & 0xFFF))
		len = VEIL_PAGE_SIZE - (gpa & 0xFFF);
	p = fake_ptr(fx.m, gpa);
	for (i = 0; i < len && in->n; i++)
		p[i] = fz_u8(in);
}

static void do_call(struct fz_in *in)
{
	static const u32 protos[] = { SVSM_CORE_PROTOCOL,   SVSM_CORE_PROTOCOL,
				      SVSM_ATTEST_PROTOCOL, VEIL_PROTOCOL_KCI,
				      VEIL_PROTOCOL_MODULE, VEIL_PROTOCOL_LOG,
				      VEIL_PROTOCOL_LOG,    VEIL_PROTOCOL_ENCLAVE,
				      VEIL_PROTOCOL_TEST };
	u8 k = fz_u8(in), c = fz_u8(in);
	u32 proto = k < 240 ? protos[k % (sizeof(protos) / sizeof(protos[0]))] : fz_u32(in);
	u32 call = c < 240 ? c % 9 : fz_u32(in);
	u32 vcpu = fz_u8(in) % FX_NR_VCPUS;
	struct veil_call r;

	r.rax = SVSM_CALL(proto, call);
	r.rcx = pick_reg(in);
	r.rdx = pick_reg(in);
	r.r8 = pick_reg(in);
	r.r9 = pick_reg(in);
	veil_svsm_dispatch(fx.mon, &fx.mon->vcpus[vcpu], &r);
	fz_check(proto, call, r.rax);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fz_in in = { data, size };
	int ops;

	fz_boot();
	for (ops = 0; ops < MAX_OPS && in.n; ops++) {
		switch (fz_u8(&in) % 8) {
		case 0:
			write_bytes(&in);
			break;
		case 1:
			write_pval(&in);
			break;
		case 2:
			write_vmsa(&in);
			break;
		case 3:
			fz_write_decl();
			break;
		default:
			do_call(&in);
			break;
		}
	}
	fz_shutdown();
	return 0;
}
