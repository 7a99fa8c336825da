/* SPDX-License-Identifier: MIT */
/*
 * veil/backend.h - THE backend contract: the SNP instruction set as seen from
 * VMPL0, plus memory access. Implemented by backends/emu (the machine model)
 * and backends/snp (real EPYC). Everything above it (GHCB protocol, VMSA
 * creation, run VMPL, SVSM dispatch) is core code shared by both.
 *
 * One const ops table; callers use the static inline wrappers, which supply
 * defaults for optional hooks (OpenSBI style).
 */
#ifndef VEIL_BACKEND_H
#define VEIL_BACKEND_H

#include <veil/types.h>

struct veil_backend;

struct veil_backend_ops {
	/* RMPADJUST on the page at gpa: returns the architectural code (EAX). */
	int (*rmpadjust)(struct veil_backend *b, u64 gpa, bool huge, u64 attrs);
	/* PVALIDATE: returns the code; *unchanged = RFLAGS.CF. */
	int (*pvalidate)(struct veil_backend *b, u64 gpa, bool huge, bool validate,
			 bool *unchanged);
	/* GHCB MSR of the calling vCPU, and VMGEXIT. A "run VMPL n" request
	 * returns when this vCPU is back at VMPL0. */
	u64 (*ghcb_msr_read)(struct veil_backend *b);
	void (*ghcb_msr_write)(struct veil_backend *b, u64 val);
	void (*vmgexit)(struct veil_backend *b);
	/* The monitor's view of guest memory: a pointer valid for [gpa, gpa+len),
	 * or NULL. Never handed guest-controlled lengths unchecked. */
	void *(*map)(struct veil_backend *b, u64 gpa, u64 len);
	/* Flush lower VMPLs' TLBs after reducing permissions (optional). */
	void (*tlb_flush)(struct veil_backend *b);
	/* Console output (optional). */
	void (*console_write)(struct veil_backend *b, const char *s, usize len);
	/* Time stamp counter. */
	u64 (*rdtsc)(struct veil_backend *b);
	/* Index of the calling vCPU. */
	u32 (*vcpu_id)(struct veil_backend *b);
	/* Trace event (optional; a no-op where a backend has no tracer). */
	void (*trace)(struct veil_backend *b, u32 event, u64 a, u64 c, u64 d);
};

struct veil_backend {
	const struct veil_backend_ops *ops;
	void *priv; /* the backend's own state */
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

static inline void veil_tlb_flush(struct veil_backend *b)
{
	if (b->ops->tlb_flush)
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

static inline void veil_trace(struct veil_backend *b, u32 event, u64 a, u64 c, u64 d)
{
	if (b->ops->trace)
		b->ops->trace(b, event, a, c, d);
}

/* RMPADJUST attribute word (RDX): target VMPL, permission mask, VMSA bit. */
#define VEIL_RMP_PERM_R 0x01
#define VEIL_RMP_PERM_W 0x02
#define VEIL_RMP_PERM_XU 0x04
#define VEIL_RMP_PERM_XS 0x08
#define VEIL_RMP_PERM_ALL 0x0F
#define VEIL_RMPADJUST_ATTRS(vmpl, perms, vmsa) \
	((u64)(vmpl) | ((u64)(perms) << 8) | ((u64) !!(vmsa) << 16))

#endif
