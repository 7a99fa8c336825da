/* SPDX-License-Identifier: MIT */
/*
 * emu.h - the SEV-SNP machine model on Unicorn 2.1 (backends/emu).
 *
 * One machine = guest physical memory, an RMP entry per 4 KiB page, N vCPUs
 * with one VMSA per VMPL, and a hypervisor model that answers VMGEXIT. The
 * architecture it follows is AMD's (APM vol 2, 15.36; GHCB spec 56421; SNP
 * firmware ABI 56860); model choices are listed in FIDELITY.md.
 *
 * Physical layout: [0, mem_size) is guest memory, covered by the RMP.
 * [EMU_PRIV_BASE(mem_size), +EMU_PRIV_SIZE) is emulator-private memory (page
 * tables and stack of `exec`, boot VMSAs, VMCB scratch): it has no RMP entries
 * and the guest reaches only the pages the emulator maps for it.
 */
#ifndef VEIL_EMU_H
#define VEIL_EMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <snp/arch.h>

#define EMU_PAGE_SIZE 4096ULL
#define EMU_NR_VMPLS 4
#define EMU_MAX_VCPUS 64

/* #NPF EXITINFO1 bits (reference 4.2). */
#define EMU_NPF_P (1ULL << 0)
#define EMU_NPF_W (1ULL << 1)
#define EMU_NPF_U (1ULL << 2)
#define EMU_NPF_RSV (1ULL << 3)
#define EMU_NPF_ID (1ULL << 4)
#define EMU_NPF_RMP (1ULL << 31)
#define EMU_NPF_FINAL (1ULL << 32)
#define EMU_NPF_PT (1ULL << 33)
#define EMU_NPF_ENC (1ULL << 34)
#define EMU_NPF_SIZEM (1ULL << 35)
#define EMU_NPF_VMPL (1ULL << 36)

/* Vectors. */
#define EMU_VEC_UD 6
#define EMU_VEC_GP 13
#define EMU_VEC_PF 14
#define EMU_VEC_VC 29

/* One RMP entry as the model keeps it (the raw layout is not architectural). */
struct emu_rmp_entry {
	uint8_t assigned;
	uint8_t validated;
	uint8_t vmsa;
	uint8_t page_size; /* 0 = 4K, 1 = 2M */
	uint8_t immutable;
	uint8_t perms[EMU_NR_VMPLS]; /* perms[0] is always RMP_PERM_ALL */
};

/* `run`'s time slice: blocks a vCPU runs before the next one's turn. */
#define EMU_SLICE_BLOCKS 20000U

struct emu_config {
	uint64_t mem_size;  /* bytes, multiple of 2 MiB, at least 2 MiB */
	unsigned nr_vcpus;  /* 1..EMU_MAX_VCPUS */
	bool count_insns;   /* exact instruction counts (costs speed) */
	uint64_t max_insns; /* 0 = no limit; needs count_insns */
	/* With more than one vCPU: the running one yields after this many
	 * translation blocks without an exit (slice.c); 0 = only at exits. */
	uint32_t slice_blocks;
	FILE *console; /* IOIO console output; NULL = stdout */
	/* COM1's receive side reads this (raw, without waiting); NULL = none. */
	FILE *console_in;
	FILE *com2; /* IOIO port 0x2F8 output (the guest's data channel); NULL = none */
	FILE *log;  /* model diagnostics; NULL = none */
};

enum emu_exit_kind {
	EMU_EXIT_KIND_HLT,
	EMU_EXIT_KIND_TERMINATE,
	EMU_EXIT_KIND_NPF,
	EMU_EXIT_KIND_EXCEPTION,
	EMU_EXIT_KIND_LIMIT,
	EMU_EXIT_KIND_ERROR, /* the model itself failed; see message */
};

/* How a run ended, as `veil-emu exec` prints it. */
struct emu_exit {
	enum emu_exit_kind kind;
	unsigned vcpu, vmpl, cpl;
	uint64_t rip, rax, rbx, rcx, rdx, rflags;
	uint64_t insns;
	uint64_t switches;		      /* VMPL switches (all vCPUs) */
	uint64_t vmgexits;		      /* VMGEXITs (all vCPUs) */
	uint64_t insns_vmpl[EMU_NR_VMPLS];    /* insns by the VMPL that ran them */
	uint64_t vmgexits_vmpl[EMU_NR_VMPLS]; /* VMGEXITs by the VMPL that made them */
	uint64_t exitinfo1, exitinfo2;	      /* kind NPF */
	int vector;			      /* kind EXCEPTION, else -1 */
	uint64_t error_code;		      /* kind EXCEPTION, if has_error_code */
	bool has_error_code;
	unsigned reason_set, reason_code; /* kind TERMINATE */
	char message[160];
};

/* Initial state of a vCPU started by the emulator (exec mode). */
struct emu_start {
	uint64_t rip;
	unsigned vmpl; /* 0..3 */
	unsigned cpl;  /* 0 or 3 */
};

struct emu_machine;

/* Creation and teardown; on failure returns NULL and fills err. */
struct emu_machine *emu_create(const struct emu_config *cfg, char *err, size_t errlen);
void emu_destroy(struct emu_machine *m);

/* Host (loader) view of guest memory: NULL if [gpa, gpa+len) is outside. */
void *emu_gpa_ptr(struct emu_machine *m, uint64_t gpa, uint64_t len);
/* The model (not a vCPU) stored to guest memory [pa, pa+len) that may hold
 * code: every instance drops its translations of it before it runs (smc.c). */
void emu_code_written(struct emu_machine *m, uint64_t pa, uint64_t len);
uint64_t emu_mem_size(const struct emu_machine *m);

/* Hypervisor/loader-side RMP control (RMPUPDATE-like, no guest checks). */
int emu_rmp_assign(struct emu_machine *m, uint64_t gpa, uint64_t len, bool validated);
int emu_rmp_set_perms(struct emu_machine *m, uint64_t gpa, uint64_t len, unsigned vmpl,
		      uint8_t perms);
int emu_rmp_get(const struct emu_machine *m, uint64_t gpa, struct emu_rmp_entry *out);

/*
 * exec mode: build an identity map of guest memory (plus a stack) in private
 * memory and run vCPU 0 from `st` until HLT, termination, an exit the model
 * cannot continue, or the instruction limit.
 */
int emu_exec(struct emu_machine *m, const struct emu_start *st, struct emu_exit *out);

/* Where the exec-mode helpers live (documented in README and FIDELITY.md). */
uint64_t emu_exec_stack_top(const struct emu_machine *m);
/* GPA of the VMSA currently registered for (vcpu, vmpl), 0 if none. */
uint64_t emu_vmsa_gpa(const struct emu_machine *m, unsigned vcpu, unsigned vmpl);
/* Host pointer to a private or guest page (for tests reading VMSAs). */
void *emu_phys_ptr(struct emu_machine *m, uint64_t pa, uint64_t len);

/* The SNP launch digest (48 bytes) of the pages launched so far, extended as
 * the AMD-SP does on SNP_LAUNCH_UPDATE (launch_igvm.c, measure.h): by `run
 * --igvm` (every page of the file, VMSA last) and `run --kernel` (the image,
 * then the monitor region); all zero in exec mode. */
const uint8_t *emu_launch_digest(const struct emu_machine *m);

/* Parse "rwus" / "-" into a mask; -1 on bad letters. */
int emu_parse_perms(const char *s);
const char *emu_exit_kind_name(enum emu_exit_kind k);

#endif
