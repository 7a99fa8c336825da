/* SPDX-License-Identifier: MIT */
/*
 * launch_igvm.h - `veil-emu run --igvm FILE`: the launch of an IGVM file as
 * the host and the AMD-SP perform it (every page placed, assigned, validated
 * and measured by SNP_LAUNCH_UPDATE, the VMSA last), then the boot of the OS
 * the file describes.
 *
 * While the VMPL0 image mode (`run --monitor`) does not exist, the monitor
 * that runs is the native one: the monitor pages of the file are placed and
 * measured but not executed.
 */
#ifndef VEIL_EMU_LAUNCH_IGVM_H
#define VEIL_EMU_LAUNCH_IGVM_H

#include <veil/launch.h>

#include "emu_run.h"
#include "igvm.h"

struct emu_igvm {
	uint8_t *buf;
	size_t len;
	struct igvm_file f;
	struct veil_launch_info info; /* the file's measured launch information */
};

/* Read and check FILE and its launch information page. Returns 0, or -1
 * with a one-line message. */
int emu_igvm_open(struct emu_igvm *ig, const char *path, char *err, size_t errlen);
void emu_igvm_close(struct emu_igvm *ig);

/* Launch every page of the file into m (measured into emu_launch_digest) and
 * fill p with the OS image the file describes. Returns 0, or -1 with a
 * message. */
int emu_igvm_launch(struct emu_machine *m, const struct emu_igvm *ig, struct emu_run_params *p,
		    char *err, size_t errlen);

/* Until the VMPL0 image mode exists: clear the monitor region the launch
 * filled, so the native monitor, which keeps its state there, starts from
 * fresh memory. */
void emu_igvm_native_handover(struct emu_machine *m, const struct emu_igvm *ig);

#endif
