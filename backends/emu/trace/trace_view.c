/* SPDX-License-Identifier: MIT */
/*
 * trace_view.c - the veil-trace commands that read a trace: summary (counts
 * per type, protocol and VMPL), list (filtered records) and rmp (the RMP
 * history of one page).
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

static const char usage_summary[] =
	"usage: veil-trace summary [--json] FILE\n"
	"Prints the header (how the run was made: mode, options, images with SHA-256), the\n"
	"number of records per event type, per vCPU and per VMPL, the VMPL switches\n"
	"attributed to each service protocol (the call a switch enters or leaves), and how\n"
	"the run ended.\n"
	"  --json       one JSON object instead of text (for scripts)\n";

static const char usage_list[] =
	"usage: veil-trace list FILE [--vcpu N] [--vmpl N] [--type T[,T...]] [--from N] [--to N]\n"
	"                       [--json]\n"
	"One line per record: number, vCPU, VMPL, CPL, instruction count, RIP, type, detail.\n"
	"  --vcpu N     only records of vCPU N\n"
	"  --vmpl N     only records at VMPL N\n"
	"  --type T     only these types (comma-separated): insn vmgexit vmgexit-ret switch\n"
	"               rmp rmpadjust pvalidate vc npf exception mcall mcall-ret mfault\n"
	"               console end mevent\n"
	"  --from N     start at record N (default 0)\n"
	"  --to N       stop after record N (default: the last)\n"
	"  --json       one JSON object per line: seq, vcpu, vmpl, cpl, icount, rip (hex\n"
	"               string), type, detail, text for console records, and with\n"
	"               --symbols sym and sym_off (the symbol at or before rip)\n"
	"Console output is recorded a line per record, so --type console lists what\n"
	"the guest and the monitor printed.\n";

static const char usage_rmp[] =
	"usage: veil-trace rmp FILE GPA\n"
	"The permission history of the 4 KiB page at guest physical address GPA: the launch\n"
	"state of the machine model, then every record that changed the page's RMP entry\n"
	"(loader, page state change, RMPADJUST, PVALIDATE) with the entry before and after.\n";

/* ---- summary -------------------------------------------------------------------- */

#define MAX_PROTOS 32

struct emu_proto_count {
	uint64_t proto, switches, calls;
};

static struct emu_proto_count *proto_slot(struct emu_proto_count *pc, unsigned *n, uint64_t proto)
{
	unsigned i;

	for (i = 0; i < *n; i++)
		if (pc[i].proto == proto)
			return &pc[i];
	if (*n == MAX_PROTOS)
		return &pc[MAX_PROTOS - 1];
	pc[*n] = (struct emu_proto_count){ .proto = proto };
	return &pc[(*n)++];
}

static void print_header(const struct emu_tfile *t)
{
	const struct trace_file_hdr *fh = t->h.fh;
	unsigned i, k;

	printf("trace %s: format version %u, %s mode, %" PRIu64 " MiB, %u vCPU(s), %s%s\n", t->path,
	       fh->version, fh->mode == TRACE_MODE_RUN ? "run" : "exec", fh->mem_size >> 20,
	       fh->nr_vcpus, fh->flags & TRACE_F_INSNS ? "every instruction" : "events only",
	       fh->flags & TRACE_F_ICOUNT ? ", exact instruction counts" : "");
	printf("command: veil-emu %s", fh->mode == TRACE_MODE_RUN ? "run" : "exec");
	for (i = 0; i < t->h.argc; i++)
		printf(" %.*s", t->h.argv[i].len, t->h.argv[i].p);
	printf("\ncwd: %.*s\n", t->h.cwd.len, t->h.cwd.p);
	for (i = 0; i < t->h.nimages; i++) {
		const struct trace_image *im = &t->h.images[i];

		printf("image: %.*s (%" PRIu64 " bytes, sha256 ", im->path.len, im->path.p,
		       im->size);
		for (k = 0; k < 32; k++)
			printf("%02x", im->sha256[k]);
		printf(")\n");
	}
}

