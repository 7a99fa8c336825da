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
	"  n, next [K]        forward 1 (or K) records; an empty line repeats the last\n"
	"                     command\n"
	"  p, prev [K]        back 1 (or K) records\n"
	"  g, goto N          record N\n"
	"  f, find WHAT       next record of type WHAT (switch, vc, mcall, console, ...) or\n"
	"                     whose listing line contains the text WHAT (console lines\n"
	"                     included: f \"PASS\" finds the test OS's next result)\n"
	"  F, rfind WHAT      the same, backwards\n"
	"  v, vcpu N|all      only stop at records of vCPU N (n, p, f, F); all: every vCPU\n"
	"  s, show            all detail of the current record\n"
	"  history            the commands entered so far, numbered\n"
	"  !N, !!             run command N of the history again, or the last one\n"
	"  help, ?            this list\n"
	"  q, quit            leave (so does end of input)\n"
	"Exit status: 0 after quit or end of input, 1 unreadable trace, 2 bad command line.\n";

/* ---- export --chrome ---------------------------------------------------------- */

struct emu_stay {
	bool open;
	unsigned vmpl;
	uint64_t start, first;
};

struct emu_call {
	bool open;
	uint64_t start, first, protocol, call;
};

struct emu_chrome {
	FILE *f;
	bool first, no_vc, icount;
	struct emu_stay stays[256];
	struct emu_call calls[256];
	struct hio_progress progress;
};

/* Chrome timestamps are microseconds: one unit (instruction or record) is
 * written as 1 ns. */
static void ts(FILE *f, const char *key, uint64_t units)
{
	fprintf(f, ",\"%s\":%" PRIu64 ".%03u", key, units / 1000, (unsigned)(units % 1000));
}

static uint64_t clock_of(const struct emu_chrome *c, const struct trace_rec *r)
{
	return c->icount ? r->icount : r->seq;
}

static void sep(struct emu_chrome *c)
{
	fputs(c->first ? "\n" : ",\n", c->f);
	c->first = false;
}

static void stay_end(struct emu_chrome *c, unsigned vcpu, uint64_t end)
{
	struct emu_stay *s = &c->stays[vcpu];

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
static void call_end(struct emu_chrome *c, unsigned vcpu, uint64_t end, const struct trace_mon *ret)
{
	struct emu_call *k = &c->calls[vcpu];
	char name[64];

	if (!k->open)
		return;
	trace_call_name(k->protocol, k->call, name, sizeof(name));
	sep(c);
	fprintf(c->f, "{\"name\":");
	tf_json_str(c->f, name);
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

static void instant(struct emu_chrome *c, const struct trace_rec *r)
{
	const char *cat = instant_cat(r->type);
	char d[400];

	if (!cat || (c->no_vc && r->type == TR_VC))
		return;
	trace_describe(r, d, sizeof(d));
	sep(c);
	fprintf(c->f, "{\"name\":");
	tf_json_str(c->f, trace_type_name(r->type));
	fprintf(c->f, ",\"cat\":\"%s\",\"ph\":\"i\",\"s\":\"t\"", cat);
	ts(c->f, "ts", clock_of(c, r));
	fprintf(c->f,
		",\"pid\":1,\"tid\":%u,\"args\":{\"record\":%" PRIu64
		",\"vmpl\":%u,\"rip\":\"%#" PRIx64 "\",\"detail\":",
		r->vcpu, r->seq, r->vmpl, r->rip);
	tf_json_str(c->f, d);
	fprintf(c->f, "}}");
}

static void chrome_rec(struct emu_chrome *c, const struct trace_rec *r, bool *seen)
{
	struct emu_stay *s = &c->stays[r->vcpu];
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
				*s = (struct emu_stay){ true, sw->from, now, r->seq };
			call_end(c, r->vcpu, now, NULL); /* left VMPL0 without a result */
			stay_end(c, r->vcpu, now);
			*s = (struct emu_stay){ true, sw->to, now, r->seq };
		}
	} else if (!s->open && r->type != TR_RMP) {
		*s = (struct emu_stay){ true, r->vmpl, now, r->seq };
	}
	if (r->type == TR_MCALL) {
		call_end(c, r->vcpu, now, NULL);
		c->calls[r->vcpu] = (struct emu_call){ true, now, r->seq, mon->a >> 32,
						       mon->a & 0xFFFFFFFFULL };
	} else if (r->type == TR_MCALL_RET) {
		call_end(c, r->vcpu, now, mon);
	}
	instant(c, r);
}

