/* SPDX-License-Identifier: MIT */
/*
 * trace_fmt.c - reading trace records and naming their types, protocols and
 * calls, shared by veil-emu (replay checks) and veil-trace (describing them is
 * trace_desc.c). Input may be hostile: every length is checked before it is
 * used.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <veil/abi.h>

#include "emu.h"
#include "trace.h"

static const char *const type_names[TR_NR_TYPES] = {
	[TR_INSN] = "insn",	      [TR_VMGEXIT] = "vmgexit", [TR_VMGEXIT_RET] = "vmgexit-ret",
	[TR_SWITCH] = "switch",	      [TR_RMP] = "rmp",		[TR_RMPADJUST] = "rmpadjust",
	[TR_PVALIDATE] = "pvalidate", [TR_VC] = "vc",		[TR_NPF] = "npf",
	[TR_EXCEPTION] = "exception", [TR_MCALL] = "mcall",	[TR_MCALL_RET] = "mcall-ret",
	[TR_MFAULT] = "mfault",	      [TR_CONSOLE] = "console", [TR_END] = "end",
	[TR_MEVENT] = "mevent",
};

static const size_t payload_min[TR_NR_TYPES] = {
	[TR_INSN] = sizeof(struct trace_insn),
	[TR_VMGEXIT] = sizeof(struct trace_vmgexit),
	[TR_VMGEXIT_RET] = sizeof(struct trace_vmgexit_ret),
	[TR_SWITCH] = sizeof(struct trace_switch),
	[TR_RMP] = sizeof(struct trace_rmp),
	[TR_RMPADJUST] = sizeof(struct trace_rmpadjust),
	[TR_PVALIDATE] = sizeof(struct trace_pvalidate),
	[TR_VC] = sizeof(struct trace_exception),
	[TR_NPF] = sizeof(struct trace_npf),
	[TR_EXCEPTION] = sizeof(struct trace_exception),
	[TR_MCALL] = TRACE_MON_V1_SIZE,
	[TR_MCALL_RET] = TRACE_MON_V1_SIZE,
	[TR_MFAULT] = TRACE_MON_V1_SIZE,
	[TR_CONSOLE] = sizeof(struct trace_console),
	[TR_END] = sizeof(struct trace_end),
	[TR_MEVENT] = TRACE_MON_V1_SIZE,
};

const char *trace_type_name(unsigned type)
{
	return type < TR_NR_TYPES && type_names[type] ? type_names[type] : "unknown";
}

int trace_type_from_name(const char *name)
{
	unsigned i;

	for (i = 1; i < TR_NR_TYPES; i++)
		if (!strcmp(name, type_names[i]))
			return i;
	return -1;
}

size_t trace_payload_min(unsigned type)
{
	return type < TR_NR_TYPES ? payload_min[type] : 0;
}

/* ---- header and record checks ------------------------------------------------ */

struct emu_cursor {
	const uint8_t *p, *end;
	bool bad;
};

static void take(struct emu_cursor *c, void *out, size_t n)
{
	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = true;
		memset(out, 0, n);
		return;
	}
	memcpy(out, c->p, n);
	c->p += n;
}

static struct trace_str take_str(struct emu_cursor *c)
{
	struct trace_str s = { "", 0 };
	uint16_t n;

	take(c, &n, 2);
	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = true;
		return s;
	}
	s.p = (const char *)c->p;
	s.len = n;
	c->p += n;
	return s;
}

int trace_parse_header(const uint8_t *p, size_t len, struct trace_header *h, char *err,
		       size_t errlen)
{
	const struct trace_file_hdr *fh = (const void *)p;
	struct emu_cursor c;
	uint16_t n;
	unsigned i;

	memset(h, 0, sizeof(*h));
	if (len < TRACE_MAGIC_LEN || memcmp(p, TRACE_MAGIC, TRACE_MAGIC_LEN)) {
		snprintf(err, errlen, "not a veil-emu trace (bad magic)");
		return -1;
	}
	if (len < sizeof(*fh)) {
		snprintf(err, errlen, "truncated trace header (%zu bytes)", len);
		return -1;
	}
	if (fh->version < TRACE_VERSION_MIN || fh->version > TRACE_VERSION) {
		snprintf(err, errlen,
			 "unsupported trace version %u (this program reads versions %u-%u)",
			 fh->version, TRACE_VERSION_MIN, TRACE_VERSION);
		return -1;
	}
	if (fh->fixed_size != sizeof(*fh) || fh->hdr_size < sizeof(*fh) || fh->hdr_size % 8) {
		snprintf(err, errlen, "corrupt trace header (sizes %u/%u)", fh->fixed_size,
			 fh->hdr_size);
		return -1;
	}
	if (fh->hdr_size > len) {
		snprintf(err, errlen, "truncated trace header (%zu of %u bytes)", len,
			 fh->hdr_size);
		return -1;
	}
	h->fh = fh;
	c = (struct emu_cursor){ p + sizeof(*fh), p + fh->hdr_size, false };
	h->cwd = take_str(&c);
	take(&c, &n, 2);
	if (n > TRACE_MAX_ARGS)
		c.bad = true;
	for (i = 0; !c.bad && i < n; i++)
		h->argv[h->argc++] = take_str(&c);
	take(&c, &n, 2);
	if (n > TRACE_MAX_IMAGES)
		c.bad = true;
	for (i = 0; !c.bad && i < n; i++) {
		struct trace_image *im = &h->images[h->nimages++];

		im->path = take_str(&c);
		take(&c, &im->size, 8);
		take(&c, im->sha256, 32);
	}
	if (c.bad || fh->mode > TRACE_MODE_RUN) {
		snprintf(err, errlen, "corrupt trace header");
		return -1;
	}
	return 0;
}

