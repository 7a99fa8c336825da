/* SPDX-License-Identifier: MIT */
/*
 * hostio.h - what every Veil host program does the same way: exit statuses,
 * --version, reading an input file, writing an output file safely.
 *
 * Inputs are read whole into memory (never mapped), so a file that changes
 * or shrinks under a reader cannot fault it; FIFOs, devices and directories
 * are refused before anything blocks on them. Outputs that are regular files
 * are written to a temporary file in the same folder and renamed over the
 * target only when every write succeeded, so a failed write never leaves a
 * partial file; an output that already exists as a device or FIFO (such as
 * /dev/null) is written in place.
 */
#ifndef VEIL_HOSTIO_H
#define VEIL_HOSTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Exit statuses of every Veil program (veil-emu run returns the guest's
 * termination code instead; see its --help). */
#define VEIL_EXIT_OK 0
#define VEIL_EXIT_FAIL 1  /* the work failed: bad input data, I/O error */
#define VEIL_EXIT_USAGE 2 /* bad command line */

/* The text printed by every program's --version (VEIL_VERSION from CMake). */
void hio_print_version(const char *prog);
/* The epilogue every --help ends with (exit statuses, version). */
#define HIO_HELP_EXIT                                                                  \
	"Exit status: 0 success, 1 failure (the reason is printed on stderr), 2 bad\n" \
	"command line. --help/-h prints this text, --version the version.\n"

/* Print "PROG: MESSAGE" (one line) on stderr and return rc. */
int hio_fail(const char *prog, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* True if argv[i] is -h or --help. */
bool hio_is_help(const char *arg);

/* The options every program answers the same way: -h/--help prints `usage`,
 * --version the version (both on stdout). True if `arg` was one of them (the
 * program then exits 0). */
bool hio_info_option(const char *arg, const char *prog, const char *usage);

#define HIO_ALLOW_EMPTY 1u

/* Read a regular file whole. -1 with a one-line reason in err: cannot open,
 * "is a directory", "is not a regular file", "is empty" (unless
 * HIO_ALLOW_EMPTY), read error. *buf is malloc'ed (free it). */
int hio_read(const char *path, unsigned flags, uint8_t **buf, size_t *len, char *err,
	     size_t errlen);
/* Refuse a path that cannot be an input without opening it for long: 0 if
 * `path` is a readable regular file (non-empty unless HIO_ALLOW_EMPTY). */
int hio_check_input(const char *path, unsigned flags, char *err, size_t errlen);

/* True if the two paths name the same file (device and inode; for a path
 * that does not exist yet, its folder's device and inode plus its name). */
bool hio_same_file(const char *a, const char *b);

struct hio_out {
	FILE *f;
	char path[4096]; /* the target */
	char tmp[4096];	 /* the temporary file, "" when writing in place */
	bool failed;
	int werrno;
};

#define HIO_EXCL 1u /* refuse to replace an existing file */

/* Start writing `path` with permissions `mode` (before the umask; 0600 is
 * kept as is). -1 with a one-line reason in err. */
int hio_out_open(struct hio_out *o, const char *path, mode_t mode, unsigned flags, char *err,
		 size_t errlen);
/* Write n bytes (errors are remembered and reported by hio_out_close). */
void hio_out_write(struct hio_out *o, const void *p, size_t n);
/* Finish: flush, sync, rename over the target. 0, or -1 with the reason (the
 * temporary file is removed and the target left as it was). */
int hio_out_close(struct hio_out *o, unsigned flags, char *err, size_t errlen);
/* Give up: remove the temporary file, leave the target as it was. */
void hio_out_abort(struct hio_out *o);

/*
 * Progress of long work on stderr, only when stderr is a terminal (never in
 * a pipe or a log file) and only once the work has taken a second: short
 * runs stay quiet. One line, rewritten in place, cleared by hio_progress_end.
 */
struct hio_progress {
	bool tty, shown;
	long long start, last; /* seconds (CLOCK_MONOTONIC) */
	const char *prog, *what;
};
void hio_progress_init(struct hio_progress *p, const char *prog, const char *what);
void hio_progress(struct hio_progress *p, uint64_t done, uint64_t total);
void hio_progress_end(struct hio_progress *p);

#endif
