/* SPDX-License-Identifier: MIT */
/*
 * veil/abi.h - the guest ABI: how an OS at VMPL3 calls the Veil monitor.
 *
 * Shared, unchanged, by the monitor (core/, services/) and guest code
 * (guest/lib, guest/kernel, guest/linux). Freestanding: only <stdint.h>.
 *
 * Calls follow the SVSM convention (reference section 8): RAX =
 * (protocol << 32) | call, arguments in RCX, RDX, R8, R9; set the CAA's
 * call_pending byte to 1; request "run VMPL 0" (GHCB MSR 0x016 or the GHCB
 * Run VMPL event); on return RAX holds the result and RCX..R9 the outputs;
 * exchange call_pending with 0 (still 1 = the monitor never ran the call).
 */
#ifndef VEIL_ABI_H
#define VEIL_ABI_H

#include <stdint.h>

#include <snp/arch.h>

/* ---- result codes (RAX) ---------------------------------------------- */
#define SVSM_SUCCESS 0x00000000ULL
#define SVSM_ERR_INCOMPLETE 0x80000000ULL
#define SVSM_ERR_UNSUPPORTED_PROTOCOL 0x80000001ULL
#define SVSM_ERR_UNSUPPORTED_CALL 0x80000002ULL
#define SVSM_ERR_INVALID_ADDRESS 0x80000003ULL
#define SVSM_ERR_INVALID_FORMAT 0x80000004ULL
#define SVSM_ERR_INVALID_PARAMETER 0x80000005ULL
#define SVSM_ERR_INVALID_REQUEST 0x80000006ULL
#define SVSM_ERR_BUSY 0x80000007ULL
/* Protocol-specific: 0x8000_1000 + n. For PVALIDATE/RMPADJUST, n = the
 * instruction's return code; 0x10 = PVALIDATE left the page unchanged. */
#define SVSM_ERR_PROTOCOL_BASE 0x80001000ULL
#define SVSM_ERR_PVALIDATE_FAIL_INPUT (SVSM_ERR_PROTOCOL_BASE + 1)
#define SVSM_ERR_PVALIDATE_FAIL_SIZEMISMATCH (SVSM_ERR_PROTOCOL_BASE + 6)
#define SVSM_ERR_PVALIDATE_FAIL_UNCHANGED (SVSM_ERR_PROTOCOL_BASE + 0x10)

#define SVSM_CALL(proto, call) (((uint64_t)(proto) << 32) | (uint32_t)(call))

/* ---- protocol 0: core (SVSM specification) ------------------------------ */
#define SVSM_CORE_PROTOCOL 0
#define SVSM_CORE_REMAP_CA 0
#define SVSM_CORE_PVALIDATE 1
#define SVSM_CORE_CREATE_VCPU 2
#define SVSM_CORE_DELETE_VCPU 3
#define SVSM_CORE_DEPOSIT_MEM 4
#define SVSM_CORE_WITHDRAW_MEM 5
#define SVSM_CORE_QUERY_PROTOCOL 6
#define SVSM_CORE_CONFIGURE_VTOM 7

/* PVALIDATE request: at RCX (8-byte aligned GPA), at most one page. */
struct svsm_pvalidate_hdr {
	uint16_t num_entries;
	uint16_t next;
	uint32_t reserved;
	/* uint64_t entry[num_entries] follows */
};
#define SVSM_PVAL_SIZE_4K 0
#define SVSM_PVAL_SIZE_2M 1
#define SVSM_PVAL_ENTRY(gfn, size, validate, ignore_cf)                                    \
	(((uint64_t)(gfn) << 12) | ((uint64_t)(size)&3) | ((uint64_t) !!(validate) << 2) | \
	 ((uint64_t) !!(ignore_cf) << 3))
#define SVSM_PVAL_MAX_ENTRIES 511 /* in one 4 KiB page */

