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
#define VEIL_OCALL_OPEN 4	   /* req: u64 flags, then the path (NUL-terminated) -> fd */
#define VEIL_OCALL_CLOSE 5	   /* req: u64 fd -> 0 */
/* MMAP: req: u64 length -> the host address of that much untrusted (host)
 * memory. It lives in the host's address space: the enclave names it (to
 * hand it back to the host) but its page table never maps it, and the SDK
 * refuses an answer that is not page-aligned or overlaps the enclave's
 * window (a host passing enclave memory off as its own). */
#define VEIL_OCALL_MMAP 6
#define VEIL_OCALL_MUNMAP 7 /* req: u64 address, u64 length -> 0 */
/* SOCKET: req: u64 domain, u64 type -> fd. The test OS has no network: its
 * socket is a loopback stream (what is written is read back), the nearest
 * equivalent it can offer. */
#define VEIL_OCALL_SOCKET 8
#define VEIL_OCALL_MAX 9
#define VEIL_OCALL_PAGE 4096

#define VEIL_OCALL_ENOENT (-2)
#define VEIL_OCALL_EBADF (-9)
#define VEIL_OCALL_ENOMEM (-12)
#define VEIL_OCALL_EFAULT (-14) /* an answer pointing into the enclave: refused */
#define VEIL_OCALL_ENOSYS (-38)
#define VEIL_OCALL_EINVAL (-22)
#define VEIL_OCALL_EBADMSG (-74) /* the host answered more than asked: refused */

#endif