static void write_chrome(const struct emu_tfile *t, struct emu_chrome *c)
{
	bool seen[256] = { false };
	uint64_t i, end = 0;
	unsigned v;

	c->first = true;
	c->icount = t->h.fh->flags & TRACE_F_ICOUNT;
	fprintf(c->f, "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"clock\":\"%s\",\"source\":",
		c->icount ? "guest instructions (shown as 1 ns each)" :
			    "record number (shown as 1 ns each)");
	tf_json_str(c->f, t->path);
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
	static struct emu_chrome c; /* 12 KiB: not on the stack */
	struct hio_out o;
	struct emu_tfile t;
	char err[600];
	int i, rc;

	if (want_help(argc, argv, usage_export))
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
	if ((rc = open_trace(&t, file)))
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

#define STEP_HISTORY 256

struct emu_stepper {
	const struct emu_tfile *t;
	uint64_t cur;
	int vcpu; /* -1: every vCPU */
	char last[512];
	char *hist[STEP_HISTORY];
	unsigned nhist;
};

static void step_print(const struct emu_stepper *st)
{
	char line[700];

	tf_line(st->t, st->cur, line, sizeof(line));
	printf("[%" PRIu64 "/%" PRIu64 "] %s\n", st->cur, st->t->n - 1, line);
}

static bool step_match(const struct emu_stepper *st, uint64_t i, int type, const char *what)
{
	char line[700];

	if (st->vcpu >= 0 && tf_rec(st->t, i)->vcpu != st->vcpu)
		return false;
	if (!what)
		return true;
	if (type >= 0)
		return tf_rec(st->t, i)->type == type;
	tf_line(st->t, i, line, sizeof(line));
	return strstr(line, what) != NULL;
}

/* The k-th record from cur in direction dir (+1/-1) that matches; false if
 * there is none (cur is then left where it was). */
static bool step_move(struct emu_stepper *st, int dir, uint64_t k, const char *what)
{
	int type = what ? trace_type_from_name(what) : -1;
	uint64_t i = st->cur, found = st->cur;

	while (k) {
		if ((dir > 0 && i + 1 >= st->t->n) || (dir < 0 && i == 0))
			break;
		i += dir;
		if (step_match(st, i, type, what)) {
			found = i;
			k--;
		}
	}
	if (found == st->cur)
		return false;
	st->cur = found;
	return true;
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

static void step_goto(struct emu_stepper *st, const char *arg)
{
	char *end;
	uint64_t n = strtoull(arg, &end, 0);

	if (!*arg || *end || n >= st->t->n) {
		printf("goto wants a record number from 0 to %" PRIu64 "\n", st->t->n - 1);
		return;
	}
	st->cur = n;
	step_print(st);
}

static void step_vcpu(struct emu_stepper *st, const char *arg)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 0);

	if (!strcmp(arg, "all")) {
		st->vcpu = -1;
		printf("stopping at records of every vCPU\n");
	} else if (*arg && !*end && v < 256) {
		st->vcpu = (int)v;
		printf("stopping only at records of vCPU %lu\n", v);
	} else {
		printf("vcpu wants a vCPU number or 'all'\n");
	}
}

static void step_find(struct emu_stepper *st, int dir, const char *arg)
{
	if (!*arg) {
		printf("%s wants a record type or some text\n", dir > 0 ? "find" : "rfind");
		return;
	}
	if (!step_move(st, dir, 1, arg)) {
		printf("not found %s record %" PRIu64 ": %s\n", dir > 0 ? "after" : "before",
		       st->cur, arg);
		return;
	}
	step_print(st);
}

static void step_history(const struct emu_stepper *st)
{
	for (unsigned i = 0; i < st->nhist; i++)
		printf("%5u  %s\n", i + 1, st->hist[i]);
}

static void step_remember(struct emu_stepper *st, const char *cmd)
{
	if (st->nhist == STEP_HISTORY) {
		free(st->hist[0]);
		memmove(st->hist, st->hist + 1, (STEP_HISTORY - 1) * sizeof(st->hist[0]));
		st->nhist--;
	}
	st->hist[st->nhist] = strdup(cmd);
	if (st->hist[st->nhist])
		st->nhist++;
}

