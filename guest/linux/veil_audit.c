// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * veil_audit.c - every audit record the kernel emits, appended to the secure
 * log as it is emitted.
 *
 * Why this hook: a kprobe on audit_log_end(), the one function every kernel
 * audit record passes through when it is complete (syscall records and
 * their PATH/CWD/PROCTITLE companions, user-space messages such as
 * AUDIT_USER from login or sudo, configuration changes, anomalies). It sees
 * the record before kauditd's queue, backlog limit, rate limit or auditd
 * could lose it, so a root attacker who kills auditd, fills its disk or
 * floods the backlog no longer erases the trail: the record is in the
 * monitor's log before the audited syscall returns. An auditd plugin would
 * only see what auditd received, and runs in user space root controls;
 * syscall tracepoints would duplicate audit's filtering (rules, and
 * auditctl -e) instead of honouring it. Unloading the module stops the
 * stream, and that is itself recorded (veil_audit_exit).
 *
 * The record's text is the netlink message audit built in the buffer's skb:
 * struct audit_buffer is private to kernel/audit.c, but in this kernel (6.12)
 * its first member is that skb (the message type is checked before use).
 */
#include <linux/audit.h>
#include <linux/atomic.h>
#include <linux/kprobes.h>
#include <linux/netlink.h>
#include <linux/skbuff.h>
#include <net/netlink.h>

#include "veil.h"

struct audit_buffer_head {
	struct sk_buff *skb; /* kernel/audit.c: struct audit_buffer's first member */
};

static atomic64_t nr_records, nr_failed;
static bool registered;

/* Kprobe handlers run with preemption off: the append works in any context. */
static int audit_end_pre(struct kprobe *p, struct pt_regs *regs)
{
	const struct audit_buffer_head *ab = (const void *)regs->di;
	char rec[VEIL_LOG_MAX_RECORD];
	const struct nlmsghdr *nlh;
	struct sk_buff *skb;
	int n, text;

	if (!ab || !ab->skb)
		return 0;
	skb = ab->skb;
	nlh = nlmsg_hdr(skb);
	if (skb->len < NLMSG_HDRLEN || nlh->nlmsg_type < AUDIT_GET ||
	    nlh->nlmsg_type > AUDIT_LAST_USER_MSG2)
		return 0; /* not an audit message: the layout is not what we think */
	text = skb->len - NLMSG_HDRLEN;
	n = scnprintf(rec, sizeof(rec), "audit type=%u %.*s", nlh->nlmsg_type, text,
		      (const char *)nlmsg_data(nlh));
	if (veil_log_append_kernel(rec, n, NULL))
		atomic64_inc(&nr_failed);
	else
		atomic64_inc(&nr_records);
	return 0;
}

static struct kprobe audit_end_kp = {
	.symbol_name = "audit_log_end",
	.pre_handler = audit_end_pre,
};

int veil_audit_init(void)
{
	int ret = register_kprobe(&audit_end_kp);

	if (ret) {
		pr_err("veil: cannot hook audit_log_end (%d)\n", ret);
		return ret;
	}
	registered = true;
	return 0;
}

void veil_audit_exit(void)
{
	static const char msg[] = "veil: audit stream stopped (module unloading)";

	if (!registered)
		return;
	unregister_kprobe(&audit_end_kp);
	registered = false;
	veil_log_append_kernel(msg, sizeof(msg) - 1, NULL);
}

void veil_audit_counts(u64 *records, u64 *failed)
{
	*records = atomic64_read(&nr_records);
	*failed = atomic64_read(&nr_failed);
}
