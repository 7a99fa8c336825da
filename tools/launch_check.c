/* SPDX-License-Identifier: MIT */
/*
 * launch_check.c - `veil-launch check`: is this host ready to launch Veil?
 * One line per item: "ok", "FAIL" (with what to do) or "?" (cannot tell).
 * Sources: /proc/cpuinfo and CPUID Fn8000_001F (AMD64 APM vol. 3, appendix E:
 * SEV-SNP bit 4, VMPL bit 5, C-bit EBX[5:0], VMPL count EBX[15:12]); the
 * kvm_amd module parameter sev_snp; /dev/sev and SNP_PLATFORM_STATUS (SNP
 * firmware ABI 56860; Linux uapi linux/psp-sev.h); the kernel release;
 * QEMU's --version and -object help; libvirt's virGetVersion.
 */
#include <cpuid.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <linux/psp-sev.h>

#include "launch_tool.h"

/* Linux 6.11+ uapi (include/uapi/linux/psp-sev.h); Debian 12's headers predate it. */
#ifndef SNP_PLATFORM_STATUS
#define SNP_PLATFORM_STATUS 9
#endif

struct check {
	const char *root; /* NULL: the live host */
	const char *qemu;
	unsigned fails;
};

static void line(struct check *c, int state, const char *item, const char *what, const char *todo)
{
	static const char *const tag[] = { "FAIL", "ok", "?" };

	printf("%-4s %-18s %s\n", tag[state], item, what);
	if (state == 0) {
		printf("     %-18s -> %s\n", "", todo);
		c->fails++;
	}
}

/* Read a small file under the root into buf; returns false if absent. */
static bool read_text(const struct check *c, const char *path, char *buf, size_t n)
{
	char full[4096];
	FILE *f;
	size_t got;

	snprintf(full, sizeof(full), "%s%s", c->root ? c->root : "", path);
	if (!(f = fopen(full, "r")))
		return false;
	got = fread(buf, 1, n - 1, f);
	buf[got] = '\0';
	fclose(f);
	return true;
}

static bool exists(const struct check *c, const char *path)
{
	char full[4096];

	snprintf(full, sizeof(full), "%s%s", c->root ? c->root : "", path);
	return access(full, F_OK) == 0;
}

/* The value after "key\t: " in the first processor block of /proc/cpuinfo. */
static bool cpuinfo_field(const char *info, const char *key, char *out, size_t n)
{
	for (const char *p = info; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		size_t k = strlen(key);
		const char *colon;

		if (strncmp(p, key, k) || (p[k] != '\t' && p[k] != ' ') ||
		    !(colon = strchr(p, ':')))
			continue;
		colon += colon[1] == ' ' ? 2 : 1;
		snprintf(out, n, "%.*s", (int)strcspn(colon, "\n"), colon);
		return true;
	}
	return false;
}

static const char *generation(unsigned family, unsigned model)
{
	if (family == 0x19 && model <= 0x0F)
		return "EPYC Milan (Zen 3)";
	if (family == 0x19 && model >= 0x10 && model <= 0x1F)
		return "EPYC Genoa (Zen 4)";
	if (family == 0x19 && model >= 0xA0 && model <= 0xAF)
		return "EPYC Bergamo/Siena (Zen 4c)";
	if (family == 0x1A)
		return "EPYC Turin (Zen 5)";
	return NULL;
}

static void check_cpu(struct check *c, char *info)
{
	char vendor[64] = "", fam[16] = "", mod[16] = "", name[128] = "", flags[8192] = "", w[300];
	unsigned family, model;
	const char *gen;

	if (!read_text(c, "/proc/cpuinfo", info, 65536)) {
		line(c, 0, "cpu", "/proc/cpuinfo unreadable",
		     "run on the host, not in a container");
		return;
	}
	cpuinfo_field(info, "vendor_id", vendor, sizeof(vendor));
	cpuinfo_field(info, "cpu family", fam, sizeof(fam));
	cpuinfo_field(info, "model", mod, sizeof(mod));
	cpuinfo_field(info, "model name", name, sizeof(name));
	cpuinfo_field(info, "flags", flags, sizeof(flags));
	family = (unsigned)strtoul(fam, NULL, 10);
	model = (unsigned)strtoul(mod, NULL, 10);
	gen = strcmp(vendor, "AuthenticAMD") ? NULL : generation(family, model);
	snprintf(w, sizeof(w), "%s, family %#x model %#x%s%s", name[0] ? name : vendor, family,
		 model, gen ? ": " : "", gen ? gen : "");
	line(c, gen != NULL, "cpu", w,
	     "Veil needs an AMD EPYC with SEV-SNP: Milan (family 0x19 model 0x00-0x0f), Genoa "
	     "(0x19, 0x10-0x1f) or later");
	snprintf(w, sizeof(w), "sev_snp %s in /proc/cpuinfo flags",
		 strstr(flags, " sev_snp") || !strncmp(flags, "sev_snp", 7) ? "present" : "absent");
	line(c, strstr(w, "present") != NULL, "cpu snp", w,
	     "enable SEV-SNP in the firmware setup (SMEE, SEV-SNP, SNP memory coverage) and boot a "
	     "kernel with SNP host support (6.11+)");
}

