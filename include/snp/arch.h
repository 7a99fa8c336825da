/* SPDX-License-Identifier: MIT */
/*
 * snp/arch.h - the SEV-SNP architecture, defined once: the VMSA, the GHCB
 * page, SVM exit codes and VMGEXIT (NAE) events, the GHCB MSR protocol, RMP
 * permissions and the return codes of PVALIDATE and RMPADJUST.
 *
 * Sources: AMD64 APM vol. 2 (24593) appendix B table B-4 "VMSA layout, state
 * save area for SEV-ES" and appendix C "SVM intercept exit codes"; APM vol. 3
 * (24594) PVALIDATE, RMPADJUST, RMPUPDATE; GHCB specification (56421)
 * section 2.3.1 (the GHCB MSR protocol), section 2.5 and table 3 (the GHCB
 * layout), section 4.1 (NAE events).
 *
 * Valid in C and in assembly (.S, through the C preprocessor): the offsets
 * and codes are plain numbers; the C structs below are asserted against them
 * field by field, so the two cannot drift. Needs only compiler-provided
 * headers (freestanding C11). Nothing else in the tree may spell these
 * numbers (scripts/check-snp-arch.sh).
 */
#ifndef SNP_ARCH_H
#define SNP_ARCH_H

#ifdef __ASSEMBLER__
#define SNP_ULL(x) x
#else
#define SNP_ULL(x) x##ULL
#endif

/* ---- pages ----------------------------------------------------------------- */
#define SNP_PAGE_SIZE_4K 0x1000
#define SNP_PAGE_SIZE_2M 0x200000

/* ---- MSRs (APM vol. 2, "SEV_STATUS MSR"; GHCB spec 56421, 2.3.1) ---------- */
#define MSR_SEV_STATUS 0xC0010131
#define MSR_GHCB 0xC0010130

/* ---- VMSA: save area of an SEV-ES/SNP guest (APM vol. 2, table B-4) -------- */
/* Segment register: selector, attributes, limit, base (16 bytes each). */
#define VMSA_SEG_SELECTOR 0x0
#define VMSA_SEG_ATTRIB 0x2
#define VMSA_SEG_LIMIT 0x4
#define VMSA_SEG_BASE 0x8
#define VMSA_ES 0x000
#define VMSA_CS 0x010
#define VMSA_SS 0x020
#define VMSA_DS 0x030
#define VMSA_FS 0x040
#define VMSA_GS 0x050
#define VMSA_GDTR 0x060
#define VMSA_LDTR 0x070
#define VMSA_IDTR 0x080
#define VMSA_TR 0x090
#define VMSA_PL0_SSP 0x0A0
#define VMSA_PL1_SSP 0x0A8
#define VMSA_PL2_SSP 0x0B0
#define VMSA_PL3_SSP 0x0B8
#define VMSA_U_CET 0x0C0
#define VMSA_VMPL 0x0CA
#define VMSA_CPL 0x0CB
#define VMSA_EFER 0x0D0
#define VMSA_XSS 0x140
#define VMSA_CR4 0x148
#define VMSA_CR3 0x150
#define VMSA_CR0 0x158
#define VMSA_DR7 0x160
#define VMSA_DR6 0x168
#define VMSA_RFLAGS 0x170
#define VMSA_RIP 0x178
#define VMSA_DR0 0x180
#define VMSA_DR1 0x188
#define VMSA_DR2 0x190
#define VMSA_DR3 0x198
#define VMSA_DR0_ADDR_MASK 0x1A0
#define VMSA_DR1_ADDR_MASK 0x1A8
#define VMSA_DR2_ADDR_MASK 0x1B0
#define VMSA_DR3_ADDR_MASK 0x1B8
#define VMSA_RSP 0x1D8
#define VMSA_S_CET 0x1E0
#define VMSA_SSP 0x1E8
#define VMSA_ISST_ADDR 0x1F0
#define VMSA_RAX 0x1F8
#define VMSA_STAR 0x200
#define VMSA_LSTAR 0x208
#define VMSA_CSTAR 0x210
#define VMSA_SFMASK 0x218
#define VMSA_KGSBASE 0x220
#define VMSA_SYSENTER_CS 0x228
#define VMSA_SYSENTER_ESP 0x230
#define VMSA_SYSENTER_EIP 0x238
#define VMSA_CR2 0x240
#define VMSA_PAT 0x268 /* G_PAT: the guest's PAT */
#define VMSA_DBGCTL 0x270
#define VMSA_BR_FROM 0x278
#define VMSA_BR_TO 0x280
#define VMSA_LASTEXCP_FROM 0x288
#define VMSA_LASTEXCP_TO 0x290
#define VMSA_PKRU 0x2E8
#define VMSA_TSC_AUX 0x2EC
#define VMSA_RCX 0x308
#define VMSA_RDX 0x310
#define VMSA_RBX 0x318
#define VMSA_RBP 0x328
#define VMSA_RSI 0x330
#define VMSA_RDI 0x338
#define VMSA_R8 0x340
#define VMSA_R9 0x348
#define VMSA_R10 0x350
#define VMSA_R11 0x358
#define VMSA_R12 0x360
#define VMSA_R13 0x368
#define VMSA_R14 0x370
#define VMSA_R15 0x378
#define VMSA_EXITINFO1 0x390 /* GUEST_EXITINFO1 */
#define VMSA_EXITINFO2 0x398
#define VMSA_EXITINTINFO 0x3A0
#define VMSA_NRIP 0x3A8
#define VMSA_SEV_FEATURES 0x3B0
#define VMSA_VINTR_CTRL 0x3B8
#define VMSA_EXIT_CODE 0x3C0 /* GUEST_EXIT_CODE */
#define VMSA_VIRTUAL_TOM 0x3C8
#define VMSA_TLB_ID 0x3D0
#define VMSA_PCPU_ID 0x3D8
#define VMSA_EVENTINJ 0x3E0
#define VMSA_XCR0 0x3E8
#define VMSA_X87_DP 0x400
#define VMSA_MXCSR 0x408
#define VMSA_X87_FTW 0x40C
#define VMSA_X87_FSW 0x40E
#define VMSA_X87_FCW 0x410
#define VMSA_X87_FOP 0x412
#define VMSA_X87_DS 0x414
#define VMSA_X87_CS 0x416
#define VMSA_X87_RIP 0x418
#define VMSA_X87_REGS 0x420 /* 8 x 10 bytes */
#define VMSA_XMM 0x470	    /* 16 x 16 bytes */
#define VMSA_YMM_HI 0x570   /* 16 x 16 bytes */
#define VMSA_SAVE_END 0x670 /* the end of the fields above; the page is 4 KiB */

