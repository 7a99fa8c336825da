/* SPDX-License-Identifier: MIT */
/* veil-emu: the SEV-SNP machine model on the command line. */
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
#include "debug_cli.h"
#include "emu.h"
#include "emu_run.h"
#include "hostio.h"
#include "launch_igvm.h"
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
	uint8_t *buf; /* the file, read whole before the machine exists */
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
	"  --mem MiB            guest memory, an even number from 2 to 65536 (default 16)\n"
	"  --validate GPA:LEN   validate a range with full permissions\n"
	"  --perm GPA:LEN:VMPL:PERMS  set VMPL 1-3 permissions; PERMS from rwus or -\n"
	"  --max-insns N        instruction limit (default 100000000)\n" EMU_DBG_CLI_USAGE
	"With --trace-insns, a warning once the trace passes VEIL_TRACE_WARN_MIB (default\n"
	"1024) MiB, and its size at the end. A run of more than 2 s shows its progress on\n"
	"stderr when that is a terminal (and stdout is not).\n"
	"Numbers are decimal or 0x-prefixed hexadecimal. Inputs must be regular, non-empty\n"
	"files; no output (--trace) may be one of them.\n"
	"Output: one JSON line: exit (hlt, terminate, npf, exception, limit), reason (the\n"
	"exit in words, e.g. \"#VC 0x404: page not validated\"), registers and EXITINFO as\n"
	"numbers and as hex strings (rip and rip_hex, ...); see README.md.\n"
	"Exit status: 0 the run ended in one of the exits above (the JSON says which),\n"
	"1 failure (unreadable input, failed write, model error; reason on stderr),\n"
	"2 bad command line.\n";

static const char usage_main[] =
	"usage: veil-emu <command> [options]\n"
	"       veil-emu --help | --version\n"
	"The AMD SEV-SNP machine model (RMP, VMPLs, GHCB, #VC, #NPF) on Unicorn.\n"
	"\n"
	"Commands:\n"
	"  run     boot the Veil monitor and an OS (veil-emu run --help)\n"
	"  exec    run a raw snippet on the bare SNP machine (veil-emu exec --help)\n"
	"  certs   write the model's ARK, ASK and VCEK certificates (veil-emu certs --help)\n"
	"  help    this text\n"
	"\n"
	"Options:\n"
	"  -h, --help   print this text and exit\n"
	"  --version    print the version and exit\n"
	"\n"
	"Exit status: 0 success, 1 failure (the reason is printed on stderr), 2 bad\n"
	"command line; `run` returns the guest's termination code (veil-emu run --help).\n";

static int fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "veil-emu: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return VEIL_EXIT_USAGE;
}

/* A runtime failure (not the command line): one line, status 1. */
static int fail_run(const char *msg)
{
	fprintf(stderr, "veil-emu: %s\n", msg);
	return VEIL_EXIT_FAIL;
}

/*
 * No output may be an input or another output: `--load F --trace F` would
 * overwrite the image being read, `--com2 F --trace F` interleave two files.
 * Compared by device and inode (hostio.h), so other spellings of a path are
 * caught too.
 */
struct path_use {
	const char *path, *option;
	bool output;
};

/* Can an output be created? Tried before the machine exists, so that an
 * unwritable --trace is a one-line failure (status 1) like any other. */
static int probe_output(const char *path)
{
	struct hio_out o;
	char err[600];

	if (!path)
		return 0;
	if (hio_out_open(&o, path, 0666, 0, err, sizeof(err)))
		return fail_run(err);
	hio_out_abort(&o);
	return 0;
}

static int check_clashes(const struct path_use *u, int n)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			if (i != j && u[i].output && (j < i || !u[j].output) &&
			    hio_same_file(u[i].path, u[j].path)) {
				fprintf(stderr,
					"veil-emu: %s '%s' is the same file as %s '%s'; refusing to "
					"overwrite it\n",
					u[i].option, u[i].path, u[j].option, u[j].path);
				return VEIL_EXIT_USAGE;
			}
	return 0;
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

