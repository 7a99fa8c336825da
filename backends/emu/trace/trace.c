/* SPDX-License-Identifier: MIT */
/*
 * trace.c - the trace writer (and replay checker) of the SNP machine model:
 * the file header, opening, flushing and closing (the records: trace_rec.c).
 *
 * Records are built in a small stack buffer and appended to a 1 MiB output
 * buffer, written with one fwrite when it fills. In replay mode the same
 * bytes are compared with the next record of the recorded trace instead, so
 * a re-run proves it is the same run up to the record asked for.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "debug.h"
#include "hostio.h"
#include "machine.h"
#include "trace.h"
#include "tracer.h"

#define TRACE_WARN_MIB_DEFAULT 1024ULL /* warn once a trace is past 1 GiB */

/* ---- the file header ------------------------------------------------------ */

static int sha256_file(const char *path, uint64_t *size, uint8_t md[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	FILE *f = fopen(path, "rb");
	uint8_t chunk[65536];
	size_t n;
	unsigned mdlen = 32;
	int rc = -1;

	*size = 0;
	if (!ctx || !f || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto out;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		*size += n;
		if (!EVP_DigestUpdate(ctx, chunk, n))
			goto out;
	}
	if (!ferror(f) && EVP_DigestFinal_ex(ctx, md, &mdlen))
		rc = 0;
out:
	if (f)
		fclose(f);
	EVP_MD_CTX_free(ctx);
	return rc;
}

struct emu_hbuf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void hput(struct emu_hbuf *h, const void *d, size_t n)
{
	if (h->len + n > h->cap) {
		size_t cap = (h->cap ? h->cap * 2 : 4096) + n;
		uint8_t *p = realloc(h->p, cap);

		if (!p) {
			h->oom = true;
			return;
		}
		h->p = p;
		h->cap = cap;
	}
	memcpy(h->p + h->len, d, n);
	h->len += n;
}

static void hstr(struct emu_hbuf *h, const char *s)
{
	size_t n = strlen(s);
	uint16_t l = n > 0xFFFF ? 0xFFFF : (uint16_t)n;

	hput(h, &l, 2);
	hput(h, s, l);
}

/* Header bytes for `s`, or -1 with err set (an image cannot be read). */
static int build_header(struct emu_machine *m, const struct trace_setup *s, struct emu_hbuf *h,
			char *err, size_t errlen)
{
	struct trace_file_hdr fh = { .version = TRACE_VERSION,
				     .fixed_size = sizeof(fh),
				     .flags = (s->insns ? TRACE_F_INSNS : 0) |
					      (m->cfg.count_insns ? TRACE_F_ICOUNT : 0),
				     .mode = s->mode,
				     .nr_vcpus = m->cfg.nr_vcpus,
				     .mem_size = m->mem_size };
	char cwd[PATH_MAX], abs[PATH_MAX];
	uint16_t n;
	int i;

	memcpy(fh.magic, TRACE_MAGIC, TRACE_MAGIC_LEN);
	hput(h, &fh, sizeof(fh));
	hstr(h, getcwd(cwd, sizeof(cwd)) ? cwd : ".");
	n = s->argc;
	hput(h, &n, 2);
	for (i = 0; i < s->argc; i++)
		hstr(h, s->argv[i]);
	n = s->nimages;
	hput(h, &n, 2);
	for (i = 0; i < s->nimages; i++) {
		uint64_t size;
		uint8_t md[32];

		if (!realpath(s->images[i], abs) || sha256_file(abs, &size, md)) {
			snprintf(err, errlen, "cannot read image '%s' for the trace header: %s",
				 s->images[i], strerror(errno ? errno : EIO));
			return -1;
		}
		hstr(h, abs);
		hput(h, &size, 8);
		hput(h, md, 32);
	}
	while (h->len % 8)
		hput(h, "", 1);
	if (h->oom) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	((struct trace_file_hdr *)h->p)->hdr_size = h->len;
	return 0;
}

static struct emu_trace *trace_new(struct emu_machine *m, const struct trace_setup *s)
{
	struct emu_trace *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->insns = s->insns;
	m->trace = t;
	return t;
}

/* The warning threshold (VEIL_TRACE_WARN_MIB, default 1024) and progress
 * lines, which only a terminal gets: in a pipe or a log file they would be
 * noise. */
static void trace_size_setup(struct emu_trace *t)
{
	const char *env = getenv("VEIL_TRACE_WARN_MIB");
	char *end;
	unsigned long long mib = env && *env ? strtoull(env, &end, 10) : 0;

	t->warn_at = (mib && !*end ? mib : TRACE_WARN_MIB_DEFAULT) << 20;
	t->progress = isatty(STDERR_FILENO);
	t->progress_at = time(NULL);
}

static void trace_size_check(struct emu_trace *t)
{
	time_t now;

	if (!t->warned && t->written >= t->warn_at) {
		t->warned = true;
		fprintf(stderr,
			"%sveil-emu: warning: the trace '%s' has grown past %" PRIu64
			" MiB%s; it keeps growing until the run ends\n",
			t->progress_shown ? "\n" : "", t->out.path, t->warn_at >> 20,
			t->insns ? " (--trace-insns records every instruction)" : "");
		t->progress_shown = false;
	}
	if (t->progress && (now = time(NULL)) != t->progress_at) {
		t->progress_at = now;
		t->progress_shown = true;
		fprintf(stderr,
			"\rveil-emu: tracing to '%s': %" PRIu64 " records, %" PRIu64 " MiB ",
			t->out.path, t->seq, t->written >> 20);
	}
}

int emu_trace_open(struct emu_machine *m, const char *path, const struct trace_setup *s, char *err,
		   size_t errlen)
{
	struct emu_hbuf h = { 0 };
	struct emu_trace *t;

	if (build_header(m, s, &h, err, errlen)) {
		free(h.p);
		return -1;
	}
	t = trace_new(m, s);
	if (t)
		t->buf = malloc(OUTBUF);
	if (!t || !t->buf) {
		free(h.p);
		if (t)
			free(t);
		m->trace = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (hio_out_open(&t->out, path, 0666, 0, err, errlen)) {
		free(h.p);
		free(t->buf);
		free(t);
		m->trace = NULL;
		return -1;
	}
	t->f = t->out.f;
	hio_out_write(&t->out, h.p, h.len);
	t->written = h.len;
	free(h.p);
	trace_size_setup(t);
	return 0;
}

/* The images and machine of the recorded run must be the ones given now. */
static int replay_header_check(const uint8_t *map, size_t len, const struct emu_hbuf *now,
			       char *err, size_t errlen)
{
	static struct trace_header a, b; /* large; the machine is single-threaded */
	const struct trace_file_hdr *fa, *fb;
	unsigned i;

	if (trace_parse_header(map, len, &a, err, errlen) ||
	    trace_parse_header(now->p, now->len, &b, err, errlen))
		return -1;
	fa = a.fh;
	fb = b.fh;
	if (fa->mode != fb->mode || fa->flags != fb->flags || fa->nr_vcpus != fb->nr_vcpus ||
	    fa->mem_size != fb->mem_size || a.nimages != b.nimages) {
		snprintf(err, errlen,
			 "the re-run is not the recorded run (mode, flags, vCPUs, memory or "
			 "images differ)");
		return -1;
	}
	for (i = 0; i < a.nimages; i++) {
		const struct trace_image *x = &a.images[i], *y = &b.images[i];

		if (x->size != y->size || memcmp(x->sha256, y->sha256, 32)) {
			snprintf(err, errlen,
				 "image '%.*s' changed since the recording (size or SHA-256)",
				 (int)y->path.len, y->path.p);
			return -1;
		}
	}
	return 0;
}

int emu_trace_open_replay(struct emu_machine *m, const char *path, const struct trace_setup *s,
			  uint64_t stop_at, char *err, size_t errlen)
{
	struct emu_hbuf h = { 0 };
	struct emu_trace *t;
	uint8_t *map;
	size_t len;

	/* Read whole, not mapped: a trace rewritten during the replay cannot
	 * fault the reader. */
	if (hio_read(path, 0, &map, &len, err, errlen))
		return -1;
	if (build_header(m, s, &h, err, errlen) || replay_header_check(map, len, &h, err, errlen)) {
		free(h.p);
		free(map);
		return -1;
	}
	free(h.p);
	t = trace_new(m, s);
	if (!t) {
		free(map);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	t->replay = true;
	t->map = map;
	t->map_len = len;
	t->off = ((const struct trace_file_hdr *)map)->hdr_size;
	t->stop_at = stop_at;
	return 0;
}

void out_flush(struct emu_trace *t)
{
	if (t->f && t->used) {
		hio_out_write(&t->out, t->buf, t->used);
		t->written += t->used;
		trace_size_check(t);
	}
	t->used = 0;
	if (t->f && !t->out.failed && fflush(t->f)) {
		t->out.failed = true;
		t->out.werrno = errno;
	}
}

void emu_trace_flush(struct emu_machine *m)
{
	if (m->trace && !m->trace->replay)
		out_flush(m->trace);
}

int emu_trace_close(struct emu_machine *m, char *err, size_t errlen)
{
	struct emu_trace *t = m->trace;
	unsigned i;
	int rc = 0;

	if (!t)
		return 0;
	if (t->f) {
		con_flush_all(m, false);
		out_flush(t);
		t->f = NULL;
		if (t->progress_shown)
			fputc('\n', stderr);
		if (hio_out_close(&t->out, 0, err, errlen))
			rc = -1;
		else if (t->insns)
			fprintf(stderr,
				"veil-emu: trace '%s': %" PRIu64 " records, %" PRIu64 " bytes\n",
				t->out.path, t->seq, t->written);
	}
	for (i = 0; i < PRIV_INSTANCES; i++) {
		struct emu_vcpu *v = &m->vcpus[i / EMU_NR_VMPLS];
		struct emu_inst *in = v->inst[i % EMU_NR_VMPLS];

		if (t->hooks[i] && in)
			uc_hook_del(in->uc, t->hooks[i]);
	}
	free(t->map);
	free(t->buf);
	free(t);
	m->trace = NULL;
	return rc;
}

int emu_trace_replay_status(const struct emu_machine *m, char *msg, size_t len)
{
	const struct emu_trace *t = m->trace;

	if (!t || !t->replay)
		return 0;
	snprintf(msg, len, "%s", t->rmsg);
	return t->rstatus;
}

uint64_t emu_trace_count(const struct emu_machine *m)
{
	return m->trace ? m->trace->seq : 0;
}
