/* SPDX-License-Identifier: MIT */
/*
 * attest.c - the SVSM attestation protocol (SVSM spec 58019, protocol 1:
 * ATTEST_SERVICES and ATTEST_SINGLE_SERVICE), so an unmodified Linux guest
 * (configfs-tsm through the SVSM) gets VMPL0 reports that vouch for Veil.
 *
 * The monitor keeps VMPCK0 (the OS's copy of the secrets page has VMPCK0-2
 * cleared) and asks the AMD-SP itself: an SNP Guest Request (GHCB spec 56421,
 * NAE event 0x8000_0011) through its own GHCB, with request and response in
 * two monitor pages it made shared. The message is built, encrypted and
 * checked in monitor-private memory (AES-256-GCM per SNP firmware ABI 56860,
 * "Guest Messages"); the shared pages only carry ciphertext.
 *
 * REPORT_DATA = SHA-512(nonce || manifest), as the SVSM spec defines it, so
 * the report binds the caller's nonce and everything the manifest says: the
 * kernel code integrity state, the secure log's head, loaded modules.
 *
 * Any failure after a message went out (no answer, a bad answer) disables
 * VMPCK0 for the rest of the run: the next message would reuse its sequence
 * number as the AES-GCM IV with other plaintext. Linux does the same.
 */
#include <bearssl/bearssl_aead.h>
#include <bearssl/bearssl_block.h>
#include <bearssl/bearssl_hash.h>
#include <veil/abi.h>
#include <veil/lib.h>
#include <veil/service.h>

#include "../kci/kci.h"
#include "../log/log.h"
#include "../module/module.h"
#include "attest.h"

#define MANIFEST_MAX 4096
#define GCM_TAG_LEN 16

struct veil_attest {
	u8 msg[VEIL_PAGE_SIZE] __attribute__((aligned(8))); /* private copy of a message */
	u8 manifest[MANIFEST_MAX] __attribute__((aligned(8)));
	u8 nonce[VEIL_ATTEST_MAX_NONCE];
	u8 vmpck0[32];
	u64 req_gpa, resp_gpa; /* shared with the hypervisor */
	u64 seqno;	       /* last sequence number used with VMPCK0 */
	bool disabled;	       /* VMPCK0 unusable (see above) */
};

static const u8 guid_services[16] = SVSM_SERVICES_MANIFEST_GUID;
static const u8 guid_kci[16] = VEIL_ATTEST_GUID_KCI;
static const u8 guid_log[16] = VEIL_ATTEST_GUID_LOG;
static const u8 guid_modules[16] = VEIL_ATTEST_GUID_MODULES;

/* Without its shared pages or VMPCK0 the service still answers (and checks)
 * calls but refuses to ask for reports: the rest of Veil does not depend on
 * the hypervisor's cooperation here. */
static int attest_init(struct veil_monitor *mon, struct veil_vcpu *vc)
{
	u64 pages = (sizeof(struct veil_attest) + VEIL_PAGE_SIZE - 1) / VEIL_PAGE_SIZE;
	u64 gpa = veil_monitor_alloc(mon, pages, VEIL_PAGE_SIZE);
	u64 shared = veil_monitor_alloc(mon, 2, VEIL_PAGE_SIZE);
	const u8 *secrets = veil_map(vc->be, mon->launch.secrets_gpa, VEIL_PAGE_SIZE);
	struct veil_attest *a;

	if (!gpa || !shared)
		return VEIL_ENOMEM;
	a = veil_map(vc->be, gpa, sizeof(*a));
	if (!a)
		return VEIL_ERANGE;
	veil_memset(a, 0, sizeof(*a));
	a->req_gpa = shared;
	a->resp_gpa = shared + VEIL_PAGE_SIZE;
	if (secrets)
		veil_memcpy(a->vmpck0, secrets + SNP_SECRETS_VMPCK(0), 32);
	if (!secrets || veil_monitor_share_page(mon, vc, shared) ||
	    veil_monitor_share_page(mon, vc, shared + VEIL_PAGE_SIZE)) {
		veil_printf(vc->be, "veil: attestation unavailable: no VMPCK0 or shared pages\n");
		a->disabled = true;
	}
	mon->svc[VEIL_SVC_ATTEST] = a;
	return VEIL_OK;
}

