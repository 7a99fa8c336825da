/* SPDX-License-Identifier: MIT */
/*
 * veil/monitor.h - the VMPL0 monitor: boot, per-vCPU run loop, fault policy.
 *
 * All monitor state lives in struct veil_monitor, which is placed in
 * monitor-owned guest memory (no VMPL1-3 access), and in the per-vCPU
 * structures inside it. There is no other mutable state.
 */
#ifndef VEIL_MONITOR_H
#define VEIL_MONITOR_H

#include <veil/backend.h>
#include <veil/mem.h>
#include <veil/launch.h>
#include <veil/lib.h>

#define VEIL_MAX_VCPUS 64
#define VEIL_OS_VMPL 3
#define VEIL_CMDLINE_MAX 256

#define VEIL_MAX_KSEGS 8
#define VEIL_KSEG_R 4 /* ELF p_flags */
#define VEIL_KSEG_W 2
#define VEIL_KSEG_X 1

/* A loaded, measured segment of the OS image. */
struct veil_kseg {
	u64 gpa, len; /* page-aligned */
	u32 flags;    /* VEIL_KSEG_* */
	u32 reserved;
};

/* How the OS is entered. */
enum veil_os_boot {
	VEIL_OS_BOOT_VEIL = 0, /* guest/include/veil/boot.h: RDI = boot info */
	VEIL_OS_BOOT_LINUX = 1 /* the x86 64-bit boot protocol: os_entry below */
};

/* The initial state of a VEIL_OS_BOOT_LINUX OS: struct veil_os_entry, defined
 * once in veil/launch.h (the launch contract carries it). */

/* Where the secure log keeps its records (services/log). */
enum veil_log_domain {
	VEIL_LOG_DOMAIN_ON = 0,	 /* in its own VMPL1 CPL3 domain (the default) */
	VEIL_LOG_DOMAIN_OFF = 1, /* in the monitor: the baseline the benchmark measures */
	/* TEST-ONLY: in its domain, with the fault-injection call
	 * (VEIL_LOG_TEST_WRITE) forwarded, for the containment tests. */
	VEIL_LOG_DOMAIN_FAULT_TEST = 2
};

/* What the loader (emulator or IGVM) tells the monitor at launch. */
struct veil_launch {
	u64 mem_size;		/* bytes of guest memory */
	u64 mon_base, mon_size; /* monitor region: validated, VMPL1-3 no access */
	u64 mon_used;		/* bytes at mon_base the loader used (image mode: the
				   image, its parameters and launch page tables) */
	u32 nr_vcpus;
	u64 kernel_entry;	      /* OS entry point */
	u64 kernel_start, kernel_end; /* OS image, validated at launch */
	u64 secrets_gpa;	      /* launch secrets page (in the monitor region) */
	u64 sev_features;	      /* SEV_FEATURES of the OS's VMSAs */
	u64 log_size;		      /* bytes for the secure log (0 = default) */
	u32 log_domain;		      /* enum veil_log_domain */
	u32 nr_ksegs;
	struct veil_kseg ksegs[VEIL_MAX_KSEGS]; /* the image's PT_LOAD segments */
	char cmdline[VEIL_CMDLINE_MAX];
	u32 os_boot;		       /* enum veil_os_boot */
	struct veil_os_entry os_entry; /* VEIL_OS_BOOT_LINUX only */
};

/* Why the monitor stopped the CVM or refused to go on. */
enum veil_vcpu_state {
	VEIL_VCPU_OFF,
	VEIL_VCPU_CREATED,
	VEIL_VCPU_RUNNING
};

struct veil_vcpu {
	u32 id;
	enum veil_vcpu_state state;
	struct veil_backend *be; /* the backend handle of this vCPU */
	u64 os_vmsa;		 /* GPA of the OS's VMSA on this vCPU, 0 = none */
	u64 caa;		 /* GPA of this vCPU's calling area */
	/* A VMSA (and its CAA) CREATE_VCPU registered to replace os_vmsa, 0 =
	 * none: the vCPU switches to it at its next exit to the monitor, or
	 * when DELETE_VCPU of os_vmsa shows the old one no longer runs. */
	u64 next_vmsa, next_caa;
	u64 ghcb;	  /* the monitor's GHCB for this vCPU, 0 = none */
	u64 calls, exits; /* statistics */
	/* This vCPU runs its OS VMSA now (set around "run VMPL3"): the VMSA is
	 * in use and must not be deleted (written only by its own vCPU). */
	u8 in_os;
};

/* A fault recorded by the fault policy. */
struct veil_fault {
	u32 vcpu;
	u64 exit_code, exitinfo1, exitinfo2, rip;
};

#define VEIL_MAX_FAULTS 16

#define VEIL_MAX_SERVICES 5

