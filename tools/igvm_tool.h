/* SPDX-License-Identifier: MIT */
/* igvm_tool.h - the parts of veil-igvm (veil-igvm.c: build; igvm_dump.c: dump,
 * measure and the SNP ID block). */
#ifndef VEIL_IGVM_TOOL_H
#define VEIL_IGVM_TOOL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "igvm.h"

/* Print "veil-igvm: MESSAGE" on stderr and return rc. */
int igvm_fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int igvm_read_file(const char *path, uint8_t **buf, size_t *len);

int igvm_cmd_build(int argc, char **argv);
int igvm_cmd_dump(int argc, char **argv);
int igvm_cmd_measure(int argc, char **argv);

/* Launch digest of a checked file. Returns 0, or -1 with a message. */
int igvm_measure_file(const struct igvm_file *f, uint8_t digest[48], char *err, size_t errlen);

/* SNP ID block options (SNP firmware ABI 56860, "ID Block Structure"). */
struct igvm_id_opts {
	const char *key_path; /* NULL: no ID block */
	uint8_t family_id[16], image_id[16];
	uint32_t svn;
};
int igvm_id_option(struct igvm_id_opts *o, const char *opt, const char *arg);

/* Fill an IGVM SNP_ID_BLOCK header (ld, ids, signature, public key) for the
 * digest and policy. Returns 0, or -1 with a message. */
int igvm_make_id_block(const struct igvm_id_opts *o, const uint8_t ld[48], uint64_t policy,
		       struct igvm_snp_id_block *out, char *err, size_t errlen);

#endif
