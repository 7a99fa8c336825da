/* SPDX-License-Identifier: MIT */
/*
 * veil/enclave.h - the enclave side of the Veil enclave SDK: what code linked
 * with enclave.ld and the runtime (rt/) may use. The program provides
 * enclave_main(); each VEIL_ENC_ENTER runs it from the start with the
 * host's argument, and its return value is what ENTER returns to the host.
 * Memory (data, bss, heap) persists across entries; registers do not.
 */
#ifndef VEIL_ENCLAVE_H
#define VEIL_ENCLAVE_H

#include <stddef.h>
#include <stdint.h>

uint64_t enclave_main(uint64_t arg);

/* Leave the enclave now with `value` (what ENTER returns). */
__attribute__((noreturn)) void enclave_exit(uint64_t value);

/* A request to the monitor's SYSCALL path: RDI = nr, RSI = a0; returns RAX. */
uint64_t enclave_syscall(uint64_t nr, uint64_t a0);

/* The runtime's small libc subset. */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif
