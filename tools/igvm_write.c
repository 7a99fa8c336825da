/* SPDX-License-Identifier: MIT */
/* igvm_write.c - veil-igvm's IGVM writer: headers in order, then 4 KiB-aligned
 * data blocks, the fixed header's CRC-32 over both header parts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igvm_tool.h"

int igvm_w_add(struct igvm_writer *w, uint32_t type, const void *c, uint32_t len,
	       const uint8_t *data, unsigned ref_off)
{
	if (w->nh == w->caph) {
		w->caph = w->caph ? 2 * w->caph : 256;
		if (!(w->h = realloc(w->h, w->caph * sizeof(*w->h))))
			return -1;
	}
	if (data && w->nd == w->capd) {
		w->capd = w->capd ? 2 * w->capd : 256;
		if (!(w->d = realloc(w->d, w->capd * sizeof(*w->d))))
			return -1;
	}
	struct igvm_whdr *h = &w->h[w->nh++];

	h->type = type;
	h->len = len;
	memset(h->content, 0, sizeof(h->content));
	memcpy(h->content, c, len);
	h->data = data ? (int)w->nd : -1;
	h->ref_off = ref_off;
	if (data)
		w->d[w->nd++] = data;
	return 0;
}

/* Fixed header, variable headers, then 4 KiB-aligned data blocks. */
uint8_t *igvm_w_serialize(const struct igvm_writer *w, size_t *out_len)
{
	size_t hsize = 0, base, len, off = 24;
	struct igvm_fixed_header fh = { .magic = IGVM_MAGIC,
					.format_version = IGVM_FORMAT_VERSION,
					.variable_header_offset = 24 };
	uint8_t *buf;

	for (size_t i = 0; i < w->nh; i++)
		hsize += 8 + ((w->h[i].len + 7) & ~7u);
	base = (24 + hsize + 4095) & ~(size_t)4095;
	len = base + w->nd * 4096;
	if (len > UINT32_MAX || !(buf = calloc(1, len)))
		return NULL;
	for (size_t i = 0; i < w->nh; i++) {
		const struct igvm_whdr *h = &w->h[i];
		struct igvm_vhs_header vh = { h->type, h->len };

		memcpy(buf + off, &vh, 8);
		memcpy(buf + off + 8, h->content, h->len);
		if (h->data >= 0) {
			uint32_t fo = (uint32_t)(base + (size_t)h->data * 4096);

			memcpy(buf + off + 8 + h->ref_off, &fo, 4);
		}
		off += 8 + ((h->len + 7) & ~7u);
	}
	for (size_t i = 0; i < w->nd; i++)
		memcpy(buf + base + i * 4096, w->d[i], 4096);
	fh.variable_header_size = (uint32_t)hsize;
	fh.total_file_size = (uint32_t)len;
	memcpy(buf, &fh, sizeof(fh));
	fh.checksum = igvm_checksum(buf, 24 + hsize);
	memcpy(buf, &fh, sizeof(fh));
	*out_len = len;
	return buf;
}

bool igvm_page_is_zero(const uint8_t *p)
{
	for (unsigned i = 0; i < 4096; i++)
		if (p[i])
			return false;
	return true;
}

int igvm_write_out(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return igvm_fail(1, "cannot create '%s': %s", path, strerror(errno));
	size_t n = fwrite(buf, 1, len, f);

	if (fclose(f) | (n != len)) {
		remove(path);
		return igvm_fail(1, "writing '%s' failed: %s", path, strerror(errno));
	}
	return 0;
}
