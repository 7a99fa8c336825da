/* SPDX-License-Identifier: MIT */
/*
 * snp_verify.h - the signature side of SEV-SNP attestation reports, shared by
 * veil-attest and veil-log: the AMD certificate chain (ARK self-signed, ASK
 * by ARK, VCEK by ASK), the VCEK being the one of the report's chip at its
 * REPORTED_TCB (AMD's extensions 1.3.6.1.4.1.3704.1.*), and the ECDSA P-384
 * signature over the report's first 0x2A0 bytes (SNP firmware ABI 56860,
 * ATTESTATION_REPORT; r and s little-endian). OpenSSL does the cryptography.
 */
#ifndef VEIL_SNP_VERIFY_H
#define VEIL_SNP_VERIFY_H

#include <stddef.h>

#include <veil/abi.h>

#define SNP_VERIFY_OK 0
#define SNP_VERIFY_FAILED 1   /* a check failed: err says which */
#define SNP_VERIFY_NO_CHAIN 2 /* ark.pem, ask.pem or vcek.pem unreadable in dir */

/* Check r against the chain in dir (ark.pem, ask.pem, vcek.pem). */
int snp_verify_report(const struct snp_report *r, const char *dir, char *err, size_t errlen);

#endif