static void json_text(const char *key, const char *text)
{
	printf(",\"%s\":\"", key);
	for (const char *p = text; *p; p++)
		printf(*p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
	printf("\"");
}

/* A value as a number and as a hex string: scripts read either. */
static void json_u64(const char *key, uint64_t v)
{
	printf(",\"%s\":%" PRIu64 ",\"%s_hex\":\"0x%" PRIx64 "\"", key, v, key, v);
}

static void exit_reason(const struct emu_exit *x, char *buf, size_t len)
{
	switch (x->kind) {
	case EMU_EXIT_KIND_NPF:
		trace_decode_npf(x->exitinfo1, x->exitinfo2, x->vmpl, buf, len);
		break;
	case EMU_EXIT_KIND_EXCEPTION:
		trace_decode_exception(x->vector, x->has_error_code, x->error_code, buf, len);
		break;
	case EMU_EXIT_KIND_TERMINATE:
		snprintf(buf, len, "termination request: reason set %u, code %u", x->reason_set,
			 x->reason_code);
		break;
	case EMU_EXIT_KIND_LIMIT:
		snprintf(buf, len, "instruction limit reached after %" PRIu64 " instructions",
			 x->insns);
		break;
	case EMU_EXIT_KIND_HLT:
		snprintf(buf, len, "HLT at VMPL%u CPL%u", x->vmpl, x->cpl);
		break;
	default:
		snprintf(buf, len, "%s", x->message[0] ? x->message : emu_exit_kind_name(x->kind));
		break;
	}
}

static void print_exit(const struct emu_exit *x)
{
	char reason[200];

	exit_reason(x, reason, sizeof(reason));
	printf("{\"exit\":\"%s\"", emu_exit_kind_name(x->kind));
	json_text("reason", reason);
	json_u64("rip", x->rip);
	json_u64("rax", x->rax);
	json_u64("rbx", x->rbx);
	json_u64("rcx", x->rcx);
	json_u64("rdx", x->rdx);
	json_u64("rflags", x->rflags);
	printf(",\"vmpl\":%u,\"cpl\":%u,\"vcpu\":%u,\"insns\":%" PRIu64, x->vmpl, x->cpl, x->vcpu,
	       x->insns);
	if (x->kind == EMU_EXIT_KIND_NPF) {
		json_u64("exitinfo1", x->exitinfo1);
		json_u64("exitinfo2", x->exitinfo2);
	}
	if (x->kind == EMU_EXIT_KIND_EXCEPTION) {
		printf(",\"vector\":%d", x->vector);
		if (x->has_error_code)
			json_u64("error_code", x->error_code);
	}
	if (x->kind == EMU_EXIT_KIND_TERMINATE)
		printf(",\"reason_set\":%u,\"reason_code\":%u", x->reason_set, x->reason_code);
	if (x->message[0])
		json_text("message", x->message);
	printf("}\n");
}

/*
 * What every command's option loop does first: tracing/GDB options, --help,
 * and a value for everything else. Returns 1 when argv[*i] (and its value)
 * was taken here, 0 when the command must handle it (with *value set), or -1
 * with the exit status in *status.
 */
/* The options of each command that take a value (for the message when the
 * value is missing; everything else is an unknown option). */
static const char *const exec_valued[] = { "--load",	 "--entry", "--vmpl",	   "--cpl", "--mem",
					   "--validate", "--perm",  "--max-insns", NULL };
static const char *const run_valued[] = { "--kernel",	   "--igvm",	    "--monitor",
					  "--attest-seed", "--initrd",	    "--append",
					  "--com2",	   "--cmdline",	    "--vcpus",
					  "--mem",	   "--max-insns",   "--log-size",
					  "--log-domain",  "--init-script", NULL };

static bool listed(const char *const *list, const char *o)
{
	for (; *list; list++)
		if (!strcmp(*list, o))
			return true;
	return false;
}

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
	if (!a || !listed(strcmp(cmd, "exec") ? run_valued : exec_valued, o)) {
		if (listed(strcmp(cmd, "exec") ? run_valued : exec_valued, o))
			fprintf(stderr,
				"veil-emu: option %s needs a value (see veil-emu %s --help)\n", o,
				cmd);
		else
			fprintf(stderr, "veil-emu: unknown option '%s' (see veil-emu %s --help)\n",
				o, cmd);
		*status = 2;
		return -1;
	}
	*value = a;
	(*i)++;
	return 0;
}

