/* SPDX-License-Identifier: MIT */
/* cli_run.c - `veil-emu run`: its options, and the monitor and an OS booted on the machine. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, isatty */
#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <veil/monitor.h>

#include "amdsp.h"
#include "cli.h"
#include "debug_cli.h"
#include "emu.h"
#include "emu_run.h"
#include "hostio.h"
#include "launch_igvm.h"
#include "linux_boot.h"
#include "term.h"

static const char usage_run[] =
	"usage: veil-emu run [--kernel ELF | --igvm FILE] [--vcpus N] [--mem MiB] [--cmdline STR]\n"
	"                    [--com2 FILE]\n"
	"                    [--log-size BYTES] [--log-domain MODE]\n"
	"                    [--max-insns N] [--trace FILE [--trace-insns]]\n"
	"                    [--gdb PORT | --gdb-nowait PORT] [--replay FILE --replay-to N]\n"
	"                    [--monitor IMAGE | --native]\n"
	"                    [--attest-seed STR]\n"
	"       veil-emu run --linux [--kernel BZIMAGE] [--initrd FILE] [--append CMDLINE]\n"
	"                    [--init-script FILE] [...]\n"
	"Boots the Veil monitor at VMPL0 and an OS image at VMPL3 on the SNP machine model.\n"
	"The OS console goes to stdout; the exit status is the OS's termination code.\n"
	"  --kernel ELF    OS image: an ELF64 x86-64 executable (guest/include/veil/boot.h);\n"
	"                  default: the built-in test OS\n"
	"  --igvm FILE     launch an IGVM file made by veil-igvm build as QEMU's IGVM loader\n"
	"                  and the AMD-SP would: every page placed and measured\n"
	"                  (SNP_LAUNCH_UPDATE, VMSA last), 'launch digest: HEX' printed,\n"
	"                  then the file's VMPL0 image boots from the file's VMSA (image\n"
	"                  mode) with the file's OS, command line and memory size; --vcpus\n"
	"                  (default: the file's) is the loader's vCPU count\n"
	"  --vcpus N       vCPUs, 1-64 (default 1)\n"
	"  --mem MiB       guest memory, an even number from 16 to 6912 (default 64);\n"
	"                  the monitor owns the top 8 MiB, which holds 1 KiB of page table\n"
	"                  per MiB of guest memory, the secure log and 1 MiB of its own,\n"
	"                  so with --log-size L the limit is 7168 - L/1024\n"
	"  --cmdline STR   handed to the OS in its boot info (the test OS takes test=NAME)\n"
	"  --max-insns N   stop after N guest instructions (exact counting; slower)\n"
	"  --com2 FILE     write what the OS sends to serial port COM2 (0x2F8) to FILE\n"
	"                  (the test OS dumps its secure log there)\n"
	"  --log-size BYTES  room for secure log records, 1 to 4194304 (rounded up to\n"
	"                  pages; default: the monitor's, 256 KiB)\n"
	"  --log-domain on|off|fault-test  where the secure log keeps its records: on\n"
	"                  (default) in its own VMPL1 ring-3 domain; off in the monitor\n"
	"                  (the baseline bench/log measures); fault-test is TEST-ONLY:\n"
	"                  on, and the log's fault-injection call is accepted\n"
	"  --monitor IMAGE the VMPL0 monitor image to launch (default: veil-monitor found\n"
	"                  beside veil-emu: the build tree's backends/snp/ or the install\n"
	"                  prefix's lib/veil/); the model runs its code at VMPL0\n"
	"  --native        run the native monitor (core/ compiled into veil-emu, one fiber\n"
	"                  per vCPU) instead of the image (with --linux too)\n"
	"  --attest-seed STR  seed of the model AMD-SP's keys (VMPCKs, VCEK, ARK, ASK;\n"
	"                  default \"" AMDSP_DEFAULT_SEED "\"); NOT AMD keys\n"
	"  --linux         boot a Linux bzImage with the x86 64-bit boot protocol instead\n"
	"                  (default kernel: Debian's, fetched by setup; default --mem 256)\n"
	"  --initrd FILE   Linux initramfs (default: the BusyBox one built with veil-emu)\n"
	"  --append STR    Linux command line (default: \"" VEIL_LINUX_APPEND "\")\n"
	"  --init-script FILE  a shell script the initramfs's /init runs with BusyBox sh\n"
	"                  (added to the initrd as /init.script); its output goes to the\n"
	"                  console through the kernel log, its exit status becomes the\n"
	"                  run's at the power-off that follows\n" EMU_DBG_CLI_USAGE
	"With --trace-insns, a warning once the trace passes VEIL_TRACE_WARN_MIB (default\n"
	"1024) MiB, and its size at the end. A run of more than 2 s shows its progress on\n"
	"stderr when that is a terminal (and stdout is not).\n"
	"Inputs (--kernel) must be regular, non-empty files; no output (--com2, --trace)\n"
	"may be an input or the other output.\n"
	"Exit status: the termination code when the OS or the monitor ends the run through\n"
	"the GHCB with reason set 2 (0 ok, 1 self-test failed, 4 violation stopped by the\n"
	"monitor, 5 monitor failure; a Linux guest's ACPI power-off: the --init-script's\n"
	"status, else 0); 1 for any other end or a failure of veil-emu itself\n"
	"(unreadable image, failed write; reason on stderr); 2 for a bad command line.\n";