int trace_check_record(const uint8_t *p, size_t len, char *err, size_t errlen)
{
	struct trace_rec r;
	size_t regs, min;

	if (len < sizeof(r)) {
		snprintf(err, errlen, "truncated record header (%zu bytes left)", len);
		return -1;
	}
	memcpy(&r, p, sizeof(r));
	if (r.size < sizeof(r) || r.size % 8) {
		snprintf(err, errlen, "corrupt record (size %u)", r.size);
		return -1;
	}
	if (r.size > len) {
		snprintf(err, errlen, "truncated record (%u bytes, %zu left)", r.size, len);
		return -1;
	}
	regs = (r.flags & TRACE_RF_REGS) ? sizeof(struct trace_regs) : 0;
	min = trace_payload_min(r.type);
	if (!min || r.size < sizeof(r) + min + regs) {
		snprintf(err, errlen, "corrupt record (type %u, size %u)", r.type, r.size);
		return -1;
	}
	if (r.type == TR_CONSOLE) {
		const struct trace_console *c = (const void *)(p + sizeof(r));

		if (sizeof(r) + sizeof(*c) + c->len + regs > r.size) {
			snprintf(err, errlen, "corrupt console record");
			return -1;
		}
	}
	return 0;
}

const struct trace_regs *trace_rec_regs(const struct trace_rec *r)
{
	if (!(r->flags & TRACE_RF_REGS) || r->size < sizeof(*r) + sizeof(struct trace_regs))
		return NULL;
	return (const void *)((const uint8_t *)r + r->size - sizeof(struct trace_regs));
}

/* ---- SVSM protocols and calls (SVSM spec 58019, chapter 7; Veil's abi.h) ---- */

const char *trace_protocol_name(uint64_t protocol)
{
	switch (protocol) {
	case SVSM_CORE_PROTOCOL:
		return "core";
	case SVSM_ATTEST_PROTOCOL:
		return "attestation";
	case VEIL_PROTOCOL_KCI:
		return "kci";
	case VEIL_PROTOCOL_MODULE:
		return "module";
	case VEIL_PROTOCOL_LOG:
		return "log";
	case VEIL_PROTOCOL_ENCLAVE:
		return "enclave";
	case VEIL_PROTOCOL_TEST:
		return "test";
	default:
		return "unknown";
	}
}

static const char *call_of(uint64_t protocol, uint64_t call)
{
	static const char *const core[] = { "REMAP_CA",	      "PVALIDATE",     "CREATE_VCPU",
					    "DELETE_VCPU",    "DEPOSIT_MEM",   "WITHDRAW_MEM",
					    "QUERY_PROTOCOL", "CONFIGURE_VTOM" };
	static const char *const attest[] = { "ATTEST_SERVICES", "ATTEST_SINGLE_SERVICE" };
	static const char *const kci[] = { "LOCK", "STATUS" };
	static const char *const mod[] = { "LOAD", "UNLOAD" };
	static const char *const log[] = { "APPEND", "HEAD", "READ" };
	static const char *const test[] = { "ECHO" };
	const char *const *t = NULL;
	size_t n = 0;

#define TABLE(x) (t = (x), n = sizeof(x) / sizeof((x)[0]))
	switch (protocol) {
	case SVSM_CORE_PROTOCOL:
		TABLE(core);
		break;
	case SVSM_ATTEST_PROTOCOL:
		TABLE(attest);
		break;
	case VEIL_PROTOCOL_KCI:
		TABLE(kci);
		break;
	case VEIL_PROTOCOL_MODULE:
		TABLE(mod);
		break;
	case VEIL_PROTOCOL_LOG:
		TABLE(log);
		break;
	case VEIL_PROTOCOL_TEST:
		TABLE(test);
		break;
	}
#undef TABLE
	return call < n ? t[call] : NULL;
}

void trace_call_name(uint64_t protocol, uint64_t call, char *buf, size_t len)
{
	const char *c = call_of(protocol, call);

	if (c)
		snprintf(buf, len, "%s %s", trace_protocol_name(protocol), c);
	else
		snprintf(buf, len, "%s call %" PRIu64, trace_protocol_name(protocol), call);
}