/* "!N" / "!!": the history entry to run again, or NULL (message printed). */
static const char *step_recall(const struct emu_stepper *st, const char *cmd)
{
	char *end;
	unsigned long n = cmd[1] == '!' && !cmd[2] ? st->nhist : strtoul(cmd + 1, &end, 10);

	if (cmd[1] != '!' && (!cmd[1] || *end))
		n = 0;
	if (!n || n > st->nhist) {
		printf("no command %s in the history (history lists them)\n", cmd);
		return NULL;
	}
	printf("%s\n", st->hist[n - 1]);
	return st->hist[n - 1];
}

/* One command (already trimmed, not empty); returns false to quit. */
static bool step_run(struct emu_stepper *st, char *cmd)
{
	char *arg = cmd + strcspn(cmd, " \t");

	if (*arg)
		*arg++ = 0;
	arg = trim(arg);
	if (!strcmp(cmd, "q") || !strcmp(cmd, "quit"))
		return false;
	if (!strcmp(cmd, "n") || !strcmp(cmd, "next") || !strcmp(cmd, "p") ||
	    !strcmp(cmd, "prev")) {
		int dir = cmd[0] == 'n' ? 1 : -1;

		if (!step_move(st, dir, count_arg(arg), NULL))
			printf("at the %s record%s\n", dir > 0 ? "last" : "first",
			       st->vcpu >= 0 ? " of this vCPU" : "");
		step_print(st);
	} else if (!strcmp(cmd, "g") || !strcmp(cmd, "goto")) {
		step_goto(st, arg);
	} else if (!strcmp(cmd, "f") || !strcmp(cmd, "find")) {
		step_find(st, 1, arg);
	} else if (!strcmp(cmd, "F") || !strcmp(cmd, "rfind")) {
		step_find(st, -1, arg);
	} else if (!strcmp(cmd, "v") || !strcmp(cmd, "vcpu")) {
		step_vcpu(st, arg);
	} else if (!strcmp(cmd, "s") || !strcmp(cmd, "show")) {
		tf_show(st->t, st->cur, stdout);
	} else if (!strcmp(cmd, "history")) {
		step_history(st);
	} else if (!strcmp(cmd, "help") || !strcmp(cmd, "?")) {
		fputs(strchr(usage_step, '\n') + 1, stdout);
	} else {
		printf("unknown command '%s' (help or ? lists the commands)\n", cmd);
	}
	return true;
}

/* A line of input: recall, repeat, remember, run. */
static bool step_line(struct emu_stepper *st, char *line)
{
	char buf[512];
	const char *cmd = trim(line);
	bool repeat = !*cmd;

	if (repeat)
		cmd = st->last;
	if (cmd[0] == '!' && !(cmd = step_recall(st, cmd)))
		return true;
	snprintf(buf, sizeof(buf), "%s", cmd);
	if (!repeat && strcmp(buf, "history"))
		step_remember(st, buf);
	snprintf(st->last, sizeof(st->last), "%s", buf);
	return step_run(st, buf);
}

int cmd_step(int argc, char **argv)
{
	char line[512];
	struct emu_stepper st = { .vcpu = -1, .last = "n" };
	struct emu_tfile t;
	int rc;

	if (want_help(argc, argv, usage_step))
		return 0;
	if (argc < 1 || argc > 2 ||
	    (argc == 2 && (!isdigit((unsigned char)argv[1][0]) ||
			   (st.cur = strtoull(argv[1], NULL, 0), false)))) {
		fprintf(stderr, "veil-trace: step wants FILE [N] (see veil-trace step --help)\n");
		return 2;
	}
	if ((rc = open_trace(&t, argv[0])))
		return rc;
	st.t = &t;
	if (!t.n) {
		printf("%s has no records\n", argv[0]);
		tf_close(&t);
		return 0;
	}
	if (st.cur >= t.n)
		st.cur = t.n - 1;
	printf("%s: %" PRIu64 " records; n/p/g N/f WHAT/F WHAT/v N/s/history/q (help: ?)\n",
	       argv[0], t.n);
	step_print(&st);
	for (;;) {
		printf("step> ");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin) || !step_line(&st, line))
			break;
	}
	printf("\n");
	for (unsigned i = 0; i < st.nhist; i++)
		free(st.hist[i]);
	tf_close(&t);
	return 0;
}