/* EFER.SVME must be set in every VMSA (APM vol. 2, VMRUN consistency checks). */
#define VMSA_EFER_SVME SNP_ULL(0x1000)

/* SEV_FEATURES (VMSA 0x3B0; SEV_STATUS bit n + 2 mirrors bit n). APM vol. 2,
 * "SEV_STATUS MSR" and the SEV_FEATURES field of table B-4. */
#define SEV_FEATURES_SNP_ACTIVE SNP_ULL(0x1)
#define SEV_FEATURES_VTOM SNP_ULL(0x2)
#define SEV_FEATURES_REFLECT_VC SNP_ULL(0x4)
#define SEV_FEATURES_RESTRICTED_INJECTION SNP_ULL(0x8)
#define SEV_FEATURES_ALTERNATE_INJECTION SNP_ULL(0x10)
#define SEV_FEATURES_DEBUG_SWAP SNP_ULL(0x20)
#define SEV_FEATURES_VMSA_REG_PROT SNP_ULL(0x4000)
#define SEV_STATUS_FEATURES_SHIFT 2

/* ---- GHCB page (GHCB spec 56421, section 2.5, table 3) --------------------- */
/* The save area uses the VMSA's offsets for the registers it shares. */
#define GHCB_CPL 0x0CB
#define GHCB_XSS 0x140
#define GHCB_DR7 0x160
#define GHCB_RIP 0x178
#define GHCB_RSP 0x1D8
#define GHCB_RAX 0x1F8
#define GHCB_RCX 0x308
#define GHCB_RDX 0x310
#define GHCB_RBX 0x318
#define GHCB_RBP 0x328
#define GHCB_RSI 0x330
#define GHCB_RDI 0x338
#define GHCB_R8 0x340
#define GHCB_R9 0x348
#define GHCB_R10 0x350
#define GHCB_R11 0x358
#define GHCB_R12 0x360
#define GHCB_R13 0x368
#define GHCB_R14 0x370
#define GHCB_R15 0x378
#define GHCB_EXITCODE 0x390  /* SW_EXITCODE */
#define GHCB_EXITINFO1 0x398 /* SW_EXITINFO1 */
#define GHCB_EXITINFO2 0x3A0 /* SW_EXITINFO2 */
#define GHCB_SCRATCH 0x3A8   /* SW_SCRATCH */
#define GHCB_XCR0 0x3E8
#define GHCB_BITMAP 0x3F0 /* VALID_BITMAP, 16 bytes: bit n = qword at n * 8 */
#define GHCB_BITMAP_SIZE 16
#define GHCB_X87_STATE_GPA 0x400
#define GHCB_BUFFER 0x800 /* shared buffer */
#define GHCB_BUFFER_SIZE 0x7F0
#define GHCB_VERSION 0xFFA /* protocol version (u16) */
#define GHCB_USAGE 0xFFC   /* GHCB usage (u32) */
#define GHCB_PROTOCOL_VERSION 2
#define GHCB_USAGE_STANDARD 0

