// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * veil_attack.c - what a malicious module would do once loaded, for
 * tests/linux/kci_test.py. Each attack goes around Linux's own protections,
 * so that only the RMP (VMPL3's permissions, set by the Veil monitor) can stop
 * it: a second, writable mapping of a kernel text page (Linux's page tables
 * say read-only only for the kernel's own mapping), and an encrypted mapping
 * of the monitor's memory (Linux never maps it). Nothing here is needed by
 * Veil; the test loads it after the Veil module locked the kernel.
 *
 *   mode=none     load and do nothing (its code must be made executable)
 *   mode=text     rewrite one byte of kernel text (the same value)
 *   mode=monitor  read 8 bytes at physical address addr= (the monitor's)
 */
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/vmalloc.h>
#include <asm/page.h>

static char *mode = "none";
module_param(mode, charp, 0444);
static unsigned long addr;
module_param(addr, ulong, 0444);

static int attack_text(void)
{
	/* A function every kernel has, in _stext.._etext. */
	unsigned long va = (unsigned long)&vfree;
	phys_addr_t pa = __pa_symbol(va);
	struct page *pg = pfn_to_page(pa >> PAGE_SHIFT);
	u8 *alias = vmap(&pg, 1, VM_MAP, PAGE_KERNEL);
	u8 *p;

	if (!alias)
		return -ENOMEM;
	p = alias + offset_in_page(pa);
	pr_info("veil-attack: text: writing kernel text at gpa %#llx through a writable alias\n",
		(unsigned long long)pa);
	WRITE_ONCE(*p, READ_ONCE(*p));
	pr_info("veil-attack: text: the write went through\n");
	vunmap(alias);
	return -EPERM;
}

static int attack_monitor(void)
{
	void __iomem *m = ioremap_encrypted(addr, PAGE_SIZE);
	u64 v;

	if (!m) {
		pr_info("veil-attack: monitor: cannot map %#lx\n", addr);
		return -ENOMEM;
	}
	pr_info("veil-attack: monitor: reading gpa %#lx\n", addr);
	v = readq(m);
	pr_info("veil-attack: monitor: the read went through: %llx\n", v);
	iounmap(m);
	return -EPERM;
}

static int __init attack_init(void)
{
	if (!strcmp(mode, "text"))
		return attack_text();
	if (!strcmp(mode, "monitor"))
		return attack_monitor();
	pr_info("veil-attack: loaded, running\n");
	return 0;
}

static void __exit attack_exit(void)
{
	pr_info("veil-attack: unloaded\n");
}

module_init(attack_init);
module_exit(attack_exit);
MODULE_DESCRIPTION("Veil test: attacks from a root-loaded module");
MODULE_LICENSE("Dual MIT/GPL");
