/* SPDX-License-Identifier: MIT */
/* cpu.h - constants shared by entry.S and image.c. */
#ifndef VEIL_SNP_CPU_H
#define VEIL_SNP_CPU_H

/* Each vCPU's VMPL0 stack: this size (the deepest path, a module load
 * with its ECDSA check, needs about 4 KiB), aligned to it, with the vCPU's
 * struct image_cpu at its base (found from RSP in exception handlers). */
#define IMAGE_STACK_SIZE 0x8000

#define IMAGE_CS 0x08 /* 64-bit code */
#define IMAGE_DS 0x10 /* flat data */
#define IMAGE_FS 0x18 /* flat data based at IMAGE_CANARY_VA */
#define IMAGE_NR_VECTORS 32

/* The stack-protector canary that BearSSL's objects read at %fs:0x28 lives
 * in a read-only page mapped at this low address (never page 0). */
#define IMAGE_CANARY_VA 0x1000

#endif