struct emu_run_opts {
	const char *kernel, *cmdline, *com2, *igvm, *image, *seed;
	bool kernel_set, image_set, linux_boot, native;
	struct emu_linux_opts lx;	    /* --linux: kernel, initrd, command line */
	struct emu_linux_boot lb;	    /* its entry state, for the monitor */
	uint64_t vcpus, mem, max, log_size; /* vcpus, mem: 0 = from --igvm or the default */
	uint32_t log_domain;		    /* enum veil_log_domain */
	struct emu_igvm ig;		    /* the open --igvm file */
};

/* The monitor's 8 MiB region (VEIL_MONITOR_SIZE) holds its page-ownership
 * table (4 bytes per 4 KiB page: 1 KiB per MiB of guest memory), the secure
 * log's store and up to 1 MiB of its own (VMSAs, stacks, service state:
 * about 300 KiB with 64 vCPUs, 256 KiB for the one copy of a file the module
 * and enclave services share, the log domain's 72 KiB and a VMSA for it per
 * vCPU that logs: 256 KiB with 64). Beyond this the monitor cannot start. */
#define RUN_MON_KIB ((uint64_t)8192)
#define RUN_MON_OWN_KIB ((uint64_t)1024)
#define RUN_LOG_DEFAULT ((uint64_t)262144)

static int run_mem_fits(const struct emu_run_opts *r)
{
	uint64_t log = r->log_size ? (r->log_size + 4095) & ~4095ULL : RUN_LOG_DEFAULT;
	uint64_t img = r->image ? (emu_image_share(r->image, r->mem << 20, (unsigned)r->vcpus) +
				   1023) / 1024 :
				  0;
	int64_t max = (int64_t)(RUN_MON_KIB - RUN_MON_OWN_KIB - log / 1024 - img);
	char what[80] = "";

	if ((int64_t)r->mem <= max)
		return 0;
	if (img)
		snprintf(what, sizeof(what),
			 ", the monitor image and its stacks (%" PRIu64 " KiB, %" PRIu64 " vCPUs)",
			 img, r->vcpus);
	fprintf(stderr,
		"veil-emu: --mem %" PRIu64
		" does not fit the monitor's 8 MiB region with a %" PRIu64
		" KiB log%s (1 KiB of page table per MiB + the log + 1 MiB): at most %" PRId64
		" MiB\n",
		r->mem, log / 1024, what, max < 16 ? (int64_t)0 : max & ~(int64_t)1);
	return VEIL_EXIT_USAGE;
}