/* SW_EXITINFO1[31:0] on return (GHCB spec 56421, section 4.1, "Returning
 * from a VMGEXIT"): 1 = inject SW_EXITINFO2 (EVENTINJ format), 2 = bad input. */
#define GHCB_RESULT_OK 0
#define GHCB_RESULT_INJECT 1
#define GHCB_RESULT_BAD_INPUT 2
/* SW_EXITINFO2 reasons with GHCB_RESULT_BAD_INPUT. */
#define GHCB_ERR_NOT_REGISTERED 1
#define GHCB_ERR_INVALID_USAGE 2
#define GHCB_ERR_INVALID_SCRATCH_AREA 3
#define GHCB_ERR_MISSING_INPUT 4
#define GHCB_ERR_INVALID_INPUT 5
#define GHCB_ERR_INVALID_EVENT 6

/* ---- SVM exit codes (APM vol. 2, appendix C, table C-1) -------------------- */
#define SVM_EXIT_READ_DR7 0x27
#define SVM_EXIT_WRITE_DR7 0x37
#define SVM_EXIT_EXCP_BASE 0x40 /* + vector */
#define SVM_EXIT_INTR 0x60	/* a physical interrupt (the hypervisor's to route) */
#define SVM_EXIT_RDTSC 0x6E
#define SVM_EXIT_RDPMC 0x6F
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_SWINT 0x75
#define SVM_EXIT_INVD 0x76
#define SVM_EXIT_PAUSE 0x77
#define SVM_EXIT_HLT 0x78
#define SVM_EXIT_IOIO 0x7B
#define SVM_EXIT_MSR 0x7C
#define SVM_EXIT_VMMCALL 0x81
#define SVM_EXIT_RDTSCP 0x87
#define SVM_EXIT_WBINVD 0x89
#define SVM_EXIT_MONITOR 0x8A
#define SVM_EXIT_MWAIT 0x8B
#define SVM_EXIT_XSETBV 0x8D
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_VMGEXIT 0x403
#define SVM_EXIT_NOT_VALIDATED 0x404 /* #VC error code: page not validated */

/* IOIO EXITINFO1 (APM vol. 2, 15.10.2, figure 15-2): IN, string, REP, operand
 * size, address size, port in [31:16]. */
#define SVM_IOIO_TYPE_IN 0x1
#define SVM_IOIO_STR 0x4
#define SVM_IOIO_REP 0x8
#define SVM_IOIO_SZ8 0x10
#define SVM_IOIO_SZ16 0x20
#define SVM_IOIO_SZ32 0x40
#define SVM_IOIO_A16 0x80
#define SVM_IOIO_A32 0x100
#define SVM_IOIO_A64 0x200
#define SVM_IOIO_PORT_SHIFT 16

/* ---- VMGEXIT (NAE) events: SW_EXITCODE (GHCB spec 56421, section 4.1) ------ */
#define SVM_VMGEXIT_MMIO_READ 0x80000001
#define SVM_VMGEXIT_MMIO_WRITE 0x80000002
#define SVM_VMGEXIT_AP_HLT_LOOP 0x80000004
#define SVM_VMGEXIT_PSC 0x80000010
#define SVM_VMGEXIT_GUEST_REQUEST 0x80000011
#define SVM_VMGEXIT_EXT_GUEST_REQUEST 0x80000012
#define SVM_VMGEXIT_AP_CREATION 0x80000013
#define SVM_VMGEXIT_GET_APIC_IDS 0x80000017
#define SVM_VMGEXIT_RUN_VMPL 0x80000018
#define SVM_VMGEXIT_HV_FEATURES 0x8000FFFD
#define SVM_VMGEXIT_TERM_REQUEST 0x8000FFFE
#define SVM_VMGEXIT_UNSUPPORTED 0x8000FFFF
/* SNP AP Creation: SW_EXITINFO1 (GHCB spec 56421, section 4.1). */
#define SVM_VMGEXIT_AP_CREATE_ON_INIT 0
#define SVM_VMGEXIT_AP_CREATE 1
#define SVM_VMGEXIT_AP_DESTROY 2
#define SVM_VMGEXIT_AP_VMPL_SHIFT 16 /* SW_EXITINFO1[19:16]: the VMSA's VMPL */
#define SVM_VMGEXIT_AP_APIC_SHIFT 32 /* SW_EXITINFO1[63:32]: APIC ID */

/* ---- GHCB MSR protocol (GHCB spec 56421, section 2.3.1) -------------------- */
/* GHCBInfo is bits 11:0, GHCBData bits 63:12. */
#define GHCB_MSR_INFO_MASK 0xFFF
#define GHCB_MSR_DATA_SHIFT 12
#define GHCB_MSR_SEV_INFO_RESP 0x001
#define GHCB_MSR_SEV_INFO_REQ 0x002
#define GHCB_MSR_CPUID_REQ 0x004 /* [31:30] register, [63:32] function */
#define GHCB_MSR_CPUID_RESP 0x005
#define GHCB_MSR_CPUID_REG_SHIFT 30
#define GHCB_MSR_AP_RESET_HOLD_REQ 0x006
#define GHCB_MSR_AP_RESET_HOLD_RESP 0x007
#define GHCB_MSR_PREF_GPA_REQ 0x010
#define GHCB_MSR_PREF_GPA_RESP 0x011
#define GHCB_MSR_REGISTER_REQ 0x012 /* [63:12] GFN */
#define GHCB_MSR_REGISTER_RESP 0x013
#define GHCB_MSR_PSC_REQ 0x014	/* [51:12] GFN, [55:52] op */
#define GHCB_MSR_PSC_RESP 0x015 /* [63:32] error, 0 = done */
#define GHCB_MSR_PSC_OP_SHIFT 52
#define GHCB_MSR_PSC_PRIVATE 1
#define GHCB_MSR_PSC_SHARED 2
#define GHCB_MSR_RUN_VMPL_REQ 0x016 /* [39:32] target VMPL */
#define GHCB_MSR_RUN_VMPL_RESP 0x017
#define GHCB_MSR_HV_FEATURES_REQ 0x080
#define GHCB_MSR_HV_FEATURES_RESP 0x081
#define GHCB_MSR_TERM_REQ 0x100 /* [15:12] reason set, [23:16] reason code */
#define GHCB_MSR_TERM_SET_SHIFT 12
#define GHCB_MSR_TERM_CODE_SHIFT 16
#define GHCB_MSR_ERROR_SHIFT 32 /* responses: [63:32] error or value */

/* Hypervisor feature bitmap (GHCB spec 56421, 2.3.1, "Hypervisor Feature Support"). */
#define GHCB_HV_FEATURE_SNP SNP_ULL(0x1)
#define GHCB_HV_FEATURE_AP_CREATION SNP_ULL(0x2)
#define GHCB_HV_FEATURE_RESTRICTED_INJECTION SNP_ULL(0x4)
#define GHCB_HV_FEATURE_APIC_ID_LIST SNP_ULL(0x10)
#define GHCB_HV_FEATURE_MULTI_VMPL SNP_ULL(0x20)

/* ---- RMP (APM vol. 3, PVALIDATE, RMPADJUST, RMPUPDATE) --------------------- */
/* RMPADJUST RDX: [7:0] target VMPL, [15:8] its permission mask, bit 16 VMSA. */
#define RMP_PERM_R 0x01	  /* read */
#define RMP_PERM_W 0x02	  /* write */
#define RMP_PERM_XU 0x04  /* user-mode execute */
#define RMP_PERM_XS 0x08  /* supervisor-mode execute */
#define RMP_PERM_SSS 0x10 /* supervisor shadow stack */
#define RMP_PERM_ALL 0x0F /* R, W, XU, XS */
#define RMPADJUST_PERM_SHIFT 8
#define RMPADJUST_VMSA 0x10000
/* RCX of PVALIDATE and RMPADJUST: the page size. */
#define RMP_PAGE_4K 0
#define RMP_PAGE_2M 1
/* Return codes in EAX. PVALIDATE also sets CF when nothing changed. */
#define RMP_SUCCESS 0
#define RMP_FAIL_INPUT 1
#define RMP_FAIL_PERMISSION 2
#define RMP_FAIL_INUSE 3
#define RMP_FAIL_OVERLAP 4
#define RMP_FAIL_SIZEMISMATCH 6

