/* SPDX-License-Identifier: MIT */
/*
 * term.c - stdin's terminal in "raw-ish" mode for the guest's console: the
 * guest's tty line discipline does the line editing and the echo, so the
 * host terminal passes every key on at once (no ICANON, no ECHO; POSIX
 * termios). ISIG stays on: Ctrl-C still ends veil-emu. The saved mode comes
 * back at term_restore, at exit, and on SIGINT, SIGTERM, SIGHUP or SIGQUIT
 * (the handler restores it, then lets the signal end the process as before).
 */
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "term.h"

static struct termios saved;
static volatile sig_atomic_t raw_on;

void term_restore(void)
{
	if (raw_on) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		raw_on = 0;
	}
}

static void on_signal(int sig)
{
	term_restore(); /* tcsetattr is async-signal-safe */
	signal(sig, SIG_DFL);
	raise(sig);
}

void term_raw(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	static bool registered;
	struct termios t;

	if (raw_on || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved))
		return;
	t = saved;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ECHONL | IEXTEN);
	t.c_iflag &= ~(tcflag_t)(IXON | ICRNL | INLCR);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (!registered) {
		atexit(term_restore);
		registered = true;
	}
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_signal);
	if (!tcsetattr(STDIN_FILENO, TCSAFLUSH, &t))
		raw_on = 1;
}
