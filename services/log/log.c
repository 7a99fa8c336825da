/* SPDX-License-Identifier: MIT */
/*
 * log.c - the secure log service (VEIL_PROTOCOL_LOG): the monitor's stub.
 *
 * The record keeping (logcore.c: store, hash chain, reserve, READ's walk)
 * runs in the log domain (log_domain.c: VMPL1 ring 3, its own page table,
 * its own pages), so a bug in it reaches nothing else. What stays here, and
 * why: checking and copying OS buffers (veil_os_read/veil_os_write need the
 * monitor's page-ownership table, which no domain may see); the stamp of a
 * record (vCPU, time, origin: the monitor's word, not the log's); the
 * monitor's own records (the fault policy runs here); and a copy of the
 * head after each operation, which attestation (services/attest, VMPL0:
 * the only level that may ask the AMD-SP for a report) binds. The log pages
 * stay out of the OS's reach (no VMPL3 access) either way.
 *
 * With --log-domain off the same record keeping runs in the monitor: the
 * baseline bench/log measures the domain against, and what the unit tests
 * and fuzzers drive (their fake backend cannot run guest code). Calls are
 * serialised by the monitor lock, so sequence numbers are unique and
 * gap-free across vCPUs.
 */
#include <veil/abi.h>
#include <veil/lib.h>
#include <veil/service.h>

#include "log.h"
#include "log_domain.h"
#include "logcore.h"

#define LOG_DEFAULT_SIZE (256ULL << 10)

struct veil_log {
	bool in_domain;
	struct veil_logcore lc;	   /* in the monitor (--log-domain off) */
	struct veil_logdom ld;	   /* in the log domain */
	struct veil_log_head head; /* the domain's head after its last operation */
};

static int init_in_monitor(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_log *log,
			   u64 pages)
{
	u64 sgpa = veil_monitor_alloc(mon, pages, VEIL_PAGE_SIZE);

	if (!sgpa)
		return VEIL_ENOMEM;
	log->lc.store = veil_map(vc->be, sgpa, pages * VEIL_PAGE_SIZE);
	log->lc.capacity = pages * VEIL_PAGE_SIZE;
	if (!log->lc.store ||
	    veil_mem_transfer(&mon->mem, vc->be, sgpa, log->lc.capacity, VEIL_OWNER_MONITOR,
			      VEIL_OWNER_SERVICE, VEIL_SVC_LOG))
		return VEIL_EHW;
	return VEIL_OK;
}

static int log_init(struct veil_monitor *mon, struct veil_vcpu *vc)
{
	u64 size = mon->launch.log_size ? mon->launch.log_size : LOG_DEFAULT_SIZE;
	u64 pages = (size + VEIL_PAGE_SIZE - 1) / VEIL_PAGE_SIZE;
	u64 n = (sizeof(struct veil_log) + VEIL_PAGE_SIZE - 1) / VEIL_PAGE_SIZE;
	u64 gpa = veil_monitor_alloc(mon, n, VEIL_PAGE_SIZE);
	struct veil_log *log = gpa ? veil_map(vc->be, gpa, sizeof(*log)) : NULL;
	int rc;

	if (!log)
		return VEIL_ENOMEM;
	veil_memset(log, 0, sizeof(*log));
	log->in_domain = mon->launch.log_domain != VEIL_LOG_DOMAIN_OFF;
	rc = log->in_domain ? veil_logdom_build(mon, vc, &log->ld, pages * VEIL_PAGE_SIZE) :
			      init_in_monitor(mon, vc, log, pages);
	if (rc)
		return rc;
	/* An empty log's head, until the domain first reports its own. */
	log->head.capacity = pages * VEIL_PAGE_SIZE - VEIL_LOGCORE_RESERVE;
	mon->svc[VEIL_SVC_LOG] = log;
	return VEIL_OK;
}

/* One operation in the domain; the head it reports is kept for attestation. */
static u64 in_domain(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_log *log, u32 op)
{
	u64 rc = veil_logdom_call(mon, vc, &log->ld, op);

	if (!log->ld.dead)
		log->head = log->ld.mail->head;
	return rc;
}

/* Store one record; src was checked (or is the monitor's own). */
static u64 append(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_log *log,
		  const void *src, u32 len, u32 origin, u64 *seq)
{
	struct veil_logcore_stamp st = { veil_rdtsc(vc->be), vc->id, origin };
	struct logd_mail *m = log->ld.mail;
	u64 rc;

	if (!log->in_domain)
		return veil_logcore_append(&log->lc, src, len, &st, seq);
	if (log->ld.dead)
		return VEIL_LOG_ERR_CLOSED;
	/* Copied in before the domain runs: the OS cannot change it meanwhile. */
	veil_memcpy(m->data, src, len);
	m->len = len;
	m->tsc = st.tsc;
	m->vcpu = st.vcpu;
	m->origin = st.origin;
	rc = in_domain(mon, vc, log, LOGD_OP_APPEND);
	*seq = log->ld.dead ? 0 : m->seq;
	return rc;
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
	return append(mon, vc, log, src, (u32)c->rdx, VEIL_LOG_ORIGIN_OS, &c->rcx);
}