struct exec_opts {
	struct load loads[MAX_ITEMS];
	struct range vals[MAX_ITEMS], perms[MAX_ITEMS];
	int nl, nv, np;
	uint64_t entry, mem, max, vmpl, cpl;
	bool have_entry;
};

static int exec_range(struct exec_opts *x, const char *o, const char *a)
{
	bool perm = o[2] == 'p';
	char *f[4], copy[256];
	struct range *r = perm ? &x->perms[x->np] : &x->vals[x->nv];
	uint64_t v = 0;

	if ((perm ? x->np : x->nv) == MAX_ITEMS)
		return fail("too many %s options", o);
	snprintf(copy, sizeof(copy), "%s", a);
	if (split(copy, f, 4) != (perm ? 4 : 2) || parse_u64(f[0], &r->gpa) ||
	    parse_u64(f[1], &r->len) || !r->len || (r->gpa | r->len) & 0xFFF)
		return fail(
			perm ? "--perm wants GPA:LEN:VMPL:PERMS with page-aligned GPA and LEN, got '%s'" :
			       "--validate wants GPA:LEN with page-aligned GPA and LEN, got '%s'",
			a);
	if (!perm) {
		x->nv++;
		return 0;
	}
	if (parse_u64(f[2], &v) || v < 1 || v > 3)
		return fail("--perm VMPL must be 1, 2 or 3 in '%s'", a);
	r->vmpl = v;
	r->perms = emu_parse_perms(f[3]);
	if (r->perms < 0)
		return fail("--perm PERMS must be letters from 'rwus' or '-', got '%s'", f[3]);
	x->np++;
	return 0;
}

/* One exec option with its value; 0 or the exit status. */
static int exec_option(struct exec_opts *x, const char *o, char *a)
{
	if (!strcmp(o, "--load")) {
		char *at = strrchr(a, '@');

		if (x->nl == MAX_ITEMS)
			return fail("too many %s options", o);
		if (!at || at == a || parse_u64(at + 1, &x->loads[x->nl].gpa))
			return fail("--load wants FILE@GPA, got '%s'", a);
		*at = 0;
		x->loads[x->nl++].file = a;
	} else if (!strcmp(o, "--entry")) {
		if (parse_u64(a, &x->entry))
			return fail("bad --entry address '%s'", a);
		x->have_entry = true;
	} else if (!strcmp(o, "--vmpl")) {
		if (parse_u64(a, &x->vmpl) || x->vmpl > 3)
			return fail("--vmpl must be 0, 1, 2 or 3, got '%s'", a);
	} else if (!strcmp(o, "--cpl")) {
		if (parse_u64(a, &x->cpl) || (x->cpl != 0 && x->cpl != 3))
			return fail("--cpl must be 0 or 3, got '%s'", a);
	} else if (!strcmp(o, "--mem")) {
		if (parse_u64(a, &x->mem) || x->mem < 2 || x->mem % 2 || x->mem > 65536)
			return fail("--mem must be an even number of MiB from 2 to 65536, got '%s'",
				    a);
	} else if (!strcmp(o, "--max-insns")) {
		if (parse_u64(a, &x->max) || !x->max)
			return fail("--max-insns must be a positive number, got '%s'", a);
	} else if (!strcmp(o, "--validate") || !strcmp(o, "--perm")) {
		return exec_range(x, o, a);
	} else {
		return fail("unknown option '%s' (see veil-emu exec --help)", o);
	}
	return 0;
}

/* Read every --load file before the machine (and the trace) exist. */
static int exec_read(struct exec_opts *x, const struct emu_dbg_cli *dc)
{
	struct path_use u[MAX_ITEMS + 1];
	char err[512];
	int i, n = 0;

	for (i = 0; i < x->nl; i++)
		u[n++] = (struct path_use){ x->loads[i].file, "--load", false };
	if (dc->trace)
		u[n++] = (struct path_use){ dc->trace, "--trace", true };
	if (check_clashes(u, n))
		return VEIL_EXIT_USAGE;
	if (probe_output(dc->trace))
		return VEIL_EXIT_FAIL;
	for (i = 0; i < x->nl; i++) {
		size_t len;

		if (hio_read(x->loads[i].file, 0, &x->loads[i].buf, &len, err, sizeof(err)))
			return fail_run(err);
		x->loads[i].len = len;
	}
	return 0;
}

/* Copy the images into guest memory and set the RMP; 0 or the exit status. */
static int exec_place(struct emu_machine *m, struct exec_opts *x)
{
	int i, j;

	for (i = 0; i < x->nl; i++) {
		struct load *l = &x->loads[i];
		void *dst = emu_gpa_ptr(m, l->gpa, l->len);
		uint64_t first = l->gpa & ~0xFFFULL, end = (l->gpa + l->len + 0xFFF) & ~0xFFFULL;

		if (!dst) {
			fprintf(stderr,
				"veil-emu: '%s' (%" PRIu64 " bytes) at %#" PRIx64
				" does not fit in %" PRIu64 " MiB of guest memory\n",
				l->file, l->len, l->gpa, x->mem);
			return VEIL_EXIT_USAGE;
		}
		for (j = 0; j < i; j++)
			if (l->gpa < x->loads[j].gpa + x->loads[j].len &&
			    x->loads[j].gpa < l->gpa + l->len) {
				fprintf(stderr,
					"veil-emu: --load '%s' at %#" PRIx64
					" overlaps --load '%s' at %#" PRIx64 "\n",
					l->file, l->gpa, x->loads[j].file, x->loads[j].gpa);
				return VEIL_EXIT_USAGE;
			}
		memcpy(dst, l->buf, l->len);
		emu_rmp_assign(m, first, end - first, true);
	}
	for (i = 0; i < x->nv; i++)
		if (emu_rmp_assign(m, x->vals[i].gpa, x->vals[i].len, true)) {
			fprintf(stderr,
				"veil-emu: --validate range %#" PRIx64 "+%#" PRIx64
				" is outside guest memory\n",
				x->vals[i].gpa, x->vals[i].len);
			return VEIL_EXIT_USAGE;
		}
	for (i = 0; i < x->np; i++)
		if (emu_rmp_set_perms(m, x->perms[i].gpa, x->perms[i].len, x->perms[i].vmpl,
				      x->perms[i].perms)) {
			fprintf(stderr,
				"veil-emu: --perm range %#" PRIx64 "+%#" PRIx64
				" is outside guest memory\n",
				x->perms[i].gpa, x->perms[i].len);
			return VEIL_EXIT_USAGE;
		}
	return 0;
}

/*
 * Progress of a long run on stderr: a line rewritten every second once the
 * run has taken two, only when stderr is a terminal and stdout is not the
 * same terminal (the guest's console would be torn up), and not with --gdb
 * or --replay (the machine waits there) or --trace (trace.c reports its own).
 */
struct ticker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool on, stop, shown;
	const char *what;
};

static void *ticker_main(void *arg)
{
	struct ticker *tk = arg;
	struct timespec start, until;
	long secs = 0;

	clock_gettime(CLOCK_REALTIME, &start);
	pthread_mutex_lock(&tk->lock);
	while (!tk->stop) {
		until = start;
		until.tv_sec += ++secs;
		while (!tk->stop && pthread_cond_timedwait(&tk->cond, &tk->lock, &until) == 0)
			;
		if (!tk->stop && secs >= 2) {
			fprintf(stderr, "\rveil-emu: %s, %ld s ", tk->what, secs);
			tk->shown = true;
		}
	}
	pthread_mutex_unlock(&tk->lock);
	return NULL;
}

static void ticker_start(struct ticker *tk, const struct emu_dbg_cli *dc, const char *what)
{
	memset(tk, 0, sizeof(*tk));
	tk->what = what;
	if (!isatty(STDERR_FILENO) || isatty(STDOUT_FILENO) || dc->gdb >= 0 || dc->replay ||
	    dc->trace)
		return;
	pthread_mutex_init(&tk->lock, NULL);
	pthread_cond_init(&tk->cond, NULL);
	tk->on = !pthread_create(&tk->thread, NULL, ticker_main, tk);
}

static void ticker_stop(struct ticker *tk)
{
	if (!tk->on)
		return;
	pthread_mutex_lock(&tk->lock);
	tk->stop = true;
	pthread_cond_signal(&tk->cond);
	pthread_mutex_unlock(&tk->lock);
	pthread_join(tk->thread, NULL);
	if (tk->shown)
		fputs("\r\033[K", stderr);
	pthread_mutex_destroy(&tk->lock);
	pthread_cond_destroy(&tk->cond);
	tk->on = false;
}