struct emu_summary {
	uint64_t types[TR_NR_TYPES], vcpus[256], vmpls[4], other;
	uint64_t in_call[256]; /* protocol + 1 of the call a vCPU is in, 0 = none */
	bool entered[256];     /* the last switch entered VMPL0 */
	uint64_t end_rec;
	struct emu_proto_count pc[MAX_PROTOS];
	unsigned npc;
};

static void summary_rec(struct emu_summary *sm, const struct trace_rec *r, uint64_t i)
{
	const struct trace_mon *mc = (const void *)(r + 1);
	const struct trace_switch *s = (const void *)(r + 1);

	sm->types[r->type]++;
	sm->vcpus[r->vcpu]++;
	if (r->type == TR_END && sm->end_rec == UINT64_MAX)
		sm->end_rec = i;
	sm->vmpls[r->vmpl & 3]++;
	if (r->type == TR_MCALL) {
		struct emu_proto_count *p = proto_slot(sm->pc, &sm->npc, mc->a >> 32);

		p->calls++;
		if (sm->entered[r->vcpu]) { /* the switch into VMPL0 carried this call */
			p->switches++;
			sm->other--;
			sm->entered[r->vcpu] = false;
		}
		sm->in_call[r->vcpu] = (mc->a >> 32) + 1;
	} else if (r->type == TR_SWITCH && !s->result) {
		sm->entered[r->vcpu] = s->to == 0;
		if (s->from == 0 && sm->in_call[r->vcpu]) {
			proto_slot(sm->pc, &sm->npc, sm->in_call[r->vcpu] - 1)->switches++;
			sm->in_call[r->vcpu] = 0;
		} else {
			sm->other++;
		}
	}
}

static void summary_text(const struct emu_tfile *t, const struct emu_summary *sm)
{
	unsigned k;

	print_header(t);
	printf("records: %" PRIu64 "\n\nby type:\n", t->n);
	for (k = 1; k < TR_NR_TYPES; k++)
		if (sm->types[k])
			printf("  %-12s %10" PRIu64 "\n", trace_type_name(k), sm->types[k]);
	printf("by vCPU:\n");
	for (k = 0; k < 256; k++)
		if (sm->vcpus[k])
			printf("  vCPU %-7u %10" PRIu64 "\n", k, sm->vcpus[k]);
	printf("by VMPL:\n");
	for (k = 0; k < 4; k++)
		if (sm->vmpls[k])
			printf("  VMPL%-8u %10" PRIu64 "\n", k, sm->vmpls[k]);
	printf("VMPL switches per service protocol:\n");
	for (k = 0; k < sm->npc; k++)
		printf("  protocol %#-10" PRIx64 " %-12s %10" PRIu64 " switches, %" PRIu64
		       " calls\n",
		       sm->pc[k].proto, trace_protocol_name(sm->pc[k].proto), sm->pc[k].switches,
		       sm->pc[k].calls);
	printf("  no call %26" PRIu64 " switches\n", sm->other);
	if (sm->end_rec < t->n) {
		char d[300];

		trace_describe(tf_rec(t, sm->end_rec), d, sizeof(d));
		printf("end: record %" PRIu64 ": %s\n", sm->end_rec, d);
	} else {
		printf("end: not recorded (the run did not finish)\n");
	}
}

/* {"0":n,...} for the non-zero counts of an array. */
static void json_counts(const char *key, const uint64_t *c, unsigned n, bool names)
{
	bool first = true;

	printf(",\"%s\":{", key);
	for (unsigned k = 0; k < n; k++) {
		if (!c[k])
			continue;
		if (names)
			printf("%s\"%s\":%" PRIu64, first ? "" : ",", trace_type_name(k), c[k]);
		else
			printf("%s\"%u\":%" PRIu64, first ? "" : ",", k, c[k]);
		first = false;
	}
	printf("}");
}

