/* SPDX-License-Identifier: MIT */
/*
 * cli.c - what the veil-emu commands share: one-line failures, the output
 * path checks, the JSON exit record, the options every command takes
 * (tracing, GDB, --help) and the progress ticker.
 */
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

int fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "veil-emu: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return VEIL_EXIT_USAGE;
}

/* A runtime failure (not the command line): one line, status 1. */
int fail_run(const char *msg)
{
	fprintf(stderr, "veil-emu: %s\n", msg);
	return VEIL_EXIT_FAIL;
}

/* Can an output be created? Tried before the machine exists, so that an
 * unwritable --trace is a one-line failure (status 1) like any other. */
int probe_output(const char *path)
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

int check_clashes(const struct emu_path_use *u, int n)
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

int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
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

void exit_reason(const struct emu_exit *x, char *buf, size_t len)
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

void print_exit(const struct emu_exit *x)
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

int common_option(struct emu_dbg_cli *dc, int argc, char **argv, int *i, const char *usage,
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
static void *ticker_main(void *arg)
{
	struct emu_ticker *tk = arg;
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

void ticker_start(struct emu_ticker *tk, const struct emu_dbg_cli *dc, const char *what)
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

void ticker_stop(struct emu_ticker *tk)
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