/* One run option with its value; 0 or the exit status. */
static int run_option(struct emu_run_opts *r, const char *o, const char *a)
{
	if (!strcmp(o, "--kernel")) {
		r->kernel = a;
		r->kernel_set = true;
	} else if (!strcmp(o, "--igvm")) {
		r->igvm = a;
	} else if (!strcmp(o, "--monitor")) {
		r->image = a;
		r->image_set = true;
	} else if (!strcmp(o, "--initrd")) {
		r->lx.initrd = a;
	} else if (!strcmp(o, "--append")) {
		r->lx.append = a;
	} else if (!strcmp(o, "--init-script")) {
		r->lx.script = a;
	} else if (!strcmp(o, "--attest-seed")) {
		if (!*a || strlen(a) > 127)
			return fail("%s", "--attest-seed must be 1 to 127 characters");
		r->seed = a;
	} else if (!strcmp(o, "--com2")) {
		r->com2 = a;
	} else if (!strcmp(o, "--cmdline")) {
		if (strlen(a) >= 256)
			return fail("%s", "--cmdline is limited to 255 characters");
		r->cmdline = a;
	} else if (!strcmp(o, "--vcpus")) {
		if (parse_u64(a, &r->vcpus) || r->vcpus < 1 || r->vcpus > 64)
			return fail("--vcpus must be 1 to 64, got '%s'", a);
	} else if (!strcmp(o, "--mem")) {
		if (parse_u64(a, &r->mem) || r->mem < 16 || r->mem % 2 || r->mem > 6912)
			return fail("--mem must be an even number of MiB from 16 to 6912, got '%s'",
				    a);
	} else if (!strcmp(o, "--max-insns")) {
		if (parse_u64(a, &r->max) || !r->max)
			return fail("--max-insns must be a positive number, got '%s'", a);
	} else if (!strcmp(o, "--log-size")) {
		if (parse_u64(a, &r->log_size) || !r->log_size || r->log_size > (4u << 20))
			return fail("--log-size must be 1 to 4194304 bytes, got '%s'", a);
	} else if (!strcmp(o, "--log-domain")) {
		if (!strcmp(a, "on"))
			r->log_domain = VEIL_LOG_DOMAIN_ON;
		else if (!strcmp(a, "off"))
			r->log_domain = VEIL_LOG_DOMAIN_OFF;
		else if (!strcmp(a, "fault-test"))
			r->log_domain = VEIL_LOG_DOMAIN_FAULT_TEST;
		else
			return fail("--log-domain must be on, off or fault-test, got '%s'", a);
	} else {
		return fail("unknown option '%s' (see veil-emu run --help)", o);
	}
	return 0;
}

/* --linux and its options: defaults, and what does not go with it. */
static int run_linux_opts(struct emu_run_opts *r)
{
	if (!r->linux_boot) {
		if (r->lx.initrd || r->lx.append || r->lx.script)
			return fail("%s", "--initrd, --append and --init-script need --linux");
		return 0;
	}
	if (r->cmdline[0])
		return fail("%s", "--cmdline is for the Veil boot info; give Linux --append");
	if (r->igvm)
		return fail("%s", "--linux does not go with --igvm");
	r->lx.kernel = r->kernel_set ? r->kernel : VEIL_LINUX_KERNEL;
	if (!r->lx.kernel[0])
		return fail("%s", "no Linux kernel: run scripts/setup.sh or give --kernel");
	r->kernel = r->lx.kernel;
	r->lx.initrd = r->lx.initrd ? r->lx.initrd : VEIL_LINUX_INITRD;
	r->lx.append = r->lx.append ? r->lx.append : VEIL_LINUX_APPEND;
	return 0;
}

/*
 * With --gdb on the fetched kernel, say where its symbols are (generated at
 * build time from the bzImage's kallsyms by tools/linux-kallsyms.py): the
 * link-time addresses, right only when the kernel does not randomize them.
 */
static void run_linux_symbols_hint(const struct emu_run_opts *r, const struct emu_dbg_cli *dc)
{
	const char *syms = VEIL_LINUX_SYMBOLS;

	if (!r->linux_boot || r->kernel_set || dc->gdb < 0 || !syms[0] || access(syms, R_OK))
		return;
	fprintf(stderr, "veil-emu: kernel symbols for gdb: symbol-file %s%s\n", syms,
		strstr(r->lx.append, "nokaslr") ?
			"" :
			" (link-time addresses: add nokaslr to --append)");
}

/*
 * Which monitor runs: the image given with --monitor, else veil-monitor
 * beside this program (the build tree keeps it in backends/snp/, an install
 * in lib/veil/), unless --native asks for the monitor compiled into veil-emu
 * (for the test OS and --linux alike); --igvm boots the image the file
 * carries.
 */
