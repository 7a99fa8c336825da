/* SPDX-License-Identifier: MIT */
/*
 * debug_cli.c - the --trace, --trace-insns, --gdb, --gdb-nowait and (for veil-trace replay)
 * --replay / --replay-to options of `veil-emu exec` and `veil-emu run`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "debug_cli.h"
#include "machine.h"

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "veil-emu: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return -1;
}

void emu_dbg_cli_init(struct emu_dbg_cli *c, int argc, char **argv)
{
	size_t used = 0;
	int i;

	memset(c, 0, sizeof(*c));
	c->gdb = -1;
	/* Keep the options as given: the parsers cut "FILE@GPA" in place. */
	for (i = 0; i < argc && i < EMU_CLI_MAX_ARGS; i++) {
		size_t n = strlen(argv[i]) + 1;

		if (used + n > sizeof(c->buf))
			break;
		memcpy(c->buf + used, argv[i], n);
		c->argv[c->argc++] = c->buf + used;
		used += n;
	}
	c->truncated = c->argc < argc;
}

static int port_of(const char *a)
{
	char *end;
	long p;

	errno = 0;
	p = strtol(a, &end, 10);
	return errno || *end || end == a || p < 0 || p > 65535 ? -1 : (int)p;
}

int emu_dbg_cli_option(struct emu_dbg_cli *c, const char *o, const char *a)
{
	if (!strcmp(o, "--trace-insns")) {
		c->insns = true;
		return 1;
	}
	if (strcmp(o, "--trace") && strcmp(o, "--gdb") && strcmp(o, "--gdb-nowait") &&
	    strcmp(o, "--replay") && strcmp(o, "--replay-to"))
		return 0;
	if (!a)
		return bad("option %s needs a value", o);
	if (!strcmp(o, "--trace")) {
		c->trace = a;
	} else if (!strcmp(o, "--gdb") || !strcmp(o, "--gdb-nowait")) {
		c->gdb = port_of(a);
		c->gdb_nowait = o[5] == '-';
		if (c->gdb < 0) {
			fprintf(stderr,
				"veil-emu: %s wants a TCP port 0-65535 (0: any free port), got '%s'\n",
				o, a);
			return -1;
		}
	} else if (!strcmp(o, "--replay")) {
		c->replay = a;
	} else {
		char *end;

		errno = 0;
		c->replay_to = strtoull(a, &end, 0);
		if (errno || *end || end == a || *a == '-')
			return bad("--replay-to wants a record number, got '%s'", a);
		c->replay_to_set = true;
	}
	return 2;
}

/* The image files of the run, from the options as given. */
static int images_of(const struct emu_dbg_cli *c, enum trace_mode mode, const char *kernel,
		     const char **img, char names[][512])
{
	int i, n = 0;

	for (i = 0; i + 1 < c->argc && n < TRACE_MAX_IMAGES; i++) {
		const char *o = c->argv[i], *a = c->argv[i + 1];

		if (mode == TRACE_MODE_EXEC && !strcmp(o, "--load")) {
			const char *at = strrchr(a, '@');
			size_t len = at ? (size_t)(at - a) : strlen(a);

			snprintf(names[n], 512, "%.*s", (int)len, a);
			img[n] = names[n];
			n++;
			i++;
		} else if (mode == TRACE_MODE_RUN && !strcmp(o, "--kernel")) {
			kernel = a;
			i++;
		} else if (mode == TRACE_MODE_RUN && !strcmp(o, "--monitor")) {
			img[n++] = a; /* image mode: the VMPL0 image is code of the run too */
			i++;
		} else if (!strcmp(o, "--trace-insns") || !strcmp(o, "--linux")) { /* flags */
			continue;
		} else {
			i++;
		}
	}
	if (mode == TRACE_MODE_RUN)
		img[n++] = kernel;
	return n;
}

int emu_dbg_cli_attach(struct emu_dbg_cli *c, struct emu_machine *m, enum trace_mode mode,
		       const char *default_kernel)
{
	static char names[TRACE_MAX_IMAGES][512];
	const char *img[TRACE_MAX_IMAGES];
	struct trace_setup s = { .mode = mode, .argc = c->argc, .argv = c->argv, .insns = c->insns };
	enum emu_dbg_wait wait = c->replay     ? EMU_DBG_REPLAY :
				 c->gdb_nowait ? EMU_DBG_NOWAIT :
						 EMU_DBG_WAIT;
	char err[400];

	if (c->replay_to_set != !!c->replay) {
		bad("%s", "--replay and --replay-to go together");
		return -1;
	}
	if (c->replay && c->trace) {
		bad("%s", "--replay and --trace cannot be combined");
		return -1;
	}
	if (c->truncated && c->trace) {
		bad("%s", "too many options to record in a trace header");
		return -1;
	}
	s.nimages = images_of(c, mode, default_kernel, img, names);
	s.images = img;
	if ((c->trace && emu_trace_open(m, c->trace, &s, err, sizeof(err))) ||
	    (c->replay &&
	     emu_trace_open_replay(m, c->replay, &s, c->replay_to, err, sizeof(err))) ||
	    ((c->gdb >= 0 || c->replay) && emu_dbg_open(m, c->gdb, wait, err, sizeof(err)))) {
		bad("%s", err);
		return -1;
	}
	return 0;
}

int emu_dbg_cli_finish(struct emu_dbg_cli *c, struct emu_machine *m, int status)
{
	char msg[300];
	int r;

	if (c->replay) {
		r = emu_trace_replay_status(m, msg, sizeof(msg));
		if (r < 0)
			fprintf(stderr, "veil-emu: replay: %s\n", msg);
		else if (r == 0)
			fprintf(stderr,
				"veil-emu: replay: the run ended after %" PRIu64
				" records, before record %" PRIu64 "\n",
				emu_trace_count(m), c->replay_to);
		status = r > 0 ? 0 : 1;
	}
	emu_dbg_close(m, status);
	if (emu_trace_close(m, msg, sizeof(msg))) {
		fprintf(stderr, "veil-emu: %s\n", msg);
		status = status ? status : 1;
	}
	return status;
}
