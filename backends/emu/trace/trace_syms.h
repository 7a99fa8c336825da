/* SPDX-License-Identifier: MIT */
/*
 * trace_syms.h - names for the addresses in a trace (veil-trace --symbols):
 * a System.map ("ADDRESS TYPE NAME" per line, as the kernel's build and
 * `nm -n` write it; build/linux/System.map for the fetched Linux kernel).
 */
#ifndef VEIL_EMU_TRACE_SYMS_H
#define VEIL_EMU_TRACE_SYMS_H

#include <stddef.h>
#include <stdint.h>

/* Load the map; -1 with a one-line reason in err. Replaces any earlier one. */
int tsyms_load(const char *path, char *err, size_t errlen);
/* The symbol at or before addr (0 if none: no map loaded, addr before the
 * first symbol or after the last); *off gets addr minus the symbol. */
const char *tsyms_lookup(uint64_t addr, uint64_t *off);
/* " <name+0xoff>" (or "" without a symbol) into buf. */
void tsyms_suffix(uint64_t addr, char *buf, size_t len);

#endif
