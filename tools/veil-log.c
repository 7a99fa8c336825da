/* SPDX-License-Identifier: MIT */
/*
 * veil-log: check and print a dumped secure log (docs/log-format.md).
 *
 *   veil-log [--json] verify FILE     chain, sequence, origin, counts, head, layout
 *   veil-log [--json] show FILE       the header and the records
 *
 * It recomputes every SHA-256 chain value itself and names the first thing
 * that does not fit: truncation, reordering, insertion and modification all
 * break the sequence, the chain or the head in the file's header, and every
 * byte of the file must belong to the header, a record or a section. What the
 * chain cannot vouch for (the drop counter, the capacity, section contents)
 * is listed as unauthenticated rather than silently called "ok".
 */
#include <bearssl/bearssl_hash.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <veil/abi.h>
#include <veil/logdump.h>

#include "hostio.h"
#include "snp_verify.h"

static const char usage[] =
	"usage: veil-log [--json] verify FILE [--chain DIR [--nonce HEX]]\n"
	"       veil-log [--json] show FILE\n"
	"Check or print a secure log dump (docs/log-format.md), as the test OS writes it\n"
	"through `veil-emu run --com2 FILE`.\n"
	"\n"
	"Commands:\n"
	"  verify   recompute the hash chain from record 0 and check every sequence\n"
	"           number, record origin, the header's count, used bytes and head,\n"
	"           and that every byte of the file is a record or a section; prints\n"
	"           'ok: ...' (exit 0) or the first fault (exit 1), then what the\n"
	"           chain does not cover ('unauthenticated: ...')\n"
	"           With --chain DIR (ark.pem, ask.pem, vcek.pem: `veil-emu certs DIR`\n"
	"           or AMD's) the dump must carry the monitor's attestation report\n"
	"           (section type 1): a VMPL0 report signed through that chain whose\n"
	"           REPORT_DATA binds the header's count, drops, capacity, used and\n"
	"           head; --nonce HEX also requires the report to answer that nonce\n"
	"  show     print the header and every record (sequence, origin 'os' or\n"
	"           'monitor', vCPU, TSC, length, payload); stops at the first\n"
	"           record that does not verify (exit 1)\n"
	"\n"
	"Options:\n"
	"  --json       one JSON object on stdout instead of text\n"
	"  -h, --help   print this text and exit\n"
	"  --version    print the version and exit\n" HIO_HELP_EXIT;

#define RESERVE 1024 /* the monitor's own room beyond `capacity` (log-format.md) */

struct dump {
	uint8_t *buf;
	size_t len;
	struct veil_log_dump_hdr hdr;
	bool json;
	/* results of the walk */
	uint64_t n, by_origin[3];
	size_t end; /* first byte after the records */
	uint8_t chain[32];
	char fault[300];
	/* verify --chain: the attestation the dump must carry */
	const char *chain_dir;
	uint8_t nonce[64];
	size_t nonce_len;
	bool attested;
	uint8_t chip[4];
};

static void hex(const uint8_t *h, char out[65])
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

static void json_str(const uint8_t *p, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			printf("\\%c", p[i]);
		else if (p[i] < 0x20 || p[i] >= 0x7F)
			printf("\\u%04x", p[i]);
		else
			putchar(p[i]);
	}
	putchar('"');
}

static const char *origin_name(uint32_t o)
{
	return o == VEIL_LOG_ORIGIN_OS ? "os" : o == VEIL_LOG_ORIGIN_MONITOR ? "monitor" : "?";
}

static int load(const char *path, struct dump *d)
{
	char err[512];

	if (hio_read(path, 0, &d->buf, &d->len, err, sizeof(err))) {
		fprintf(stderr, "veil-log: %s\n", err);
		return 1;
	}
	if (d->len < sizeof(d->hdr) || memcmp(d->buf, VEIL_LOG_DUMP_MAGIC, 8)) {
		fprintf(stderr, "veil-log: '%s' is not a Veil log dump (bad magic)\n", path);
		return 1;
	}
	memcpy(&d->hdr, d->buf, sizeof(d->hdr));
	if (d->hdr.version != VEIL_LOG_DUMP_VERSION) {
		fprintf(stderr, "veil-log: '%s': dump version %u, this tool reads %u\n", path,
			d->hdr.version, VEIL_LOG_DUMP_VERSION);
		return 1;
	}
	return 0;
}

