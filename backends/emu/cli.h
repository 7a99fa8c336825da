/* SPDX-License-Identifier: MIT */
/*
 * cli.h - the veil-emu program's commands (main.c dispatches): `run`
 * (cli_run.c), `exec` (cli_exec.c), and what they share (cli.c).
 */
#ifndef VEIL_EMU_CLI_H
#define VEIL_EMU_CLI_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct emu_dbg_cli;
struct emu_exit;

/*
 * No output may be an input or another output: `--load F --trace F` would
 * overwrite the image being read, `--com2 F --trace F` interleave two files.
 * Compared by device and inode (hostio.h), so other spellings of a path are
 * caught too.
 */
struct emu_path_use {
	const char *path, *option;
	bool output;
};

/*
 * Progress of a long run on stderr: a line rewritten every second once the
 * run has taken two, only when stderr is a terminal and stdout is not the
 * same terminal (the guest's console would be torn up), and not with --gdb
 * or --replay (the machine waits there) or --trace (trace.c reports its own).
 */
struct emu_ticker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool on, stop, shown;
	const char *what;
};

/* cli.c */
int fail(const char *fmt, const char *arg);
int fail_run(const char *msg);
int probe_output(const char *path);
int check_clashes(const struct emu_path_use *u, int n);
int parse_u64(const char *s, uint64_t *out);
void exit_reason(const struct emu_exit *x, char *buf, size_t len);
void print_exit(const struct emu_exit *x);
int common_option(struct emu_dbg_cli *dc, int argc, char **argv, int *i, const char *usage,
		  const char *cmd, char **value, int *status);
void ticker_start(struct emu_ticker *tk, const struct emu_dbg_cli *dc, const char *what);
void ticker_stop(struct emu_ticker *tk);

/* The commands: argc/argv after the command's name; the exit status. */
int cmd_exec(int argc, char **argv);
int cmd_run(int argc, char **argv);

#endif