/* ---- protocol 1: attestation (SVSM specification) ----------------------- */
#define SVSM_ATTEST_PROTOCOL 1
#define SVSM_ATTEST_SERVICES 0
#define SVSM_ATTEST_SINGLE_SERVICE 1

/* ---- Veil protocols (one per service; discover with QUERY_PROTOCOL) ---- */
#define VEIL_PROTOCOL_KCI 0x56450001U	 /* kernel code integrity */
#define VEIL_PROTOCOL_MODULE 0x56450002U /* module loading */
#define VEIL_PROTOCOL_LOG 0x56450003U	 /* secure log */
#define VEIL_PROTOCOL_ENCLAVE 0x56450004U
#define VEIL_PROTOCOL_TEST 0x5645FFFFU /* call 0: echo RCX + 1; touches no state (benchmarks) */

/* ---- VEIL_PROTOCOL_LOG: the secure, append-only log ---------------------- */
#define VEIL_LOG_APPEND 0 /* RCX = GPA of the record, RDX = its length -> RCX = seq */
#define VEIL_LOG_HEAD 1	  /* RCX = GPA of a struct veil_log_head to fill */
/* READ: RCX = first seq, RDX = buffer GPA, R8 = buffer length -> RCX = records
 * copied, RDX = bytes, R8 = next seq; a buffer too small for the next record
 * is INVALID_PARAMETER. */
#define VEIL_LOG_READ 2
/* TEST-ONLY, refused unless the CVM was launched with the log domain's fault
 * test on (veil-emu run --log-domain fault-test): makes the log domain's code
 * write 8 bytes through a mapping of GPA RCX that a page-table bug would give
 * it (RCX = 0: through a wild pointer). The domain faults; the log closes. */
#define VEIL_LOG_TEST_WRITE 3
#define VEIL_LOG_MAX_RECORD 1024
#define VEIL_LOG_ERR_FULL (SVSM_ERR_PROTOCOL_BASE + 1)	 /* no room: dropped, counted */
#define VEIL_LOG_ERR_NO_SEQ (SVSM_ERR_PROTOCOL_BASE + 2) /* READ: seq not in the log */
/* The log domain faulted (a bug in the log's code): the monitor closed the
 * log; every call fails with this from then on. */
#define VEIL_LOG_ERR_CLOSED (SVSM_ERR_PROTOCOL_BASE + 3)

/*
 * A record as stored and as READ copies it out: this header, then `len`
 * payload bytes, then zero padding to a multiple of 8. hash = SHA-256 over
 * the previous record's hash (32 zero bytes before the first), bytes 0..31 of
 * this header (seq, tsc, vcpu, len, origin, reserved; little-endian, as laid
 * out here) and the payload. `origin` is set by the monitor and hashed, so
 * an OS cannot append a record that passes for one of the monitor's own
 * (such as a "violation:" record). 64 bytes, 8-byte aligned:
 *   0 seq   8 tsc   16 vcpu   20 len   24 origin   28 reserved (0)   32 hash
 */
#define VEIL_LOG_ORIGIN_OS 1	  /* appended by the OS through VEIL_LOG_APPEND */
#define VEIL_LOG_ORIGIN_MONITOR 2 /* written by the monitor itself (fault policy) */
struct veil_log_record {
	uint64_t seq;
	uint64_t tsc;
	uint32_t vcpu;
	uint32_t len;
	uint32_t origin;   /* VEIL_LOG_ORIGIN_* */
	uint32_t reserved; /* zero */
	uint8_t hash[32];
};

struct veil_log_head {
	uint64_t count;	   /* records stored */
	uint64_t drops;	   /* appends refused because the log was full */
	uint64_t capacity; /* bytes of record storage for OS records (the monitor keeps 1 KiB more) */
	uint64_t used;	   /* bytes used */
	uint8_t head[32]; /* hash of the last record (zeros when empty) */
};