/* Record the first fault of record i at byte off; returns 1. */
static int fault(struct dump *d, uint64_t i, size_t off, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(d->fault, sizeof(d->fault), "record %" PRIu64 " at byte %zu: ", i, off);

	va_start(ap, fmt);
	vsnprintf(d->fault + n, sizeof(d->fault) - (size_t)n, fmt, ap);
	va_end(ap);
	return 1;
}

/* Check record i at off; on success its chain value is in h and *size set. */
static int check_record(struct dump *d, uint64_t i, size_t off, const uint8_t prev[32],
			uint8_t h[32], size_t *size)
{
	struct veil_log_record r;
	br_sha256_context ctx;

	if (d->len - off < sizeof(r))
		return fault(d, i, off, "truncated header");
	memcpy(&r, d->buf + off, sizeof(r));
	*size = sizeof(r) + ((r.len + 7u) & ~7u);
	if (r.len == 0 || r.len > VEIL_LOG_MAX_RECORD || d->len - off < *size)
		return fault(d, i, off, "bad or truncated length %u", r.len);
	if (r.seq != i)
		return fault(d, i, off,
			     "sequence number %" PRIu64 ", expected %" PRIu64
			     " (a record was removed, inserted or moved)",
			     r.seq, i);
	br_sha256_init(&ctx);
	br_sha256_update(&ctx, prev, 32);
	br_sha256_update(&ctx, &r, offsetof(struct veil_log_record, hash));
	br_sha256_update(&ctx, d->buf + off + sizeof(r), r.len);
	br_sha256_out(&ctx, h);
	if (memcmp(h, r.hash, 32))
		return fault(d, i, off, "hash chain broken (record or its predecessor modified)");
	/* Only after the chain holds: a valid chain with an unknown origin is
	 * a monitor bug, not tampering, but it must not pass either. */
	if (r.origin != VEIL_LOG_ORIGIN_OS && r.origin != VEIL_LOG_ORIGIN_MONITOR)
		return fault(d, i, off, "unknown origin %u", r.origin);
	if (r.reserved)
		return fault(d, i, off, "reserved field is %#x, not 0", r.reserved);
	for (size_t k = r.len; k < *size - sizeof(r); k++)
		if (d->buf[off + sizeof(r) + k])
			return fault(d, i, off, "padding byte %zu is not zero", k - r.len);
	d->by_origin[r.origin]++;
	return 0;
}

static void show_record(const struct dump *d, size_t off, bool first)
{
	struct veil_log_record r;
	const uint8_t *p = d->buf + off + sizeof(r);
	char h[65];

	memcpy(&r, d->buf + off, sizeof(r));
	if (d->json) {
		hex(r.hash, h);
		printf("%s{\"seq\":%" PRIu64 ",\"origin\":\"%s\",\"vcpu\":%u,\"tsc\":%" PRIu64
		       ",\"len\":%u,\"hash\":\"%s\",\"payload\":",
		       first ? "" : ",", r.seq, origin_name(r.origin), r.vcpu, r.tsc, r.len, h);
		json_str(p, r.len);
		putchar('}');
		return;
	}
	printf("%6" PRIu64 "  %-7s  vcpu %u  tsc %" PRIu64 "  %u bytes  ", r.seq,
	       origin_name(r.origin), r.vcpu, r.tsc, r.len);
	for (uint32_t k = 0; k < r.len; k++)
		putchar(isprint(p[k]) ? p[k] : '.');
	putchar('\n');
}

/* Walk the records (printing them for `show`); 0 if all of them verify. */
static int walk_records(struct dump *d, bool show)
{
	uint8_t prev[32] = { 0 }, h[32];
	size_t off = sizeof(d->hdr), size = 0;
	uint64_t i;

	for (i = 0; off < d->len && i < d->hdr.count; i++) {
		if (check_record(d, i, off, prev, h, &size))
			return 1;
		if (show)
			show_record(d, off, i == 0);
		memcpy(prev, h, 32);
		off += size;
	}
	d->n = i;
	d->end = off;
	memcpy(d->chain, prev, 32);
	if (i != d->hdr.count) {
		snprintf(d->fault, sizeof(d->fault),
			 "truncated: the header says %" PRIu64 " records, the file holds %" PRIu64,
			 d->hdr.count, i);
		return 1;
	}
	return 0;
}