static int exec_machine(struct exec_opts *x, struct emu_dbg_cli *dc)
{
	struct emu_config cfg = {
		.mem_size = x->mem << 20, .nr_vcpus = 4, .count_insns = true, .max_insns = x->max
	};
	struct emu_start st = { .rip = x->entry, .vmpl = x->vmpl, .cpl = x->cpl };
	char err[160];
	struct emu_machine *m = emu_create(&cfg, err, sizeof(err));
	struct emu_exit ex;
	struct ticker tk;
	int rc = VEIL_EXIT_USAGE;

	if (!m)
		return fail("%s", err);
	if (emu_dbg_cli_attach(dc, m, TRACE_MODE_EXEC, NULL) || (rc = exec_place(m, x)))
		goto out;
	ticker_start(&tk, dc, "running the snippet");
	rc = emu_exec(m, &st, &ex);
	ticker_stop(&tk);
	if (rc) {
		fprintf(stderr, "veil-emu: %s\n", ex.message);
		rc = VEIL_EXIT_FAIL;
		goto out;
	}
	if (!dc->replay)
		print_exit(&ex);
	rc = ex.kind == EMU_EXIT_KIND_ERROR ? VEIL_EXIT_FAIL : 0;
out:
	rc = emu_dbg_cli_finish(dc, m, rc);
	emu_destroy(m);
	return rc;
}

static int cmd_exec(int argc, char **argv)
{
	static struct exec_opts x; /* 5 KiB of tables: not on the stack */
	struct emu_dbg_cli dc;
	int i, rc;

	memset(&x, 0, sizeof(x));
	x.mem = 16;
	x.max = 100000000;
	emu_dbg_cli_init(&dc, argc, argv);
	for (i = 0; i < argc; i++) {
		const char *o = argv[i];
		char *a = NULL;
		int st, c = common_option(&dc, argc, argv, &i, usage_exec, "exec", &a, &st);

		if (c < 0)
			return st;
		if (!c && (rc = exec_option(&x, o, a)))
			return rc;
	}
	if (!x.nl)
		return fail("%s", "exec needs at least one --load FILE@GPA");
	if (!x.have_entry)
		return fail("%s", "exec needs --entry ADDR");
	rc = exec_read(&x, &dc);
	if (!rc)
		rc = exec_machine(&x, &dc);
	for (i = 0; i < x.nl; i++)
		free(x.loads[i].buf);
	return rc;
}

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
	"                  per vCPU) instead of the image; --linux uses it always\n"
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

