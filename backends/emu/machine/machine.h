/* SPDX-License-Identifier: MIT */
/* machine.h - internals shared by the files of the SNP machine model. */
#ifndef VEIL_EMU_MACHINE_H
#define VEIL_EMU_MACHINE_H

#include <capstone/capstone.h>
#include <unicorn/unicorn.h>

#include "apic.h"
#include "debug.h"
#include "emu.h"
#include "measure.h"
#include "trace.h"
#include "uart.h"

#define EFER_SCE (1ULL << 0)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)
#define EFER_SVME (1ULL << 12)

#define MSR_EFER 0xC0000080U
#define MSR_STAR 0xC0000081U
#define MSR_LSTAR 0xC0000082U
#define MSR_CSTAR 0xC0000083U
#define MSR_SFMASK 0xC0000084U
#define MSR_FS_BASE 0xC0000100U
#define MSR_GS_BASE 0xC0000101U
#define MSR_KGSBASE 0xC0000102U
#define MSR_TSC_AUX 0xC0000103U
#define MSR_VM_HSAVE 0xC0010117U

#define PTE_P (1ULL << 0)
#define PTE_W (1ULL << 1)
#define PTE_U (1ULL << 2)
#define PTE_A (1ULL << 5)
#define PTE_D (1ULL << 6)
#define PTE_PS (1ULL << 7)
#define PTE_C (1ULL << 51) /* the C-bit position reported by SEV info */
#define PTE_NX (1ULL << 63)
#define PTE_ADDR 0x0007FFFFFFFFF000ULL

/* The ACPI sleep control register (FADT, hardware-reduced ACPI) the model
 * offers at this I/O port: SLP_EN (bit 5) written there powers off. */
#define EMU_ACPI_SLEEP_PORT 0x600
#define EMU_ACPI_SLP_EN 0x20
/* A model-only device (no hardware has it): a byte written to this I/O port
 * is the status the run ends with at the next ACPI power-off (default 0).
 * The Linux initramfs's /bin/veil-exit writes it (launch/linux/veil-exit.S
 * repeats the number). */
#define EMU_EXIT_STATUS_PORT 0x604

/* The shared (C=0) alias of guest memory in the exec identity map. */
#define EMU_SHARED_ALIAS 0xFFFF800000000000ULL

/* Private region: fixed offsets from its base (see emu.h). */
#define PRIV_STUB 0x0000	/* state-load stub code */
#define PRIV_HSAVE 0x1000	/* VMRUN host-save page (unused contents) */
#define PRIV_MSRPM 0x2000	/* 8 KiB MSR permission map */
#define PRIV_IOPM 0x4000	/* 12 KiB I/O permission map */
#define PRIV_GDT 0x7000		/* exec GDT + TSS */
#define PRIV_MSRPM_OPEN 0x8000	/* 8 KiB all-zero map: lets the model touch MSRs */
#define PRIV_VMCB 0xA000	/* one VMCB per instance: + idx * 0x1000 */
#define PRIV_VMSA_BOOT 0x10A000 /* boot VMSA of each vCPU: + vcpu * 0x1000 */
#define PRIV_STACK 0x14A000	/* exec stack, 64 KiB */
#define PRIV_STACK_SIZE 0x10000
#define PRIV_CIPHER 0x15A000 /* what a C=0 read of a private page returns */
#define PRIV_SYSC 0x15B000   /* the climb's data: far pointer, GDT, TSS, stack (hooks.c) */
#define PRIV_PT 0x15C000     /* exec page tables */
#define PRIV_INSTANCES (EMU_MAX_VCPUS * EMU_NR_VMPLS)
/* In the stub page (hooks.c): the GDT and TSS of its climb to CPL0. */
#define STUB_GDT 0x100
#define STUB_TSS 0x200

/* What stopped an instance's uc_emu_start. */
enum emu_stop_kind {
	STOP_NONE,
	STOP_FAULT_PF,	  /* guest #PF: vector, error code, cr2 */
	STOP_FAULT_VC,	  /* #VC with error code */
	STOP_NPF,	  /* automatic exit to the hypervisor */
	STOP_EXCEPTION,	  /* CPU-raised exception: vector */
	STOP_SWINT,	  /* INT n at rip */
	STOP_INTERCEPT,	  /* SVM intercept: exit code */
	STOP_INVALID,	  /* invalid opcode at rip (maybe an SNP instruction) */
	STOP_SWITCH_DONE, /* the state-load stub reached its end */
	STOP_SYSCALL,	  /* SYSCALL executed (RIP already past it) */
	STOP_RETRY,	  /* nothing ran; start again (new hooks in place) */
	STOP_LIMIT,
	STOP_DEBUG, /* the debugger stopped the CPU before the instruction at RIP */
};

