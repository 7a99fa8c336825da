/* SPDX-License-Identifier: MIT */
/*
 * modules.c - kernel modules in the test OS (VEIL_PROTOCOL_MODULE).
 *
 * The module files are embedded in the image (guest/modules/embed.S). LOAD
 * hands the monitor a file and some validated, OS-owned pages from the page
 * allocator; the monitor checks the signature, takes the pages, places and
 * relocates the module against the kernel's locked exports, and returns a
 * handle and the init/exit entries, which the OS then calls itself. UNLOAD
 * gives the pages back scrubbed and no longer executable.
 *
 * Also here: the refusal and violation scenarios around modules, and a small
 * unprotected in-OS loader that exists only so that bench-modules can compare
 * loading the same files with and without the monitor.
 */
#include "kci.h"
#include "../modules/module_api.h"

#define MOD_PAGES 8 /* donated per LOAD: more than any sample module needs */

extern char __text_end[], __rodata_end[];
#define NOT_OS_MEMORY ~0ULL

uint64_t module_counter; /* exported: the sample modules update it */

struct modfile {
	const uint8_t *start, *end;
	const char *name;
};

#define MODFILE(n)                                               \
	extern const uint8_t mod_##n##_start[], mod_##n##_end[]; \
	static const struct modfile n = { mod_##n##_start, mod_##n##_end, #n }

MODFILE(hello);
MODFILE(counter);
MODFILE(badsig);
MODFILE(tampered);
MODFILE(nosig);
MODFILE(wrongkey);
MODFILE(unknown);
MODFILE(reloc);
MODFILE(notelf);
MODFILE(nullalloc);

struct loaded {
	uint64_t handle, init, exit, base;
};

static uint64_t region_a, region_b, pval_req; /* donated pages, a PVALIDATE request */
static struct loaded seq;		      /* the module of the load/unload sequence */

static uint64_t mod_load(const struct modfile *f, uint64_t pages, uint64_t n, struct loaded *m)
{
	struct svsm_call_out o = { 0 };
	uint64_t rc = svsm_call(this_cpu()->caa, VEIL_PROTOCOL_MODULE, VEIL_MOD_LOAD,
				(uint64_t)f->start, (uint64_t)(f->end - f->start), pages, n, &o);

	if (rc == SVSM_SUCCESS)
		*m = (struct loaded){ o.rcx, o.rdx, o.r8, pages };
	audit_event("module: load %s pages=0x%lx rc=0x%lx handle=0x%lx", f->name, pages, rc,
		    rc ? 0 : o.rcx);
	return rc;
}

static uint64_t mod_unload(uint64_t handle)
{
	uint64_t rc = svsm_call(this_cpu()->caa, VEIL_PROTOCOL_MODULE, VEIL_MOD_UNLOAD, handle, 0,
				0, 0, NULL);

	audit_event("module: unload handle=0x%lx rc=0x%lx", handle, rc);
	return rc;
}

static bool regions_ready(void)
{
	if (!region_a) {
		region_a = pages_alloc(MOD_PAGES);
		region_b = pages_alloc(MOD_PAGES);
		pval_req = pages_alloc(1);
	}
	if (!region_a || !region_b || !pval_req)
		kprintf("modules: no memory for donated pages\n");
	return region_a && region_b && pval_req;
}

/* The donated regions, allocated on first use (NOT_OS_MEMORY if none). */
static uint64_t ra(void)
{
	return regions_ready() ? region_a : NOT_OS_MEMORY;
}

static uint64_t rb(void)
{
	return regions_ready() ? region_b : NOT_OS_MEMORY;
}

/* Pages the monitor gave back (or never took) are the OS's to write again;
 * a monitor that kept them stops the run here. */
static void touch(uint64_t pages, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		*(volatile uint8_t *)(pages + i * PAGE_SIZE) = 0;
}

static bool all_zero(uint64_t pages, uint64_t n)
{
	const volatile uint64_t *p = (const volatile uint64_t *)pages;
	uint64_t i;

	for (i = 0; i < n * PAGE_SIZE / 8; i++)
		if (p[i])
			return false;
	return true;
}

static bool in_region(uint64_t addr, uint64_t base)
{
	return addr >= base && addr < base + MOD_PAGES * PAGE_SIZE;
}

/* ---- the normal path: load, init, exit, unload --------------------------------- */

static bool load_checked(const char *name, const struct modfile *f, uint64_t pages,
			 struct loaded *m)
{
	uint64_t rc = mod_load(f, pages, MOD_PAGES, m);
	bool ok = rc == SVSM_SUCCESS && in_region(m->init, pages) && in_region(m->exit, pages);

	check(name, ok, rc ? rc : m->init);
	return ok;
}

static void init_checked(const char *name, const struct loaded *m, uint64_t delta)
{
	uint64_t before = module_counter;
	int ret = ((int (*)(void))m->init)();

	check(name, ret == 0 && module_counter == before + delta, module_counter - before);
}

static void exit_checked(const char *name, const struct loaded *m, uint64_t delta)
{
	uint64_t before = module_counter;

	((void (*)(void))m->exit)();
	check(name, module_counter == before + delta, module_counter - before);
}

int modules_selftest(void)
{
	struct loaded h, c;
	uint64_t rc;

	if (!regions_ready() || !load_checked("mod-load-hello", &hello, region_a, &h))
		return -1;
	if (!load_checked("mod-load-counter", &counter, region_b, &c))
		return -1;
	init_checked("mod-init-hello", &h, HELLO_INIT_DELTA);
	init_checked("mod-init-counter", &c, COUNTER_INIT_DELTA);
	exit_checked("mod-exit-hello", &h, HELLO_EXIT_DELTA);
	exit_checked("mod-exit-counter", &c, COUNTER_EXIT_DELTA);
	rc = mod_unload(h.handle);
	rc = rc ? rc : mod_unload(c.handle);
	check("mod-unload", rc == SVSM_SUCCESS, rc);
	/* Scrubbed, and plain OS memory again: readable and writable. */
	check("mod-unload-scrubbed", all_zero(region_a, MOD_PAGES) && all_zero(region_b, MOD_PAGES),
	      0);
	touch(region_a, MOD_PAGES);
	touch(region_b, MOD_PAGES);
	rc = mod_load(&hello, region_a, MOD_PAGES, &h);
	rc = rc ? rc : mod_unload(h.handle);
	check("mod-reload", rc == SVSM_SUCCESS, rc);
	return 0;
}

/* ---- refusals ---------------------------------------------------------------------- */

/* LOAD that must be refused. A module loaded anyway is unloaded again (so the
 * sequence goes on); `touch_back` pages must still be the OS's afterwards. */
static uint64_t load_refused(const struct modfile *f, uint64_t pages, uint64_t n, bool touch_back)
{
	struct loaded m;
	uint64_t rc;

	if (pages == NOT_OS_MEMORY)
		return NOT_OS_MEMORY;
	rc = mod_load(f, pages, n, &m);
	if (rc == SVSM_SUCCESS)
		mod_unload(m.handle);
	else if (touch_back)
		touch(pages, n);
	return rc;
}

static uint64_t monitor_gpa(void)
{
	uint64_t gpa = 0, len;

	return mem_range_of(VEIL_MEM_MONITOR, &gpa, &len) ? gpa + PAGE_SIZE : NOT_OS_MEMORY;
}

static uint64_t load_before_lock(void)
{
	return load_refused(&hello, ra(), MOD_PAGES, true);
}

static uint64_t bad_signature(void)
{
	return load_refused(&badsig, ra(), MOD_PAGES, true);
}

static uint64_t tampered_bytes(void)
{
	return load_refused(&tampered, ra(), MOD_PAGES, true);
}

static uint64_t unsigned_module(void)
{
	return load_refused(&nosig, ra(), MOD_PAGES, true);
}

static uint64_t wrong_key(void)
{
	return load_refused(&wrongkey, ra(), MOD_PAGES, true);
}

static uint64_t not_elf(void)
{
	return load_refused(&notelf, ra(), MOD_PAGES, true);
}

static uint64_t unknown_symbol(void)
{
	return load_refused(&unknown, ra(), MOD_PAGES, true);
}

static uint64_t reloc_outside(void)
{
	return load_refused(&reloc, ra(), MOD_PAGES, true);
}

/* An allocated section of type NULL whose bytes lie past the end of the file:
 * the monitor would copy its own memory into VMPL3-readable module pages. */
static uint64_t null_alloc_section(void)
{
	return load_refused(&nullalloc, ra(), MOD_PAGES, true);
}

/* The file "in" monitor memory: the monitor must not copy it for us. */
static uint64_t file_monitor(void)
{
	struct modfile f = { (const uint8_t *)monitor_gpa(), 0, "hello@monitor" };

	f.end = f.start + (hello.end - hello.start);
	return load_refused(&f, ra(), MOD_PAGES, true);
}

static uint64_t monitor_pages(void)
{
	return load_refused(&hello, monitor_gpa(), MOD_PAGES, false);
}

/* The boot vCPU's GHCB: shared with the hypervisor, not OS-private memory. */
static uint64_t shared_pages(void)
{
	return load_refused(&hello, (uint64_t)ghcb_pages[0], MOD_PAGES, false);
}

/* The locked image's own text (its last two pages): a module would replace
 * kernel code, and UNLOAD would hand the pages back as writable data. */
static uint64_t kernel_text_pages(void)
{
	return load_refused(&hello, (uint64_t)__text_end - 2 * PAGE_SIZE, 2, false);
}

/* The locked image's rodata (the module files live there): R must stay R. */
static uint64_t kernel_rodata_pages(void)
{
	return load_refused(&hello, (uint64_t)__rodata_end - 2 * PAGE_SIZE, 2, false);
}

static uint64_t pvalidate_page(uint64_t gpa, bool validate)
{
	struct svsm_pvalidate_hdr *h = (struct svsm_pvalidate_hdr *)pval_req;

	h->num_entries = 1;
	h->next = 0;
	h->reserved = 0;
	((uint64_t *)(h + 1))[0] = SVSM_PVAL_ENTRY(gpa >> 12, SVSM_PVAL_SIZE_4K, validate, 0);
	return core_call(SVSM_CORE_PVALIDATE, pval_req, 0, 0, 0);
}

/* OS-owned but no longer validated: the monitor must not write the module there. */
static uint64_t unvalidated_pages(void)
{
	uint64_t rc;

	if (!regions_ready() || pvalidate_page(region_a, false) != SVSM_SUCCESS)
		return NOT_OS_MEMORY;
	rc = load_refused(&hello, ra(), MOD_PAGES, false);
	if (pvalidate_page(region_a, true) != SVSM_SUCCESS)
		panic("cannot validate 0x%lx again", region_a);
	touch(region_a, MOD_PAGES);
	return rc;
}

static uint64_t too_few_pages(void)
{
	return load_refused(&hello, ra(), 1, true);
}

/* A handle of slot 3 that was never issued (slot in range, generation not). */
static uint64_t unload_never(void)
{
	return mod_unload(0xABCD03);
}

/* ---- the load/unload sequence ------------------------------------------------------- */

static uint64_t seq_load(void)
{
	return regions_ready() ? mod_load(&hello, region_a, MOD_PAGES, &seq) : NOT_OS_MEMORY;
}

/* The same file again, into other pages, while it is loaded. */
static uint64_t seq_double_load(void)
{
	return load_refused(&hello, rb(), MOD_PAGES, true);
}

/* Another module into the loaded module's pages. */
static uint64_t seq_overlap(void)
{
	return load_refused(&counter, ra(), MOD_PAGES, false);
}

static uint64_t seq_unload(void)
{
	uint64_t rc = mod_unload(seq.handle);

	if (rc == SVSM_SUCCESS)
		touch(region_a, MOD_PAGES);
	return rc;
}

static uint64_t seq_double_unload(void)
{
	return mod_unload(seq.handle);
}

/* ---- violations ---------------------------------------------------------------------- */

static uint64_t write_module_text(void)
{
	struct loaded m;
	uint64_t rc = regions_ready() ? mod_load(&hello, region_a, MOD_PAGES, &m) : NOT_OS_MEMORY;

	if (rc != SVSM_SUCCESS)
		return rc;
	kprintf("attack-mod-write-text: writing module text, target gpa 0x%lx; the monitor "
		"must stop the CVM\n",
		m.init);
	*(volatile uint8_t *)m.init = 0xC3;
	return ~0ULL;
}

static uint64_t exec_after_unload(void)
{
	struct loaded m;
	uint64_t rc = regions_ready() ? mod_load(&hello, region_a, MOD_PAGES, &m) : NOT_OS_MEMORY;

	if (rc != SVSM_SUCCESS)
		return rc;
	((int (*)(void))m.init)();
	((void (*)(void))m.exit)();
	rc = mod_unload(m.handle);
	check("mod-unload", rc == SVSM_SUCCESS, rc);
	check("mod-unload-scrubbed", all_zero(region_a, MOD_PAGES), 0);
	/* The scrubbed page holds zeros; a `ret` there leaves the missing
	 * execute right as the only thing that can stop the call. */
	*(volatile uint8_t *)m.init = 0xC3;
	kprintf("attack-mod-exec-after-unload: calling the unloaded init, target gpa 0x%lx; the "
		"monitor must stop the CVM\n",
		m.init);
	((void (*)(void))m.init)();
	return ~0ULL;
}

/* A loaded module's first text page made shared and private again through
 * the hypervisor behind the monitor, then UNLOAD: the RMP refuses to take
 * that page's rights, so it is not as the monitor recorded. Tampering: the
 * monitor must stop the CVM (not fault scrubbing it, nor leave the module's
 * other pages executable and the call "done"). */
static uint64_t psc_unload(void)
{
	struct loaded m;
	uint64_t rc = regions_ready() ? mod_load(&hello, region_a, MOD_PAGES, &m) : NOT_OS_MEMORY;

	if (rc != SVSM_SUCCESS)
		return rc;
	if (ghcb_msr_psc(m.base, GHCB_MSR_PSC_SHARED) || ghcb_msr_psc(m.base, GHCB_MSR_PSC_PRIVATE))
		return ~2ULL;
	kprintf("attack-mod-psc-unload: unloading a module whose page changed state behind the "
		"monitor, target gpa 0x%lx; the monitor must stop the CVM\n",
		m.base);
	mod_unload(m.handle);
	return ~0ULL;
}

const struct scenario mod_scenarios[] = {
	{ "attack-mod-load-before-lock", load_before_lock, VEIL_MOD_ERR_NOT_LOCKED, PRE_LOCK },
	{ "attack-mod-bad-signature", bad_signature, VEIL_MOD_ERR_SIGNATURE, 0 },
	{ "attack-mod-tampered", tampered_bytes, VEIL_MOD_ERR_SIGNATURE, 0 },
	{ "attack-mod-unsigned", unsigned_module, VEIL_MOD_ERR_SIGNATURE, 0 },
	{ "attack-mod-wrong-key", wrong_key, VEIL_MOD_ERR_SIGNATURE, 0 },
	{ "attack-mod-not-elf", not_elf, VEIL_MOD_ERR_FORMAT, 0 },
	{ "attack-mod-unknown-symbol", unknown_symbol, VEIL_MOD_ERR_SYMBOL, 0 },
	{ "attack-mod-reloc-outside", reloc_outside, VEIL_MOD_ERR_RELOC, 0 },
	{ "attack-mod-null-section", null_alloc_section, VEIL_MOD_ERR_FORMAT, 0 },
	{ "attack-mod-file-monitor", file_monitor, SVSM_ERR_INVALID_ADDRESS, 0 },
	{ "attack-mod-monitor-pages", monitor_pages, VEIL_MOD_ERR_PAGES, 0 },
	{ "attack-mod-shared-pages", shared_pages, VEIL_MOD_ERR_PAGES, 0 },
	{ "attack-mod-kernel-text-pages", kernel_text_pages, VEIL_MOD_ERR_PAGES, 0 },
	{ "attack-mod-kernel-rodata-pages", kernel_rodata_pages, VEIL_MOD_ERR_PAGES, 0 },
	{ "attack-mod-unvalidated-pages", unvalidated_pages, VEIL_MOD_ERR_PAGES, 0 },
	{ "attack-mod-too-few-pages", too_few_pages, VEIL_MOD_ERR_SPACE, 0 },
	{ "attack-mod-unload-never", unload_never, VEIL_MOD_ERR_NOT_LOADED, 0 },
	{ "mod-load", seq_load, SVSM_SUCCESS, 0 },
	{ "attack-mod-double-load", seq_double_load, VEIL_MOD_ERR_LOADED, IN_SEQUENCE },
	{ "attack-mod-overlap", seq_overlap, VEIL_MOD_ERR_PAGES, IN_SEQUENCE },
	{ "mod-unload", seq_unload, SVSM_SUCCESS, IN_SEQUENCE },
	{ "attack-mod-double-unload", seq_double_unload, VEIL_MOD_ERR_NOT_LOADED, IN_SEQUENCE },
	{ "attack-mod-write-text", write_module_text, 0, VIOLATION },
	{ "attack-mod-exec-after-unload", exec_after_unload, 0, VIOLATION },
	{ "attack-mod-psc-unload", psc_unload, 0, VIOLATION },
};
const unsigned mod_nr_scenarios = ARRAY_SIZE(mod_scenarios);

/* ---- bench-modules: the same files without the monitor -------------------------------- */

/*
 * A minimal in-OS loader, as an OS without Veil would have it: same layout
 * as the monitor's (text pages first, then the rest), same relocations, no
 * signature check and no bounds checks (it trusts its own embedded files).
 * It runs before the boot lock only: afterwards OS pages cannot execute.
 */
#define ELF_SHT_SYMTAB 2
#define ELF_SHT_RELA 4
#define ELF_SHT_NOBITS 8
#define ELF_SHF_ALLOC 0x2
#define ELF_SHF_EXECINSTR 0x4
#define ELF_MAX_SECTIONS 64

struct elf_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf_shdr {
	uint32_t name, type;
	uint64_t flags, addr, offset, size;
	uint32_t link, info;
	uint64_t addralign, entsize;
};

struct elf_sym {
	uint32_t name;
	uint8_t info, other;
	uint16_t shndx;
	uint64_t value, size;
};

struct elf_rela {
	uint64_t offset, info;
	int64_t addend;
};

struct nload {
	const uint8_t *f;
	const struct elf_shdr *sh;
	unsigned shnum;
	const struct elf_sym *sym;
	unsigned nsym;
	const char *str;
	uint64_t addr[ELF_MAX_SECTIONS];
};

static int nl_parse(struct nload *l, const uint8_t *f)
{
	const struct elf_ehdr *eh = (const void *)f;
	unsigned i;

	if (strncmp((const char *)f,
		    "\x7f"
		    "ELF",
		    4) ||
	    eh->type != 1 || eh->shnum > ELF_MAX_SECTIONS)
		return -1;
	memset(l, 0, sizeof(*l));
	l->f = f;
	l->sh = (const void *)(f + eh->shoff);
	l->shnum = eh->shnum;
	for (i = 0; i < l->shnum; i++) {
		if (l->sh[i].type != ELF_SHT_SYMTAB)
			continue;
		l->sym = (const void *)(f + l->sh[i].offset);
		l->nsym = (unsigned)(l->sh[i].size / sizeof(struct elf_sym));
		l->str = (const char *)(f + l->sh[l->sh[i].link].offset);
	}
	return l->sym ? 0 : -1;
}

static void nl_place(struct nload *l, uint64_t base)
{
	uint64_t cur = base;
	unsigned pass, i;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < l->shnum; i++) {
			const struct elf_shdr *s = &l->sh[i];
			uint64_t a = s->addralign ? s->addralign : 1;

			if (!(s->flags & ELF_SHF_ALLOC) ||
			    !!(s->flags & ELF_SHF_EXECINSTR) != (pass == 0))
				continue;
			cur = (cur + a - 1) & ~(a - 1);
			l->addr[i] = cur;
			cur += s->size;
		}
		cur = (cur + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	}
}

