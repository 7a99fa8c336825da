/* SPDX-License-Identifier: MIT */
/*
 * attest.c - the test OS and attestation: SNP guest messages to the AMD-SP
 * with its own VMPCK3 (SNP firmware ABI 56860, "Guest Messages"; GHCB spec
 * 56421 SNP Guest Request), the SVSM attestation protocol through the monitor
 * (SVSM spec 58019, protocol 1), and attacks on both. Scenario names and
 * expectations: README.md.
 *
 * AES-256-GCM and SHA-512 are BearSSL's (libbearssl.a is linked in). Debian
 * builds it with the stack protector, which reads its canary at %fs:0x28, so
 * FS points at a small area of ours while attestation runs.
 *
 * Results go to COM2 as an attestation bundle (struct veil_attest_bundle in
 * veil/abi.h) for veil-attest and the host-side tests.
 */
#include <bearssl/bearssl_aead.h>
#include <bearssl/bearssl_block.h>
#include <bearssl/bearssl_hash.h>

#include <veil/logdump.h>

#include "kernel.h"

#define MSR_FS_BASE 0xC0000100U
#define COM2 0x2F8
#define CHUNK 0x7F0	  /* the GHCB shared buffer */
#define CERT_PAGES 3	  /* the certificate buffer of the extended request */
#define NO_ANSWER (~0ULL) /* the GHCB event itself failed */

static struct {
	bool ready;
	uint64_t req, resp, certs; /* shared pages */
	uint64_t seqno[4];	   /* last sequence number used with each VMPCK */
	uint8_t key[4][32];
	uint64_t fs_area[8]; /* %fs:0x28 = the stack protector's canary */
	uint8_t msg[4096];   /* private copy of a response */
} at;

/* BearSSL's hosted build needs these two. */
void __stack_chk_fail(void);
void __stack_chk_fail(void)
{
	panic("attest: stack protector check failed in BearSSL");
}

void *__memcpy_chk(void *d, const void *s, size_t n, size_t dn);
void *__memcpy_chk(void *d, const void *s, size_t n, size_t dn)
{
	if (n > dn)
		panic("attest: memcpy overflow in BearSSL");
	return memcpy(d, s, n);
}

static int setup(void)
{
	uint64_t p;
	unsigned i;

	if (at.ready)
		return 0;
	p = pages_alloc(2 + CERT_PAGES);
	if (!p)
		return -1;
	for (i = 0; i < 2 + CERT_PAGES; i++)
		if (page_share(p + i * PAGE_SIZE))
			return -1;
	at.req = p;
	at.resp = p + PAGE_SIZE;
	at.certs = p + 2 * PAGE_SIZE;
	for (i = 0; i < 4; i++)
		memcpy(at.key[i], (const void *)(boot.secrets_gpa + SNP_SECRETS_VMPCK(i)), 32);
	at.fs_area[5] = 0x5645494C43414E59ULL;
	wrmsr(MSR_FS_BASE, (uint64_t)at.fs_area);
	at.ready = true;
	return 0;
}

static void gcm_start(br_gcm_context *gc, br_aes_ct64_ctr_keys *aes, const uint8_t *key,
		      const struct snp_msg_hdr *h)
{
	uint8_t iv[12] = { 0 };

	memcpy(iv, &h->msg_seqno, 8);
	br_aes_ct64_ctr_init(aes, key, 32);
	br_gcm_init(gc, &aes->vtable, br_ghash_ctmul64);
	br_gcm_reset(gc, iv, sizeof(iv));
	br_gcm_aad_inject(gc, (const uint8_t *)h + SNP_MSG_AAD_OFF, SNP_MSG_AAD_LEN);
	br_gcm_flip(gc);
}

