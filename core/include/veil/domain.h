/* SPDX-License-Identifier: MIT */
/*
 * veil/domain.h - isolation domains beyond the four VMPLs.
 *
 * A domain is (VMPL, CPL, monitor-built page table, entry points, owner).
 * Its pages belong to one owner (enum veil_owner + id) whose RMP mask at the
 * domain's VMPL is set page by page (veil_domain_grant); VMPL3 never gets
 * any. Code at CPL0 of the domain's VMPL is trusted monitor code (the
 * SYSCALL entry, LSTAR, and the trap entries in the IDT), so the domain is
 * entered and left only there and at `entry`. Every vCPU that enters the
 * domain gets its own VMSA for it on demand (veil_domain_add_vmsa); between
 * runs the VMSA is not runnable (EFER.SVME clear), so nobody but the
 * monitor can resume the domain.
 */
#ifndef VEIL_DOMAIN_H
#define VEIL_DOMAIN_H

#include <veil/monitor.h>

/* Page-table entry bits of the monitor-built tables (APM vol 2, 5.4). */
#define VEIL_PTE_P (1ULL << 0)
#define VEIL_PTE_W (1ULL << 1)
#define VEIL_PTE_U (1ULL << 2)
#define VEIL_PTE_A (1ULL << 5)
#define VEIL_PTE_D (1ULL << 6)
#define VEIL_PTE_C (1ULL << 51) /* the C-bit (CPUID 0x8000001F EBX[5:0] = 51) */
#define VEIL_PTE_NX (1ULL << 63)
#define VEIL_PTE_TABLE (VEIL_PTE_P | VEIL_PTE_W | VEIL_PTE_U | VEIL_PTE_A | VEIL_PTE_C)

struct veil_domain {
	u8 vmpl;	   /* 2 for enclaves, 1 for services (the log) */
	u8 owner, id;	   /* who owns its pages */
	u64 cr3;	   /* GPA of its PML4 (monitor-built) */
	u64 entry, stack;  /* CPL3 start of every entry, and its RSP */
	u64 fs_base;	   /* FS base at entry (thread-local block: stack canary) */
	u64 syscall_entry; /* LSTAR: trusted CPL0 code */
	u64 gdt, idt, tss; /* linear addresses in the domain's trusted pages */
	u16 gdt_limit, idt_limit;
	u64 vmsa[VEIL_MAX_VCPUS]; /* per vCPU, 0 = not entered on it yet */
};

/* How a run of the domain ended (read from its VMSA). */
struct veil_domain_exit {
	u64 code; /* SW exit code: 0x403 VMGEXIT, 0x400 #NPF (RMP violation), ... */
	u64 rip, rdi, rsi, r8, info1, info2;
};

/*
 * The registers of a domain an interrupt stopped (GUEST_EXIT_CODE
 * SVM_EXIT_INTR), kept in monitor memory while the OS runs: general
 * registers, RIP, RSP, RFLAGS, CPL, CS/SS/DS/ES, CR2, the x87/SSE/AVX state.
 */
#define VEIL_DOMAIN_REGS_SIZE 856
struct veil_domain_regs {
	u8 b[VEIL_DOMAIN_REGS_SIZE];
};

/* Give the domain's VMPL `perms` (RMP_PERM_*) on gpa, one of its pages. */
int veil_domain_grant(struct veil_monitor *mon, struct veil_backend *be,
		      const struct veil_domain *d, u64 gpa, u8 perms);

/*
 * Make gpa (a page the domain owns, not 2 MiB aligned) vc's VMSA for the
 * domain: all lower access revoked, then the VMSA bit.
 */
int veil_domain_add_vmsa(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_domain *d,
			 u64 gpa);

/*
 * One entry: a fresh VMSA state at `entry` (CPL3) with RDI = arg, RSI = arg2
 * and every other general register zero, registered as vc's VMSA at the
 * domain's VMPL, run until it comes back to VMPL0; the exit is read into *e
 * and the VMSA left not runnable. resume = true continues where the domain
 * left off instead (after a call it made), with RAX = arg, RDX = arg2.
 */
int veil_domain_run(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_domain *d, u64 arg,
		    u64 arg2, bool resume, struct veil_domain_exit *e);

/*
 * After an interrupt exit: copy the registers out of vc's VMSA for the domain
 * into *r (if r), then zero them there (every general register, the flags,
 * the vector registers), so no copy stays in a page the OS may one day get.
 */
void veil_domain_save_scrub(struct veil_vcpu *vc, struct veil_domain *d,
			    struct veil_domain_regs *r);

/*
 * Run the domain on where it stopped: with r, from the registers saved in *r
 * (on any vCPU: the rest of the state is the domain's, as at an entry); with
 * r = NULL, from vc's VMSA as the exit left it (a domain the monitor resumes
 * at once, the OS's interrupt still pending). As veil_domain_run otherwise.
 */
int veil_domain_continue(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_domain *d,
			 const struct veil_domain_regs *r, struct veil_domain_exit *e);

/* Give every VMSA of the domain back to its owner, scrubbed (none may run). */
int veil_domain_drop_vmsas(struct veil_monitor *mon, struct veil_backend *be,
			   struct veil_domain *d);

#endif