static void summary_json(const struct emu_tfile *t, const struct emu_summary *sm)
{
	const struct trace_file_hdr *fh = t->h.fh;
	char d[300];

	printf("{\"file\":");
	tf_json_str(stdout, t->path);
	printf(",\"version\":%u,\"mode\":\"%s\",\"mem_mib\":%" PRIu64
	       ",\"vcpus\":%u,\"insns\":%s,\"records\":%" PRIu64,
	       fh->version, fh->mode == TRACE_MODE_RUN ? "run" : "exec", fh->mem_size >> 20,
	       fh->nr_vcpus, fh->flags & TRACE_F_INSNS ? "true" : "false", t->n);
	json_counts("by_type", sm->types, TR_NR_TYPES, true);
	json_counts("by_vcpu", sm->vcpus, 256, false);
	json_counts("by_vmpl", sm->vmpls, 4, false);
	printf(",\"protocols\":[");
	for (unsigned k = 0; k < sm->npc; k++)
		printf("%s{\"protocol\":\"0x%" PRIx64 "\",\"name\":\"%s\",\"switches\":%" PRIu64
		       ",\"calls\":%" PRIu64 "}",
		       k ? "," : "", sm->pc[k].proto, trace_protocol_name(sm->pc[k].proto),
		       sm->pc[k].switches, sm->pc[k].calls);
	printf("],\"no_call_switches\":%" PRIu64 ",\"end\":", sm->other);
	if (sm->end_rec < t->n) {
		trace_describe(tf_rec(t, sm->end_rec), d, sizeof(d));
		tf_json_str(stdout, d);
	} else {
		printf("null");
	}
	printf("}\n");
}

int cmd_summary(int argc, char **argv)
{
	static struct emu_summary sm; /* 10 KiB: not on the stack */
	const char *file = NULL;
	bool json = false;
	struct emu_tfile t;
	uint64_t i;
	int rc, j;

	if (want_help(argc, argv, usage_summary))
		return 0;
	for (j = 0; j < argc; j++) {
		if (!strcmp(argv[j], "--json"))
			json = true;
		else if (argv[j][0] == '-' && argv[j][1])
			return fail("unknown option '%s' (see veil-trace summary --help)", argv[j]);
		else if (file)
			return fail("summary wants one FILE (see veil-trace summary --help)");
		else
			file = argv[j];
	}
	if (!file)
		return fail("summary wants one FILE (see veil-trace summary --help)");
	if ((rc = open_trace(&t, file)))
		return rc;
	memset(&sm, 0, sizeof(sm));
	sm.end_rec = UINT64_MAX;
	for (i = 0; i < t.n; i++)
		summary_rec(&sm, tf_rec(&t, i), i);
	if (json)
		summary_json(&t, &sm);
	else
		summary_text(&t, &sm);
	tf_close(&t);
	return 0;
}

/* ---- list ------------------------------------------------------------------------ */

struct emu_filter {
	bool json;
	int vcpu, vmpl;
	bool types[TR_NR_TYPES], any_type;
	uint64_t from, to;
};

static int parse_types(struct emu_filter *f, const char *s)
{
	char buf[256], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int ty = trace_type_from_name(tok);

		if (ty < 0)
			return fail("unknown record type '%s' (see veil-trace list --help)", tok);
		f->types[ty] = true;
		f->any_type = true;
	}
	return f->any_type ? 0 : fail("--type wants a type name");
}