#ifndef __ASSEMBLER__

#include <stddef.h>
#include <stdint.h>

/* One segment register in the save area. */
struct snp_seg {
	uint16_t selector;
	uint16_t attrib;
	uint32_t limit;
	uint64_t base;
} __attribute__((packed));

/* The VMSA page's save area (APM vol. 2, table B-4). */
struct snp_vmsa {
	struct snp_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr;
	uint64_t pl0_ssp, pl1_ssp, pl2_ssp, pl3_ssp, u_cet;
	uint8_t reserved_0c8[2];
	uint8_t vmpl;
	uint8_t cpl;
	uint8_t reserved_0cc[4];
	uint64_t efer;
	uint8_t reserved_0d8[0x68];
	uint64_t xss, cr4, cr3, cr0, dr7, dr6, rflags, rip;
	uint64_t dr0, dr1, dr2, dr3;
	uint64_t dr0_addr_mask, dr1_addr_mask, dr2_addr_mask, dr3_addr_mask;
	uint8_t reserved_1c0[0x18];
	uint64_t rsp, s_cet, ssp, isst_addr, rax;
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip, cr2;
	uint8_t reserved_248[0x20];
	uint64_t g_pat, dbgctl, br_from, br_to, lastexcp_from, lastexcp_to;
	uint8_t reserved_298[0x50];
	uint32_t pkru, tsc_aux;
	uint8_t reserved_2f0[0x18];
	uint64_t rcx, rdx, rbx, reserved_320, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint8_t reserved_380[0x10];
	uint64_t guest_exitinfo1, guest_exitinfo2, guest_exitintinfo, guest_nrip;
	uint64_t sev_features, vintr_ctrl, guest_exit_code, virtual_tom;
	uint64_t tlb_id, pcpu_id, eventinj, xcr0;
	uint8_t reserved_3f0[0x10];
	uint64_t x87_dp;
	uint32_t mxcsr;
	uint16_t x87_ftw, x87_fsw, x87_fcw, x87_fop, x87_ds, x87_cs;
	uint64_t x87_rip;
	uint8_t x87_regs[80];
	uint8_t xmm[256];
	uint8_t ymm_hi[256];
	uint8_t reserved_670[0x1000 - 0x670];
} __attribute__((packed));

/* The GHCB page (GHCB spec 56421, table 3). */
struct snp_ghcb {
	uint8_t reserved_000[0xCB];
	uint8_t cpl;
	uint8_t reserved_0cc[0x74];
	uint64_t xss;
	uint8_t reserved_148[0x18];
	uint64_t dr7;
	uint8_t reserved_168[0x10];
	uint64_t rip;
	uint8_t reserved_180[0x58];
	uint64_t rsp;
	uint8_t reserved_1e0[0x18];
	uint64_t rax;
	uint8_t reserved_200[0x108];
	uint64_t rcx, rdx, rbx, reserved_320, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint8_t reserved_380[0x10];
	uint64_t sw_exitcode, sw_exitinfo1, sw_exitinfo2, sw_scratch;
	uint8_t reserved_3b0[0x38];
	uint64_t xcr0;
	uint8_t valid_bitmap[GHCB_BITMAP_SIZE];
	uint64_t x87_state_gpa;
	uint8_t reserved_408[0x3F8];
	uint8_t shared_buffer[GHCB_BUFFER_SIZE];
	uint8_t reserved_ff0[10];
	uint16_t protocol_version;
	uint32_t ghcb_usage;
} __attribute__((packed));

