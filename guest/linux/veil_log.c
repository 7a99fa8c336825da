// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * veil_log.c - the secure log (VEIL_PROTOCOL_LOG, veil/abi.h) for Linux: the
 * kernel's appends (the audit hook) and /dev/veil's write and log ioctls.
 *
 * The monitor reads and writes buffers by guest physical address, so every
 * buffer handed to it lies in one physically contiguous allocation of the
 * direct map (never the stack: stacks are vmalloc'ed). Appends go through a
 * page per CPU with interrupts off, so they work in any context, audit's
 * included, without allocating.
 */
#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/irqflags.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/page.h>

#include "veil.h"

#define READ_ORDER 2 /* VEIL_LOG_READ bounce buffer: 16 KiB */
#define READ_MAX (PAGE_SIZE << READ_ORDER)

static void **cpu_page; /* [nr_cpu_ids]: one page per possible CPU */

int veil_log_init(void)
{
	unsigned int cpu;

	cpu_page = kcalloc(nr_cpu_ids, sizeof(*cpu_page), GFP_KERNEL);
	if (!cpu_page)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
	{
		cpu_page[cpu] = (void *)get_zeroed_page(GFP_KERNEL);
		if (!cpu_page[cpu]) {
			veil_log_exit();
			return -ENOMEM;
		}
	}
	return 0;
}

void veil_log_exit(void)
{
	unsigned int cpu;

	if (!cpu_page)
		return;
	for_each_possible_cpu(cpu) free_page((unsigned long)cpu_page[cpu]);
	kfree(cpu_page);
	cpu_page = NULL;
}

int veil_log_append_kernel(const void *data, u32 len, u64 *seq)
{
	struct veil_svsm_regs r = { 0 };
	unsigned long flags;
	void *page;
	u64 rc;

	if (!len || len > VEIL_LOG_MAX_RECORD)
		return -EINVAL;
	local_irq_save(flags);
	page = cpu_page[smp_processor_id()];
	memcpy(page, data, len);
	r.rcx = __pa(page);
	r.rdx = len;
	rc = veil_svsm_call(VEIL_PROTOCOL_LOG, VEIL_LOG_APPEND, &r);
	local_irq_restore(flags);
	if (seq)
		*seq = r.rcx;
	if (rc == VEIL_LOG_ERR_FULL)
		return -ENOSPC;
	return veil_svsm_errno(rc);
}

static int log_head(struct veil_ioc_head *out)
{
	struct veil_svsm_regs r = { 0 };
	struct veil_log_head *h;
	unsigned long flags;
	u64 rc;

	BUILD_BUG_ON(sizeof(*out) != sizeof(*h));
	local_irq_save(flags);
	h = cpu_page[smp_processor_id()];
	r.rcx = __pa(h);
	rc = veil_svsm_call(VEIL_PROTOCOL_LOG, VEIL_LOG_HEAD, &r);
	memcpy(out, h, sizeof(*out));
	local_irq_restore(flags);
	return veil_svsm_errno(rc);
}

static long ioc_append(void __user *arg)
{
	struct veil_ioc_append a;
	void *buf;
	int ret;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.reserved || !a.len || a.len > VEIL_LOG_MAX_RECORD)
		return -EINVAL;
	buf = memdup_user(u64_to_user_ptr(a.buf), a.len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	ret = veil_log_append_kernel(buf, a.len, &a.seq);
	kfree(buf);
	if (!ret && copy_to_user(arg, &a, sizeof(a)))
		return -EFAULT;
	return ret;
}

static long ioc_head(void __user *arg)
{
	struct veil_ioc_head h;
	int ret = log_head(&h);

	if (!ret && copy_to_user(arg, &h, sizeof(h)))
		return -EFAULT;
	return ret;
}

static long ioc_read(void __user *arg)
{
	struct veil_svsm_regs r = { 0 };
	struct veil_ioc_read a;
	void *buf;
	u64 rc;
	int ret;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (!a.len)
		return -EINVAL;
	buf = (void *)__get_free_pages(GFP_KERNEL, READ_ORDER);
	if (!buf)
		return -ENOMEM;
	r.rcx = a.seq;
	r.rdx = __pa(buf);
	r.r8 = min_t(u64, a.len, READ_MAX);
	rc = veil_svsm_call(VEIL_PROTOCOL_LOG, VEIL_LOG_READ, &r);
	ret = rc == VEIL_LOG_ERR_NO_SEQ ? -ENOENT : veil_svsm_errno(rc);
	/* The monitor says how much it wrote: never trust it past the buffer. */
	if (!ret && r.rdx > min_t(u64, a.len, READ_MAX))
		ret = -EIO;
	if (!ret) {
		a.n = r.rcx;
		a.bytes = r.rdx;
		a.next = r.r8;
		if (copy_to_user(u64_to_user_ptr(a.buf), buf, a.bytes) ||
		    copy_to_user(arg, &a, sizeof(a)))
			ret = -EFAULT;
	}
	free_pages((unsigned long)buf, READ_ORDER);
	return ret;
}

long veil_log_ioctl(unsigned int cmd, void __user *arg)
{
	switch (cmd) {
	case VEIL_IOC_LOG_APPEND:
		return ioc_append(arg);
	case VEIL_IOC_LOG_HEAD:
		return ioc_head(arg);
	case VEIL_IOC_LOG_READ:
		return ioc_read(arg);
	default:
		return -ENOTTY;
	}
}

ssize_t veil_log_write(const char __user *ubuf, size_t len)
{
	void *buf;
	int ret;

	if (!len || len > VEIL_LOG_MAX_RECORD)
		return -EINVAL;
	buf = memdup_user(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	ret = veil_log_append_kernel(buf, (u32)len, NULL);
	kfree(buf);
	return ret ? ret : (ssize_t)len;
}