/* ---- VEIL_PROTOCOL_KCI: kernel code integrity --------------------------- */
#define VEIL_KCI_LOCK 0 /* RCX = GPA of struct veil_kci_decl */
/* -> RCX = 1 if locked, RDX = text pages, R8 = exports, R9 = pages of code
 * VEIL_KCI_ADD_TEXT made executable and not dropped. */
#define VEIL_KCI_STATUS 1
/* Before or after the lock: make the pages a struct veil_kci_text names (RCX = its GPA)
 * supervisor code: R+Xs, never W again until dropped; the monitor hashes them
 * and records name, page count and SHA-256 in the secure log (Linux modules:
 * guest/linux/veil_kci.c). -> RCX = pages added. */
#define VEIL_KCI_ADD_TEXT 2
/* Give pages VEIL_KCI_ADD_TEXT added back as plain data (W, no Xs): RCX = GPA
 * of a struct veil_kci_text; every page must have been added. */
#define VEIL_KCI_DROP_TEXT 3
#define VEIL_KCI_ERR_LOCKED (SVSM_ERR_PROTOCOL_BASE + 1)   /* already locked */
#define VEIL_KCI_ERR_MISMATCH (SVSM_ERR_PROTOCOL_BASE + 2) /* declared != measured image */
#define VEIL_KCI_ERR_WX (SVSM_ERR_PROTOCOL_BASE + 3)	   /* a writable+executable segment */
#define VEIL_KCI_ERR_EXPORT (SVSM_ERR_PROTOCOL_BASE + 4)   /* an export outside the image */
/* A page not plain OS data (ADD), or not one ADD gave (DROP). */
#define VEIL_KCI_ERR_PAGE (SVSM_ERR_PROTOCOL_BASE + 5)

#define VEIL_KCI_TEXT 1
#define VEIL_KCI_RODATA 2
#define VEIL_KCI_MAX_RANGES 8
#define VEIL_KCI_MAX_EXPORTS 256
#define VEIL_KCI_NAME_MAX 48

struct veil_kci_range {
	uint64_t gpa, len; /* page-aligned, as the image's PT_LOAD segments */
	uint32_t kind;	   /* VEIL_KCI_TEXT or VEIL_KCI_RODATA */
	uint32_t reserved;
};

/* A symbol modules may link against; addr must lie in the loaded image. */
struct veil_kci_export {
	char name[VEIL_KCI_NAME_MAX]; /* NUL-terminated */
	uint64_t addr;
	uint64_t reserved;
};

struct veil_kci_decl {
	uint32_t nr_ranges;
	uint32_t nr_exports;
	uint64_t exports_gpa; /* nr_exports struct veil_kci_export, in OS memory */
	struct veil_kci_range ranges[VEIL_KCI_MAX_RANGES];
};

/* Pages of code the OS loaded itself (a Linux module's text), in one page of
 * OS memory: 4 KiB-aligned GPAs, each once. */
#define VEIL_KCI_TEXT_MAX 500
struct veil_kci_text {
	char name[VEIL_KCI_NAME_MAX]; /* NUL-terminated, for the log record */
	uint32_t nr_pages;
	uint32_t reserved;
	uint64_t pages[VEIL_KCI_TEXT_MAX];
};

/* ---- VEIL_PROTOCOL_MODULE: signed kernel modules ------------------------- */
#define VEIL_MOD_LOAD \
	0		  /* RCX = GPA of the signed module file, RDX = its length,
			   * R8 = GPA of donated pages, R9 = their count
			   * -> RCX = handle, RDX = init entry, R8 = exit entry (0 = none) */
