/* SPDX-License-Identifier: MIT */
/*
 * trace.h - the veil-emu trace file format (docs/trace-format.md) and the
 * writer that the machine model calls at its event sites.
 *
 * A trace is a file header (magic, version, how to replay the run: mode,
 * options, working directory, images with size and SHA-256) followed by
 * records. Every record starts with the same 32-byte header (type, vCPU,
 * VMPL, CPL, sequence number, instruction count, RIP) and carries a payload
 * whose layout depends on the type. All fields are little-endian.
 *
 * Tracing off costs one well-predicted branch per event site: every site is
 * `if (TRACE_ON(m)) trace_xxx(...)` and no Unicorn hook is installed.
 */
#ifndef VEIL_EMU_TRACE_H
#define VEIL_EMU_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRACE_MAGIC "VEILTRC\0"
#define TRACE_MAGIC_LEN 8
/* Version 2 appended R8 to the monitor's records (struct trace_mon, field d);
 * a version 1 trace, without it, is still read. */
#define TRACE_VERSION 2
#define TRACE_VERSION_MIN 1

/* File header flags. */
#define TRACE_F_INSNS 0x1  /* every instruction has an INSN record */
#define TRACE_F_ICOUNT 0x2 /* icount fields hold exact instruction counts */

enum trace_mode {
	TRACE_MODE_EXEC = 0,
	TRACE_MODE_RUN = 1
};

/* The fixed part of the file header; the variable part follows (see docs). */
struct trace_file_hdr {
	char magic[8];
	uint16_t version;
	uint16_t fixed_size; /* sizeof(struct trace_file_hdr) */
	uint32_t hdr_size;   /* fixed + variable part: the first record starts here */
	uint32_t flags;
	uint8_t mode;
	uint8_t nr_vcpus;
	uint16_t reserved;
	uint64_t mem_size;
};

enum trace_type {
	TR_INSN = 1,	    /* an instruction is about to execute */
	TR_VMGEXIT = 2,	    /* a VMGEXIT reached the hypervisor model (request) */
	TR_VMGEXIT_RET = 3, /* ... and what the hypervisor answered */
	TR_SWITCH = 4,	    /* the vCPU changed VMPL */
	TR_RMP = 5,	    /* RMP change by the loader or a page state change */
	TR_RMPADJUST = 6,   /* RMPADJUST executed (result and RMP change) */
	TR_PVALIDATE = 7,   /* PVALIDATE executed (result and RMP change) */
	TR_VC = 8,	    /* #VC delivered */
	TR_NPF = 9,	    /* automatic exit #NPF */
	TR_EXCEPTION = 10,  /* another exception or INT n delivered */
	TR_MCALL = 11,	    /* the monitor accepted an SVSM call */
	TR_MCALL_RET = 12,  /* ... and its result */
	TR_MFAULT = 13,	    /* the monitor's fault policy saw a violation */
	TR_CONSOLE = 14,    /* console output (guest IOIO or the monitor) */
	TR_END = 15,	    /* the run ended */
	TR_MEVENT = 16,	    /* another veil_trace() event of the core */
	TR_NR_TYPES
};

/* Record header flags. */
#define TRACE_RF_REGS 0x1 /* the payload ends with struct trace_regs */

struct trace_rec {
	uint8_t type;
	uint8_t flags;
	uint16_t size; /* the whole record: header, payload, registers */
	uint8_t vcpu;
	uint8_t vmpl;
	uint8_t cpl;
	uint8_t reserved;
	uint64_t seq;	 /* record number, from 0 */
	uint64_t icount; /* guest instructions retired before the event */
	uint64_t rip;	 /* guest RIP at the event (0 in the native monitor) */
};

struct trace_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags, cr0, cr2, cr3, cr4;
};

/* An RMP entry in a record. */
#define TRACE_RMP_ASSIGNED 0x01
#define TRACE_RMP_VALIDATED 0x02
#define TRACE_RMP_VMSA 0x04
#define TRACE_RMP_LARGE 0x08
#define TRACE_RMP_IMMUTABLE 0x10
struct trace_rmp_entry {
	uint8_t flags;
	uint8_t perms[4];
	uint8_t pad[3];
};

/* Payloads. */
struct trace_insn {
	uint8_t len;
	uint8_t bytes[15];
};

enum {
	TRACE_VMGEXIT_MSR = 0,
	TRACE_VMGEXIT_GHCB = 1
};
struct trace_vmgexit {
	uint32_t kind;
	uint32_t pad;
	uint64_t msr;  /* GHCB MSR value at the VMGEXIT (request or GHCB GPA) */
	uint64_t code; /* GHCB: SW_EXITCODE */
	uint64_t info1, info2;
};
struct trace_vmgexit_ret {
	uint32_t kind;
	uint32_t pad;
	uint64_t msr;	       /* GHCB MSR after the request (MSR protocol response) */
	uint64_t info1, info2; /* GHCB: SW_EXITINFO1/2 after the event */
};

