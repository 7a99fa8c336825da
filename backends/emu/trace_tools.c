/* SPDX-License-Identifier: MIT */
/* trace_tools.c - veil-trace export (Chrome trace-event JSON) and step (interactive). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "hostio.h"
#include "trace_read.h"

static const char usage_export[] =
	"usage: veil-trace export FILE --chrome OUT.json [--no-vc]\n"
	"Writes the Chrome trace-event format (JSON) that Perfetto (ui.perfetto.dev) and\n"
	"chrome://tracing open: one track per vCPU with\n"
	"  - a duration slice for every stay in a domain (VMPL0..VMPL3),\n"
	"  - inside it, a duration slice for every SVSM call, named by protocol and call\n"
	"    (\"log APPEND\", \"core PVALIDATE\"), from the call to its result,\n"
	"  - instant events for faults (#VC, #NPF, exceptions, the monitor's fault\n"
	"    policy) and the end of the run.\n"
	"Time: guest instructions when the run counted them exactly (--max-insns or\n"
	"--trace-insns), otherwise record numbers; one unit is shown as 1 ns, so the\n"
	"viewer's numbers read as instructions (or records).\n"
	"  --chrome OUT   the output file (not FILE itself); written to a temporary\n"
	"                 file and renamed, so a failed export leaves no partial file\n"
	"  --no-vc        leave out the #VC instants (frequent with console output)\n"
	"Exit status: 0 written, 1 unreadable trace or failed write, 2 bad command line.\n";

static const char usage_step[] =
	"usage: veil-trace step FILE [N]\n"
	"Interactive stepper, from record N (default 0). Reads commands line by line:\n"
	"  n, next [K]       forward 1 (or K) records; an empty line repeats the last move\n"
	"  p, prev [K]       back 1 (or K) records\n"
	"  g, goto N         record N\n"
	"  f, find WHAT      next record of type WHAT (e.g. switch, vc, mcall), or whose\n"
	"                    listing line contains the text WHAT\n"
	"  s, show           all detail of the current record\n"
	"  q, quit           leave (so does end of input)\n";

static bool help_asked(int argc, char **argv, const char *usage)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			return true;
		}
	return false;
}

static int open_or_fail(struct tfile *t, const char *path)
{
	char err[300];

	if (tf_open(t, path, err, sizeof(err))) {
		fprintf(stderr, "veil-trace: %s: %s\n", path, err);
		tf_close(t);
		return 1;
	}
	return 0;
}

/* ---- export --chrome ---------------------------------------------------------- */

struct stay {
	bool open;
	unsigned vmpl;
	uint64_t start, first;
};

struct call {
	bool open;
	uint64_t start, first, protocol, call;
};

struct chrome {
	FILE *f;
	bool first, no_vc, icount;
	struct stay stays[256];
	struct call calls[256];
	struct hio_progress progress;
};

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Chrome timestamps are microseconds: one unit (instruction or record) is
 * written as 1 ns. */
static void ts(FILE *f, const char *key, uint64_t units)
{
	fprintf(f, ",\"%s\":%" PRIu64 ".%03u", key, units / 1000, (unsigned)(units % 1000));
}

static uint64_t clock_of(const struct chrome *c, const struct trace_rec *r)
{
	return c->icount ? r->icount : r->seq;
}

static void sep(struct chrome *c)
{
	fputs(c->first ? "\n" : ",\n", c->f);
	c->first = false;
}

static void stay_end(struct chrome *c, unsigned vcpu, uint64_t end)
{
	struct stay *s = &c->stays[vcpu];

	if (!s->open)
		return;
	sep(c);
	fprintf(c->f, "{\"name\":\"VMPL%u\",\"cat\":\"domain\",\"ph\":\"X\"", s->vmpl);
	ts(c->f, "ts", s->start);
	ts(c->f, "dur", end - s->start);
	fprintf(c->f, ",\"pid\":1,\"tid\":%u,\"args\":{\"vmpl\":%u,\"first_record\":%" PRIu64 "}}",
		vcpu, s->vmpl, s->first);
	s->open = false;
}

/* An SVSM call as a slice from TR_MCALL to its TR_MCALL_RET (or the end). */
static void call_end(struct chrome *c, unsigned vcpu, uint64_t end, const struct trace_mon *ret)
{
	struct call *k = &c->calls[vcpu];
	char name[64];

	if (!k->open)
		return;
	trace_call_name(k->protocol, k->call, name, sizeof(name));
	sep(c);
	fprintf(c->f, "{\"name\":");
	json_str(c->f, name);
	fprintf(c->f, ",\"cat\":\"svsm\",\"ph\":\"X\"");
	ts(c->f, "ts", k->start);
	ts(c->f, "dur", end - k->start);
	fprintf(c->f,
		",\"pid\":1,\"tid\":%u,\"args\":{\"protocol\":\"0x%" PRIx64 "\",\"call\":%" PRIu64
		",\"first_record\":%" PRIu64,
		vcpu, k->protocol, k->call, k->first);
	if (ret)
		fprintf(c->f, ",\"result\":\"0x%" PRIx64 "\"", ret->a);
	fprintf(c->f, "}}");
	k->open = false;
}

static const char *instant_cat(unsigned type)
{
	switch (type) {
	case TR_VC:
	case TR_NPF:
	case TR_EXCEPTION:
	case TR_MFAULT:
		return "fault";
	case TR_END:
		return "end";
	default:
		return NULL;
	}
}

static void instant(struct chrome *c, const struct trace_rec *r)
{
	const char *cat = instant_cat(r->type);
	char d[400];

	if (!cat || (c->no_vc && r->type == TR_VC))
		return;
	trace_describe(r, d, sizeof(d));
	sep(c);
	fprintf(c->f, "{\"name\":");
	json_str(c->f, trace_type_name(r->type));
	fprintf(c->f, ",\"cat\":\"%s\",\"ph\":\"i\",\"s\":\"t\"", cat);
	ts(c->f, "ts", clock_of(c, r));
	fprintf(c->f,
		",\"pid\":1,\"tid\":%u,\"args\":{\"record\":%" PRIu64
		",\"vmpl\":%u,\"rip\":\"%#" PRIx64 "\",\"detail\":",
		r->vcpu, r->seq, r->vmpl, r->rip);
	json_str(c->f, d);
	fprintf(c->f, "}}");
}

static void chrome_rec(struct chrome *c, const struct trace_rec *r, bool *seen)
{
	struct stay *s = &c->stays[r->vcpu];
	const struct trace_mon *mon = (const void *)(r + 1);
	uint64_t now = clock_of(c, r);

	if (!seen[r->vcpu]) {
		sep(c);
		fprintf(c->f,
			"{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,"
			"\"args\":{\"name\":\"vCPU %u\"}}",
			r->vcpu, r->vcpu);
		seen[r->vcpu] = true;
	}
	if (r->type == TR_SWITCH) {
		const struct trace_switch *sw = (const void *)(r + 1);

		if (!sw->result) {
			if (!s->open)
				*s = (struct stay){ true, sw->from, now, r->seq };
			call_end(c, r->vcpu, now, NULL); /* left VMPL0 without a result */
			stay_end(c, r->vcpu, now);
			*s = (struct stay){ true, sw->to, now, r->seq };
		}
	} else if (!s->open && r->type != TR_RMP) {
		*s = (struct stay){ true, r->vmpl, now, r->seq };
	}
	if (r->type == TR_MCALL) {
		call_end(c, r->vcpu, now, NULL);
		c->calls[r->vcpu] =
			(struct call){ true, now, r->seq, mon->a >> 32, mon->a & 0xFFFFFFFFULL };
	} else if (r->type == TR_MCALL_RET) {
		call_end(c, r->vcpu, now, mon);
	}
	instant(c, r);
}

static void write_chrome(const struct tfile *t, struct chrome *c)
{
	bool seen[256] = { false };
	uint64_t i, end = 0;
	unsigned v;

	c->first = true;
	c->icount = t->h.fh->flags & TRACE_F_ICOUNT;
	fprintf(c->f, "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"clock\":\"%s\",\"source\":",
		c->icount ? "guest instructions (shown as 1 ns each)" :
			    "record number (shown as 1 ns each)");
	json_str(c->f, t->path);
	fprintf(c->f, "},\"traceEvents\":[");
	for (i = 0; i < t->n; i++) {
		chrome_rec(c, tf_rec(t, i), seen);
		hio_progress(&c->progress, i, t->n);
	}
	if (t->n)
		end = clock_of(c, tf_rec(t, t->n - 1)) + 1;
	for (v = 0; v < 256; v++) {
		call_end(c, v, end, NULL);
		stay_end(c, v, end);
	}
	sep(c);
	fprintf(c->f,
		"{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":\"veil-emu %s\"}}\n]}\n",
		t->h.fh->mode == TRACE_MODE_RUN ? "run" : "exec");
}

int cmd_export(int argc, char **argv)
{
	const char *file = NULL, *out = NULL;
	static struct chrome c; /* 12 KiB: not on the stack */
	struct hio_out o;
	struct tfile t;
	char err[600];
	int i, rc;

	if (help_asked(argc, argv, usage_export))
		return 0;
	memset(&c, 0, sizeof(c));
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--chrome") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(argv[i], "--no-vc")) {
			c.no_vc = true;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr,
				"veil-trace: unknown option '%s' (see veil-trace export --help)\n",
				argv[i]);
			return 2;
		} else if (!file) {
			file = argv[i];
		} else {
			fprintf(stderr,
				"veil-trace: export takes one FILE, got '%s' too (see veil-trace "
				"export --help)\n",
				argv[i]);
			return 2;
		}
	}
	if (!file || !out) {
		fprintf(stderr, "veil-trace: export wants FILE --chrome OUT.json (see veil-trace "
				"export --help)\n");
		return 2;
	}
	if (hio_same_file(file, out)) {
		fprintf(stderr, "veil-trace: the output '%s' is the trace itself\n", out);
		return 1;
	}
	if ((rc = open_or_fail(&t, file)))
		return rc;
	if (hio_out_open(&o, out, 0666, 0, err, sizeof(err))) {
		fprintf(stderr, "veil-trace: %s\n", err);
		tf_close(&t);
		return 1;
	}
	c.f = o.f;
	hio_progress_init(&c.progress, "veil-trace", "exporting");
	write_chrome(&t, &c);
	hio_progress_end(&c.progress);
	rc = hio_out_close(&o, 0, err, sizeof(err)) ? 1 : 0;
	if (rc)
		fprintf(stderr, "veil-trace: %s\n", err);
	tf_close(&t);
	return rc;
}