static uint64_t nl_symbol(const struct nload *l, uint64_t idx)
{
	const struct elf_sym *s = &l->sym[idx];
	const struct veil_kci_export *e;
	unsigned i, n;

	if (s->shndx)
		return l->addr[s->shndx] + s->value;
	e = kci_exports(&n);
	for (i = 0; i < n; i++)
		if (!strncmp(e[i].name, l->str + s->name, VEIL_KCI_NAME_MAX))
			return e[i].addr;
	panic("bench loader: unknown symbol %s", l->str + s->name);
}

static void nl_relocate(const struct nload *l, const struct elf_shdr *rs)
{
	const struct elf_rela *r = (const void *)(l->f + rs->offset);
	uint64_t j, p, v;
	uint32_t v32;

	for (j = 0; j < rs->size / sizeof(*r); j++) {
		p = l->addr[rs->info] + r[j].offset;
		v = nl_symbol(l, r[j].info >> 32) + (uint64_t)r[j].addend;
		if ((uint32_t)r[j].info == 1) { /* R_X86_64_64 */
			memcpy((void *)p, &v, 8);
			continue;
		}
		if ((uint32_t)r[j].info == 2 || (uint32_t)r[j].info == 4) /* PC32, PLT32 */
			v -= p;
		v32 = (uint32_t)v; /* PC32, PLT32, 32, 32S */
		memcpy((void *)p, &v32, 4);
	}
}