struct emu_stop {
	enum emu_stop_kind kind;
	uint64_t code; /* vector or exit code */
	uint64_t error_code;
	bool has_error_code;
	uint64_t va; /* page of a TLB-fill fault */
	uint64_t cr2;
	uint64_t exitinfo1, exitinfo2;
};

struct emu_vcpu;

/* WRMSR/RDMSR sites hooked per instance (hooks.c hook_msr): a code hook
 * costs every hooked instruction a look at each, so few. */
#define MSR_SITES 32

/* One Unicorn CPU per (vCPU, VMPL): each keeps its own TLB and hidden state. */
#define SMC_QUEUE 16

struct emu_inst {
	uc_engine *uc;
	struct emu_machine *m;
	struct emu_vcpu *vcpu;
	unsigned vmpl;
	unsigned idx;
	uint64_t vmcb_pa;
	bool loaded; /* hidden state matches `shadow` */
	struct {
		bool valid;
		uint64_t va, pa, cr0, cr3, cr4, gen;
		unsigned nlev;
		uint64_t pte_pa[4], pte[4];
	} itc;		 /* the last instruction page translated by guest_insn */
	bool msrs_dirty; /* the guest wrote a syscall MSR since the last save */
	uint64_t efer;	 /* EFER as the CPU holds it (cached) */
	struct {	 /* a climb to CPL0 through the stub's gate (SYSCALL, events) */
		bool on;
		bool sync;   /* inst_enter_cpl0: stop at the end */
		bool late;   /* past the landing: stub fills are execute-only */
		bool msr_ok; /* star, lstar, sfmask hold the CPU's MSRs */
		uint64_t star, lstar, sfmask;
		uint16_t ss; /* loaded from the stub GDT at the landing; 0: keep NULL */
		bool set_rcx;
		uint64_t rsp, rflags, rip, rcx, r11; /* the state at the end */
		uc_x86_mmr gdtr, tr;
	} sysc;
	bool in_switch;		      /* the state-load stub may be fetched */
	uint64_t stub_end;	      /* RIP of the load stub's last instruction */
	uint64_t rmp_gen;	      /* RMP generation its TLB was filled under */
	uint64_t smc_page[SMC_QUEUE]; /* smc.c: code pages others wrote, to drop */
	unsigned smc_nr;
	bool smc_all;		  /* ... too many: drop every translation */
	bool smc_tlb;		  /* another instance fetched code it may store to: refill */
	bool smc_probe;		  /* uc_tlb_hook maps pages to themselves (smc_before_run) */
	uint8_t shadow[0x600];	  /* VMSA bytes as last synchronised (through XMM15) */
	bool lazy;		  /* save deferred: the CPU is newer than the page (vmsa_lazy.c) */
	uint8_t lazy_snap[0x600]; /* ... and the page as it was at the deferral */
	uint64_t io_addrs[256];	  /* IN/OUT/INS/OUTS sites with a stop hook */
	unsigned nr_io;
	uint64_t msr_addrs[MSR_SITES]; /* WRMSR/RDMSR sites with a hook (GHCB MSR) */
	unsigned nr_msr;
	struct emu_stop stop;
	struct { /* inst_save's register batch: its pointers are set once (vmsa.c) */
		uint64_t v[30];
		uc_x86_mmr mmr[4];
		uint8_t xmm[16][16];
		void *ptrs[50];
	} save;
};

enum emu_vcpu_state {
	VCPU_OFF,
	VCPU_RUNNABLE,
	VCPU_HALTED,
	VCPU_DONE
};

struct emu_vcpu {
	unsigned id;
	enum emu_vcpu_state state;
	unsigned vmpl;			 /* VMPL currently running */
	uint64_t vmsa_gpa[EMU_NR_VMPLS]; /* registered VMSAs, 0 = none */
	uint64_t ghcb_gpa[EMU_NR_VMPLS]; /* registered GHCBs, 0 = none */
	uint64_t ghcb_msr[EMU_NR_VMPLS]; /* GHCB MSR value of each VMSA */
	struct emu_inst *inst[EMU_NR_VMPLS];
	uint64_t rng;	      /* RDRAND/RDSEED state (rdrand.c) */
	struct emu_apic apic; /* the hypervisor's local APIC of this vCPU (apic.c) */
};

