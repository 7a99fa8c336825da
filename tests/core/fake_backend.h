/* SPDX-License-Identifier: MIT */
/*
 * fake_backend.h - a small in-memory implementation of struct veil_backend_ops
 * for the core unit tests. Not the emulator: no CPU, no hypervisor, just
 * guest memory, an RMP with the architectural semantics of RMPADJUST and
 * PVALIDATE as seen from VMPL0 (reference sections 1-3), a call log, and
 * failure injection.
 *
 * Model choices:
 * - Every page starts assigned (the hypervisor gave it to the guest with
 *   RMPUPDATE), not validated, 4 KiB, VMPL1-3 masks 0; VMPL0 always full.
 * - An RMPADJUST or PVALIDATE that would take #VMEXIT(NPF) on hardware (no RMP
 *   entry: beyond memory) returns FAIL_INPUT and counts a fault.
 * - A 4 KiB RMPADJUST/PVALIDATE inside a 2 MiB RMP entry takes the NPF(SIZEM)
 *   path: the hypervisor PSMASHes and the instruction is retried, so the fake
 *   splits the entry (counted in psmash) and goes on.
 * - Guest memory is mmap'd; a page whose Validated bit is clear is PROT_NONE
 *   while trap_unvalidated is on (the default), so a monitor access to it
 *   crashes the test as #VC 0x404 would crash the monitor.
 * - VMSA safety: the fake counts every RMPADJUST after which a VMSA page is
 *   writable by VMPL1-3 (vmsa_writable), and every setting of the VMSA bit
 *   while a revoked write permission of that page has not been flushed from
 *   the TLBs yet (vmsa_stale_tlb).
 */
#ifndef VEIL_TESTS_FAKE_BACKEND_H
#define VEIL_TESTS_FAKE_BACKEND_H

#include <setjmp.h>
#include <veil/backend.h>

#define FAKE_MAX_VCPUS 8
#define FAKE_ANY ~0ULL /* matches any GPA in an injection rule */

struct fake_rmp {
	u8 assigned;
	u8 validated;
	u8 vmsa;
	u8 huge;     /* part of a 2 MiB RMP entry */
	u8 perms[4]; /* per VMPL; perms[0] is always full */
};

enum fake_op {
	FAKE_OP_RMPADJUST,
	FAKE_OP_PVALIDATE,
	FAKE_OP_TLB_FLUSH,
	FAKE_OP_MAP,
	FAKE_OP_VMGEXIT,
	FAKE_OP_MAP_SHARED,
};

struct fake_log {
	enum fake_op op;
	u32 vcpu;
	u64 gpa;
	bool huge;
	u64 arg; /* RMPADJUST attrs; PVALIDATE validate; MAP, MAP_SHARED len */
	int rc;	 /* code returned (MAP: 0 = mapped, 1 = NULL) */
	bool unchanged;
	struct fake_rmp before; /* the entry of gpa before the operation */
};

struct fake_machine;

struct fake_vcpu {
	struct veil_backend be; /* be.priv points here */
	struct fake_machine *m;
	u32 id;
	u64 ghcb_msr;
};

struct fake_rule {
	enum fake_op op;
	u64 gpa;       /* FAKE_ANY or the page (or MAP start) */
	unsigned vmpl; /* RMPADJUST: the target VMPL, 0 = any */
	int rc;	       /* code to return instead of executing */
	unsigned skip; /* matching calls to let through first */
	int times;     /* failures left; < 0 = forever */
};

#define FAKE_MAX_RULES 8

struct fake_machine {
	u8 *mem;
	u64 mem_size, nr_pages;
	struct fake_rmp *rmp;
	u8 *stale_w; /* per page: VMPLs whose W was revoked since the last flush */
	bool trap_unvalidated;
	struct fake_vcpu vcpus[FAKE_MAX_VCPUS];
	u32 nr_vcpus;

	/* statistics and findings */
	u64 tlb_flushes, faults, psmash, vmgexits, tsc;
	u64 vmsa_writable, vmsa_stale_tlb;
	u64 traces, last_trace_event;

	/* console capture, always NUL-terminated */
	char console[8192];
	usize console_len;

	/* call log */
	struct fake_log *log;
	usize log_len, log_cap;

	struct fake_rule rules[FAKE_MAX_RULES];
	unsigned nr_rules;

	/* A VMGEXIT with a GHCB MSR termination request (0x100) jumps here when
	 * set (the monitor's terminate never returns), with the request in
	 * term_req; unset, the request is only logged. */
	jmp_buf *on_terminate;
	u64 term_req;
};

/* A machine with mem_size bytes (a multiple of 2 MiB) and nr_vcpus vCPUs. */
struct fake_machine *fake_create(u64 mem_size, u32 nr_vcpus);
void fake_destroy(struct fake_machine *m);

/* The backend handle of vCPU `id`. */
struct veil_backend *fake_be(struct fake_machine *m, u32 id);

/* The test's own view of guest memory (bounds-checked, aborts on misuse). */
void *fake_ptr(struct fake_machine *m, u64 gpa);
const struct fake_rmp *fake_rmp(const struct fake_machine *m, u64 gpa);

/* Loader-side set-up, outside the architectural path (not logged). */
void fake_set_validated(struct fake_machine *m, u64 gpa, bool validated);
void fake_set_huge(struct fake_machine *m, u64 gpa_2m, bool huge);
void fake_set_trap(struct fake_machine *m, bool on);

/* Failure injection: the next matching calls return rc. */
void fake_inject(struct fake_machine *m, enum fake_op op, u64 gpa, unsigned vmpl, int rc,
		 unsigned skip, int times);
void fake_clear_rules(struct fake_machine *m);

/* Call log. */
void fake_log_clear(struct fake_machine *m);
/* Index of the first entry at or after `from` that matches, or -1. For
 * RMPADJUST, vmpl (0 = any) and perms (-1 = any) filter the attributes;
 * for PVALIDATE, validate (-1 = any). */
long fake_log_find(const struct fake_machine *m, usize from, enum fake_op op, u64 gpa, int vmpl,
		   int perms_or_validate);
usize fake_log_count(const struct fake_machine *m, enum fake_op op);

#endif