#define VEIL_MOD_UNLOAD 1 /* RCX = handle */
#define VEIL_MOD_ERR_SIGNATURE (SVSM_ERR_PROTOCOL_BASE + 1)  /* no or bad signature */
#define VEIL_MOD_ERR_FORMAT (SVSM_ERR_PROTOCOL_BASE + 2)     /* not a valid ELF64 REL object */
#define VEIL_MOD_ERR_SYMBOL (SVSM_ERR_PROTOCOL_BASE + 3)     /* unknown or out-of-range symbol */
#define VEIL_MOD_ERR_RELOC (SVSM_ERR_PROTOCOL_BASE + 4)	     /* relocation outside its section */
#define VEIL_MOD_ERR_PAGES (SVSM_ERR_PROTOCOL_BASE + 5)	     /* donated pages unusable/overlap */
#define VEIL_MOD_ERR_LOADED (SVSM_ERR_PROTOCOL_BASE + 6)     /* this module is loaded already */
#define VEIL_MOD_ERR_NOT_LOADED (SVSM_ERR_PROTOCOL_BASE + 7) /* unknown or unloaded handle */
#define VEIL_MOD_ERR_NOT_LOCKED (SVSM_ERR_PROTOCOL_BASE + 8) /* KCI must be locked first */
#define VEIL_MOD_ERR_SPACE (SVSM_ERR_PROTOCOL_BASE + 9)	     /* too few donated pages */

/* The signature trailer veil-sign appends to a module file. */
#define VEIL_SIG_MAGIC "VEILSIG1"
struct veil_sig_trailer {
	char magic[8];	     /* VEIL_SIG_MAGIC */
	uint64_t signed_len; /* bytes before the trailer, all covered */
	uint8_t sig[64];     /* ECDSA P-256 over SHA-256 of those bytes, raw r || s */
};

/* ---- VEIL_PROTOCOL_ENCLAVE: enclaves (VMPL2, CPL3 domains) --------------- */
/*
 * An enclave is a static ELF64 executable (ET_EXEC, x86-64), optionally
 * followed by a veil-sign trailer (struct veil_sig_trailer), linked inside
 * the enclave window [VEIL_ENC_VA_BASE, VEIL_ENC_IMAGE_END); the monitor
 * copies it in, places its PT_LOAD segments in donated pages, builds its page
 * table, a stack below VEIL_ENC_STACK_TOP, the ocall page at VEIL_ENC_OCALL_VA
 * and the trusted entry, exit and trap code, and measures every page it adds
 * (SHA-384 over struct veil_enc_measure_rec then the page's 4096 bytes, in
 * placement order). The enclave runs at CPL3 from e_entry with RDI = the
 * ENTER argument, RSI = the number of heap pages ADD placed right after the
 * image, and leaves with SYSCALL: RDI = VEIL_ENC_SYS_EXIT, RSI = the
 * value ENTER returns; or asks its host for a call (an ocall) with
 * RDI = VEIL_ENC_SYS_OCALL, RSI = the ocall number, R8 = the request's
 * length in the ocall page, and gets RAX = the host's result, RDX = the
 * response's length in the ocall page (RCX, R11 are not preserved).
 *
 * ENTER and RESUME return SVSM_SUCCESS with RDX = VEIL_ENC_DONE and RCX = the
 * enclave's value, or RDX = VEIL_ENC_OCALL, RCX = the ocall number and
 * R8 = the request's length, copied into the host's ocall buffer (R8 of
 * ENTER, one OS-writable page; 0 = this entry makes no ocalls). The host
 * answers with RESUME on the same vCPU; the response is copied into the
 * enclave's ocall page, never used in place.
 *
 * An interrupt for the OS that arrives while the enclave runs (with IF = 1
 * in the OS when it called) stops the enclave: ENTER, RESUME or CONTINUE
 * return SVSM_SUCCESS with RDX = VEIL_ENC_INTERRUPTED and RCX = R8 = 0; the
 * monitor keeps the enclave's registers in its own memory and has zeroed
 * them in the enclave's VMSA. The OS takes its interrupt, then carries on
 * with CONTINUE, on any vCPU (or DESTROYs the enclave); ENTER is BUSY and
 * RESUME has no ocall to answer until then.
 */
