/* SPDX-License-Identifier: MIT */
/*
 * veil/enclave_host.h - the host side of the Veil enclave SDK: create, call
 * and destroy enclaves through VEIL_PROTOCOL_ENCLAVE, and serve their
 * ocalls from a table. For code at VMPL3 CPL0 (the test OS; a Linux module
 * would wrap the same calls), identity-mapped (buffers named by GVA = GPA).
 */
#ifndef VEIL_ENCLAVE_HOST_H
#define VEIL_ENCLAVE_HOST_H

#include <stdint.h>
#include <veil/abi.h>
#include <veil/enclave_ocall.h>

#include "veil_call.h"

/* One ocall: req/len is the request, up to VEIL_OCALL_PAGE bytes of response
 * go to resp with *resp_len set; returns the result the enclave sees. */
typedef int64_t (*veil_ocall_fn)(void *ctx, const uint8_t *req, uint64_t len, uint8_t *resp,
				 uint64_t *resp_len);

struct veil_ocall_table {
	veil_ocall_fn fn[VEIL_OCALL_MAX]; /* NULL: answered VEIL_OCALL_ENOSYS */
	void *ctx;
	/* Two page-aligned OS pages: requests arrive in [0], responses leave from [1]. */
	uint8_t *pages;
};

/* CREATE from an ELF image with `count` donated pages at pool. */
uint64_t veil_enclave_create(struct svsm_caa *caa, const void *image, uint64_t len, uint64_t pool,
			     uint64_t count, uint64_t *handle);

/*
 * ENTER with arg and serve every ocall until the enclave is done (after an
 * interrupt exit, CONTINUE on the vCPU the host now runs on): *value is
 * what it returned. Returns SVSM_SUCCESS or the monitor's error
 * (VEIL_ENC_ERR_FAULT: *value = the fault, as ENTER reports it).
 */
uint64_t veil_enclave_call(struct svsm_caa *caa, uint64_t handle, uint64_t arg,
			   const struct veil_ocall_table *t, uint64_t *value);

uint64_t veil_enclave_destroy(struct svsm_caa *caa, uint64_t handle);

#endif
