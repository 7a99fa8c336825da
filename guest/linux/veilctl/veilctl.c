// SPDX-License-Identifier: MIT
/*
 * veilctl - user-space tool for /dev/veil (the Veil module for Linux):
 *
 *   veilctl status                 the monitor's services, KCI, audit counts
 *   veilctl log-append TEXT...     append TEXT (words joined by spaces)
 *   veilctl log-head               count, drops, capacity, used, head hash
 *   veilctl log-dump [--com2]      the log as a dump file (docs/log-format.md)
 *                                  on stdout, or on serial port COM2 (0x2F8),
 *                                  which veil-emu writes to --com2 FILE
 *   veilctl audit-enable           turn kernel auditing on (AUDIT_SET)
 *   veilctl audit-rule NR...       audit these x86-64 syscalls at exit
 *   veilctl audit-user TEXT        send an AUDIT_USER message (as login does)
 *   veilctl audit-rule-del NR...   remove that rule again
 *   veilctl auditd FILE            a minimal audit daemon: receive the kernel's
 *                                  audit records, append them to FILE (bench)
 *   veilctl bench-open N           N openat+close pairs: ns per pair (bench)
 *   veilctl bench-insmod KO N      N loads (finit_module) and unloads
 *                                  (delete_module) of the module file KO:
 *                                  ns per load and per unload, wall then
 *                                  the thread's CPU time (bench)
 *
 * Static, for the BusyBox initramfs: libc only, no libaudit.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <veil/abi.h>
#include <veil/logdump.h>

#include "../veil_uapi.h"

#define DEV "/dev/" VEIL_DEV_NAME
#define COM2 0x2F8
#define READ_CHUNK 16384

static int die(const char *what)
{
	fprintf(stderr, "veilctl: %s: %s\n", what, strerror(errno));
	return 1;
}

static int open_dev(void)
{
	int fd = open(DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "veilctl: %s: %s (is veil.ko loaded?)\n", DEV, strerror(errno));
	return fd;
}

static void hex(FILE *f, const uint8_t *p, size_t n)
{
	while (n--)
		fprintf(f, "%02x", *p++);
}

static int cmd_status(int fd)
{
	struct veil_ioc_status s;

	if (ioctl(fd, VEIL_IOC_STATUS, &s))
		return die("status");
	printf("vmpl %u\nprotocols%s%s%s%s\n", s.vmpl, s.protocols & VEIL_STATUS_LOG ? " log" : "",
	       s.protocols & VEIL_STATUS_KCI ? " kci" : "",
	       s.protocols & VEIL_STATUS_MODULE ? " module" : "",
	       s.protocols & VEIL_STATUS_ATTEST ? " attest" : "");
	printf("kci %s, %llu text pages, %llu exports\n", s.kci_locked ? "locked" : "unlocked",
	       (unsigned long long)s.kci_text_pages, (unsigned long long)s.kci_exports);
	printf("audit records %llu, refused %llu\n", (unsigned long long)s.audit_records,
	       (unsigned long long)s.audit_failed);
	return 0;
}

static int cmd_append(int fd, int argc, char **argv)
{
	char buf[VEIL_LOG_MAX_RECORD + 1];
	struct veil_ioc_append a = { 0 };
	size_t n = 0, k;
	int i;

	for (i = 0; i < argc; i++) {
		k = strlen(argv[i]);
		if (n + k + (i > 0) > VEIL_LOG_MAX_RECORD) {
			fprintf(stderr, "veilctl: a record holds at most %d bytes\n",
				VEIL_LOG_MAX_RECORD);
			return 2;
		}
		if (i)
			buf[n++] = ' ';
		memcpy(buf + n, argv[i], k);
		n += k;
	}
	if (!n) {
		fprintf(stderr, "veilctl: log-append needs a non-empty TEXT\n");
		return 2;
	}
	a.buf = (uintptr_t)buf;
	a.len = (uint32_t)n;
	if (ioctl(fd, VEIL_IOC_LOG_APPEND, &a))
		return die("log-append");
	printf("seq %llu\n", (unsigned long long)a.seq);
	return 0;
}

static int cmd_head(int fd)
{
	struct veil_ioc_head h;

	if (ioctl(fd, VEIL_IOC_LOG_HEAD, &h))
		return die("log-head");
	printf("count %llu drops %llu capacity %llu used %llu head ", (unsigned long long)h.count,
	       (unsigned long long)h.drops, (unsigned long long)h.capacity,
	       (unsigned long long)h.used);
	hex(stdout, h.head, sizeof(h.head));
	printf("\n");
	return 0;
}

/* ---- the dump ------------------------------------------------------------- */

