/* SPDX-License-Identifier: MIT */
/*
 * image.h - the VMPL0 image `veil-monitor`: an ELF64 x86-64 executable linked
 * at VEIL_IMAGE_VA. Loaders (QEMU's IGVM loader with a file from veil-igvm
 * build, veil-emu's `run --monitor` and `run --igvm`) launch it as an SVSM is
 * launched, by the one contract in guest/include/veil/launch.h: the image in
 * the monitor region, a measured launch information page whose GPA comes in
 * RDI, the loader's parameter and memory map pages, launch page tables that
 * map guest memory 1:1 and the image at VEIL_IMAGE_VA, one launch VMSA at
 * VMPL0. The image builds its own GDT, IDT and page tables before it touches
 * anything else.
 */
#ifndef VEIL_SNP_IMAGE_H
#define VEIL_SNP_IMAGE_H

#include <veil/launch.h>
#include <veil/monitor.h>

/* VEIL_IMAGE_VA and VEIL_IMAGE_MAX: veil/launch.h. */

/* Why the image stops the CVM (GHCB termination, reason set VEIL_TERM_SET):
 * codes 0x20 + vector for an unexpected exception at VMPL0. */
#define VEIL_TERM_IMAGE_PARAMS 0x10 /* bad launch information or parameters */
#define VEIL_TERM_IMAGE_EXCEPTION(vec) (0x20 + ((vec)&0x1F))

#endif
