/* SPDX-License-Identifier: MIT */
/* hostio.c - inputs, outputs, exit statuses and --version of the host programs. */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hostio.h"

#ifndef VEIL_VERSION
#error "VEIL_VERSION must come from CMake's project version"
#endif

void hio_print_version(const char *prog)
{
	printf("%s (Veil) %s\n", prog, VEIL_VERSION);
}

bool hio_is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

int hio_fail(const char *prog, int rc, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return rc;
}

bool hio_info_option(const char *arg, const char *prog, const char *usage)
{
	if (hio_is_help(arg)) {
		fputs(usage, stdout);
		return true;
	}
	if (!strcmp(arg, "--version")) {
		hio_print_version(prog);
		return true;
	}
	return false;
}

/* The reason a stat result cannot be an input, or NULL. */
static const char *not_input(const struct stat *st, unsigned flags)
{
	if (S_ISDIR(st->st_mode))
		return "is a directory";
	if (!S_ISREG(st->st_mode))
		return "is not a regular file (a FIFO, device or socket cannot be an input)";
	if (st->st_size == 0 && !(flags & HIO_ALLOW_EMPTY))
		return "is empty";
	return NULL;
}

int hio_check_input(const char *path, unsigned flags, char *err, size_t errlen)
{
	struct stat st;
	const char *why;

	if (stat(path, &st) || access(path, R_OK)) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	why = not_input(&st, flags);
	if (why) {
		snprintf(err, errlen, "'%s' %s", path, why);
		return -1;
	}
	return 0;
}

int hio_read(const char *path, unsigned flags, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
	/* O_NONBLOCK: opening a FIFO with no writer must not hang before the
	 * fstat below refuses it. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	const char *why;
	size_t got = 0, size;

	*buf = NULL;
	*len = 0;
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	why = not_input(&st, flags);
	if (why) {
		snprintf(err, errlen, "'%s' %s", path, why);
		close(fd);
		return -1;
	}
	size = (size_t)st.st_size;
	*buf = malloc(size ? size : 1);
	if (!*buf) {
		snprintf(err, errlen, "'%s' (%zu bytes) does not fit in memory", path, size);
		close(fd);
		return -1;
	}
	/* Read what the size said; a file that shrinks meanwhile gives fewer
	 * bytes, one that grows is cut at the size seen (a snapshot). */
	while (got < size) {
		ssize_t n = read(fd, *buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
			free(*buf);
			*buf = NULL;
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got == 0 && !(flags & HIO_ALLOW_EMPTY)) {
		snprintf(err, errlen, "'%s' is empty", path);
		free(*buf);
		*buf = NULL;
		return -1;
	}
	*len = got;
	return 0;
}

/* The identity of a path: its own device and inode, or (when it does not
 * exist) its folder's plus its last component. */
static int identity(const char *path, dev_t *dev, ino_t *ino, const char **name)
{
	struct stat st;
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	*name = "";
	if (!stat(path, &st)) {
		*dev = st.st_dev;
		*ino = st.st_ino;
		return 0;
	}
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path) ? (int)(slash - path) : 1,
			 path);
	*name = slash ? slash + 1 : path;
	if (stat(dir, &st))
		return -1;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 1;
}

bool hio_same_file(const char *a, const char *b)
{
	dev_t da, db;
	ino_t ia, ib;
	const char *na, *nb;
	int ra = identity(a, &da, &ia, &na), rb = identity(b, &db, &ib, &nb);

	if (ra < 0 || rb < 0 || ra != rb)
		return ra < 0 && rb < 0 && !strcmp(a, b);
	return da == db && ia == ib && !strcmp(na, nb);
}

/* The process umask, read without changing it (Linux 4.7+; 022 otherwise). */
static mode_t umask_get(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	unsigned m = 022;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Umask: %o", &m) == 1)
			break;
	if (f)
		fclose(f);
	return (mode_t)m;
}

