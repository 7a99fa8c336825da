/* SPDX-License-Identifier: MIT */
/*
 * veil/backend.h - THE backend contract, in both directions.
 *
 * A backend is the SNP instruction set as seen from VMPL0 plus memory access
 * (struct veil_backend_ops, below), and the code that enters the monitor
 * (the entry points at the end of this file). Implementations:
 * backends/emu/host/backend.c (the monitor as native code on the machine model),
 * backends/snp/backend.c (the real instructions: the freestanding VMPL0 image,
 * on EPYC and in veil-emu's image mode) and tests/core/fake_backend.c (the
 * reference template, an in-memory RMP for unit tests). Everything above the
 * contract (GHCB protocol, VMSA creation, run VMPL, SVSM dispatch) is core
 * code shared by all of them.
 *
 * One struct veil_backend per vCPU. Every op acts on the vCPU whose handle it
 * is given and is called only on that vCPU (the GHCB MSR, VMGEXIT and the
 * vCPU id are per-vCPU state); the handle stays valid for the life of the
 * monitor. Ops may be called by several vCPUs at once, each with its own
 * handle.
 *
 * Addressing rule. The contract speaks guest-physical addresses (GPAs)
 * throughout. On hardware RMPADJUST and PVALIDATE take a *virtual* address
 * in RAX (AMD APM vol. 3, "RMPADJUST" and "PVALIDATE"), translated through
 * the monitor's own page tables; a backend therefore keeps a private (C=1)
 * mapping of every guest page at a fixed, known virtual address (the VMPL0
 * image maps guest memory 1:1, VA = GPA) and hands the instruction that
 * address. map() returns pointers into the same private mapping;
 * map_shared() returns pointers into a separate shared (C=0) mapping, the
 * only kind through which the monitor may touch a page the guest gave to the
 * hypervisor (a GHCB): a C=1 access to a shared page is an RMP fault (#NPF),
 * and a C=0 access to a private page reads ciphertext.
 *
 * Wrappers: callers use the static inline veil_*() functions. Only console
 * output, the time stamp counter and tracing are optional, because doing
 * nothing there is safe; every other op is required (no silent default).
 */
#ifndef VEIL_BACKEND_H
#define VEIL_BACKEND_H

#include <snp/arch.h>
#include <veil/types.h>

struct veil_backend;

struct veil_backend_ops {
	/* RMPADJUST on the page at gpa (2 MiB if huge): returns the
	 * architectural code (EAX; APM vol. 3, RMPADJUST). */
	int (*rmpadjust)(struct veil_backend *b, u64 gpa, bool huge, u64 attrs);
	/* PVALIDATE: returns the code; *unchanged = RFLAGS.CF. */
	int (*pvalidate)(struct veil_backend *b, u64 gpa, bool huge, bool validate,
			 bool *unchanged);
	/* GHCB MSR (MSR C001_0130) of the calling vCPU, and VMGEXIT (GHCB
	 * spec 56421, section 2.3). A "run VMPL n" request returns when this
	 * vCPU is back at VMPL0. */
	u64 (*ghcb_msr_read)(struct veil_backend *b);
	void (*ghcb_msr_write)(struct veil_backend *b, u64 val);
	void (*vmgexit)(struct veil_backend *b);
	/* Private (C=1) view of guest memory: a pointer valid for
	 * [gpa, gpa+len), or NULL. Never handed guest-controlled lengths
	 * unchecked. */
	void *(*map)(struct veil_backend *b, u64 gpa, u64 len);
	/* Shared (C=0) view of a page the guest gave to the hypervisor (the
	 * GHCB): a pointer valid for [gpa, gpa+len), or NULL. */
	void *(*map_shared)(struct veil_backend *b, u64 gpa, u64 len);
	/* Make reduced RMP permissions effective in every vCPU's TLB for the
	 * lower VMPLs (INVLPGB + TLBSYNC on hardware, APM vol. 3). Required:
	 * a missing flush leaves stale writable translations, a hole. */
	void (*tlb_flush)(struct veil_backend *b);
	/* Console output (optional). */
	void (*console_write)(struct veil_backend *b, const char *s, usize len);
	/* Time stamp counter (optional; 0 without one). */
	u64 (*rdtsc)(struct veil_backend *b);
	/* Index of the calling vCPU (its APIC id). */
	u32 (*vcpu_id)(struct veil_backend *b);
	/* Trace event, one of enum veil_trace_event (optional; a no-op where a
	 * backend has no tracer). */
	void (*trace)(struct veil_backend *b, u32 event, u64 a, u64 c, u64 d, u64 e);
};