static uint64_t nl_entry(const struct nload *l, const char *name)
{
	unsigned i;

	for (i = 1; i < l->nsym; i++)
		if (l->sym[i].shndx && !strncmp(l->str + l->sym[i].name, name, 32))
			return l->addr[l->sym[i].shndx] + l->sym[i].value;
	return 0;
}

static int native_load(const struct modfile *f, uint64_t base, struct loaded *m)
{
	struct nload l;
	unsigned i;

	if (nl_parse(&l, f->start))
		return -1;
	nl_place(&l, base);
	memset((void *)base, 0, MOD_PAGES * PAGE_SIZE);
	for (i = 0; i < l.shnum; i++)
		if (l.addr[i] && l.sh[i].type != ELF_SHT_NOBITS)
			memcpy((void *)l.addr[i], l.f + l.sh[i].offset, l.sh[i].size);
	for (i = 0; i < l.shnum; i++)
		if (l.sh[i].type == ELF_SHT_RELA && l.addr[l.sh[i].info])
			nl_relocate(&l, &l.sh[i]);
	*m = (struct loaded){ base, nl_entry(&l, "veil_module_init"),
			      nl_entry(&l, "veil_module_exit"), base };
	return m->init ? 0 : -1;
}

/* The monitor scrubs on UNLOAD; so does the in-OS loader, to compare like with like. */
static void native_unload(const struct loaded *m)
{
	memset((void *)m->base, 0, MOD_PAGES * PAGE_SIZE);
}