struct trace_switch {
	uint32_t from, to;
	uint64_t reason; /* exit code saved in the VMSA left (0x403 VMGEXIT, 0x400 NPF) */
	int32_t result;	 /* 0, or -1: the target VMSA could not be run */
	uint32_t pad;
};

/* TR_RMP, TR_RMPADJUST, TR_PVALIDATE: which parts of the entry an operation sets. */
#define TRACE_RMPF_FLAGS 0x01 /* assigned, validated, vmsa, size (all of flags) */
#define TRACE_RMPF_VALIDATED 0x02
#define TRACE_RMPF_VMSA 0x04
#define TRACE_RMPF_PERM(v) (0x10 << (v))
enum trace_rmp_op {
	TRACE_RMP_LOADER_ASSIGN = 1, /* emu_rmp_assign (launch/loader) */
	TRACE_RMP_LOADER_PERMS = 2,  /* emu_rmp_set_perms (launch/loader) */
	TRACE_RMP_PSC = 3,	     /* page state change by the hypervisor */
};
struct trace_rmp {
	uint64_t gpa;
	uint64_t npages;
	uint32_t op;
	uint32_t changed;	       /* TRACE_RMPF_*: fields set in every page */
	struct trace_rmp_entry before; /* of the first page */
	struct trace_rmp_entry after;  /* of the first page */
};
struct trace_rmpadjust {
	uint64_t gpa, size, rdx;
	int32_t rc; /* architectural code, or -1 for an #NPF */
	uint32_t caller_vmpl;
	uint64_t npf; /* EXITINFO1 when rc is -1 */
	uint32_t changed;
	uint32_t pad;
	struct trace_rmp_entry before, after;
};
struct trace_pvalidate {
	uint64_t gpa, size, validate;
	int32_t rc;
	uint32_t caller_vmpl;
	uint64_t npf;
	uint32_t changed;
	uint32_t cf;
	struct trace_rmp_entry before, after;
};

struct trace_exception {
	uint32_t vector;
	uint32_t has_error_code;
	uint64_t error_code; /* for #VC: the exit code */
	uint64_t cr2;
	uint32_t swint; /* INT n */
	uint32_t pad;
};

enum {
	TRACE_NPF_TO_VMPL0 = 0,
	TRACE_NPF_END = 1
};
struct trace_npf {
	uint64_t exitinfo1, exitinfo2;
	uint32_t action; /* what the hypervisor model did */
	uint32_t pad;
};

/* TR_MCALL, TR_MCALL_RET, TR_MFAULT, TR_MEVENT: the core's veil_trace() arguments. */
struct trace_mon {
	uint32_t event;
	uint32_t pad;
	uint64_t a, b, c;
	uint64_t d; /* version 2 on: R8 of an SVSM call (mcall, mcall-ret) */
};
/* A version 1 record ends before d. */
#define TRACE_MON_V1_SIZE 32

enum {
	TRACE_CONSOLE_IOIO = 0,
	TRACE_CONSOLE_MONITOR = 1
};
struct trace_console {
	uint16_t source;
	uint16_t len;
	uint32_t pad;
	char text[]; /* len bytes */
};

struct trace_end {
	uint32_t kind; /* enum emu_exit_kind */
	int32_t vector;
	uint64_t error_code;
	uint64_t exitinfo1, exitinfo2;
	uint32_t reason_set, reason_code;
	char message[160];
};

_Static_assert(sizeof(struct trace_file_hdr) == 32, "file header layout");
_Static_assert(sizeof(struct trace_rec) == 32, "record header layout");
_Static_assert(sizeof(struct trace_regs) == 176, "register block layout");
_Static_assert(sizeof(struct trace_rmp) == 40, "rmp payload layout");
_Static_assert(sizeof(struct trace_rmpadjust) == 64, "rmpadjust payload layout");
_Static_assert(sizeof(struct trace_pvalidate) == 64, "pvalidate payload layout");

#define TRACE_MAX_RECORD 0xFFFF

/* ---- writer (trace.c, trace_rec.c) ------------------------------------- */

struct emu_machine;
struct emu_vcpu;
struct emu_inst;
struct emu_rmp_entry;

/* What the header records so that the run can be replayed. */
struct trace_setup {
	enum trace_mode mode;
	int argc;
	char **argv; /* the options after the mode, as given */
	int nimages;
	const char **images; /* the files the run loads */
	bool insns;	     /* --trace-insns */
};

/*
 * Start recording the run of `m` into `path`. Call before loading images so
 * that the loader's RMP changes are recorded. Returns 0, or -1 with err set.
 */
int emu_trace_open(struct emu_machine *m, const char *path, const struct trace_setup *s, char *err,
		   size_t errlen);
/*
 * Replay instead of recording: every record the run produces is compared with
 * the next one of the trace at `path` (header included); after record
 * `stop_at` the run stops (or the GDB stub takes over, if attached).
 */
int emu_trace_open_replay(struct emu_machine *m, const char *path, const struct trace_setup *s,
			  uint64_t stop_at, char *err, size_t errlen);
