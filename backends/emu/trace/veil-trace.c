/* SPDX-License-Identifier: MIT */
/*
 * veil-trace: read, search, step through, export and replay the traces that
 * `veil-emu run|exec --trace FILE` records (docs/trace-format.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <veil/abi.h>

#include "hostio.h"
#include "trace_read.h"
#include "trace_syms.h"

static const char usage_main[] =
	"usage: veil-trace <command> [options] FILE\n"
	"       veil-trace --help | --version\n"
	"Read, search, step through, export and replay the traces that\n"
	"`veil-emu run|exec --trace FILE` records (docs/trace-format.md).\n"
	"\n"
	"Commands:\n"
	"  summary [--json] FILE    counts per event type, vCPU and VMPL; switches per protocol\n"
	"  list FILE [filters]      one line per record (--json: one JSON object per line)\n"
	"  show FILE N              all detail of record N\n"
	"  step FILE [N]            interactive stepper (n, p, g N, f/F TYPE|TEXT, v VCPU, s,\n"
	"                           history, !N, help, q)\n"
	"  rmp FILE GPA             permission history of one page\n"
	"  export FILE --chrome OUT.json [--no-vc]  Chrome trace-event JSON (Perfetto,\n"
	"                           chrome://tracing)\n"
	"  replay FILE --to N [--gdb PORT] re-run the recorded session up to record N\n"
	"  help                     this text\n"
	"Every command takes --help. A trace is read whole into memory (a file rewritten\n"
	"meanwhile cannot crash the reader) and must be a regular, non-empty file.\n"
	"\n"
	"Options:\n"
	"  --symbols MAP  (list, show, step) name each RIP by the symbol at or before it\n"
	"               from MAP, a System.map (`nm -n` output; Linux's own:\n"
	"               build/linux/System.map, right with nokaslr)\n"
	"  -h, --help   print this text and exit\n"
	"  --version    print the version and exit\n"
	"\n" HIO_HELP_EXIT;

static const char usage_show[] =
	"usage: veil-trace show FILE N\n"
	"All detail of record N: header fields, the decoded payload, the registers if the\n"
	"record carries them, and the instruction (Capstone disassembly) when the trace has\n"
	"instruction records.\n";

static const char usage_replay[] =
	"usage: veil-trace replay FILE --to N [--gdb PORT]\n"
	"Re-runs the recorded session (mode, options and images from the trace header, in\n"
	"its working directory; the images must be unchanged) with veil-emu, checks that\n"
	"the re-run produces the same records 0..N, and stops right after record N. It then\n"
	"prints the machine state, or with --gdb waits there for GDB on 127.0.0.1:PORT (0:\n"
	"any free port, printed on stderr). Exit status 0 when record N was reached with\n"
	"identical records, 1 when the re-run diverged or ended before N.\n";

bool want_help(int argc, char **argv, const char *usage)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			return true;
		}
	return false;
}

int parse_num(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

/* Open FILE or print why not; returns 0 or the exit status 1. */
int open_trace(struct emu_tfile *t, const char *path)
{
	char err[300];

	if (tf_open(t, path, err, sizeof(err))) {
		fprintf(stderr, "veil-trace: %s: %s\n", path, err);
		tf_close(t);
		return 1;
	}
	return 0;
}

/* ---- show ------------------------------------------------------------------------- */

static int cmd_show(int argc, char **argv)
{
	struct emu_tfile t;
	uint64_t n;
	int rc;

	if (want_help(argc, argv, usage_show))
		return 0;
	if (argc != 2 || parse_num(argv[1], &n))
		return fail("show wants FILE N (see veil-trace show --help)");
	if ((rc = open_trace(&t, argv[0])))
		return rc;
	if (n >= t.n) {
		fprintf(stderr,
			"veil-trace: %s has %" PRIu64 " records (0-%" PRIu64 "), no record %" PRIu64
			"\n",
			argv[0], t.n, t.n ? t.n - 1 : 0, n);
		tf_close(&t);
		return 1;
	}
	tf_show(&t, n, stdout);
	tf_close(&t);
	return 0;
}

/* ---- replay ----------------------------------------------------------------------- */

static char *dupstr(struct trace_str s)
{
	char *p = malloc(s.len + 1);

	if (p) {
		memcpy(p, s.p, s.len);
		p[s.len] = 0;
	}
	return p;
}

/* veil-emu next to this program (both live in the build's backends/emu). */
static void emu_path(char *buf, size_t len)
{
	const char *env = getenv("VEIL_EMU");
	char self[PATH_MAX - 16];
	ssize_t n;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = 0;
	if (n > 0 && strrchr(self, '/'))
		*strrchr(self, '/') = 0;
	snprintf(buf, len, "%s/veil-emu", n > 0 ? self : ".");
}