/* Build and encrypt a message with `key` into the request page. */
static void build(unsigned vmpck, const uint8_t *key, uint64_t seqno, uint8_t type,
		  const void *payload, uint16_t len)
{
	struct snp_msg_hdr *h = (struct snp_msg_hdr *)at.req;
	uint8_t *body = (uint8_t *)at.req + sizeof(*h);
	br_aes_ct64_ctr_keys aes;
	br_gcm_context gc;

	memset(h, 0, PAGE_SIZE);
	h->msg_seqno = seqno;
	h->algo = SNP_AEAD_AES_256_GCM;
	h->hdr_version = 1;
	h->hdr_size = sizeof(*h);
	h->msg_type = type;
	h->msg_version = 1;
	h->msg_size = len;
	h->msg_vmpck = (uint8_t)vmpck;
	memcpy(body, payload, len);
	gcm_start(&gc, &aes, key, h);
	br_gcm_run(&gc, 1, body, len);
	br_gcm_get_tag(&gc, h->authtag);
}

/* Send what the request page holds; SW_EXITINFO2 (firmware status) or NO_ANSWER. */
static uint64_t send(bool ext, uint64_t *pages)
{
	volatile uint8_t *g = this_cpu()->ghcb;
	uint64_t rc;

	memset((void *)at.resp, 0, PAGE_SIZE);
	ghcb_clear(g);
	if (ext) {
		ghcb_set(g, GHCB_RAX, at.certs);
		ghcb_set(g, GHCB_RBX, *pages);
	}
	rc = ghcb_hv_call(g, (uint64_t)g,
			  ext ? SVM_VMGEXIT_EXT_GUEST_REQUEST : SVM_VMGEXIT_GUEST_REQUEST, at.req,
			  at.resp);
	if ((uint32_t)rc)
		return NO_ANSWER;
	if (ext)
		*pages = ghcb_get(g, GHCB_RBX);
	return ghcb_get(g, GHCB_EXITINFO2);
}

/* Check and decrypt the answer to message `seqno` of `type`; its payload or NULL. */
static const void *answer(unsigned vmpck, uint64_t seqno, uint8_t type, uint16_t len)
{
	struct snp_msg_hdr *h = (struct snp_msg_hdr *)at.msg;
	br_aes_ct64_ctr_keys aes;
	br_gcm_context gc;

	memcpy(at.msg, (const void *)at.resp, sizeof(at.msg));
	if (h->msg_seqno != seqno + 1 || h->msg_type != type + 1 || h->msg_vmpck != vmpck ||
	    h->msg_size != len)
		return NULL;
	gcm_start(&gc, &aes, at.key[vmpck], h);
	br_gcm_run(&gc, 0, at.msg + sizeof(*h), len);
	return br_gcm_check_tag(&gc, h->authtag) ? at.msg + sizeof(*h) : NULL;
}

/* One request with VMPCKn as a careful guest makes it; the payload or NULL. */
static const void *request(unsigned vmpck, uint8_t type, const void *payload, uint16_t len,
			   uint16_t resp_len, bool ext, uint64_t *pages)
{
	uint64_t seq = at.seqno[vmpck] + 1, st;
	const void *r;

	build(vmpck, at.key[vmpck], seq, type, payload, len);
	st = send(ext, pages);
	if (st) {
		kprintf("attest: request with VMPCK%u refused: %lx\n", vmpck, st);
		return NULL;
	}
	r = answer(vmpck, seq, type, resp_len);
	if (r)
		at.seqno[vmpck] += 2;
	return r;
}

static const struct snp_report_resp *report(unsigned vmpck, unsigned vmpl, const char *data)
{
	struct snp_report_req req;

	memset(&req, 0, sizeof(req));
	memcpy(req.report_data, data, strlen(data));
	req.vmpl = vmpl;
	return request(vmpck, SNP_MSG_REPORT_REQ, &req, sizeof(req), sizeof(struct snp_report_resp),
		       false, NULL);
}

/* ---- the bundle on COM2 ---------------------------------------------------------- */

