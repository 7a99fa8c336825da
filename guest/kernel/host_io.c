/* SPDX-License-Identifier: MIT */
/*
 * host_io.c - what the test OS offers an enclave host beyond read, write,
 * getpid and clock_gettime (the ocalls of guest/enclave, served from
 * enclave.c): a few read-only files, anonymous mappings of its own memory,
 * and loopback stream sockets (it has no network), behind one small
 * descriptor table. Descriptors 0-2 are the console's.
 */
#include <veil/enclave_ocall.h>

#include "kernel.h"

#define HOST_FDS 16
#define HOST_MAPS 16
#define SOCK_BUF 512

enum {
	FD_FREE,
	FD_FILE,
	FD_SOCKET
};

struct host_fd {
	uint8_t kind;
	const char *data; /* FD_FILE */
	uint64_t len, pos;
	uint8_t q[SOCK_BUF]; /* FD_SOCKET: written, not yet read */
	uint64_t qlen;
};

struct host_map {
	uint64_t addr, pages;
	bool used;
};

static const struct {
	const char *path, *data;
} files[] = {
	{ "/etc/hostname", "veil-testos\n" },
	{ "/etc/motd", "an enclave host on the Veil test OS\n" },
};

static struct host_fd fds[HOST_FDS];
static struct host_map maps[HOST_MAPS];

static struct host_fd *fd_of(uint64_t fd)
{
	return fd >= 3 && fd < HOST_FDS && fds[fd].kind != FD_FREE ? &fds[fd] : 0;
}

static int64_t fd_new(uint8_t kind)
{
	uint64_t i;

	for (i = 3; i < HOST_FDS; i++)
		if (fds[i].kind == FD_FREE) {
			memset(&fds[i], 0, sizeof(fds[i]));
			fds[i].kind = kind;
			return (int64_t)i;
		}
	return VEIL_OCALL_ENOMEM;
}

int64_t host_open(void *ctx, const uint8_t *req, uint64_t len, uint8_t *resp, uint64_t *resp_len)
{
	unsigned i;
	int64_t fd;

	(void)ctx;
	(void)resp;
	(void)resp_len;
	if (len < 9 || req[len - 1])
		return VEIL_OCALL_EINVAL; /* flags, then a NUL-terminated path */
	for (i = 0; i < ARRAY_SIZE(files); i++)
		if (!strncmp(files[i].path, (const char *)req + 8, len - 8)) {
			fd = fd_new(FD_FILE);
			if (fd >= 0) {
				fds[fd].data = files[i].data;
				fds[fd].len = strlen(files[i].data);
			}
			return fd;
		}
	return VEIL_OCALL_ENOENT;
}

int64_t host_close(void *ctx, const uint8_t *req, uint64_t len, uint8_t *resp, uint64_t *resp_len)
{
	uint64_t fd;
	struct host_fd *f;

	(void)ctx;
	(void)resp;
	(void)resp_len;
	if (len != 8)
		return VEIL_OCALL_EINVAL;
	memcpy(&fd, req, 8);
	f = fd_of(fd);
	if (!f)
		return VEIL_OCALL_EBADF;
	f->kind = FD_FREE;
	return 0;
}

int64_t host_socket(void *ctx, const uint8_t *req, uint64_t len, uint8_t *resp, uint64_t *resp_len)
{
	(void)ctx;
	(void)req;
	(void)resp;
	(void)resp_len;
	return len == 16 ? fd_new(FD_SOCKET) : VEIL_OCALL_EINVAL;
}

int64_t host_mmap(void *ctx, const uint8_t *req, uint64_t len, uint8_t *resp, uint64_t *resp_len)
{
	uint64_t bytes, pages, i, addr;

	(void)resp;
	(void)resp_len;
	if (len != 8)
		return VEIL_OCALL_EINVAL;
	memcpy(&bytes, req, 8);
	pages = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
	if (!pages || pages > 64)
		return VEIL_OCALL_EINVAL;
	if (ctx) /* a lying host: "untrusted memory" inside the enclave */
		return (int64_t)(VEIL_ENC_VA_BASE + 0x1000);
	for (i = 0; i < HOST_MAPS; i++) /* reuse a freed mapping first */
		if (!maps[i].used && maps[i].pages >= pages) {
			maps[i].used = true;
			memset((void *)maps[i].addr, 0, maps[i].pages * PAGE_SIZE);
			return (int64_t)maps[i].addr;
		}
	for (i = 0; i < HOST_MAPS; i++)
		if (!maps[i].used && !maps[i].pages) {
			addr = pages_alloc((unsigned)pages);
			if (!addr)
				return VEIL_OCALL_ENOMEM;
			maps[i] = (struct host_map){ addr, pages, true };
			return (int64_t)addr;
		}
	return VEIL_OCALL_ENOMEM;
}

int64_t host_munmap(void *ctx, const uint8_t *req, uint64_t len, uint8_t *resp, uint64_t *resp_len)
{
	uint64_t a[2], i;

	(void)ctx;
	(void)resp;
	(void)resp_len;
	if (len != 16)
		return VEIL_OCALL_EINVAL;
	memcpy(a, req, 16);
	for (i = 0; i < HOST_MAPS; i++)
		if (maps[i].used && maps[i].addr == a[0]) {
			maps[i].used = false;
			return 0;
		}
	return VEIL_OCALL_EINVAL;
}

bool host_fd_read(uint64_t fd, uint8_t *out, uint64_t count, int64_t *n)
{
	struct host_fd *f = fd_of(fd);
	uint64_t k;

	if (!f)
		return false;
	if (f->kind == FD_FILE) {
		k = f->len - f->pos < count ? f->len - f->pos : count;
		memcpy(out, f->data + f->pos, k);
		f->pos += k;
	} else {
		k = f->qlen < count ? f->qlen : count;
		memcpy(out, f->q, k);
		memmove(f->q, f->q + k, f->qlen - k);
		f->qlen -= k;
	}
	*n = (int64_t)k;
	return true;
}

bool host_fd_write(uint64_t fd, const uint8_t *data, uint64_t count, int64_t *n)
{
	struct host_fd *f = fd_of(fd);
	uint64_t k;

	if (!f)
		return false;
	if (f->kind != FD_SOCKET) {
		*n = VEIL_OCALL_EBADF; /* the files are read-only */
		return true;
	}
	k = SOCK_BUF - f->qlen < count ? SOCK_BUF - f->qlen : count;
	memcpy(f->q + f->qlen, data, k);
	f->qlen += k;
	*n = (int64_t)k;
	return true;
}