struct emu_machine {
	csh cs;	 /* Capstone, for scanning new code (I/O sites) */
	csh csd; /* Capstone with operand details (fault addresses) */
	struct emu_config cfg;
	uint8_t *mem; /* guest memory followed by the private region */
	uint64_t mem_size, priv_base, priv_size;
	struct emu_rmp_entry *rmp;
	uint64_t rmp_gen;	     /* bumped on every RMP change */
	uint64_t *smc_code, *smc_wr; /* smc.c: per page, instances (idx mod 64) */
	struct emu_vcpu vcpus[EMU_MAX_VCPUS];
	struct emu_uart uart[2]; /* COM1, COM2 (uart.c) */
	uint8_t exit_status;	 /* EMU_EXIT_STATUS_PORT: the power-off's status */
	unsigned cur;		 /* vCPU being run */
	unsigned slice_vcpu;	 /* slice.c: whose turn the budget belongs to */
	uint64_t slice_left;	 /* ... blocks left in it */
	bool preempt;		 /* ... it ran out: stop at the next block boundary */
	uint64_t insns, tsc;
	uint64_t switches, vmgexits; /* statistics */
	/* ... per VMPL: the instructions counted (count_insns) and VMGEXITs */
	uint64_t insns_vmpl[EMU_NR_VMPLS], vmgexits_vmpl[EMU_NR_VMPLS];
	bool exec_mode;
	bool native0;	      /* VMPL0 is the native monitor (run mode) */
	uint64_t trace_probe; /* image mode: VA of the image's snp_trace_point, 0 = none */
	void (*native_enter)(struct emu_machine *m, struct emu_vcpu *v); /* run it */
	void *native_ctx;
	uint64_t vmpl0_lost; /* GPA|1 of a VMPL0 page the hypervisor took away */
	uint64_t lazy_mask;  /* vCPUs whose VMPL0 save is deferred (vmsa_lazy.c) */
	bool done;
	struct emu_exit exit;
	uint64_t pt_next;	 /* exec page-table allocator */
	struct emu_trace *trace; /* --trace recorder or replay checker; NULL = off */
	struct emu_dbg *dbg;	 /* GDB stub / replay stop; NULL = off */
	struct emu_amdsp *sp;	 /* the AMD-SP (run mode); NULL = none */

	/* The launch digest so far (launch_igvm.c, emu_launch_digest). */
	struct snp_measure launch_ms;
};

/* machine.c */
void machine_finish(struct emu_machine *m, enum emu_exit_kind kind, const char *msg);

/* memory.c */
uint64_t m_rd64(struct emu_machine *m, uint64_t pa);
void m_wr64(struct emu_machine *m, uint64_t pa, uint64_t v);
uint8_t *m_ptr(struct emu_machine *m, uint64_t pa, uint64_t len);
bool m_is_guest(const struct emu_machine *m, uint64_t pa, uint64_t len);
void machine_rmp_changed(struct emu_machine *m);
bool rmp_psmash(struct emu_machine *m, uint64_t gfn);
uint8_t *vmsa_ptr(struct emu_machine *m, struct emu_vcpu *v, unsigned vmpl);

/* vmsa.c */
struct emu_inst *inst_get(struct emu_machine *m, struct emu_vcpu *v, unsigned vmpl);
void inst_free(struct emu_inst *in);
void inst_save(struct emu_inst *in, uint8_t *vmsa);
int inst_load(struct emu_inst *in, const uint8_t *vmsa);
/* Deferred VMSA saves (vmsa_lazy.c). */
bool inst_defer_save(struct emu_inst *in, uint8_t *page, uint64_t exit_code);
void inst_sync(struct emu_inst *in);
int inst_load_lazy(struct emu_inst *in, const uint8_t *vmsa);
void machine_sync_lazy(struct emu_machine *m, uint64_t keep);
uint64_t m_efer(struct emu_inst *in);
uint64_t inst_get_msr(struct emu_inst *in, uint32_t rid);
void inst_set_msr(struct emu_inst *in, uint32_t rid, uint64_t v);
void inst_retire(struct emu_inst *in, uint64_t len);
void inst_retire_at(struct emu_inst *in, uint64_t rip, uint64_t len);
void inst_set_cr2(struct emu_inst *in, uint64_t cr2);

/* hooks.c: the stub page and the hooks inst_get installs */
void stub_init(struct emu_machine *m);
int inst_enter_cpl0(struct emu_inst *in, uint16_t cs, uint64_t desc, uint64_t rsp, uint64_t rflags,
		    uint64_t rip);
void hook_intr(uc_engine *uc, uint32_t intno, void *data);
bool hook_invalid(uc_engine *uc, void *data);
void hook_edge(uc_engine *uc, uc_tb *cur, uc_tb *prev, void *data);
void hook_syscall(uc_engine *uc, void *data);
void hook_code(uc_engine *uc, uint64_t addr, uint32_t size, void *data);
void hook_stub_page(uc_engine *uc, uint64_t addr, uint32_t size, void *data);
void hook_code_stub(uc_engine *uc, uint64_t addr, uint32_t size, void *data);

