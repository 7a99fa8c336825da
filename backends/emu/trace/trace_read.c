/* SPDX-License-Identifier: MIT */
/* trace_read.c - reading a trace file for veil-trace: checks, listing, detail. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capstone/capstone.h>

#include "hostio.h"
#include "trace_read.h"
#include "trace_syms.h"

int tf_open(struct emu_tfile *t, const char *path, char *err, size_t errlen)
{
	size_t off, cap = 0;

	memset(t, 0, sizeof(*t));
	t->path = path;
	/* Read whole into memory, never mapped: a trace that is rewritten or cut
	 * while it is read (a run recording to the same name) gives at worst a
	 * truncated copy that the checks below reject, never SIGBUS. */
	if (hio_read(path, 0, &t->map, &t->len, err, errlen))
		return -1;
	if (trace_parse_header(t->map, t->len, &t->h, err, errlen))
		return -1;
	for (off = t->h.fh->hdr_size; off < t->len;) {
		const struct trace_rec *r = (const void *)(t->map + off);
		char why[160];

		if (trace_check_record(t->map + off, t->len - off, why, sizeof(why))) {
			snprintf(err, errlen, "record %" PRIu64 " at offset %zu: %s", t->n, off,
				 why);
			return -1;
		}
		if (r->seq != t->n) {
			snprintf(err, errlen,
				 "record %" PRIu64 " at offset %zu has number %" PRIu64, t->n, off,
				 r->seq);
			return -1;
		}
		if (t->n == cap) {
			uint64_t *p = realloc(t->off, (cap = cap ? cap * 2 : 1024) * sizeof(*p));

			if (!p) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			t->off = p;
		}
		t->off[t->n++] = off;
		off += r->size;
	}
	return 0;
}

void tf_close(struct emu_tfile *t)
{
	free(t->map);
	free(t->off);
	memset(t, 0, sizeof(*t));
}

const struct trace_rec *tf_rec(const struct emu_tfile *t, uint64_t i)
{
	return (const void *)(t->map + t->off[i]);
}

/* The SNP instructions, which Capstone 4 does not know. */
static const char *snp_insn(const uint8_t *b, size_t len)
{
	static const struct {
		uint8_t op[4];
		const char *name;
	} t[] = { { { 0xF2, 0x0F, 0x01, 0xFF }, "pvalidate" },
		  { { 0xF3, 0x0F, 0x01, 0xFE }, "rmpadjust" },
		  { { 0xF3, 0x0F, 0x01, 0xD9 }, "vmgexit" },
		  { { 0xF2, 0x0F, 0x01, 0xFE }, "rmpupdate" },
		  { { 0xF3, 0x0F, 0x01, 0xFF }, "psmash" },
		  { { 0xF2, 0x0F, 0x01, 0xFD }, "rmpread" } };
	unsigned i;

	for (i = 0; len >= 4 && i < sizeof(t) / sizeof(t[0]); i++)
		if (!memcmp(b, t[i].op, 4))
			return t[i].name;
	return NULL;
}

