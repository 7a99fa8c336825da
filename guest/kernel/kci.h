/* SPDX-License-Identifier: MIT */
/*
 * kci.h - kernel code integrity and modules in the test OS: what kci.c and
 * modules.c share (the rest of the kernel sees only kernel.h).
 */
#ifndef VEIL_TESTOS_KCI_H
#define VEIL_TESTOS_KCI_H

#include "kernel.h"

/* A scenario: one call with one thing wrong (expect = its RAX), or an access
 * the monitor must stop (VIOLATION: returning from run() is the failure). */
struct scenario {
	const char *name;
	uint64_t (*run)(void);
	uint64_t expect;
	unsigned flags;
};

#define PRE_LOCK 1    /* runs before the boot lock (kci_boot) */
#define IN_SEQUENCE 2 /* depends on the scenario before it: attack-kci-refusals only */
#define VIOLATION 4   /* the monitor must terminate the CVM */
#define STANDALONE 8  /* changes state if the monitor fails it: alone only */

extern const struct scenario kci_scenarios[], mod_scenarios[];
extern const unsigned kci_nr_scenarios, mod_nr_scenarios;

/* kci.c */
const struct veil_kci_export *kci_exports(unsigned *n);
uint64_t kci_status(struct svsm_call_out *o);
uint64_t cmdline_u64(const char *key, uint64_t dflt);
bool cmdline_is(const char *key, const char *val);

/* modules.c */
int bench_modules(bool locked);

#endif
