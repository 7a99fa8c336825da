/* SPDX-License-Identifier: MIT */
/* trace_tools.c - veil-trace export (Chrome trace-event JSON) and step (interactive). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "trace_read.h"

static const char usage_export[] =
	"usage: veil-trace export FILE --chrome OUT.json\n"
	"Writes the Chrome trace-event format (JSON) that Perfetto (ui.perfetto.dev) and\n"
	"chrome://tracing open: one track per vCPU, a duration slice for every stay in a\n"
	"domain (VMPL), instant events for faults (#VC, #NPF, exceptions, the monitor's\n"
	"fault policy), SVSM calls and the end of the run. The time axis is the record\n"
	"number (1 record = 1 us), so with --trace-insns it counts instructions.\n";

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

static void slice(FILE *f, unsigned vcpu, struct stay *s, uint64_t end, bool *first)
{
	if (!s->open)
		return;
	fprintf(f,
		"%s\n{\"name\":\"VMPL%u\",\"cat\":\"domain\",\"ph\":\"X\",\"ts\":%" PRIu64
		",\"dur\":%" PRIu64
		",\"pid\":1,\"tid\":%u,\"args\":{\"vmpl\":%u,\"first_record\":%" PRIu64 "}}",
		*first ? "" : ",", s->vmpl, s->start, end - s->start, vcpu, s->vmpl, s->first);
	*first = false;
	s->open = false;
}

static const char *instant_cat(unsigned type)
{
	switch (type) {
	case TR_VC:
	case TR_NPF:
	case TR_EXCEPTION:
	case TR_MFAULT:
		return "fault";
	case TR_MCALL:
		return "call";
	case TR_END:
		return "end";
	default:
		return NULL;
	}
}

static void instant(FILE *f, const struct trace_rec *r, bool *first)
{
	const char *cat = instant_cat(r->type);
	char d[400], name[64];

	if (!cat)
		return;
	trace_describe(r, d, sizeof(d));
	if (r->type == TR_MCALL) {
		const struct trace_mon *m = (const void *)(r + 1);

		snprintf(name, sizeof(name), "call %#" PRIx64 ":%" PRIu64, m->a >> 32,
			 m->a & (uint64_t)0xFFFFFFFF);
	} else {
		snprintf(name, sizeof(name), "%s", trace_type_name(r->type));
	}
	fprintf(f, "%s\n{\"name\":", *first ? "" : ",");
	json_str(f, name);
	fprintf(f,
		",\"cat\":\"%s\",\"ph\":\"i\",\"s\":\"t\",\"ts\":%" PRIu64
		",\"pid\":1,\"tid\":%u,\"args\":{\"record\":%" PRIu64
		",\"vmpl\":%u,\"rip\":\"%#" PRIx64 "\",\"detail\":",
		cat, r->seq, r->vcpu, r->seq, r->vmpl, r->rip);
	json_str(f, d);
	fprintf(f, "}}");
	*first = false;
}

static int write_chrome(const struct tfile *t, FILE *f)
{
	static struct stay stays[256];
	bool first = true, seen[256] = { false };
	uint64_t i;
	unsigned v;

	memset(stays, 0, sizeof(stays));
	fprintf(f, "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"clock\":\"record number\","
		   "\"source\":");
	json_str(f, t->path);
	fprintf(f, "},\"traceEvents\":[");
	for (i = 0; i < t->n; i++) {
		const struct trace_rec *r = tf_rec(t, i);
		struct stay *s = &stays[r->vcpu];

		if (!seen[r->vcpu]) {
			fprintf(f,
				"%s\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,"
				"\"args\":{\"name\":\"vCPU %u\"}}",
				first ? "" : ",", r->vcpu, r->vcpu);
			first = false;
			seen[r->vcpu] = true;
		}
		if (r->type == TR_SWITCH) {
			const struct trace_switch *sw = (const void *)(r + 1);

			if (!sw->result) {
				if (!s->open)
					*s = (struct stay){ true, sw->from, r->seq, r->seq };
				slice(f, r->vcpu, s, r->seq, &first);
				*s = (struct stay){ true, sw->to, r->seq, r->seq };
			}
		} else if (!s->open && r->type != TR_RMP) {
			*s = (struct stay){ true, r->vmpl, r->seq, r->seq };
		}
		instant(f, r, &first);
	}
	for (v = 0; v < 256; v++)
		slice(f, v, &stays[v], t->n, &first);
	fprintf(f,
		"%s\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":\"veil-emu %s\"}}\n]}\n",
		first ? "" : ",", t->h.fh->mode == TRACE_MODE_RUN ? "run" : "exec");
	return ferror(f) ? -1 : 0;
}

int cmd_export(int argc, char **argv)
{
	const char *file = NULL, *out = NULL;
	struct tfile t;
	FILE *f;
	int i, rc;

	if (help_asked(argc, argv, usage_export))
		return 0;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--chrome") && i + 1 < argc) {
			out = argv[++i];
		} else if (argv[i][0] != '-' && !file) {
			file = argv[i];
		} else {
			fprintf(stderr,
				"veil-trace: bad argument '%s' (see veil-trace export --help)\n",
				argv[i]);
			return 2;
		}
	}
	if (!file || !out) {
		fprintf(stderr, "veil-trace: export wants FILE --chrome OUT.json\n");
		return 2;
	}
	if ((rc = open_or_fail(&t, file)))
		return rc;
	f = fopen(out, "w");
	if (!f) {
		fprintf(stderr, "veil-trace: cannot create '%s': %s\n", out, strerror(errno));
		tf_close(&t);
		return 1;
	}
	rc = write_chrome(&t, f);
	if (fclose(f) || rc) {
		fprintf(stderr, "veil-trace: writing '%s' failed\n", out);
		rc = 1;
	}
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