static int cmd_replay(int argc, char **argv)
{
	const char *file = NULL, *gdb = NULL, *to = NULL;
	char emu[PATH_MAX], abs[PATH_MAX], *cwd, *args[TRACE_MAX_ARGS + 16];
	struct emu_tfile t;
	uint64_t n;
	unsigned i, k = 0;
	int rc, j;

	if (want_help(argc, argv, usage_replay))
		return 0;
	for (j = 0; j < argc; j++) {
		const char *o = argv[j], *a = j + 1 < argc ? argv[j + 1] : NULL;

		if (!strcmp(o, "--to") || !strcmp(o, "--gdb")) {
			if (!a)
				return fail("%s needs a value (see veil-trace replay --help)", o);
			*(o[2] == 't' ? &to : &gdb) = a;
			j++;
		} else if (o[0] == '-' && o[1]) {
			return fail("unknown option '%s' (see veil-trace replay --help)", o);
		} else if (file) {
			return fail(
				"replay takes one FILE, got '%s' too (see veil-trace replay --help)",
				o);
		} else {
			file = o;
		}
	}
	if (!file || !to || parse_num(to, &n))
		return fail("replay wants FILE --to N (see veil-trace replay --help)");
	if ((rc = open_trace(&t, file)))
		return rc;
	if (n >= t.n) {
		fprintf(stderr, "veil-trace: %s has %" PRIu64 " records, no record %" PRIu64 "\n",
			file, t.n, n);
		tf_close(&t);
		return 1;
	}
	if (!realpath(file, abs)) {
		tf_close(&t);
		return fail("cannot resolve '%s': %s", file, strerror(errno));
	}
	emu_path(emu, sizeof(emu));
	args[k++] = emu;
	args[k++] = t.h.fh->mode == TRACE_MODE_RUN ? "run" : "exec";
	for (i = 0; i < t.h.argc; i++) {
		struct trace_str s = t.h.argv[i];

		/* The recording options are replaced by the replay's own. */
		if ((s.len == 7 && !memcmp(s.p, "--trace", 7)) ||
		    (s.len == 5 && !memcmp(s.p, "--gdb", 5)) ||
		    (s.len == 8 && !memcmp(s.p, "--replay", 8)) ||
		    (s.len == 11 && !memcmp(s.p, "--replay-to", 11))) {
			i++;
			continue;
		}
		args[k++] = dupstr(s);
	}
	args[k++] = "--replay";
	args[k++] = abs;
	args[k++] = "--replay-to";
	args[k++] = (char *)to;
	if (gdb) {
		args[k++] = "--gdb";
		args[k++] = (char *)gdb;
	}
	args[k] = NULL;
	cwd = dupstr(t.h.cwd);
	tf_close(&t);
	if (!cwd || chdir(cwd))
		return fail("cannot enter the recorded working directory '%s'", cwd ? cwd : "?");
	fflush(stdout);
	execv(emu, args);
	return fail("cannot run %s: %s", emu, strerror(errno));
}

/* --symbols MAP, taken out of the command's own options. */
static int take_symbols(const char *cmd, int *argc, char **argv)
{
	char err[300];
	int i, j;

	for (i = 0; i < *argc; i++) {
		if (strcmp(argv[i], "--symbols"))
			continue;
		if (strcmp(cmd, "list") && strcmp(cmd, "show") && strcmp(cmd, "step"))
			return fail("--symbols is for list, show and step (see veil-trace --help)");
		if (i + 1 >= *argc)
			return fail("--symbols needs a MAP (see veil-trace --help)");
		if (tsyms_load(argv[i + 1], err, sizeof(err))) {
			fprintf(stderr, "veil-trace: %s: %s\n", argv[i + 1], err);
			return 1;
		}
		for (j = i; j + 2 < *argc; j++)
			argv[j] = argv[j + 2];
		*argc -= 2;
		i--;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = { { "summary", cmd_summary }, { "list", cmd_list }, { "show", cmd_show },
		     { "step", cmd_step },	 { "rmp", cmd_rmp },   { "export", cmd_export },
		     { "replay", cmd_replay } };
	unsigned i;

	if (argc < 2)
		return fail("missing command (see veil-trace --help)");
	if (!strcmp(argv[1], "help") || hio_is_help(argv[1])) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		hio_print_version("veil-trace");
		return 0;
	}
	if (argv[1][0] == '-')
		return fail("unknown option '%s' (see veil-trace --help)", argv[1]);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name)) {
			int n = argc - 2, rc = take_symbols(argv[1], &n, argv + 2);

			return rc ? rc : cmds[i].fn(n, argv + 2);
		}
	return fail("unknown command '%s' (see veil-trace --help)", argv[1]);
}
