/* SPDX-License-Identifier: MIT */
/*
 * logdom.h - the contract between the monitor's log stub (log.c, domain.c
 * here) and the log domain's code (domain/logd.c): the domain's address
 * space, the header of its image, the mailbox and its operations. Plain
 * numbers and one struct, shared by both sides.
 *
 * The log domain is a VMPL1 CPL3 domain built like an enclave (core/domain.c,
 * the enclave service's trusted stub, system page and trap stack at the same
 * addresses), with one page table the monitor builds and keeps read-only:
 *   LOGD_VA_BASE            its image (text R+X, rodata R, data+bss R+W)
 *   LOGD_STACK_TOP - 16 KiB stack (R+W), thread block at LOGD_TLS
 *   LOGD_MAIL_VA            the mailbox: the only page the monitor writes
 *   0x401FC000..0x401FEFFF  the enclave stub, system page, trap stack (CPL0)
 *   LOGD_STORE_VA           the store (R+W), up to 4 MiB
 * Nothing else: no monitor page, no OS page, no other service's page.
 */
#ifndef VEIL_SERVICES_LOGDOM_H
#define VEIL_SERVICES_LOGDOM_H

#include <veil/abi.h>
#include <veil/types.h>

#define LOGD_VMPL 1
#define LOGD_VA_BASE 0x40000000ULL /* as VEIL_ENC_VA_BASE: the stub's window */
#define LOGD_IMAGE_MAX (256ULL << 10)
#define LOGD_STACK_PAGES 4
#define LOGD_STACK_TOP (LOGD_VA_BASE + 0x1F8000ULL)
#define LOGD_TLS (LOGD_STACK_TOP - 64) /* RSP and FS base at entry (stack canary) */
#define LOGD_MAIL_VA (LOGD_VA_BASE + 0x1F9000ULL)
#define LOGD_TRAPDOOR_VA (LOGD_VA_BASE + 0x1FA000ULL) /* --log-domain fault-test only */
#define LOGD_STORE_VA (LOGD_VA_BASE + 0x200000ULL)
#define LOGD_STORE_MAX (4ULL << 20)

#define LOGD_MAGIC 0x3144474F4C4C4556ULL /* "VELLOGD1" */

/* At LOGD_VA_BASE, first in the image (domain/logd.ld). */
struct logd_header {
	u64 magic;
	u64 entry;
	u64 text_end, rodata_end, data_end, bss_end; /* page-aligned virtual addresses */
};

/* Operations: RDI at entry; the result leaves in RSI of the exit SYSCALL. */
/* The first operation also takes `capacity` bytes of store at LOGD_STORE_VA
 * (the monitor writes it once, at build): the domain does not run at boot. */
enum logd_op {
	LOGD_OP_APPEND, /* len bytes of data, stamp -> seq */
	LOGD_OP_HEAD,	/* -> head */
	LOGD_OP_READ,	/* from seq, at most len bytes into data -> n, bytes, next */
	/* TEST-ONLY (the monitor forwards them with --log-domain fault-test): a
	 * bug in the log's code, writing 8 bytes at virtual address `seq`. */
	LOGD_OP_TEST_WRITE,
};

#define LOGD_DATA_MAX (4096 - 192)

/* The mailbox page. The monitor fills the request, the domain the answer;
 * the monitor reads back only fixed-size fields and clamps every length. */
struct logd_mail {
	u64 seq, len, capacity;
	u64 tsc;
	u32 vcpu, origin;
	u64 n, bytes, next; /* READ's answer; APPEND's seq in `seq` */
	struct veil_log_head head;
	u8 reserved[192 - 64 - sizeof(struct veil_log_head)];
	u8 data[LOGD_DATA_MAX];
};

_Static_assert(sizeof(struct logd_mail) == 4096, "the mailbox is one page");

#endif