static void com2_write(const void *p, size_t n)
{
	volatile uint8_t *g = this_cpu()->ghcb;
	uint64_t info1 = ((uint64_t)COM2 << SVM_IOIO_PORT_SHIFT) | SVM_IOIO_SZ8 | SVM_IOIO_STR |
			 SVM_IOIO_REP | SVM_IOIO_A64;
	const uint8_t *s = p;

	while (n) {
		size_t k = n < CHUNK ? n : CHUNK;

		memcpy((void *)(g + GHCB_BUFFER), s, k);
		ghcb_clear(g);
		ghcb_set(g, GHCB_SCRATCH, (uint64_t)g + GHCB_BUFFER);
		if ((uint32_t)ghcb_hv_call(g, (uint64_t)g, SVM_EXIT_IOIO, info1, k))
			panic("attest: COM2 write failed");
		s += k;
		n -= k;
	}
}

static void dump_bundle(const struct snp_report *r, const void *manifest, uint32_t msize)
{
	struct veil_attest_bundle b = { .magic = VEIL_ATTEST_BUNDLE_MAGIC,
					.report_size = SNP_REPORT_SIZE,
					.manifest_size = msize };

	com2_write(&b, sizeof(b));
	com2_write(r, SNP_REPORT_SIZE);
	if (msize)
		com2_write(manifest, msize);
}

/* ---- scenarios ---------------------------------------------------------------------- */

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		if (*b++)
			return false;
	return true;
}

static void direct_keys(void)
{
	struct snp_key_req kr = { .guest_field_select = 1 | 8, .vmpl = 3 };
	const struct snp_key_resp *k;
	uint8_t k1[32];

	k = request(3, SNP_MSG_KEY_REQ, &kr, sizeof(kr), sizeof(*k), false, NULL);
	check("direct-key", k && k->status == 0 && !all_zero(k->derived_key, 32),
	      k ? k->status : 0);
	if (!k)
		return;
	memcpy(k1, k->derived_key, 32);
	k = request(3, SNP_MSG_KEY_REQ, &kr, sizeof(kr), sizeof(*k), false, NULL);
	check("direct-key-stable", k && !memcmp(k->derived_key, k1, 32), 0);
	kr.guest_field_select = 1;
	k = request(3, SNP_MSG_KEY_REQ, &kr, sizeof(kr), sizeof(*k), false, NULL);
	check("direct-key-fields-differ", k && memcmp(k->derived_key, k1, 32), 0);
	kr.vmpl = 2;
	k = request(3, SNP_MSG_KEY_REQ, &kr, sizeof(kr), sizeof(*k), false, NULL);
	check("direct-key-vmpl2-refused", k && k->status == SNP_FW_INVALID_PARAM,
	      k ? k->status : 0);
}

static void direct_ext(void)
{
	struct snp_report_req req;
	const struct snp_cert_entry *e = (const struct snp_cert_entry *)at.certs;
	uint64_t pages = 0, st, seq = at.seqno[3] + 1;

	memset(&req, 0, sizeof(req));
	req.vmpl = 3;
	build(3, at.key[3], seq, SNP_MSG_REPORT_REQ, &req, sizeof(req));
	st = send(true, &pages);
	check("direct-ext-too-small",
	      st == SNP_GHCB_ERR_INVALID_LEN && pages > 0 && pages <= CERT_PAGES, st);
	if (pages > CERT_PAGES)
		return;
	st = send(true, &pages); /* the same message: it never reached the AMD-SP */
	check("direct-ext",
	      st == 0 && answer(3, seq, SNP_MSG_REPORT_REQ, sizeof(struct snp_report_resp)), st);
	if (st == 0)
		at.seqno[3] += 2;
	check("direct-ext-certs",
	      e[0].length && e[1].length && e[2].length && all_zero(&e[3], sizeof(e[3])) &&
		      e[2].offset + e[2].length <= CERT_PAGES * PAGE_SIZE,
	      e[2].length);
}

