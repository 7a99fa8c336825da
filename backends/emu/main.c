/* SPDX-License-Identifier: MIT */
/* veil-emu: the SEV-SNP machine model on the command line. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug_cli.h"
#include "emu.h"
#include "emu_run.h"
#include "linux_boot.h"

#define MAX_ITEMS 64

struct range {
	uint64_t gpa, len;
	unsigned vmpl;
	int perms;
};

struct load {
	const char *file;
	uint64_t gpa, len;
};

static const char usage_exec[] =
	"usage: veil-emu exec --load FILE@GPA [--load ...] --entry ADDR [--vmpl N] [--cpl 0|3]\n"
	"                     [--mem MiB] [--validate GPA:LEN]... [--perm GPA:LEN:VMPL:PERMS]...\n"
	"                     [--max-insns N]\n"
	"Runs raw code on the bare SNP machine (no monitor) and prints one JSON object.\n"
	"  --load FILE@GPA      copy FILE into guest memory at GPA; its pages are validated\n"
	"                       with full VMPL1-3 permissions (unless --perm says otherwise)\n"
	"  --entry ADDR         start RIP (identity map: GVA = GPA)\n"
	"  --vmpl N             VMPL to start at, 0-3 (default 0)\n"
	"  --cpl 0|3            CPU ring to start at (default 0)\n"
	"  --mem MiB            guest memory, multiple of 2 (default 16)\n"
	"  --validate GPA:LEN   validate a range with full permissions\n"
	"  --perm GPA:LEN:VMPL:PERMS  set VMPL 1-3 permissions; PERMS from rwus or -\n"
	"  --max-insns N        instruction limit (default 100000000)\n" EMU_DBG_CLI_USAGE
	"Numbers are decimal or 0x-prefixed hexadecimal.\n";

static const char usage_main[] =
	"usage: veil-emu <command> [options]\n"
	"commands:\n"
	"  run     boot the Veil monitor and an OS (veil-emu run --help)\n"
	"  exec    run a raw snippet on the bare SNP machine (veil-emu exec --help)\n"
	"  help    this text\n";

static int fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "veil-emu: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 2;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

/* Split "a:b:c" into at most n fields (modifies s). */
static int split(char *s, char **f, int n)
{
	int i = 0;

	f[i++] = s;
	for (; *s; s++) {
		if (*s == ':') {
			if (i == n)
				return -1;
			*s = 0;
			f[i++] = s + 1;
		}
	}
	return i;
}

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -1;
	}
	*buf = malloc(n ? n : 1);
	*len = n;
	if (!*buf || fread(*buf, 1, n, f) != (size_t)n) {
		free(*buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static void print_exit(const struct emu_exit *x)
{
	printf("{\"exit\":\"%s\",\"rip\":%" PRIu64 ",\"rax\":%" PRIu64 ",\"rbx\":%" PRIu64
	       ",\"rcx\":%" PRIu64 ",\"rdx\":%" PRIu64 ",\"rflags\":%" PRIu64
	       ",\"vmpl\":%u,\"cpl\":%u,\"vcpu\":%u,\"insns\":%" PRIu64,
	       emu_exit_kind_name(x->kind), x->rip, x->rax, x->rbx, x->rcx, x->rdx, x->rflags,
	       x->vmpl, x->cpl, x->vcpu, x->insns);
	if (x->kind == EMU_EXIT_KIND_NPF)
		printf(",\"exitinfo1\":%" PRIu64 ",\"exitinfo2\":%" PRIu64, x->exitinfo1,
		       x->exitinfo2);
	if (x->kind == EMU_EXIT_KIND_EXCEPTION) {
		printf(",\"vector\":%d", x->vector);
		if (x->has_error_code)
			printf(",\"error_code\":%" PRIu64, x->error_code);
	}
	if (x->kind == EMU_EXIT_KIND_TERMINATE)
		printf(",\"reason_set\":%u,\"reason_code\":%u", x->reason_set, x->reason_code);
	if (x->message[0]) {
		printf(",\"message\":\"");
		for (const char *p = x->message; *p; p++)
			printf(*p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
		printf("\"");
	}
	printf("}\n");
}

/*
 * What every command's option loop does first: tracing/GDB options, --help,
 * and a value for everything else. Returns 1 when argv[*i] (and its value)
 * was taken here, 0 when the command must handle it (with *value set), or -1
 * with the exit status in *status.
 */
static int common_option(struct emu_dbg_cli *dc, int argc, char **argv, int *i, const char *usage,
			 const char *cmd, char **value, int *status)
{
	const char *o = argv[*i];
	char *a = *i + 1 < argc ? argv[*i + 1] : NULL;
	int dr = emu_dbg_cli_option(dc, o, a);

	if (dr) {
		*status = 2;
		if (dr < 0)
			return -1;
		*i += dr - 1;
		return 1;
	}
	if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
		fputs(usage, stdout);
		*status = 0;
		return -1;
	}
	if (!a) {
		fprintf(stderr, "veil-emu: option %s needs a value (see veil-emu %s --help)\n", o,
			cmd);
		*status = 2;
		return -1;
	}
	*value = a;
	(*i)++;
	return 0;
}

static int cmd_exec(int argc, char **argv)
{
	struct load loads[MAX_ITEMS];
	struct range vals[MAX_ITEMS], perms[MAX_ITEMS];
	int nl = 0, nv = 0, np = 0, i;
	uint64_t entry = 0, mem = 16, max = 100000000, vmpl = 0, cpl = 0;
	bool have_entry = false;
	char err[160];
	struct emu_dbg_cli dc;

	emu_dbg_cli_init(&dc, argc, argv);
	for (i = 0; i < argc; i++) {
		const char *o = argv[i];
		char *a = NULL;
		int st, c = common_option(&dc, argc, argv, &i, usage_exec, "exec", &a, &st);

		if (c < 0)
			return st;
		if (c)
			continue;
		if (!strcmp(o, "--load")) {
			char *at = strrchr(a, '@');

			if (nl == MAX_ITEMS)
				return fail("too many %s options", o);
			if (!at || at == a || parse_u64(at + 1, &loads[nl].gpa))
				return fail("--load wants FILE@GPA, got '%s'", a);
			*at = 0;
			loads[nl++].file = a;
		} else if (!strcmp(o, "--entry")) {
			if (parse_u64(a, &entry))
				return fail("bad --entry address '%s'", a);
			have_entry = true;
		} else if (!strcmp(o, "--vmpl")) {
			if (parse_u64(a, &vmpl) || vmpl > 3)
				return fail("--vmpl must be 0, 1, 2 or 3, got '%s'", a);
		} else if (!strcmp(o, "--cpl")) {
			if (parse_u64(a, &cpl) || (cpl != 0 && cpl != 3))
				return fail("--cpl must be 0 or 3, got '%s'", a);
		} else if (!strcmp(o, "--mem")) {
			if (parse_u64(a, &mem) || mem < 2 || mem % 2 || mem > 65536)
				return fail(
					"--mem must be an even number of MiB from 2 to 65536, got '%s'",
					a);
		} else if (!strcmp(o, "--max-insns")) {
			if (parse_u64(a, &max) || !max)
				return fail("--max-insns must be a positive number, got '%s'", a);
		} else if (!strcmp(o, "--validate") || !strcmp(o, "--perm")) {
			bool perm = o[2] == 'p';
			char *f[4], copy[256];
			struct range *r = perm ? &perms[np] : &vals[nv];
			uint64_t v = 0;

			if ((perm ? np : nv) == MAX_ITEMS)
				return fail("too many %s options", o);
			snprintf(copy, sizeof(copy), "%s", a);
			if (split(copy, f, 4) != (perm ? 4 : 2) || parse_u64(f[0], &r->gpa) ||
			    parse_u64(f[1], &r->len) || !r->len || (r->gpa | r->len) & 0xFFF)
				return fail(
					perm ? "--perm wants GPA:LEN:VMPL:PERMS with page-aligned GPA and LEN, got '%s'" :
					       "--validate wants GPA:LEN with page-aligned GPA and LEN, got '%s'",
					a);
			if (perm) {
				if (parse_u64(f[2], &v) || v < 1 || v > 3)
					return fail("--perm VMPL must be 1, 2 or 3 in '%s'", a);
				r->vmpl = v;
				r->perms = emu_parse_perms(f[3]);
				if (r->perms < 0)
					return fail(
						"--perm PERMS must be letters from 'rwus' or '-', got '%s'",
						f[3]);
				np++;
			} else {
				nv++;
			}
		} else {
			return fail("unknown option '%s' (see veil-emu exec --help)", o);
		}
	}
	if (!nl)
		return fail("%s", "exec needs at least one --load FILE@GPA");
	if (!have_entry)
		return fail("%s", "exec needs --entry ADDR");

	struct emu_config cfg = {
		.mem_size = mem << 20, .nr_vcpus = 4, .count_insns = true, .max_insns = max
	};
	struct emu_machine *m = emu_create(&cfg, err, sizeof(err));
	struct emu_exit x;
	struct emu_start st = { .rip = entry, .vmpl = vmpl, .cpl = cpl };
	int rc = 2;

	if (!m)
		return fail("%s", err);
	if (emu_dbg_cli_attach(&dc, m, TRACE_MODE_EXEC, NULL))
		goto out;
	for (i = 0; i < nl; i++) {
		uint8_t *buf;
		size_t len;
		uint64_t first, end;
		void *dst;

		if (read_file(loads[i].file, &buf, &len)) {
			fprintf(stderr, "veil-emu: cannot read '%s': %s\n", loads[i].file,
				strerror(errno));
			goto out;
		}
		dst = len ? emu_gpa_ptr(m, loads[i].gpa, len) : NULL;
		if (!dst) {
			fprintf(stderr,
				"veil-emu: '%s' (%zu bytes) at %#" PRIx64
				" does not fit in %" PRIu64 " MiB of guest memory\n",
				loads[i].file, len, loads[i].gpa, mem);
			free(buf);
			goto out;
		}
		loads[i].len = len;
		for (int j = 0; j < i; j++) {
			if (loads[i].gpa < loads[j].gpa + loads[j].len &&
			    loads[j].gpa < loads[i].gpa + len) {
				fprintf(stderr,
					"veil-emu: --load '%s' at %#" PRIx64
					" overlaps --load '%s' at %#" PRIx64 "\n",
					loads[i].file, loads[i].gpa, loads[j].file, loads[j].gpa);
				free(buf);
				goto out;
			}
		}
		memcpy(dst, buf, len);
		free(buf);
		first = loads[i].gpa & ~0xFFFULL;
		end = (loads[i].gpa + len + 0xFFF) & ~0xFFFULL;
		emu_rmp_assign(m, first, end - first, true);
	}
	for (i = 0; i < nv; i++)
		if (emu_rmp_assign(m, vals[i].gpa, vals[i].len, true)) {
			fprintf(stderr,
				"veil-emu: --validate range %#" PRIx64 "+%#" PRIx64
				" is outside guest memory\n",
				vals[i].gpa, vals[i].len);
			goto out;
		}
	for (i = 0; i < np; i++)
		if (emu_rmp_set_perms(m, perms[i].gpa, perms[i].len, perms[i].vmpl,
				      perms[i].perms)) {
			fprintf(stderr,
				"veil-emu: --perm range %#" PRIx64 "+%#" PRIx64
				" is outside guest memory\n",
				perms[i].gpa, perms[i].len);
			goto out;
		}
	if (emu_exec(m, &st, &x)) {
		fprintf(stderr, "veil-emu: %s\n", x.message);
		rc = 1;
		goto out;
	}
	if (!dc.replay)
		print_exit(&x);
	rc = x.kind == EMU_EXIT_KIND_ERROR ? 1 : 0;
out:
	rc = emu_dbg_cli_finish(&dc, m, rc);
	emu_destroy(m);
	return rc;
}

static const char usage_run[] =
	"usage: veil-emu run [--kernel ELF] [--vcpus N] [--mem MiB] [--cmdline STR] [--com2 FILE]\n"
	"                    [--log-size BYTES] [--max-insns N] [--trace FILE [--trace-insns]]\n"
	"                    [--gdb PORT | --gdb-nowait PORT] [--replay FILE --replay-to N]\n"
	"       veil-emu run --linux [--kernel BZIMAGE] [--initrd FILE] [--append CMDLINE] [...]\n"
	"Boots the Veil monitor at VMPL0 and an OS image at VMPL3 on the SNP machine model.\n"
	"The OS console goes to stdout; the exit status is the OS's termination code.\n"
	"  --kernel ELF    OS image: an ELF64 x86-64 executable (guest/include/veil/boot.h);\n"
	"                  default: the built-in test OS\n"
	"  --vcpus N       vCPUs, 1-64 (default 1)\n"
	"  --mem MiB       guest memory, an even number from 16 to 12288 (default 64);\n"
	"                  the monitor owns the top 8 MiB\n"
	"  --cmdline STR   handed to the OS in its boot info (the test OS takes test=NAME)\n"
	"  --max-insns N   stop after N guest instructions (exact counting; slower)\n"
	"  --com2 FILE     write what the OS sends to serial port COM2 (0x2F8) to FILE\n"
	"                  (the test OS dumps its secure log there)\n"
	"  --log-size BYTES  room for secure log records, 1 to 4194304 (rounded up to\n"
	"                  pages; default: the monitor's, 256 KiB)\n"
	"  --linux         boot a Linux bzImage with the x86 64-bit boot protocol instead\n"
	"                  (default kernel: Debian's, fetched by setup; default --mem 256)\n"
	"  --initrd FILE   Linux initramfs (default: the BusyBox one built with veil-emu)\n"
	"  --append STR    Linux command line (default: \"" VEIL_LINUX_APPEND
	"\")\n" EMU_DBG_CLI_USAGE
	"Exit status: the termination code when the OS or the monitor ends the run through\n"
	"the GHCB with reason set 2 (0 ok, 1 self-test failed, 4 violation stopped by the\n"
	"monitor, 5 monitor failure); 1 for any other end; 2 for bad options or images.\n";

static int cmd_run(int argc, char **argv)
{
	const char *kernel = VEIL_TESTOS_PATH, *cmdline = "", *com2 = NULL;
	uint64_t vcpus = 1, mem = 0, max = 0, log_size = 0;
	struct emu_run_params p = { 0 };
	struct emu_linux_opts lx = { NULL, NULL, NULL };
	struct emu_linux_boot lb;
	bool linux_boot = false, kernel_set = false;
	struct emu_machine *m;
	struct emu_exit x;
	char err[256];
	int i, rc;
	struct emu_dbg_cli dc;

	emu_dbg_cli_init(&dc, argc, argv);
	for (i = 0; i < argc; i++) {
		const char *o = argv[i];
		char *a = NULL;
		int st, c;

		if (!strcmp(o, "--linux")) {
			linux_boot = true;
			continue;
		}
		c = common_option(&dc, argc, argv, &i, usage_run, "run", &a, &st);
		if (c < 0)
			return st;
		if (c)
			continue;
		if (!strcmp(o, "--kernel")) {
			kernel = a;
			kernel_set = true;
		} else if (!strcmp(o, "--initrd")) {
			lx.initrd = a;
		} else if (!strcmp(o, "--append")) {
			lx.append = a;
		} else if (!strcmp(o, "--com2")) {
			com2 = a;
		} else if (!strcmp(o, "--cmdline")) {
			if (strlen(a) >= 256)
				return fail("%s", "--cmdline is limited to 255 characters");
			cmdline = a;
		} else if (!strcmp(o, "--vcpus")) {
			if (parse_u64(a, &vcpus) || vcpus < 1 || vcpus > 64)
				return fail("--vcpus must be 1 to 64, got '%s'", a);
		} else if (!strcmp(o, "--mem")) {
			if (parse_u64(a, &mem) || mem < 16 || mem % 2 || mem > 12288)
				return fail(
					"--mem must be an even number of MiB from 16 to 12288, got '%s'",
					a);
		} else if (!strcmp(o, "--max-insns")) {
			if (parse_u64(a, &max) || !max)
				return fail("--max-insns must be a positive number, got '%s'", a);
		} else if (!strcmp(o, "--log-size")) {
			if (parse_u64(a, &log_size) || !log_size || log_size > (4u << 20))
				return fail("--log-size must be 1 to 4194304 bytes, got '%s'", a);
		} else {
			return fail("unknown option '%s' (see veil-emu run --help)", o);
		}
	}
	if (!linux_boot && (lx.initrd || lx.append))
		return fail("%s", "--initrd and --append need --linux");
	if (linux_boot && cmdline[0])
		return fail("%s", "--cmdline is for the Veil boot info; give Linux --append");
	if (linux_boot) {
		lx.kernel = kernel_set ? kernel : VEIL_LINUX_KERNEL;
		if (!lx.kernel[0])
			return fail("%s", "no Linux kernel: run scripts/setup.sh or give --kernel");
		lx.initrd = lx.initrd ? lx.initrd : VEIL_LINUX_INITRD;
		lx.append = lx.append ? lx.append : VEIL_LINUX_APPEND;
	}
	mem = mem ? mem : linux_boot ? 256 : 64;
	struct emu_config cfg = { .mem_size = mem << 20,
				  .nr_vcpus = (unsigned)vcpus,
				  .count_insns = max != 0 || dc.insns,
				  .max_insns = max };
	if (com2 && !(cfg.com2 = fopen(com2, "wb")))
		return fail("cannot create the --com2 file: %s", strerror(errno));
	m = emu_create(&cfg, err, sizeof(err));
	if (!m)
		return fail("%s", err);
	if (emu_dbg_cli_attach(&dc, m, TRACE_MODE_RUN, linux_boot ? lx.kernel : VEIL_TESTOS_PATH)) {
		emu_destroy(m);
		return 2;
	}
	if (linux_boot ? emu_load_linux(m, &lx, &lb, &p, err, sizeof(err)) :
			 emu_load_elf(m, kernel, &p, err, sizeof(err))) {
		emu_destroy(m);
		return fail("%s", err);
	}
	p.cmdline = cmdline;
	p.log_size = log_size;
	fflush(stdout);
	if (emu_run(m, &p, &x)) {
		emu_destroy(m);
		return fail("%s", x.message);
	}
	fflush(stdout);
	switch (x.kind) {
	case EMU_EXIT_KIND_TERMINATE:
		rc = x.reason_set == 2 ? (int)x.reason_code : 1;
		fprintf(stderr,
			"veil-emu: terminated by vCPU %u at VMPL%u: reason set %u code %u\n",
			x.vcpu, x.vmpl, x.reason_set, x.reason_code);
		break;
	default:
		rc = 1;
		fprintf(stderr, "veil-emu: run ended: %s at VMPL%u rip %#" PRIx64 "%s%s\n",
			emu_exit_kind_name(x.kind), x.vmpl, x.rip, x.message[0] ? ": " : "",
			x.message);
		if (x.kind == EMU_EXIT_KIND_EXCEPTION)
			fprintf(stderr, "veil-emu: vector %d error code %#" PRIx64 "\n", x.vector,
				x.error_code);
		if (x.kind == EMU_EXIT_KIND_NPF)
			fprintf(stderr, "veil-emu: exitinfo1 %#" PRIx64 " gpa %#" PRIx64 "\n",
				x.exitinfo1, x.exitinfo2);
		break;
	}
	rc = emu_dbg_cli_finish(&dc, m, rc);
	emu_destroy(m);
	if (cfg.com2 && fclose(cfg.com2)) {
		fprintf(stderr, "veil-emu: writing the --com2 file failed: %s\n", strerror(errno));
		rc = rc ? rc : 1;
	}
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return fail("%s", "missing command (try veil-emu help)");
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "exec"))
		return cmd_exec(argc - 2, argv + 2);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	return fail("unknown command '%s' (try veil-emu help)", argv[1]);
}
