/* SPDX-License-Identifier: MIT */
/*
 * backend.c - veil/backend.h on SNP hardware: every op is the instruction
 * itself (see snp.h for the maps it relies on).
 */
#include <veil/lib.h>

#include "ghcb.h"
#include "snp.h"

static struct snp_vcpu *vcpu_of(struct veil_backend *b)
{
	return b->priv;
}

static void *direct(u64 gpa)
{
	return (void *)(uintptr_t)(SNP_DIRECT_MAP + gpa);
}

/* RMPADJUST: RAX = VA, RCX = page size, RDX = attributes; EAX = code. */
static int op_rmpadjust(struct veil_backend *b, u64 gpa, bool huge, u64 attrs)
{
	u64 rax = (u64)(uintptr_t)direct(gpa);

	if (gpa >= vcpu_of(b)->mem_size)
		return RMP_FAIL_INPUT;
	__asm__ volatile("rmpadjust" : "+a"(rax) : "c"((u64)huge), "d"(attrs) : "memory", "cc");
	return (int)(u32)rax;
}

/* PVALIDATE: RAX = VA, RCX = page size, RDX = validate; EAX = code,
 * CF = the Validated bit was already as asked. */
static int op_pvalidate(struct veil_backend *b, u64 gpa, bool huge, bool validate, bool *unchanged)
{
	u64 rax = (u64)(uintptr_t)direct(gpa);
	bool cf;

	*unchanged = false;
	if (gpa >= vcpu_of(b)->mem_size)
		return RMP_FAIL_INPUT;
	__asm__ volatile("pvalidate"
			 : "+a"(rax), "=@ccc"(cf)
			 : "c"((u64)huge), "d"((u64)validate)
			 : "memory");
	*unchanged = cf;
	return (int)(u32)rax;
}

static u64 op_msr_read(struct veil_backend *b)
{
	(void)b;
	return snp_rdmsr(MSR_GHCB);
}

/* A page-aligned value is a GHCB address (GHCB spec 56421, 2.3.1): the
 * console uses the GHCB the monitor last named. */
static void op_msr_write(struct veil_backend *b, u64 val)
{
	if (val && !GHCB_MSR_INFO(val))
		vcpu_of(b)->ghcb = val;
	snp_wrmsr(MSR_GHCB, val);
}

static void op_vmgexit(struct veil_backend *b)
{
	(void)b;
	snp_vmgexit();
}

static void *op_map(struct veil_backend *b, u64 gpa, u64 len)
{
	if (!len || !veil_range_within(gpa, len, 0, vcpu_of(b)->mem_size))
		return NULL;
	return direct(gpa);
}

static void *op_map_shared(struct veil_backend *b, u64 gpa, u64 len)
{
	if (!len || !veil_range_within(gpa, len, 0, vcpu_of(b)->mem_size))
		return NULL;
	return (void *)(uintptr_t)(SNP_SHARED_MAP + gpa);
}

/* INVLPGB with only "include global" set flushes every translation of this
 * guest on every CPU; TLBSYNC waits for that (APM vol. 3, INVLPGB, TLBSYNC). */
static void op_tlb_flush(struct veil_backend *b)
{
	(void)b;
	__asm__ volatile("invlpgb" : : "a"(8ULL), "c"(0U), "d"(0U) : "memory");
	__asm__ volatile("tlbsync" : : : "memory");
}

/* Console: COM1 string output through the GHCB IOIO event. */
static void op_console(struct veil_backend *b, const char *s, usize len)
{
	struct snp_vcpu *v = vcpu_of(b);
	u8 *g = v->ghcb ? op_map_shared(b, v->ghcb, VEIL_PAGE_SIZE) : NULL;

	while (g && len) {
		usize n = len < GHCB_BUFFER_SIZE ? len : GHCB_BUFFER_SIZE;

		ghcb_clear(g);
		veil_memcpy(g + GHCB_BUFFER, s, n);
		ghcb_set(g, GHCB_SCRATCH, v->ghcb + GHCB_BUFFER);
		ghcb_event_set(g, SVM_EXIT_IOIO, SVM_IOIO_INFO(0x3F8, 1, true), n);
		snp_wrmsr(MSR_GHCB, v->ghcb);
		snp_vmgexit();
		s += n;
		len -= n;
	}
}

static u64 op_rdtsc(struct veil_backend *b)
{
	u32 lo, hi;

	(void)b;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static u32 op_vcpu_id(struct veil_backend *b)
{
	return vcpu_of(b)->id;
}

/*
 * The trace point: an empty function whose arguments are the monitor's
 * trace event (backend.h, enum veil_trace_event). On hardware it is a call
 * and a return; a tracer that knows the symbol (veil-emu --trace,
 * backends/emu/trace/trace_rec.c) reads the arguments when it is reached.
 */
__attribute__((noinline, used)) void snp_trace_point(u32 event, u64 a, u64 c, u64 d, u64 e)
{
	__asm__ volatile("" : : "r"(event), "r"(a), "r"(c), "r"(d), "r"(e) : "memory");
}

static void op_trace(struct veil_backend *b, u32 event, u64 a, u64 c, u64 d, u64 e)
{
	(void)b;
	snp_trace_point(event, a, c, d, e);
}

static const struct veil_backend_ops snp_ops = {
	.rmpadjust = op_rmpadjust,
	.pvalidate = op_pvalidate,
	.ghcb_msr_read = op_msr_read,
	.ghcb_msr_write = op_msr_write,
	.vmgexit = op_vmgexit,
	.map = op_map,
	.map_shared = op_map_shared,
	.tlb_flush = op_tlb_flush,
	.console_write = op_console,
	.rdtsc = op_rdtsc,
	.vcpu_id = op_vcpu_id,
	.trace = op_trace,
};

void snp_vcpu_init(struct snp_vcpu *v, u32 id, u64 mem_size)
{
	veil_memset(v, 0, sizeof(*v));
	v->be.ops = &snp_ops;
	v->be.priv = v;
	v->id = id;
	v->mem_size = mem_size;
}