/* ---- manifest ------------------------------------------------------------------ */

static u32 kci_entry(const struct veil_monitor *mon, u8 *out, u32 room)
{
	const struct veil_kci *k = mon->svc[VEIL_SVC_KCI];
	struct veil_attest_kci *e = (struct veil_attest_kci *)out;
	u32 i, n = mon->launch.nr_ksegs < VEIL_MAX_KSEGS ? mon->launch.nr_ksegs : VEIL_MAX_KSEGS;
	u32 size = (u32)(sizeof(*e) + n * sizeof(e->segs[0]));

	if (size > room)
		return 0;
	veil_memset(out, 0, size);
	e->version = 1;
	e->locked = k && k->locked;
	e->text_pages = k ? k->text_pages : 0;
	e->nr_segs = n;
	for (i = 0; i < n; i++) {
		e->segs[i].gpa = mon->launch.ksegs[i].gpa;
		e->segs[i].len = mon->launch.ksegs[i].len;
		e->segs[i].flags = mon->launch.ksegs[i].flags;
	}
	return size;
}

static u32 log_entry(const struct veil_monitor *mon, u8 *out, u32 room)
{
	struct veil_log_head h;

	if (sizeof(h) > room)
		return 0;
	veil_log_head_get(mon, &h);
	veil_memcpy(out, &h, sizeof(h));
	return sizeof(h);
}

static u32 modules_entry(const struct veil_monitor *mon, u8 *out, u32 room)
{
	const struct veil_modules *ms = mon->svc[VEIL_SVC_MODULE];
	struct veil_attest_modules *e = (struct veil_attest_modules *)out;
	u32 i, n = 0;

	if (room < sizeof(*e) + VEIL_MAX_MODULES * sizeof(e->mod[0]))
		return 0;
	veil_memset(out, 0, sizeof(*e));
	e->version = 1;
	for (i = 0; ms && i < VEIL_MAX_MODULES; i++) {
		const struct veil_module *m = &ms->mod[i];

		if (!m->loaded)
			continue;
		e->mod[n].handle = m->handle;
		e->mod[n].base = m->base;
		e->mod[n].pages = m->pages;
		veil_memcpy(e->mod[n].sha256, m->hash, 32);
		n++;
	}
	e->nr = n;
	return (u32)(sizeof(*e) + n * sizeof(e->mod[0]));
}

typedef u32 (*entry_fn)(const struct veil_monitor *mon, u8 *out, u32 room);

static const struct {
	const u8 *guid;
	entry_fn fill;
} entries[] = {
	{ guid_kci, kci_entry },
	{ guid_log, log_entry },
	{ guid_modules, modules_entry },
};
#define NR_ENTRIES (sizeof(entries) / sizeof(entries[0]))

/* The services manifest (a GUID table) into a->manifest; its size or 0. */
static u32 services_manifest(const struct veil_monitor *mon, struct veil_attest *a)
{
	struct svsm_manifest_hdr h;
	struct svsm_manifest_entry e;
	u32 i, off = (u32)(sizeof(h) + NR_ENTRIES * sizeof(e)), n;

	for (i = 0; i < NR_ENTRIES; i++) {
		n = entries[i].fill(mon, a->manifest + off, MANIFEST_MAX - off);
		if (!n)
			return 0;
		veil_memcpy(e.guid, entries[i].guid, 16);
		e.offset = off;
		e.size = n;
		veil_memcpy(a->manifest + sizeof(h) + i * sizeof(e), &e, sizeof(e));
		off += n;
	}
	veil_memcpy(h.guid, guid_services, 16);
	h.size = off;
	h.nr_entries = NR_ENTRIES;
	veil_memcpy(a->manifest, &h, sizeof(h));
	return off;
}

/* One service's manifest, for ATTEST_SINGLE_SERVICE; 0 if unknown. */
static u32 single_manifest(const struct veil_monitor *mon, struct veil_attest *a, const u8 *guid)
{
	u32 i;

	for (i = 0; i < NR_ENTRIES; i++)
		if (!veil_memcmp(entries[i].guid, guid, 16))
			return entries[i].fill(mon, a->manifest, MANIFEST_MAX);
	return 0;
}

/* ---- the guest request ------------------------------------------------------------- */