#define SNP_AT(t, f, off) _Static_assert(offsetof(struct t, f) == (off), #t "." #f " at " #off)
SNP_AT(snp_seg, attrib, VMSA_SEG_ATTRIB);
SNP_AT(snp_seg, limit, VMSA_SEG_LIMIT);
SNP_AT(snp_seg, base, VMSA_SEG_BASE);
SNP_AT(snp_vmsa, es, VMSA_ES);
SNP_AT(snp_vmsa, cs, VMSA_CS);
SNP_AT(snp_vmsa, ss, VMSA_SS);
SNP_AT(snp_vmsa, ds, VMSA_DS);
SNP_AT(snp_vmsa, fs, VMSA_FS);
SNP_AT(snp_vmsa, gs, VMSA_GS);
SNP_AT(snp_vmsa, gdtr, VMSA_GDTR);
SNP_AT(snp_vmsa, ldtr, VMSA_LDTR);
SNP_AT(snp_vmsa, idtr, VMSA_IDTR);
SNP_AT(snp_vmsa, tr, VMSA_TR);
SNP_AT(snp_vmsa, pl0_ssp, VMSA_PL0_SSP);
SNP_AT(snp_vmsa, pl1_ssp, VMSA_PL1_SSP);
SNP_AT(snp_vmsa, pl2_ssp, VMSA_PL2_SSP);
SNP_AT(snp_vmsa, pl3_ssp, VMSA_PL3_SSP);
SNP_AT(snp_vmsa, u_cet, VMSA_U_CET);
SNP_AT(snp_vmsa, vmpl, VMSA_VMPL);
SNP_AT(snp_vmsa, cpl, VMSA_CPL);
SNP_AT(snp_vmsa, efer, VMSA_EFER);
SNP_AT(snp_vmsa, xss, VMSA_XSS);
SNP_AT(snp_vmsa, cr4, VMSA_CR4);
SNP_AT(snp_vmsa, cr3, VMSA_CR3);
SNP_AT(snp_vmsa, cr0, VMSA_CR0);
SNP_AT(snp_vmsa, dr7, VMSA_DR7);
SNP_AT(snp_vmsa, dr6, VMSA_DR6);
SNP_AT(snp_vmsa, rflags, VMSA_RFLAGS);
SNP_AT(snp_vmsa, rip, VMSA_RIP);
SNP_AT(snp_vmsa, dr0, VMSA_DR0);
SNP_AT(snp_vmsa, dr1, VMSA_DR1);
SNP_AT(snp_vmsa, dr2, VMSA_DR2);
SNP_AT(snp_vmsa, dr3, VMSA_DR3);
SNP_AT(snp_vmsa, dr0_addr_mask, VMSA_DR0_ADDR_MASK);
SNP_AT(snp_vmsa, dr1_addr_mask, VMSA_DR1_ADDR_MASK);
SNP_AT(snp_vmsa, dr2_addr_mask, VMSA_DR2_ADDR_MASK);
SNP_AT(snp_vmsa, dr3_addr_mask, VMSA_DR3_ADDR_MASK);
SNP_AT(snp_vmsa, rsp, VMSA_RSP);
SNP_AT(snp_vmsa, s_cet, VMSA_S_CET);
SNP_AT(snp_vmsa, ssp, VMSA_SSP);
SNP_AT(snp_vmsa, isst_addr, VMSA_ISST_ADDR);
SNP_AT(snp_vmsa, rax, VMSA_RAX);
SNP_AT(snp_vmsa, star, VMSA_STAR);
SNP_AT(snp_vmsa, lstar, VMSA_LSTAR);
SNP_AT(snp_vmsa, cstar, VMSA_CSTAR);
SNP_AT(snp_vmsa, sfmask, VMSA_SFMASK);
SNP_AT(snp_vmsa, kernel_gs_base, VMSA_KGSBASE);
SNP_AT(snp_vmsa, sysenter_cs, VMSA_SYSENTER_CS);
SNP_AT(snp_vmsa, sysenter_esp, VMSA_SYSENTER_ESP);
SNP_AT(snp_vmsa, sysenter_eip, VMSA_SYSENTER_EIP);
SNP_AT(snp_vmsa, cr2, VMSA_CR2);
SNP_AT(snp_vmsa, g_pat, VMSA_PAT);
SNP_AT(snp_vmsa, dbgctl, VMSA_DBGCTL);
SNP_AT(snp_vmsa, br_from, VMSA_BR_FROM);
SNP_AT(snp_vmsa, br_to, VMSA_BR_TO);
SNP_AT(snp_vmsa, lastexcp_from, VMSA_LASTEXCP_FROM);
SNP_AT(snp_vmsa, lastexcp_to, VMSA_LASTEXCP_TO);
SNP_AT(snp_vmsa, pkru, VMSA_PKRU);
SNP_AT(snp_vmsa, tsc_aux, VMSA_TSC_AUX);
SNP_AT(snp_vmsa, rcx, VMSA_RCX);
SNP_AT(snp_vmsa, rdx, VMSA_RDX);
SNP_AT(snp_vmsa, rbx, VMSA_RBX);
SNP_AT(snp_vmsa, rbp, VMSA_RBP);
SNP_AT(snp_vmsa, rsi, VMSA_RSI);
SNP_AT(snp_vmsa, rdi, VMSA_RDI);
SNP_AT(snp_vmsa, r8, VMSA_R8);
SNP_AT(snp_vmsa, r9, VMSA_R9);
SNP_AT(snp_vmsa, r10, VMSA_R10);
SNP_AT(snp_vmsa, r11, VMSA_R11);
SNP_AT(snp_vmsa, r12, VMSA_R12);
SNP_AT(snp_vmsa, r13, VMSA_R13);
SNP_AT(snp_vmsa, r14, VMSA_R14);
SNP_AT(snp_vmsa, r15, VMSA_R15);
SNP_AT(snp_vmsa, guest_exitinfo1, VMSA_EXITINFO1);
SNP_AT(snp_vmsa, guest_exitinfo2, VMSA_EXITINFO2);
SNP_AT(snp_vmsa, guest_exitintinfo, VMSA_EXITINTINFO);
SNP_AT(snp_vmsa, guest_nrip, VMSA_NRIP);
SNP_AT(snp_vmsa, sev_features, VMSA_SEV_FEATURES);
SNP_AT(snp_vmsa, vintr_ctrl, VMSA_VINTR_CTRL);
SNP_AT(snp_vmsa, guest_exit_code, VMSA_EXIT_CODE);
SNP_AT(snp_vmsa, virtual_tom, VMSA_VIRTUAL_TOM);
SNP_AT(snp_vmsa, tlb_id, VMSA_TLB_ID);
SNP_AT(snp_vmsa, pcpu_id, VMSA_PCPU_ID);
SNP_AT(snp_vmsa, eventinj, VMSA_EVENTINJ);
SNP_AT(snp_vmsa, xcr0, VMSA_XCR0);
SNP_AT(snp_vmsa, x87_dp, VMSA_X87_DP);
SNP_AT(snp_vmsa, mxcsr, VMSA_MXCSR);
SNP_AT(snp_vmsa, x87_ftw, VMSA_X87_FTW);
SNP_AT(snp_vmsa, x87_fsw, VMSA_X87_FSW);
SNP_AT(snp_vmsa, x87_fcw, VMSA_X87_FCW);
SNP_AT(snp_vmsa, x87_fop, VMSA_X87_FOP);
SNP_AT(snp_vmsa, x87_ds, VMSA_X87_DS);
SNP_AT(snp_vmsa, x87_cs, VMSA_X87_CS);
SNP_AT(snp_vmsa, x87_rip, VMSA_X87_RIP);
SNP_AT(snp_vmsa, x87_regs, VMSA_X87_REGS);
SNP_AT(snp_vmsa, xmm, VMSA_XMM);
SNP_AT(snp_vmsa, ymm_hi, VMSA_YMM_HI);
SNP_AT(snp_vmsa, reserved_670, VMSA_SAVE_END);
_Static_assert(sizeof(struct snp_vmsa) == SNP_PAGE_SIZE_4K, "the VMSA is one page");