static int attest_direct(void)
{
	const struct snp_report_resp *r;
	static struct snp_report saved;

	if (setup())
		return -1;
	check("direct-vmpck3-present", !all_zero(at.key[3], 32), 0);
	r = report(3, 3, "veil-testos direct VMPCK3");
	check("direct-report", r && r->status == 0 && r->report_size == SNP_REPORT_SIZE,
	      r ? r->status : NO_ANSWER);
	if (!r)
		return -1;
	check("direct-report-vmpl3", r->report.vmpl == 3, r->report.vmpl);
	check("direct-report-data", !memcmp(r->report.report_data, "veil-testos direct VMPCK3", 25),
	      0);
	check("direct-report-fields",
	      r->report.version == 2 && r->report.signature_algo == 1 &&
		      !all_zero(r->report.chip_id, 64) && !all_zero(r->report.measurement, 48) &&
		      !all_zero(r->report.sig_r, 72),
	      r->report.version);
	memcpy(&saved, &r->report, sizeof(saved));
	direct_keys();
	direct_ext();
	dump_bundle(&saved, NULL, 0);
	return 0;
}

/* The OS's copy of the secrets page has no VMPCK0-2, and using them fails. */
static int attack_vmpck0(void)
{
	struct snp_report_req req;
	unsigned k;

	if (setup())
		return -1;
	check("secrets-vmpck0-2-zeroed", all_zero(at.key[0], 3 * 32), 0);
	memset(&req, 0, sizeof(req));
	for (k = 0; k < 3; k++) {
		uint64_t st;

		build(k, at.key[k], 1, SNP_MSG_REPORT_REQ, &req, sizeof(req));
		st = send(false, NULL);
		check(k == 0 ? "attack-vmpck0-refused" :
		      k == 1 ? "attack-vmpck1-refused" :
			       "attack-vmpck2-refused",
		      st != 0 && all_zero((const void *)at.resp, PAGE_SIZE), st);
	}
	return 0;
}

/* VMPCK3 may not vouch for VMPL0-2. */
static int attack_vmpl0(void)
{
	const struct snp_report_resp *r;
	unsigned v;

	if (setup())
		return -1;
	for (v = 0; v < 3; v++) {
		r = report(3, v, "claim a privileged VMPL");
		check(v == 0 ? "attack-vmpl0-report-refused" :
		      v == 1 ? "attack-vmpl1-report-refused" :
			       "attack-vmpl2-report-refused",
		      r && r->status == SNP_FW_INVALID_PARAM && r->report_size == 0 &&
			      all_zero(&r->report, sizeof(r->report)),
		      r ? r->status : NO_ANSWER);
	}
	r = report(3, 3, "own VMPL");
	check("vmpl3-report-after", r && r->status == 0 && r->report.vmpl == 3, 0);
	return 0;
}

/* Replayed, reordered and tampered messages fail; the key stays usable. */
static int attack_replay(void)
{
	struct snp_report_req req;
	uint64_t st, seq;

	if (setup())
		return -1;
	check("replay-first", report(3, 3, "first") != NULL, 0);
	st = send(false, NULL); /* the request page still holds message 1 */
	check("attack-replay-refused", st == SNP_FW_INVALID_PARAM, st);
	memset(&req, 0, sizeof(req));
	req.vmpl = 3;
	seq = at.seqno[3] + 3; /* skips one */
	build(3, at.key[3], seq, SNP_MSG_REPORT_REQ, &req, sizeof(req));
	st = send(false, NULL);
	check("attack-reorder-refused", st == SNP_FW_INVALID_PARAM, st);
	build(3, at.key[3], at.seqno[3] + 1, SNP_MSG_REPORT_REQ, &req, sizeof(req));
	((uint8_t *)at.req)[sizeof(struct snp_msg_hdr) + 3] ^= 1;
	st = send(false, NULL);
	check("attack-tamper-refused", st == SNP_FW_INVALID_PARAM, st);
	check("in-order-after", report(3, 3, "in order") != NULL, 0);
	return 0;
}

/* ---- through the monitor: the SVSM attestation protocol ------------------------------- */

