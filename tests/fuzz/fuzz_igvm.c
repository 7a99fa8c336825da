/* SPDX-License-Identifier: MIT */
/*
 * fuzz_igvm - the IGVM reader and SNP launch walk (backends/emu/launch/igvm.c) that
 * veil-igvm and `veil-emu run --igvm` run on untrusted files. Each input is
 * read as it is and once more with its header checksum made right (so the
 * fuzzer gets past the CRC into the headers). Invariants: no crash, no
 * sanitizer report; an accepted file yields pages that are page aligned,
 * whose data lies inside the file, and the same digest twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igvm.h"
#include "measure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct walk {
	const struct igvm_file *f;
	struct snp_measure ms;
	unsigned pages;
};

static void invariant(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_igvm: invariant violated: %s\n", what);
		abort();
	}
}

static int page(void *ctx, const struct igvm_launch_page *pg)
{
	struct walk *w = ctx;

	invariant(!(pg->gpa & 0xFFF), "page gpa aligned");
	static const uint8_t zeros[4096];
	bool in_file = pg->data >= w->f->buf && pg->data + 4096 <= w->f->buf + w->f->len;

	/* Data is the file's, or the walk's page of zeros (PAGE_DATA without
	 * file data), or none (parameter pages). */
	invariant(!pg->data || in_file || !memcmp(pg->data, zeros, 4096),
		  "page data inside the file or zero");
	invariant(pg->data || pg->snp_type != SNP_PAGE_NORMAL, "a NORMAL page has contents");
	snp_measure_page(&w->ms, pg->gpa, pg->snp_type, pg->data, false, 0, 0, 0);
	return ++w->pages > 100000; /* bound the work per input */
}

static void one(const uint8_t *buf, size_t len)
{
	struct igvm_file f;
	struct igvm_params p;
	struct walk a = { .f = &f }, b = { .f = &f };
	char err[256];
	int ra, rb;

	if (igvm_open(&f, buf, len, err, sizeof(err))) {
		invariant(err[0] != 0 && strchr(err, '\n') == NULL, "one-line error");
		return;
	}
	(void)igvm_policy(&f);
	igvm_params_of(&f, 0, &p);
	snp_measure_init(&a.ms);
	snp_measure_init(&b.ms);
	ra = igvm_walk_launch(&f, page, &a, err, sizeof(err));
	rb = igvm_walk_launch(&f, page, &b, err, sizeof(err));
	invariant(ra == rb && !memcmp(a.ms.digest, b.ms.digest, 48), "deterministic digest");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	uint32_t off, hsize, crc;

	one(data, size);
	if (size < 24 || !(copy = malloc(size)))
		return 0;
	memcpy(copy, data, size);
	memcpy(&off, copy + 8, 4);
	memcpy(&hsize, copy + 12, 4);
	if (off >= 24 && (uint64_t)off + hsize <= size) {
		crc = igvm_checksum(copy, (size_t)off + hsize);
		memcpy(copy + 20, &crc, 4);
		one(copy, size);
	}
	free(copy);
	return 0;
}