SNP_AT(snp_ghcb, cpl, GHCB_CPL);
SNP_AT(snp_ghcb, xss, GHCB_XSS);
SNP_AT(snp_ghcb, dr7, GHCB_DR7);
SNP_AT(snp_ghcb, rip, GHCB_RIP);
SNP_AT(snp_ghcb, rsp, GHCB_RSP);
SNP_AT(snp_ghcb, rax, GHCB_RAX);
SNP_AT(snp_ghcb, rcx, GHCB_RCX);
SNP_AT(snp_ghcb, rdx, GHCB_RDX);
SNP_AT(snp_ghcb, rbx, GHCB_RBX);
SNP_AT(snp_ghcb, rbp, GHCB_RBP);
SNP_AT(snp_ghcb, rsi, GHCB_RSI);
SNP_AT(snp_ghcb, rdi, GHCB_RDI);
SNP_AT(snp_ghcb, r8, GHCB_R8);
SNP_AT(snp_ghcb, r9, GHCB_R9);
SNP_AT(snp_ghcb, r10, GHCB_R10);
SNP_AT(snp_ghcb, r11, GHCB_R11);
SNP_AT(snp_ghcb, r12, GHCB_R12);
SNP_AT(snp_ghcb, r13, GHCB_R13);
SNP_AT(snp_ghcb, r14, GHCB_R14);
SNP_AT(snp_ghcb, r15, GHCB_R15);
SNP_AT(snp_ghcb, sw_exitcode, GHCB_EXITCODE);
SNP_AT(snp_ghcb, sw_exitinfo1, GHCB_EXITINFO1);
SNP_AT(snp_ghcb, sw_exitinfo2, GHCB_EXITINFO2);
SNP_AT(snp_ghcb, sw_scratch, GHCB_SCRATCH);
SNP_AT(snp_ghcb, xcr0, GHCB_XCR0);
SNP_AT(snp_ghcb, valid_bitmap, GHCB_BITMAP);
SNP_AT(snp_ghcb, x87_state_gpa, GHCB_X87_STATE_GPA);
SNP_AT(snp_ghcb, shared_buffer, GHCB_BUFFER);
SNP_AT(snp_ghcb, protocol_version, GHCB_VERSION);
SNP_AT(snp_ghcb, ghcb_usage, GHCB_USAGE);
_Static_assert(sizeof(struct snp_ghcb) == SNP_PAGE_SIZE_4K, "the GHCB is one page");
#undef SNP_AT