static uint8_t nonce_buf[VEIL_ATTEST_MAX_NONCE];
static uint8_t manifest_buf[2 * PAGE_SIZE] ALIGNED(4096);
static uint8_t report_buf[PAGE_SIZE] ALIGNED(4096);
static struct svsm_attest_call call_buf ALIGNED(64);

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' :
	       c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 :
				      -1;
}

/* nonce=HEX from the command line, else a fixed 64-byte nonce. */
static uint32_t nonce_of(void)
{
	char hex[2 * 64 + 1];
	uint32_t n = 0;

	if (!cmdline_opt("nonce", hex, sizeof(hex))) {
		for (n = 0; n < 64; n++)
			nonce_buf[n] = (uint8_t)(n * 7 + 1);
		return 64;
	}
	while (hex[2 * n] && hex[2 * n + 1] && hexval(hex[2 * n]) >= 0 &&
	       hexval(hex[2 * n + 1]) >= 0) {
		nonce_buf[n] = (uint8_t)(hexval(hex[2 * n]) << 4 | hexval(hex[2 * n + 1]));
		n++;
	}
	return n;
}

static uint64_t svsm_attest(uint32_t call, uint32_t nonce_len, uint32_t manifest_room,
			    struct svsm_call_out *out)
{
	memset(&call_buf, 0, sizeof(call_buf));
	call_buf.report = (struct svsm_loc){ (uint64_t)report_buf, sizeof(report_buf), 0 };
	call_buf.nonce = (struct svsm_loc){ (uint64_t)nonce_buf, nonce_len, 0 };
	call_buf.manifest = (struct svsm_loc){ (uint64_t)manifest_buf, manifest_room, 0 };
	return svsm_call(this_cpu()->caa, SVSM_ATTEST_PROTOCOL, call, (uint64_t)&call_buf, 0, 0, 0,
			 out);
}

static bool report_data_binds(uint32_t nonce_len, uint32_t msize)
{
	const struct snp_report *r = (const struct snp_report *)report_buf;
	br_sha512_context sha;
	uint8_t h[64];

	br_sha512_init(&sha);
	br_sha512_update(&sha, nonce_buf, nonce_len);
	br_sha512_update(&sha, manifest_buf, msize);
	br_sha512_out(&sha, h);
	return !memcmp(h, r->report_data, 64);
}

static void single_service(uint32_t nonce_len)
{
	static const uint8_t log_guid[16] = VEIL_ATTEST_GUID_LOG;
	struct veil_log_head h;
	struct svsm_call_out out;
	uint64_t rc;

	memcpy(call_buf.service_guid, log_guid, 16);
	call_buf.service_manifest_version = 1;
	rc = svsm_call(this_cpu()->caa, SVSM_ATTEST_PROTOCOL, SVSM_ATTEST_SINGLE_SERVICE,
		       (uint64_t)&call_buf, 0, 0, 0, &out);
	log_head(&h);
	check("svsm-single-log",
	      rc == SVSM_SUCCESS && out.rcx == sizeof(h) && !memcmp(manifest_buf, &h, sizeof(h)) &&
		      report_data_binds(nonce_len, sizeof(h)),
	      rc);
}

static int attest_svsm(void)
{
	static const uint8_t services_guid[16] = SVSM_SERVICES_MANIFEST_GUID;
	const struct snp_report *r = (const struct snp_report *)report_buf;
	uint32_t nonce_len;
	struct svsm_call_out out;
	uint64_t rc;
	uint32_t msize;

	if (setup())
		return -1;
	nonce_len = nonce_of();
	check("svsm-nonce", nonce_len > 0, nonce_len);
	audit_event("attest: about to ask for a report");
	rc = svsm_attest(SVSM_ATTEST_SERVICES, nonce_len, 8, &out);
	check("svsm-small-manifest-buffer",
	      rc == SVSM_ERR_INVALID_PARAMETER && out.rcx > 8 && out.r8 == SNP_REPORT_SIZE, rc);
	rc = svsm_attest(SVSM_ATTEST_SERVICES, nonce_len, sizeof(manifest_buf), &out);
	msize = (uint32_t)out.rcx;
	check("svsm-attest-services", rc == SVSM_SUCCESS && out.r8 == SNP_REPORT_SIZE, rc);
	if (rc != SVSM_SUCCESS)
		return -1;
	check("svsm-report-vmpl0", r->vmpl == 0, r->vmpl);
	check("svsm-manifest-guid", !memcmp(manifest_buf, services_guid, 16), 0);
	check("svsm-report-data", report_data_binds(nonce_len, msize), 0);
	dump_bundle(r, manifest_buf, msize);
	single_service(nonce_len);
	return 0;
}