struct veil_monitor {
	struct veil_launch launch;
	u32 lock;		      /* serialises calls across vCPUs */
	void *svc[VEIL_MAX_SERVICES]; /* per-service state (enum veil_service_id) */
	struct veil_mem mem;
	u64 alloc_next, alloc_end; /* bump allocator over the monitor region */
	u64 scratch;		   /* GPA of the file buffer (veil_monitor_scratch), 0 = none yet */
	struct veil_vcpu vcpus[VEIL_MAX_VCPUS];
	u32 nr_faults;
	struct veil_fault faults[VEIL_MAX_FAULTS];
};

/*
 * veil_monitor_boot(), veil_monitor_main() and veil_monitor_enter_ap(), the
 * entry points a backend calls, are declared in veil/backend.h.
 */

/* A vCPU's loop: run the OS, handle its exits; returns only on failure. */
void veil_monitor_run(struct veil_monitor *mon, struct veil_vcpu *vc);

/* Allocate zeroed, page-aligned monitor pages; returns a GPA or 0. */
u64 veil_monitor_alloc(struct veil_monitor *mon, u64 pages, u64 align);

/*
 * The one buffer a call copies a file into (a module's or an enclave's
 * image), VEIL_SCRATCH_SIZE bytes of monitor memory, allocated on first use;
 * NULL if there is no room. Shared by the services: valid for one call, under
 * the monitor lock, so one copy serves them all (a copy each cost the
 * monitor 256 KiB per service).
 */
#define VEIL_SCRATCH_SIZE (256u << 10)
u8 *veil_monitor_scratch(struct veil_monitor *mon, struct veil_backend *be);

/* Stop the CVM through the GHCB termination request. Does not return. */
void veil_monitor_terminate(struct veil_vcpu *vc, unsigned set, unsigned code)
	__attribute__((noreturn));

/*
 * The monitor's view of an OS buffer named by the OS, for reading or for
 * writing on the OS's behalf: [gpa, gpa+len) must be non-empty, not wrap and
 * lie in pages the OS itself may read (veil_os_read) or write (veil_os_write)
 * per veil_mem_os_may: validated, OS-owned, R (W and not locked) in its mask.
 * NULL otherwise. Every OS buffer the monitor touches goes through one of
 * these two.
 */
const void *veil_os_read(struct veil_monitor *mon, struct veil_backend *be, u64 gpa, u64 len);
void *veil_os_write(struct veil_monitor *mon, struct veil_backend *be, u64 gpa, u64 len);

/*
 * The hardware contradicts the monitor's record of page gpa (PVALIDATE
 * changed a page the record says was already in that state): the page's
 * state or contents changed behind the monitor (a page state change through
 * the hypervisor). Fault policy: record it in the secure log and stop the
 * CVM. Called with the monitor lock held. Does not return.
 */
void veil_monitor_tamper(struct veil_monitor *mon, struct veil_vcpu *vc, u64 gpa, const char *what)
	__attribute__((noreturn));

/*
 * For core/domain.c: register gpa (a VMSA page whose VMPL field is vmpl) as
 * the calling vCPU's VMSA at vmpl with the hypervisor, and run that VMPL on
 * the calling vCPU until it comes back to VMPL0 (VEIL_EHW if it cannot run).
 */
int veil_monitor_set_vmsa(struct veil_vcpu *vc, unsigned vmpl, u64 gpa, u64 sev_features);
int veil_monitor_run_vmpl(struct veil_vcpu *vc, unsigned vmpl);

/*
 * Set one segment register (CS, SS, ..., or the GDTR/IDTR, TR) of a VMSA page:
 * its selector, attributes, limit and base at `off` (APM vol 2, table B-4,
 * "VMSA layout, save area for SEV-ES"). For the monitor's VMSAs (core) and
 * the VMPL0 image's own (backends/snp).
 */
static inline void veil_vmsa_seg(u8 *vmsa, unsigned off, u16 sel, u16 attr, u32 limit, u64 base)
{
	veil_memcpy(vmsa + off + VMSA_SEG_SELECTOR, &sel, 2);
	veil_memcpy(vmsa + off + VMSA_SEG_ATTRIB, &attr, 2);
	veil_memcpy(vmsa + off + VMSA_SEG_LIMIT, &limit, 4);
	veil_st64(vmsa + off + VMSA_SEG_BASE, base);
}

/* The monitor lock: serialises service calls and monitor records across vCPUs. */
void veil_monitor_lock(struct veil_monitor *mon);
void veil_monitor_unlock(struct veil_monitor *mon);

/*
 * A service's own hypervisor request: NAE event `code` through this vCPU's
 * GHCB (GHCB spec 56421 section 4.1). Returns SW_EXITINFO1[31:0] (0 =
 * success) and puts SW_EXITINFO2 in *info2_out.
 */
u64 veil_monitor_ghcb_call(struct veil_vcpu *vc, u64 code, u64 info1, u64 info2, u64 *info2_out);

/* Turn a monitor page shared (rescind, page state change); 0 or VEIL_E*. */
int veil_monitor_share_page(struct veil_monitor *mon, struct veil_vcpu *vc, u64 gpa);

/* Console output of the monitor. */
void veil_printf(struct veil_backend *be, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