/* The valid-bitmap byte and bit of the save-area qword at `off` (56421, 2.5). */
#define GHCB_BITMAP_BYTE(off) (GHCB_BITMAP + (off) / 64)
#define GHCB_BITMAP_BIT(off) (1u << (((off) / 8) % 8))

/* GHCB MSR protocol requests. */
#define GHCB_MSR_INFO(v) ((v)&GHCB_MSR_INFO_MASK)
#define GHCB_MSR_DATA(v) ((v) >> GHCB_MSR_DATA_SHIFT)
#define GHCB_MSR_ERROR(v) ((v) >> GHCB_MSR_ERROR_SHIFT)
#define GHCB_MSR_CPUID(fn, reg)                                                                 \
	(((uint64_t)(uint32_t)(fn) << 32) | (((uint64_t)(reg)&3) << GHCB_MSR_CPUID_REG_SHIFT) | \
	 GHCB_MSR_CPUID_REQ)
#define GHCB_MSR_REGISTER(gfn) (((uint64_t)(gfn) << GHCB_MSR_DATA_SHIFT) | GHCB_MSR_REGISTER_REQ)
#define GHCB_MSR_PSC(gfn, op)                                                                   \
	(((uint64_t)(op) << GHCB_MSR_PSC_OP_SHIFT) | ((uint64_t)(gfn) << GHCB_MSR_DATA_SHIFT) | \
	 GHCB_MSR_PSC_REQ)
#define GHCB_MSR_RUN_VMPL(vmpl) (((uint64_t)((vmpl)&0xFF) << 32) | GHCB_MSR_RUN_VMPL_REQ)
#define GHCB_MSR_TERM(set, code)                                 \
	(((uint64_t)((code)&0xFF) << GHCB_MSR_TERM_CODE_SHIFT) | \
	 ((uint64_t)((set)&0xF) << GHCB_MSR_TERM_SET_SHIFT) | GHCB_MSR_TERM_REQ)

/* RMPADJUST RDX for target VMPL `vmpl`, permission mask `perms`, VMSA bit. */
#define RMPADJUST_ATTRS(vmpl, perms, vmsa)                                \
	((uint64_t)(vmpl) | ((uint64_t)(perms) << RMPADJUST_PERM_SHIFT) | \
	 ((vmsa) ? RMPADJUST_VMSA : 0))

/* AP creation SW_EXITINFO1: the request, the VMSA's VMPL, the APIC ID. */
#define SVM_VMGEXIT_AP_INFO1(req, vmpl, apic)                                \
	((uint64_t)(req) | ((uint64_t)(vmpl) << SVM_VMGEXIT_AP_VMPL_SHIFT) | \
	 ((uint64_t)(apic) << SVM_VMGEXIT_AP_APIC_SHIFT))

/* IOIO EXITINFO1 of a one-port access of `bytes` (1, 2, 4) bytes. */
#define SVM_IOIO_INFO(port, bytes, str)                                         \
	(((uint64_t)(port) << SVM_IOIO_PORT_SHIFT) | ((uint64_t)(bytes) << 4) | \
	 ((str) ? SVM_IOIO_STR : 0))

#endif /* !__ASSEMBLER__ */
#endif
