/* SPDX-License-Identifier: MIT */
/*
 * igvm.h - the IGVM file format (Independent Guest Virtual Machine, version 1)
 * as far as an SEV-SNP launch uses it: layouts, a checking reader, and the
 * launch walk (which pages SNP_LAUNCH_UPDATE adds, in which order, with which
 * page type).
 *
 * Format: the public definitions of microsoft/igvm (crate igvm_defs,
 * IGVM_FIXED_HEADER and the IGVM_VHS_* structures); all fields little-endian.
 * How a loader turns directives into SNP launch pages follows QEMU's loader
 * (backends/igvm.c, QEMU 10.1) and its SEV backend (target/i386/sev.c):
 * PAGE_DATA is a NORMAL page, with or without file data (a page of zeros is
 * measured as NORMAL: QEMU's CGS_PAGE_TYPE_ZERO becomes
 * KVM_SEV_SNP_PAGE_TYPE_NORMAL), with the unmeasured flag an UNMEASURED page, SECRETS and CPUID_DATA /
 * CPUID_XF their own types; PARAMETER_INSERT adds UNMEASURED pages; the one
 * VP_CONTEXT is the VMSA, measured last (the host measures VMSAs at
 * SNP_LAUNCH_FINISH, after every SNP_LAUNCH_UPDATE of data).
 *
 * Host C: used by veil-igvm, veil-launch, veil-emu and the fuzz target.
 */
#ifndef VEIL_EMU_IGVM_H
#define VEIL_EMU_IGVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IGVM_MAGIC 0x4D564749u /* "IGVM" */
#define IGVM_FORMAT_VERSION 1
#define IGVM_PAGE_SIZE 4096u

/* Variable header types (IgvmVariableHeaderType). Bit 31 set: a loader that
 * does not know the type may ignore it. */
#define IGVM_VHT_SUPPORTED_PLATFORM 0x001
#define IGVM_VHT_GUEST_POLICY 0x101
#define IGVM_VHT_RELOCATABLE_REGION 0x102
#define IGVM_VHT_PAGE_TABLE_RELOCATION 0x103
#define IGVM_VHT_PARAMETER_AREA 0x301
#define IGVM_VHT_PAGE_DATA 0x302
#define IGVM_VHT_PARAMETER_INSERT 0x303
#define IGVM_VHT_VP_CONTEXT 0x304
#define IGVM_VHT_REQUIRED_MEMORY 0x305
#define IGVM_VHT_VP_COUNT_PARAMETER 0x307
#define IGVM_VHT_SRAT 0x308
#define IGVM_VHT_MADT 0x309
#define IGVM_VHT_MMIO_RANGES 0x30A
#define IGVM_VHT_SNP_ID_BLOCK 0x30B
#define IGVM_VHT_MEMORY_MAP 0x30C
#define IGVM_VHT_ERROR_RANGE 0x30D
#define IGVM_VHT_COMMAND_LINE 0x30E
#define IGVM_VHT_IGNORABLE 0x80000000u

#define IGVM_PLATFORM_SEV_SNP 2
#define IGVM_SEV_SNP_PLATFORM_VERSION 1

/* IGVM_VHS_PAGE_DATA flags and data types. */
#define IGVM_PAGE_FLAG_2MB 0x1u
#define IGVM_PAGE_FLAG_UNMEASURED 0x2u
#define IGVM_PAGE_FLAG_SHARED 0x4u
#define IGVM_PAGE_NORMAL 0
#define IGVM_PAGE_SECRETS 1
#define IGVM_PAGE_CPUID_DATA 2
#define IGVM_PAGE_CPUID_XF 3

struct igvm_fixed_header {
	uint32_t magic;
	uint32_t format_version;
	uint32_t variable_header_offset;
	uint32_t variable_header_size;
	uint32_t total_file_size;
	uint32_t checksum; /* CRC-32 (IEEE) of fixed + variable headers, this field 0 */
};

struct igvm_vhs_header {
	uint32_t type;
	uint32_t length; /* of the content, not counting this header or padding */
};

struct igvm_supported_platform {
	uint32_t compatibility_mask;
	uint8_t highest_vtl;
	uint8_t platform_type;
	uint16_t platform_version;
	uint64_t shared_gpa_boundary;
};

struct igvm_guest_policy {
	uint64_t policy; /* SNP guest policy (SNP firmware ABI 56860, "Guest Policy") */
	uint32_t compatibility_mask;
	uint32_t reserved;
};

struct igvm_parameter_area {
	uint64_t number_of_bytes;
	uint32_t parameter_area_index;
	uint32_t file_offset;
};

struct igvm_page_data {
	uint64_t gpa;
	uint32_t compatibility_mask;
	uint32_t file_offset; /* 0: a page of zeros */
	uint32_t flags;
	uint16_t data_type;
	uint16_t reserved;
};

struct igvm_parameter_insert {
	uint64_t gpa;
	uint32_t compatibility_mask;
	uint32_t parameter_area_index;
};

struct igvm_parameter {
	uint32_t parameter_area_index;
	uint32_t byte_offset;
};

struct igvm_vp_context {
	uint64_t gpa;
	uint32_t compatibility_mask;
	uint32_t file_offset;
	uint16_t vp_index;
	uint16_t reserved;
} __attribute__((packed));

struct igvm_required_memory {
	uint64_t gpa;
	uint32_t compatibility_mask;
	uint32_t number_of_bytes;
	uint32_t flags;
	uint32_t reserved;
};

struct igvm_snp_sig {
	uint8_t r[72], s[72]; /* little-endian, zero-extended */
};

struct igvm_snp_pubkey {
	uint32_t curve; /* 2: P-384 */
	uint32_t reserved;
	uint8_t qx[72], qy[72];
};

struct igvm_snp_id_block {
	uint32_t compatibility_mask;
	uint8_t author_key_enabled;
	uint8_t reserved[3];
	uint8_t ld[48];
	uint8_t family_id[16];
	uint8_t image_id[16];
	uint32_t version;
	uint32_t guest_svn;
	uint32_t id_key_algorithm; /* 1: ECDSA P-384 with SHA-384 */
	uint32_t author_key_algorithm;
	struct igvm_snp_sig id_key_signature;
	struct igvm_snp_pubkey id_public_key;
	struct igvm_snp_sig author_key_signature;
	struct igvm_snp_pubkey author_public_key;
};

_Static_assert(sizeof(struct igvm_fixed_header) == 24, "IGVM_FIXED_HEADER");
_Static_assert(sizeof(struct igvm_supported_platform) == 16, "IGVM_VHS_SUPPORTED_PLATFORM");
_Static_assert(sizeof(struct igvm_guest_policy) == 16, "IGVM_VHS_GUEST_POLICY");
_Static_assert(sizeof(struct igvm_parameter_area) == 16, "IGVM_VHS_PARAMETER_AREA");
_Static_assert(sizeof(struct igvm_page_data) == 24, "IGVM_VHS_PAGE_DATA");
_Static_assert(sizeof(struct igvm_parameter_insert) == 16, "IGVM_VHS_PARAMETER_INSERT");
_Static_assert(sizeof(struct igvm_vp_context) == 20, "IGVM_VHS_VP_CONTEXT");
_Static_assert(sizeof(struct igvm_required_memory) == 24, "IGVM_VHS_REQUIRED_MEMORY");
_Static_assert(sizeof(struct igvm_snp_id_block) == 0x2B8, "IGVM_VHS_SNP_ID_BLOCK");

/* A checked file: igvm_open accepted every header. */
struct igvm_file {
	const uint8_t *buf;
	size_t len;
	uint32_t hdr_off, hdr_end;
};

/* One variable header, as the reader hands it out. */
struct igvm_hdr {
	unsigned index;	     /* 0-based position among the variable headers */
	uint32_t type;	     /* with the ignorable bit */
	uint32_t length;     /* content bytes */
	uint32_t file_off;   /* of the content */
	const uint8_t *data; /* content, length bytes */
};

/* Check the fixed header, the checksum and every variable header (sizes,
 * section order, alignment, file offsets, known fields, parameter areas).
 * Returns 0, or -1 with a one-line message naming the offending header. */
int igvm_open(struct igvm_file *f, const uint8_t *buf, size_t len, char *err, size_t errlen);

/* Iterate over the headers of a checked file: *pos starts at 0; returns false
 * at the end. */
bool igvm_next(const struct igvm_file *f, uint32_t *pos, struct igvm_hdr *h);

/* The name of a header type ("PAGE_DATA"), or "unknown". */
const char *igvm_type_name(uint32_t type);

/* CRC-32 the fixed header carries, computed over buf (zlib's crc32). */
uint32_t igvm_checksum(const uint8_t *buf, size_t hdr_end);

/* One page the launch adds, in launch order. */
struct igvm_launch_page {
	uint64_t gpa;
	unsigned snp_type;   /* SNP_PAGE_* (measure.h) */
	const uint8_t *data; /* 4 KiB: the file's data or zeros; NULL for PARAMETER_INSERT */
	int param_index;     /* PARAMETER_INSERT: the area index; else -1 */
	uint64_t param_off;  /* PARAMETER_INSERT: this page's offset in the area */
	unsigned vp_index;   /* VMSA: the vCPU */
	unsigned hdr_index;  /* the header it comes from */
};

typedef int (*igvm_page_fn)(void *ctx, const struct igvm_launch_page *pg);

/* Call fn for every page of the SNP launch of a checked file, in launch
 * order, VMSA last. Stops at the first non-zero return of fn. Returns 0, or
 * -1 with a message (pages the SNP launch cannot take: 2 MiB, shared, no
 * SEV-SNP platform, a VMSA not at SNP_VMSA_GPA). */
int igvm_walk_launch(const struct igvm_file *f, igvm_page_fn fn, void *ctx, char *err,
		     size_t errlen);

/* Parameter headers of the file (VP_COUNT_PARAMETER, MEMORY_MAP) that name
 * area idx: what a loader writes there. */
struct igvm_params {
	int vp_count_off; /* byte offset in the area, -1 if absent */
	int memmap_off;
	uint64_t area_size;
};
void igvm_params_of(const struct igvm_file *f, uint32_t idx, struct igvm_params *p);

/* The file data of the PAGE_DATA page at gpa (NULL if none or a page without
 * data), and of the VP_CONTEXT (the VMSA; NULL if none) of a checked file. */
const uint8_t *igvm_page_data_at(const struct igvm_file *f, uint64_t gpa);
const uint8_t *igvm_vmsa(const struct igvm_file *f);

/* The SNP guest policy of the file (GUEST_POLICY), or 0 when absent. */
uint64_t igvm_policy(const struct igvm_file *f);

#endif
