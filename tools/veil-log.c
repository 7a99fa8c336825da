/* SPDX-License-Identifier: MIT */
/*
 * veil-log: check a dumped secure log end to end (docs/log-format.md).
 *
 *   veil-log verify FILE     chain, sequence numbers, counts and head
 *   veil-log show FILE       list the records
 *
 * It recomputes every SHA-256 chain value itself and names the first record
 * that does not fit: truncation, reordering, insertion and modification all
 * break either the sequence, the chain or the head in the file's header.
 */
#include <bearssl/bearssl_hash.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <veil/abi.h>
#include <veil/logdump.h>

static const char usage[] =
	"usage: veil-log verify FILE   check a dumped log end to end (exit 0 good, 1 bad)\n"
	"       veil-log show FILE     print the records\n"
	"FILE is a dump in the format of docs/log-format.md (written by the test OS\n"
	"through `veil-emu run --com2 FILE`).\n";

struct dump {
	uint8_t *buf;
	size_t len;
	struct veil_log_dump_hdr hdr;
};

static int load(const char *path, struct dump *d)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f) {
		fprintf(stderr, "veil-log: cannot open '%s': %s\n", path, strerror(errno));
		return 2;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(d->buf = malloc(n ? (size_t)n : 1)) || fread(d->buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "veil-log: cannot read '%s'\n", path);
		fclose(f);
		return 2;
	}
	fclose(f);
	d->len = (size_t)n;
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

static void hex(const uint8_t *h, char out[65])
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

/* Walk the records; `show` prints them. Returns 0 if the whole log verifies. */
static int walk(struct dump *d, bool show)
{
	uint8_t prev[32] = { 0 }, h[32];
	size_t off = sizeof(d->hdr);
	uint64_t i;
	char a[65], b[65];

	for (i = 0; off < d->len && i < d->hdr.count; i++) {
		struct veil_log_record r;
		br_sha256_context ctx;
		size_t size;

		if (d->len - off < sizeof(r)) {
			printf("record %" PRIu64 " at byte %zu: truncated header\n", i, off);
			return 1;
		}
		memcpy(&r, d->buf + off, sizeof(r));
		size = sizeof(r) + ((r.len + 7u) & ~7u);
		if (r.len == 0 || r.len > VEIL_LOG_MAX_RECORD || d->len - off < size) {
			printf("record %" PRIu64 " at byte %zu: bad or truncated length %u\n", i,
			       off, r.len);
			return 1;
		}
		if (r.seq != i) {
			printf("record %" PRIu64 " at byte %zu: sequence number %" PRIu64
			       ", expected %" PRIu64 " (a record was removed, inserted or moved)\n",
			       i, off, r.seq, i);
			return 1;
		}
		br_sha256_init(&ctx);
		br_sha256_update(&ctx, prev, 32);
		br_sha256_update(&ctx, &r, offsetof(struct veil_log_record, hash));
		br_sha256_update(&ctx, d->buf + off + sizeof(r), r.len);
		br_sha256_out(&ctx, h);
		if (memcmp(h, r.hash, 32)) {
			printf("record %" PRIu64 " at byte %zu: hash chain broken (record or its "
			       "predecessor modified)\n",
			       i, off);
			return 1;
		}
		if (show) {
			printf("%6" PRIu64 "  vcpu %u  tsc %" PRIu64 "  %u bytes  ", r.seq, r.vcpu,
			       r.tsc, r.len);
			for (uint32_t k = 0; k < r.len && k < 64; k++) {
				int ch = d->buf[off + sizeof(r) + k];
				putchar(isprint(ch) ? ch : '.');
			}
			putchar('\n');
		}
		memcpy(prev, h, 32);
		off += size;
	}
	if (i != d->hdr.count) {
		printf("truncated: the header says %" PRIu64 " records, the file holds %" PRIu64
		       "\n",
		       d->hdr.count, i);
		return 1;
	}
	if (memcmp(prev, d->hdr.head, 32)) {
		hex(prev, a);
		hex(d->hdr.head, b);
		printf("head mismatch: chain ends at %s, header says %s\n", a, b);
		return 1;
	}
	if (d->hdr.sections == 0 && off != d->len) {
		printf("trailing data after record %" PRIu64
		       " at byte %zu: %zu bytes the header does "
		       "not account for (a record hidden or appended)\n",
		       i ? i - 1 : 0, off, d->len - off);
		return 1;
	}
	hex(prev, a);
	printf("ok: %" PRIu64 " records, %" PRIu64 " dropped, head %s\n", d->hdr.count,
	       d->hdr.drops, a);
	return 0;
}

int main(int argc, char **argv)
{
	struct dump d = { 0 };
	int rc;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc != 3 || (strcmp(argv[1], "verify") && strcmp(argv[1], "show"))) {
		fputs(usage, stderr);
		return 2;
	}
	rc = load(argv[2], &d);
	if (!rc)
		rc = walk(&d, !strcmp(argv[1], "show"));
	free(d.buf);
	return rc;
}
