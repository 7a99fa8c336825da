/* SPDX-License-Identifier: MIT */
/*
 * logcore.h - the secure log's record keeping: the store, the hash chain, the
 * reserve for the monitor's records, READ's walk. Pure computation on a
 * store it is handed; it knows nothing of the monitor, the OS or the RMP, so
 * the same source runs in the log domain (services/log/domain, VMPL1 CPL3)
 * and, for the in-monitor baseline (--log-domain off) and the unit tests, in
 * the monitor.
 */
#ifndef VEIL_SERVICES_LOGCORE_H
#define VEIL_SERVICES_LOGCORE_H

#include <veil/abi.h>
#include <veil/types.h>

#define VEIL_LOGCORE_RESERVE 1024ULL /* for the monitor's own records (violations) */

struct veil_logcore {
	u8 *store;	      /* capacity bytes */
	u64 cur_seq, cur_off; /* where the last READ ended: sequential reads are O(1) */
	u64 capacity, used, count, drops;
	u8 head[32];
};

/* Who writes a record and when: the monitor's word, never the OS's. */
struct veil_logcore_stamp {
	u64 tsc;
	u32 vcpu, origin; /* VEIL_LOG_ORIGIN_* */
};

/* Store one record (len checked by the caller: 1..VEIL_LOG_MAX_RECORD);
 * SVSM_SUCCESS with *seq, or VEIL_LOG_ERR_FULL (counted as a drop). */
u64 veil_logcore_append(struct veil_logcore *lc, const void *src, u32 len,
			const struct veil_logcore_stamp *st, u64 *seq);

void veil_logcore_head(const struct veil_logcore *lc, struct veil_log_head *h);

/*
 * Copy whole records from `seq` on into dst (room bytes) until one does not
 * fit: *n records, *bytes, *next = the seq after the last copied.
 * VEIL_LOG_ERR_NO_SEQ for a seq past the end; SVSM_ERR_INVALID_PARAMETER when
 * the first record does not fit at all.
 */
u64 veil_logcore_read(struct veil_logcore *lc, u64 seq, u8 *dst, u64 room, u64 *n, u64 *bytes,
		      u64 *next);

#endif
