/* SPDX-License-Identifier: MIT */
/*
 * debug.h - the GDB remote stub of veil-emu (--gdb PORT) and the stop of a
 * replayed run (veil-trace replay). README "Tracing and debugging".
 *
 * GDB sees one thread per vCPU (all of them, started or not); registers and memory are those of the VMPL
 * instance the vCPU is currently running. The machine stays single-threaded:
 * a stop runs the stub's packet loop right where the machine is (in a code
 * hook before an instruction, or between events), and resumes when GDB
 * continues or steps. A listener thread only accepts GDB's connection and
 * turns GDB's Ctrl-C (0x03) or a new connection into a flag that the
 * per-instruction hook checks, so interrupts are exact and never lost between
 * two uc_emu_start calls. The files: gdb_stub.h.
 */
#ifndef VEIL_EMU_DEBUG_H
#define VEIL_EMU_DEBUG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct emu_machine;
struct emu_inst;
struct trace_rec;

/* When the machine starts, as QEMU's -s -S (WAIT) or -s alone (NOWAIT). */
enum emu_dbg_wait {
	EMU_DBG_WAIT,	/* wait for GDB, pause before the first guest instruction */
	EMU_DBG_NOWAIT, /* run at once; a GDB that attaches stops the machine there */
	EMU_DBG_REPLAY, /* wait for GDB, stop where the replay stops */
};

/*
 * Attach the debugger side to `m` before it runs. port >= 0: listen on
 * 127.0.0.1:port (0 = any free port) and print "veil-emu: gdb stub listening
 * on 127.0.0.1:PORT" on stderr; then as `wait` says. GDB may detach and attach
 * again while the machine runs. port < 0: no GDB (a replayed run prints its
 * state at the stop instead).
 */
int emu_dbg_open(struct emu_machine *m, int port, enum emu_dbg_wait wait, char *err, size_t errlen);
/* The run ended with `status`: tell GDB (W packet), close, free. */
void emu_dbg_close(struct emu_machine *m, int status);

/* Machine model hooks (run.c, vmsa.c, trace_rec.c). */
void dbg_before_run(struct emu_inst *in);
bool dbg_after_run(struct emu_inst *in); /* true: the stop was the debugger's */
void dbg_inst_init(struct emu_inst *in);
bool dbg_resuming(struct emu_inst *in, uint64_t addr);
void dbg_replay_stop(struct emu_machine *m, struct emu_inst *in, const struct trace_rec *r,
		     bool reached);

#endif