/* slice.c: time slices between vCPUs (cfg.slice_blocks) */
int smc_init(struct emu_machine *m);
void smc_free(struct emu_machine *m);
void smc_fill(struct emu_inst *in, uint64_t pa, uc_mem_type type, uc_prot *perms);
void smc_before_run(struct emu_inst *in);
void slice_inst_init(struct emu_inst *in);
void slice_before_run(struct emu_machine *m);
/* After a run of `in`: true if it ended only because its slice ran out; the
 * next runnable vCPU is then current. */
bool slice_expired(struct emu_machine *m, struct emu_inst *in);

/* walk.c */
enum emu_walk_result {
	WALK_OK,
	WALK_PF,
	WALK_VC,
	WALK_NPF
};
struct emu_walk {
	enum emu_walk_result res;
	uint64_t pa;
	unsigned perms;	     /* UC_PROT_* granted for the page */
	uint64_t error_code; /* #PF error code / #VC code */
	uint64_t exitinfo1, exitinfo2;
	bool smap;     /* a user page reached at CPL<3 with CR4.SMAP: RFLAGS.AC decides */
	bool cipher;   /* a C=0 read of a private page: pa is the ciphertext page */
	unsigned nlev; /* page-table entries read, top level first */
	uint64_t pte_pa[4], pte[4];
};
void walk_translate(struct emu_inst *in, uint64_t va, unsigned access, unsigned cpl, bool final_rmp,
		    struct emu_walk *w);
bool uc_tlb_hook(uc_engine *uc, uint64_t va, uc_mem_type type, uc_tlb_entry *e, void *data);
int guest_copy(struct emu_inst *in, uint64_t va, void *buf, size_t len, bool write,
	       struct emu_stop *st);
/* Read code bytes the way the CPU fetched them (no faults, no checks beyond the walk). */
size_t guest_fetch(struct emu_inst *in, uint64_t va, void *buf, size_t len);
/* Read the bytes of the instruction at va (supervisor read, as guest_copy). */
int guest_insn(struct emu_inst *in, uint64_t va, void *buf, size_t len, struct emu_stop *st);
int guest_insn_cr(struct emu_inst *in, uint64_t va, void *buf, size_t len, const uint64_t cr[3],
		  struct emu_stop *st);
/* The exact faulting virtual address in `page` (see walk.c). */
uint64_t fault_address(struct emu_inst *in, uint64_t page, bool fetch);
int walk_probe(struct emu_inst *in, uint64_t va, uint64_t *pa);

/* rdrand.c: RDRAND/RDSEED at the #UD of Unicorn's CPU model */
bool x86_emulate_rdrand(struct emu_inst *in, const uint8_t op[5]);

/* hv/snp.c, hv/hv.c: SNP instructions, VMSA switch and the hypervisor model */
int vcpu_switch(struct emu_machine *m, struct emu_vcpu *v, unsigned vmpl, uint64_t exit_code);
bool snp_emulate_insn(struct emu_inst *in, uint64_t rip);
void hv_vmgexit(struct emu_machine *m, struct emu_vcpu *v, unsigned vmpl);
int snp_rmpadjust(struct emu_machine *m, unsigned vmpl, uint64_t gpa, uint64_t size, uint64_t rdx,
		  uint64_t *npf);
int snp_pvalidate(struct emu_machine *m, unsigned vmpl, uint64_t gpa, uint64_t size, uint64_t rdx,
		  bool *cf, uint64_t *npf);
void hv_npf(struct emu_inst *in);
void hv_cpuid(uint32_t fn, uint32_t sub, uint64_t xcr0, uint32_t out[4]);

/* run.c */
void next_runnable(struct emu_machine *m);

/* deliver.c: events into the guest; run.c: intercepts */
void x86_deliver(struct emu_inst *in, unsigned vector, bool has_ec, uint64_t ec, uint64_t cr2,
		 bool is_swint, uint64_t next_rip);
void x86_handle_intercept(struct emu_inst *in, uint64_t code);

static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, 8);
	return v;
}
static inline void st64(uint8_t *p, uint64_t v)
{
	__builtin_memcpy(p, &v, 8);
}
static inline uint64_t rreg(uc_engine *uc, int r)
{
	uint64_t v = 0;
	uc_reg_read(uc, r, &v);
	return v;
}
static inline void wreg(uc_engine *uc, int r, uint64_t v)
{
	uc_reg_write(uc, r, &v);
}

#endif
