// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * veil_main.c - the Veil module for Linux: finds the monitor, registers
 * /dev/veil (veil_uapi.h) and starts the audit stream into the secure log.
 *
 * Load order: the SVSM call path (veil_svsm.c), a check that the monitor
 * answers and offers the log, the log's buffers, the audit hook, then the
 * device. A record marks each load, so the log shows when the audit stream
 * began (and veil_audit_exit when it ended).
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include <linux/utsname.h>

#include "veil.h"
#include "veil_kci.h"

static bool audit = true;
module_param(audit, bool, 0444);
MODULE_PARM_DESC(audit, "append every kernel audit record to the secure log (default on)");

/* The protocol's versions (max << 32 | min), 0 if the monitor lacks it. */
static u64 query_protocol(u32 protocol)
{
	struct veil_svsm_regs r = { .rcx = (u64)protocol << 32 | 1 };

	if (veil_svsm_call(SVSM_CORE_PROTOCOL, SVSM_CORE_QUERY_PROTOCOL, &r))
		return 0;
	return r.rcx;
}

static void status_get(struct veil_ioc_status *s)
{
	static const struct {
		u32 protocol, bit;
	} map[] = {
		{ VEIL_PROTOCOL_LOG, VEIL_STATUS_LOG },
		{ VEIL_PROTOCOL_KCI, VEIL_STATUS_KCI },
		{ VEIL_PROTOCOL_MODULE, VEIL_STATUS_MODULE },
		{ SVSM_ATTEST_PROTOCOL, VEIL_STATUS_ATTEST },
	};
	struct veil_svsm_regs r = { 0 };
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->vmpl = veil_svsm_vmpl();
	for (i = 0; i < ARRAY_SIZE(map); i++)
		if (query_protocol(map[i].protocol))
			s->protocols |= map[i].bit;
	if ((s->protocols & VEIL_STATUS_KCI) &&
	    !veil_svsm_call(VEIL_PROTOCOL_KCI, VEIL_KCI_STATUS, &r)) {
		s->kci_locked = !!r.rcx;
		s->kci_text_pages = r.rdx;
		s->kci_exports = r.r8;
	}
	veil_audit_counts(&s->audit_records, &s->audit_failed);
}

static long veil_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct veil_ioc_status s;

	if (cmd == VEIL_IOC_STATUS) {
		status_get(&s);
		return copy_to_user((void __user *)arg, &s, sizeof(s)) ? -EFAULT : 0;
	}
	return veil_log_ioctl(cmd, (void __user *)arg);
}

static ssize_t veil_write(struct file *f, const char __user *buf, size_t len, loff_t *pos)
{
	return veil_log_write(buf, len);
}

static const struct file_operations veil_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = veil_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.write = veil_write,
	.llseek = noop_llseek,
};

static struct miscdevice veil_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = VEIL_DEV_NAME,
	.fops = &veil_fops,
	.mode = 0600,
};

static int __init veil_init(void)
{
	char msg[128];
	int ret = veil_svsm_init(), n;

	if (ret)
		return ret;
	if (!query_protocol(VEIL_PROTOCOL_LOG)) {
		pr_err("veil: the monitor does not answer or offers no secure log\n");
		return -ENODEV;
	}
	ret = veil_log_init();
	if (ret)
		return ret;
	n = scnprintf(msg, sizeof(msg), "veil: module loaded on %s %s, audit stream %s",
		      init_utsname()->release, init_utsname()->machine, audit ? "on" : "off");
	ret = veil_log_append_kernel(msg, n, NULL);
	if (!ret && audit)
		ret = veil_audit_init();
	if (!ret)
		ret = misc_register(&veil_dev);
	if (ret) {
		veil_audit_exit();
		veil_log_exit();
		return ret;
	}
	pr_info("veil: /dev/%s ready (VMPL%u)\n", VEIL_DEV_NAME, veil_svsm_vmpl());
	veil_kci_init();
	return 0;
}

static void __exit veil_exit(void)
{
	misc_deregister(&veil_dev);
	veil_audit_exit();
	veil_log_exit();
}

module_init(veil_init);
module_exit(veil_exit);
MODULE_DESCRIPTION("Veil: the secure log and services of the Veil monitor (VMPL0)");
MODULE_LICENSE("Dual MIT/GPL");