/* Header fields the chain covers, and the layout after the records. */
static int check_rest(struct dump *d)
{
	char a[65], b[65];
	size_t off = d->end;

	if (memcmp(d->chain, d->hdr.head, 32)) {
		hex(d->chain, a);
		hex(d->hdr.head, b);
		snprintf(d->fault, sizeof(d->fault),
			 "head mismatch: chain ends at %s, header says %s", a, b);
		return 1;
	}
	if (d->hdr.used != d->end - sizeof(d->hdr)) {
		snprintf(d->fault, sizeof(d->fault),
			 "header says %" PRIu64 " bytes used, the records take %zu", d->hdr.used,
			 d->end - sizeof(d->hdr));
		return 1;
	}
	if (d->hdr.used > d->hdr.capacity + RESERVE) {
		snprintf(d->fault, sizeof(d->fault),
			 "header says %" PRIu64 " bytes used of a capacity of %" PRIu64,
			 d->hdr.used, d->hdr.capacity);
		return 1;
	}
	for (uint32_t s = 0; s < d->hdr.sections; s++) {
		struct veil_log_dump_section sec;

		if (d->len - off < sizeof(sec) ||
		    (memcpy(&sec, d->buf + off, sizeof(sec)),
		     d->len - off - sizeof(sec) < (((uint64_t)sec.len + 7) & ~7ULL))) {
			snprintf(d->fault, sizeof(d->fault),
				 "section %u at byte %zu: truncated (the header says %u sections)",
				 s, off, d->hdr.sections);
			return 1;
		}
		off += sizeof(sec) + (((uint64_t)sec.len + 7) & ~7ULL);
	}
	if (off != d->len) {
		snprintf(d->fault, sizeof(d->fault),
			 "trailing data after the last record or section at byte %zu: %zu bytes "
			 "the header does not account for (a record hidden or appended)",
			 off, d->len - off);
		return 1;
	}
	return 0;
}

/* The sections, listed as unauthenticated (this tool checks no report). */
static void list_sections(const struct dump *d)
{
	size_t off = d->end;

	for (uint32_t s = 0; s < d->hdr.sections; s++) {
		struct veil_log_dump_section sec;

		memcpy(&sec, d->buf + off, sizeof(sec));
		if (d->json)
			printf("%s{\"type\":%u,\"len\":%u}", s ? "," : "", sec.type, sec.len);
		else
			printf(", section %u (type %u, %u bytes)", s, sec.type, sec.len);
		off += sizeof(sec) + (((uint64_t)sec.len + 7) & ~7ULL);
	}
}

/* The one section a dump checked with --chain may have: the monitor's report. */
static int find_report(struct dump *d, struct veil_log_report_section *sec)
{
	struct veil_log_dump_section sh;

	if (d->hdr.sections != 1) {
		snprintf(d->fault, sizeof(d->fault),
			 "%u sections: an attested dump has exactly one, the attestation report "
			 "(its counters are otherwise unauthenticated)",
			 d->hdr.sections);
		return 1;
	}
	memcpy(&sh, d->buf + d->end, sizeof(sh));
	if (sh.type != VEIL_LOG_SECTION_REPORT || sh.len != sizeof(*sec)) {
		snprintf(d->fault, sizeof(d->fault),
			 "section 0 (type %u, %u bytes) is not an attestation report of this log",
			 sh.type, sh.len);
		return 1;
	}
	memcpy(sec, d->buf + d->end + sizeof(sh), sizeof(*sec));
	if (!sec->nonce_len || sec->nonce_len > sizeof(sec->nonce) || sec->reserved) {
		snprintf(d->fault, sizeof(d->fault), "the attestation section is malformed");
		return 1;
	}
	return 0;
}

/* The report vouches for exactly this header: REPORT_DATA = SHA-512(nonce ||
 * count, drops, capacity, used, head) (SVSM spec 58019, ATTEST_SINGLE_SERVICE). */