int attest_log_head(struct veil_log_head *h, struct veil_log_report_section *sec)
{
	static const uint8_t log_guid[16] = VEIL_ATTEST_GUID_LOG;
	uint32_t n = nonce_of();
	struct svsm_call_out out;
	uint64_t rc;

	if (n > sizeof(sec->nonce))
		n = sizeof(sec->nonce);
	memset(&call_buf, 0, sizeof(call_buf));
	call_buf.report = (struct svsm_loc){ (uint64_t)report_buf, sizeof(report_buf), 0 };
	call_buf.nonce = (struct svsm_loc){ (uint64_t)nonce_buf, n, 0 };
	call_buf.manifest = (struct svsm_loc){ (uint64_t)manifest_buf, sizeof(manifest_buf), 0 };
	memcpy(call_buf.service_guid, log_guid, 16);
	call_buf.service_manifest_version = 1;
	rc = svsm_call(this_cpu()->caa, SVSM_ATTEST_PROTOCOL, SVSM_ATTEST_SINGLE_SERVICE,
		       (uint64_t)&call_buf, 0, 0, 0, &out);
	if (rc != SVSM_SUCCESS || out.rcx != sizeof(*h)) {
		kprintf("attest: the log's attestation failed: %lx\n", rc);
		return -1;
	}
	memcpy(h, manifest_buf, sizeof(*h));
	memset(sec, 0, sizeof(*sec));
	sec->nonce_len = n;
	memcpy(sec->nonce, nonce_buf, n);
	memcpy(sec->report, report_buf, SNP_REPORT_SIZE);
	return 0;
}

/* The monitor's VMPCK0 survives the OS's attempts with a zero key. */
static int attack_vmpck0_then_svsm(void)
{
	struct svsm_call_out out;
	uint64_t rc;

	attack_vmpck0();
	rc = svsm_attest(SVSM_ATTEST_SERVICES, nonce_of(), sizeof(manifest_buf), &out);
	check("svsm-after-vmpck0-attack", rc == SVSM_SUCCESS, rc);
	return 0;
}

extern char __text_start[], __rodata_start[];

/* One ATTEST_SERVICES call after `change` edited the call structure. */
static uint64_t svsm_attest_with(void (*change)(void), uint64_t call_gpa)
{
	struct svsm_call_out out;

	memset(&call_buf, 0, sizeof(call_buf));
	call_buf.report = (struct svsm_loc){ (uint64_t)report_buf, sizeof(report_buf), 0 };
	call_buf.nonce = (struct svsm_loc){ (uint64_t)nonce_buf, 64, 0 };
	call_buf.manifest = (struct svsm_loc){ (uint64_t)manifest_buf, sizeof(manifest_buf), 0 };
	if (change)
		change();
	return svsm_call(this_cpu()->caa, SVSM_ATTEST_PROTOCOL, SVSM_ATTEST_SERVICES,
			 call_gpa ? call_gpa : (uint64_t)&call_buf, 0, 0, 0, &out);
}

static uint64_t monitor_gpa(void)
{
	uint64_t gpa = 0, len;

	mem_range_of(VEIL_MEM_MONITOR, &gpa, &len);
	return gpa + PAGE_SIZE;
}