/* Flush and close; returns -1 if writing failed. Safe on a machine without a trace. */
int emu_trace_close(struct emu_machine *m, char *err, size_t errlen);
/* Replay outcome: 1 stopped after the requested record, 0 not reached, -1 diverged. */
int emu_trace_replay_status(const struct emu_machine *m, char *msg, size_t len);
/* Records written so far. */
uint64_t emu_trace_count(const struct emu_machine *m);
/* Flush buffered records to the file (the GDB stub does it when it stops). */
void emu_trace_flush(struct emu_machine *m);

/* Internal: install the INSN hook on a new instance (called by inst_get). */
void trace_inst_init(struct emu_inst *in);

/* Event sites (machine model). */
#define TRACE_ON(m) __builtin_expect((m)->trace != NULL, 0)

void trace_vmgexit(struct emu_machine *m, struct emu_vcpu *v, unsigned vmpl, bool ret);
void trace_switch(struct emu_machine *m, struct emu_vcpu *v, unsigned from, unsigned to,
		  uint64_t reason, int result);
void trace_rmp(struct emu_machine *m, unsigned op, uint64_t gpa, uint64_t npages, unsigned changed,
	       const struct emu_rmp_entry *before);
void trace_rmpadjust(struct emu_machine *m, unsigned vmpl, uint64_t gpa, uint64_t size,
		     uint64_t rdx, int rc, uint64_t npf, const struct emu_rmp_entry *before);
void trace_pvalidate(struct emu_machine *m, unsigned vmpl, uint64_t gpa, uint64_t size,
		     uint64_t rdx, int rc, bool cf, uint64_t npf,
		     const struct emu_rmp_entry *before);
void trace_exception(struct emu_inst *in, unsigned vector, bool has_ec, uint64_t ec, uint64_t cr2,
		     bool swint);
void trace_npf(struct emu_inst *in, bool to_vmpl0);
void trace_console(struct emu_machine *m, struct emu_vcpu *v, unsigned vmpl, unsigned source,
		   const char *s, size_t len);
void trace_end(struct emu_machine *m);
void trace_monitor(struct emu_machine *m, struct emu_vcpu *v, uint32_t event, uint64_t a,
		   uint64_t b, uint64_t c, uint64_t d);
/* Traced versions of snp_rmpadjust, snp_pvalidate and vcpu_switch: they run
 * the untraced body and record the outcome with the state before it. */
int trace_call_rmpadjust(struct emu_machine *m, unsigned vmpl, uint64_t gpa, uint64_t size,
			 uint64_t rdx, uint64_t *npf);
int trace_call_pvalidate(struct emu_machine *m, unsigned vmpl, uint64_t gpa, uint64_t size,
			 uint64_t rdx, bool *cf, uint64_t *npf);
int trace_call_switch(struct emu_machine *m, struct emu_vcpu *v, unsigned vmpl, uint64_t exit_code);

/* ---- shared by the writer and veil-trace (trace_fmt.c, trace_desc.c) ---- */

#define TRACE_MAX_ARGS 256
#define TRACE_MAX_IMAGES 64

struct trace_str {
	const char *p; /* not NUL-terminated */
	uint16_t len;
};
struct trace_image {
	struct trace_str path;
	uint64_t size;
	uint8_t sha256[32];
};
/* The header of a trace in memory; strings point into the buffer. */
struct trace_header {
	const struct trace_file_hdr *fh;
	struct trace_str cwd;
	unsigned argc;
	struct trace_str argv[TRACE_MAX_ARGS];
	unsigned nimages;
	struct trace_image images[TRACE_MAX_IMAGES];
};

/* Parse and check a header; -1 with a one-line reason in err. */
int trace_parse_header(const uint8_t *p, size_t len, struct trace_header *h, char *err,
		       size_t errlen);
/* Check one record at p (len bytes left): 0, or -1 with err set. */
int trace_check_record(const uint8_t *p, size_t len, char *err, size_t errlen);
/* The register block of a record, or NULL. */
const struct trace_regs *trace_rec_regs(const struct trace_rec *r);
/* Minimum payload size of each record type. */
size_t trace_payload_min(unsigned type);

const char *trace_type_name(unsigned type);
int trace_type_from_name(const char *name); /* -1 if unknown */
/* One line describing the payload of `r` (no header fields). */
void trace_describe(const struct trace_rec *r, char *buf, size_t len);
/* "rwus" / "-" for a permission mask. */
void trace_perm_str(uint8_t perms, char out[6]);
/* "#VC 0x404: page not validated", "#GP, error code 0": an exception in words. */
void trace_decode_exception(int vector, bool has_ec, uint64_t ec, char *buf, size_t len);
/* "#NPF: write, VMPL3 lacks W (GPA 0x100000)": an #NPF's EXITINFO1 in words. */
void trace_decode_npf(uint64_t exitinfo1, uint64_t gpa, unsigned vmpl, char *buf, size_t len);
/* "core", "log", ... for an SVSM protocol number ("unknown" otherwise). */
const char *trace_protocol_name(uint64_t protocol);
/* "log APPEND", "core PVALIDATE", or "kci call 7" for a call of a protocol. */
void trace_call_name(uint64_t protocol, uint64_t call, char *buf, size_t len);

#endif
