/* SPDX-License-Identifier: MIT */
/*
 * veil-launch - launch Veil's IGVM file on an SEV-SNP host.
 *
 *   veil-launch check [--root DIR] [--qemu PATH]
 *   veil-launch qemu --igvm FILE [options] [--run]
 *   veil-launch libvirt --igvm FILE [options] [-o XML] [--define URI [--start]]
 *
 * check reads the host's readiness line by line (what to do about each
 * failing line is printed with it); qemu prints or runs the QEMU command
 * line; libvirt writes the domain XML and can define and start it through
 * libvirt's C API. docs/deploy.md walks through a launch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "hostio.h"
#include "launch_tool.h"

static const char usage[] =
	"usage: veil-launch check [--root DIR] [--qemu PATH]\n"
	"       veil-launch qemu --igvm FILE [--mem MiB] [--vcpus N] [--qemu PATH] [--name NAME]\n"
	"                        [--cbitpos N] [--reduced-phys-bits N] [--run]\n"
	"       veil-launch libvirt --igvm FILE [--mem MiB] [--vcpus N] [--qemu PATH]\n"
	"                        [--name NAME] [--cbitpos N] [--reduced-phys-bits N]\n"
	"                        [-o XML] [--define URI [--start]]\n"
	"Launches Veil's IGVM file (made by veil-igvm build) on an AMD SEV-SNP host.\n"
	"check    reports host readiness, one line per item: CPU (family/model, SNP in\n"
	"         /proc/cpuinfo and CPUID 0x8000001F), kvm_amd sev_snp, /dev/sev and the\n"
	"         SNP firmware version, the host kernel and multi-VMPL support, QEMU (version,\n"
	"         sev-snp-guest, igvm-cfg) and libvirt. Each line starts with 'ok', 'FAIL' or\n"
	"         '?' (cannot tell); a FAIL line says what to do. --root DIR reads /proc,\n"
	"         /sys and /dev under DIR (and skips the CPUID instruction and ioctls).\n"
	"         Exit 0 when no line fails, 1 otherwise.\n"
	"qemu     prints the QEMU command line (QEMU 10.1+ built with IGVM support): the\n"
	"         IGVM file through -object igvm-cfg, an sev-snp-guest object with the file's\n"
	"         policy, a memfd memory backend. Memory and vCPUs default to the file's.\n"
	"         --run executes it instead.\n"
	"libvirt  writes the domain XML (<launchSecurity type='sev-snp'>; the IGVM object\n"
	"         through <qemu:commandline>, as libvirt has no IGVM element) to -o or\n"
	"         stdout; --define URI defines it through libvirt's C API (e.g.\n"
	"         qemu:///system, or test:///default to try it), --start also starts it.\n"
	"Exit status: 0 ok, 1 failure (host not ready, bad file, libvirt error), 2 bad usage.\n";

static int parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 0);
	return !*s || *end || errno || *s == '-' || *v < lo || *v > hi ? -1 : 0;
}

/* Options shared by qemu and libvirt. Returns 0, or the exit status. */
static int vm_option(struct launch_vm *vm, const char *o, const char *a)
{
	unsigned long v;

	if (!strcmp(o, "--igvm")) {
		vm->igvm = a;
	} else if (!strcmp(o, "--mem")) {
		if (parse_uint(a, 16, 1 << 20, &v))
			return launch_fail(2, "--mem takes MiB, 16 to 1048576, got '%s'", a);
		vm->mem_mib = v;
	} else if (!strcmp(o, "--vcpus")) {
		if (parse_uint(a, 1, 512, &v))
			return launch_fail(2, "--vcpus must be 1 to 512, got '%s'", a);
		vm->vcpus = (unsigned)v;
	} else if (!strcmp(o, "--qemu")) {
		vm->qemu = a;
	} else if (!strcmp(o, "--name")) {
		if (!*a ||
		    strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			      "-_.") != strlen(a))
			return launch_fail(2, "--name takes letters, digits, '-', '_' and '.'");
		vm->name = a;
	} else if (!strcmp(o, "--cbitpos")) {
		if (parse_uint(a, 32, 51, &v))
			return launch_fail(2, "--cbitpos must be 32 to 51, got '%s'", a);
		vm->cbitpos = (unsigned)v;
	} else if (!strcmp(o, "--reduced-phys-bits")) {
		if (parse_uint(a, 1, 63, &v))
			return launch_fail(2, "--reduced-phys-bits must be 1 to 63, got '%s'", a);
		vm->reduced_phys_bits = (unsigned)v;
	} else {
		return -1;
	}
	return 0;
}

static int parse_vm(struct launch_vm *vm, int argc, char **argv,
		    int (*extra)(void *, const char *, const char *, int *), void *ctx)
{
	for (int i = 0; i < argc; i++) {
		const char *o = argv[i], *a = i + 1 < argc ? argv[i + 1] : NULL;
		int rc, used = 1;

		if (extra && (rc = extra(ctx, o, a, &used)) >= 0) {
			if (rc)
				return rc;
			i += used - 1;
			continue;
		}
		if (!a)
			return launch_fail(2, "option '%s' needs a value (see veil-launch --help)",
					   o);
		rc = vm_option(vm, o, a);
		if (rc < 0)
			return launch_fail(2, "unknown option '%s' (see veil-launch --help)", o);
		if (rc)
			return rc;
		i++;
	}
	if (!vm->igvm)
		return launch_fail(2, "--igvm FILE is required");
	return launch_vm_from_igvm(vm);
}

