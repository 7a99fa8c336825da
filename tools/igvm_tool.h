/* SPDX-License-Identifier: MIT */
/* igvm_tool.h - the parts of veil-igvm (veil-igvm.c: build; igvm_dump.c: dump,
 * measure and the SNP ID block). */
#ifndef VEIL_IGVM_TOOL_H
#define VEIL_IGVM_TOOL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostio.h"
#include "igvm.h"

/* Print "veil-igvm: MESSAGE" on stderr and return rc. */
#define igvm_fail(rc, ...) hio_fail("veil-igvm", rc, __VA_ARGS__)
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

/* igvm_write.c: the writer. Headers are collected, then laid out: fixed
 * header, variable headers, data blocks (file offsets patched in). */
struct igvm_whdr {
	uint32_t type, len;
	uint8_t content[sizeof(struct igvm_snp_id_block)];
	int data;	  /* index into the data blocks, -1 = none */
	unsigned ref_off; /* where in content the file offset of data goes */
};

struct igvm_writer {
	struct igvm_whdr *h;
	size_t nh, caph;
	const uint8_t **d;
	size_t nd, capd;
};

int igvm_w_add(struct igvm_writer *w, uint32_t type, const void *c, uint32_t len,
	       const uint8_t *data, unsigned ref_off);
uint8_t *igvm_w_serialize(const struct igvm_writer *w, size_t *out_len);
bool igvm_page_is_zero(const uint8_t *p);
int igvm_write_out(const char *path, const uint8_t *buf, size_t len);

#endif
