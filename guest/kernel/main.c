/* SPDX-License-Identifier: MIT */
/*
 * main.c - boot of the test OS on the boot vCPU.
 *
 * Order matters: tables and page tables first (no I/O needed), then the GHCB
 * (rescind + PSC + register; only the GHCB MSR protocol and the monitor are
 * needed), and only then the console, which runs on #VC + GHCB IOIO.
 */
#include "kernel.h"

struct veil_boot_info boot;
struct percpu cpus[VEIL_BOOT_MAX_VCPUS];
unsigned nr_pass, nr_fail, nr_skip;

static uint8_t bsp_df_stack[PAGE_SIZE] ALIGNED(16);
extern char bsp_stack_top[];

void check(const char *name, bool ok, uint64_t got)
{
	if (ok) {
		nr_pass++;
		kprintf("PASS %s\n", name);
	} else {
		nr_fail++;
		kprintf("FAIL %s: got 0x%lx\n", name, got);
	}
}

void skip(const char *name, const char *why)
{
	nr_skip++;
	kprintf("SKIP %s: %s\n", name, why);
}

uint64_t core_call(uint32_t call, uint64_t rcx, uint64_t rdx, uint64_t r8,
		   struct svsm_call_out *out)
{
	return svsm_call(this_cpu()->caa, SVSM_CORE_PROTOCOL, call, rcx, rdx, r8, 0, out);
}

/* First range of `type`, if any. */
bool mem_range_of(uint32_t type, uint64_t *gpa, uint64_t *len)
{
	unsigned i;

	for (i = 0; i < boot.nr_ranges; i++) {
		if (boot.ranges[i].type == type) {
			*gpa = boot.ranges[i].gpa;
			*len = boot.ranges[i].len;
			return true;
		}
	}
	return false;
}

/* Keep a private copy: the boot area is ours, but tests may reuse pages. */
static void boot_info_take(const struct veil_boot_info *bi)
{
	memcpy(&boot, bi, sizeof(boot));
	boot.cmdline[sizeof(boot.cmdline) - 1] = 0;
	if (boot.magic != VEIL_BOOT_MAGIC || boot.version != VEIL_BOOT_VERSION ||
	    boot.nr_ranges > VEIL_BOOT_MAX_RANGES || boot.nr_vcpus == 0 ||
	    boot.nr_vcpus > VEIL_BOOT_MAX_VCPUS)
		terminate(VEIL_TERM_TEST_FAILED);
}

static void bsp_init(void)
{
	struct percpu *c = &cpus[0];

	c->self = c;
	c->id = 0;
	c->caa_gpa = boot.caa_gpa;
	c->caa = (struct svsm_caa *)boot.caa_gpa;
	c->stack_top = (uint64_t)bsp_stack_top;
	c->df_stack_top = (uint64_t)bsp_df_stack + sizeof(bsp_df_stack);
	cpu_tables_init();
	cpu_tables_load(0);
	mm_init();
}

/* Without a GHCB nothing can be printed: failures here only terminate. */
static void bsp_ghcb_init(void)
{
	struct percpu *c = &cpus[0];

	if (ghcb_share(0) || ghcb_msr_register((uint64_t)c->ghcb))
		terminate(VEIL_TERM_TEST_FAILED);
	c->ghcb_ready = true;
}

static void banner(void)
{
	static const char *const mem_types[] = { "?", "os-validated", "os-unvalidated", "monitor" };
	uint32_t r[4], vendor[4] = { 0 };
	unsigned i;

	cpuid(0, r);
	vendor[0] = r[1];
	vendor[1] = r[3];
	vendor[2] = r[2];
	kprintf("veil-testos: %u vCPUs, %lu MiB, VMPL %u, SEV features 0x%lx, cpu \"%s\"\n",
		boot.nr_vcpus, boot.mem_size >> 20, guest_vmpl(), sev_features(),
		(const char *)vendor);
	kprintf("veil-testos: image 0x%lx-0x%lx, CAA 0x%lx, hv features 0x%lx, cmdline \"%s\"\n",
		boot.kernel_start, boot.kernel_end, boot.caa_gpa, ghcb_msr_hv_features(),
		boot.cmdline);
	for (i = 0; i < boot.nr_ranges; i++)
		kprintf("veil-testos: memory 0x%lx-0x%lx %s\n", boot.ranges[i].gpa,
			boot.ranges[i].gpa + boot.ranges[i].len,
			boot.ranges[i].type < ARRAY_SIZE(mem_types) ?
				mem_types[boot.ranges[i].type] :
				"?");
}

/* "test=NAME" anywhere in the command line; default all-ok. */
static const char *test_name(void)
{
	static char name[64];
	const char *p = boot.cmdline;
	unsigned n = 0;

	while (*p && strncmp(p, "test=", 5)) {
		while (*p && *p != ' ')
			p++;
		while (*p == ' ')
			p++;
	}
	if (!*p)
		return "all-ok";
	for (p += 5; *p && *p != ' ' && n < sizeof(name) - 1; p++)
		name[n++] = *p;
	name[n] = 0;
	return name;
}

NORETURN void kmain(const struct veil_boot_info *bi);
NORETURN void kmain(const struct veil_boot_info *bi)
{
	const char *name;
	int rc;

	boot_info_take(bi);
	bsp_init();
	bsp_ghcb_init();
	banner();
	name = test_name();
	kprintf("veil-testos: test=%s\n", name);
	kci_boot(name);
	audit_kci_state();
	rc = run_test(name);
	kprintf("veil-testos: %u passed, %u failed, %u skipped\n", nr_pass, nr_fail, nr_skip);
	terminate(rc || nr_fail ? VEIL_TERM_TEST_FAILED : VEIL_TERM_OK);
}