struct out {
	int com2; /* else stdout */
};

static int put(struct out *o, const void *p, size_t n)
{
	const uint8_t *b = p;

	if (!o->com2)
		return fwrite(p, 1, n, stdout) == n ? 0 : -1;
	/* One OUTS: Linux's #VC handler moves it through the GHCB in chunks. */
	__asm__ volatile("rep outsb" : "+S"(b), "+c"(n) : "d"((uint16_t)COM2) : "memory");
	return 0;
}

static int dump_records(int fd, struct out *o, uint64_t count)
{
	static uint8_t buf[READ_CHUNK];
	struct veil_ioc_read r;
	uint64_t seq = 0;

	while (seq < count) {
		memset(&r, 0, sizeof(r));
		r.seq = seq;
		r.buf = (uintptr_t)buf;
		r.len = sizeof(buf);
		if (ioctl(fd, VEIL_IOC_LOG_READ, &r))
			return die("log-read");
		if (!r.n || r.next != seq + r.n || r.bytes > sizeof(buf)) {
			fprintf(stderr, "veilctl: log-read: an impossible answer at seq %llu\n",
				(unsigned long long)seq);
			return 1;
		}
		/* Only the records the head counted: later appends are not in it. */
		if (seq + r.n > count) {
			uint64_t off = 0, i;

			for (i = 0; i < count - seq; i++) {
				const struct veil_log_record *rec = (const void *)(buf + off);

				off += sizeof(*rec) + ((rec->len + 7) & ~7u);
			}
			r.bytes = off;
			r.n = count - seq;
		}
		if (put(o, buf, r.bytes))
			return die("log-dump: write");
		seq += r.n;
	}
	return 0;
}

/* The whole log as of one HEAD, in the format veil-log verify reads. */
static int cmd_dump(int fd, int com2)
{
	struct veil_log_dump_hdr d = { .version = VEIL_LOG_DUMP_VERSION };
	struct veil_ioc_head h;
	struct out o = { com2 };
	int rc;

	if (com2 && ioperm(COM2, 1, 1))
		return die("log-dump: ioperm COM2");
	if (ioctl(fd, VEIL_IOC_LOG_HEAD, &h))
		return die("log-head");
	memcpy(d.magic, VEIL_LOG_DUMP_MAGIC, sizeof(d.magic));
	d.count = h.count;
	d.drops = h.drops;
	d.capacity = h.capacity;
	d.used = h.used;
	memcpy(d.head, h.head, sizeof(d.head));
	if (put(&o, &d, sizeof(d)))
		return die("log-dump: write");
	rc = dump_records(fd, &o, h.count);
	if (!com2)
		fflush(stdout);
	if (!rc)
		fprintf(stderr, "veilctl: dumped %llu records\n", (unsigned long long)h.count);
	return rc;
}

/* ---- audit over netlink (NETLINK_AUDIT, <linux/audit.h>) ----------------- */