struct qemu_opts {
	bool run;
};

static int qemu_extra(void *ctx, const char *o, const char *a, int *used)
{
	(void)a;
	(void)used;
	if (strcmp(o, "--run"))
		return -1;
	((struct qemu_opts *)ctx)->run = true;
	return 0;
}

static int cmd_qemu(int argc, char **argv)
{
	struct launch_vm vm = LAUNCH_VM_INIT;
	struct qemu_opts q = { false };
	struct launch_argv av = { 0 };
	int rc = parse_vm(&vm, argc, argv, qemu_extra, &q);

	if (rc)
		return rc;
	if (launch_qemu_argv(&vm, &av))
		return launch_fail(1, "out of memory");
	if (q.run) {
		fflush(stdout);
		execvp(av.v[0], av.v);
		return launch_fail(1, "cannot run '%s': %s", av.v[0], strerror(errno));
	}
	/* One option and its value per line, ready to paste into a shell. */
	for (int i = 0; i < av.n; i++)
		printf("%s%s",
		       !i		 ? "" :
		       av.v[i][0] == '-' ? " \\\n  " :
					   " ",
		       launch_shell_quote(av.v[i]));
	printf("\n");
	launch_argv_free(&av);
	return 0;
}

struct virt_opts {
	const char *out, *uri;
	bool start;
};

static int virt_extra(void *ctx, const char *o, const char *a, int *used)
{
	struct virt_opts *v = ctx;

	if (!strcmp(o, "--start")) {
		v->start = true;
		return 0;
	}
	if (strcmp(o, "-o") && strcmp(o, "--define"))
		return -1;
	if (!a)
		return launch_fail(2, "option '%s' needs a value", o);
	*(!strcmp(o, "-o") ? &v->out : &v->uri) = a;
	*used = 2;
	return 0;
}

static void quiet_errors(void *data, virErrorPtr e)
{
	(void)data;
	(void)e;
}

/* Define (and start) the domain through libvirt's C API. */
static int define_domain(const char *uri, const char *xml, bool start, const char *name)
{
	virConnectPtr c;
	virDomainPtr d;
	int rc = 0;

	virSetErrorFunc(NULL, quiet_errors);
	if (!(c = virConnectOpen(uri)))
		return launch_fail(1, "libvirt: cannot connect to %s: %s", uri,
				   virGetLastErrorMessage());
	d = virDomainDefineXMLFlags(c, xml, VIR_DOMAIN_DEFINE_VALIDATE);
	if (!d) {
		rc = launch_fail(1, "libvirt: defining '%s' on %s failed: %s", name, uri,
				 virGetLastErrorMessage());
	} else if (start && virDomainCreate(d)) {
		rc = launch_fail(1, "libvirt: starting '%s' on %s failed: %s", name, uri,
				 virGetLastErrorMessage());
	} else {
		printf("veil-launch: domain '%s' %s on %s\n", name,
		       start ? "defined and started" : "defined", uri);
	}
	if (d)
		virDomainFree(d);
	virConnectClose(c);
	return rc;
}

static int cmd_libvirt(int argc, char **argv)
{
	struct launch_vm vm = LAUNCH_VM_INIT;
	struct virt_opts v = { 0 };
	char *xml;
	int rc = parse_vm(&vm, argc, argv, virt_extra, &v);

	if (rc)
		return rc;
	if (v.start && !v.uri)
		return launch_fail(2, "--start needs --define URI");
	if (!(xml = launch_domain_xml(&vm)))
		return launch_fail(1, "out of memory");
	if (v.out || !v.uri) {
		FILE *f = v.out ? fopen(v.out, "w") : stdout;

		if (!f)
			rc = launch_fail(1, "cannot create '%s': %s", v.out, strerror(errno));
		else if (fputs(xml, f) < 0 || (v.out && fclose(f)))
			rc = launch_fail(1, "writing the domain XML failed: %s", strerror(errno));
	}
	if (!rc && v.uri)
		rc = define_domain(v.uri, xml, v.start, vm.name);
	free(xml);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return launch_fail(2, "missing command (try veil-launch --help)");
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") ||
		    !strcmp(argv[1], "help")) {
			fputs(usage, stdout);
			return 0;
		}
	if (!strcmp(argv[1], "--version")) {
		hio_print_version("veil-launch");
		return 0;
	}
	if (argv[1][0] == '-')
		return launch_fail(2, "unknown option '%s' (see veil-launch --help)", argv[1]);
	if (!strcmp(argv[1], "check"))
		return launch_cmd_check(argc - 2, argv + 2);
	if (!strcmp(argv[1], "qemu"))
		return cmd_qemu(argc - 2, argv + 2);
	if (!strcmp(argv[1], "libvirt"))
		return cmd_libvirt(argc - 2, argv + 2);
	return launch_fail(2, "unknown command '%s' (try veil-launch --help)", argv[1]);
}
