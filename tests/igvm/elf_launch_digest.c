/* SPDX-License-Identifier: MIT */
/*
 * elf_launch_digest.c - the launch digest of `veil-emu run --kernel ELF`:
 * loads the image into a 64 MiB machine as `run` does and prints
 * "KERNEL_START KERNEL_END DIGEST" for elf_launch_digest.py to recompute.
 */
#include <stdio.h>

#include "emu.h"
#include "emu_run.h"

int main(int argc, char **argv)
{
	struct emu_config cfg = { .mem_size = 64ULL << 20, .nr_vcpus = 1 };
	struct emu_run_params p = { 0 };
	struct emu_machine *m;
	char err[256];

	if (argc != 2) {
		fprintf(stderr, "usage: elf_launch_digest ELF\n");
		return 2;
	}
	if (!(m = emu_create(&cfg, err, sizeof(err))) ||
	    emu_load_elf(m, argv[1], &p, err, sizeof(err))) {
		fprintf(stderr, "elf_launch_digest: %s\n", err);
		return 1;
	}
	emu_measure_elf_launch(m, &p);
	printf("%#llx %#llx ", (unsigned long long)p.kernel_start,
	       (unsigned long long)p.kernel_end);
	for (unsigned i = 0; i < 48; i++)
		printf("%02x", emu_launch_digest(m)[i]);
	printf("\n");
	emu_destroy(m);
	return 0;
}
