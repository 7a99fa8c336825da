/* SPDX-License-Identifier: MIT */
/* emu_run.h - `veil-emu run`: boot the monitor and an OS image on the machine. */
#ifndef VEIL_EMU_RUN_H
#define VEIL_EMU_RUN_H

#include "emu.h"

struct veil_os_entry;

struct emu_run_params {
	uint64_t entry;			   /* OS entry point */
	uint64_t kernel_start, kernel_end; /* page-aligned extent of the loaded image */
	const char *cmdline;
	uint64_t log_size;	 /* bytes for the secure log; 0 = the monitor's default */
	uint32_t log_domain;	 /* enum veil_log_domain (core/include/veil/monitor.h) */
	const char *attest_seed; /* the model AMD-SP's key seed; NULL = default */
	unsigned nr_segs;
	struct {
		uint64_t gpa, len; /* page-aligned extent */
		uint32_t flags;	   /* ELF p_flags */
	} segs[8];
	/* Linux's 64-bit boot protocol entry state (linux_boot.h); NULL for an
	 * OS image that follows guest/include/veil/boot.h. */
	const struct veil_os_entry *linux_entry;
};

/* Load an ELF64 OS image at its physical addresses (boot contract in
 * guest/include/veil/boot.h). Returns 0, or -1 with a message in err. */
int emu_load_elf(struct emu_machine *m, const char *path, struct emu_run_params *p, char *err,
		 size_t errlen);

/* Measure the launch of `run --kernel` as the AMD-SP would (launch_igvm.c):
 * the OS image's pages (NORMAL, in GPA order), then the monitor region (ZERO
 * pages, the secrets page SECRETS). The native monitor has no launch VMSA. */
void emu_measure_elf_launch(struct emu_machine *m, const struct emu_run_params *p);

/* Boot the monitor (VMPL0, native) and run the OS until it terminates. */
int emu_run(struct emu_machine *m, const struct emu_run_params *p, struct emu_exit *out);

struct veil_launch;

/* The launch shared by both run modes: the OS image and the monitor region
 * (the top VEIL_MONITOR_SIZE bytes) assigned and validated with no VMPL1-3
 * access, the secrets page written, and the monitor's launch parameters. */
/* Place the launch (RMP, secrets page, AMD-SP, measurement); 0 or -1 with m->exit.message. */
int emu_launch(struct emu_machine *m, const struct emu_run_params *p, struct veil_launch *l);

/* Image mode (fullsys.c): launch the VMPL0 image `veil-monitor` (ELF64 at
 * `image`) as SNP launches an SVSM, and run it and the OS until the CVM
 * stops. Returns -1 with a message in out->message if the image cannot be
 * launched. */
/* Bytes of the monitor region the image takes beyond the native monitor's
 * share: its segments, parameter page, launch tables and the APs' stacks
 * (0 if IMAGE cannot be read: the launch says why). */
uint64_t emu_image_share(const char *image, uint64_t mem_size, unsigned vcpus);

int emu_run_image(struct emu_machine *m, const struct emu_run_params *p, const char *image,
		  struct emu_exit *out);

/* Boot vCPU 0 at VMPL0 from a launch VMSA (4 KiB; kept outside guest memory
 * as the firmware keeps the VMSA of an SNP launch). 0 or -1. */
int emu_image_boot(struct emu_machine *m, const uint8_t *vmsa);

/* The scheduler loop shared by exec and run. */
void emu_run_loop(struct emu_machine *m);

#endif
