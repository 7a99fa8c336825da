/* SPDX-License-Identifier: MIT */
/* debug_cli.h - tracing and debugging options shared by `veil-emu exec` and `run`. */
#ifndef VEIL_EMU_DEBUG_CLI_H
#define VEIL_EMU_DEBUG_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "emu.h"
#include "trace.h"

#define EMU_CLI_MAX_ARGS 256

struct emu_dbg_cli {
	const char *trace;  /* --trace FILE */
	bool insns;	    /* --trace-insns */
	int gdb;	    /* --gdb or --gdb-nowait PORT, -1 = none */
	bool gdb_nowait;    /* --gdb-nowait: run without waiting for GDB */
	const char *replay; /* --replay FILE (veil-trace replay) */
	uint64_t replay_to; /* --replay-to N */
	bool replay_to_set;
	/* the options as given, for the trace header */
	int argc;
	bool truncated;
	char *argv[EMU_CLI_MAX_ARGS];
	char buf[16384];
};

/* Copy the options before the command's parser edits them. */
void emu_dbg_cli_init(struct emu_dbg_cli *c, int argc, char **argv);
/* One option: 0 not one of ours, 1 or 2 = options consumed (with its value),
 * -1 bad value (message printed). */
int emu_dbg_cli_option(struct emu_dbg_cli *c, const char *o, const char *a);
/* Right after emu_create: open the trace / replay / GDB stub. -1: message printed. */
int emu_dbg_cli_attach(struct emu_dbg_cli *c, struct emu_machine *m, enum trace_mode mode,
		       const char *default_kernel);
/* After the run, before emu_destroy: close everything; returns the exit status. */
int emu_dbg_cli_finish(struct emu_dbg_cli *c, struct emu_machine *m, int status);

#define EMU_DBG_CLI_USAGE                                                                       \
	"  --trace FILE         record the run (events; docs/trace-format.md, veil-trace)\n"    \
	"  --trace-insns        with --trace: record every instruction too\n"                   \
	"  --gdb PORT           GDB remote stub on 127.0.0.1:PORT (0: any free port, printed\n" \
	"                       on stderr); the machine waits for GDB and stops before its\n"   \
	"                       first instruction (like QEMU's -s -S)\n"                        \
	"  --gdb-nowait PORT    the same stub, but the machine runs at once; GDB may attach\n"  \
	"                       (and detach, and attach again) at any time and stops it\n"      \
	"                       where it is (like QEMU's -s)\n"                                 \
	"  --replay FILE --replay-to N  re-run a recorded run, compare its records and stop\n"  \
	"                       after record N (what veil-trace replay runs)\n"

#endif
