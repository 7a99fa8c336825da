/* SPDX-License-Identifier: MIT */
/*
 * debug.c - GDB remote serial protocol stub for the SNP machine model, and
 * the stop of a replayed run. See debug.h for the design.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "machine.h"

#define MAX_BPS 64
#define PKT_MAX 4096
#define OUT_MAX 65536
#define SIG_INT 2
#define SIG_TRAP 5

enum bp_type {
	BP_SW = 0,
	BP_HW = 1,
	WP_WRITE = 2,
	WP_READ = 3,
	WP_ACCESS = 4
};

struct bp {
	bool used;
	int type;
	uint64_t addr, len;
	uc_hook hooks[PRIV_INSTANCES];
};

struct inst_dbg {
	uc_hook code;
	bool resume; /* restarted at resume_rip: its hooks have already run */
	uint64_t resume_rip;
	bool cur_skip; /* the instruction being hooked must not stop again */
	uint64_t flushed_gen;
};

struct emu_dbg {
	struct emu_machine *m;
	int lfd, fd;
	bool gdb, replay, no_ack, awaiting_stop, killed;
	atomic_bool detached;
	atomic_bool interrupt;
	bool step;
	bool watch_pending;
	uint64_t watch_addr;
	int watch_type;
	uint64_t hook_gen; /* bumped when TBs must be retranslated */
	unsigned sel;	   /* vCPU selected by Hg */
	/* the current stop */
	struct inst *stop_in;
	bool in_hook, need_restart, rip_written;
	uint64_t new_rip;
	char last_stop[96];
	struct inst_dbg id[PRIV_INSTANCES];
	struct bp bps[MAX_BPS];
	/* Ctrl-C listener */
	pthread_t thr;
	bool thr_started, running, quit;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* packet input */
	uint8_t in[PKT_MAX];
	size_t inlen, inpos;
};

/* ---- socket I/O --------------------------------------------------------------- */

static int rd_byte(struct emu_dbg *d)
{
	if (d->inpos == d->inlen) {
		ssize_t n;

		do
			n = recv(d->fd, d->in, sizeof(d->in), 0);
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			return -1;
		d->inlen = n;
		d->inpos = 0;
	}
	return d->in[d->inpos++];
}

static void wr_all(struct emu_dbg *d, const char *p, size_t n)
{
	while (n && d->fd >= 0) {
		ssize_t k = send(d->fd, p, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			atomic_store(&d->detached, true);
			return;
		}
		p += k;
		n -= k;
	}
}

static void send_pkt(struct emu_dbg *d, const char *body)
{
	static char buf[2 * OUT_MAX + 8];
	size_t n = strlen(body), i;
	uint8_t sum = 0;

	for (i = 0; i < n; i++)
		sum += (uint8_t)body[i];
	buf[0] = '$';
	memcpy(buf + 1, body, n);
	snprintf(buf + 1 + n, 4, "#%02x", sum);
	wr_all(d, buf, n + 4);
	if (!d->no_ack) { /* wait for '+', tolerate anything else */
		int c = rd_byte(d);

		if (c < 0)
			atomic_store(&d->detached, true);
	}
}

/* Next packet into buf; -1 when GDB is gone. A stray 0x03 while stopped is ignored. */
static int recv_pkt(struct emu_dbg *d, char *buf, size_t cap)
{
	int c;

	for (;;) {
		size_t n = 0;
		uint8_t sum = 0;
		char hex[3] = { 0 };

		do {
			c = rd_byte(d);
			if (c < 0)
				return -1;
		} while (c != '$');
		while ((c = rd_byte(d)) >= 0 && c != '#') {
			if (n + 1 < cap)
				buf[n++] = c;
			sum += (uint8_t)c;
		}
		if (c < 0 || (c = rd_byte(d)) < 0)
			return -1;
		hex[0] = c;
		if ((c = rd_byte(d)) < 0)
			return -1;
		hex[1] = c;
		buf[n] = 0;
		if (d->no_ack)
			return 0;
		if (strtoul(hex, NULL, 16) == sum) {
			wr_all(d, "+", 1);
			return 0;
		}
		wr_all(d, "-", 1);
	}
}

/* ---- Ctrl-C listener ------------------------------------------------------------- */

