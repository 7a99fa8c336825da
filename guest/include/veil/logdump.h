/* SPDX-License-Identifier: MIT */
/*
 * veil/logdump.h - the file a guest writes when it dumps the secure log, and
 * that `veil-log verify` reads (docs/log-format.md). Little-endian.
 */
#ifndef VEIL_LOGDUMP_H
#define VEIL_LOGDUMP_H

#include <stdint.h>

#define VEIL_LOG_DUMP_MAGIC "VEILLOG1"
#define VEIL_LOG_DUMP_VERSION 2 /* 2: records carry their origin (64-byte header) */

struct veil_log_dump_hdr {
	char magic[8];	   /* VEIL_LOG_DUMP_MAGIC, no NUL */
	uint32_t version;  /* VEIL_LOG_DUMP_VERSION */
	uint32_t sections; /* trailing TLV sections after the records */
	uint64_t count;	   /* as struct veil_log_head */
	uint64_t drops;
	uint64_t capacity;
	uint64_t used;
	uint8_t head[32];
	/* then `count` records: struct veil_log_record + payload padded to 8,
	 * exactly as VEIL_LOG_READ returns them; then `sections` sections. */
};

/* A trailing section: type, length, data padded to 8. */
struct veil_log_dump_section {
	uint32_t type; /* VEIL_LOG_SECTION_* */
	uint32_t len;
};
#define VEIL_LOG_SECTION_REPORT 1 /* an attestation report binding the head */

/* The data of a VEIL_LOG_SECTION_REPORT section: the monitor's answer to
 * ATTEST_SINGLE_SERVICE for the log (SVSM attestation protocol, veil/abi.h),
 * taken before the records were read: a VMPL0 report whose REPORT_DATA is
 * SHA-512(nonce || manifest), the manifest being this dump's count, drops,
 * capacity, used and head as struct veil_log_head. */
struct veil_log_report_section {
	uint32_t nonce_len; /* 1..64 bytes of nonce[] */
	uint32_t reserved;
	uint8_t nonce[64];
	uint8_t report[0x4A0]; /* SNP ATTESTATION_REPORT */
};

#endif