#define VEIL_ENC_CREATE \
	0 /* RCX = GPA of the ELF image, RDX = its length, R8 = GPA of
			    * donated pages, R9 = their count -> RCX = handle, RDX = pages used */
#define VEIL_ENC_ENTER \
	1		   /* RCX = handle, RDX = argument, R8 = GPA of the host's ocall
			    * buffer (or 0) -> see above; VEIL_ENC_ERR_FAULT: RCX = 0x100 +
			    * vector, or 0x400 (an RMP violation) */
#define VEIL_ENC_DESTROY 2 /* RCX = handle: every page scrubbed, then back to the OS */
#define VEIL_ENC_MEASURE \
	3 /* RCX = handle, RDX = GPA of 48 bytes -> SHA-384 measurement;
			  * RCX = 1 if the image was signed with the trusted key */
#define VEIL_ENC_RESUME \
	4 /* RCX = handle, RDX = the ocall's result, R8 = GPA of the
			    * response (0 if R9 = 0), R9 = its length -> as ENTER */
#define VEIL_ENC_ADD \
	5 /* RCX = handle, RDX = pages: heap (R+W, measured) after the image, from
			* the donated pages, before the first ENTER -> RCX = its address */
#define VEIL_ENC_CONTINUE \
	6 /* RCX = handle, R8 = GPA of the host's ocall buffer (or 0): run an
			* interrupted enclave on from where it stopped -> as ENTER */
#define VEIL_ENC_DONE 0
#define VEIL_ENC_OCALL 1
#define VEIL_ENC_INTERRUPTED 2
#define VEIL_ENC_ERR_FORMAT (SVSM_ERR_PROTOCOL_BASE + 1)    /* not an acceptable ELF image */
#define VEIL_ENC_ERR_PAGES (SVSM_ERR_PROTOCOL_BASE + 2)	    /* donated pages unusable */
#define VEIL_ENC_ERR_SPACE (SVSM_ERR_PROTOCOL_BASE + 3)	    /* too few donated pages */
#define VEIL_ENC_ERR_NOT_FOUND (SVSM_ERR_PROTOCOL_BASE + 4) /* unknown or stale handle */
/* The enclave faulted: it cannot run again; DESTROY gives its pages back. */
#define VEIL_ENC_ERR_FAULT (SVSM_ERR_PROTOCOL_BASE + 5)
#define VEIL_ENC_ERR_DEAD (SVSM_ERR_PROTOCOL_BASE + 6)	    /* entered after a fault */
#define VEIL_ENC_ERR_FULL (SVSM_ERR_PROTOCOL_BASE + 7)	    /* no free enclave slot */
#define VEIL_ENC_ERR_SIGNATURE (SVSM_ERR_PROTOCOL_BASE + 9) /* a veil-sign trailer that fails */
#define VEIL_ENC_ERR_NO_OCALL (SVSM_ERR_PROTOCOL_BASE + 8)  /* RESUME: no ocall pending here */
#define VEIL_ENC_ERR_NOT_INTERRUPTED \
	(SVSM_ERR_PROTOCOL_BASE + 10) /* CONTINUE: nothing to go on with */

#define VEIL_ENC_VA_BASE 0x40000000ULL /* one 2 MiB window, one page table */
#define VEIL_ENC_IMAGE_END (VEIL_ENC_VA_BASE + 0x1F0000ULL)
#define VEIL_ENC_STACK_PAGES 4
#define VEIL_ENC_STACK_TOP (VEIL_ENC_VA_BASE + 0x1F8000ULL)
/* Each entry starts with RSP = VEIL_ENC_TLS and FS base = VEIL_ENC_TLS: 64
 * bytes of thread-local data above the stack (%fs:0x28 = the stack
 * protector's canary, as the x86-64 psABI places it). */
