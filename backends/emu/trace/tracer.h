/* SPDX-License-Identifier: MIT */
/*
 * tracer.h - internals shared by the trace writer's files: the state of an
 * open trace (trace.c opens and closes it, trace_rec.c writes its records).
 */
#ifndef VEIL_EMU_TRACER_H
#define VEIL_EMU_TRACER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "hostio.h"
#include "machine.h"

#define OUTBUF (1u << 20)

struct emu_code_cache {
	uint64_t cr3, vpage;
	const uint8_t *host; /* NULL: empty */
};

/* Console text waiting for its end of line (one per vCPU and source). */
struct emu_con_line {
	uint16_t n;
	uint8_t vmpl;
	char text[256];
};

struct emu_trace {
	FILE *f;	    /* out.f while recording */
	struct hio_out out; /* a temporary file renamed over the target at the end */
	uint8_t *buf;
	size_t used;
	uint64_t seq;
	bool insns;
	/* size warnings and progress (stderr) */
	uint64_t written, warn_at;
	bool warned, progress, progress_shown;
	time_t progress_at;
	uint64_t insn_rip;
	/* replay */
	bool replay, stopped;
	uint8_t *map;
	size_t map_len, off;
	uint64_t stop_at;
	int rstatus;
	char rmsg[400];
	uc_hook hooks[PRIV_INSTANCES];
	struct emu_code_cache cache[PRIV_INSTANCES];
	struct emu_con_line con[EMU_MAX_VCPUS][2];
};

/* trace.c */
void out_flush(struct emu_trace *t);

/* trace_rec.c */
void con_flush_all(struct emu_machine *m, bool with_inst);

#endif