static int check_attestation(struct dump *d)
{
	struct veil_log_report_section sec;
	struct veil_log_head h = { .count = d->hdr.count,
				   .drops = d->hdr.drops,
				   .capacity = d->hdr.capacity,
				   .used = d->hdr.used };
	struct snp_report r;
	br_sha512_context sha;
	uint8_t rd[64];
	char err[256];
	int rc;

	if (find_report(d, &sec))
		return 1;
	memcpy(&r, sec.report, sizeof(r));
	rc = snp_verify_report(&r, d->chain_dir, err, sizeof(err));
	if (rc) {
		snprintf(d->fault, sizeof(d->fault), "attestation report: %s", err);
		return rc == SNP_VERIFY_NO_CHAIN ? VEIL_EXIT_USAGE : 1;
	}
	if (r.vmpl != 0) {
		snprintf(d->fault, sizeof(d->fault),
			 "the attestation report claims VMPL %u: not the monitor's", r.vmpl);
		return 1;
	}
	memcpy(h.head, d->hdr.head, 32);
	br_sha512_init(&sha);
	br_sha512_update(&sha, sec.nonce, sec.nonce_len);
	br_sha512_update(&sha, &h, sizeof(h));
	br_sha512_out(&sha, rd);
	if (memcmp(rd, r.report_data, 64)) {
		snprintf(d->fault, sizeof(d->fault),
			 "the attested head does not match this dump: count, drops, capacity, "
			 "used or head were changed");
		return 1;
	}
	if (d->nonce_len &&
	    (d->nonce_len != sec.nonce_len || memcmp(d->nonce, sec.nonce, d->nonce_len))) {
		snprintf(d->fault, sizeof(d->fault),
			 "the attestation answers another nonce (an older dump replayed?)");
		return 1;
	}
	d->attested = true;
	memcpy(d->chip, r.chip_id, 4);
	return 0;
}

static void print_header(const struct dump *d)
{
	char h[65];

	hex(d->hdr.head, h);
	if (d->json) {
		printf("\"header\":{\"version\":%u,\"count\":%" PRIu64 ",\"drops\":%" PRIu64
		       ",\"capacity\":%" PRIu64 ",\"used\":%" PRIu64
		       ",\"head\":\"%s\",\"sections\":%u}",
		       d->hdr.version, d->hdr.count, d->hdr.drops, d->hdr.capacity, d->hdr.used, h,
		       d->hdr.sections);
		return;
	}
	printf("dump version %u: %" PRIu64 " records, %" PRIu64 " dropped, %" PRIu64 " of %" PRIu64
	       " bytes used, %u sections\nhead %s\n",
	       d->hdr.version, d->hdr.count, d->hdr.drops, d->hdr.used, d->hdr.capacity,
	       d->hdr.sections, h);
}

static int cmd_verify(struct dump *d)
{
	int rc = walk_records(d, false) || check_rest(d);
	char h[65];

	if (!rc && d->chain_dir)
		rc = check_attestation(d);

	hex(d->chain, h);
	if (d->json) {
		printf("{\"ok\":%s,", rc ? "false" : "true");
		if (rc) {
			printf("\"error\":");
			json_str((const uint8_t *)d->fault, strlen(d->fault));
			printf("}\n");
			return 1;
		}
		if (d->attested) {
			printf("\"records\":%" PRIu64 ",\"os\":%" PRIu64 ",\"monitor\":%" PRIu64
			       ",\"head\":\"%s\",\"used\":%" PRIu64
			       ",\"attested\":{\"drops\":%" PRIu64 ",\"capacity\":%" PRIu64 "}}\n",
			       d->n, d->by_origin[VEIL_LOG_ORIGIN_OS],
			       d->by_origin[VEIL_LOG_ORIGIN_MONITOR], h, d->hdr.used, d->hdr.drops,
			       d->hdr.capacity);
			return 0;
		}
		printf("\"records\":%" PRIu64 ",\"os\":%" PRIu64 ",\"monitor\":%" PRIu64
		       ",\"head\":\"%s\",\"used\":%" PRIu64
		       ",\"unauthenticated\":{\"drops\":%" PRIu64 ",\"capacity\":%" PRIu64
		       ",\"sections\":[",
		       d->n, d->by_origin[VEIL_LOG_ORIGIN_OS],
		       d->by_origin[VEIL_LOG_ORIGIN_MONITOR], h, d->hdr.used, d->hdr.drops,
		       d->hdr.capacity);
		list_sections(d);
		printf("]}}\n");
		return 0;
	}
	if (rc) {
		printf("%s\n", d->fault);
		return rc;
	}
	printf("ok: %" PRIu64 " records (%" PRIu64 " from the OS, %" PRIu64
	       " from the monitor), %" PRIu64 " bytes, head %s\n",
	       d->n, d->by_origin[VEIL_LOG_ORIGIN_OS], d->by_origin[VEIL_LOG_ORIGIN_MONITOR],
	       d->hdr.used, h);
	if (d->attested) {
		printf("attested: count, drops %" PRIu64 ", capacity %" PRIu64
		       " and head, by a VMPL0 report of chip %02x%02x%02x%02x... (chain %s)\n",
		       d->hdr.drops, d->hdr.capacity, d->chip[0], d->chip[1], d->chip[2],
		       d->chip[3], d->chain_dir);
		return 0;
	}
	printf("unauthenticated: drops %" PRIu64 ", capacity %" PRIu64, d->hdr.drops,
	       d->hdr.capacity);
	list_sections(d);
	if (d->hdr.sections)
		printf(" (verify --chain DIR checks them against the attestation report)\n");
	else
		printf(" (as the OS copied them from HEAD; no attestation report in this dump "
		       "binds them)\n");
	return 0;
}