struct run_opts {
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

static int run_mem_fits(const struct run_opts *r)
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
static int run_option(struct run_opts *r, const char *o, const char *a)
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
static int run_linux_opts(struct run_opts *r)
{
	if (!r->linux_boot) {
		if (r->lx.initrd || r->lx.append || r->lx.script)
			return fail("%s", "--initrd, --append and --init-script need --linux");
		return 0;
	}
	if (r->cmdline[0])
		return fail("%s", "--cmdline is for the Veil boot info; give Linux --append");
	if (r->igvm || r->image)
		return fail("%s", "--linux goes with neither --igvm nor --monitor yet");
	r->lx.kernel = r->kernel_set ? r->kernel : VEIL_LINUX_KERNEL;
	if (!r->lx.kernel[0])
		return fail("%s", "no Linux kernel: run scripts/setup.sh or give --kernel");
	r->kernel = r->lx.kernel;
	r->lx.initrd = r->lx.initrd ? r->lx.initrd : VEIL_LINUX_INITRD;
	r->lx.append = r->lx.append ? r->lx.append : VEIL_LINUX_APPEND;
	return 0;
}

/*
 * Which monitor runs: the image given with --monitor, else veil-monitor
 * beside this program (the build tree keeps it in backends/snp/, an install
 * in lib/veil/), unless --native asks for the monitor compiled into veil-emu.
 * --linux boots the native monitor (image mode does not launch Linux yet);
 * --igvm boots the image the file carries.
 */
static int run_monitor_image(struct run_opts *r, char *buf, size_t len)
{
	static const char *const rel[] = { "veil-monitor", "../snp/veil-monitor",
					   "../lib/veil/veil-monitor" };
	char exe[4096];
	ssize_t n;

	if (r->native && r->image)
		return fail("%s", "--native and --monitor exclude each other");
	if (r->native || r->image || r->linux_boot || r->igvm)
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
static int run_paths(const struct run_opts *r, const struct emu_dbg_cli *dc)
{
	struct path_use u[6];
	char err[512];
	int n = 0;

	u[n++] = (struct path_use){ r->igvm ? r->igvm : r->kernel, r->igvm ? "--igvm" : "--kernel",
				    false };
	if (dc->replay)
		u[n++] = (struct path_use){ dc->replay, "--replay", false };
	if (r->image)
		u[n++] = (struct path_use){ r->image, "--monitor", false };
	if (r->lx.script)
		u[n++] = (struct path_use){ r->lx.script, "--init-script", false };
	if (r->com2)
		u[n++] = (struct path_use){ r->com2, "--com2", true };
	if (dc->trace)
		u[n++] = (struct path_use){ dc->trace, "--trace", true };
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

static int run_machine(struct run_opts *r, struct emu_dbg_cli *dc, struct emu_config *cfg)
{
	struct emu_run_params p = { 0 };
	struct emu_machine *m;
	struct emu_exit x;
	struct ticker tk;
	char err[600];
	int rc;

	m = emu_create(cfg, err, sizeof(err));
	if (!m)
		return fail_run(err);
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

static int cmd_run(int argc, char **argv)
{
	struct run_opts r = { .kernel = VEIL_TESTOS_PATH, .cmdline = "" };
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
	rc = run_machine(&r, &dc, &cfg);
	emu_igvm_close(&r.ig);
	if (r.com2 && hio_out_close(&com2, 0, err, sizeof(err))) {
		fprintf(stderr, "veil-emu: --com2: %s\n", err);
		rc = rc ? rc : VEIL_EXIT_FAIL;
	}
	return rc;
}

static const char usage_certs[] =
	"usage: veil-emu certs DIR [--attest-seed STR]\n"
	"Writes the model AMD-SP's certificates as PEM: DIR/ark.pem, DIR/ask.pem, DIR/vcek.pem\n"
	"and DIR/cert_chain.pem (ASK then ARK). They have AMD's structure (RSA-PSS ARK and ASK,\n"
	"an ECDSA P-384 VCEK with AMD's TCB extensions) but are NOT AMD's: their subjects say\n"
	"so. The same seed as `veil-emu run --attest-seed` gives the chain of that run's\n"
	"reports (default seed \"" AMDSP_DEFAULT_SEED "\"). DIR must exist.\n";

static int cmd_certs(int argc, char **argv)
{
	const char *dir = NULL, *seed = NULL;
	struct amdsp *sp;
	char err[256];
	int i, rc;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_certs, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--attest-seed")) {
			if (++i == argc || !*argv[i] || strlen(argv[i]) > 127)
				return fail("%s", "--attest-seed needs 1 to 127 characters");
			seed = argv[i];
		} else if (argv[i][0] == '-' || dir) {
			return fail("unexpected argument '%s' (see veil-emu certs --help)",
				    argv[i]);
		} else {
			dir = argv[i];
		}
	}
	if (!dir)
		return fail("%s", "missing DIR (see veil-emu certs --help)");
	sp = amdsp_create(seed, err, sizeof(err));
	if (!sp)
		return fail("%s", err);
	rc = amdsp_write_certs(sp, dir, err, sizeof(err));
	amdsp_destroy(sp);
	return rc ? fail("%s", err) : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return fail("%s", "missing command (see veil-emu --help)");
	if (!strcmp(argv[1], "help") || hio_is_help(argv[1])) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		hio_print_version("veil-emu");
		return 0;
	}
	if (!strcmp(argv[1], "exec"))
		return cmd_exec(argc - 2, argv + 2);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (!strcmp(argv[1], "certs"))
		return cmd_certs(argc - 2, argv + 2);
	if (argv[1][0] == '-')
		return fail("unknown option '%s' (see veil-emu --help)", argv[1]);
	return fail("unknown command '%s' (see veil-emu --help)", argv[1]);
}
