/* SPDX-License-Identifier: MIT */
/*
 * igvm_hostile_params.c - a host that lies in the parameter pages of an IGVM
 * launch. The vCPU count and the memory map are written by the loader after
 * measurement (guest/include/veil/launch.h): the VMPL0 image must check them
 * and stop the CVM (reason set 2, code VEIL_TERM_IMAGE_PARAMS) before the
 * monitor uses them. The file is launched as `veil-emu run --igvm` does, the
 * host's values are then overwritten, and the image runs.
 *
 * usage: igvm_hostile_params FILE CASE
 *   honest        nothing changed: the OS runs and ends with code 0 (control)
 *   vcpus-zero    the parameter page says 0 vCPUs
 *   vcpus-many    the parameter page says 65 vCPUs (the monitor has 64 slots)
 *   memmap-empty  the memory map is empty
 *   memmap-short  the memory map gives 2 MiB less RAM than the file was built for
 *   memmap-hole   RAM from 1 MiB only (the first MiB missing)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <veil/abi.h>

#include "../../backends/snp/image.h"
#include "emu.h"
#include "launch_igvm.h"

/* Overwrite what the loader wrote as case c says; false for an unknown case. */
static bool lie(struct emu_machine *m, const struct veil_launch_info *in, const char *c)
{
	uint32_t *vcpus = emu_gpa_ptr(m, in->params_gpa + VEIL_PARAM_VP_COUNT_OFF, 4);
	struct veil_param_mem *map = emu_gpa_ptr(m, in->memmap_gpa + VEIL_PARAM_MEMMAP_OFF, 4096);

	if (!strcmp(c, "vcpus-zero"))
		*vcpus = 0;
	else if (!strcmp(c, "vcpus-many"))
		*vcpus = 65;
	else if (!strcmp(c, "memmap-empty"))
		memset(map, 0, 4096);
	else if (!strcmp(c, "memmap-short"))
		map[0].nr_pages -= 512;
	else if (!strcmp(c, "memmap-hole"))
		map[0].first_page = 256, map[0].nr_pages -= 256;
	else
		return !strcmp(c, "honest");
	return true;
}

int main(int argc, char **argv)
{
	struct emu_run_params p = { 0 };
	struct emu_igvm ig;
	struct emu_machine *m;
	struct emu_exit x;
	char err[256];
	bool honest;
	int ok;

	if (argc != 3 || emu_igvm_open(&ig, argv[1], err, sizeof(err))) {
		fprintf(stderr, "usage: igvm_hostile_params FILE CASE (%s)\n",
			argc == 3 ? err : "");
		return 2;
	}
	honest = !strcmp(argv[2], "honest");
	struct emu_config cfg = { .mem_size = ig.info.mem_size, .nr_vcpus = ig.info.nr_vcpus };
	if (!(m = emu_create(&cfg, err, sizeof(err))) ||
	    emu_igvm_launch(m, &ig, err, sizeof(err))) {
		fprintf(stderr, "igvm_hostile_params: %s\n", err);
		return 1;
	}
	if (!lie(m, &ig.info, argv[2])) {
		fprintf(stderr, "igvm_hostile_params: unknown case '%s'\n", argv[2]);
		return 2;
	}
	if (emu_igvm_run(m, &ig, &p, &x)) {
		fprintf(stderr, "igvm_hostile_params: %s\n", x.message);
		return 1;
	}
	ok = x.kind == EMU_EXIT_KIND_TERMINATE && x.reason_set == VEIL_TERM_SET &&
	     (honest ? x.vmpl == 3 && x.reason_code == 0 :
		       x.vmpl == 0 && x.reason_code == VEIL_TERM_IMAGE_PARAMS);
	printf("%s: %s: ended by VMPL%u, reason set %u code %#x\n", argv[2], ok ? "ok" : "FAIL",
	       x.vmpl, x.reason_set, x.reason_code);
	emu_destroy(m);
	emu_igvm_close(&ig);
	return ok ? 0 : 1;
}