static void gcm_start(br_gcm_context *gc, br_aes_ct64_ctr_keys *aes, const u8 key[32],
		      const struct snp_msg_hdr *h)
{
	u8 iv[12] = { 0 };

	veil_memcpy(iv, &h->msg_seqno, 8);
	br_aes_ct64_ctr_init(aes, key, 32);
	br_gcm_init(gc, &aes->vtable, br_ghash_ctmul64);
	br_gcm_reset(gc, iv, sizeof(iv));
	br_gcm_aad_inject(gc, (const u8 *)h + SNP_MSG_AAD_OFF, SNP_MSG_AAD_LEN);
	br_gcm_flip(gc);
}

/* Encrypt a MSG_REPORT_REQ for VMPL0 into the shared request page. */
static int write_request(struct veil_vcpu *vc, struct veil_attest *a, const u8 report_data[64])
{
	struct snp_msg_hdr *h = (struct snp_msg_hdr *)a->msg;
	struct snp_report_req *req = (struct snp_report_req *)(a->msg + sizeof(*h));
	br_aes_ct64_ctr_keys aes;
	br_gcm_context gc;
	u8 *page = veil_map_shared(vc->be, a->req_gpa, VEIL_PAGE_SIZE);

	if (!page)
		return -1;
	veil_memset(a->msg, 0, sizeof(a->msg));
	h->msg_seqno = a->seqno + 1;
	h->algo = SNP_AEAD_AES_256_GCM;
	h->hdr_version = 1;
	h->hdr_size = sizeof(*h);
	h->msg_type = SNP_MSG_REPORT_REQ;
	h->msg_version = 1;
	h->msg_size = sizeof(*req);
	h->msg_vmpck = 0;
	veil_memcpy(req->report_data, report_data, 64);
	req->vmpl = 0;
	gcm_start(&gc, &aes, a->vmpck0, h);
	br_gcm_run(&gc, 1, req, sizeof(*req));
	br_gcm_get_tag(&gc, h->authtag);
	veil_memcpy(page, a->msg, sizeof(*h) + sizeof(*req));
	return 0;
}

/* Copy the response out of the shared page first, then check and decrypt it. */
static int read_response(struct veil_vcpu *vc, struct veil_attest *a, struct snp_report *out)
{
	struct snp_msg_hdr *h = (struct snp_msg_hdr *)a->msg;
	struct snp_report_resp *resp = (struct snp_report_resp *)(a->msg + sizeof(*h));
	const u8 *page = veil_map_shared(vc->be, a->resp_gpa, VEIL_PAGE_SIZE);
	br_aes_ct64_ctr_keys aes;
	br_gcm_context gc;

	if (!page)
		return -1;
	veil_memcpy(a->msg, page, sizeof(a->msg));
	if (h->msg_seqno != a->seqno + 2 || h->algo != SNP_AEAD_AES_256_GCM ||
	    h->hdr_size != sizeof(*h) || h->msg_type != SNP_MSG_REPORT_RSP || h->msg_vmpck != 0 ||
	    h->msg_size != sizeof(*resp))
		return -1;
	gcm_start(&gc, &aes, a->vmpck0, h);
	br_gcm_run(&gc, 0, resp, sizeof(*resp));
	if (!br_gcm_check_tag(&gc, h->authtag))
		return -1;
	if (resp->status != SNP_FW_SUCCESS || resp->report_size != SNP_REPORT_SIZE ||
	    resp->report.vmpl != 0)
		return -1;
	veil_memcpy(out, &resp->report, sizeof(*out));
	return 0;
}

/* A VMPL0 report with this REPORT_DATA, from the AMD-SP; SVSM result code. */
static u64 vmpl0_report(struct veil_vcpu *vc, struct veil_attest *a, const u8 report_data[64],
			struct snp_report *out)
{
	u64 rc, fw;

