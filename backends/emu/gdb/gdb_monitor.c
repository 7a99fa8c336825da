/* SPDX-License-Identifier: MIT */
/*
 * gdb_monitor.c - Veil's GDB `monitor` commands (qRcmd): the RMP entry of a
 * page, the VMPL of every vCPU, the registered VMSAs, guest physical memory.
 * Every command checks its arguments; anything else is "unknown command".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdb_stub.h"

#define PHYS_MAX 1024 /* bytes one `monitor phys` shows */

const char *const gdb_state_names[] = { "off", "runnable", "halted", "done" };

struct emu_text {
	char *p;
	size_t len, cap;
};

static void tput(struct emu_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tput(struct emu_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len >= t->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n < t->cap - t->len ? (size_t)n : t->cap - t->len - 1;
}

/* Split the arguments in place; returns how many (at most max, max+1 = too many). */
static int split_args(char *s, char **argv, int max)
{
	int n = 0;

	for (;;) {
		s += strspn(s, " \t");
		if (!*s)
			return n;
		if (n == max)
			return max + 1;
		argv[n++] = s;
		s += strcspn(s, " \t");
		if (*s)
			*s++ = 0;
	}
}

/* A whole number (C notation: 0x.. hex, else decimal), nothing after it. */
static bool num_of(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && end != s && !*end && *s != '-';
}

static void mon_rmp(struct emu_dbg *d, int argc, char **argv, struct emu_text *t)
{
	struct emu_rmp_entry e;
	uint64_t gpa;
	char p[4][6];
	unsigned v;

	if (argc != 1) {
		tput(t, "rmp: usage: monitor rmp ADDR (a guest physical address)\n");
		return;
	}
	if (!num_of(argv[0], &gpa) || emu_rmp_get(d->m, gpa, &e)) {
		tput(t, "rmp: %s is not a guest physical address (memory is %" PRIu64 " MiB)\n",
		     argv[0], d->m->mem_size >> 20);
		return;
	}
	for (v = 0; v < 4; v++)
		trace_perm_str(e.perms[v], p[v]);
	tput(t,
	     "rmp %#" PRIx64 ": assigned %u validated %u vmsa %u size %s immutable %u\n"
	     "  perms vmpl0 %s vmpl1 %s vmpl2 %s vmpl3 %s\n",
	     gpa & ~(uint64_t)0xFFF, e.assigned, e.validated, e.vmsa, e.page_size ? "2M" : "4K",
	     e.immutable, p[0], p[1], p[2], p[3]);
}

static void mon_vmpl(struct emu_dbg *d, struct emu_text *t)
{
	unsigned i;

	for (i = 0; i < d->m->cfg.nr_vcpus; i++) {
		struct emu_vcpu *v = &d->m->vcpus[i];
		struct emu_inst *in = v->inst[v->vmpl];

		if (v->state == VCPU_OFF) {
			tput(t, "vCPU %u: not started\n", i);
			continue;
		}
		tput(t, "vCPU %u: VMPL%u", i, v->vmpl);
		if (v->vmpl == 0 && d->m->native0)
			tput(t, " (native monitor)");
		else if (in)
			tput(t, " CPL%u", (unsigned)(rreg(in->uc, UC_X86_REG_CS) & 3));
		tput(t, " %s%s\n", gdb_state_names[v->state], d->m->cur == i ? " (current)" : "");
	}
}

static void mon_domains(struct emu_dbg *d, struct emu_text *t)
{
	unsigned i, j;

	for (i = 0; i < d->m->cfg.nr_vcpus; i++) {
		struct emu_vcpu *v = &d->m->vcpus[i];

		tput(t, "vCPU %u:%s\n", i, v->state == VCPU_OFF ? " not started" : "");
		for (j = 0; j < EMU_NR_VMPLS; j++) {
			if (j == 0 && d->m->native0)
				tput(t, "  VMPL0 native monitor");
			else if (v->vmsa_gpa[j])
				tput(t, "  VMPL%u VMSA %#" PRIx64, j, v->vmsa_gpa[j]);
			else
				continue;
			tput(t, "%s%s\n", v->ghcb_gpa[j] ? " GHCB registered" : "",
			     v->vmpl == j ? " (running)" : "");
		}
	}
}

/* Guest physical memory only: the monitor's private memory beyond it is not
 * guest-physical (the model keeps it outside the guest's address space). */
static void mon_phys(struct emu_dbg *d, int argc, char **argv, struct emu_text *t)
{
	uint64_t pa, len = 64, i;
	uint8_t *h;

	if (argc < 1 || argc > 2) {
		tput(t, "phys: usage: monitor phys ADDR [LEN] (LEN 1-%u, default 64)\n", PHYS_MAX);
		return;
	}
	if (!num_of(argv[0], &pa)) {
		tput(t, "phys: bad address '%s'\n", argv[0]);
		return;
	}
	if (argc == 2 && (!num_of(argv[1], &len) || !len || len > PHYS_MAX)) {
		tput(t, "phys: bad length '%s' (1-%u)\n", argv[1], PHYS_MAX);
		return;
	}
	if (!m_is_guest(d->m, pa, len) || !(h = m_ptr(d->m, pa, len))) {
		tput(t,
		     "phys: %#" PRIx64 "+%#" PRIx64 " is outside guest memory (0-%#" PRIx64 ")\n",
		     pa, len, d->m->mem_size - 1);
		return;
	}
	for (i = 0; i < len; i++)
		tput(t, "%s%02x%s", i % 16 ? " " : "", h[i],
		     i % 16 == 15 || i + 1 == len ? "\n" : "");
}

static void mon_help(struct emu_text *t)
{
	tput(t, "veil-emu monitor commands:\n"
		"  help            this list\n"
		"  rmp ADDR        RMP entry of the page at guest physical ADDR\n"
		"  vmpl            current VMPL and CPL of every vCPU\n"
		"  domains         registered VMSAs per vCPU and VMPL\n"
		"  phys ADDR [LEN] guest physical memory (hex, LEN 1-1024 bytes, default 64)\n");
}

static void run_cmd(struct emu_dbg *d, char *line, struct emu_text *t)
{
	char *argv[4], *cmd;
	int argc = split_args(line, argv, 3);

	if (argc == 0) {
		mon_help(t);
		return;
	}
	cmd = argv[0];
	argc--;
	if (!strcmp(cmd, "rmp")) {
		mon_rmp(d, argc, argv + 1, t);
	} else if (!strcmp(cmd, "phys")) {
		mon_phys(d, argc, argv + 1, t);
	} else if (!strcmp(cmd, "vmpl") || !strcmp(cmd, "domains") || !strcmp(cmd, "help")) {
		if (argc)
			tput(t, "%s: takes no arguments\n", cmd);
		else if (cmd[0] == 'v')
			mon_vmpl(d, t);
		else if (cmd[0] == 'd')
			mon_domains(d, t);
		else
			mon_help(t);
	} else {
		tput(t, "unknown command '%s' (monitor help lists the commands)\n", cmd);
	}
}

void gdb_cmd_rcmd(struct emu_dbg *d, const char *hex, char *out)
{
	char cmd[1024], buf[OUT_MAX / 2];
	struct emu_text t = { buf, 0, sizeof(buf) };
	size_t n = gdb_unhex(hex, (uint8_t *)cmd, sizeof(cmd) - 1);

	cmd[n] = 0;
	buf[0] = 0;
	run_cmd(d, cmd, &t);
	gdb_hex(out, (uint8_t *)buf, t.len);
	out[2 * t.len] = 0;
}
