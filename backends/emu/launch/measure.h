/* SPDX-License-Identifier: MIT */
/*
 * measure.h - the SEV-SNP launch digest, as the AMD-SP computes it.
 *
 * SNP firmware ABI (AMD 56860), SNP_LAUNCH_UPDATE: for every page added at
 * launch the firmware extends the guest's launch digest with one PAGE_INFO
 * record (table "Layout of the PAGE_INFO Structure"):
 *
 *   LD' = SHA-384(PAGE_INFO{ LD, CONTENTS, LENGTH = 0x70, PAGE_TYPE, IMI_PAGE,
 *                            VMPL3_PERMS, VMPL2_PERMS, VMPL1_PERMS, GPA })
 *
 * CONTENTS is SHA-384 of the 4 KiB page for NORMAL and VMSA pages and 48 zero
 * bytes for ZERO, UNMEASURED, SECRETS and CPUID pages. The initial digest is
 * all zero. Host C (OpenSSL), no Unicorn: the emulator, veil-igvm and the
 * attestation code share it.
 */
#ifndef VEIL_EMU_MEASURE_H
#define VEIL_EMU_MEASURE_H

#include <stdbool.h>
#include <stdint.h>

/* PAGE_TYPE values of SNP_LAUNCH_UPDATE (SNP firmware ABI 56860). */
#define SNP_PAGE_NORMAL 1
#define SNP_PAGE_VMSA 2
#define SNP_PAGE_ZERO 3
#define SNP_PAGE_UNMEASURED 4
#define SNP_PAGE_SECRETS 5
#define SNP_PAGE_CPUID 6

#define SNP_DIGEST_SIZE 48
#define SNP_PAGE_INFO_SIZE 0x70

/* The GPA the firmware records for a VMSA page: the RMP has (u64)-1 for it,
 * page-aligned and cut to 52 bits; QEMU's IGVM loader requires the one launch
 * VMSA there. */
#define SNP_VMSA_GPA 0xFFFFFFFFF000ULL

struct snp_measure {
	uint8_t digest[SNP_DIGEST_SIZE];
};

/* Start a launch: the digest is 48 zero bytes. */
void snp_measure_init(struct snp_measure *ms);

/* One LAUNCH_UPDATE of one 4 KiB page; contents NULL where the type hashes as
 * zero (contents is read only for SNP_PAGE_NORMAL and SNP_PAGE_VMSA). */
void snp_measure_page(struct snp_measure *ms, uint64_t gpa, unsigned page_type,
		      const uint8_t *contents, bool imi, uint8_t vmpl1_perms, uint8_t vmpl2_perms,
		      uint8_t vmpl3_perms);

/* The digest as 96 lowercase hex digits and a NUL (hex must hold 97 bytes). */
void snp_measure_hex(const struct snp_measure *ms, char *hex);

#endif
