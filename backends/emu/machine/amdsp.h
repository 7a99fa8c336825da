/* SPDX-License-Identifier: MIT */
/*
 * amdsp.h - the AMD Secure Processor of the model: SNP guest messages
 * (SEV-SNP Firmware ABI 56860, "Guest Messages"), attestation reports signed
 * by a model VCEK, derived keys, and the model's ARK/ASK/VCEK certificates.
 *
 * Every key comes from one seed (veil-emu --attest-seed), so runs are
 * reproducible and a verifier can rebuild the chain with `veil-emu certs`.
 * These keys are NOT AMD's: their certificate subjects say so, and nothing
 * signed by them proves anything about real hardware.
 */
#ifndef VEIL_EMU_AMDSP_H
#define VEIL_EMU_AMDSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AMDSP_DEFAULT_SEED "veil-model"
#define AMDSP_NR_VMPCKS 4

/* The platform's TCB as the model reports it (SPLs of a recent Milan part). */
#define AMDSP_TCB_BOOTLOADER 3
#define AMDSP_TCB_TEE 0
#define AMDSP_TCB_SNP 14
#define AMDSP_TCB_MICROCODE 209

struct emu_amdsp;
struct emu_machine;

/* Keys from the seed (NULL = AMDSP_DEFAULT_SEED). NULL with a message in err. */
struct emu_amdsp *amdsp_create(const char *seed, char *err, size_t errlen);
void amdsp_destroy(struct emu_amdsp *sp);

/* The launch secrets page (56860 "Secrets Page"): version and VMPCK0-3. */
void amdsp_fill_secrets(const struct emu_amdsp *sp, uint8_t page[4096]);

/* What the report's MEASUREMENT holds: the launch digest of the guest. */
void amdsp_set_measurement(struct emu_amdsp *sp, const uint8_t digest[48]);
const uint8_t *amdsp_measurement(const struct emu_amdsp *sp);

/*
 * One SNP Guest Request (ext: the extended one) as the hypervisor forwards
 * it: req/resp are the GPAs from SW_EXITINFO1/2; for ext, *rax and *rbx are the
 * certificate buffer's GPA and pages (on a too-small buffer *rbx becomes the
 * pages needed). Returns the value for SW_EXITINFO2: the firmware status in
 * bits 31:0, the hypervisor's error in bits 63:32.
 */
uint64_t amdsp_guest_request(struct emu_amdsp *sp, struct emu_machine *m, bool ext, uint64_t req,
			     uint64_t resp, uint64_t rax, uint64_t *rbx);

/* Write ark.pem, ask.pem, vcek.pem and cert_chain.pem (ASK then ARK) to dir. */
int amdsp_write_certs(struct emu_amdsp *sp, const char *dir, char *err, size_t errlen);

#endif