static int run_monitor_image(struct emu_run_opts *r, char *buf, size_t len)
{
	static const char *const rel[] = { "veil-monitor", "../snp/veil-monitor",
					   "../lib/veil/veil-monitor" };
	char exe[4096];
	ssize_t n;

	if (r->native && r->image)
		return fail("%s", "--native and --monitor exclude each other");
	if (r->native || r->image || r->igvm)
		return 0;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return fail_run("cannot find veil-emu's own path (/proc/self/exe)");
	exe[n] = 0;
	*strrchr(exe, '/') = 0;
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		if ((size_t)snprintf(buf, len, "%s/%s", exe, rel[i]) < len && !access(buf, R_OK)) {
			r->image = buf;
			return 0;
		}
	}
	return fail_run("no monitor image veil-monitor beside veil-emu (give --monitor FILE, "
			"or --native)");
}

/* Inputs readable, outputs distinct from inputs and from each other. */
static int run_paths(const struct emu_run_opts *r, const struct emu_dbg_cli *dc)
{
	struct emu_path_use u[6];
	char err[512];
	int n = 0;

	u[n++] = (struct emu_path_use){ r->igvm ? r->igvm : r->kernel,
					r->igvm ? "--igvm" : "--kernel", false };
	if (dc->replay)
		u[n++] = (struct emu_path_use){ dc->replay, "--replay", false };
	if (r->image)
		u[n++] = (struct emu_path_use){ r->image, "--monitor", false };
	if (r->lx.script)
		u[n++] = (struct emu_path_use){ r->lx.script, "--init-script", false };
	if (r->com2)
		u[n++] = (struct emu_path_use){ r->com2, "--com2", true };
	if (dc->trace)
		u[n++] = (struct emu_path_use){ dc->trace, "--trace", true };
	if (check_clashes(u, n))
		return VEIL_EXIT_USAGE;
	if (hio_check_input(r->igvm ? r->igvm : r->kernel, 0, err, sizeof(err)))
		return fail_run(err);
	if (r->linux_boot && hio_check_input(r->lx.initrd, 0, err, sizeof(err)))
		return fail_run(err);
	if (r->lx.script && hio_check_input(r->lx.script, 0, err, sizeof(err))) {
		fprintf(stderr, "veil-emu: --init-script: %s\n", err);
		return VEIL_EXIT_FAIL;
	}
	return probe_output(dc->trace) ? VEIL_EXIT_FAIL : 0;
}

/* How the run ended, on stderr; returns the exit status. */
static int run_status(const struct emu_exit *x)
{
	char why[200];

	if (x->kind == EMU_EXIT_KIND_TERMINATE) {
		fprintf(stderr,
			"veil-emu: terminated by vCPU %u at VMPL%u: reason set %u code %u\n",
			x->vcpu, x->vmpl, x->reason_set, x->reason_code);
		return x->reason_set == 2 ? (int)x->reason_code : 1;
	}
	fprintf(stderr, "veil-emu: run ended: %s at VMPL%u rip %#" PRIx64 "%s%s\n",
		emu_exit_kind_name(x->kind), x->vmpl, x->rip, x->message[0] ? ": " : "",
		x->message);
	if (x->kind == EMU_EXIT_KIND_EXCEPTION || x->kind == EMU_EXIT_KIND_NPF) {
		exit_reason(x, why, sizeof(why));
		fprintf(stderr, "veil-emu: %s\n", why);
	}
	return 1;
}

static void print_launch_digest(const struct emu_machine *m)
{
	const uint8_t *d = emu_launch_digest(m);

	printf("launch digest: ");
	for (unsigned i = 0; i < 48; i++)
		printf("%02x", d[i]);
	printf("\n");
}

