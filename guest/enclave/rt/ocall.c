/* SPDX-License-Identifier: MIT */
/*
 * ocall.c - calls out of the enclave: the request goes into the ocall page,
 * the monitor copies it to the host and the host's response back; every
 * length the host hands back is checked against what the caller can take
 * before a byte is copied out of the ocall page.
 */
#include <veil/abi.h>
#include <veil/enclave.h>
#include <veil/enclave_ocall.h>

uint64_t enclave_ocall_raw(uint64_t nr, uint64_t len, uint64_t *resp_len);

__asm__(".text\n"
	".globl enclave_ocall_raw\n"
	"enclave_ocall_raw:\n\t" /* RDI = nr, RSI = request length, RDX = &response length */
	"pushq %rbx\n\t"
	"movq %rdx, %rbx\n\t"
	"movq %rsi, %r8\n\t"
	"movq %rdi, %rsi\n\t"
	"movl $1, %edi\n\t" /* VEIL_ENC_SYS_OCALL */
	"syscall\n\t"
	"movq %rdx, (%rbx)\n\t"
	"popq %rbx\n\t"
	"ret\n");

int64_t enclave_ocall(uint64_t nr, const void *req, size_t req_len, void *resp, size_t resp_cap,
		      size_t *resp_len)
{
	uint8_t *page = (uint8_t *)VEIL_ENC_OCALL_VA;
	uint64_t got = 0;
	int64_t rc;

	if (req_len > VEIL_OCALL_PAGE)
		return VEIL_OCALL_EINVAL;
	memcpy(page, req, req_len);
	rc = (int64_t)enclave_ocall_raw(nr, req_len, &got);
	if (got > resp_cap || got > VEIL_OCALL_PAGE)
		return VEIL_OCALL_EBADMSG;
	memcpy(resp, page, got);
	if (resp_len)
		*resp_len = got;
	return rc;
}

/* ---- the forwarded system calls ------------------------------------------- */

long write(int fd, const void *buf, size_t n)
{
	uint8_t req[VEIL_OCALL_PAGE];
	uint64_t f = (uint64_t)fd;

	if (n > sizeof(req) - 8)
		n = sizeof(req) - 8;
	memcpy(req, &f, 8);
	memcpy(req + 8, buf, n);
	return enclave_ocall(VEIL_OCALL_WRITE, req, 8 + n, 0, 0, 0);
}

long read(int fd, void *buf, size_t n)
{
	uint64_t req[2] = { (uint64_t)fd, n };
	size_t got = 0;
	long rc = enclave_ocall(VEIL_OCALL_READ, req, sizeof(req), buf, n, &got);

	return rc < 0 ? rc : (long)got;
}

long getpid(void)
{
	return enclave_ocall(VEIL_OCALL_GETPID, 0, 0, 0, 0, 0);
}

int clock_gettime(int clock, struct enclave_timespec *ts)
{
	uint64_t id = (uint64_t)clock, out[2] = { 0, 0 };
	size_t got = 0;
	long rc = enclave_ocall(VEIL_OCALL_CLOCK_GETTIME, &id, 8, out, sizeof(out), &got);

	if (rc < 0)
		return (int)rc;
	if (got != sizeof(out))
		return VEIL_OCALL_EBADMSG;
	ts->tv_sec = (int64_t)out[0];
	ts->tv_nsec = (int64_t)out[1];
	return 0;
}

int open(const char *path, int flags)
{
	uint8_t req[VEIL_OCALL_PAGE];
	uint64_t f = (uint64_t)flags;
	size_t n = strlen(path) + 1;

	if (n > sizeof(req) - 8)
		return VEIL_OCALL_EINVAL;
	memcpy(req, &f, 8);
	memcpy(req + 8, path, n);
	return (int)enclave_ocall(VEIL_OCALL_OPEN, req, 8 + n, 0, 0, 0);
}

int close(int fd)
{
	uint64_t f = (uint64_t)fd;

	return (int)enclave_ocall(VEIL_OCALL_CLOSE, &f, 8, 0, 0, 0);
}

int socket(int domain, int type, int protocol)
{
	uint64_t req[2] = { (uint64_t)domain, (uint64_t)type };

	(void)protocol;
	return (int)enclave_ocall(VEIL_OCALL_SOCKET, req, sizeof(req), 0, 0, 0);
}

bool enclave_owns(const void *p, size_t n)
{
	uint64_t a = (uint64_t)p, end = a + n;

	if (end < a)
		return true; /* wraps: take it as overlapping everything */
	return a < VEIL_ENC_VA_BASE + 0x200000ULL && end > VEIL_ENC_VA_BASE;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
	uint64_t l = (uint64_t)len;
	int64_t r;

	(void)prot;
	(void)flags;
	if (addr || fd != -1 || off || !len)
		return MAP_FAILED; /* anonymous, host-chosen only */
	r = enclave_ocall(VEIL_OCALL_MMAP, &l, 8, 0, 0, 0);
	/* Checked before the enclave keeps it: an address the host may not
	 * return (not page-aligned, wrapping, or enclave memory). */
	if (r <= 0 || (r & 0xFFF) || enclave_owns((void *)r, len))
		return MAP_FAILED;
	return (void *)r;
}

int munmap(void *addr, size_t len)
{
	uint64_t req[2] = { (uint64_t)addr, (uint64_t)len };

	if (enclave_owns(addr, len))
		return VEIL_OCALL_EINVAL; /* never the host's to unmap */
	return (int)enclave_ocall(VEIL_OCALL_MUNMAP, req, sizeof(req), 0, 0, 0);
}