static int audit_send(uint16_t type, const void *data, size_t len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct {
		struct nlmsghdr h;
		uint8_t data[4096];
	} m;
	struct {
		struct nlmsghdr h;
		struct nlmsgerr e;
	} ack;
	int s, rc;

	if (len > sizeof(m.data))
		return -1;
	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	if (s < 0)
		return die("audit socket");
	memset(&m, 0, sizeof(m));
	m.h.nlmsg_len = NLMSG_LENGTH(len);
	m.h.nlmsg_type = type;
	m.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	m.h.nlmsg_seq = 1;
	memcpy(NLMSG_DATA(&m.h), data, len);
	if (sendto(s, &m, m.h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = die("audit send");
	} else if (recv(s, &ack, sizeof(ack), 0) < 0) {
		rc = die("audit ack");
	} else if (ack.h.nlmsg_type == NLMSG_ERROR && ack.e.error) {
		errno = -ack.e.error;
		rc = die("audit request");
	} else {
		rc = 0;
	}
	close(s);
	return rc;
}

static int cmd_audit_enable(void)
{
	struct audit_status st = { .mask = AUDIT_STATUS_ENABLED, .enabled = 1 };

	return audit_send(AUDIT_SET, &st, sizeof(st));
}

/* auditctl -a|-d always,exit -F arch=b64 -S NR...: one rule for all of them. */
static int cmd_audit_rule(int argc, char **argv, uint16_t op)
{
	struct audit_rule_data r;
	char *end;
	long nr;
	int i;

	memset(&r, 0, sizeof(r));
	r.flags = AUDIT_FILTER_EXIT;
	r.action = AUDIT_ALWAYS;
	r.field_count = 1;
	r.fields[0] = AUDIT_ARCH;
	r.fieldflags[0] = AUDIT_EQUAL;
	r.values[0] = AUDIT_ARCH_X86_64;
	for (i = 0; i < argc; i++) {
		errno = 0;
		nr = strtol(argv[i], &end, 10);
		if (errno || *end || end == argv[i] || nr < 0 || nr >= AUDIT_BITMASK_SIZE * 32) {
			fprintf(stderr, "veilctl: audit-rule: bad syscall number '%s'\n", argv[i]);
			return 2;
		}
		r.mask[nr / 32] |= 1U << (nr % 32);
	}
	if (!argc) {
		fprintf(stderr, "veilctl: audit-rule needs syscall numbers\n");
		return 2;
	}
	return audit_send(op, &r, sizeof(r));
}

static int cmd_audit_user(const char *text)
{
	return audit_send(AUDIT_USER, text, strlen(text) + 1);
}

/* Become the audit daemon (AUDIT_SET pid) and append every record to FILE
 * until killed: the conventional local audit log, for the benchmark. */
static int cmd_auditd(const char *path)
{
	struct audit_status st = { .mask = AUDIT_STATUS_PID, .pid = (uint32_t)getpid() };
	static char buf[8970 + NLMSG_HDRLEN]; /* MAX_AUDIT_MESSAGE_LENGTH (libaudit) */
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	FILE *f = fopen(path, "a");
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	int s;
	ssize_t n;

	if (!f)
		return die(path);
	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)))
		return die("auditd socket");
	/* The kernel sends records to the socket that registered the pid. */
	memset(buf, 0, sizeof(buf));
	h->nlmsg_len = NLMSG_LENGTH(sizeof(st));
	h->nlmsg_type = AUDIT_SET;
	h->nlmsg_flags = NLM_F_REQUEST;
	memcpy(NLMSG_DATA(h), &st, sizeof(st));
	if (sendto(s, buf, h->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return die("auditd register");
	for (;;) {
		n = recv(s, buf, sizeof(buf) - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return die("auditd recv");
		if ((size_t)n < NLMSG_HDRLEN || h->nlmsg_type < AUDIT_FIRST_USER_MSG - 100)
			continue; /* acks and errors */
		buf[n] = 0;
		fprintf(f, "type=%u %s\n", h->nlmsg_type, (char *)NLMSG_DATA(h));
		fflush(f);
	}
}

static int cmd_bench_open(const char *arg)
{
	struct timespec t0, t1;
	long i, n = strtol(arg, NULL, 10);
	int fd;

	if (n <= 0 || n > 1000000) {
		fprintf(stderr, "veilctl: bench-open: bad count '%s'\n", arg);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		fd = openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY);
		if (fd < 0)
			return die("bench-open");
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.0f\n", ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n);
	return 0;
}

/* Guest wall time (CLOCK_MONOTONIC) and this thread's CPU time, in ns. */
struct stamp {
	struct timespec wall, cpu;
};

static void stamp(struct stamp *t)
{
	clock_gettime(CLOCK_MONOTONIC, &t->wall);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t->cpu);
}

static double ns_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e9 + (b->tv_nsec - a->tv_nsec);
}

/* Add the wall and CPU time since t0 to acc[0] and acc[1]. */
static void add_since(const struct stamp *t0, double acc[2])
{
	struct stamp t1;

	stamp(&t1);
	acc[0] += ns_between(&t0->wall, &t1.wall);
	acc[1] += ns_between(&t0->cpu, &t1.cpu);
}