static int run_machine(struct emu_run_opts *r, struct emu_dbg_cli *dc, struct emu_config *cfg)
{
	struct emu_run_params p = { 0 };
	struct emu_machine *m;
	struct emu_exit x;
	struct emu_ticker tk;
	char err[600];
	int rc;

	m = emu_create(cfg, err, sizeof(err));
	if (!m)
		return fail_run(err);
	run_linux_symbols_hint(r, dc); /* before the stub waits for gdb */
	if (emu_dbg_cli_attach(dc, m, TRACE_MODE_RUN,
			       r->linux_boot ? r->lx.kernel : VEIL_TESTOS_PATH)) {
		emu_destroy(m);
		return VEIL_EXIT_USAGE;
	}
	if (r->linux_boot ? emu_load_linux(m, &r->lx, &r->lb, &p, err, sizeof(err)) :
	    r->igvm	  ? emu_igvm_launch(m, &r->ig, err, sizeof(err)) :
			    emu_load_elf(m, r->kernel, &p, err, sizeof(err))) {
		fprintf(stderr, "veil-emu: %s\n", err);
		rc = emu_dbg_cli_finish(dc, m, VEIL_EXIT_USAGE);
	} else {
		if (r->igvm)
			print_launch_digest(m);
		p.cmdline = r->cmdline;
		p.attest_seed = r->seed;
		p.log_size = r->log_size;
		p.log_domain = r->log_domain;
		fflush(stdout);
		ticker_start(&tk, dc, "running (console output on stdout)");
		rc = r->igvm  ? emu_igvm_run(m, &r->ig, &p, &x) :
		     r->image ? emu_run_image(m, &p, r->image, &x) :
				emu_run(m, &p, &x);
		ticker_stop(&tk);
		if (rc) {
			fprintf(stderr, "veil-emu: %s\n", x.message);
			rc = VEIL_EXIT_FAIL;
		} else {
			fflush(stdout);
			rc = run_status(&x);
		}
		rc = emu_dbg_cli_finish(dc, m, rc);
	}
	emu_destroy(m);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct emu_run_opts r = { .kernel = VEIL_TESTOS_PATH, .cmdline = "" };
	struct emu_dbg_cli dc;
	struct hio_out com2;
	char err[600], image[4096];
	int i, rc;

	emu_dbg_cli_init(&dc, argc, argv);
	for (i = 0; i < argc; i++) {
		const char *o = argv[i];
		char *a = NULL;
		int st, c;

		if (!strcmp(o, "--linux") || !strcmp(o, "--native")) {
			*(o[2] == 'l' ? &r.linux_boot : &r.native) = true;
			continue;
		}
		c = common_option(&dc, argc, argv, &i, usage_run, "run", &a, &st);
		if (c < 0)
			return st;
		if (!c && (rc = run_option(&r, o, a)))
			return rc;
	}
	if (r.igvm && (r.kernel_set || r.image_set || r.native || r.cmdline[0] || r.log_size))
		return fail("%s", "--igvm excludes --kernel, --monitor, --native, --cmdline and "
				  "--log-size (the file has them, measured)");
	if ((rc = run_linux_opts(&r)))
		return rc;
	if ((rc = run_monitor_image(&r, image, sizeof(image))))
		return rc;
	if ((rc = run_paths(&r, &dc)))
		return rc;
	if (r.igvm && emu_igvm_open(&r.ig, r.igvm, err, sizeof(err)))
		return fail("%s", err);
	r.mem = r.mem ? r.mem : r.igvm ? r.ig.info.mem_size >> 20 : r.linux_boot ? 256 : 64;
	r.vcpus = r.vcpus ? r.vcpus : r.igvm ? r.ig.info.nr_vcpus : 1;
	if ((rc = run_mem_fits(&r))) {
		emu_igvm_close(&r.ig);
		return rc;
	}
	struct emu_config cfg = { .mem_size = r.mem << 20,
				  .nr_vcpus = (unsigned)r.vcpus,
				  .count_insns = r.max != 0 || dc.insns,
				  .max_insns = r.max,
				  .slice_blocks = EMU_SLICE_BLOCKS };
	if (r.com2) {
		if (hio_out_open(&com2, r.com2, 0666, 0, err, sizeof(err)))
			return fail_run(err);
		cfg.com2 = com2.f;
	}
	if (r.linux_boot && !r.lx.script) { /* the guest's shell gets the console's input */
		cfg.console_in = stdin;
		term_raw();
	}
	rc = run_machine(&r, &dc, &cfg);
	term_restore();
	emu_igvm_close(&r.ig);
	if (r.com2 && hio_out_close(&com2, 0, err, sizeof(err))) {
		fprintf(stderr, "veil-emu: --com2: %s\n", err);
		rc = rc ? rc : VEIL_EXIT_FAIL;
	}
	return rc;
}
