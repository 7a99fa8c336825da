/* SPDX-License-Identifier: MIT */
/* cpu.h - constants shared by entry.S and image.c. */
#ifndef VEIL_SNP_CPU_H
#define VEIL_SNP_CPU_H

#define IMAGE_CS 0x08	/* 64-bit code */
#define IMAGE_DS 0x10	/* flat data */
#define IMAGE_FS 0x18	/* flat data based at IMAGE_CANARY_VA */
#define IMAGE_TSS0 0x28 /* the TSS of vCPU n at IMAGE_TSS0 + 16 * n */
#define IMAGE_NR_VECTORS 32

/* The stack-protector canary that BearSSL's objects read at %fs:0x28 lives
 * in a read-only page mapped at this low address (never page 0). */
#define IMAGE_CANARY_VA 0x1000

/*
 * Each vCPU's VMPL0 lives in a 64 KiB slot of virtual memory at
 * IMAGE_SLOTS_VA + id * IMAGE_SLOT_SIZE, in 4 KiB pages:
 *   +0x0000  struct image_cpu (with the vCPU's TSS)
 *   +0x1000  guard page, never mapped: a stack overflow faults here
 *   +0x2000  the stack, 16 KiB, down from +0x6000 (the deepest path, a
 *            module load with its ECDSA check, needs about 4 KiB)
 *   +0x6000  the exception stack (IST1: #DF, #SS, #PF), 8 KiB, down from +0x8000
 * Exception handlers find the vCPU's struct image_cpu from RSP. The backed
 * pages of an AP's slot come from the monitor region (28 KiB per AP), which
 * `veil-emu run` counts against --mem (backends/emu/launch/fullsys.c).
 */
#define IMAGE_SLOTS_VA 0xFFFFFF0000000000
#define IMAGE_SLOT_SIZE 0x10000
#define IMAGE_SLOT_GUARD 0x1000
#define IMAGE_SLOT_STACK 0x2000
#define IMAGE_SLOT_STACK_TOP 0x6000
#define IMAGE_SLOT_IST_TOP 0x8000
#define IMAGE_SLOT_PAGES 7 /* backed: the image_cpu page, 4 stack, 2 IST */
/* The boot vCPU's first stack, before its slot is mapped: the stack pages
 * follow the image_cpu page in image_bsp_slot (image.c), so their top is
 * here. It must stay inside the slot's backed pages (asserted in image.c). */
#define IMAGE_BSP_STACK_TOP (0x1000 + IMAGE_SLOT_STACK_TOP - IMAGE_SLOT_STACK)

#endif