/* One round: both modules loaded, initialised and exited (first round only:
 * console output would swamp the figures), unloaded. 0 = all went well. */
static uint64_t bench_round(bool veil, bool call)
{
	struct loaded h, c;
	uint64_t rc;

	if (veil) {
		rc = mod_load(&hello, region_a, MOD_PAGES, &h);
		rc = rc ? rc : mod_load(&counter, region_b, MOD_PAGES, &c);
	} else {
		rc = native_load(&hello, region_a, &h) || native_load(&counter, region_b, &c);
	}
	if (rc)
		return rc;
	if (call) {
		((int (*)(void))h.init)();
		((int (*)(void))c.init)();
		((void (*)(void))h.exit)();
		((void (*)(void))c.exit)();
	}
	if (!veil) {
		native_unload(&h);
		native_unload(&c);
		return 0;
	}
	rc = mod_unload(h.handle);
	return rc ? rc : mod_unload(c.handle);
}

/*
 * bench-modules n=N path=native|veil|none: N rounds of load+unload of hello
 * and counter, with the in-OS loader (before the lock) or through the
 * monitor (after it); path=none is the host's baseline (boot and lock only).
 * The host (bench/kci-modules) times whole runs and subtracts the baseline.
 */
int bench_modules(bool locked)
{
	bool veil = cmdline_is("path", "veil");
	uint64_t n = cmdline_u64("n", 100), i, rc = 0, t0, t1;
	uint64_t before = module_counter;
	const uint64_t deltas =
		HELLO_INIT_DELTA + HELLO_EXIT_DELTA + COUNTER_INIT_DELTA + COUNTER_EXIT_DELTA;

	if (locked != veil || (!veil && !cmdline_is("path", "native")))
		return 0; /* not this phase's path */
	if (!regions_ready())
		return -1;
	t0 = rdtsc();
	for (i = 0; i < n && !rc; i++)
		rc = bench_round(veil, i == 0);
	t1 = rdtsc();
	kprintf("bench-modules: %s: %lu rounds of 2 loads + 2 unloads, %lu TSC ticks\n",
		veil ? "veil" : "native", i, t1 - t0);
	check(veil ? "bench-modules-veil" : "bench-modules-native",
	      !rc && module_counter == before + (n ? deltas : 0), rc);
	return rc ? -1 : 0;
}