static int parse_filter(struct emu_filter *f, int argc, char **argv, const char **file)
{
	int i;

	*f = (struct emu_filter){ .vcpu = -1, .vmpl = -1, .to = UINT64_MAX };
	*file = NULL;
	for (i = 0; i < argc; i++) {
		const char *o = argv[i], *a = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t v;

		if (o[0] != '-' || !o[1]) {
			if (*file)
				return fail("list takes one FILE, got '%s' too", o);
			*file = o;
			continue;
		}
		if (!strcmp(o, "--json")) {
			f->json = true;
			continue;
		}
		if (strcmp(o, "--vcpu") && strcmp(o, "--vmpl") && strcmp(o, "--from") &&
		    strcmp(o, "--to") && strcmp(o, "--type"))
			return fail("unknown option '%s' (see veil-trace list --help)", o);
		if (!a || parse_num(a, &v)) {
			if (a && !strcmp(o, "--type")) {
				if (parse_types(f, a))
					return 2;
				i++;
				continue;
			}
			return fail("%s wants a number (see veil-trace list --help)", o);
		}
		i++;
		if (!strcmp(o, "--vcpu") && v < 256)
			f->vcpu = v;
		else if (!strcmp(o, "--vmpl") && v < 4)
			f->vmpl = v;
		else if (!strcmp(o, "--from"))
			f->from = v;
		else if (!strcmp(o, "--to"))
			f->to = v;
		else if (!strcmp(o, "--type"))
			return fail("unknown record type '%s' (see veil-trace list --help)", a);
		else
			return fail("bad option '%s %s' (see veil-trace list --help)", o, a);
	}
	return *file ? 0 : fail("list needs a FILE (see veil-trace list --help)");
}

static void list_json(const struct trace_rec *r)
{
	const char *sym;
	uint64_t off;
	char d[700];

	trace_describe(r, d, sizeof(d));
	printf("{\"seq\":%" PRIu64 ",\"vcpu\":%u,\"vmpl\":%u,\"cpl\":%u,\"icount\":%" PRIu64
	       ",\"rip\":\"0x%" PRIx64 "\",\"type\":\"%s\",\"detail\":",
	       r->seq, r->vcpu, r->vmpl, r->cpl, r->icount, r->rip, trace_type_name(r->type));
	tf_json_str(stdout, d);
	if ((sym = tsyms_lookup(r->rip, &off))) {
		printf(",\"sym\":");
		tf_json_str(stdout, sym);
		printf(",\"sym_off\":%" PRIu64, off);
	}
	if (r->type == TR_CONSOLE) {
		const struct trace_console *c = (const void *)(r + 1);
		char text[300];

		snprintf(text, sizeof(text), "%.*s", (int)c->len, c->text);
		printf(",\"source\":\"%s\",\"text\":",
		       c->source == TRACE_CONSOLE_MONITOR ? "monitor" : "guest");
		tf_json_str(stdout, text);
	}
	printf("}\n");
}

int cmd_list(int argc, char **argv)
{
	struct emu_filter f;
	struct emu_tfile t;
	const char *file;
	char line[700];
	uint64_t i;
	int rc;

	if (want_help(argc, argv, usage_list))
		return 0;
	if ((rc = parse_filter(&f, argc, argv, &file)))
		return rc;
	if ((rc = open_trace(&t, file)))
		return rc;
	for (i = f.from; i < t.n && i <= f.to; i++) {
		const struct trace_rec *r = tf_rec(&t, i);

		if ((f.vcpu >= 0 && r->vcpu != f.vcpu) || (f.vmpl >= 0 && r->vmpl != f.vmpl) ||
		    (f.any_type && !f.types[r->type]))
			continue;
		if (f.json) {
			list_json(r);
			continue;
		}
		tf_line(&t, i, line, sizeof(line));
		puts(line);
	}
	tf_close(&t);
	return 0;
}

/* ---- rmp -------------------------------------------------------------------------- */

static void put_entry(const char *what, const struct trace_rmp_entry *e)
{
	char p[4][6];
	unsigned v;

	for (v = 0; v < 4; v++)
		trace_perm_str(e->perms[v], p[v]);
	printf("    %-7s %s %s%s%s  vmpl0 %-4s vmpl1 %-4s vmpl2 %-4s vmpl3 %-4s\n", what,
	       e->flags & TRACE_RMP_ASSIGNED ? "assigned  " : "unassigned",
	       e->flags & TRACE_RMP_VALIDATED ? "validated    " : "not-validated",
	       e->flags & TRACE_RMP_VMSA ? " vmsa" : "", e->flags & TRACE_RMP_LARGE ? " 2M" : "",
	       p[0], p[1], p[2], p[3]);
}

