/* SPDX-License-Identifier: MIT */
/*
 * ghcb.h - what the VMPL0 image writes into a GHCB page itself (the console
 * and AP creation; the monitor's other requests are core code). Layout from
 * the GHCB specification (AMD 56421), section 2.5 and table 3: the save area
 * at the VMSA's offsets, the valid bitmap at 0x3F0, the shared buffer at
 * 0x800, the version at 0xFFA. The single SNP header that replaces this and
 * core's VMSA_OFF_* is issue 11 item 2.
 */
#ifndef VEIL_SNP_GHCB_H
#define VEIL_SNP_GHCB_H

#include <veil/lib.h>

#define GHCB_RAX 0x1F8
#define GHCB_RBX 0x318
#define GHCB_RCX 0x308
#define GHCB_RDX 0x310
#define GHCB_EXITCODE 0x390
#define GHCB_EXITINFO1 0x398
#define GHCB_EXITINFO2 0x3A0
#define GHCB_SCRATCH 0x3A8
#define GHCB_BITMAP 0x3F0
#define GHCB_BUFFER 0x800
#define GHCB_BUFFER_SIZE 0x7F0
#define GHCB_VERSION 0xFFA
#define GHCB_PROTOCOL_VERSION 2

/* SVM exit codes (APM vol. 2, appendix C) and GHCB NAE events (56421 table 7). */
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_IOIO 0x7B
#define SNP_EXIT_AP_CREATION 0x80000013ULL
#define SNP_AP_CREATE_ON_INIT 0 /* register the VMSA; the vCPU starts on INIT */

/* IOIO EXITINFO1 (APM vol. 2, 15.10.2): port, 8-bit operand, string. */
#define GHCB_IOIO_INFO(port, bytes, str) \
	(((u64)(port) << 16) | ((u64)(bytes) << 4) | ((str) ? 4ULL : 0ULL))

/* PVALIDATE / RMPADJUST return codes (APM vol. 3). */
#define SNP_FAIL_INPUT 1

/* GHCB MSR protocol (56421, section 2.3.1). */
#define GHCB_MSR_CPUID_REQ(fn, reg) (0x004ULL | ((u64)(reg) << 30) | ((u64)(fn) << 32))
#define GHCB_MSR_CPUID_RESP 0x005
#define GHCB_MSR_REG_REQ(gpa) (0x012ULL | (gpa))
#define GHCB_MSR_REG_RESP 0x013
#define GHCB_MSR_PSC_RESP 0x015 /* and 0 in bits 63:32: success */

/* VMSA fields the image sets beyond core's VMSA_OFF_* (APM vol. 2, table B-4). */
#define VMSA_OFF_FS 0x040
#define VMSA_OFF_IDTR 0x080
#define VMSA_OFF_XCR0 0x3E8

/* Clear the save area and the valid bitmap; set the protocol version. */
static inline void ghcb_clear(u8 *g)
{
	u16 ver = GHCB_PROTOCOL_VERSION;

	veil_memset(g, 0, GHCB_BITMAP + 16);
	veil_memcpy(g + GHCB_VERSION, &ver, 2);
	veil_memset(g + GHCB_VERSION + 2, 0, 4); /* usage 0: the standard layout */
}

/* Store a save-area field and mark it valid. */
static inline void ghcb_set(u8 *g, unsigned off, u64 val)
{
	veil_st64(g + off, val);
	g[GHCB_BITMAP + off / 64] |= (u8)(1 << ((off / 8) % 8));
}

static inline void ghcb_event_set(u8 *g, u64 code, u64 info1, u64 info2)
{
	ghcb_set(g, GHCB_EXITCODE, code);
	ghcb_set(g, GHCB_EXITINFO1, info1);
	ghcb_set(g, GHCB_EXITINFO2, info2);
}

#endif