static void log_record(struct veil_monitor *mon, struct veil_vcpu *vc, const void *data, u32 len)
{
	struct veil_log *log = mon->svc[VEIL_SVC_LOG];
	u64 seq;

	if (log && len && len <= VEIL_LOG_MAX_RECORD)
		append(mon, vc, log, data, len, VEIL_LOG_ORIGIN_MONITOR, &seq);
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
	if (!veil_log_head_get(mon, &h))
		return VEIL_LOG_ERR_CLOSED;
	(void)log;
	veil_memcpy(dst, &h, sizeof(h));
	return SVSM_SUCCESS;
}

bool veil_log_head_get(const struct veil_monitor *mon, struct veil_log_head *h)
{
	const struct veil_log *log = mon->svc[VEIL_SVC_LOG];

	veil_memset(h, 0, sizeof(*h));
	if (!log || (log->in_domain && log->ld.dead))
		return false; /* a closed log's head is vouched for by nobody */
	if (log->in_domain)
		*h = log->head;
	else
		veil_logcore_head(&log->lc, h);
	return true;
}

/* READ in the domain: mailbox-sized rounds until the buffer is full or the
 * log ends. Every answer is checked before it is copied out. */
static u64 read_in_domain(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_log *log,
			  u64 seq, u8 *dst, u64 room, u64 *n, u64 *bytes, u64 *next)
{
	struct logd_mail *m = log->ld.mail;
	u64 rc = SVSM_SUCCESS, ask;

	*n = *bytes = 0;
	*next = seq;
	do {
		ask = room - *bytes < LOGD_DATA_MAX ? room - *bytes : LOGD_DATA_MAX;
		m->seq = *next;
		m->len = ask;
		rc = in_domain(mon, vc, log, LOGD_OP_READ);
		if (rc != SVSM_SUCCESS)
			break;
		if (m->bytes > ask || m->next != *next + m->n)
			return SVSM_ERR_INVALID_REQUEST; /* an answer that cannot be */
		veil_memcpy(dst + *bytes, m->data, m->bytes);
		*bytes += m->bytes;
		*n += m->n;
		*next = m->next;
	} while (m->n && *next < log->head.count && *bytes < room);
	if (rc == SVSM_ERR_INVALID_PARAMETER && *n)
		rc = SVSM_SUCCESS; /* the next record does not fit what is left */
	return rc;
}

static u64 log_read(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_log *log,
		    struct veil_call *c)
{
	u64 n, bytes, next, rc;
	u8 *dst;

	if (!c->r8 || !veil_aligned(c->rdx, 8))
		return SVSM_ERR_INVALID_PARAMETER;
	dst = veil_os_write(mon, vc->be, c->rdx, c->r8);
	if (!dst)
		return SVSM_ERR_INVALID_ADDRESS;
	rc = log->in_domain ? read_in_domain(mon, vc, log, c->rcx, dst, c->r8, &n, &bytes, &next) :
			      veil_logcore_read(&log->lc, c->rcx, dst, c->r8, &n, &bytes, &next);
	if (rc != SVSM_SUCCESS)
		return rc;
	c->rcx = n;
	c->rdx = bytes;
	c->r8 = next;
	return SVSM_SUCCESS;
}

/* TEST-ONLY (--log-domain fault-test): the log domain's code writes through
 * a mapping of GPA RCX (a page-table bug) or a wild pointer (RCX = 0). */
static u64 log_test_write(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_log *log,
			  struct veil_call *c)
{
	if (mon->launch.log_domain != VEIL_LOG_DOMAIN_FAULT_TEST || !log->in_domain)
		return SVSM_ERR_UNSUPPORTED_CALL;
	if (c->rcx >= mon->launch.mem_size)
		return SVSM_ERR_INVALID_PARAMETER;
	if (log->ld.dead)
		return VEIL_LOG_ERR_CLOSED;
	if (c->rcx)
		veil_logdom_trapdoor(vc->be, &log->ld, c->rcx);
	log->ld.mail->seq = c->rcx ? LOGD_TRAPDOOR_VA + (c->rcx & 0xFF8) : 0x1000;
	return in_domain(mon, vc, log, LOGD_OP_TEST_WRITE);
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
	case VEIL_LOG_TEST_WRITE:
		return log_test_write(mon, vc, log, c);
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