/* The module's name as delete_module wants it: the file's base name without
 * ".ko" (what Kbuild names a one-file module). */
static int module_name(const char *path, char *name, size_t len)
{
	const char *b = strrchr(path, '/');
	size_t n;

	b = b ? b + 1 : path;
	n = strlen(b);
	if (n <= 3 || n - 3 >= len || strcmp(b + n - 3, ".ko"))
		return -1;
	memcpy(name, b, n - 3);
	name[n - 3] = 0;
	return 0;
}

/* Load and unload KO N times, timing each syscall on its own: the load goes
 * through Veil's KCI when veil.ko has locked the kernel (the module's text
 * is added to the monitor, and dropped at the unload). Wall time includes
 * what the syscalls wait for (RCU grace periods, timer ticks); the thread's
 * CPU time is the work done in them, the SVSM calls included. */
static int cmd_bench_insmod(const char *ko, const char *arg)
{
	struct stamp t0;
	double load[2] = { 0, 0 }, unload[2] = { 0, 0 };
	long i, n = strtol(arg, NULL, 10);
	char name[64];
	int fd;

	if (n <= 0 || n > 100000) {
		fprintf(stderr, "veilctl: bench-insmod: bad count '%s'\n", arg);
		return 2;
	}
	if (module_name(ko, name, sizeof(name))) {
		fprintf(stderr, "veilctl: bench-insmod: '%s' is not a NAME.ko file\n", ko);
		return 2;
	}
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return die(ko);
	for (i = 0; i < n; i++) {
		stamp(&t0);
		if (syscall(SYS_finit_module, fd, "", 0))
			return die("bench-insmod: finit_module");
		add_since(&t0, load);
		stamp(&t0);
		if (syscall(SYS_delete_module, name, O_NONBLOCK))
			return die("bench-insmod: delete_module");
		add_since(&t0, unload);
	}
	close(fd);
	printf("%.0f %.0f %.0f %.0f\n", load[0] / n, unload[0] / n, load[1] / n, unload[1] / n);
	return 0;
}

/* ---- main ----------------------------------------------------------------- */

static int usage(void)
{
	fprintf(stderr, "usage: veilctl status | log-append TEXT... | log-head | "
			"log-dump [--com2] | audit-enable | audit-rule NR... | "
			"audit-rule-del NR... | audit-user TEXT | auditd FILE | bench-open N | "
			"bench-insmod KO N\n");
	return 2;
}

static int with_dev(const char *cmd, int argc, char **argv)
{
	int fd = open_dev(), rc;

	if (fd < 0)
		return 1;
	if (!strcmp(cmd, "status") && !argc)
		rc = cmd_status(fd);
	else if (!strcmp(cmd, "log-append"))
		rc = cmd_append(fd, argc, argv);
	else if (!strcmp(cmd, "log-head") && !argc)
		rc = cmd_head(fd);
	else if (!strcmp(cmd, "log-dump") && argc <= 1 && (!argc || !strcmp(argv[0], "--com2")))
		rc = cmd_dump(fd, argc == 1);
	else
		rc = usage();
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "audit-enable") && argc == 2)
		return cmd_audit_enable();
	if (!strcmp(argv[1], "audit-rule"))
		return cmd_audit_rule(argc - 2, argv + 2, AUDIT_ADD_RULE);
	if (!strcmp(argv[1], "audit-rule-del"))
		return cmd_audit_rule(argc - 2, argv + 2, AUDIT_DEL_RULE);
	if (!strcmp(argv[1], "auditd") && argc == 3)
		return cmd_auditd(argv[2]);
	if (!strcmp(argv[1], "bench-open") && argc == 3)
		return cmd_bench_open(argv[2]);
	if (!strcmp(argv[1], "bench-insmod") && argc == 4)
		return cmd_bench_insmod(argv[2], argv[3]);
	if (!strcmp(argv[1], "audit-user") && argc == 3)
		return cmd_audit_user(argv[2]);
	if (!strncmp(argv[1], "log-", 4) || !strcmp(argv[1], "status"))
		return with_dev(argv[1], argc - 2, argv + 2);
	return usage();
}