#define VEIL_ENC_TLS (VEIL_ENC_STACK_TOP - 64)
#define VEIL_ENC_MAX_IMAGE (256u << 10)
#define VEIL_ENC_MAX_PAGES 512				   /* donated pages per enclave */
#define VEIL_ENC_OCALL_VA (VEIL_ENC_VA_BASE + 0x1F9000ULL) /* one page, R+W */
#define VEIL_ENC_SYS_EXIT 0				   /* SYSCALL RDI: leave, RSI = value */
#define VEIL_ENC_SYS_OCALL 1 /* SYSCALL RDI: ocall RSI, R8 = request length */

#define VEIL_ENC_PAGE_R 1 /* measured page flags */
#define VEIL_ENC_PAGE_W 2
#define VEIL_ENC_PAGE_X 4
#define VEIL_ENC_PAGE_STACK 8
#define VEIL_ENC_PAGE_OCALL 16
#define VEIL_ENC_PAGE_HEAP 32
struct veil_enc_measure_rec {
	uint64_t va;	/* enclave virtual address of the page */
	uint32_t flags; /* VEIL_ENC_PAGE_* */
	uint32_t reserved;
};

/* ---- per-vCPU calling area (CAA) ---------------------------------------- */
struct svsm_caa {
	uint8_t call_pending;
	uint8_t mem_available;
	uint8_t reserved[6];
	uint8_t buffer[4088];
};

/* ---- secrets page (the OS's copy) ---------------------------------------- */
#define SNP_SECRETS_VMPCK(n) (0x20 + 0x20 * (n))
#define SNP_SECRETS_SVSM_BASE 0x140
#define SNP_SECRETS_SVSM_SIZE 0x148
#define SNP_SECRETS_SVSM_CAA 0x150
#define SNP_SECRETS_SVSM_MAX_VERSION 0x158
#define SNP_SECRETS_SVSM_GUEST_VMPL 0x15C

/* ---- GHCB MSR protocol: snp/arch.h ---------------------------------------- */
/* Termination reason set 2: Veil (set 0 and 1 are the GHCB spec's and Linux's). */
#define VEIL_TERM_SET 2
#define VEIL_TERM_OK 0		/* the OS ended normally */
#define VEIL_TERM_TEST_FAILED 1 /* a self-test failed */
#define VEIL_TERM_VIOLATION 4	/* the monitor's fault policy stopped the CVM */
#define VEIL_TERM_MONITOR 5	/* the monitor failed */

/* ---- SNP guest messages (SEV-SNP Firmware ABI 56860, "Guest Messages") ----
 * The guest asks the AMD-SP through the hypervisor: GHCB events SNP Guest
 * Request (0x8000_0011) and Extended Guest Request (0x8000_0012, RAX = GPA
 * of a certificate buffer, RBX = its pages; GHCB spec 56421 section 4.1.8),
 * SW_EXITINFO1/2 = GPAs of the shared request and response pages. Each
 * message is a 0x60-byte header and a payload encrypted with AES-256-GCM
 * under VMPCKn: IV = MSG_SEQNO (little-endian, zero-padded to 12 bytes), AAD =
 * header bytes 0x30-0x5F, tag in AUTHTAG. The firmware expects MSG_SEQNO =
 * its counter for that VMPCK + 1 and answers with MSG_SEQNO + 1. */
#define SNP_GHCB_ERR_INVALID_LEN (1ULL << 32) /* SW_EXITINFO2: certificate buffer too small */
#define SNP_FW_SUCCESS 0x00
#define SNP_FW_INVALID_PARAM 0x16
#define SNP_AEAD_AES_256_GCM 1
#define SNP_MSG_KEY_REQ 3
#define SNP_MSG_KEY_RSP 4
#define SNP_MSG_REPORT_REQ 5
#define SNP_MSG_REPORT_RSP 6

