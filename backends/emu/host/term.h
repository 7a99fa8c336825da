/* SPDX-License-Identifier: MIT */
/*
 * term.h - the terminal under `veil-emu run --linux` while the guest's shell
 * has the console: keys go to the guest as typed.
 */
#ifndef VEIL_EMU_TERM_H
#define VEIL_EMU_TERM_H

/* If stdin is a terminal: no line editing and no echo (the guest's tty does
 * both), until term_restore or the process ends (exit or a fatal signal). */
void term_raw(void);
void term_restore(void);

#endif
