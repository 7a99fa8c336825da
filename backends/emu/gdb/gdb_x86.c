/* SPDX-License-Identifier: MIT */
/*
 * gdb_x86.c - what GDB sees of an x86-64 vCPU: the target description, the
 * registers (g/G/p/P) and guest virtual memory (m/M) of the VMPL instance the
 * vCPU runs. See gdb_stub.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdb_stub.h"

/* How GDB may change a register: freely, or only to the value it has (G packets
 * write every register back). Selectors are loaded through descriptor tables
 * and control registers steer the page walk the model caches, so the stub
 * refuses to change them (E01) rather than pretending to. */
enum emu_reg_access {
	RW,
	RO
};

#define REG_EFER (-2) /* read through the model (an MSR, not a Unicorn register) */

struct emu_reg {
	int id;
	unsigned size;
	enum emu_reg_access access;
};

/* GDB register numbers of target.xml (i386:x86-64: core, sse, segments, sys). */
static const struct emu_reg regs[] = {
	{ UC_X86_REG_RAX, 8, RW },
	{ UC_X86_REG_RBX, 8, RW },
	{ UC_X86_REG_RCX, 8, RW },
	{ UC_X86_REG_RDX, 8, RW },
	{ UC_X86_REG_RSI, 8, RW },
	{ UC_X86_REG_RDI, 8, RW },
	{ UC_X86_REG_RBP, 8, RW },
	{ UC_X86_REG_RSP, 8, RW },
	{ UC_X86_REG_R8, 8, RW },
	{ UC_X86_REG_R9, 8, RW },
	{ UC_X86_REG_R10, 8, RW },
	{ UC_X86_REG_R11, 8, RW },
	{ UC_X86_REG_R12, 8, RW },
	{ UC_X86_REG_R13, 8, RW },
	{ UC_X86_REG_R14, 8, RW },
	{ UC_X86_REG_R15, 8, RW },
	{ UC_X86_REG_RIP, 8, RW },
	{ UC_X86_REG_EFLAGS, 4, RW },
	{ UC_X86_REG_CS, 4, RO },
	{ UC_X86_REG_SS, 4, RO },
	{ UC_X86_REG_DS, 4, RO },
	{ UC_X86_REG_ES, 4, RO },
	{ UC_X86_REG_FS, 4, RO },
	{ UC_X86_REG_GS, 4, RO },
	{ UC_X86_REG_ST0, 10, RO },
	{ UC_X86_REG_ST1, 10, RO },
	{ UC_X86_REG_ST2, 10, RO },
	{ UC_X86_REG_ST3, 10, RO },
	{ UC_X86_REG_ST4, 10, RO },
	{ UC_X86_REG_ST5, 10, RO },
	{ UC_X86_REG_ST6, 10, RO },
	{ UC_X86_REG_ST7, 10, RO },
	{ UC_X86_REG_FPCW, 4, RO },
	{ UC_X86_REG_FPSW, 4, RO },
	{ UC_X86_REG_FPTAG, 4, RO },
	{ -1, 4, RO },
	{ -1, 4, RO },
	{ -1, 4, RO },
	{ -1, 4, RO },
	{ -1, 4, RO },
	{ UC_X86_REG_XMM0, 16, RW },
	{ UC_X86_REG_XMM1, 16, RW },
	{ UC_X86_REG_XMM2, 16, RW },
	{ UC_X86_REG_XMM3, 16, RW },
	{ UC_X86_REG_XMM4, 16, RW },
	{ UC_X86_REG_XMM5, 16, RW },
	{ UC_X86_REG_XMM6, 16, RW },
	{ UC_X86_REG_XMM7, 16, RW },
	{ UC_X86_REG_XMM8, 16, RW },
	{ UC_X86_REG_XMM9, 16, RW },
	{ UC_X86_REG_XMM10, 16, RW },
	{ UC_X86_REG_XMM11, 16, RW },
	{ UC_X86_REG_XMM12, 16, RW },
	{ UC_X86_REG_XMM13, 16, RW },
	{ UC_X86_REG_XMM14, 16, RW },
	{ UC_X86_REG_XMM15, 16, RW },
	{ UC_X86_REG_MXCSR, 4, RW },
	{ UC_X86_REG_FS_BASE, 8, RW },
	{ UC_X86_REG_GS_BASE, 8, RW },
	{ UC_X86_REG_CR0, 8, RO },
	{ UC_X86_REG_CR2, 8, RO },
	{ UC_X86_REG_CR3, 8, RO },
	{ UC_X86_REG_CR4, 8, RO },
	{ UC_X86_REG_CR8, 8, RO },
	{ REG_EFER, 8, RO },
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
	/* Control registers and EFER (AMD APM vol. 2, 3.1.1-3.1.7), as QEMU's
	 * x86-64 description has them; read-only here. */
	"</feature>\n<feature name=\"org.gnu.gdb.i386.sys\">\n"
	"<flags id=\"i386_cr0\" size=\"8\"><field name=\"PE\" start=\"0\" end=\"0\"/>"
	"<field name=\"MP\" start=\"1\" end=\"1\"/><field name=\"EM\" start=\"2\" end=\"2\"/>"
	"<field name=\"TS\" start=\"3\" end=\"3\"/><field name=\"ET\" start=\"4\" end=\"4\"/>"
	"<field name=\"NE\" start=\"5\" end=\"5\"/><field name=\"WP\" start=\"16\" end=\"16\"/>"
	"<field name=\"AM\" start=\"18\" end=\"18\"/><field name=\"NW\" start=\"29\" end=\"29\"/>"
	"<field name=\"CD\" start=\"30\" end=\"30\"/><field name=\"PG\" start=\"31\" end=\"31\"/>"
	"</flags>\n"
	"<flags id=\"i386_efer\" size=\"8\"><field name=\"SCE\" start=\"0\" end=\"0\"/>"
	"<field name=\"LME\" start=\"8\" end=\"8\"/><field name=\"LMA\" start=\"10\" end=\"10\"/>"
	"<field name=\"NXE\" start=\"11\" end=\"11\"/><field name=\"SVME\" start=\"12\" end=\"12\"/>"
	"</flags>\n"
	"<reg name=\"cr0\" bitsize=\"64\" type=\"i386_cr0\" regnum=\"59\"/>"
	"<reg name=\"cr2\" bitsize=\"64\" type=\"int64\"/><reg name=\"cr3\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"cr4\" bitsize=\"64\" type=\"int64\"/><reg name=\"cr8\" bitsize=\"64\" type=\"int64\"/>"
	"<reg name=\"efer\" bitsize=\"64\" type=\"i386_efer\"/>\n"
	"</feature></target>\n";

/* The instance whose registers GDB sees for vCPU `id`: the running VMPL, or
 * (while the native monitor runs at VMPL0) the VMPL it last ran. */
#define NR_REGS (sizeof(regs) / sizeof(regs[0]))
#define REG_RIP 16

const char *gdb_target_xml(size_t *len)
{
	*len = sizeof(target_xml) - 1;
	return target_xml;
}

/* The instance whose registers GDB sees for vCPU `id`: the running VMPL, or
 * (while the native monitor runs at VMPL0) the VMPL it last ran. */
struct emu_inst *gdb_view_inst(struct emu_dbg *d, unsigned id)
{
	struct emu_vcpu *v = &d->m->vcpus[id < d->m->cfg.nr_vcpus ? id : 0];
	int vmpl;

	if (v->inst[v->vmpl])
		return v->inst[v->vmpl];
	for (vmpl = EMU_NR_VMPLS - 1; vmpl >= 0; vmpl--)
		if (v->inst[vmpl])
			return v->inst[vmpl];
	return NULL;
}

static void reg_get(struct emu_dbg *d, struct emu_inst *in, unsigned r, uint8_t *val)
{
	memset(val, 0, 16);
	if (!in)
		return;
	if (regs[r].id == REG_EFER) {
		uint64_t efer = inst_get_msr(in, MSR_EFER);

		memcpy(val, &efer, 8);
	} else if (regs[r].id >= 0) {
		uc_reg_read(in->uc, regs[r].id, val);
	}
	if (r == REG_RIP && in == d->stop_in && d->rip_written)
		memcpy(val, &d->new_rip, 8);
}

/* May GDB set register r to val? Read-only ones only to the value they have. */
static bool reg_writable(struct emu_dbg *d, struct emu_inst *in, unsigned r, const uint8_t *val)
{
	uint8_t cur[16];

	if (!in)
		return false;
	if (regs[r].access == RW)
		return true;
	reg_get(d, in, r, cur);
	return !memcmp(cur, val, regs[r].size);
}

static void reg_set(struct emu_dbg *d, struct emu_inst *in, unsigned r, const uint8_t *val)
{
	uint8_t buf[16] = { 0 };

	if (regs[r].access == RO)
		return; /* unchanged (reg_writable) */
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

void gdb_cmd_g(struct emu_dbg *d, char *out)
{
	struct emu_inst *in = gdb_view_inst(d, d->sel);
	unsigned r;

	for (r = 0; r < NR_REGS; r++) {
		uint8_t v[16];

		reg_get(d, in, r, v);
		gdb_hex(out, v, regs[r].size);
		out += 2 * regs[r].size;
	}
	*out = 0;
}

/* All or nothing: a refused register leaves every register as it was. */
void gdb_cmd_G(struct emu_dbg *d, const char *p, char *out)
{
	struct emu_inst *in = gdb_view_inst(d, d->sel);
	uint8_t v[NR_REGS][16];
	unsigned r, n;

	for (n = 0; n < NR_REGS; n++) {
		if (gdb_unhex(p, v[n], regs[n].size) != regs[n].size)
			break;
		if (!reg_writable(d, in, n, v[n])) {
			strcpy(out, "E01");
			return;
		}
		p += 2 * regs[n].size;
	}
	for (r = 0; r < n; r++)
		reg_set(d, in, r, v[r]);
	strcpy(out, "OK");
}

void gdb_cmd_p(struct emu_dbg *d, const char *p, char *out)
{
	unsigned long r = strtoul(p, NULL, 16);
	uint8_t v[16];

	if (r >= NR_REGS) {
		strcpy(out, "E01");
		return;
	}
	reg_get(d, gdb_view_inst(d, d->sel), r, v);
	gdb_hex(out, v, regs[r].size);
}

void gdb_cmd_P(struct emu_dbg *d, const char *p, char *out)
{
	struct emu_inst *in = gdb_view_inst(d, d->sel);
	char *eq;
	unsigned long r = strtoul(p, &eq, 16);
	uint8_t v[16] = { 0 };

	if (r >= NR_REGS || *eq != '=' || gdb_unhex(eq + 1, v, regs[r].size) != regs[r].size ||
	    !reg_writable(d, in, r, v)) {
		strcpy(out, "E01");
		return;
	}
	reg_set(d, in, r, v);
	strcpy(out, "OK");
}

/* ---- memory ---------------------------------------------------------------------- */

/* Host pointer for n bytes at guest virtual va (one page at most), or NULL. */
static uint8_t *vptr(struct emu_dbg *d, uint64_t va, size_t n)
{
	struct emu_inst *in = gdb_view_inst(d, d->sel);
	uint64_t pa;

	if (!in || walk_probe(in, va, &pa))
		return NULL;
	return m_ptr(d->m, pa, n);
}

void gdb_cmd_m(struct emu_dbg *d, const char *p, char *out)
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
		gdb_hex(out + 2 * done, h, chunk);
		done += chunk;
	}
	if (!done && len)
		strcpy(out, "E14");
	else
		out[2 * done] = 0;
}

void gdb_cmd_M(struct emu_dbg *d, const char *p, char *out)
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
		if (!h || gdb_unhex(p + 2 * done, h, chunk) != chunk) {
			strcpy(out, "E14");
			return;
		}
		done += chunk;
	}
	d->hook_gen++; /* the bytes may be code that was translated already */
	d->need_restart = d->in_hook;
	strcpy(out, "OK");
}
/* veil-trace replay without GDB: the state at the stop, on stdout. */
void gdb_print_state(struct emu_machine *m, struct emu_inst *in, const struct trace_rec *r)
{
	static const char *const names[] = {
		"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
		"r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"
	};
	struct emu_vcpu *v = &m->vcpus[r->vcpu < m->cfg.nr_vcpus ? r->vcpu : 0];
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
