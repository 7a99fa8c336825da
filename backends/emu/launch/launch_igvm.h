/* SPDX-License-Identifier: MIT */
/*
 * launch_igvm.h - `veil-emu run --igvm FILE`: the launch of an IGVM file as
 * QEMU's IGVM loader, the host and the AMD-SP perform it (every page placed,
 * assigned, validated and measured by SNP_LAUNCH_UPDATE, the secrets page
 * filled by the AMD-SP, the VMSA measured last), then the boot vCPU started
 * from the file's VMSA: the VMPL0 image in the file runs as guest code (image
 * mode), by the launch contract of guest/include/veil/launch.h.
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
	/* Found by the launch: */
	const uint8_t *vmsa;  /* the boot vCPU's VMSA (4 KiB of the file) */
	uint64_t secrets_gpa; /* the SECRETS page, 0 = none */
};

/* Read and check FILE and its launch information page. Returns 0, or -1
 * with a one-line message. */
int emu_igvm_open(struct emu_igvm *ig, const char *path, char *err, size_t errlen);
void emu_igvm_close(struct emu_igvm *ig);

/* Launch every page of the file into m (measured into emu_launch_digest).
 * Returns 0, or -1 with a message. */
int emu_igvm_launch(struct emu_machine *m, struct emu_igvm *ig, char *err, size_t errlen);

/* After emu_igvm_launch: the AMD-SP's secrets page (its keys from
 * p->attest_seed, its reports carrying the digest), the boot vCPU from the
 * file's VMSA, and the run until the CVM stops. Returns -1 with a message in
 * out->message if the run cannot start. */
int emu_igvm_run(struct emu_machine *m, const struct emu_igvm *ig, const struct emu_run_params *p,
		 struct emu_exit *out);

#endif
