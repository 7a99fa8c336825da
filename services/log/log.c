/* SPDX-License-Identifier: MIT */
/*
 * log.c - the secure log service (VEIL_PROTOCOL_LOG).
 *
 * Records live in service-owned pages the OS can neither read nor write. The
 * store is append-only: when full, APPEND fails with VEIL_LOG_ERR_FULL and a
 * drop counter grows; nothing is ever overwritten. Each record carries the
 * SHA-256 chain value over the previous one, so a dump can be verified end to
 * end (veil-log verify) and the head can be bound into an attestation report.
 * Calls are serialised by the monitor lock, so sequence numbers are unique and
 * gap-free across vCPUs.
 */
#include <bearssl/bearssl_hash.h>
#include <veil/abi.h>
#include <veil/lib.h>
#include <veil/service.h>

#include "log.h"

#define LOG_DEFAULT_SIZE (256ULL << 10)
#define LOG_RESERVE 1024ULL /* for the monitor's own records (violations) */
#define HDR sizeof(struct veil_log_record)

struct veil_log {
	u8 *store;	      /* service-owned pages */
	u64 cur_seq, cur_off; /* where the last READ ended: sequential reads are O(1) */
	u64 capacity, used, count, drops;
	u8 head[32];
};

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

static int log_init(struct veil_monitor *mon, struct veil_vcpu *vc)
{
	u64 size = mon->launch.log_size ? mon->launch.log_size : LOG_DEFAULT_SIZE;
	u64 pages = (size + VEIL_PAGE_SIZE - 1) / VEIL_PAGE_SIZE, gpa, sgpa;
	struct veil_log *log;

	gpa = veil_monitor_alloc(mon, 1, VEIL_PAGE_SIZE);
	sgpa = veil_monitor_alloc(mon, pages, VEIL_PAGE_SIZE);
	if (!gpa || !sgpa)
		return VEIL_ENOMEM;
	log = veil_map(vc->be, gpa, sizeof(*log));
	if (!log)
		return VEIL_ERANGE;
	veil_memset(log, 0, sizeof(*log));
	log->store = veil_map(vc->be, sgpa, pages * VEIL_PAGE_SIZE);
	log->capacity = pages * VEIL_PAGE_SIZE;
	if (!log->store || veil_mem_transfer(&mon->mem, vc->be, sgpa, log->capacity,
					     VEIL_OWNER_MONITOR, VEIL_OWNER_SERVICE, VEIL_SVC_LOG))
		return VEIL_EHW;
	mon->svc[VEIL_SVC_LOG] = log;
	return VEIL_OK;
}

/* Store one record; src was checked (or is the monitor's own). */
static u64 store(struct veil_log *log, struct veil_vcpu *vc, const void *src, u32 len, u64 *seq,
		 bool monitor)
{
	/* The last LOG_RESERVE bytes take only the monitor's own records: an OS
	 * that fills the log first cannot keep a violation out of it. */
	u64 room = log->capacity - log->used;

	if (!monitor)
		room = room > LOG_RESERVE ? room - LOG_RESERVE : 0;
	struct veil_log_record r;
	u8 *dst;

	_Static_assert(sizeof(struct veil_log_record) == 64, "record layout (abi.h)");
	if (HDR + padded(len) > room) {
		log->drops++;
		return VEIL_LOG_ERR_FULL;
	}
	dst = log->store + log->used;
	r.seq = log->count;
	r.tsc = veil_rdtsc(vc->be);
	r.vcpu = vc->id;
	r.len = len;
	/* Hashed with the rest: who wrote a record is part of what it says. */
	r.origin = monitor ? VEIL_LOG_ORIGIN_MONITOR : VEIL_LOG_ORIGIN_OS;
	r.reserved = 0;
	/* Copy once, then hash and keep the copy: the OS cannot change what
	 * was hashed. */
	veil_memcpy(dst + HDR, src, r.len);
	veil_memset(dst + HDR + r.len, 0, padded(r.len) - r.len);
	chain(log->head, &r, dst + HDR, r.hash);
	veil_memcpy(dst, &r, HDR);
	veil_memcpy(log->head, r.hash, 32);
	log->used += HDR + padded(r.len);
	log->count++;
	*seq = r.seq;
	return SVSM_SUCCESS;
}

static u64 log_append(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_log *log,
		      struct veil_call *c)
{
	const void *src;

