/* SPDX-License-Identifier: MIT */
/* fuzz_common.c - fixture boot, input reader and invariants of the fuzzers. */
#include "fuzz_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <veil/lib.h>
#include <veil/service.h>

/*
 * fixture.c reports through Check's assertion macros, which need a Check
 * runner. The fuzzers have none: these two replace libcheck's entry points,
 * so a failed fixture check is an abort() libFuzzer reports as a crash.
 */
void _mark_point(const char *file, int line)
{
	(void)file;
	(void)line;
}

void _ck_assert_failed(const char *file, int line, const char *expr, const char *msg, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz: invariant violated at %s:%d: %s", file, line, expr ? expr : "");
	if (msg) {
		fputs(": ", stderr);
		va_start(ap, msg);
		vfprintf(stderr, msg, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
	abort();
}

void fz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz: invariant violated at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

u8 fz_u8(struct fz_in *in)
{
	u8 v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

u16 fz_u16(struct fz_in *in)
{
	return (u16)(fz_u8(in) | (u16)fz_u8(in) << 8);
}

u32 fz_u32(struct fz_in *in)
{
	return fz_u16(in) | (u32)fz_u16(in) << 16;
}

u64 fz_u64(struct fz_in *in)
{
	return fz_u32(in) | (u64)fz_u32(in) << 32;
}

/* Monitor-region records right after boot: they must never change. */
static struct veil_page mon_pages[FX_MON_SIZE / VEIL_PAGE_SIZE];

void fz_boot(void)
{
	const struct veil_service *const *s;
	struct veil_launch *l;

	fx_setup();
	l = &fx.mon->launch;
	l->nr_ksegs = 3;
	l->ksegs[0] = (struct veil_kseg){ FZ_TEXT, 0x10000, VEIL_KSEG_R | VEIL_KSEG_X, 0 };
	l->ksegs[1] = (struct veil_kseg){ FZ_RODATA, 0x10000, VEIL_KSEG_R, 0 };
	l->ksegs[2] = (struct veil_kseg){ FZ_DATA, FX_KERNEL_END - FZ_DATA,
					  VEIL_KSEG_R | VEIL_KSEG_W, 0 };
	if (!veil_services[0])
		FZ_FAIL("services/ not linked in (veil_services is core's empty default)");
	/* As core/monitor.c init_services does at boot. */
	for (s = veil_services; *s; s++)
		if ((*s)->init && (*s)->init(fx.mon, &fx.mon->vcpus[0]))
			FZ_FAIL("service %s failed to start", (*s)->name);
	memcpy(mon_pages, &fx.mon->mem.pages[FX_MON_BASE / VEIL_PAGE_SIZE], sizeof(mon_pages));
	fake_log_clear(fx.m);
	fz_check_state();
}

void fz_shutdown(void)
{
	fx_teardown();
}

/* The exports the guest modules link against (guest/modules). */
static const char *const exports[] = { "console_puts", "kprintf", "memcpy",
				       "memset",       "strlen",  "module_counter" };

u64 fz_write_decl(void)
{
	struct veil_kci_decl d;
	struct veil_kci_export e;
	usize i;

	memset(&d, 0, sizeof(d));
	d.nr_ranges = 2;
	d.nr_exports = sizeof(exports) / sizeof(exports[0]);
	d.exports_gpa = FZ_EXPORTS;
	d.ranges[0] = (struct veil_kci_range){ FZ_TEXT, 0x10000, VEIL_KCI_TEXT, 0 };
	d.ranges[1] = (struct veil_kci_range){ FZ_RODATA, 0x10000, VEIL_KCI_RODATA, 0 };
	if (!fz_os_writable(FZ_DECL) || !fz_os_writable(FZ_EXPORTS))
		return FZ_DECL; /* the OS cannot write there any more: leave it */
	memcpy(fake_ptr(fx.m, FZ_DECL), &d, sizeof(d));
	for (i = 0; i < d.nr_exports; i++) {
		memset(&e, 0, sizeof(e));
		strcpy(e.name, exports[i]);
		e.addr = FZ_TEXT + 0x100 * (i + 1);
		memcpy((u8 *)fake_ptr(fx.m, FZ_EXPORTS) + i * sizeof(e), &e, sizeof(e));
	}
	return FZ_DECL;
}

void fz_lock_kci(void)
{
	u64 rax = fx_call(0, SVSM_CALL(VEIL_PROTOCOL_KCI, VEIL_KCI_LOCK), fz_write_decl(), 0, 0,
			  NULL);

	if (rax != SVSM_SUCCESS)
		FZ_FAIL("KCI LOCK of the fuzz image refused: %#llx", (unsigned long long)rax);
	fz_check(VEIL_PROTOCOL_KCI, VEIL_KCI_LOCK, rax);
}

bool fz_os_writable(u64 gpa)
{
	const struct fake_rmp *e;

	if (gpa >= FX_MEM_SIZE)
		return false;
	e = fake_rmp(fx.m, gpa);
	return e->validated && (e->perms[3] & RMP_PERM_W);
}

void fz_check_state(void)
{
	u64 i;

	fx_assert_rmp_follows_records();
	if (fx.m->vmsa_writable || fx.m->vmsa_stale_tlb)
		FZ_FAIL("VMSA safety: %llu RMPADJUSTs left a VMSA writable by VMPL1-3, %llu VMSA "
			"bits set over a stale TLB entry",
			(unsigned long long)fx.m->vmsa_writable,
			(unsigned long long)fx.m->vmsa_stale_tlb);
	if (fx.m->faults)
		FZ_FAIL("%llu RMPADJUST/PVALIDATE beyond guest memory (#NPF on hardware)",
			(unsigned long long)fx.m->faults);
	for (i = 0; i < FX_MON_SIZE / VEIL_PAGE_SIZE; i++) {
		const struct veil_page *p = &fx.mon->mem.pages[FX_MON_BASE / VEIL_PAGE_SIZE + i];

		if (memcmp(p, &mon_pages[i], sizeof(*p)) ||
		    (p->owner != VEIL_OWNER_MONITOR && p->owner != VEIL_OWNER_SERVICE &&
		     !(p->owner == VEIL_OWNER_VMSA &&
		       FX_MON_BASE + i * VEIL_PAGE_SIZE == FX_BOOT_VMSA)))
			FZ_FAIL("monitor page %#llx: owner %u (was %u), validated %u",
				(unsigned long long)(FX_MON_BASE + i * VEIL_PAGE_SIZE), p->owner,
				mon_pages[i].owner, p->validated);
	}
}

/* Protocol-specific results abi.h defines (as offsets from SVSM_ERR_PROTOCOL_BASE). */
static bool defined_code(u32 proto, u32 call, u64 n)
{
	switch (proto) {
	case SVSM_CORE_PROTOCOL: /* PVALIDATE/RMPADJUST return codes, unchanged */
		return call == SVSM_CORE_PVALIDATE && (n == 1 || n == 2 || n == 6 || n == 0x10);
	case VEIL_PROTOCOL_LOG:
		return n == 1 || n == 2;
	case VEIL_PROTOCOL_KCI:
		return n >= 1 && n <= 4;
	case VEIL_PROTOCOL_MODULE:
		return n >= 1 && n <= 9;
	case VEIL_PROTOCOL_ENCLAVE:
		return n >= 1 && n <= 10; /* VEIL_ENC_ERR_FORMAT .. VEIL_ENC_ERR_NOT_INTERRUPTED */
	default:
		return false;
	}
}

void fz_check(u32 proto, u32 call, u64 rax)
{
	static int trace = -1;

	if (trace < 0)
		trace = getenv("VEIL_FUZZ_TRACE") != NULL;
	if (trace)
		fprintf(stderr, "fuzz: protocol %#x call %u -> %#llx\n", proto, call,
			(unsigned long long)rax);
	fz_check_state();
	if (rax == SVSM_SUCCESS || (rax >= SVSM_ERR_INCOMPLETE && rax <= SVSM_ERR_BUSY))
		return;
	if (rax > SVSM_ERR_PROTOCOL_BASE && rax < SVSM_ERR_PROTOCOL_BASE + 0x1000 &&
	    defined_code(proto, call, rax - SVSM_ERR_PROTOCOL_BASE))
		return;
	FZ_FAIL("protocol %#x call %u returned %#llx, not a result code abi.h defines", proto, call,
		(unsigned long long)rax);
}