static int cmd_show(struct dump *d)
{
	int rc;

	if (d->json) {
		putchar('{');
		print_header(d);
		printf(",\"records\":[");
	} else {
		print_header(d);
	}
	rc = walk_records(d, true) || check_rest(d);
	if (d->json) {
		printf("],\"ok\":%s", rc ? "false" : "true");
		if (rc) {
			printf(",\"error\":");
			json_str((const uint8_t *)d->fault, strlen(d->fault));
		}
		printf("}\n");
	} else if (rc) {
		printf("%s\n", d->fault);
	}
	return rc;
}

static int parse_nonce(const char *s, struct dump *d)
{
	size_t n = strlen(s), i;

	if (!n || n % 2 || n / 2 > sizeof(d->nonce))
		return -1;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned v;

		sscanf(s + 2 * i, "%2x", &v);
		d->nonce[i] = (uint8_t)v;
	}
	d->nonce_len = n / 2;
	return 0;
}

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "veil-log: ");
	fprintf(stderr, msg, arg);
	fprintf(stderr, " (see veil-log --help)\n");
	return VEIL_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct dump d = { 0 };
	const char *pos[2];
	int n = 0, rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (hio_info_option(a, "veil-log", usage))
			return 0;
		if (!strcmp(a, "--chain") || !strcmp(a, "--nonce")) {
			if (i + 1 == argc)
				return usage_error("%s needs a value", a);
			if (a[2] == 'c') {
				d.chain_dir = argv[++i];
			} else if (parse_nonce(argv[++i], &d)) {
				return usage_error("--nonce needs 2 to 128 hex digits, got '%s'",
						   argv[i]);
			}
			continue;
		}
		if (!strcmp(a, "--json"))
			d.json = true;
		else if (a[0] == '-' && a[1])
			return usage_error("unknown option '%s'", a);
		else if (n == 2)
			return usage_error("too many arguments ('%s')", a);
		else
			pos[n++] = a;
	}
	if (!n)
		return usage_error("%s", "missing command");
	if (strcmp(pos[0], "verify") && strcmp(pos[0], "show"))
		return usage_error("unknown command '%s'", pos[0]);
	if (n != 2)
		return usage_error("%s needs FILE", pos[0]);
	if ((d.chain_dir || d.nonce_len) && strcmp(pos[0], "verify"))
		return usage_error("%s", "--chain and --nonce go with verify");
	if (d.nonce_len && !d.chain_dir)
		return usage_error("%s", "--nonce needs --chain");
	rc = load(pos[1], &d);
	if (!rc)
		rc = !strcmp(pos[0], "show") ? cmd_show(&d) : cmd_verify(&d);
	fflush(stdout);
	if (ferror(stdout)) {
		fprintf(stderr, "veil-log: writing the output failed\n");
		rc = 1;
	}
	free(d.buf);
	return rc;
}