struct snp_msg_hdr {
	uint8_t authtag[32]; /* AES-GCM uses the first 16 bytes */
	uint64_t msg_seqno;
	uint8_t reserved1[8];
	uint8_t algo; /* SNP_AEAD_* */
	uint8_t hdr_version;
	uint16_t hdr_size;
	uint8_t msg_type;
	uint8_t msg_version;
	uint16_t msg_size; /* payload bytes */
	uint32_t reserved2;
	uint8_t msg_vmpck;
	uint8_t reserved3[35];
};
#define SNP_MSG_AAD_OFF 0x30
#define SNP_MSG_AAD_LEN 0x30
#define SNP_MSG_MAX_PAYLOAD (4096 - 0x60)

/* TCB_VERSION (56860 "TCB_VERSION structure"): SPL per component. */
#define SNP_TCB(bl, tee, snp, ucode)                                         \
	((uint64_t)(bl) | ((uint64_t)(tee) << 8) | ((uint64_t)(snp) << 48) | \
	 ((uint64_t)(ucode) << 56))
#define SNP_POLICY_DEBUG (1ULL << 19)
#define SNP_SIG_ALGO_ECDSA_P384_SHA384 1

/* ATTESTATION_REPORT (56860 Table "ATTESTATION_REPORT Structure"), version 2. */
struct snp_report {
	uint32_t version;
	uint32_t guest_svn;
	uint64_t policy;
	uint8_t family_id[16];
	uint8_t image_id[16];
	uint32_t vmpl;
	uint32_t signature_algo;
	uint64_t current_tcb;
	uint64_t platform_info;
	uint32_t flags; /* bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 4:2 SIGNING_KEY */
	uint32_t reserved0;
	uint8_t report_data[64];
	uint8_t measurement[48];
	uint8_t host_data[32];
	uint8_t id_key_digest[48];
	uint8_t author_key_digest[48];
	uint8_t report_id[32];
	uint8_t report_id_ma[32];
	uint64_t reported_tcb;
	uint8_t reserved1[24];
	uint8_t chip_id[64];
	uint64_t committed_tcb;
	uint8_t current_build, current_minor, current_major, reserved2;
	uint8_t committed_build, committed_minor, committed_major, reserved3;
	uint64_t launch_tcb;
	uint8_t reserved4[168];
	uint8_t sig_r[72]; /* ECDSA r, little-endian, zero-padded */
	uint8_t sig_s[72];
	uint8_t sig_reserved[368];
};
#define SNP_REPORT_SIZE 0x4A0
#define SNP_REPORT_SIGNED_LEN 0x2A0

struct snp_report_req {
	uint8_t report_data[64];
	uint32_t vmpl; /* at least the VMPL of the VMPCK used */
	uint8_t reserved[28];
};

struct snp_report_resp {
	uint32_t status;
	uint32_t report_size;
	uint8_t reserved[24];
	struct snp_report report;
};

struct snp_key_req {
	uint32_t root_key_select; /* bit 0: 0 = VCEK, 1 = VMRK */
	uint32_t reserved;
	uint64_t guest_field_select; /* bit 0 policy, 1 image id, 2 family id, 3 measurement,
					4 guest SVN, 5 TCB version */
	uint32_t vmpl;
	uint32_t guest_svn;
	uint64_t tcb_version;
};

struct snp_key_resp {
	uint32_t status;
	uint8_t reserved[28];
	uint8_t derived_key[32];
};

/* Extended request certificate table entries (GHCB spec 56421, SNP Extended
 * Guest Request): GUID, offset and length of each DER certificate in the
 * buffer, ended by an all-zero entry. */
struct snp_cert_entry {
	uint8_t guid[16];
	uint32_t offset, length;
};

/* ---- SVSM attestation protocol (SVSM spec 58019, protocol 1) ------------- */

struct svsm_loc {
	uint64_t gpa;
	uint32_t size;
	uint32_t reserved;
};