	if (a->disabled)
		return SVSM_ERR_INVALID_REQUEST;
	if (a->seqno >= ~0ULL - 2 || write_request(vc, a, report_data))
		return SVSM_ERR_INVALID_REQUEST;
	rc = veil_monitor_ghcb_call(vc, SVM_VMGEXIT_GUEST_REQUEST, a->req_gpa, a->resp_gpa, &fw);
	if (rc || fw || read_response(vc, a, out)) {
		a->disabled = true;
		veil_memset(a->vmpck0, 0, sizeof(a->vmpck0));
		veil_printf(vc->be,
			    "veil: attestation: guest request failed (%lx/%lx); "
			    "VMPCK0 disabled\n",
			    (unsigned long)rc, (unsigned long)fw);
		return SVSM_ERR_INVALID_REQUEST;
	}
	a->seqno += 2;
	return SVSM_SUCCESS;
}

/* ---- the protocol ----------------------------------------------------------------- */

static u64 attest(struct veil_monitor *mon, struct veil_vcpu *vc, u32 call, struct veil_call *c)
{
	struct veil_attest *a = mon->svc[VEIL_SVC_ATTEST];
	struct svsm_attest_call op;
	struct snp_report report;
	const void *src;
	u8 *report_buf, *manifest_buf, rd[64];
	br_sha512_context sha;
	u32 msize;
	u64 rc;

	src = veil_aligned(c->rcx, 8) ? veil_os_read(mon, vc->be, c->rcx, sizeof(op)) : NULL;
	if (!src)
		return SVSM_ERR_INVALID_ADDRESS;
	veil_memcpy(&op, src, sizeof(op)); /* the OS may change it meanwhile */
	if (op.report.reserved || op.nonce.reserved || op.manifest.reserved ||
	    op.certificates.reserved || (call == SVSM_ATTEST_SINGLE_SERVICE && op.reserved) ||
	    !op.nonce.size || op.nonce.size > VEIL_ATTEST_MAX_NONCE)
		return SVSM_ERR_INVALID_PARAMETER;
	if (call == SVSM_ATTEST_SINGLE_SERVICE) {
		if (op.service_manifest_version > 1)
			return SVSM_ERR_INVALID_PARAMETER;
		msize = single_manifest(mon, a, op.service_guid);
		if (!msize)
			return SVSM_ERR_INVALID_PARAMETER;
	} else {
		msize = services_manifest(mon, a);
		if (!msize)
			return SVSM_ERR_INVALID_REQUEST;
	}
	c->rcx = msize;
	c->rdx = 0; /* no certificates: the verifier has the chain */
	c->r8 = SNP_REPORT_SIZE;
	if (op.report.size < SNP_REPORT_SIZE || op.manifest.size < msize)
		return SVSM_ERR_INVALID_PARAMETER;
	/* The monitor writes the report and the manifest on the OS's behalf:
	 * only where the OS itself may write (never locked text or rodata). */
	src = veil_os_read(mon, vc->be, op.nonce.gpa, op.nonce.size);
	report_buf = veil_os_write(mon, vc->be, op.report.gpa, SNP_REPORT_SIZE);
	manifest_buf = veil_os_write(mon, vc->be, op.manifest.gpa, msize);
	if (!src || !report_buf || !manifest_buf)
		return SVSM_ERR_INVALID_ADDRESS;
	veil_memcpy(a->nonce, src, op.nonce.size);
	br_sha512_init(&sha);
	br_sha512_update(&sha, a->nonce, op.nonce.size);
	br_sha512_update(&sha, a->manifest, msize);
	br_sha512_out(&sha, rd);
	rc = vmpl0_report(vc, a, rd, &report);
	if (rc != SVSM_SUCCESS)
		return rc;
	veil_memcpy(report_buf, &report, SNP_REPORT_SIZE);
	veil_memcpy(manifest_buf, a->manifest, msize);
	return SVSM_SUCCESS;
}

static u64 attest_call(struct veil_monitor *mon, struct veil_vcpu *vc, u32 call,
		       struct veil_call *c)
{
	if (!mon->svc[VEIL_SVC_ATTEST])
		return SVSM_ERR_UNSUPPORTED_PROTOCOL;
	switch (call) {
	case SVSM_ATTEST_SERVICES:
	case SVSM_ATTEST_SINGLE_SERVICE:
		return attest(mon, vc, call, c);
	default:
		return SVSM_ERR_UNSUPPORTED_CALL;
	}
}

const struct veil_service veil_attest_service = {
	.name = "attest",
	.protocol = SVSM_ATTEST_PROTOCOL,
	.min_version = 1,
	.max_version = 1,
	.init = attest_init,
	.call = attest_call,
};
