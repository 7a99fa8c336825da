// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * veil_kci.c - kernel code integrity for Linux (VEIL_PROTOCOL_KCI).
 *
 * At load the module asks the monitor to lock the running kernel's text
 * (_stext.._etext) and read-only data (__start_rodata..__end_rodata, with
 * .data..ro_after_init and the jump and static-call tables in it), by their
 * physical addresses: the monitor checks them against the measured boot
 * parameters (services/kci/kci_linux.c) and from then on VMPL3 has no write
 * permission on those pages in the RMP, and no supervisor-execute permission
 * on any other page. Code Linux loads later runs only once the monitor has
 * made it executable: a module notifier, called last when a module is
 * COMING (after Linux relocated, patched and write-protected its text),
 * hands its text pages to VEIL_KCI_ADD_TEXT, which takes W away, gives Xs and
 * records the module's name and text hash in the secure log; its init text
 * goes back to plain data when it is LIVE, all of it when it is GOING. A
 * module the monitor refuses fails to load. Run-time code patching of locked
 * text (static keys, static calls, ftrace, kprobes, BPF JIT) is not mediated
 * and faults at VMPL3: docs/linux-kci.md says which kernel parameters and
 * sysctls keep a booted system clear of it.
 *
 * This module's own text is added before the lock (the lock keeps it), and
 * the module pins itself once locked: the notifier must outlive every module
 * it made executable.
 */
#include <linux/io.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <asm/page.h>
#include <asm/pgtable.h>

#include "veil.h"
#include "veil_kci.h"

static bool kci = true;
module_param(kci, bool, 0444);
MODULE_PARM_DESC(kci, "lock the kernel's code with the monitor at load (default on)");
static ulong kci_skew;
module_param(kci_skew, ulong, 0400);
MODULE_PARM_DESC(kci_skew,
		 "for tests: declare the text this many bytes off; the monitor must refuse");

static int kci_send(u32 call, struct veil_kci_text *t)
{
	struct veil_svsm_regs r = { .rcx = virt_to_phys(t) };

	return veil_svsm_errno(veil_svsm_call(VEIL_PROTOCOL_KCI, call, &r));
}

/* One VEIL_KCI_ADD_TEXT or DROP_TEXT per 500 pages of [base, base+size). */
static int kci_pages(u32 call, const char *name, void *base, unsigned int size)
{
	struct veil_kci_text *t;
	unsigned long off = 0, end = PAGE_ALIGN(size);
	int ret = 0;

	if (!base || !size)
		return 0;
	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	strscpy(t->name, name, sizeof(t->name));
	while (!ret && off < end) {
		for (t->nr_pages = 0; t->nr_pages < VEIL_KCI_TEXT_MAX && off < end;
		     off += PAGE_SIZE)
			t->pages[t->nr_pages++] = (u64)vmalloc_to_pfn(base + off) << PAGE_SHIFT;
		ret = kci_send(call, t);
	}
	kfree(t);
	return ret;
}

static bool within(unsigned long a, const struct module_memory *m)
{
	return m->base && a - (unsigned long)m->base < m->size;
}

/*
 * Code the kernel generated before the lock outside any module: kprobe
 * instruction slots and ftrace trampolines (the audit kprobe's), a BPF JIT
 * image. It lives in the module area like module text; every executable
 * 4 KiB page mapped there now that is not this module's is added, under one
 * name. After the lock such code needs the monitor (docs/linux-kci.md).
 * With VEIL_KCI_DROP_TEXT: the same pages given back (the lock failed).
 */
static int kci_prelock_code(u32 call)
{
	const struct module_memory *text = &THIS_MODULE->mem[MOD_TEXT];
	const struct module_memory *init = &THIS_MODULE->mem[MOD_INIT_TEXT];
	struct veil_kci_text *t = kzalloc(sizeof(*t), GFP_KERNEL);
	unsigned long a;
	unsigned int level;
	int ret = 0;

	if (!t)
		return -ENOMEM;
	strscpy(t->name, "pre-lock code", sizeof(t->name));
	for (a = MODULES_VADDR; !ret && a < MODULES_END; a += PAGE_SIZE) {
		pte_t *pte = lookup_address(a, &level);

		if (!pte || level != PG_LEVEL_4K || !pte_present(*pte) ||
		    (pte_flags(*pte) & _PAGE_NX) || within(a, text) || within(a, init))
			continue;
		t->pages[t->nr_pages++] = (u64)pte_pfn(*pte) << PAGE_SHIFT;
		if (t->nr_pages == VEIL_KCI_TEXT_MAX) {
			ret = kci_send(call, t);
			t->nr_pages = 0;
		}
	}
	if (!ret && t->nr_pages)
		ret = kci_send(call, t);
	kfree(t);
	return ret;
}

