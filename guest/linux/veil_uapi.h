/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * veil_uapi.h - the /dev/veil interface, shared by the module and veilctl.
 *
 * /dev/veil (root only) gives user space the secure log of the Veil monitor
 * (VEIL_PROTOCOL_LOG in veil/abi.h) and the status of the monitor's services.
 * write(2) appends its bytes as one record (1..VEIL_LOG_MAX_RECORD bytes);
 * the ioctls below do the rest. Records are stored by the monitor, where
 * nothing in Linux can change them: the module only forwards.
 */
#ifndef VEIL_LINUX_UAPI_H
#define VEIL_LINUX_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define VEIL_DEV_NAME "veil"

/* Append `len` bytes at user address `buf` as one record -> its `seq`. */
struct veil_ioc_append {
	__u64 buf;
	__u32 len;
	__u32 reserved; /* 0 */
	__u64 seq;	/* out */
};

/* The log's head, as VEIL_LOG_HEAD reports it (struct veil_log_head). */
struct veil_ioc_head {
	__u64 count, drops, capacity, used;
	__u8 head[32];
};

/* Copy records from `seq` on into user buffer `buf` of `len` bytes, as
 * VEIL_LOG_READ returns them (struct veil_log_record + payload, padded to
 * 8) -> `n` records, `bytes` bytes, `next` the sequence number after them. */
struct veil_ioc_read {
	__u64 seq;
	__u64 buf;
	__u64 len;
	__u64 n, bytes, next; /* out */
};

/* What the monitor offers (SVSM_CORE_QUERY_PROTOCOL) and its services' state. */
#define VEIL_STATUS_LOG (1u << 0)    /* VEIL_PROTOCOL_LOG */
#define VEIL_STATUS_KCI (1u << 1)    /* VEIL_PROTOCOL_KCI */
#define VEIL_STATUS_MODULE (1u << 2) /* VEIL_PROTOCOL_MODULE */
#define VEIL_STATUS_ATTEST (1u << 3) /* SVSM_ATTEST_PROTOCOL */
struct veil_ioc_status {
	__u32 vmpl;	 /* the VMPL Linux runs at */
	__u32 protocols; /* VEIL_STATUS_* */
	__u32 kci_locked;
	__u32 reserved;
	__u64 kci_text_pages, kci_exports; /* VEIL_KCI_STATUS */
	__u64 audit_records;		   /* audit records appended by the module */
	__u64 audit_failed;		   /* audit records the monitor refused */
};

#define VEIL_IOC_MAGIC 'V'
#define VEIL_IOC_LOG_APPEND _IOWR(VEIL_IOC_MAGIC, 1, struct veil_ioc_append)
#define VEIL_IOC_LOG_HEAD _IOR(VEIL_IOC_MAGIC, 2, struct veil_ioc_head)
#define VEIL_IOC_LOG_READ _IOWR(VEIL_IOC_MAGIC, 3, struct veil_ioc_read)
#define VEIL_IOC_STATUS _IOR(VEIL_IOC_MAGIC, 4, struct veil_ioc_status)

#endif
