/* SPDX-License-Identifier: MIT */
/*
 * veil/enclave_ocall.h - the ocalls of the Veil enclave SDK: numbers and
 * request layouts shared by the enclave runtime (rt/ocall.c) and the host
 * library (host/enclave_host.c). A request or response is at most one page
 * (the enclave's ocall page, copied by the monitor); the result is a signed
 * 64-bit value, negative = -errno as Linux returns it.
 */
#ifndef VEIL_ENCLAVE_OCALL_H
#define VEIL_ENCLAVE_OCALL_H

#include <stdint.h>

#define VEIL_OCALL_WRITE 0	   /* req: u64 fd, then the bytes -> bytes written */
#define VEIL_OCALL_READ 1	   /* req: u64 fd, u64 count -> response: the bytes */
#define VEIL_OCALL_GETPID 2	   /* -> pid */
#define VEIL_OCALL_CLOCK_GETTIME 3 /* req: u64 clock id -> response: u64 sec, u64 nsec */
#define VEIL_OCALL_MAX 4
#define VEIL_OCALL_PAGE 4096

#define VEIL_OCALL_ENOSYS (-38)
#define VEIL_OCALL_EINVAL (-22)
#define VEIL_OCALL_EBADMSG (-74) /* the host answered more than asked: refused */

#endif