static int kci_module_event(struct notifier_block *nb, unsigned long state, void *data)
{
	struct module *mod = data;
	struct module_memory *text = &mod->mem[MOD_TEXT], *init = &mod->mem[MOD_INIT_TEXT];
	int ret = 0;

	switch (state) {
	case MODULE_STATE_COMING:
		ret = kci_pages(VEIL_KCI_ADD_TEXT, mod->name, text->base, text->size);
		if (!ret)
			ret = kci_pages(VEIL_KCI_ADD_TEXT, mod->name, init->base, init->size);
		if (ret) {
			pr_err("veil: the monitor refused %s's code (%d)\n", mod->name, ret);
			kci_pages(VEIL_KCI_DROP_TEXT, mod->name, text->base, text->size);
		}
		return notifier_from_errno(ret);
	case MODULE_STATE_LIVE: /* Linux frees the init text next */
		kci_pages(VEIL_KCI_DROP_TEXT, mod->name, init->base, init->size);
		break;
	case MODULE_STATE_GOING: /* after a failed init the init text is still there */
		kci_pages(VEIL_KCI_DROP_TEXT, mod->name, init->base, init->size);
		kci_pages(VEIL_KCI_DROP_TEXT, mod->name, text->base, text->size);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block kci_nb = {
	.notifier_call = kci_module_event,
	.priority = INT_MIN, /* after jump labels, static calls and ftrace patched it */
};

/* The kernel image's range [from, to) by symbol, physical, page-rounded. */
static int kci_range(struct veil_kci_range *r, u32 kind, const char *from, const char *to)
{
	unsigned long a = veil_lookup_name(from), b = veil_lookup_name(to);

	if (!a || !b || b <= a) {
		pr_err("veil: no kernel symbols %s/%s\n", from, to);
		return -ENOENT;
	}
	r->gpa = __pa_symbol(a) & PAGE_MASK;
	r->len = PAGE_ALIGN(__pa_symbol(b)) - r->gpa;
	r->kind = kind;
	return 0;
}

static int kci_lock(void)
{
	struct veil_kci_decl *d = kzalloc(sizeof(*d), GFP_KERNEL);
	struct veil_svsm_regs r = { 0 };
	int ret;

	if (!d)
		return -ENOMEM;
	d->nr_ranges = 2;
	ret = kci_range(&d->ranges[0], VEIL_KCI_TEXT, "_stext", "_etext");
	if (!ret)
		ret = kci_range(&d->ranges[1], VEIL_KCI_RODATA, "__start_rodata", "__end_rodata");
	if (!ret) {
		d->ranges[0].gpa += kci_skew;
		r.rcx = virt_to_phys(d);
		ret = veil_svsm_errno(veil_svsm_call(VEIL_PROTOCOL_KCI, VEIL_KCI_LOCK, &r));
		pr_info("veil: kernel text %llx+%llx rodata %llx+%llx: %s (%d)\n", d->ranges[0].gpa,
			d->ranges[0].len, d->ranges[1].gpa, d->ranges[1].len,
			ret ? "the monitor refused the lock" : "locked", ret);
	}
	kfree(d);
	return ret;
}

/*
 * The BPF JIT writes new code into executable pages (bpf_prog_pack) at run
 * time, seccomp filters included: after the lock that faults. Debian builds
 * it without CONFIG_BPF_JIT_ALWAYS_ON, so the interpreter can take over: the
 * sysctl net.core.bpf_jit_enable is set to 0 here. Root setting it back
 * makes the next JIT stop the CVM (docs/linux-kci.md).
 */
static void kci_bpf_jit_off(void)
{
	int *jit = (int *)veil_lookup_name("bpf_jit_enable");

	if (jit && READ_ONCE(*jit)) {
		WRITE_ONCE(*jit, 0);
		pr_info("veil: BPF JIT off (net.core.bpf_jit_enable = 0) for the lock\n");
	}
}

void veil_kci_init(void)
{
	struct module_memory *text = &THIS_MODULE->mem[MOD_TEXT];
	struct module_memory *init = &THIS_MODULE->mem[MOD_INIT_TEXT];
	int ret;

	if (!kci)
		return;
	kci_bpf_jit_off();
	ret = kci_pages(VEIL_KCI_ADD_TEXT, THIS_MODULE->name, text->base, text->size);
	if (!ret)
		ret = kci_pages(VEIL_KCI_ADD_TEXT, THIS_MODULE->name, init->base, init->size);
	if (!ret)
		ret = kci_prelock_code(VEIL_KCI_ADD_TEXT);
	if (!ret)
		ret = register_module_notifier(&kci_nb);
	if (!ret)
		ret = kci_lock();
	if (ret) {
		pr_err("veil: kernel code integrity is off (%d)\n", ret);
		unregister_module_notifier(&kci_nb);
		kci_prelock_code(VEIL_KCI_DROP_TEXT);
		kci_pages(VEIL_KCI_DROP_TEXT, THIS_MODULE->name, init->base, init->size);
		kci_pages(VEIL_KCI_DROP_TEXT, THIS_MODULE->name, text->base, text->size);
		return;
	}
	__module_get(THIS_MODULE); /* the notifier stays while code it added runs */
}