	if (!c->rdx || c->rdx > VEIL_LOG_MAX_RECORD)
		return SVSM_ERR_INVALID_PARAMETER;
	src = veil_os_read(mon, vc->be, c->rcx, c->rdx);
	if (!src)
		return SVSM_ERR_INVALID_ADDRESS;
	return store(log, vc, src, (u32)c->rdx, &c->rcx, false);
}

static void log_record(struct veil_monitor *mon, struct veil_vcpu *vc, const void *data, u32 len)
{
	struct veil_log *log = mon->svc[VEIL_SVC_LOG];
	u64 seq;

	if (log && len && len <= VEIL_LOG_MAX_RECORD)
		store(log, vc, data, len, &seq, true);
}

static u64 log_head(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_log *log,
		    struct veil_call *c)
{
	struct veil_log_head h;
	void *dst;

	if (!veil_aligned(c->rcx, 8))
		return SVSM_ERR_INVALID_PARAMETER;
	dst = veil_os_write(mon, vc->be, c->rcx, sizeof(h));
	if (!dst)
		return SVSM_ERR_INVALID_ADDRESS;
	(void)log;
	veil_log_head_get(mon, &h);
	veil_memcpy(dst, &h, sizeof(h));
	return SVSM_SUCCESS;
}

bool veil_log_head_get(const struct veil_monitor *mon, struct veil_log_head *h)
{
	const struct veil_log *log = mon->svc[VEIL_SVC_LOG];

	veil_memset(h, 0, sizeof(*h));
	if (!log)
		return false;
	h->count = log->count;
	h->drops = log->drops;
	h->capacity = log->capacity - LOG_RESERVE; /* what OS records may use */
	h->used = log->used;
	veil_memcpy(h->head, log->head, 32);
	return true;
}

/* Byte offset of record `seq`: records are variable-sized, so walk, from
 * where the last READ ended when that helps. */
static bool record_offset(const struct veil_log *log, u64 seq, u64 *off)
{
	u64 o = 0, i = 0;

	if (seq > log->count)
		return false;
	if (log->cur_seq <= seq && log->cur_seq <= log->count) {
		i = log->cur_seq;
		o = log->cur_off;
	}
	for (; i < seq; i++) {
		const struct veil_log_record *r = (const void *)(log->store + o);

		o += HDR + padded(r->len);
	}
	*off = o;
	return true;
}

static u64 log_read(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_log *log,
		    struct veil_call *c)
{
	u64 seq = c->rcx, off, n = 0, bytes = 0;
	u8 *dst;

	if (!c->r8 || !veil_aligned(c->rdx, 8))
		return SVSM_ERR_INVALID_PARAMETER;
	dst = veil_os_write(mon, vc->be, c->rdx, c->r8);
	if (!dst)
		return SVSM_ERR_INVALID_ADDRESS;
	if (!record_offset(log, seq, &off))
		return VEIL_LOG_ERR_NO_SEQ;
	while (seq < log->count) {
		const struct veil_log_record *r = (const void *)(log->store + off);
		u64 size = HDR + padded(r->len);

		if (size > c->r8 - bytes)
			break;
		veil_memcpy(dst + bytes, r, size);
		bytes += size;
		off += size;
		seq++;
		n++;
	}
	if (!n && seq < log->count)
		return SVSM_ERR_INVALID_PARAMETER; /* the next record does not fit at all */
	log->cur_seq = seq;
	log->cur_off = off;
	c->rcx = n;
	c->rdx = bytes;
	c->r8 = seq;
	return SVSM_SUCCESS;
}

static u64 log_call(struct veil_monitor *mon, struct veil_vcpu *vc, u32 call, struct veil_call *c)
{
	struct veil_log *log = mon->svc[VEIL_SVC_LOG];

	if (!log)
		return SVSM_ERR_UNSUPPORTED_PROTOCOL;
	switch (call) {
	case VEIL_LOG_APPEND:
		return log_append(mon, vc, log, c);
	case VEIL_LOG_HEAD:
		return log_head(mon, vc, log, c);
	case VEIL_LOG_READ:
		return log_read(mon, vc, log, c);
	default:
		return SVSM_ERR_UNSUPPORTED_CALL;
	}
}

const struct veil_service veil_log_service = {
	.name = "log",
	.protocol = VEIL_PROTOCOL_LOG,
	.min_version = 1,
	.max_version = 1,
	.init = log_init,
	.call = log_call,
	.record = log_record,
};