static void check_cpuid(struct check *c)
{
	unsigned a, b, cx, d;
	char w[200];

	if (c->root) {
		line(c, 2, "cpuid 0x8000001f",
		     "not read (--root: the live CPU is not the one checked)", "");
		return;
	}
	if (!__get_cpuid(0x8000001F, &a, &b, &cx, &d)) {
		line(c, 0, "cpuid 0x8000001f", "leaf absent", "run on an AMD EPYC host");
		return;
	}
	snprintf(w, sizeof(w), "SNP %s, VMPL %s, %u VMPLs, C-bit %u", a & 0x10 ? "yes" : "no",
		 a & 0x20 ? "yes" : "no", (b >> 12) & 0xF, b & 0x3F);
	line(c, (a & 0x30) == 0x30 && ((b >> 12) & 0xF) >= 2, "cpuid 0x8000001f", w,
	     "this CPU (or the firmware setup) offers no SEV-SNP with VMPLs");
}

static void check_kvm(struct check *c)
{
	char v[64] = "";
	bool on = read_text(c, "/sys/module/kvm_amd/parameters/sev_snp", v, sizeof(v)) &&
		  (v[0] == 'Y' || v[0] == '1');

	line(c, on, "kvm_amd sev_snp", v[0] ? (on ? "Y" : "N") : "kvm_amd not loaded",
	     "load kvm_amd with SNP (modprobe kvm_amd sev_snp=1) on a kernel with SNP host support; "
	     "dmesg tells why SNP did not initialise");
}

static void check_firmware(struct check *c)
{
	struct sev_issue_cmd cmd = { .cmd = SNP_PLATFORM_STATUS };
	uint8_t st[4096] = { 0 };
	uint32_t build;
	char w[128];
	int fd;

	line(c, exists(c, "/dev/sev"), "/dev/sev", exists(c, "/dev/sev") ? "present" : "absent",
	     "the ccp driver did not bring up the AMD-SP: check 'dmesg | grep -i sev'");
	if (c->root) {
		line(c, 2, "snp firmware", "not queried (--root: no ioctl on a fake tree)", "");
		return;
	}
	cmd.data = (uint64_t)(uintptr_t)st;
	if ((fd = open("/dev/sev", O_RDWR)) < 0 || ioctl(fd, SEV_ISSUE_CMD, &cmd) < 0) {
		line(c, 2, "snp firmware",
		     "SNP_PLATFORM_STATUS not available (needs root and 6.11+)", "");
	} else {
		/* SNP_PLATFORM_STATUS: API major, minor, state, flags, build id (ABI 56860). */
		memcpy(&build, st + 4, 4);
		snprintf(w, sizeof(w), "SNP API %u.%u build %u", st[0], st[1], build);
		line(c, st[0] > 1 || (st[0] == 1 && st[1] >= 51), "snp firmware", w,
		     "update the SEV firmware (AMD's SEV firmware for your EPYC generation, or a "
		     "BIOS update) to SNP API 1.51 or later");
	}
	if (fd >= 0)
		close(fd);
}

static void check_kernel(struct check *c)
{
	char rel[256] = "", w[400];
	unsigned maj = 0, min = 0;
	bool svsm;

	if (!read_text(c, "/proc/sys/kernel/osrelease", rel, sizeof(rel))) {
		line(c, 0, "kernel", "release unknown", "run on the host");
		return;
	}
	rel[strcspn(rel, "\n")] = '\0';
	sscanf(rel, "%u.%u", &maj, &min);
	snprintf(w, sizeof(w), "%s (SNP host support upstream since 6.11)", rel);
	line(c, maj > 6 || (maj == 6 && min >= 11) || strcasestr(rel, "svsm"), "kernel", w,
	     "boot a 6.11+ kernel, or COCONUT-SVSM's host kernel (branch svsm)");
	svsm = strcasestr(rel, "svsm") || strcasestr(rel, "coconut") || strcasestr(rel, "planes");
	snprintf(w, sizeof(w), "%s",
		 svsm ? "host kernel built for multi-VMPL (release names svsm)" :
			"upstream KVM runs guests at VMPL0 only");
	line(c, svsm, "kernel multi-VMPL", w,
	     "a VMPL0 monitor with the OS at VMPL>0 needs a multi-VMPL host kernel: COCONUT-SVSM's "
	     "svsm branch (build it with 'svsm' in its local version so this check sees it); "
	     "see docs/deploy.md");
}