/* Apply the fields an operation sets to one page's entry. */
static void apply(struct trace_rmp_entry *e, const struct trace_rmp_entry *after, uint32_t ch)
{
	unsigned v;

	if (ch & TRACE_RMPF_FLAGS)
		e->flags = after->flags;
	if (ch & TRACE_RMPF_VALIDATED)
		e->flags = (e->flags & ~TRACE_RMP_VALIDATED) | (after->flags & TRACE_RMP_VALIDATED);
	if (ch & TRACE_RMPF_VMSA)
		e->flags = (e->flags & ~TRACE_RMP_VMSA) | (after->flags & TRACE_RMP_VMSA);
	for (v = 0; v < 4; v++)
		if (ch & TRACE_RMPF_PERM(v))
			e->perms[v] = after->perms[v];
}

/* Does record r change the page at gpa? Sets the operation's entry and fields. */
static bool touches(const struct trace_rec *r, uint64_t gpa, const struct trace_rmp_entry **after,
		    uint32_t *changed)
{
	uint64_t base, pages;

	if (r->type == TR_RMP) {
		const struct trace_rmp *x = (const void *)(r + 1);

		base = x->gpa, pages = x->npages, *after = &x->after, *changed = x->changed;
	} else if (r->type == TR_RMPADJUST) {
		const struct trace_rmpadjust *x = (const void *)(r + 1);

		base = x->gpa & ~0xFFFULL, pages = x->size ? 512 : 1;
		*after = &x->after, *changed = x->changed;
	} else if (r->type == TR_PVALIDATE) {
		const struct trace_pvalidate *x = (const void *)(r + 1);

		base = x->gpa & ~0xFFFULL, pages = x->size ? 512 : 1;
		*after = &x->after, *changed = x->changed;
	} else {
		return false;
	}
	return *changed && gpa >= base && (gpa - base) / 4096 < pages;
}

int cmd_rmp(int argc, char **argv)
{
	struct trace_rmp_entry e = { .flags = TRACE_RMP_ASSIGNED, .perms = { 0xF, 0, 0, 0 } };
	struct emu_tfile t;
	uint64_t gpa, i, changes = 0;
	int rc;

	if (want_help(argc, argv, usage_rmp))
		return 0;
	if (argc != 2 || parse_num(argv[1], &gpa))
		return fail("rmp wants FILE GPA (see veil-trace rmp --help)");
	if ((rc = open_trace(&t, argv[0])))
		return rc;
	gpa &= ~0xFFFULL;
	if (gpa >= t.h.fh->mem_size) {
		fprintf(stderr,
			"veil-trace: %#" PRIx64 " is outside guest memory (%" PRIu64 " MiB)\n", gpa,
			t.h.fh->mem_size >> 20);
		tf_close(&t);
		return 1;
	}
	printf("page %#" PRIx64 ":\n  launch state (machine model):\n", gpa);
	put_entry("", &e);
	for (i = 0; i < t.n; i++) {
		const struct trace_rec *r = tf_rec(&t, i);
		const struct trace_rmp_entry *after;
		struct trace_rmp_entry before = e;
		uint32_t changed;
		char d[600];

		if (!touches(r, gpa, &after, &changed))
			continue;
		apply(&e, after, changed);
		trace_describe(r, d, sizeof(d));
		*strchrnul(d, ';') = 0; /* the entry follows below, for this page */
		printf("  record %" PRIu64 " (vcpu %u VMPL%u) %s: %s\n", r->seq, r->vcpu, r->vmpl,
		       trace_type_name(r->type), d);
		put_entry("before", &before);
		put_entry("after", &e);
		changes++;
	}
	printf("%" PRIu64 " change(s)\n", changes);
	tf_close(&t);
	return 0;
}
