/* SPDX-License-Identifier: MIT */
/* veil-emu: the SEV-SNP machine model on the command line; main() picks the
 * command (cli.h). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, isatty */
#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <veil/monitor.h>

#include "amdsp.h"
#include "cli.h"
#include "hostio.h"

static const char usage_main[] =
	"usage: veil-emu <command> [options]\n"
	"       veil-emu --help | --version\n"
	"The AMD SEV-SNP machine model (RMP, VMPLs, GHCB, #VC, #NPF) on Unicorn.\n"
	"\n"
	"Commands:\n"
	"  run     boot the Veil monitor and an OS (veil-emu run --help)\n"
	"  exec    run a raw snippet on the bare SNP machine (veil-emu exec --help)\n"
	"  certs   write the model's ARK, ASK and VCEK certificates (veil-emu certs --help)\n"
	"  help    this text\n"
	"\n"
	"Options:\n"
	"  -h, --help   print this text and exit\n"
	"  --version    print the version and exit\n"
	"\n"
	"Exit status: 0 success, 1 failure (the reason is printed on stderr), 2 bad\n"
	"command line; `run` returns the guest's termination code (veil-emu run --help).\n";

static const char usage_certs[] =
	"usage: veil-emu certs DIR [--attest-seed STR]\n"
	"Writes the model AMD-SP's certificates as PEM: DIR/ark.pem, DIR/ask.pem, DIR/vcek.pem\n"
	"and DIR/cert_chain.pem (ASK then ARK). They have AMD's structure (RSA-PSS ARK and ASK,\n"
	"an ECDSA P-384 VCEK with AMD's TCB extensions) but are NOT AMD's: their subjects say\n"
	"so. The same seed as `veil-emu run --attest-seed` gives the chain of that run's\n"
	"reports (default seed \"" AMDSP_DEFAULT_SEED "\"). DIR must exist.\n";

static int cmd_certs(int argc, char **argv)
{
	const char *dir = NULL, *seed = NULL;
	struct emu_amdsp *sp;
	char err[256];
	int i, rc;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_certs, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--attest-seed")) {
			if (++i == argc || !*argv[i] || strlen(argv[i]) > 127)
				return fail("%s", "--attest-seed needs 1 to 127 characters");
			seed = argv[i];
		} else if (argv[i][0] == '-' || dir) {
			return fail("unexpected argument '%s' (see veil-emu certs --help)",
				    argv[i]);
		} else {
			dir = argv[i];
		}
	}
	if (!dir)
		return fail("%s", "missing DIR (see veil-emu certs --help)");
	sp = amdsp_create(seed, err, sizeof(err));
	if (!sp)
		return fail("%s", err);
	rc = amdsp_write_certs(sp, dir, err, sizeof(err));
	amdsp_destroy(sp);
	return rc ? fail("%s", err) : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return fail("%s", "missing command (see veil-emu --help)");
	if (!strcmp(argv[1], "help") || hio_is_help(argv[1])) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		hio_print_version("veil-emu");
		return 0;
	}
	if (!strcmp(argv[1], "exec"))
		return cmd_exec(argc - 2, argv + 2);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (!strcmp(argv[1], "certs"))
		return cmd_certs(argc - 2, argv + 2);
	if (argv[1][0] == '-')
		return fail("unknown option '%s' (see veil-emu --help)", argv[1]);
	return fail("unknown command '%s' (see veil-emu --help)", argv[1]);
}
