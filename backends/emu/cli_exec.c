/* SPDX-License-Identifier: MIT */
/* cli_exec.c - `veil-emu exec`: a raw snippet on the bare SNP machine. */
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

#include "cli.h"
#include "debug_cli.h"
#include "emu.h"
#include "hostio.h"

#define MAX_ITEMS 64

struct emu_range {
	uint64_t gpa, len;
	unsigned vmpl;
	int perms;
};

struct emu_load {
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

struct emu_exec_opts {
	struct emu_load loads[MAX_ITEMS];
	struct emu_range vals[MAX_ITEMS], perms[MAX_ITEMS];
	int nl, nv, np;
	uint64_t entry, mem, max, vmpl, cpl;
	bool have_entry;
};

static int exec_range(struct emu_exec_opts *x, const char *o, const char *a)
{
	bool perm = o[2] == 'p';
	char *f[4], copy[256];
	struct emu_range *r = perm ? &x->perms[x->np] : &x->vals[x->nv];
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
static int exec_option(struct emu_exec_opts *x, const char *o, char *a)
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
static int exec_read(struct emu_exec_opts *x, const struct emu_dbg_cli *dc)
{
	struct emu_path_use u[MAX_ITEMS + 1];
	char err[512];
	int i, n = 0;

	for (i = 0; i < x->nl; i++)
		u[n++] = (struct emu_path_use){ x->loads[i].file, "--load", false };
	if (dc->trace)
		u[n++] = (struct emu_path_use){ dc->trace, "--trace", true };
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
static int exec_place(struct emu_machine *m, struct emu_exec_opts *x)
{
	int i, j;

	for (i = 0; i < x->nl; i++) {
		struct emu_load *l = &x->loads[i];
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

static int exec_machine(struct emu_exec_opts *x, struct emu_dbg_cli *dc)
{
	struct emu_config cfg = {
		.mem_size = x->mem << 20, .nr_vcpus = 4, .count_insns = true, .max_insns = x->max
	};
	struct emu_start st = { .rip = x->entry, .vmpl = x->vmpl, .cpl = x->cpl };
	char err[160];
	struct emu_machine *m = emu_create(&cfg, err, sizeof(err));
	struct emu_exit ex;
	struct emu_ticker tk;
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

int cmd_exec(int argc, char **argv)
{
	static struct emu_exec_opts x; /* 5 KiB of tables: not on the stack */
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
