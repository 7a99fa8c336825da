/* SPDX-License-Identifier: MIT */
/*
 * gdb_stub.h - the parts of veil-emu's GDB stub (debug.h), shared by its
 * files: gdb_proto.c (the GDB remote serial protocol: connection, packets,
 * queries), gdb_x86.c (registers, target description, memory), gdb_stop.c
 * (breakpoints, watchpoints, stops, the machine model hooks) and
 * gdb_monitor.c (Veil's `monitor` commands).
 *
 * Threads: the machine runs on one thread. A listener thread accepts GDB's
 * connection (also while the machine runs, for --gdb-nowait and for attaching
 * again after a detach) and turns GDB's Ctrl-C into a flag. It touches the
 * connection only while `running` is set (under `lock`); the machine thread
 * only while it is clear (a stop), so the two never use it at once.
 */
#ifndef VEIL_EMU_GDB_STUB_H
#define VEIL_EMU_GDB_STUB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "debug.h"
#include "machine.h"

#define MAX_BPS 64
#define PKT_MAX 4096
#define OUT_MAX 65536
#define SIG_INT 2
#define SIG_TRAP 5

/* Z/z packet types (GDB manual, "Packets", Z0-Z4) */
enum emu_bp_type {
	BP_SW = 0,
	BP_HW = 1,
	WP_WRITE = 2,
	WP_READ = 3,
	WP_ACCESS = 4
};

struct emu_bp {
	bool used;
	int type;
	uint64_t addr, len;
	uc_hook hooks[PRIV_INSTANCES];
};

struct emu_inst_dbg {
	uc_hook code;
	bool resume; /* restarted at resume_rip: its hooks have already run */
	uint64_t resume_rip;
	bool cur_skip; /* the instruction being hooked must not stop again */
	uint64_t flushed_gen;
};

struct emu_dbg {
	struct emu_machine *m;
	int lfd, fd;
	bool gdb, replay, no_ack, awaiting_stop, killed;
	atomic_bool detached;	    /* no GDB connected right now */
	atomic_bool interrupt;	    /* Ctrl-C, or a GDB that just connected */
	atomic_bool drop_bps;	    /* GDB went away while running: remove its breakpoints */
	atomic_bool attach_pending; /* the interrupt is the stop of a new connection */
	bool step;
	bool watch_pending;
	uint64_t watch_addr;
	int watch_type;
	uint64_t hook_gen; /* bumped when TBs must be retranslated */
	unsigned sel;	   /* vCPU selected by Hg */
	/* the current stop */
	struct emu_inst *stop_in;
	bool in_hook, need_restart, rip_written;
	uint64_t new_rip;
	char last_stop[96];
	struct emu_inst_dbg id[PRIV_INSTANCES];
	struct emu_bp bps[MAX_BPS];
	/* listener thread */
	pthread_t thr;
	bool thr_started, running, quit;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* packet input and output */
	uint8_t in[PKT_MAX];
	size_t inlen, inpos;
	char pkt[PKT_MAX + 1];
	char out[2 * OUT_MAX + 8];
	char sendbuf[2 * OUT_MAX + 8];
};

/* gdb_proto.c */
void gdb_hex(char *out, const uint8_t *p, size_t n);
size_t gdb_unhex(const char *s, uint8_t *out, size_t max);
void gdb_serve(struct emu_dbg *d);
void gdb_send(struct emu_dbg *d, const char *body);
void gdb_set_running(struct emu_dbg *d, bool running);
void gdb_disconnect(struct emu_dbg *d);

/* gdb_x86.c: registers and memory of the vCPU GDB has selected */
struct emu_inst *gdb_view_inst(struct emu_dbg *d, unsigned vcpu);
const char *gdb_target_xml(size_t *len);
void gdb_cmd_g(struct emu_dbg *d, char *out);
void gdb_cmd_G(struct emu_dbg *d, const char *p, char *out);
void gdb_cmd_p(struct emu_dbg *d, const char *p, char *out);
void gdb_cmd_P(struct emu_dbg *d, const char *p, char *out);
void gdb_cmd_m(struct emu_dbg *d, const char *p, char *out);
void gdb_cmd_M(struct emu_dbg *d, const char *p, char *out);
void gdb_print_state(struct emu_machine *m, struct emu_inst *in, const struct trace_rec *r);

/* gdb_stop.c */
void gdb_cmd_Z(struct emu_dbg *d, const char *p, bool insert, char *out);
void gdb_remove_bps(struct emu_dbg *d);

/* gdb_monitor.c: qRcmd, output hex-encoded into out */
void gdb_cmd_rcmd(struct emu_dbg *d, const char *hex, char *out);
extern const char *const gdb_state_names[];

#endif