int tf_disasm(const uint8_t *bytes, size_t len, uint64_t rip, char *buf, size_t buflen)
{
	csh h;
	cs_insn *insn;
	size_t n;

	if (snp_insn(bytes, len)) {
		snprintf(buf, buflen, "%s", snp_insn(bytes, len));
		return 0;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -1;
	n = cs_disasm(h, bytes, len, rip, 1, &insn);
	if (n)
		snprintf(buf, buflen, "%s %s", insn[0].mnemonic, insn[0].op_str);
	else
		snprintf(buf, buflen, "(bytes Capstone cannot decode)");
	if (n)
		cs_free(insn, n);
	cs_close(&h);
	return n ? 0 : -1;
}

void tf_line(const struct emu_tfile *t, uint64_t i, char *buf, size_t len)
{
	const struct trace_rec *r = tf_rec(t, i);
	char d[400], sym[160];

	trace_describe(r, d, sizeof(d));
	if (r->type == TR_INSN) {
		const struct trace_insn *in = (const void *)(r + 1);
		char dis[96];

		tf_disasm(in->bytes, in->len, r->rip, dis, sizeof(dis));
		snprintf(d + strlen(d), sizeof(d) - strlen(d), "  %s", dis);
	}
	tsyms_suffix(r->rip, sym, sizeof(sym));
	snprintf(buf, len,
		 "%8" PRIu64 "  vcpu %u VMPL%u CPL%u  icount %-8" PRIu64 " rip %#-14" PRIx64
		 "%s %-11s %s",
		 r->seq, r->vcpu, r->vmpl, r->cpl, r->icount, r->rip, sym, trace_type_name(r->type),
		 d);
}

static void show_regs(const struct trace_regs *g, FILE *out)
{
	static const char *const names[] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi",
					     "rbp", "rsp", "r8",  "r9",	 "r10", "r11",
					     "r12", "r13", "r14", "r15", "rip", "rflags",
					     "cr0", "cr2", "cr3", "cr4" };
	const uint64_t *v = &g->rax;
	unsigned i;

	fprintf(out, "registers:\n");
	for (i = 0; i < 22; i++)
		fprintf(out, "  %-6s 0x%016" PRIx64 "%s", names[i], v[i], i % 3 == 2 ? "\n" : "");
	fprintf(out, "\n");
}

/* The instruction a record belongs to: its own bytes, or the last INSN record
 * of the same vCPU before it (the instruction that caused the event). */
static void show_insn(const struct emu_tfile *t, uint64_t i, FILE *out)
{
	const struct trace_rec *r = tf_rec(t, i);
	uint64_t j = i + 1;
	char dis[96], sym[160];

	while (j-- > 0) {
		const struct trace_rec *q = tf_rec(t, j);
		const struct trace_insn *in = (const void *)(q + 1);

		if (q->type != TR_INSN || q->vcpu != r->vcpu)
			continue;
		tf_disasm(in->bytes, in->len, q->rip, dis, sizeof(dis));
		tsyms_suffix(q->rip, sym, sizeof(sym));
		fprintf(out, "%s %#" PRIx64 "%s: %s", j == i ? "instruction" : "last instruction",
			q->rip, sym, dis);
		if (j != i)
			fprintf(out, "   (record %" PRIu64 ")", j);
		fprintf(out, "\n");
		return;
	}
	if (t->h.fh->flags & TRACE_F_INSNS)
		fprintf(out, "instruction: none of this vCPU before this record\n");
	else
		fprintf(out, "instruction: not recorded (record with --trace-insns)\n");
}

void tf_show(const struct emu_tfile *t, uint64_t i, FILE *out)
{
	const struct trace_rec *r = tf_rec(t, i);
	const struct trace_regs *g = trace_rec_regs(r);
	char d[600], sym[160];

	trace_describe(r, d, sizeof(d));
	fprintf(out, "record %" PRIu64 " of %" PRIu64 " (offset %" PRIu64 ", %u bytes)\n", r->seq,
		t->n, t->off[i], r->size);
	fprintf(out, "type:   %s (%u)\n", trace_type_name(r->type), r->type);
	fprintf(out, "vcpu:   %u\nvmpl:   %u\ncpl:    %u\n", r->vcpu, r->vmpl, r->cpl);
	fprintf(out, "icount: %" PRIu64 "%s\n", r->icount,
		t->h.fh->flags & TRACE_F_ICOUNT ? "" : " (instructions not counted in this run)");
	tsyms_suffix(r->rip, sym, sizeof(sym));
	fprintf(out, "rip:    %#" PRIx64 "%s%s\n", r->rip, sym,
		r->vmpl == 0 && !g && t->h.fh->mode == TRACE_MODE_RUN ? " (native monitor)" : "");
	fprintf(out, "detail: %s\n", d);
	show_insn(t, i, out);
	if (g)
		show_regs(g, out);
	else
		fprintf(out, "registers: not recorded for this record\n");
}

void tf_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7F)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}
