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

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint64_t enclave_main(uint64_t arg);

/* Leave the enclave now with `value` (what ENTER returns). */
__attribute__((noreturn)) void enclave_exit(uint64_t value);

/* A request to the monitor's SYSCALL path: RDI = nr, RSI = a0; returns RAX. */
uint64_t enclave_syscall(uint64_t nr, uint64_t a0);

/*
 * Ask the host for ocall `nr` (veil/enclave_ocall.h) with req_len bytes of
 * request; up to resp_cap bytes of response are copied to resp. Returns the
 * host's result, or VEIL_OCALL_EBADMSG when the host answered more than
 * resp_cap bytes (nothing is copied then).
 */
int64_t enclave_ocall(uint64_t nr, const void *req, size_t req_len, void *resp, size_t resp_cap,
		      size_t *resp_len);

/* System calls forwarded to the host as ocalls (Linux semantics, -errno). */
struct enclave_timespec {
	int64_t tv_sec, tv_nsec;
};
long write(int fd, const void *buf, size_t n);
long read(int fd, void *buf, size_t n);
long getpid(void);
int clock_gettime(int clock, struct enclave_timespec *ts);
int open(const char *path, int flags);
int close(int fd);
int socket(int domain, int type, int protocol); /* the host's; see VEIL_OCALL_SOCKET */
/* Untrusted memory: a host address the enclave cannot dereference (see
 * VEIL_OCALL_MMAP); only anonymous mappings (fd -1). MAP_FAILED on refusal. */
#define MAP_FAILED ((void *)-1)
void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off);
int munmap(void *addr, size_t len);
/* [p, p + n) overlaps the enclave's window (its own memory)? */
bool enclave_owns(const void *p, size_t n);

/* The heap: the pages VEIL_ENC_ADD placed (a bump allocator; free is a no-op). */
size_t enclave_heap_size(void);
void *malloc(size_t n);
void free(void *p);

/* The runtime's small libc subset. */
int vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap);
int snprintf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif
