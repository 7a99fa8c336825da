/* SPDX-License-Identifier: MIT */
/* measure.c - the SNP launch digest (SNP firmware ABI 56860, SNP_LAUNCH_UPDATE). */
#include <string.h>

#include <openssl/sha.h>

#include "measure.h"

/* Offsets in PAGE_INFO (SNP firmware ABI 56860, "Layout of the PAGE_INFO
 * Structure"); all fields little-endian. */
#define PI_DIGEST_CUR 0x00
#define PI_CONTENTS 0x30
#define PI_LENGTH 0x60
#define PI_PAGE_TYPE 0x62
#define PI_IMI_PAGE 0x63
#define PI_VMPL3_PERMS 0x64
#define PI_VMPL2_PERMS 0x65
#define PI_VMPL1_PERMS 0x66
#define PI_GPA 0x68

void snp_measure_init(struct snp_measure *ms)
{
	memset(ms->digest, 0, sizeof(ms->digest));
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void snp_measure_page(struct snp_measure *ms, uint64_t gpa, unsigned page_type,
		      const uint8_t *contents, bool imi, uint8_t vmpl1_perms, uint8_t vmpl2_perms,
		      uint8_t vmpl3_perms)
{
	uint8_t pi[SNP_PAGE_INFO_SIZE] = { 0 };

	memcpy(pi + PI_DIGEST_CUR, ms->digest, SNP_DIGEST_SIZE);
	/* Only NORMAL and VMSA pages are measured by content; the others add a
	 * zero contents hash (their contents are not known to the verifier). */
	if ((page_type == SNP_PAGE_NORMAL || page_type == SNP_PAGE_VMSA) && contents)
		SHA384(contents, 4096, pi + PI_CONTENTS);
	put_le(pi + PI_LENGTH, SNP_PAGE_INFO_SIZE, 2);
	pi[PI_PAGE_TYPE] = (uint8_t)page_type;
	pi[PI_IMI_PAGE] = imi ? 1 : 0;
	pi[PI_VMPL3_PERMS] = vmpl3_perms;
	pi[PI_VMPL2_PERMS] = vmpl2_perms;
	pi[PI_VMPL1_PERMS] = vmpl1_perms;
	put_le(pi + PI_GPA, gpa, 8);
	SHA384(pi, sizeof(pi), ms->digest);
}

void snp_measure_hex(const struct snp_measure *ms, char *hex)
{
	static const char digits[] = "0123456789abcdef";

	for (unsigned i = 0; i < SNP_DIGEST_SIZE; i++) {
		hex[2 * i] = digits[ms->digest[i] >> 4];
		hex[2 * i + 1] = digits[ms->digest[i] & 15];
	}
	hex[2 * SNP_DIGEST_SIZE] = '\0';
}
