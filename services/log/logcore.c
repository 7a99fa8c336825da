/* SPDX-License-Identifier: MIT */
/*
 * logcore.c - the secure log's record keeping (logcore.h). The store is
 * append-only: when full, an append fails with VEIL_LOG_ERR_FULL and a drop
 * counter grows; nothing is ever overwritten. Each record carries the
 * SHA-256 chain value over the previous one, so a dump can be verified end
 * to end (veil-log verify) and the head bound into an attestation report.
 */
#include <bearssl/bearssl_hash.h>
#include <veil/lib.h>

#include "logcore.h"

#define HDR sizeof(struct veil_log_record)

static u64 padded(u64 len)
{
	return (len + 7) & ~7ULL;
}

static void chain(const u8 prev[32], const struct veil_log_record *r, const void *payload,
		  u8 out[32])
{
	br_sha256_context ctx;

	br_sha256_init(&ctx);
	br_sha256_update(&ctx, prev, 32);
	br_sha256_update(&ctx, r, offsetof(struct veil_log_record, hash));
	br_sha256_update(&ctx, payload, r->len);
	br_sha256_out(&ctx, out);
}

u64 veil_logcore_append(struct veil_logcore *lc, const void *src, u32 len,
			const struct veil_logcore_stamp *st, u64 *seq)
{
	/* The last VEIL_LOGCORE_RESERVE bytes take only the monitor's own
	 * records: an OS that fills the log first cannot keep a violation out. */
	u64 room = lc->capacity - lc->used;
	struct veil_log_record r;
	u8 *dst;

	_Static_assert(sizeof(struct veil_log_record) == 64, "record layout (abi.h)");
	if (st->origin != VEIL_LOG_ORIGIN_MONITOR)
		room = room > VEIL_LOGCORE_RESERVE ? room - VEIL_LOGCORE_RESERVE : 0;
	if (!len || len > VEIL_LOG_MAX_RECORD)
		return SVSM_ERR_INVALID_PARAMETER;
	if (HDR + padded(len) > room) {
		lc->drops++;
		return VEIL_LOG_ERR_FULL;
	}
	dst = lc->store + lc->used;
	r.seq = lc->count;
	r.tsc = st->tsc;
	r.vcpu = st->vcpu;
	r.len = len;
	/* Hashed with the rest: who wrote a record is part of what it says. */
	r.origin = st->origin;
	r.reserved = 0;
	/* Copy once, then hash and keep the copy: nobody can change what was
	 * hashed. */
	veil_memcpy(dst + HDR, src, r.len);
	veil_memset(dst + HDR + r.len, 0, padded(r.len) - r.len);
	chain(lc->head, &r, dst + HDR, r.hash);
	veil_memcpy(dst, &r, HDR);
	veil_memcpy(lc->head, r.hash, 32);
	lc->used += HDR + padded(r.len);
	lc->count++;
	*seq = r.seq;
	return SVSM_SUCCESS;
}

void veil_logcore_head(const struct veil_logcore *lc, struct veil_log_head *h)
{
	veil_memset(h, 0, sizeof(*h));
	h->count = lc->count;
	h->drops = lc->drops;
	h->capacity = lc->capacity - VEIL_LOGCORE_RESERVE; /* what OS records may use */
	h->used = lc->used;
	veil_memcpy(h->head, lc->head, 32);
}

/* Byte offset of record `seq`: records are variable-sized, so walk, from
 * where the last READ ended when that helps. */
static bool record_offset(const struct veil_logcore *lc, u64 seq, u64 *off)
{
	u64 o = 0, i = 0;

	if (seq > lc->count)
		return false;
	if (lc->cur_seq <= seq && lc->cur_seq <= lc->count) {
		i = lc->cur_seq;
		o = lc->cur_off;
	}
	for (; i < seq; i++) {
		const struct veil_log_record *r = (const void *)(lc->store + o);

		o += HDR + padded(r->len);
	}
	*off = o;
	return true;
}

u64 veil_logcore_read(struct veil_logcore *lc, u64 seq, u8 *dst, u64 room, u64 *n, u64 *bytes,
		      u64 *next)
{
	u64 off;

	*n = *bytes = 0;
	if (!record_offset(lc, seq, &off))
		return VEIL_LOG_ERR_NO_SEQ;
	while (seq < lc->count) {
		const struct veil_log_record *r = (const void *)(lc->store + off);
		u64 size = HDR + padded(r->len);

		if (size > room - *bytes)
			break;
		veil_memcpy(dst + *bytes, r, size);
		*bytes += size;
		off += size;
		seq++;
		(*n)++;
	}
	if (!*n && seq < lc->count)
		return SVSM_ERR_INVALID_PARAMETER; /* the next record does not fit at all */
	lc->cur_seq = seq;
	lc->cur_off = off;
	*next = seq;
	return SVSM_SUCCESS;
}
