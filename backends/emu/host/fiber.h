/* SPDX-License-Identifier: MIT */
/*
 * fiber.h - minimal cooperative contexts for the native monitor: one per
 * vCPU's VMPL0, switched at VMGEXIT without system calls or threads, so a
 * VMPL0 round trip costs no more than a function call. AddressSanitizer is
 * told about every switch.
 */
#ifndef VEIL_EMU_FIBER_H
#define VEIL_EMU_FIBER_H

#include <stddef.h>

struct emu_fiber {
	void *sp;    /* saved stack pointer while switched out */
	void *stack; /* base of the allocated stack (NULL for the main one) */
	size_t stack_size;
	void (*entry)(void *);
	void *arg;
	void *asan_fake;	 /* ASan fake-stack handle across switches */
	const void *asan_bottom; /* stack bounds as ASan must know them */
	size_t asan_size;
	struct emu_fiber *caller; /* the fiber that first switches to this one */
};

/* Prepare `f` to run entry(arg) on a new stack on its first switch-in. */
int fiber_init(struct emu_fiber *f, size_t stack_size, void (*entry)(void *), void *arg);
void fiber_free(struct emu_fiber *f);
/* Save the current context in `from` and continue `to`. */
void fiber_switch(struct emu_fiber *from, struct emu_fiber *to);

#endif
