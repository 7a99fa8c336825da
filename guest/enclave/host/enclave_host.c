/* SPDX-License-Identifier: MIT */
/* enclave_host.c - the host side of the Veil enclave SDK (veil/enclave_host.h). */
#include <veil/enclave_host.h>

uint64_t veil_enclave_create(struct svsm_caa *caa, const void *image, uint64_t len, uint64_t pool,
			     uint64_t count, uint64_t *handle)
{
	struct svsm_call_out o = { 0 };
	uint64_t rc = svsm_call(caa, VEIL_PROTOCOL_ENCLAVE, VEIL_ENC_CREATE, (uint64_t)image, len,
				pool, count, &o);

	*handle = rc == SVSM_SUCCESS ? o.rcx : 0;
	return rc;
}

/* Serve one ocall: the request is in pages[0], the response goes to pages[1]. */
static int64_t serve(const struct veil_ocall_table *t, uint64_t nr, uint64_t len,
		     uint64_t *resp_len)
{
	*resp_len = 0;
	if (nr >= VEIL_OCALL_MAX || !t->fn[nr])
		return VEIL_OCALL_ENOSYS;
	return t->fn[nr](t->ctx, t->pages, len, t->pages + VEIL_OCALL_PAGE, resp_len);
}

uint64_t veil_enclave_call(struct svsm_caa *caa, uint64_t handle, uint64_t arg,
			   const struct veil_ocall_table *t, uint64_t *value)
{
	struct svsm_call_out o = { 0 };
	uint64_t rc, resp_len;
	int64_t result;

	rc = svsm_call(caa, VEIL_PROTOCOL_ENCLAVE, VEIL_ENC_ENTER, handle, arg,
		       t ? (uint64_t)t->pages : 0, 0, &o);
	while (rc == SVSM_SUCCESS && (o.rdx == VEIL_ENC_OCALL || o.rdx == VEIL_ENC_INTERRUPTED)) {
		if (o.rdx == VEIL_ENC_INTERRUPTED) { /* the OS has taken its interrupt */
			rc = svsm_call(caa, VEIL_PROTOCOL_ENCLAVE, VEIL_ENC_CONTINUE, handle, 0,
				       t ? (uint64_t)t->pages : 0, 0, &o);
			continue;
		}
		result = serve(t, o.rcx, o.r8, &resp_len);
		rc = svsm_call(caa, VEIL_PROTOCOL_ENCLAVE, VEIL_ENC_RESUME, handle,
			       (uint64_t)result, (uint64_t)t->pages + VEIL_OCALL_PAGE, resp_len,
			       &o);
	}
	*value = o.rcx;
	return rc;
}

uint64_t veil_enclave_destroy(struct svsm_caa *caa, uint64_t handle)
{
	return svsm_call(caa, VEIL_PROTOCOL_ENCLAVE, VEIL_ENC_DESTROY, handle, 0, 0, 0, 0);
}