static void report_in_monitor(void)
{
	call_buf.report.gpa = monitor_gpa();
}
static void report_in_text(void) /* locked kernel text: the OS may not write it */
{
	call_buf.report.gpa = (uint64_t)__text_start;
}
static void manifest_in_rodata(void)
{
	call_buf.manifest.gpa = (uint64_t)__rodata_start;
}
static void report_beyond(void)
{
	call_buf.report.gpa = boot.mem_size - 0x100;
}
static void nonce_in_monitor(void)
{
	call_buf.nonce.gpa = monitor_gpa();
}
static void nonce_too_long(void)
{
	call_buf.nonce.size = VEIL_ATTEST_MAX_NONCE + 1;
}
static void nonce_empty(void)
{
	call_buf.nonce.size = 0;
}
static void reserved_set(void)
{
	call_buf.manifest.reserved = 1;
}
static void report_too_small(void)
{
	call_buf.report.size = SNP_REPORT_SIZE - 1;
}

/* The monitor reads and writes only buffers the OS itself may read and write. */
static int attack_svsm_buffers(void)
{
	static const struct {
		const char *name;
		void (*change)(void);
		uint64_t expect;
	} cases[] = {
		{ "attack-attest-report-monitor", report_in_monitor, SVSM_ERR_INVALID_ADDRESS },
		{ "attack-attest-report-text", report_in_text, SVSM_ERR_INVALID_ADDRESS },
		{ "attack-attest-manifest-rodata", manifest_in_rodata, SVSM_ERR_INVALID_ADDRESS },
		{ "attack-attest-report-beyond", report_beyond, SVSM_ERR_INVALID_ADDRESS },
		{ "attack-attest-nonce-monitor", nonce_in_monitor, SVSM_ERR_INVALID_ADDRESS },
		{ "attack-attest-nonce-too-long", nonce_too_long, SVSM_ERR_INVALID_PARAMETER },
		{ "attack-attest-nonce-empty", nonce_empty, SVSM_ERR_INVALID_PARAMETER },
		{ "attack-attest-reserved", reserved_set, SVSM_ERR_INVALID_PARAMETER },
		{ "attack-attest-report-small", report_too_small, SVSM_ERR_INVALID_PARAMETER },
	};
	uint8_t before[32];
	uint64_t rc;
	unsigned i;

	nonce_of();
	memcpy(before, __text_start, sizeof(before));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		rc = svsm_attest_with(cases[i].change, 0);
		check(cases[i].name, rc == cases[i].expect, rc);
	}
	check("attest-text-unchanged", !memcmp(before, __text_start, sizeof(before)), 0);
	rc = svsm_attest_with(NULL, monitor_gpa());
	check("attack-attest-call-monitor", rc == SVSM_ERR_INVALID_ADDRESS, rc);
	rc = svsm_attest_with(NULL, (uint64_t)&call_buf + 1);
	check("attack-attest-call-misaligned", rc == SVSM_ERR_INVALID_ADDRESS, rc);
	rc = svsm_call(this_cpu()->caa, SVSM_ATTEST_PROTOCOL, 7, (uint64_t)&call_buf, 0, 0, 0, 0);
	check("attest-unknown-call", rc == SVSM_ERR_UNSUPPORTED_CALL, rc);
	rc = svsm_attest_with(NULL, 0);
	check("attest-after-refusals", rc == SVSM_SUCCESS, rc);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(void);
} scenarios[] = {
	{ "attack-attest-svsm-buffers", attack_svsm_buffers },
	{ "attest-direct", attest_direct },
	{ "attest-svsm", attest_svsm },
	{ "attack-attest-vmpck0", attack_vmpck0_then_svsm },
	{ "attack-attest-vmpl0", attack_vmpl0 },
	{ "attack-attest-replay", attack_replay },
};

int attest_run_test(const char *name)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(scenarios); i++)
		if (!strncmp(scenarios[i].name, name, 64))
			return scenarios[i].run();
	return TEST_UNKNOWN;
}

void attest_list_tests(void)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(scenarios); i++)
		kprintf("test %s\n", scenarios[i].name);
}