/* Run "QEMU ARG" and return its output (malloc'd), or NULL. */
static char *qemu_output(const struct check *c, const char *arg)
{
	char cmd[4200], *out = malloc(65536);
	size_t n = 0, got;
	FILE *p;

	if (!out)
		return NULL;
	snprintf(cmd, sizeof(cmd), "%s %s 2>/dev/null", launch_shell_quote(c->qemu), arg);
	if (!(p = popen(cmd, "r"))) {
		free(out);
		return NULL;
	}
	while (n < 65535 && (got = fread(out + n, 1, 65535 - n, p)) > 0)
		n += got;
	out[n] = '\0';
	if (pclose(p) != 0 || !n) {
		free(out);
		return NULL;
	}
	return out;
}

static bool has_word(const char *text, const char *word)
{
	size_t k = strlen(word);

	for (const char *p = strstr(text, word); p; p = strstr(p + 1, word))
		if ((p == text || p[-1] == ' ' || p[-1] == '\n') &&
		    (p[k] == '\n' || p[k] == ' ' || p[k] == ',' || !p[k]))
			return true;
	return false;
}

static void check_qemu(struct check *c)
{
	char *ver = qemu_output(c, "--version"), *obj, w[300];
	unsigned maj = 0, min = 0, mic = 0;

	if (!ver || !strstr(ver, "QEMU emulator version ")) {
		snprintf(w, sizeof(w), "'%s' not found or not QEMU", c->qemu);
		line(c, 0, "qemu", w,
		     "install QEMU 10.1+ built with IGVM support (docs/deploy.md)");
		free(ver);
		return;
	}
	sscanf(strstr(ver, "QEMU emulator version ") + 22, "%u.%u.%u", &maj, &min, &mic);
	snprintf(w, sizeof(w), "%u.%u.%u at %s (IGVM loading needs 10.1+)", maj, min, mic, c->qemu);
	line(c, maj > 10 || (maj == 10 && min >= 1), "qemu", w,
	     "build QEMU 10.1 or later with --enable-igvm (docs/deploy.md)");
	free(ver);
	obj = qemu_output(c, "-object help");
	line(c, obj && has_word(obj, "sev-snp-guest"), "qemu sev-snp-guest",
	     obj && has_word(obj, "sev-snp-guest") ? "available" : "missing",
	     "use QEMU 9.1+ for x86_64 with KVM (sev-snp-guest)");
	line(c, obj && has_word(obj, "igvm-cfg"), "qemu igvm-cfg",
	     obj && has_word(obj, "igvm-cfg") ? "available" : "missing",
	     "this QEMU was built without IGVM (Debian's packages are): build QEMU with "
	     "--enable-igvm against the igvm C library (docs/deploy.md)");
	free(obj);
}

static void check_libvirt(struct check *c)
{
	unsigned long v = 0;
	char w[128];

	if (virGetVersion(&v, NULL, NULL) < 0) {
		line(c, 0, "libvirt", "library unusable", "install libvirt 10.5+");
		return;
	}
	snprintf(w, sizeof(w), "%lu.%lu.%lu (sev-snp launch security needs 10.5+; optional)",
		 v / 1000000, v / 1000 % 1000, v % 1000);
	line(c, v >= 10005000, "libvirt", w,
	     "install libvirt 10.5+ (Debian 12: bookworm-backports), or launch with "
	     "veil-launch qemu");
}

int launch_cmd_check(int argc, char **argv)
{
	struct check c = { .qemu = "qemu-system-x86_64" };
	char *info;

	for (int i = 0; i < argc; i += 2) {
		if (i + 1 >= argc)
			return launch_fail(2, "option '%s' needs a value", argv[i]);
		if (!strcmp(argv[i], "--root"))
			c.root = argv[i + 1];
		else if (!strcmp(argv[i], "--qemu"))
			c.qemu = argv[i + 1];
		else
			return launch_fail(2, "unknown option '%s' (see veil-launch --help)",
					   argv[i]);
	}
	if (c.root && access(c.root, F_OK))
		return launch_fail(2, "--root %s: no such directory", c.root);
	if (!(info = malloc(65536)))
		return launch_fail(1, "out of memory");
	check_cpu(&c, info);
	free(info);
	check_cpuid(&c);
	check_kvm(&c);
	check_firmware(&c);
	check_kernel(&c);
	check_qemu(&c);
	check_libvirt(&c);
	printf("%s: %u item(s) to fix\n", c.fails ? "not ready" : "ready", c.fails);
	return c.fails ? 1 : 0;
}