struct veil_backend {
	const struct veil_backend_ops *ops;
	void *priv; /* the backend's own per-vCPU state */
};

/* What the monitor reports through the trace op (the arguments a, c, d). */
enum veil_trace_event {
	VEIL_TRACE_VIOLATION = 1,  /* RMP violation: EXITINFO1, EXITINFO2 (GPA), RIP, 0 */
	VEIL_TRACE_CALL = 2,	   /* SVSM call arrives: RAX, RCX, RDX, R8 */
	VEIL_TRACE_CALL_RESULT = 3 /* SVSM call returns: RAX, RCX, RDX, R8 */
};

static inline int veil_rmpadjust(struct veil_backend *b, u64 gpa, bool huge, u64 attrs)
{
	return b->ops->rmpadjust(b, gpa, huge, attrs);
}

static inline int veil_pvalidate(struct veil_backend *b, u64 gpa, bool huge, bool validate,
				 bool *unchanged)
{
	bool dummy;

	return b->ops->pvalidate(b, gpa, huge, validate, unchanged ? unchanged : &dummy);
}

static inline u64 veil_ghcb_msr_read(struct veil_backend *b)
{
	return b->ops->ghcb_msr_read(b);
}

static inline void veil_ghcb_msr_write(struct veil_backend *b, u64 val)
{
	b->ops->ghcb_msr_write(b, val);
}

static inline void veil_vmgexit(struct veil_backend *b)
{
	b->ops->vmgexit(b);
}

static inline void *veil_map(struct veil_backend *b, u64 gpa, u64 len)
{
	return b->ops->map(b, gpa, len);
}

static inline void *veil_map_shared(struct veil_backend *b, u64 gpa, u64 len)
{
	return b->ops->map_shared(b, gpa, len);
}

static inline void veil_tlb_flush(struct veil_backend *b)
{
	b->ops->tlb_flush(b);
}

static inline void veil_console_write(struct veil_backend *b, const char *s, usize len)
{
	if (b->ops->console_write)
		b->ops->console_write(b, s, len);
}

static inline u64 veil_rdtsc(struct veil_backend *b)
{
	return b->ops->rdtsc ? b->ops->rdtsc(b) : 0;
}

static inline u32 veil_vcpu_id(struct veil_backend *b)
{
	return b->ops->vcpu_id(b);
}

static inline void veil_trace(struct veil_backend *b, enum veil_trace_event event, u64 a, u64 c,
			      u64 d, u64 e)
{
	if (b->ops->trace)
		b->ops->trace(b, (u32)event, a, c, d, e);
}

/*
 * What a backend calls: the monitor's entry points. The backend sees
 * struct veil_monitor only as an opaque handle.
 *
 * 1. On the boot vCPU, at VMPL0, with the launch parameters (struct
 *    veil_launch in veil/monitor.h): veil_monitor_boot(). NULL = the monitor
 *    refused to start (it has said why on the console); stop the CVM.
 * 2. Then, on the same vCPU: veil_monitor_main(), which runs the OS and
 *    handles its exits for ever (it returns only if the monitor failed).
 * 3. On every other vCPU, the first time it enters VMPL0 (the hypervisor
 *    switched to its VMPL0 VMSA because the OS asked for VMPL0, or a
 *    violation was forwarded): veil_monitor_enter_ap() with that vCPU's own
 *    handle; it handles that exit, then loops like veil_monitor_main().
 * A backend that gets control back from 2 or 3 must terminate the CVM.
 */
struct veil_monitor;
struct veil_launch;

struct veil_monitor *veil_monitor_boot(const struct veil_launch *launch, struct veil_backend *be);
void veil_monitor_main(struct veil_monitor *mon);
void veil_monitor_enter_ap(struct veil_monitor *mon, u32 id, struct veil_backend *be);

#endif
