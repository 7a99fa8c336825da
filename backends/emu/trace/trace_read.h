/* SPDX-License-Identifier: MIT */
/* trace_read.h - a trace file opened for reading (veil-trace). */
#ifndef VEIL_EMU_TRACE_READ_H
#define VEIL_EMU_TRACE_READ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hostio.h"
#include "trace.h"

struct emu_tfile {
	const char *path;
	uint8_t *map;
	size_t len;
	struct trace_header h;
	uint64_t n;    /* records */
	uint64_t *off; /* offset of each record */
};

/* Open, check the header and every record; -1 with a one-line reason in err. */
int tf_open(struct emu_tfile *t, const char *path, char *err, size_t errlen);
void tf_close(struct emu_tfile *t);
const struct trace_rec *tf_rec(const struct emu_tfile *t, uint64_t i);

/* One listing line for record i (no newline). */
void tf_line(const struct emu_tfile *t, uint64_t i, char *buf, size_t len);
/* Full detail of record i: fields, registers, disassembly. */
void tf_show(const struct emu_tfile *t, uint64_t i, FILE *out);
/* Disassembly of an instruction (Capstone); 0 on success. */
int tf_disasm(const uint8_t *bytes, size_t len, uint64_t rip, char *buf, size_t buflen);

/* s as a JSON string (quotes, escapes; bytes >= 0x7F as \u00XX). */
void tf_json_str(FILE *f, const char *s);

/* veil-trace subcommands in other files: trace_tools.c, trace_view.c. */
int cmd_export(int argc, char **argv);
int cmd_step(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_rmp(int argc, char **argv);

/* veil-trace.c: what its commands share. A one-line error; status 2. */
#define fail(...) hio_fail("veil-trace", VEIL_EXIT_USAGE, __VA_ARGS__)
bool want_help(int argc, char **argv, const char *usage);
int parse_num(const char *s, uint64_t *v);
int open_trace(struct emu_tfile *t, const char *path);

#endif