/* RCX = GPA of this. Outputs: RCX = manifest, RDX = certificates, R8 = report
 * sizes (also when a buffer was too small: SVSM_ERR_INVALID_PARAMETER). */
struct svsm_attest_call {
	struct svsm_loc report, nonce, manifest, certificates;
	uint8_t service_guid[16]; /* ATTEST_SINGLE_SERVICE only */
	uint32_t service_manifest_version;
	uint32_t reserved;
};

/* The services manifest of ATTEST_SERVICES: a GUID table. */
struct svsm_manifest_hdr {
	uint8_t guid[16]; /* SVSM_SERVICES_MANIFEST_GUID */
	uint32_t size;	  /* whole manifest */
	uint32_t nr_entries;
};
struct svsm_manifest_entry {
	uint8_t guid[16];
	uint32_t offset, size; /* from the start of the manifest */
};

/* GUIDs in their byte (little-endian fields) encoding. */
#define SVSM_SERVICES_MANIFEST_GUID                                                           \
	{                                                                                     \
		0xbb, 0x9e, 0x84, 0x63, 0x92, 0x3d, 0x70, 0x46, 0xa1, 0xff, 0x58, 0xf9, 0xc9, \
			0x4b, 0x87, 0xbb                                                      \
	} /* 63849ebb-3d92-4670-a1ff-58f9c94b87bb */

/* Veil's entries in the services manifest (GUIDs Veil defines; each entry's
 * data is the structure below, version 1). */
#define VEIL_ATTEST_GUID_KCI                                                                  \
	{                                                                                     \
		0x4a, 0x9d, 0x2e, 0x3b, 0x1c, 0x6f, 0x8e, 0x4a, 0x9b, 0x7d, 0x2c, 0x5e, 0x8f, \
			0x1a, 0x0d, 0x01                                                      \
	} /* 3b2e9d4a-6f1c-4a8e-9b7d-2c5e8f1a0d01 */
#define VEIL_ATTEST_GUID_LOG                                                                  \
	{                                                                                     \
		0x4a, 0x9d, 0x2e, 0x3b, 0x1c, 0x6f, 0x8e, 0x4a, 0x9b, 0x7d, 0x2c, 0x5e, 0x8f, \
			0x1a, 0x0d, 0x02                                                      \
	} /* ...0d02: struct veil_log_head */
#define VEIL_ATTEST_GUID_MODULES                                                              \
	{                                                                                     \
		0x4a, 0x9d, 0x2e, 0x3b, 0x1c, 0x6f, 0x8e, 0x4a, 0x9b, 0x7d, 0x2c, 0x5e, 0x8f, \
			0x1a, 0x0d, 0x03                                                      \
	} /* ...0d03 */
#define VEIL_ATTEST_MAX_NONCE 1024

/* Kernel code integrity: the lock state and the measured image segments
 * (flags: VEIL_KSEG_* = ELF p_flags; text is R+X). */
struct veil_attest_kci {
	uint32_t version;
	uint32_t locked;
	uint64_t text_pages; /* locked text pages (0 before the lock) */
	uint32_t nr_segs;
	uint32_t reserved;
	struct {
		uint64_t gpa, len;
		uint32_t flags, reserved;
	} segs[];
};

/* Loaded modules: each by the SHA-256 of its signed file. */
struct veil_attest_modules {
	uint32_t version;
	uint32_t nr;
	struct {
		uint64_t handle, base, pages;
		uint8_t sha256[32];
	} mod[];
};

/* An attestation bundle as the test OS writes it (COM2) and veil-attest
 * reads it: this header, the report, then the manifest (may be empty). */
#define VEIL_ATTEST_BUNDLE_MAGIC 0x3154544154534556ULL /* "VESTATT1" */
struct veil_attest_bundle {
	uint64_t magic;
	uint32_t report_size; /* SNP_REPORT_SIZE */
	uint32_t manifest_size;
};

#endif
