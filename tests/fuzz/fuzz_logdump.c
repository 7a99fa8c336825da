/* SPDX-License-Identifier: MIT */
/*
 * fuzz_logdump - `veil-log verify` and `veil-log show` on arbitrary files.
 * tools/veil-log.c is included as it is, its main() renamed; each input is
 * written to a temporary file and read back by its own load(). Invariant: no
 * crash, no sanitizer report.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

/* Its error messages go to stderr, one per input: send them to /dev/null
 * (libFuzzer and the sanitizers keep the real stderr). */
static FILE *quiet;
#undef stderr
#define stderr quiet

#define main veil_log_main
#include "../../tools/veil-log.c"
#undef main

#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[] = "/tmp/veil-fuzz-logdump-XXXXXX";
static int fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = mkstemp(path);
	if (fd < 0) {
		perror("fuzz_logdump: mkstemp");
		abort();
	}
	unlink(path); /* still reachable through /proc/self/fd */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* the verdicts go to stdout: keep the fuzzer's output readable */
	if (!freopen("/dev/null", "w", stdout) || !(quiet = fopen("/dev/null", "w")))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	for (int show = 0; show < 2; show++) {
		struct dump d = { 0 };
		int rc = load(path, &d);

		if (!rc)
			rc = show ? cmd_show(&d) : cmd_verify(&d);
		if (rc < 0 || rc > 2)
			abort();
		free(d.buf);
	}
	return 0;
}