/* ---- step ------------------------------------------------------------------------ */

static void step_print(const struct tfile *t, uint64_t cur)
{
	char line[700];

	tf_line(t, cur, line, sizeof(line));
	printf("[%" PRIu64 "/%" PRIu64 "] %s\n", cur, t->n - 1, line);
}

/* Next record after cur that has type `what` or whose line contains it. */
static bool step_find(const struct tfile *t, uint64_t *cur, const char *what)
{
	int type = trace_type_from_name(what);
	char line[700];
	uint64_t i;

	for (i = *cur + 1; i < t->n; i++) {
		if (type >= 0) {
			if (tf_rec(t, i)->type != type)
				continue;
		} else {
			tf_line(t, i, line, sizeof(line));
			if (!strstr(line, what))
				continue;
		}
		*cur = i;
		return true;
	}
	return false;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static uint64_t count_arg(const char *a)
{
	uint64_t k = a && *a ? strtoull(a, NULL, 0) : 1;

	return k ? k : 1;
}

/* One command; returns false to quit. */
static bool step_cmd(const struct tfile *t, uint64_t *cur, char *line, char *last)
{
	char *cmd = trim(line), *arg;

	if (!*cmd)
		cmd = last;
	else
		snprintf(last, 64, "%.63s", cmd);
	arg = cmd + strcspn(cmd, " \t");
	if (*arg)
		*arg++ = 0;
	arg = trim(arg);
	if (!strcmp(cmd, "q") || !strcmp(cmd, "quit"))
		return false;
	if (!strcmp(cmd, "n") || !strcmp(cmd, "next")) {
		uint64_t k = count_arg(arg);

		if (*cur + 1 >= t->n)
			printf("at the last record\n");
		*cur = *cur + k < t->n ? *cur + k : t->n - 1;
	} else if (!strcmp(cmd, "p") || !strcmp(cmd, "prev")) {
		uint64_t k = count_arg(arg);

		if (!*cur)
			printf("at the first record\n");
		*cur = *cur > k ? *cur - k : 0;
	} else if (!strcmp(cmd, "g") || !strcmp(cmd, "goto")) {
		char *end;
		uint64_t n = strtoull(arg, &end, 0);

		if (!*arg || *end || n >= t->n) {
			printf("goto wants a record number from 0 to %" PRIu64 "\n", t->n - 1);
			return true;
		}
		*cur = n;
	} else if (!strcmp(cmd, "f") || !strcmp(cmd, "find")) {
		if (!*arg) {
			printf("find wants a record type or some text\n");
			return true;
		}
		if (!step_find(t, cur, arg)) {
			printf("not found after record %" PRIu64 ": %s\n", *cur, arg);
			return true;
		}
	} else if (!strcmp(cmd, "s") || !strcmp(cmd, "show")) {
		tf_show(t, *cur, stdout);
		return true;
	} else {
		printf("commands: n [K], p [K], g N, f TYPE|TEXT, s, q (veil-trace step --help)\n");
		return true;
	}
	step_print(t, *cur);
	return true;
}

int cmd_step(int argc, char **argv)
{
	char line[512], last[64] = "n";
	struct tfile t;
	uint64_t cur = 0;
	int rc;

	if (help_asked(argc, argv, usage_step))
		return 0;
	if (argc < 1 || argc > 2 ||
	    (argc == 2 &&
	     (!isdigit((unsigned char)argv[1][0]) || (cur = strtoull(argv[1], NULL, 0), false)))) {
		fprintf(stderr, "veil-trace: step wants FILE [N] (see veil-trace step --help)\n");
		return 2;
	}
	if ((rc = open_or_fail(&t, argv[0])))
		return rc;
	if (!t.n) {
		printf("%s has no records\n", argv[0]);
		tf_close(&t);
		return 0;
	}
	if (cur >= t.n)
		cur = t.n - 1;
	printf("%s: %" PRIu64 " records; n/p/g N/f WHAT/s/q (help: any other word)\n", argv[0],
	       t.n);
	step_print(&t, cur);
	for (;;) {
		printf("step> ");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin) || !step_cmd(&t, &cur, line, last))
			break;
	}
	printf("\n");
	tf_close(&t);
	return 0;
}