static void *listener(void *arg)
{
	struct emu_dbg *d = arg;

	for (;;) {
		struct pollfd p = { .fd = d->fd, .events = POLLIN };
		uint8_t b;
		ssize_t n;

		pthread_mutex_lock(&d->lock);
		while (!d->running && !d->quit)
			pthread_cond_wait(&d->cond, &d->lock);
		if (d->quit) {
			pthread_mutex_unlock(&d->lock);
			return NULL;
		}
		pthread_mutex_unlock(&d->lock);
		if (poll(&p, 1, 50) <= 0)
			continue;
		pthread_mutex_lock(&d->lock);
		/* Only while the machine runs: a stopped stub reads its own packets. */
		if (d->running) {
			n = recv(d->fd, &b, 1, MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				atomic_store(&d->detached, true);
			else if (n == 1 && b == 0x03)
				atomic_store(&d->interrupt, true);
		}
		pthread_mutex_unlock(&d->lock);
		if (atomic_load(&d->detached))
			return NULL;
	}
}

static void set_running(struct emu_dbg *d, bool running)
{
	if (!d->thr_started)
		return;
	pthread_mutex_lock(&d->lock);
	d->running = running;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/* ---- registers ------------------------------------------------------------------ */

struct reg {
	int id;
	unsigned size;
};

/* GDB register numbers of target.xml (i386:x86-64: core, sse, segments). */
static const struct reg regs[] = {
	{ UC_X86_REG_RAX, 8 },
	{ UC_X86_REG_RBX, 8 },
	{ UC_X86_REG_RCX, 8 },
	{ UC_X86_REG_RDX, 8 },
	{ UC_X86_REG_RSI, 8 },
	{ UC_X86_REG_RDI, 8 },
	{ UC_X86_REG_RBP, 8 },
	{ UC_X86_REG_RSP, 8 },
	{ UC_X86_REG_R8, 8 },
	{ UC_X86_REG_R9, 8 },
	{ UC_X86_REG_R10, 8 },
	{ UC_X86_REG_R11, 8 },
	{ UC_X86_REG_R12, 8 },
	{ UC_X86_REG_R13, 8 },
	{ UC_X86_REG_R14, 8 },
	{ UC_X86_REG_R15, 8 },
	{ UC_X86_REG_RIP, 8 },
	{ UC_X86_REG_EFLAGS, 4 },
	{ UC_X86_REG_CS, 4 },
	{ UC_X86_REG_SS, 4 },
	{ UC_X86_REG_DS, 4 },
	{ UC_X86_REG_ES, 4 },
	{ UC_X86_REG_FS, 4 },
	{ UC_X86_REG_GS, 4 },
	{ UC_X86_REG_ST0, 10 },
	{ UC_X86_REG_ST1, 10 },
	{ UC_X86_REG_ST2, 10 },
	{ UC_X86_REG_ST3, 10 },
	{ UC_X86_REG_ST4, 10 },
	{ UC_X86_REG_ST5, 10 },
	{ UC_X86_REG_ST6, 10 },
	{ UC_X86_REG_ST7, 10 },
	{ UC_X86_REG_FPCW, 4 },
	{ UC_X86_REG_FPSW, 4 },
	{ UC_X86_REG_FPTAG, 4 },
	{ -1, 4 },
	{ -1, 4 },
	{ -1, 4 },
	{ -1, 4 },
	{ -1, 4 },
	{ UC_X86_REG_XMM0, 16 },
	{ UC_X86_REG_XMM1, 16 },
	{ UC_X86_REG_XMM2, 16 },
	{ UC_X86_REG_XMM3, 16 },
	{ UC_X86_REG_XMM4, 16 },
	{ UC_X86_REG_XMM5, 16 },
	{ UC_X86_REG_XMM6, 16 },
	{ UC_X86_REG_XMM7, 16 },
	{ UC_X86_REG_XMM8, 16 },
	{ UC_X86_REG_XMM9, 16 },
	{ UC_X86_REG_XMM10, 16 },
	{ UC_X86_REG_XMM11, 16 },
	{ UC_X86_REG_XMM12, 16 },
	{ UC_X86_REG_XMM13, 16 },
	{ UC_X86_REG_XMM14, 16 },
	{ UC_X86_REG_XMM15, 16 },
	{ UC_X86_REG_MXCSR, 4 },
	{ UC_X86_REG_FS_BASE, 8 },
	{ UC_X86_REG_GS_BASE, 8 },
};
#define NR_REGS (sizeof(regs) / sizeof(regs[0]))
#define REG_RIP 16

static const char target_xml[] =
	"<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target version=\"1.0\"><architecture>i386:x86-64</architecture>\n"
	"<feature name=\"org.gnu.gdb.i386.core\">\n"
	"<flags id=\"i386_eflags\" size=\"4\"><field name=\"CF\" start=\"0\" end=\"0\"/>"
	"<field name=\"\" start=\"1\" end=\"1\"/><field name=\"PF\" start=\"2\" end=\"2\"/>"
	"<field name=\"AF\" start=\"4\" end=\"4\"/><field name=\"ZF\" start=\"6\" end=\"6\"/>"
	"<field name=\"SF\" start=\"7\" end=\"7\"/><field name=\"TF\" start=\"8\" end=\"8\"/>"
	"<field name=\"IF\" start=\"9\" end=\"9\"/><field name=\"DF\" start=\"10\" end=\"10\"/>"
	"<field name=\"OF\" start=\"11\" end=\"11\"/><field name=\"NT\" start=\"14\" end=\"14\"/>"
	"<field name=\"RF\" start=\"16\" end=\"16\"/><field name=\"VM\" start=\"17\" end=\"17\"/>"
	"<field name=\"AC\" start=\"18\" end=\"18\"/><field name=\"VIF\" start=\"19\" end=\"19\"/>"
	"<field name=\"VIP\" start=\"20\" end=\"20\"/><field name=\"ID\" start=\"21\" end=\"21\"/>"
	"</flags>\n"
	"<reg name=\"rax\" bitsize=\"64\" type=\"int64\" regnum=\"0\"/>"
	"<reg name=\"rbx\" bitsize=\"64\" type=\"int64\"/><reg name=\"rcx\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"rdx\" bitsize=\"64\" type=\"int64\"/><reg name=\"rsi\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"rdi\" bitsize=\"64\" type=\"int64\"/><reg name=\"rbp\" bitsize=\"64\" type=\"data_ptr\"/>"
	"<reg name=\"rsp\" bitsize=\"64\" type=\"data_ptr\"/><reg name=\"r8\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"r9\" bitsize=\"64\" type=\"int64\"/><reg name=\"r10\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"r11\" bitsize=\"64\" type=\"int64\"/><reg name=\"r12\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"r13\" bitsize=\"64\" type=\"int64\"/><reg name=\"r14\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"r15\" bitsize=\"64\" type=\"int64\"/><reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/>"
	"<reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>"
	"<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/><reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>"
	"<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/><reg name=\"es\" bitsize=\"32\" type=\"int32\"/>"
	"<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/><reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>"
	"<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/><reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>"
	"<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
	"<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"</feature>\n<feature name=\"org.gnu.gdb.i386.sse\">\n"
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
	"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
	"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
	"<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>"
	"<field name=\"v2_double\" type=\"v2d\"/><field name=\"v16_int8\" type=\"v16i8\"/>"
	"<field name=\"v8_int16\" type=\"v8i16\"/><field name=\"v4_int32\" type=\"v4i32\"/>"
	"<field name=\"v2_int64\" type=\"v2i64\"/><field name=\"uint128\" type=\"uint128\"/></union>"
	"<flags id=\"i386_mxcsr\" size=\"4\"><field name=\"IE\" start=\"0\" end=\"0\"/>"
	"<field name=\"DE\" start=\"1\" end=\"1\"/><field name=\"ZE\" start=\"2\" end=\"2\"/>"
	"<field name=\"OE\" start=\"3\" end=\"3\"/><field name=\"UE\" start=\"4\" end=\"4\"/>"
	"<field name=\"PE\" start=\"5\" end=\"5\"/><field name=\"DAZ\" start=\"6\" end=\"6\"/>"
	"<field name=\"IM\" start=\"7\" end=\"7\"/><field name=\"DM\" start=\"8\" end=\"8\"/>"
	"<field name=\"ZM\" start=\"9\" end=\"9\"/><field name=\"OM\" start=\"10\" end=\"10\"/>"
	"<field name=\"UM\" start=\"11\" end=\"11\"/><field name=\"PM\" start=\"12\" end=\"12\"/>"
	"<field name=\"FZ\" start=\"15\" end=\"15\"/></flags>\n"
	"<reg name=\"xmm0\" bitsize=\"128\" type=\"vec128\" regnum=\"40\"/>"
	"<reg name=\"xmm1\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm2\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm3\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm4\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm5\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm6\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm7\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm8\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm9\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm10\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm11\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm12\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm13\" bitsize=\"128\" type=\"vec128\"/><reg name=\"xmm14\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"xmm15\" bitsize=\"128\" type=\"vec128\"/>"
	"<reg name=\"mxcsr\" bitsize=\"32\" type=\"i386_mxcsr\" group=\"vector\"/>\n"
	"</feature>\n<feature name=\"org.gnu.gdb.i386.segments\">\n"
	"<reg name=\"fs_base\" bitsize=\"64\" type=\"int\" regnum=\"57\"/>"
	"<reg name=\"gs_base\" bitsize=\"64\" type=\"int\"/>\n"
	"</feature></target>\n";

/* The instance whose registers GDB sees for vCPU `id`: the running VMPL, or
 * (while the native monitor runs at VMPL0) the VMPL it last ran. */
static struct inst *view_inst(struct emu_dbg *d, unsigned id)
{
	struct vcpu *v = &d->m->vcpus[id < d->m->cfg.nr_vcpus ? id : 0];
	int vmpl;

	if (v->inst[v->vmpl])
		return v->inst[v->vmpl];
	for (vmpl = EMU_NR_VMPLS - 1; vmpl >= 0; vmpl--)
		if (v->inst[vmpl])
			return v->inst[vmpl];
	return NULL;
}

static void hex_bytes(char *out, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static int unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' :
	       c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 :
				      -1;
}

static size_t from_hex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;

	while (n < max && unhex(s[0]) >= 0 && unhex(s[1]) >= 0) {
		out[n++] = unhex(s[0]) << 4 | unhex(s[1]);
		s += 2;
	}
	return n;
}

static void reg_get(struct inst *in, unsigned r, uint8_t *val)
{
	memset(val, 0, 16);
	if (in && regs[r].id >= 0)
		uc_reg_read(in->uc, regs[r].id, val);
}

static void reg_set(struct emu_dbg *d, struct inst *in, unsigned r, const uint8_t *val)
{
	uint8_t buf[16] = { 0 };

	if (!in || regs[r].id < 0 || (r >= 18 && r <= 39))
		return; /* selectors and x87 state are read-only here */
	memcpy(buf, val, regs[r].size);
	if (r == REG_RIP && d->in_hook && in == d->stop_in) {
		/* Moving RIP under a running CPU: restart it there instead. */
		memcpy(&d->new_rip, buf, 8);
		d->rip_written = true;
		d->need_restart = true;
		return;
	}
	uc_reg_write(in->uc, regs[r].id, buf);
}

static void cmd_g(struct emu_dbg *d, char *out)
{
	struct inst *in = view_inst(d, d->sel);
	unsigned r;

	for (r = 0; r < NR_REGS; r++) {
		uint8_t v[16];

		reg_get(in, r, v);
		if (r == REG_RIP && in == d->stop_in && d->rip_written)
			memcpy(v, &d->new_rip, 8);
		hex_bytes(out, v, regs[r].size);
		out += 2 * regs[r].size;
	}
	*out = 0;
}

static void cmd_G(struct emu_dbg *d, const char *p, char *out)
{
	struct inst *in = view_inst(d, d->sel);
	unsigned r;

	for (r = 0; r < NR_REGS; r++) {
		uint8_t v[16];

		if (from_hex(p, v, regs[r].size) != regs[r].size)
			break;
		reg_set(d, in, r, v);
		p += 2 * regs[r].size;
	}
	strcpy(out, "OK");
}

static void cmd_p(struct emu_dbg *d, const char *p, char *out)
{
	unsigned long r = strtoul(p, NULL, 16);
	uint8_t v[16];

	if (r >= NR_REGS) {
		strcpy(out, "E01");
		return;
	}
	reg_get(view_inst(d, d->sel), r, v);
	if (r == REG_RIP && view_inst(d, d->sel) == d->stop_in && d->rip_written)
		memcpy(v, &d->new_rip, 8);
	hex_bytes(out, v, regs[r].size);
}

static void cmd_P(struct emu_dbg *d, const char *p, char *out)
{
	char *eq;
	unsigned long r = strtoul(p, &eq, 16);
	uint8_t v[16] = { 0 };

	if (r >= NR_REGS || *eq != '=') {
		strcpy(out, "E01");
		return;
	}
	from_hex(eq + 1, v, regs[r].size);
	reg_set(d, view_inst(d, d->sel), r, v);
	strcpy(out, "OK");
}

/* ---- memory ---------------------------------------------------------------------- */

/* Host pointer for n bytes at guest virtual va (one page at most), or NULL. */
static uint8_t *vptr(struct emu_dbg *d, uint64_t va, size_t n)
{
	struct inst *in = view_inst(d, d->sel);
	uint64_t pa;

	if (!in || walk_probe(in, va, &pa))
		return NULL;
	return m_ptr(d->m, pa, n);
}

static void cmd_m(struct emu_dbg *d, const char *p, char *out)
{
	char *comma;
	uint64_t addr = strtoull(p, &comma, 16), len, done = 0;

	len = *comma == ',' ? strtoull(comma + 1, NULL, 16) : 0;
	if (len > OUT_MAX / 2)
		len = OUT_MAX / 2;
	while (done < len) {
		uint64_t va = addr + done, chunk = 0x1000 - (va & 0xFFF);
		uint8_t *h;

		if (chunk > len - done)
			chunk = len - done;
		h = vptr(d, va, chunk);
		if (!h)
			break;
		hex_bytes(out + 2 * done, h, chunk);
		done += chunk;
	}
	if (!done && len)
		strcpy(out, "E14");
	else
		out[2 * done] = 0;
}

static void cmd_M(struct emu_dbg *d, const char *p, char *out)
{
	char *comma, *colon;
	uint64_t addr = strtoull(p, &comma, 16), len = 0, done = 0;

	if (*comma == ',')
		len = strtoull(comma + 1, &colon, 16);
	if (*comma != ',' || *colon != ':') {
		strcpy(out, "E01");
		return;
	}
	p = colon + 1;
	while (done < len) {
		uint64_t va = addr + done, chunk = 0x1000 - (va & 0xFFF);
		uint8_t *h;

		if (chunk > len - done)
			chunk = len - done;
		h = vptr(d, va, chunk);
		if (!h || from_hex(p + 2 * done, h, chunk) != chunk) {
			strcpy(out, "E14");
			return;
		}
		done += chunk;
	}
	d->hook_gen++; /* the bytes may be code that was translated already */
	d->need_restart = d->in_hook;
	strcpy(out, "OK");
}

/* ---- breakpoints and watchpoints -------------------------------------------------- */

static void stop_here(struct emu_dbg *d, struct inst *in, int sig, const char *extra);

static void bp_hook(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct inst *in = data;
	struct emu_dbg *d = in->m->dbg;

	(void)uc;
	(void)size;
	(void)addr;
	if (in->in_switch || d->id[in->idx].cur_skip || atomic_load(&d->detached))
		return;
	stop_here(d, in, SIG_TRAP, "swbreak:;");
}

static void watch_hook(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
		       void *data)
{
	struct inst *in = data;
	struct emu_dbg *d = in->m->dbg;

	(void)uc;
	(void)size;
	(void)value;
	if (in->in_switch || atomic_load(&d->detached) || d->watch_pending)
		return;
	/* Report after the access completes: at the next instruction's hook. */
	d->watch_pending = true;
	d->watch_addr = addr;
	d->watch_type = type == UC_MEM_WRITE ? WP_WRITE : WP_READ;
}

static void bp_install(struct emu_dbg *d, struct bp *b, struct inst *in)
{
	uc_hook *h = &b->hooks[in->idx];
	int types = b->type == WP_WRITE ? UC_HOOK_MEM_WRITE :
		    b->type == WP_READ	? UC_HOOK_MEM_READ :
					  UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE;

	(void)d;
	if (*h)
		return;
	if (b->type <= BP_HW)
		uc_hook_add(in->uc, h, UC_HOOK_CODE, (void *)bp_hook, in, b->addr, b->addr);
	else
		uc_hook_add(in->uc, h, types, (void *)watch_hook, in, b->addr,
			    b->addr + b->len - 1);
}

static void for_each_inst(struct emu_dbg *d,
			  void (*fn)(struct emu_dbg *, struct bp *, struct inst *), struct bp *b)
{
	unsigned i, j;

	for (i = 0; i < d->m->cfg.nr_vcpus; i++)
		for (j = 0; j < EMU_NR_VMPLS; j++)
			if (d->m->vcpus[i].inst[j])
				fn(d, b, d->m->vcpus[i].inst[j]);
}

static void bp_uninstall(struct emu_dbg *d, struct bp *b, struct inst *in)
{
	(void)d;
	if (b->hooks[in->idx])
		uc_hook_del(in->uc, b->hooks[in->idx]);
	b->hooks[in->idx] = 0;
}

static void cmd_Z(struct emu_dbg *d, const char *p, bool insert, char *out)
{
	int type = p[0] - '0';
	char *comma;
	uint64_t addr, len;
	unsigned i;

	if (type < 0 || type > 4 || p[1] != ',') {
		out[0] = 0; /* unsupported type */
		return;
	}
	addr = strtoull(p + 2, &comma, 16);
	len = *comma == ',' ? strtoull(comma + 1, NULL, 16) : 1;
	if (!len)
		len = 1;
	for (i = 0; i < MAX_BPS; i++) {
		struct bp *b = &d->bps[i];

		if (b->used && b->type == type && b->addr == addr && b->len == len) {
			if (!insert) {
				for_each_inst(d, bp_uninstall, b);
				memset(b, 0, sizeof(*b));
			}
			strcpy(out, "OK");
			return;
		}
	}
	if (!insert) {
		strcpy(out, "OK");
		return;
	}
	for (i = 0; i < MAX_BPS && d->bps[i].used; i++)
		;
	if (i == MAX_BPS) {
		strcpy(out, "E28");
		return;
	}
	d->bps[i] = (struct bp){ .used = true, .type = type, .addr = addr, .len = len };
	for_each_inst(d, bp_install, &d->bps[i]);
	if (type >= WP_WRITE) { /* memory hooks are compiled into translated code */
		d->hook_gen++;
		d->need_restart = d->in_hook;
	}
	strcpy(out, "OK");
}

/* ---- monitor commands (qRcmd) ------------------------------------------------------- */

struct text {
	char *p;
	size_t len, cap;
};

static void tput(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tput(struct text *t, const char *fmt, ...)
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

static const char *const state_names[] = { "off", "runnable", "halted", "done" };

static void mon_rmp(struct emu_dbg *d, const char *arg, struct text *t)
{
	char *end;
	uint64_t gpa = strtoull(arg, &end, 0);
	struct emu_rmp_entry e;
	char p[4][6];
	unsigned v;

	if (end == arg || emu_rmp_get(d->m, gpa, &e)) {
		tput(t, "rmp: %s is not a guest physical address (memory is %" PRIu64 " MiB)\n",
		     arg, d->m->mem_size >> 20);
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

static void mon_vmpl(struct emu_dbg *d, struct text *t)
{
	unsigned i;

	for (i = 0; i < d->m->cfg.nr_vcpus; i++) {
		struct vcpu *v = &d->m->vcpus[i];
		struct inst *in = v->inst[v->vmpl];

		tput(t, "vCPU %u: VMPL%u", i, v->vmpl);
		if (v->vmpl == 0 && d->m->native0)
			tput(t, " (native monitor)");
		else if (in)
			tput(t, " CPL%u", (unsigned)(rreg(in->uc, UC_X86_REG_CS) & 3));
		tput(t, " %s%s\n", state_names[v->state], d->m->cur == i ? " (current)" : "");
	}
}

static void mon_domains(struct emu_dbg *d, struct text *t)
{
	unsigned i, j;

	for (i = 0; i < d->m->cfg.nr_vcpus; i++) {
		struct vcpu *v = &d->m->vcpus[i];

		tput(t, "vCPU %u:\n", i);
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

static void mon_phys(struct emu_dbg *d, const char *arg, struct text *t)
{
	char *end;
	uint64_t pa = strtoull(arg, &end, 0), len = strtoull(end, NULL, 0), i;
	uint8_t *h;

	if (!len)
		len = 64;
	if (len > 1024)
		len = 1024;
	h = m_ptr(d->m, pa, len);
	if (end == arg || !h) {
		tput(t, "phys: bad address or length (physical memory ends at %#" PRIx64 ")\n",
		     d->m->mem_size + d->m->priv_size);
		return;
	}
	for (i = 0; i < len; i++)
		tput(t, "%s%02x%s", i % 16 ? " " : "", h[i],
		     i % 16 == 15 || i + 1 == len ? "\n" : "");
	(void)i;
}

static void cmd_rcmd(struct emu_dbg *d, const char *hex, char *out)
{
	static char cmd[1024], buf[OUT_MAX / 2];
	struct text t = { buf, 0, sizeof(buf) };
	size_t n = from_hex(hex, (uint8_t *)cmd, sizeof(cmd) - 1);
	char *arg;

	cmd[n] = 0;
	buf[0] = 0;
	arg = cmd + strcspn(cmd, " ");
	if (*arg)
		*arg++ = 0;
	if (!strcmp(cmd, "rmp"))
		mon_rmp(d, arg, &t);
	else if (!strcmp(cmd, "vmpl"))
		mon_vmpl(d, &t);
	else if (!strcmp(cmd, "domains"))
		mon_domains(d, &t);
	else if (!strcmp(cmd, "phys"))
		mon_phys(d, arg, &t);
	else
		tput(&t, "veil-emu monitor commands:\n"
			 "  rmp ADDR        RMP entry of the page at guest physical ADDR\n"
			 "  vmpl            current VMPL and CPL of every vCPU\n"
			 "  domains         registered VMSAs per vCPU and VMPL\n"
			 "  phys ADDR [LEN] physical memory (hex, at most 1024 bytes)\n");
	hex_bytes(out, (uint8_t *)buf, t.len);
	out[2 * t.len] = 0;
}

/* ---- the packet loop -------------------------------------------------------------- */

static void cmd_query(struct emu_dbg *d, const char *p, char *out)
{
	unsigned i;

	out[0] = 0;
	if (!strncmp(p, "qSupported", 10)) {
		strcpy(out, "PacketSize=1000;qXfer:features:read+;swbreak+;hwbreak+;"
			    "QStartNoAckMode+;vContSupported+");
	} else if (!strncmp(p, "qXfer:features:read:target.xml:", 31)) {
		char *comma;
		size_t off = strtoul(p + 31, &comma, 16), len = strtoul(comma + 1, NULL, 16);
		size_t total = sizeof(target_xml) - 1;

		if (off >= total) {
			strcpy(out, "l");
			return;
		}
		if (len > total - off)
			len = total - off;
		if (len > 2000)
			len = 2000;
		out[0] = off + len < total ? 'm' : 'l';
		memcpy(out + 1, target_xml + off, len);
		out[1 + len] = 0;
	} else if (!strcmp(p, "qfThreadInfo")) {
		strcpy(out, "m");
		for (i = 0; i < d->m->cfg.nr_vcpus; i++)
			if (i == 0 || d->m->vcpus[i].state != VCPU_OFF)
				sprintf(out + strlen(out), "%s%x", i ? "," : "", i + 1);
	} else if (!strcmp(p, "qsThreadInfo")) {
		strcpy(out, "l");
	} else if (!strcmp(p, "qC")) {
		sprintf(out, "QC%x", d->sel + 1);
	} else if (!strcmp(p, "qAttached")) {
		strcpy(out, "1");
	} else if (!strncmp(p, "qThreadExtraInfo,", 17)) {
		unsigned long id = strtoul(p + 17, NULL, 16);
		struct vcpu *v = &d->m->vcpus[id >= 1 && id <= d->m->cfg.nr_vcpus ? id - 1 : 0];
		char s[64];

		snprintf(s, sizeof(s), "vCPU %u VMPL%u %s", v->id, v->vmpl, state_names[v->state]);
		hex_bytes(out, (uint8_t *)s, strlen(s));
	} else if (!strncmp(p, "qRcmd,", 6)) {
		cmd_rcmd(d, p + 6, out);
	} else if (!strncmp(p, "qSymbol", 7)) {
		strcpy(out, "OK");
	}
}

/* vCont;ACTION[:tid][;ACTION...]: the machine runs one vCPU at a time, so the
 * first action decides: step or continue. */
static int cmd_vcont(const char *p)
{
	p += 5;
	if (*p != ';')
		return 0;
	return p[1] == 's' || p[1] == 'S' ? 's' : p[1] == 'c' || p[1] == 'C' ? 'c' : 0;
}

static void thread_select(struct emu_dbg *d, const char *p, char *out)
{
	long id = strtol(p + 2, NULL, 16);

	if (p[1] == 'g' && id > 0 && (unsigned long)id <= d->m->cfg.nr_vcpus)
		d->sel = id - 1;
	strcpy(out, "OK");
}

static void detach(struct emu_dbg *d)
{
	unsigned i;

	for (i = 0; i < MAX_BPS; i++)
		if (d->bps[i].used) {
			for_each_inst(d, bp_uninstall, &d->bps[i]);
			memset(&d->bps[i], 0, sizeof(d->bps[i]));
		}
	atomic_store(&d->detached, true);
}

/* Serve packets until GDB resumes the machine (or goes away). */
static void serve(struct emu_dbg *d)
{
	static char pkt[PKT_MAX + 1], out[2 * OUT_MAX + 8];

	while (!atomic_load(&d->detached)) {
		int act;

		if (recv_pkt(d, pkt, sizeof(pkt))) {
			atomic_store(&d->detached, true);
			return;
		}
		out[0] = 0;
		switch (pkt[0]) {
		case '?':
			strcpy(out, d->last_stop);
			break;
		case 'q':
			cmd_query(d, pkt, out);
			break;
		case 'Q':
			if (!strcmp(pkt, "QStartNoAckMode")) {
				send_pkt(d, "OK");
				d->no_ack = true;
				continue;
			}
			break;
		case 'H':
			thread_select(d, pkt, out);
			break;
		case 'T':
			strcpy(out, "OK");
			break;
		case 'g':
			cmd_g(d, out);
			break;
		case 'G':
			cmd_G(d, pkt + 1, out);
			break;
		case 'p':
			cmd_p(d, pkt + 1, out);
			break;
		case 'P':
			cmd_P(d, pkt + 1, out);
			break;
		case 'm':
			cmd_m(d, pkt + 1, out);
			break;
		case 'M':
			cmd_M(d, pkt + 1, out);
			break;
		case 'Z':
		case 'z':
			cmd_Z(d, pkt + 1, pkt[0] == 'Z', out);
			break;
		case 'D':
			send_pkt(d, "OK");
			detach(d);
			return;
		case 'k':
			d->killed = true;
			detach(d);
			return;
		case 'c':
		case 's':
		case 'v':
			if (!strcmp(pkt, "vCont?")) {
				strcpy(out, "vCont;c;C;s;S");
				break;
			}
			act = pkt[0] == 'v' ? (!strncmp(pkt, "vCont", 5) ? cmd_vcont(pkt) : 0) :
					      pkt[0];
			if (!act)
				break; /* vMustReplyEmpty and other v packets */
			if (pkt[0] != 'v' && pkt[1])
				d->need_restart = true; /* "c ADDR": resume elsewhere */
			if (pkt[0] != 'v' && pkt[1]) {
				d->new_rip = strtoull(pkt + 1, NULL, 16);
				d->rip_written = true;
			}
			d->step = act == 's';
			d->awaiting_stop = true;
			return;
		default:
			break;
		}
		send_pkt(d, out);
	}
}

/*
 * Stop the machine here and let GDB look at it. `in` is the instance the stop
 * belongs to; d->in_hook says whether its CPU is inside uc_emu_start (a code
 * hook before the instruction at RIP).
 */
static void stop_at(struct emu_dbg *d, struct inst *in, bool in_hook, int sig, const char *extra)
{
	struct emu_machine *m = d->m;
	unsigned vcpu = in ? in->vcpu->id : m->cur;

	d->stop_in = in;
	d->in_hook = in_hook;
	d->need_restart = false;
	d->rip_written = false;
	d->sel = vcpu;
	d->step = false;
	snprintf(d->last_stop, sizeof(d->last_stop), "T%02xthread:%x;%s", sig, vcpu + 1, extra);
	emu_trace_flush(m);
	set_running(d, false);
	if (d->awaiting_stop) {
		d->awaiting_stop = false;
		send_pkt(d, d->last_stop);
	}
	serve(d);
	if (d->killed) {
		machine_finish(m, EMU_EXIT_KIND_ERROR, "killed by gdb");
		d->need_restart = true;
	}
	if (!in_hook) {
		struct inst *next = view_inst(d, m->cur);

		if (d->rip_written && in)
			wreg(in->uc, UC_X86_REG_RIP, d->new_rip);
		/* The instruction at RIP has not run: a step must run it first. */
		if (next) {
			d->id[next->idx].resume = true;
			d->id[next->idx].resume_rip = rreg(next->uc, UC_X86_REG_RIP);
		}
	} else {
		d->id[in->idx].cur_skip = true; /* later hooks of this instruction */
		if (d->need_restart) {
			in->stop.kind = STOP_DEBUG;
			uc_emu_stop(in->uc);
		}
	}
	d->stop_in = NULL;
	d->in_hook = false;
	set_running(d, true);
}

static void stop_here(struct emu_dbg *d, struct inst *in, int sig, const char *extra)
{
	stop_at(d, in, true, sig, extra);
}

/* Every instruction of every instance while GDB is attached. */
static void dbg_code_hook(uc_engine *uc, uint64_t addr, uint32_t size, void *data)
{
	struct inst *in = data;
	struct emu_dbg *d = in->m->dbg;
	struct inst_dbg *s = &d->id[in->idx];
	char extra[48];

	(void)uc;
	(void)size;
	if (in->in_switch)
		return;
	s->cur_skip = s->resume && addr == s->resume_rip;
	s->resume = false;
	if (s->cur_skip || atomic_load(&d->detached))
		return;
	if (atomic_load(&d->interrupt)) {
		atomic_store(&d->interrupt, false);
		stop_here(d, in, SIG_INT, "");
	} else if (d->watch_pending) {
		d->watch_pending = false;
		snprintf(extra, sizeof(extra), "%swatch:%" PRIx64 ";",
			 d->watch_type == WP_WRITE ? "" : "r", d->watch_addr);
		stop_here(d, in, SIG_TRAP, extra);
	} else if (d->step) {
		stop_here(d, in, SIG_TRAP, "");
	}
}

/* ---- machine model hooks ------------------------------------------------------------ */

void dbg_inst_init(struct inst *in)
{
	struct emu_dbg *d = in->m->dbg;
	unsigned i;

	if (!d->gdb)
		return;
	uc_hook_add(in->uc, &d->id[in->idx].code, UC_HOOK_CODE, (void *)dbg_code_hook, in, 1, 0);
	for (i = 0; i < MAX_BPS; i++)
		if (d->bps[i].used)
			bp_install(d, &d->bps[i], in);
}

bool dbg_resuming(struct inst *in, uint64_t addr)
{
	struct inst_dbg *s = &in->m->dbg->id[in->idx];

	return s->resume && s->resume_rip == addr;
}

void dbg_before_run(struct inst *in)
{
	struct emu_dbg *d = in->m->dbg;
	struct inst_dbg *s = &d->id[in->idx];

	if (s->flushed_gen != d->hook_gen) {
		uc_ctl_flush_tb(in->uc);
		s->flushed_gen = d->hook_gen;
	}
}

bool dbg_after_run(struct inst *in)
{
	struct emu_dbg *d = in->m->dbg;
	struct inst_dbg *s = &d->id[in->idx];

	if (in->stop.kind != STOP_DEBUG)
		return false;
	/* hook_code counted the instruction that the stop kept from running */
	if (in->m->cfg.count_insns && in->m->insns)
		in->m->insns--;
	if (d->rip_written) {
		wreg(in->uc, UC_X86_REG_RIP, d->new_rip);
		d->rip_written = false;
	}
	s->resume = true;
	s->resume_rip = rreg(in->uc, UC_X86_REG_RIP);
	return true;
}

static void print_state(struct emu_machine *m, struct inst *in, const struct trace_rec *r)
{
	static const char *const names[] = {
		"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
		"r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"
	};
	struct vcpu *v = &m->vcpus[r->vcpu < m->cfg.nr_vcpus ? r->vcpu : 0];
	char desc[400];
	unsigned i;

	trace_describe(r, desc, sizeof(desc));
	printf("replay: stopped after record %" PRIu64 " (%s): %s\n", r->seq,
	       trace_type_name(r->type), desc);
	/* the record's count: for an INSN record, before its instruction */
	printf("vcpu %u vmpl %u cpl %u icount %" PRIu64 "\n", r->vcpu, r->vmpl, r->cpl, r->icount);
	if (!in)
		in = v->inst[r->vmpl < EMU_NR_VMPLS ? r->vmpl : 0];
	if (!in || (r->vmpl == 0 && m->native0)) {
		printf("(native monitor at VMPL0: no guest registers)\n");
		return;
	}
	printf("rip 0x%016" PRIx64 " rflags %#" PRIx64 "\n", rreg(in->uc, UC_X86_REG_RIP),
	       rreg(in->uc, UC_X86_REG_RFLAGS));
	for (i = 0; i < 16; i++)
		printf("%s 0x%016" PRIx64 "%s", names[i], rreg(in->uc, regs[i].id),
		       i % 4 == 3 ? "\n" : " ");
	printf("cr0 %#" PRIx64 " cr2 %#" PRIx64 " cr3 %#" PRIx64 " cr4 %#" PRIx64 "\n",
	       rreg(in->uc, UC_X86_REG_CR0), rreg(in->uc, UC_X86_REG_CR2),
	       rreg(in->uc, UC_X86_REG_CR3), rreg(in->uc, UC_X86_REG_CR4));
}

void dbg_replay_stop(struct emu_machine *m, struct inst *in, const struct trace_rec *r,
		     bool reached)
{
	struct emu_dbg *d = m->dbg;
	bool in_hook = r->type == TR_INSN && in;

	if (reached && d && d->gdb && !atomic_load(&d->detached)) {
		stop_at(d, in, in_hook, SIG_TRAP, "");
		return;
	}
	if (reached)
		print_state(m, in, r);
	fflush(stdout);
	machine_finish(m, reached ? EMU_EXIT_KIND_LIMIT : EMU_EXIT_KIND_ERROR,
		       reached ? "stopped by the replay after the requested record" :
				 "the replay diverged from the recorded run");
	if (in_hook) {
		in->stop.kind = STOP_DEBUG;
		uc_emu_stop(in->uc);
	}
}

/* ---- attach and detach -------------------------------------------------------------- */

static int listen_on(int port, int *bound, char *err, size_t errlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* never reachable from outside */
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen)) {
		snprintf(err, errlen, "cannot listen on 127.0.0.1:%d: %s", port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*bound = ntohs(a.sin_port);
	return fd;
}

int emu_dbg_open(struct emu_machine *m, int port, bool replay, char *err, size_t errlen)
{
	struct emu_dbg *d = calloc(1, sizeof(*d));
	int bound = 0, one = 1;

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->m = m;
	d->lfd = d->fd = -1;
	d->replay = replay;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	m->dbg = d;
	if (port < 0)
		return 0;
	d->lfd = listen_on(port, &bound, err, errlen);
	if (d->lfd < 0)
		return -1;
	fprintf(stderr, "veil-emu: gdb stub listening on 127.0.0.1:%d\n", bound);
	fflush(stderr);
	do
		d->fd = accept(d->lfd, NULL, NULL);
	while (d->fd < 0 && errno == EINTR);
	if (d->fd < 0) {
		snprintf(err, errlen, "accept: %s", strerror(errno));
		return -1;
	}
	setsockopt(d->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	d->gdb = true;
	d->step = !replay; /* pause before the first guest instruction */
	snprintf(d->last_stop, sizeof(d->last_stop), "T05thread:1;");
	if (pthread_create(&d->thr, NULL, listener, d) == 0)
		d->thr_started = true;
	return 0;
}

void emu_dbg_close(struct emu_machine *m, int status)
{
	struct emu_dbg *d = m->dbg;
	char w[16];

	if (!d)
		return;
	if (d->thr_started) { /* first: the ack of W must reach this thread */
		pthread_mutex_lock(&d->lock);
		d->quit = true;
		pthread_cond_signal(&d->cond);
		pthread_mutex_unlock(&d->lock);
		pthread_join(d->thr, NULL);
	}
	if (d->gdb && !atomic_load(&d->detached) && d->awaiting_stop) {
		snprintf(w, sizeof(w), "W%02x", status & 0xFF);
		send_pkt(d, w);
	}
	if (d->fd >= 0)
		close(d->fd);
	if (d->lfd >= 0)
		close(d->lfd);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	free(d);
	m->dbg = NULL;
}