int hio_out_open(struct hio_out *o, const char *path, mode_t mode, unsigned flags, char *err,
		 size_t errlen)
{
	struct stat st;
	const char *slash = strrchr(path, '/');
	int fd;

	memset(o, 0, sizeof(*o));
	if (strlen(path) + 16 >= sizeof(o->tmp)) {
		snprintf(err, errlen, "output path '%.64s...' is too long", path);
		return -1;
	}
	snprintf(o->path, sizeof(o->path), "%s", path);
	if (!stat(path, &st)) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "'%s' is a directory", path);
			return -1;
		}
		if (flags & HIO_EXCL) {
			snprintf(err, errlen, "'%s' already exists", path);
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			/* A device or FIFO (/dev/null, a pipe): write in place. */
			o->f = fopen(path, "wb");
			if (!o->f) {
				snprintf(err, errlen, "cannot open '%s': %s", path,
					 strerror(errno));
				return -1;
			}
			return 0;
		}
	}
	snprintf(o->tmp, sizeof(o->tmp), "%.*s.%s.XXXXXX", slash ? (int)(slash - path + 1) : 0,
		 path, slash ? slash + 1 : path);
	fd = mkstemp(o->tmp);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a file beside '%s': %s", path,
			 strerror(errno));
		o->tmp[0] = 0;
		return -1;
	}
	if (fchmod(fd, mode & ~umask_get()) || !(o->f = fdopen(fd, "wb"))) {
		snprintf(err, errlen, "cannot create a file beside '%s': %s", path,
			 strerror(errno));
		close(fd);
		unlink(o->tmp);
		o->tmp[0] = 0;
		return -1;
	}
	return 0;
}

void hio_out_write(struct hio_out *o, const void *p, size_t n)
{
	if (o->failed || !n)
		return;
	if (fwrite(p, 1, n, o->f) != n) {
		o->failed = true;
		o->werrno = errno;
	}
}

void hio_out_abort(struct hio_out *o)
{
	if (o->f)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = 0;
}

int hio_out_close(struct hio_out *o, unsigned flags, char *err, size_t errlen)
{
	if (!o->failed && (fflush(o->f) || ferror(o->f) || (o->tmp[0] && fsync(fileno(o->f))))) {
		o->failed = true;
		o->werrno = errno ? errno : EIO;
	}
	if (fclose(o->f) && !o->failed) {
		o->failed = true;
		o->werrno = errno;
	}
	o->f = NULL;
	if (o->failed) {
		snprintf(err, errlen, "writing '%s' failed: %s", o->path, strerror(o->werrno));
		hio_out_abort(o);
		return -1;
	}
	if (!o->tmp[0])
		return 0;
	/* link() refuses an existing target atomically; rename() replaces it. */
	if (flags & HIO_EXCL ? link(o->tmp, o->path) : rename(o->tmp, o->path)) {
		snprintf(err, errlen, "cannot %s '%s': %s", flags & HIO_EXCL ? "create" : "replace",
			 o->path, strerror(errno));
		hio_out_abort(o);
		return -1;
	}
	if (flags & HIO_EXCL)
		unlink(o->tmp);
	o->tmp[0] = 0;
	return 0;
}

static long long now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

void hio_progress_init(struct hio_progress *p, const char *prog, const char *what)
{
	memset(p, 0, sizeof(*p));
	p->tty = isatty(STDERR_FILENO);
	p->prog = prog;
	p->what = what;
	p->start = p->last = p->tty ? now_s() : 0;
}

void hio_progress(struct hio_progress *p, uint64_t done, uint64_t total)
{
	long long t;

	/* the clock is read only every 4096 steps: this sits in hot loops */
	if (!p->tty || (done & 4095) || (t = now_s()) == p->last || t - p->start < 1)
		return;
	p->last = t;
	p->shown = true;
	fprintf(stderr, "\r%s: %s: %llu%% (%llu of %llu) ", p->prog, p->what,
		total ? (unsigned long long)(done * 100 / total) : 0ULL, (unsigned long long)done,
		(unsigned long long)total);
}

void hio_progress_end(struct hio_progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = false;
}
